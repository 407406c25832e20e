"""Differentiable echoes: :func:`simulate` on the torch backend."""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .._backends import resolve
from .._physics import _GAUSSIAN_FWHM, echo_rng
from ..kernels import (
    available_kernels,
    kernel_parameters,
    kernel_stats,
)
from ..lattices import Lattice
from ..sequences import PulseSequence
from ..simulator import MAX_COUPLING, EchoSimulator
from ..utils._random import check_seed
from ..utils._resources import available_memory, check_fits_in_memory, format_bytes
from ._kernels import _complex, _torch, kernel_half_spectrum

__all__ = ["DifferentiableSequence", "plan_segments", "simulate"]

#: The columns :func:`simulate` reads besides the kernels' extra parameters.
COLUMNS = (
    "kernel",
    "length",
    "alpha_xy",
    "alpha_x",
    "alpha_y",
    "alpha_z",
    "t1",
    "t2",
    "linewidth",
)
# Bytes the backward pass keeps per nucleus and step of one echo, in units of
# the dtype's size: the spins, the mean field and, for a kernel's gradient,
# the spins' spectrum (measured with saved-tensor hooks on the torch
# backend's step; see tests/test_autodiff.py::test_graph_size_estimate).
_SAVED_VALUES_PER_SPIN_STEP = 10
# Values per nucleus of one echo alive at the top of a step (the state, the
# offsets, the spectra and the step's transients), for the forward pass.
_LIVE_VALUES_PER_SPIN = 40
#: Largest graph (bytes) kept whole, without checkpointing: beyond it the
#: recomputation costs less than the memory traffic.
GRAPH_BUDGET = 3 * 2**30


@dataclass(frozen=True)
class DifferentiableSequence:
    """A pulse sequence whose pulse angles and phases may be tensors.

    The pulse times (on the simulator's grid) and the duration are those of
    ``sequence``; ``angles`` and ``phases`` replace its pulses' angles and
    phases (degrees), as tensors that may require grad.

    Parameters
    ----------
    sequence : PulseSequence or None, default=None
        The pulses' times and the duration; None is the simulator's own
        sequence (its Hahn echo by default).
    angles : tensor of shape (n_pulses,) or (n_echoes, n_pulses), optional
        Each pulse's angle (degrees), for every echo or per echo. None keeps
        the sequence's.
    phases : tensor of shape (n_pulses,) or (n_echoes, n_pulses), optional
        Each pulse's phase (degrees; 0 is x, 90 is y). None keeps the
        sequence's (named phases with their exact axes).

    Examples
    --------
    >>> import torch
    >>> from sknmr.sequences import hahn_echo
    >>> seq = DifferentiableSequence(hahn_echo(2.0), angles=torch.tensor([90., 180.]))
    >>> len(seq.sequence)
    2
    """

    sequence: PulseSequence | None = None
    angles: object = None
    phases: object = None


