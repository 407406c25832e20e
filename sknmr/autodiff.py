"""Echoes as differentiable functions of the material and the experiment.

With the disorder fixed by the simulator's ``random_state``, an echo is a
smooth function of the couplings, the kernel's length and parameters, T1,
T2, the linewidth and the pulse angles and phases. :func:`simulate` runs the
simulator's model in torch (the ``"torch"`` backend's step) with any of these
given as tensors, so that ``torch.autograd`` gives the derivatives of the
echoes with respect to all of them.

* The offsets are fixed draws scaled by the linewidth: each nucleus' offset
  is the inverse CDF of the truncated Lorentzian at a fixed uniform ``u``
  (the one :class:`~sknmr.EchoSimulator` draws),
  ``nu = hw tan(pi (lo + (hi - lo) u - 1/2))`` with ``hw = linewidth / 2``,
  ``lo, hi = 1/2 -+ atan(cutoff / hw) / pi``; so the offsets are exactly
  the simulator's and differentiable in the linewidth.
* The built-in kernels are evaluated in torch from the lattice's
  displacement vectors (:func:`kernel_half_spectrum`), normalised by their
  sum ``kappa`` and transformed, so their length and parameters are
  differentiable; the uniform kernel's radius and the ``staggered`` flag are
  steps, not differentiable. A registered kernel is evaluated by numpy
  unless its length or parameters require grad; then its function is called
  with torch tensors and must be written with operations torch can follow.
* Long echoes are differentiated by checkpointing the time loop in segments
  (see :func:`plan_segments`): the graph kept for the backward pass holds one
  segment of steps, and each segment is recomputed once during the backward
  pass.

Examples
--------
>>> import torch
>>> from sknmr import EchoSimulator
>>> from sknmr.autodiff import simulate
>>> sim = EchoSimulator(lattice_size=8, tau=2.0, backend="torch", random_state=0)
>>> alpha_z = torch.tensor([0.05], dtype=torch.float64, requires_grad=True)
>>> echo = simulate(sim, {"kernel": "gaussian", "length": 2.0,
...                       "alpha_xy": 0.05, "alpha_z": alpha_z})
>>> echo.shape
torch.Size([1, 39])
>>> echo[0, -1].backward()
>>> alpha_z.grad.shape
torch.Size([1])
"""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._backends import resolve
from ._physics import echo_rng
from ._timegrid import n_steps
from .kernels import (
    available_kernels,
    kernel_parameters,
    kernel_spectrum,
    kernel_stats,
    registered_kernels,
)
from .sequences import PulseSequence, hahn_echo
from .simulator import MAX_COUPLING, EchoSimulator
from .utils._random import check_seed
from .utils._resources import available_memory, check_fits_in_memory, format_bytes

__all__ = [
    "DifferentiableSequence",
    "kernel_half_spectrum",
    "lattice_displacements",
    "plan_segments",
    "simulate",
]

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
# the dtype's size (measured with saved-tensor hooks on the torch backend's
# step; see tests/test_autodiff.py::test_graph_size_estimate).
_SAVED_VALUES_PER_SPIN_STEP = 16
# Values per nucleus of one echo alive at the top of a step (the state, the
# offsets, the spectra and the step's transients), for the forward pass.
_LIVE_VALUES_PER_SPIN = 40
#: Largest graph (bytes) kept whole, without checkpointing: beyond it the
#: recomputation costs less than the memory traffic.
GRAPH_BUDGET = 3 * 2**30


def _torch():
    import torch

    return torch


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