# -- memory ----------------------------------------------------------------------
def plan_segments(n_echoes, lattice_size, n_times, dtype, device="cpu"):
    """Steps per checkpointed segment for a backward pass, or None for none.

    The whole graph is kept when it fits in :data:`GRAPH_BUDGET` (and half
    the memory available); otherwise the loop is cut into segments of about
    ``sqrt(3 n_times / c)`` steps (``c`` values kept per nucleus and step),
    which minimises the memory of the segment states plus one segment's
    graph. Raises ValueError, with the sizes, when even that cannot fit.

    Parameters
    ----------
    n_echoes : int
    lattice_size : int or Lattice
        Side of the square lattice, or any :class:`~sknmr.lattices.Lattice`.
    n_times : int
    dtype : numpy dtype
    device : str or torch.device, default="cpu"

    Examples
    --------
    >>> import numpy as np
    >>> plan_segments(1, 16, 100, np.float64) is None
    True
    >>> plan_segments(4, 100, 1884, np.float64)
    24
    """
    lattice = (
        lattice_size
        if isinstance(lattice_size, Lattice)
        else Lattice.square(int(lattice_size))
    )
    item = np.dtype(dtype).itemsize
    spins = n_echoes * lattice.n_sites
    per_step = spins * _SAVED_VALUES_PER_SPIN_STEP * item
    live = spins * _LIVE_VALUES_PER_SPIN * item
    steps = max(1, n_times - 1)
    free = _free_memory(device)
    if steps * per_step + live <= min(GRAPH_BUDGET, 0.5 * free):
        return None
    segment = max(1, round(math.sqrt(3 * steps / _SAVED_VALUES_PER_SPIN_STEP)))
    boundaries = -(-steps // segment) * spins * 3 * item
    need = boundaries + segment * per_step + live
    if need > 0.8 * free:  # check_fits_in_memory's fraction of the host's
        raise ValueError(
            f"The gradient of {n_echoes} echo(es) of {n_times} samples on a "
            f"{_words(lattice)} lattice needs about "
            f"{format_bytes(need)} even checkpointed in segments of {segment} "
            f"steps (segment states {format_bytes(boundaries)}, one segment's "
            f"graph {format_bytes(segment * per_step)}), more than {device} can "
            f"give ({format_bytes(0.8 * free)}); reduce the number of echoes, "
            "the duration / dt or the lattice's size."
        )
    return segment


def _free_memory(device):
    torch = _torch()
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return available_memory()


# -- parameters --------------------------------------------------------------------
def _check_columns(params):
    if not isinstance(params, dict):
        raise TypeError(
            "params must be a dict of column name to tensor or number; got "
            f"{type(params).__name__}."
        )
    if "kernel" not in params:
        raise ValueError("params needs a kernel column (a name or a list of names).")
    kernels = params["kernel"]
    if hasattr(kernels, "requires_grad") or hasattr(kernels, "dtype"):
        raise TypeError(
            "kernel is a name (or a list of names), fixed, not differentiable; got "
            f"{type(kernels).__name__}."
        )
    kernels = [kernels] if isinstance(kernels, str) else list(kernels)
    known = available_kernels()
    bad = [k for k in kernels if not isinstance(k, str) or k not in known]
    if bad or not kernels:
        raise ValueError(f"kernel must be one of {known}; got {bad or kernels}.")
    extras = {name for k in set(kernels) for name in kernel_parameters(k)}
    unknown = sorted(set(params) - set(COLUMNS) - extras)
    if unknown:
        raise ValueError(
            f"params has unknown column(s) {unknown}; the columns are "
            f"{list(COLUMNS)} and the kernels' parameters {sorted(extras)}."
        )
    for name in sorted(extras & set(params)):
        refusing = [k for k in set(kernels) if name not in kernel_parameters(k)]
        if refusing:
            raise ValueError(
                f"{name} is not a parameter of the {refusing[0]} kernel; give it "
                "only with kernels that take it."
            )
    in_plane = {"alpha_x", "alpha_y"} & set(params)
    if "alpha_xy" in params and in_plane:
        raise ValueError(
            "params sets alpha_xy and alpha_x/alpha_y; give either alpha_xy or both "
            "alpha_x and alpha_y."
        )
    needed = ["length", "alpha_z", *(["alpha_x", "alpha_y"] if in_plane else [])]
    if not in_plane:
        needed.append("alpha_xy")
    missing = [c for c in needed if c not in params]
    if missing:
        raise ValueError(f"params is missing the column(s) {missing}.")
    return kernels


def _check_value(name, value, n_echoes, dtype, device):
    """A column as a ``(n_echoes,)`` tensor of the simulation's dtype."""
    torch = _torch()
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(
                f"{name} must be a real floating-point tensor; got dtype {value.dtype}."
            )
        if value.dim() > 1 or (value.dim() == 1 and len(value) not in (1, n_echoes)):
            raise ValueError(
                f"{name} must be a number, a 0-d tensor or a tensor of shape "
                f"({n_echoes},), one value per echo; got shape {tuple(value.shape)}."
            )
        return value.to(device=device, dtype=dtype).reshape(-1).expand(n_echoes)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a number or a tensor; got {type(value).__name__}."
        )
    return torch.full((n_echoes,), float(value), dtype=dtype, device=device)


def _n_echoes(params, kernels):
    torch = _torch()
    sizes = {
        len(v) for v in params.values() if isinstance(v, torch.Tensor) and v.dim() == 1
    }
    sizes.discard(1)
    if not isinstance(params["kernel"], str):
        sizes.add(len(kernels))
    if len(sizes) > 1:
        raise ValueError(
            f"params' columns have different lengths {sorted(sizes)}; give one value "
            "per echo (or one for all)."
        )
    return sizes.pop() if sizes else 1