# -- lattice and kernels -------------------------------------------------------
def lattice_displacements(lattice_size):
    """Minimum-image displacements ``dx``, ``dy`` of every site from site (0, 0).

    The conventions of :mod:`sknmr.kernels`: ``dx`` along axis 0, both in
    ``(-n/2, n/2]``.

    Returns
    -------
    dx, dy : ndarray of shape (lattice_size, lattice_size)

    Examples
    --------
    >>> dx, dy = lattice_displacements(4)
    >>> dx[:, 0], dy[0]
    (array([ 0.,  1.,  2., -1.]), array([ 0.,  1.,  2., -1.]))
    """
    offsets = np.arange(lattice_size)
    d = np.where(offsets <= lattice_size // 2, offsets, offsets - lattice_size)
    dx = np.repeat(d[:, None].astype(np.float64), lattice_size, axis=1)
    return dx, dx.T.copy()


def _builtin_values(kernel, length, dx, dy, parameters):
    """The unnormalised built-in kernel at displacements ``dx``, ``dy`` (tensors).

    Zero at the self term ``d = 0``; every operation is taken where it is
    finite, so derivatives are finite too. Any displacement arrays work
    (a lattice of another shape has other ones).
    """
    torch = _torch()
    self_term = (dx == 0) & (dy == 0)
    r = torch.where(self_term, 1.0, torch.hypot(dx, dy))
    if kernel == "gaussian":
        exponent = parameters["exponent"]
        if isinstance(exponent, float) and exponent == 2.0:
            k = torch.exp(-((r / length) ** 2))
        else:
            k = torch.exp(-((r / length) ** exponent))
    elif kernel == "power":
        k = r ** (-length)
    elif kernel == "rkky":
        x = 2.0 * r / length
        k = (x * torch.cos(x) - torch.sin(x)) / x**4
    else:  # uniform: a step in the radius
        k = (r <= length).to(r.dtype)
    s, p, d = (parameters[name] for name in ("s_wave", "p_wave", "d_wave"))
    if any(not isinstance(v, float) for v in (s, p, d)) or (s, p, d) != (1, 0, 0):
        r2 = torch.where(self_term, 1.0, dx**2 + dy**2)
        # cos(theta) and cos(2 theta), exactly odd and even in (dx, dy)
        k = k * (s + p * (dx / r) + d * ((dx**2 - dy**2) / r2))
    if parameters["staggered"]:
        k = k * (1.0 - 2.0 * ((dx + dy) % 2))
    return torch.where(self_term, 0.0, k)


def kernel_half_spectrum(kernel, length, lattice_size, *, dtype=None, **extras):
    """The half spectrum of a normalised kernel, as a differentiable tensor.

    What multiplies the real 2-D FFT of the spins: the first
    ``lattice_size // 2 + 1`` columns of
    :func:`sknmr.kernels.kernel_spectrum`, computed in torch.

    Parameters
    ----------
    kernel : str
        A name from :func:`sknmr.kernels.available_kernels`.
    length : float or 0-d tensor
        The kernel's length parameter.
    lattice_size : int
    dtype : torch dtype, default=torch.float64
    **extras : float or 0-d tensor
        The kernel's optional parameters.

    Returns
    -------
    half : tensor of shape (lattice_size, lattice_size // 2 + 1)
        Real for a kernel even under ``d -> -d``, complex otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.kernels import kernel_spectrum
    >>> half = kernel_half_spectrum("rkky", 13.0, 8)
    >>> bool(np.allclose(half.numpy(), kernel_spectrum("rkky", 13.0, 8)[:, :5]))
    True
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    plain = {name: _value(v) for name, v in extras.items()}
    # the numpy kernel validates the values and tells whether Khat is even
    reference = kernel_spectrum(kernel, _value(length), lattice_size, **plain)
    tensors = [v for v in (length, *extras.values()) if _requires_grad(v)]
    n = lattice_size
    if not tensors:
        half = torch.from_numpy(np.array(reference[:, : n // 2 + 1]))
        return half.to(dtype if not half.is_complex() else _complex(dtype))
    if kernel == "uniform" and _requires_grad(length):
        raise ValueError(
            "The uniform kernel is a step in its radius: it has no derivative "
            "with respect to length; give length as a number."
        )
    if _requires_grad(extras.get("staggered")):
        raise ValueError("staggered is 0 or 1: it has no derivative; give a number.")
    parameters = {**kernel_parameters(kernel), **extras}
    dx, dy = (torch.from_numpy(d).to(dtype) for d in lattice_displacements(n))
    if kernel in ("gaussian", "power", "rkky", "uniform"):
        k = _builtin_values(kernel, length, dx, dy, parameters)
    else:
        k = _registered_values(kernel, length, dx, dy, parameters)
    kappa = k.sum()
    spectrum = torch.conj_physical(torch.fft.fft2(k / kappa))
    if not np.iscomplexobj(reference):
        spectrum = spectrum.real
    return spectrum[:, : n // 2 + 1]


def _registered_values(kernel, length, dx, dy, parameters):
    """A registered kernel on torch tensors, with its angular factors."""
    torch = _torch()
    record = registered_kernels()[kernel]
    own = {name: parameters[name] for name in record.parameters}
    try:
        k = record.function(dx, dy, length, **own)
        if not isinstance(k, torch.Tensor) or k.shape != dx.shape:
            raise TypeError(f"it returned {type(k).__name__}, not a tensor like dx")
    except Exception as exc:
        raise ValueError(
            f"The registered kernel {kernel!r} could not be evaluated on torch "
            f"tensors ({exc}), so it cannot be differentiated with respect to its "
            "length or parameters: write its function with operations torch can "
            "follow (torch.exp rather than np.exp, ...), or give them as numbers."
        ) from None
    k = k.to(dx.dtype)
    common = {name: parameters[name] for name in ("s_wave", "p_wave", "d_wave")}
    # the built-in angular and staggered factors on a flat kernel of ones
    factors = _builtin_values(
        "uniform", math.inf, dx, dy, {**common, "staggered": parameters["staggered"]}
    )
    return k * factors


def _value(v):
    """A plain float of a number or a 0-d tensor."""
    return float(v.detach().cpu()) if hasattr(v, "detach") else float(v)


def _requires_grad(v):
    return bool(getattr(v, "requires_grad", False))


def _complex(dtype):
    torch = _torch()
    return torch.complex64 if dtype == torch.float32 else torch.complex128


# -- memory ----------------------------------------------------------------------
def plan_segments(n_echoes, lattice_size, n_times, dtype, device="cpu"):
    """Steps per checkpointed segment for a backward pass, or None for none.

    The whole graph is kept when it fits in :data:`GRAPH_BUDGET` (and half
    the memory available); otherwise the loop is cut into segments of about
    ``sqrt(3 n_times / c)`` steps (``c`` values kept per nucleus and step),
    which minimises the memory of the segment states plus one segment's
    graph. Raises ValueError, with the sizes, when even that cannot fit.

    Examples
    --------
    >>> import numpy as np
    >>> plan_segments(1, 16, 100, np.float64) is None
    True
    >>> plan_segments(4, 100, 1884, np.float64)
    19
    """
    item = np.dtype(dtype).itemsize
    spins = n_echoes * lattice_size**2
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
            f"{lattice_size} x {lattice_size} lattice needs about "
            f"{format_bytes(need)} even checkpointed in segments of {segment} "
            f"steps (segment states {format_bytes(boundaries)}, one segment's "
            f"graph {format_bytes(segment * per_step)}), more than {device} can "
            f"give ({format_bytes(0.8 * free)}); reduce the number of echoes, "
            "the duration / dt or lattice_size."
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
        t1 = plain.get("t1", np.full(len(kernels), _simulator_t1(simulator)))
        t2 = plain.get("t2", np.full(len(kernels), _simulator_t2(simulator)))
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
def _simulator_sequence(simulator):
    """The simulator's experiment: its ``sequence``, or its Hahn echo on the grid."""
    if simulator.sequence is not None:
        return simulator.sequence
    tau = n_steps(simulator.tau, simulator.dt) * float(simulator.dt)
    return hahn_echo(
        tau,
        angle=simulator.pulse_angle,
        refocus_angle=2 * simulator.pulse_angle,
        refocus_phase=simulator.refocus_axis,
        duration=3 * tau,
    )


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
        return _simulator_sequence(simulator), None
    if isinstance(sequence, PulseSequence):
        return sequence, None
    if isinstance(sequence, DifferentiableSequence):
        if sequence.sequence is None:
            sequence = DifferentiableSequence(
                _simulator_sequence(simulator), sequence.angles, sequence.phases
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
def _offsets(ids, seed, shape, linewidth, cutoff):
    """The simulator's offsets as a function of the linewidth (tensor ``(B,)``)."""
    torch = _torch()
    u = np.stack([echo_rng(seed, i).random(shape) for i in ids])
    u = torch.from_numpy(u).to(device=linewidth.device, dtype=linewidth.dtype)
    hw = (0.5 * linewidth).reshape(-1, 1, 1)
    lo = 0.5 + torch.arctan(-cutoff / hw) / math.pi
    hi = 0.5 + torch.arctan(cutoff / hw) / math.pi
    nu = hw * torch.tan(math.pi * (lo + (hi - lo) * u - 0.5))
    # rounding can land exactly on +cutoff; the window is half open
    return torch.clamp(nu, -cutoff, float(np.nextafter(cutoff, -np.inf)))


def simulate(simulator, params, sequence=None, *, echo_ids=None, segment=None):
    """The simulator's echoes as a torch tensor, differentiable in its inputs.

    Parameters
    ----------
    simulator : EchoSimulator
        The lattice, time grid, linewidth, cutoff, relaxation, output,
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
    from ._backends import torch_backend as tb

    if not isinstance(simulator, EchoSimulator):
        raise TypeError(
            f"simulator must be an EchoSimulator; got {type(simulator).__name__}."
        )
    experiment = simulator.experiment  # every setting checked
    n = experiment.lattice_size
    if n is None:
        raise ValueError(
            "sknmr.autodiff differentiates echoes of the n x n square lattice; "
            f"the simulator's lattice is {experiment.lattice!r}. Its echoes (no "
            "gradients) run on EchoSimulator(backend='torch') on any lattice."
        )
    if experiment.line_shape != "lorentzian":
        raise ValueError(
            "sknmr.autodiff draws Lorentzian offsets (the linewidth a scale of "
            f"fixed draws); the simulator has line_shape={experiment.line_shape!r}."
        )
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
        segment = plan_segments(n_echoes, n, grid.n_times, resolved.dtype, device)
    elif not (torch.is_grad_enabled() and inputs):
        segment = None
    check_fits_in_memory(
        n_echoes * n * n * _LIVE_VALUES_PER_SPIN * resolved.dtype.itemsize,
        f"Simulating {n_echoes} echo(es) on a {n} x {n} lattice in torch",
        "the number of echoes or lattice_size",
    )

    # the kernels' half spectra, one per echo
    extras = [c for c in columns if c not in COLUMNS]
    halves = [
        kernel_half_spectrum(
            kernel,
            columns["length"][i],
            n,
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
        ids, check_seed(simulator.random_state), (n, n), linewidth, simulator.cutoff
    )
    transverse, longitudinal, relax_z = _decays(simulator, columns, n_echoes)
    with tb.threads(simulator.n_jobs or 1):
        state = tb.initial_state(None, (n_echoes, 3, n, n), dtype, device)
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


def _simulator_t1(simulator):
    return math.inf if simulator.t1 is None else float(simulator.t1)


def _simulator_t2(simulator):
    """The simulator's T2 from ``t2`` or ``dephasing_rate``; inf when off."""
    if simulator.t2 is not None:
        return float(simulator.t2)
    rate = simulator.dephasing_rate
    return 1.0 / rate if rate > 0 else math.inf


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
        t1 = torch.full_like(like, _simulator_t1(simulator))
    t2 = columns.get("t2")
    if t2 is None:
        t2 = torch.full_like(like, _simulator_t2(simulator))
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