def _check_physics(columns, kernels, simulator):
    """The values' ranges, checked on plain numbers before any work."""
    plain = {k: v.detach().cpu().numpy() for k, v in columns.items()}
    for name in ("alpha_x", "alpha_y", "alpha_z"):
        col = plain[name]
        if (
            not np.all(np.isfinite(col))
            or np.any(col < 0)
            or np.any(col > MAX_COUPLING)
        ):
            raise ValueError(
                f"{name} must lie in [0, {MAX_COUPLING:g}] MHz; got {col[:3]}."
            )
    for name in ("t1", "t2", "linewidth"):
        if name in plain and not np.all(plain[name] > 0):
            raise ValueError(f"{name} must be > 0; got {plain[name][:3]}.")
    if "t1" in plain or "t2" in plain:
        experiment = simulator.experiment
        t1 = plain.get("t1", np.full(len(kernels), experiment.longitudinal_time))
        t2 = plain.get("t2", np.full(len(kernels), experiment.transverse_time))
        bad = np.isfinite(t2) & (t2 > 2 * t1)
        if np.any(bad):
            raise ValueError(
                f"t2 must be at most 2 * t1 (a spin-1/2 ensemble); got t2="
                f"{t2[bad][0]:g} us and t1={t1[bad][0]:g} us."
            )
    extras = [c for c in columns if c not in COLUMNS]
    for i, kernel in enumerate(kernels):
        kw = {name: float(plain[name][i]) for name in extras}
        kernel_stats(kernel, float(plain["length"][i]), simulator.lattice_size, **kw)


# -- sequence ------------------------------------------------------------------------
def _pulse_rotations(sequence, grid, n_echoes, dtype, device):
    """``[(step, rotation)]`` with rotations ``(3, 3)`` or per echo ``(B, 3, 3)``."""
    torch = _torch()
    spec = sequence if isinstance(sequence, DifferentiableSequence) else None
    n_pulses = len(grid.pulse_steps)
    if spec is None or (spec.angles is None and spec.phases is None):
        return [
            (k, torch.from_numpy(np.array(r)).to(device=device, dtype=dtype))
            for k, r in zip(grid.pulse_steps, grid.rotations, strict=True)
        ]
    pulses = list(spec.sequence or ())
    values = {}
    for name, given in (("angles", spec.angles), ("phases", spec.phases)):
        if given is None:
            continue
        if not isinstance(given, torch.Tensor) or not given.is_floating_point():
            raise TypeError(
                f"sequence {name} must be a real floating-point tensor; got "
                f"{type(given).__name__} {getattr(given, 'dtype', '')}."
            )
        if given.shape not in ((n_pulses,), (n_echoes, n_pulses)):
            raise ValueError(
                f"sequence {name} must have shape ({n_pulses},) or ({n_echoes}, "
                f"{n_pulses}) (pulses, or echoes and pulses); got "
                f"{tuple(given.shape)}."
            )
        values[name] = given.to(device=device, dtype=dtype)
    rotations = []
    for i, (k, pulse) in enumerate(zip(grid.pulse_steps, pulses, strict=True)):
        if "angles" in values:
            angle = values["angles"][..., i]
        else:
            angle = torch.tensor(float(pulse.angle), dtype=dtype, device=device)
        if "phases" in values:
            phi = torch.deg2rad(values["phases"][..., i])
            ux, uy = torch.cos(phi), torch.sin(phi)
        else:
            axis = pulse.axis
            ux = torch.tensor(axis[0], dtype=dtype, device=device)
            uy = torch.tensor(axis[1], dtype=dtype, device=device)
        theta = -torch.deg2rad(angle)  # U = exp(+i theta n.sigma/2) turns by -theta
        c, s = torch.cos(theta), torch.sin(theta)
        c, s, ux, uy = torch.broadcast_tensors(c, s, ux, uy)
        zero = torch.zeros_like(c)
        one_c = 1 - c
        rotation = torch.stack(
            [
                torch.stack([c + one_c * ux * ux, one_c * ux * uy, s * uy], -1),
                torch.stack([one_c * ux * uy, c + one_c * uy * uy, -s * ux], -1),
                torch.stack([-s * uy, s * ux, c + zero], -1),
            ],
            -2,
        )
        rotations.append((k, rotation))
    return rotations


def _check_sequence(sequence, simulator):
    if sequence is None:
        return simulator.experiment.sequence, None
    if isinstance(sequence, PulseSequence):
        return sequence, None
    if isinstance(sequence, DifferentiableSequence):
        if sequence.sequence is None:
            sequence = DifferentiableSequence(
                simulator.experiment.sequence, sequence.angles, sequence.phases
            )
        elif not isinstance(sequence.sequence, PulseSequence):
            raise TypeError(
                "DifferentiableSequence.sequence must be a PulseSequence or None; "
                f"got {type(sequence.sequence).__name__}."
            )
        return sequence.sequence, sequence
    raise TypeError(
        "sequence must be None, a PulseSequence or a DifferentiableSequence; got "
        f"{type(sequence).__name__}."
    )


# -- the simulation ----------------------------------------------------------------
def _offsets(ids, seed, shape, linewidth, cutoff, line_shape="lorentzian"):
    """The simulator's offsets as a function of the linewidth (tensor ``(B,)``).

    The inverse CDF of the truncated line (:func:`sknmr._physics.draw_offsets`)
    at the simulator's fixed uniform draws.
    """
    torch = _torch()
    u = np.stack([echo_rng(seed, i).random(shape) for i in ids])
    u = torch.from_numpy(u).to(device=linewidth.device, dtype=linewidth.dtype)
    width = linewidth.reshape(-1, *(1,) * len(shape))
    if line_shape == "gaussian":
        sigma = width / _GAUSSIAN_FWHM
        lo = torch.special.ndtr(-cutoff / sigma)
        hi = torch.special.ndtr(cutoff / sigma)
        nu = sigma * torch.special.ndtri(lo + (hi - lo) * u)
    else:
        hw = 0.5 * width
        lo = 0.5 + torch.arctan(-cutoff / hw) / math.pi
        hi = 0.5 + torch.arctan(cutoff / hw) / math.pi
        nu = hw * torch.tan(math.pi * (lo + (hi - lo) * u - 0.5))
    # rounding can land exactly on +cutoff; the window is half open
    return torch.clamp(nu, -cutoff, float(np.nextafter(cutoff, -np.inf)))


def _words(lattice):
    return " x ".join(str(n) for n in lattice.shape)


def simulate(simulator, params, sequence=None, *, echo_ids=None, segment=None):
    """The simulator's echoes as a torch tensor, differentiable in its inputs.

    Parameters
    ----------
    simulator : EchoSimulator
        The lattice (any :class:`~sknmr.lattices.Lattice`), time grid,
        line shape, linewidth, cutoff, relaxation, output,
        ``dtype`` (None: float64), ``device`` (torch's; None: the CPU) and
        ``random_state`` (which fixes the disorder) of the simulation; its
        ``backend`` is not used (the model runs in torch).
    params : dict
        One entry per column: ``kernel`` (a name or a list of names, one
        per echo; not differentiable), ``length``, ``alpha_xy`` (or
        ``alpha_x`` and ``alpha_y``), ``alpha_z`` and optionally ``t1``,
        ``t2`` (us), ``linewidth`` (MHz, overriding the simulator's) and the
        kernels' extra parameters. Each is a number, a 0-d tensor or a
        tensor of shape ``(n_echoes,)``; any floating-point tensor may
        require grad.
    sequence : PulseSequence, DifferentiableSequence or None, default=None
        The experiment; None is the simulator's. A
        :class:`DifferentiableSequence` gives pulse angles and phases as
        tensors.
    echo_ids : array-like of int, optional
        Each echo's identity for its disorder draw (default ``0 .. n - 1``,
        as :meth:`EchoSimulator.simulate`).
    segment : int or None, optional
        Steps per checkpointed segment of the time loop when a gradient is
        to be taken; None chooses from the memory it needs
        (:func:`plan_segments`).

    Returns
    -------
    echoes : tensor of shape (n_echoes, n_times)
        ``|M(t)|``, complex ``M(t)`` or ``<I^z>(t)`` per the simulator's
        ``output``, at the simulator's :attr:`~EchoSimulator.times` (or the
        sequence's grid).

    Raises
    ------
    TypeError, ValueError
        For a column that is unknown, of the wrong type, dtype or shape, a
        gradient asked of something without one (the kernel's name, the
        uniform kernel's radius, ``staggered``), or a value out of range;
        all before any simulation.
    """
    torch = _torch()
    from .._backends import torch_backend as tb

    if not isinstance(simulator, EchoSimulator):
        raise TypeError(
            f"simulator must be an EchoSimulator; got {type(simulator).__name__}."
        )
    experiment = simulator.experiment  # every setting checked
    lattice = experiment.lattice
    # the square lattice by its size: the kernels' own square conventions
    on = lattice if lattice.square_size() is None else lattice.square_size()
    device = tb.check_device(simulator.device)
    resolved = resolve("torch", simulator.dtype)
    dtype = tb.torch_dtype(resolved.dtype)
    kernels = _check_columns(params)
    n_echoes = _n_echoes(params, kernels)
    if len(kernels) == 1:
        kernels = kernels * n_echoes
    columns = {
        name: _check_value(name, value, n_echoes, dtype, device)
        for name, value in params.items()
        if name != "kernel"
    }
    if "alpha_xy" in columns:
        columns["alpha_x"] = columns["alpha_y"] = columns.pop("alpha_xy")
    _check_physics(columns, kernels, simulator)
    seq, spec = _check_sequence(sequence, simulator)
    grid = seq.grid(simulator.dt)
    pulses = _pulse_rotations(spec, grid, n_echoes, dtype, device)
    ids = np.arange(n_echoes) if echo_ids is None else np.asarray(echo_ids)
    if ids.shape != (n_echoes,) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"echo_ids must be {n_echoes} integers; got {ids!r}.")
    if segment is not None and (
        not isinstance(segment, Integral) or isinstance(segment, bool) or segment < 1
    ):
        raise ValueError(f"segment must be None or an int >= 1; got {segment!r}.")
    inputs = [v for v in columns.values() if v.requires_grad] + [
        r for _, r in pulses if r.requires_grad
    ]
    if torch.is_grad_enabled() and inputs and segment is None:
        segment = plan_segments(n_echoes, on, grid.n_times, resolved.dtype, device)
    elif not (torch.is_grad_enabled() and inputs):
        segment = None
    check_fits_in_memory(
        n_echoes * lattice.n_sites * _LIVE_VALUES_PER_SPIN * resolved.dtype.itemsize,
        f"Simulating {n_echoes} echo(es) on a {_words(lattice)} lattice in torch",
        "the number of echoes or the lattice's size",
    )

    # the kernels' half spectra, one per echo
    extras = [c for c in columns if c not in COLUMNS]
    halves = [
        kernel_half_spectrum(
            kernel,
            columns["length"][i],
            on,
            dtype=dtype,
            **{name: columns[name][i] for name in extras},
        ).to(device)
        for i, kernel in enumerate(kernels)
    ]
    if any(h.is_complex() for h in halves):  # a batch of real and complex ones
        halves = [h.to(_complex(dtype)) for h in halves]
    half = torch.stack(halves)
    linewidth = columns.get("linewidth")
    if linewidth is None:
        linewidth = torch.full(
            (n_echoes,), float(simulator.linewidth), dtype=dtype, device=device
        )
    offsets = _offsets(
        ids,
        check_seed(simulator.random_state),
        lattice.shape,
        linewidth,
        simulator.cutoff,
        experiment.line_shape,
    )
    transverse, longitudinal, relax_z = _decays(simulator, columns, n_echoes)
    with tb.threads(simulator.n_jobs or 1):
        state = tb.initial_state(None, (n_echoes, 3, *lattice.shape), dtype, device)
        for k, rotation in pulses:
            if k == 0:
                state = tb.apply_pulse(state, rotation)
        means = tb.evolve(
            state,
            half,
            offsets,
            (columns["alpha_x"], columns["alpha_y"], columns["alpha_z"]),
            (transverse, longitudinal),
            {k: r for k, r in pulses if k > 0},
            grid.n_times,
            float(resolved.dtype.type(2 * math.pi * simulator.dt)),
            relax_z=relax_z,
            segment=segment,
            fused=bool(inputs) and not _has_tangents(columns, pulses),
        )
    m = torch.complex(means[..., 0], means[..., 1])
    if simulator.output == "magnitude":
        return torch.abs(m)
    if simulator.output == "complex":
        return m
    return means[..., 2]


def _has_tangents(columns, pulses):
    """Whether any input is a forward-mode dual tensor."""
    import torch.autograd.forward_ad as fwad

    tensors = [*columns.values(), *(r for _, r in pulses)]
    return any(fwad.unpack_dual(t).tangent is not None for t in tensors)


def _decays(simulator, columns, n_echoes):
    """``exp(-dt / T2)``, ``exp(-dt / T1)`` per echo, and whether T1 acts."""
    torch = _torch()
    dt = float(simulator.dt)
    like = columns["alpha_z"]
    t1 = columns.get("t1")
    if t1 is None:
        t1 = torch.full_like(like, simulator.experiment.longitudinal_time)
    t2 = columns.get("t2")
    if t2 is None:
        t2 = torch.full_like(like, simulator.experiment.transverse_time)
        t2 = torch.where(torch.isinf(t2), 2 * t1, t2)  # what T1 alone implies
    transverse = torch.exp(-dt / t2)
    if (
        "t2" not in columns
        and simulator.t2 is None
        and simulator.dephasing_rate > 0
        and "t1" not in columns
        and simulator.t1 is None
    ):  # the simulator's dephasing_rate, computed as it always was
        rate = float(np.exp(-simulator.dephasing_rate * simulator.dt))
        transverse = torch.full_like(like, rate)
    longitudinal = torch.exp(-dt / t1)
    relax_z = "t1" in columns or simulator.t1 is not None
    return transverse, longitudinal, relax_z
