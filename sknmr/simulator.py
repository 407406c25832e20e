"""EchoSimulator: NMR spin echoes of a lattice of interacting nuclei."""

import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from . import _backends
from ._physics import LINE_SHAPES, REFOCUS_AXES, EchoBatch, draw_offsets, echo_rng
from ._progress import progress_bar
from ._timegrid import DEFAULT_DT, DEFAULT_TAU, n_steps
from .experiment import OUTPUTS, Experiment
from .kernels import (
    KERNELS,
    _check_length,
    available_kernels,
    kernel_parameters,
    kernel_spectrum,
    kernel_stats,
)
from .lattices import LATTICE_NAMES, Lattice, resolve_lattice
from .prior import (
    PARAM_COLUMNS,
    PRIOR_SETTINGS,
    add_targets,
    check_count,
    check_kernels,
    check_prior,
    draw_table,
    split_counts,
)
from .sequences import PulseSequence, hahn_echo
from .utils._random import check_seed
from .utils._resources import check_fits_in_memory, check_n_jobs, format_bytes

__all__ = ["EchoSimulator"]

#: Optional per-echo columns of a parameter table (besides kernel extras):
#: T1 and T2 (us) overriding the simulator's.
RELAXATION_COLUMNS = ("t1", "t2")
# The most steps of dt tau may span (a grid of 3 tau / dt samples).
_MAX_STEPS = 1e12
#: Optional per-echo column of a parameter table: the full width at half
#: maximum (MHz) of the echo's offsets, overriding the simulator's ``linewidth``.
LINE_COLUMNS = ("linewidth",)
# The columns of a checked parameter table before the kernel extras.
_BASE_COLUMNS = (
    "kernel",
    "length",
    "alpha_x",
    "alpha_y",
    "alpha_z",
    *RELAXATION_COLUMNS,
    *LINE_COLUMNS,
)
# The Hahn-echo parameters a `sequence` replaces, with their defaults.
_HAHN_DEFAULTS = {"tau": DEFAULT_TAU, "pulse_angle": 90.0, "refocus_axis": "y"}
#: Largest coupling (MHz) accepted: far beyond any material, and small enough
#: that every backend's fields and rotation angles stay finite.
MAX_COUPLING = 1e6
# Rough cost of one nucleus over one step, per thread (s), to warn before long
# work: measured at 100 x 100 in float32 (numba ~2.5e-8, numpy about 4x that).
_SECONDS_PER_SPIN_STEP = {
    "numpy": 1e-7,
    "numba": 2.5e-8,
    "cuda": 1e-10,
    "torch": 1e-7,
}
# Fixed cost of one step of a batch (kernel launches, loop overhead), roughly.
_SECONDS_PER_STEP = 1e-5
#: Estimated run time (s) above which a run without a progress bar warns.
LONG_RUN_SECONDS = 600.0


def _row_extras(row, names):
    """The kernel extras a table row sets (its NaN entries keep the defaults)."""
    return {
        name: float(row[name])
        for name in names
        if name in row.index and not np.isnan(row[name])
    }


def _kernel_settings(table):
    """Distinct ``(kernel, length, extras)`` of a checked parameter table."""
    names = [c for c in table.columns if c not in _BASE_COLUMNS]
    seen = set()
    for row in table.drop_duplicates(["kernel", "length", *names]).itertuples(
        index=False
    ):
        row = pd.Series(row._asdict())
        kw = _row_extras(row, names)
        key = (row["kernel"], float(row["length"]), tuple(sorted(kw.items())))
        if key not in seen:
            seen.add(key)
            yield row["kernel"], float(row["length"]), kw


def _real_column(values, name, allow_nan=False):
    """A parameter column as float64, refusing text, booleans and complex numbers."""
    array = np.asarray(values)
    if array.dtype.kind == "O" and all(
        isinstance(v, Real) and not isinstance(v, (bool, np.bool_)) for v in array.flat
    ):
        array = array.astype(np.float64)
    if array.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in array.flat):
        raise ValueError(f"{name} must hold real numbers; got text.")
    if array.dtype.kind not in "iuf":
        kind = {
            "b": "booleans",
            "c": "complex numbers",
            "U": "text",
            "S": "text",
            "O": "objects",
        }.get(array.dtype.kind, f"dtype {array.dtype}")
        raise ValueError(f"{name} must hold real numbers; got {kind}.")
    col = array.astype(np.float64)
    if allow_nan and not np.any(np.isinf(col)):
        return col
    if not np.all(np.isfinite(col)):
        raise ValueError(f"{name} must be finite; got {col[~np.isfinite(col)][:3]}.")
    return col


def _check_relaxation_times(t1, t2, whose):
    """Refuse ``T2 > 2 T1``: a spin-1/2 ensemble cannot lose polarisation slower."""
    t1, t2 = np.broadcast_arrays(np.asarray(t1, float), np.asarray(t2, float))
    bad = t2 > 2 * t1
    if np.any(bad):
        raise ValueError(
            f"t2 must be at most 2 * t1 (a spin-1/2 ensemble's transverse decay is "
            f"at least half its longitudinal one); {whose} t2={t2[bad][0]:g} us and "
            f"t1={t1[bad][0]:g} us."
        )


def _bytes_per_sample(dtype):
    """Bytes held per echo and sample: complex M, <I^z> and the returned array."""
    item = np.dtype(dtype).itemsize
    return 2 * item + item + 2 * item


class EchoSimulator(TransformerMixin, BaseEstimator):
    """Spin echoes of an ``n x n`` lattice of nuclei with electron-mediated coupling.

    Implements the mean-field model of Rao et al. (2023), as the physics guide
    of the documentation states it. Each nucleus ``i`` of a periodic square lattice is a
    spin-1/2 in a pure state with an offset ``nu_i`` (Lorentzian by default)
    and feels the
    field of ``H_i = -(nu_i + alpha_z w_i^z) I^z - alpha_x w_i^x I^x - alpha_y
    w_i^y I^y``, where ``w_i = sum_j Khat(r_j - r_i) <I_j>`` is the
    kernel-weighted mean spin of the others. By default a ``theta`` pulse about
    x at ``t = 0`` and a ``2 theta`` pulse about ``refocus_axis`` at ``t = tau``
    give an echo at ``2 tau`` (the paper's experiment); ``sequence`` takes any
    train of pulses (:mod:`sknmr.sequences`), and ``t1``/``t2`` add Bloch
    relaxation. Frequencies are in MHz, times in microseconds.

    Each row of a parameter table is one echo: a kernel (``"gaussian"``,
    ``"power"``, ``"rkky"``, ``"uniform"`` or one registered with
    :func:`sknmr.kernels.register_kernel`), its length parameter (``xi``,
    ``p``, ``gamma``, ...), the couplings ``alpha_xy`` (or ``alpha_x`` and
    ``alpha_y`` separately) and ``alpha_z``, and optionally ``t1`` and
    ``t2`` (us), ``linewidth`` (MHz: the sample's inhomogeneous line), each
    overriding the simulator's (NaN keeps it), and the kernel's extra
    parameters (:func:`sknmr.kernels.kernel_parameters`; NaN keeps the
    default).

    Parameters
    ----------
    lattice_size : int, default=100
        Side ``n`` of the periodic square lattice (``n * n`` nuclei); with a
        lattice name, the cells along each of its vectors.
    dt : float, default=1/(2*pi)
        Time step and sampling interval (us).
    tau : float, default=100.0
        Delay of the refocusing pulse (us) of the default Hahn echo; it comes
        after ``n_tau = round(tau / dt)`` steps, and ``3 * n_tau`` samples are
        taken.
    linewidth : float, default=0.08
        Full width at half maximum (MHz) of the offsets' line, for echoes
        whose parameter table has no ``linewidth``. The paper states 0.008;
        see the user guide for why 0.08 is the default.
    cutoff : float, default=0.25
        Offsets are kept in ``[-cutoff, cutoff)`` MHz (redrawn outside).
    pulse_angle : float, default=90.0
        First pulse angle ``theta`` in degrees, in (0, 180]; the refocusing
        pulse turns by ``2 theta``.
    refocus_axis : {"y", "x", "-x", "-y"}, default="y"
        Axis of the refocusing pulse.
    sequence : PulseSequence or None, default=None
        The pulses and duration of the experiment (:mod:`sknmr.sequences`:
        :func:`~sknmr.sequences.hahn_echo`, :func:`~sknmr.sequences.cpmg`,
        :func:`~sknmr.sequences.stimulated_echo` or any
        :class:`~sknmr.sequences.PulseSequence`). None is the Hahn echo of
        ``tau``, ``pulse_angle`` and ``refocus_axis``, which must then keep
        their defaults when a sequence is given. Samples are taken every
        ``dt`` from 0 to the duration, pulse times rounded to the grid.
    t1 : float or None, default=None
        Longitudinal relaxation time (us): ``<I^z>`` relaxes to the thermal
        ``+1/2`` as ``exp(-t / t1)``. None: no T1.
    t2 : float or None, default=None
        Transverse relaxation time (us): ``<I^x>`` and ``<I^y>`` decay as
        ``exp(-t / t2)``; ``t2 <= 2 t1`` (a spin-1/2 ensemble). None: the
        decay T1 implies, ``t2 = 2 t1`` (none without T1). Both are applied
        exactly over each step.
    dephasing_rate : float, default=0.0
        Pure dephasing rate (1/us), the same as ``t2 = 1 / dephasing_rate``
        (kept for compatibility; it cannot be combined with ``t2``).
        Transverse components decay by ``exp(-dephasing_rate * dt)`` each
        step. Off by default.
    output : {"magnitude", "complex", "z"}, default="magnitude"
        What each echo is: ``|M(t)|``, the complex ``M(t) = <I^x> + i <I^y>``,
        or ``<I^z>(t)`` (lattice averages).
    backend : {"auto", "numpy", "numba", "cuda", "torch"}, default="auto"
        ``"numpy"`` is the plain reference, ``"numba"`` the fast CPU one,
        ``"cuda"`` the GPU one; ``"auto"`` picks the fastest of these.
        ``"torch"`` (never picked by ``"auto"``) runs the model in torch on
        ``device``; it is the one :mod:`sknmr.autodiff` differentiates.
    dtype : {"float64", "float32"} or None, default=None
        Floating type of the dynamics; None means float64 on the CPU and
        float32 on the GPU (float64 on any device for ``"torch"``).
    device : str or None, default=None
        The torch device of the ``"torch"`` backend (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...); None is the CPU. Only the torch backend takes
        one. Devices agree to rounding, not bit for bit.
    batch_size : int or None, default=None
        Echoes simulated together; None lets the backend choose. It does not
        change the results.
    n_jobs : int or None, default=None
        Threads for the numba and torch backends (None means 1, -1 all
        cores). It does not change the results.
    line_shape : {"lorentzian", "gaussian"}, default="lorentzian"
        Law of the offsets, of full width at half maximum ``linewidth`` and
        truncated to the cutoff (the paper's is Lorentzian).
    random_state : int, RandomState instance or None, default=None
        Seeds the offsets. An echo's offsets depend only on this seed and the
        echo's position in the table (or its ``echo_ids`` entry).
    verbose : int, default=0
        Show a progress bar when positive.
    lattice : Lattice, {"square", "triangular", "cubic"} or None, default=None
        The lattice of nuclei (:mod:`sknmr.lattices`): a
        :class:`~sknmr.lattices.Lattice` (``lattice_size`` is then not used),
        or a name, built with ``lattice_size`` cells along each vector. None
        is the ``lattice_size x lattice_size`` square lattice, the same echoes
        bit for bit as ``Lattice.square(lattice_size)``. The ``"cuda"``
        backend takes 2-D lattices only.

    Attributes
    ----------
    n_features_in_ : int
        4 once fitted on an array; the number of columns of a DataFrame
        (see :meth:`transform`).
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    sknmr.prior.sample_prior : The paper's parameter prior.
    sknmr.kernels.coupling_targets : The targets W, L and the power flag.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> sim = EchoSimulator(lattice_size=16, tau=10.0, random_state=0)
    >>> echoes = sim.simulate({"kernel": ["gaussian", "power"], "length": [8.0, 2.0],
    ...                        "alpha_xy": [0.05, 0.05], "alpha_z": [0.02, 0.0]})
    >>> echoes.shape
    (2, 189)
    >>> print(f"{echoes[0, 0]:.3f}")
    0.500
    >>> sim.times[sim.n_tau * 2]  # the echo time, 2 * n_tau * dt
    np.float64(20.053...)
    """

    _parameter_constraints = {
        "lattice_size": [Interval(Integral, 2, None, closed="left")],
        "dt": [Interval(Real, 0, None, closed="neither")],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "linewidth": [Interval(Real, 0, None, closed="neither")],
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "pulse_angle": [Interval(Real, 0, 180, closed="right")],
        "refocus_axis": [StrOptions(set(REFOCUS_AXES))],
        "sequence": [PulseSequence, None],
        "t1": [Interval(Real, 0, None, closed="neither"), None],
        "t2": [Interval(Real, 0, None, closed="neither"), None],
        "dephasing_rate": [Interval(Real, 0, None, closed="left")],
        "output": [StrOptions(set(OUTPUTS))],
        "backend": [StrOptions({"auto", *_backends.BACKENDS})],
        "dtype": [StrOptions(set(_backends.DTYPES)), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": [str, None],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
        "lattice": [Lattice, StrOptions(set(LATTICE_NAMES)), None],
        "line_shape": [StrOptions(set(LINE_SHAPES))],
    }

    def __init__(
        self,
        lattice_size=100,
        dt=DEFAULT_DT,
        tau=DEFAULT_TAU,
        linewidth=0.08,
        cutoff=0.25,
        pulse_angle=90.0,
        refocus_axis="y",
        dephasing_rate=0.0,
        output="magnitude",
        backend="auto",
        dtype=None,
        batch_size=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
        sequence=None,
        t1=None,
        t2=None,
        lattice=None,
        device=None,
        line_shape="lorentzian",
    ):
        self.lattice_size = lattice_size
        self.dt = dt
        self.tau = tau
        self.linewidth = linewidth
        self.cutoff = cutoff
        self.pulse_angle = pulse_angle
        self.refocus_axis = refocus_axis
        self.sequence = sequence
        self.t1 = t1
        self.t2 = t2
        self.dephasing_rate = dephasing_rate
        self.output = output
        self.backend = backend
        self.dtype = dtype
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.lattice = lattice
        self.device = device
        self.line_shape = line_shape

    # -- settings -----------------------------------------------------------
    def _check_settings(self):
        self._validate_params()
        for name in ("dt", "tau", "linewidth", "cutoff", "dephasing_rate"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}.")
        if self.sequence is None:
            if self.dt >= self.tau:
                raise ValueError(
                    f"dt must be smaller than tau; got dt={self.dt} and tau={self.tau}."
                )
            if self.tau / self.dt > _MAX_STEPS:
                # beyond any memory, and 3 n_tau no longer counts steps exactly
                raise ValueError(
                    f"tau must be at most {_MAX_STEPS:.0e} steps of dt; got "
                    f"tau={self.tau:g} us with dt={self.dt:g} us."
                )
        else:
            changed = [
                f"{name}={getattr(self, name)!r}"
                for name, default in _HAHN_DEFAULTS.items()
                if getattr(self, name) != default
            ]
            if changed:
                raise ValueError(
                    "sequence replaces the Hahn-echo parameters tau, pulse_angle and "
                    f"refocus_axis; got sequence and {', '.join(changed)}. Build the "
                    "echo with sknmr.sequences.hahn_echo(tau, angle, ...) instead, or "
                    "leave sequence=None."
                )
        if self.t2 is not None and self.dephasing_rate > 0:
            raise ValueError(
                "dephasing_rate and t2 both set the transverse decay; set t2 only "
                f"(t2 = 1 / dephasing_rate); got t2={self.t2} and "
                f"dephasing_rate={self.dephasing_rate}."
            )
        t2 = self._t2()
        _check_relaxation_times(
            self._t1(), t2 if np.isfinite(t2) else 0.0, "the simulator's"
        )
        check_n_jobs(self.n_jobs)
        self._check_device()

    def _check_device(self):
        """``device`` is the torch backend's only, and one torch has here."""
        if self.device is None:
            return
        if self.backend != "torch":
            raise ValueError(
                f"device selects the torch backend's device; set backend='torch' "
                f"or leave device=None (got device={self.device!r} with "
                f"backend={self.backend!r})."
            )
        _backends.get_backend("torch").check_device(self.device)

    def _t1(self):
        """The simulator's T1 (us), inf when off."""
        return np.inf if self.t1 is None else float(self.t1)

    def _t2(self):
        """The simulator's T2 (us), from ``t2`` or ``dephasing_rate``; inf when off."""
        if self.t2 is not None:
            return float(self.t2)
        return 1.0 / self.dephasing_rate if self.dephasing_rate > 0 else np.inf

    def _sequence(self):
        """The pulse sequence: ``sequence``, or the Hahn echo of ``tau``,
        ``pulse_angle`` and ``refocus_axis`` (the paper's experiment)."""
        if self.sequence is not None:
            return self.sequence
        return hahn_echo(
            self.tau,
            angle=self.pulse_angle,
            refocus_angle=2 * self.pulse_angle,
            refocus_phase=self.refocus_axis,
        )

    @property
    def experiment(self):
        """The experiment these settings simulate (:class:`~sknmr.Experiment`).

        Everything that decides an echo besides the material and the
        disorder draw: the sequence, the time grid, ``output``, the offsets'
        line, the relaxation defaults and the lattice. The default Hahn echo
        is ``hahn_echo(tau, pulse_angle, 2 * pulse_angle, refocus_axis)``.

        Examples
        --------
        >>> from sknmr.sequences import hahn_echo
        >>> EchoSimulator().experiment == EchoSimulator(
        ...     sequence=hahn_echo(100.0)).experiment
        True
        """
        self._check_settings()
        return Experiment(
            sequence=self._sequence(),
            dt=float(self.dt),
            lattice=self._lattice(),
            linewidth=float(self.linewidth),
            cutoff=float(self.cutoff),
            output=self.output,
            t1=None if self.t1 is None else float(self.t1),
            t2=None if self.t2 is None else float(self.t2),
            dephasing_rate=float(self.dephasing_rate),
            line_shape=self.line_shape,
        )

    @classmethod
    def from_experiment(cls, experiment, **params):
        """A simulator of ``experiment``; ``params`` set the numerical settings.

        Parameters
        ----------
        experiment : Experiment
            What to simulate (:attr:`experiment` of another simulator, or
            :meth:`Experiment.from_dict <sknmr.Experiment.from_dict>` of a
            stored one).
        **params
            ``backend``, ``dtype``, ``batch_size``, ``n_jobs``,
            ``random_state``, ``verbose``.

        Examples
        --------
        >>> sim = EchoSimulator(lattice_size=8, tau=5.0, output="complex")
        >>> again = EchoSimulator.from_experiment(sim.experiment, random_state=0)
        >>> again.experiment == sim.experiment, again.n_times
        (True, 93)
        """
        if not isinstance(experiment, Experiment):
            raise TypeError(
                "experiment must be an sknmr.Experiment (EchoSimulator.experiment, "
                f"or Experiment.from_dict); got {type(experiment).__name__}."
            )
        physics = {"sequence", "dt", "lattice_size", "lattice", "linewidth", "cutoff"}
        physics |= {"output"}
        physics |= {"t1", "t2", "dephasing_rate", "tau", "pulse_angle"}
        physics |= {"refocus_axis", "line_shape"}
        clash = sorted(set(params) & physics)
        if clash:
            raise TypeError(
                f"from_experiment sets {clash} from the experiment; give only "
                "numerical settings (backend, dtype, batch_size, n_jobs, "
                "random_state, verbose)."
            )
        square = experiment.lattice.square_size()
        return cls(
            sequence=experiment.sequence,
            dt=experiment.dt,
            lattice_size=100 if square is None else square,
            lattice=None if square is not None else experiment.lattice,
            linewidth=experiment.linewidth,
            cutoff=experiment.cutoff,
            output=experiment.output,
            t1=experiment.t1,
            t2=experiment.t2,
            dephasing_rate=experiment.dephasing_rate,
            line_shape=experiment.line_shape,
            **params,
        )

    def _lattice(self):
        """The :class:`~sknmr.lattices.Lattice` of ``lattice`` and ``lattice_size``."""
        return resolve_lattice(self.lattice, self.lattice_size)

    def resolve_backend(self):
        """The backend, dtype and batch size these settings mean on this machine.

        Returns
        -------
        resolved : Resolved
            ``module``, ``name``, ``dtype`` and ``batch_size``; ``backend="auto"``
            becomes the backend picked here.

        Examples
        --------
        >>> EchoSimulator(backend="numpy").resolve_backend().name
        'numpy'
        """
        return _backends.resolve(self.backend, self.dtype, self.batch_size)

    def check_workload(self, n_echoes):
        """Refuse a simulation that cannot fit in memory; warn about a long one.

        Parameters
        ----------
        n_echoes : int
            Echoes to simulate at once.

        Returns
        -------
        resolved : Resolved
            What :meth:`resolve_backend` gives.

        Raises
        ------
        MemoryError
            When the echoes and the lattice state would not fit in memory.
        """
        return self._check_workload(n_echoes, self.experiment)

    def _check_workload(self, n_echoes, experiment):
        resolved = self.resolve_backend()
        geometry, n_times = experiment.lattice, experiment.n_times
        check_shape = getattr(resolved.module, "check_lattice_shape", None)
        if check_shape is not None:  # a backend that takes some lattices only
            check_shape(geometry.shape)
        cells = " x ".join(str(n) for n in geometry.shape)
        n_sites = geometry.n_sites
        batch = min(resolved.batch_size, n_echoes)
        echoes = n_echoes * n_times * _bytes_per_sample(resolved.dtype)
        # Per echo of a batch: kernel spectrum and offsets (float64), the state,
        # the fields and the FFT's work arrays (about 12 values per nucleus).
        lattice = batch * n_sites * (16 + 12 * resolved.dtype.itemsize)
        check_fits_in_memory(
            echoes + lattice,
            f"Simulating {n_echoes} echo(es) of {n_times} samples (3 tau / dt, or "
            f"a sequence's duration / dt) on a "
            f"{cells} lattice (echoes {format_bytes(echoes)}, lattice state "
            f"{format_bytes(lattice)})",
            "the number of echoes, tau / dt (the samples per echo), lattice_size "
            "or the lattice's shape",
        )
        seconds = self._estimate_seconds(n_echoes, experiment, resolved)
        if seconds > LONG_RUN_SECONDS and not self.verbose:
            warnings.warn(
                f"Simulating {n_echoes} echo(es) of {n_times} samples on a {cells} "
                f"lattice with the {resolved.name} backend will take roughly "
                f"{seconds / 60:.0f} minutes; set verbose=1 for a progress bar.",
                UserWarning,
                stacklevel=3,
            )
        return resolved

    def estimate_seconds(self, n_echoes):
        """Rough run time, in seconds, of simulating ``n_echoes`` echoes.

        The estimate that :meth:`check_workload` warns with: the measured cost
        of one spin step of the backend, times the nuclei, the time steps and
        the echoes, shared over ``n_jobs`` threads. It runs nothing, so a
        caller can refuse a run that would take days before starting it.

        Parameters
        ----------
        n_echoes : int
            Echoes to simulate.

        Returns
        -------
        seconds : float
            The estimated wall-clock time of :meth:`simulate`.

        Examples
        --------
        >>> simulator = EchoSimulator(lattice_size=8, tau=2.0, backend="numpy")
        >>> simulator.estimate_seconds(10) < simulator.estimate_seconds(1000)
        True
        """
        return self._estimate_seconds(n_echoes, self.experiment, self.resolve_backend())

    def _estimate_seconds(self, n_echoes, experiment, resolved):
        threads = max(1, joblib.effective_n_jobs(self.n_jobs))
        n_batches = -(-n_echoes // resolved.batch_size)
        per_spin = _SECONDS_PER_SPIN_STEP.get(resolved.name, 1e-7)
        return (experiment.n_times - 1) * (
            n_echoes * experiment.lattice.n_sites * per_spin / threads
            + n_batches * _SECONDS_PER_STEP
        )

    @property
    def n_tau(self):
        """Steps from the first pulse to the refocusing pulse of the default Hahn
        echo: ``round(tau / dt)``."""
        self._check_settings()
        return n_steps(self.tau, self.dt)

    @property
    def n_times(self):
        """Samples per echo: ``round(duration / dt)`` of the sequence (``3 n_tau``
        for the default Hahn echo)."""
        return self.experiment.n_times

    @property
    def times(self):
        """Sample times ``t_k = k * dt`` (us), ``k = 0 .. n_times - 1``.

        A sample at a pulse's step is taken just after the pulse; for the
        default Hahn echo, the refocusing pulse comes just before sample
        ``n_tau`` and the echo ``t = 2 tau`` is sample ``2 n_tau``.
        """
        return np.arange(self.n_times) * float(self.dt)

    @property
    def pulse_times(self):
        """Times (us) of the pulses as simulated: on the grid, ``round(t / dt) dt``.

        Examples
        --------
        >>> EchoSimulator(tau=10.0).pulse_times
        array([ 0.       , 10.0267614])
        """
        return self.experiment.pulse_times

    @property
    def echo_times(self):
        """Times (us) of the sequence's echoes on the grid."""
        return self.experiment.echo_times

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the quantity and the sample time.

        Examples
        --------
        >>> EchoSimulator(tau=1.0).get_feature_names_out()[:2]
        array(['absM_t=0.000us', 'absM_t=0.159us'], dtype=object)
        """
        return self.experiment.feature_names()

    # -- parameter tables ----------------------------------------------------
    def _check_table(self, params):
        """Validate a parameter table; return it in the simulator's terms.

        The result has the columns ``kernel, length, alpha_x, alpha_y,
        alpha_z, t1, t2, linewidth`` (NaN: the simulator's) and one column per kernel
        extra that the table sets (NaN: the kernel's default).
        """
        if isinstance(params, pd.DataFrame):
            table = params
        elif isinstance(params, Mapping):
            values = dict(params)
            if values and all(np.ndim(v) == 0 for v in values.values()):
                values = {k: [v] for k, v in values.items()}
            try:
                table = pd.DataFrame(values)
            except ValueError as exc:
                raise ValueError(
                    f"params columns must be arrays of equal length: {exc}"
                ) from None
        else:
            raise TypeError(
                "params must be a pandas DataFrame or a mapping of equal-length "
                f"arrays with columns {PARAM_COLUMNS}; got {type(params).__name__}."
            )
        columns = [str(c) for c in table.columns]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(
                f"params has the column(s) {repeated} more than once; each "
                "parameter must be one column."
            )
        couplings = ["alpha_x", "alpha_y"] if "alpha_xy" not in columns else []
        if "alpha_xy" in columns and ({"alpha_x", "alpha_y"} & set(columns)):
            raise ValueError(
                "params sets alpha_xy (both in-plane couplings) and alpha_x/alpha_y; "
                "give either alpha_xy or both alpha_x and alpha_y."
            )
        required = ["kernel", "length", *(couplings or ["alpha_xy"]), "alpha_z"]
        missing = [c for c in required if c not in columns]
        if len(table) == 0 and not missing:
            raise ValueError("params holds no echo (0 rows).")
        kernels = table["kernel"].to_numpy() if "kernel" in columns else np.array([])
        known = available_kernels()
        names = {k for k in kernels if isinstance(k, str) and k in known}
        extras = {e for k in names for e in kernel_parameters(k)}
        optional = set(RELAXATION_COLUMNS) | set(LINE_COLUMNS) | extras
        extra = [c for c in columns if c not in required and c not in optional]
        if missing or extra:
            raise ValueError(
                f"params must have the columns {PARAM_COLUMNS} (alpha_xy may be "
                "replaced by alpha_x and alpha_y), optionally t1, t2, linewidth and "
                "the kernels' extra parameters; missing "
                f"{missing}, extra columns {extra}. "
                "(Drop derived targets with table[list(sknmr.prior.PARAM_COLUMNS)].)"
            )
        if len(table) == 0:
            raise ValueError("params holds no echo (0 rows).")
        bad = sorted(
            {
                repr(getattr(k, "item", lambda k=k: k)())
                for k in kernels
                if not isinstance(k, str)
            }
            | {k for k in kernels if isinstance(k, str) and k not in known}
        )
        if bad:
            raise ValueError(f"kernel must be one of {known} (names); got {bad[:5]}.")
        out = {"kernel": kernels.astype(str)}
        out["length"] = _real_column(table["length"], "length")
        for name in [*(couplings or ["alpha_xy"]), "alpha_z"]:
            col = out[name] = _real_column(table[name], name)
            if np.any(col < 0):
                raise ValueError(f"{name} must be >= 0 (MHz); got {col[col < 0][:3]}.")
            if np.any(col > MAX_COUPLING):
                raise ValueError(
                    f"{name} must lie in the usable range [0, {MAX_COUPLING:g}] "
                    f"MHz; got {col[col > MAX_COUPLING][:3]}."
                )
        if not couplings:
            out["alpha_x"] = out["alpha_y"] = out.pop("alpha_xy")
        for name in RELAXATION_COLUMNS:
            col = np.full(len(table), np.nan)
            if name in columns:
                col = _real_column(table[name], name, allow_nan=True)
                if np.any(col <= 0):
                    raise ValueError(
                        f"{name} must be > 0 (us), or NaN for the simulator's; got "
                        f"{col[col <= 0][:3]}."
                    )
            out[name] = col
        _check_relaxation_times(*self._relaxation_times(pd.DataFrame(out)), "an echo's")
        col = np.full(len(table), np.nan)
        if "linewidth" in columns:
            col = _real_column(table["linewidth"], "linewidth", allow_nan=True)
            if np.any(col <= 0):
                raise ValueError(
                    "linewidth must be > 0 (MHz, the full width at half maximum), "
                    f"or NaN for the simulator's; got {col[col <= 0][:3]}."
                )
        out["linewidth"] = col
        for name in sorted(extras & set(columns)):
            col = out[name] = _real_column(table[name], name, allow_nan=True)
            takes = np.array([name in kernel_parameters(k) for k in out["kernel"]])
            wrong = ~takes & ~np.isnan(col)
            if np.any(wrong):
                kernel = out["kernel"][wrong][0]
                raise ValueError(
                    f"{name} is not a parameter of the {kernel} kernel (it takes "
                    f"{sorted(kernel_parameters(kernel))}); leave it NaN on that "
                    "kernel's rows."
                )
        frame = pd.DataFrame(out)
        # every distinct kernel setting is checked before any simulation: the
        # paper's kernels by their length, others by building them on the lattice
        for kernel, length, kw in _kernel_settings(frame):
            if kernel in KERNELS and not kw:
                _check_length(kernel, length)
            else:
                kernel_stats(kernel, length, self._lattice(), **kw)
        return frame

    def _check_echo_ids(self, echo_ids, n):
        if echo_ids is None:
            return np.arange(n)
        ids = np.asarray(echo_ids)
        if (
            ids.shape != (n,)
            or not np.issubdtype(ids.dtype, np.integer)
            or np.any(ids < 0)
        ):
            raise ValueError(
                f"echo_ids must be {n} non-negative integers, one per echo; "
                f"got shape {ids.shape} and dtype {ids.dtype}."
            )
        return ids

    # -- simulation ----------------------------------------------------------
    def simulate(self, params, *, echo_ids=None):
        """Simulate one echo per row of a parameter table.

        Parameters
        ----------
        params : DataFrame or mapping
            Columns ``kernel`` ({"gaussian", "power", "rkky"}), ``length``,
            ``alpha_xy`` and ``alpha_z`` (MHz), as equal-length arrays; a
            mapping of scalars is one echo. Optional columns ``t1``, ``t2``
            (us) and ``linewidth`` (MHz, > 0) override the simulator's for
            their echo (NaN keeps it).
        echo_ids : array-like of int, default=None
            Identity of each echo for seeding its offsets (default: its row
            number). Give global positions when simulating a table in pieces.

        Returns
        -------
        echoes : ndarray of shape (n_echoes, n_times)
            ``|M(t)|``, complex ``M(t)`` or ``<I^z>(t)`` depending on
            ``output``, sampled at :attr:`times`.
        """
        experiment = self.experiment  # the settings checked, the grid made once
        table = self._check_table(params)
        ids = self._check_echo_ids(echo_ids, len(table))
        resolved = self._check_workload(len(table), experiment)
        seed = check_seed(self.random_state)
        return self._run(table, seed, ids, resolved, experiment)

    def _run(self, table, seed, ids, resolved, experiment):
        backend, dtype, batch_size = (
            resolved.module,
            resolved.dtype,
            resolved.batch_size,
        )
        n_jobs = joblib.effective_n_jobs(self.n_jobs)
        lattice = experiment.lattice
        grid = experiment.grid
        pulses = tuple(zip(grid.pulse_steps, grid.rotations, strict=True))
        n_echoes, n_times = len(table), grid.n_times
        extras = [c for c in table.columns if c not in _BASE_COLUMNS]
        transverse, longitudinal = self._decays(table)
        # the simulator's own value where the table has none (NaN), untouched
        widths = [
            self.linewidth if np.isnan(w) else float(w)
            for w in table["linewidth"].to_numpy()
        ]

        mxy = np.empty((n_echoes, n_times), dtype=np.result_type(dtype, np.complex64))
        mz = np.empty((n_echoes, n_times), dtype=dtype)
        with progress_bar(n_echoes, "echoes", enabled=self.verbose > 0) as bar:
            for start in range(0, n_echoes, batch_size):
                rows = slice(start, min(start + batch_size, n_echoes))
                part = table.iloc[rows]
                spectra = [
                    kernel_spectrum(
                        row["kernel"],
                        row["length"],
                        lattice,
                        **_row_extras(row, extras),
                    )
                    for _, row in part.iterrows()
                ]
                batch = EchoBatch(
                    spectra=np.stack(spectra),
                    offsets=np.stack(
                        [
                            draw_offsets(
                                echo_rng(seed, i),
                                lattice.shape,
                                width,
                                self.cutoff,
                                self.line_shape,
                            )
                            for i, width in zip(ids[rows], widths[rows], strict=True)
                        ]
                    ),
                    alpha_x=part["alpha_x"].to_numpy(np.float64),
                    alpha_y=part["alpha_y"].to_numpy(np.float64),
                    alpha_z=part["alpha_z"].to_numpy(np.float64),
                    dt=float(self.dt),
                    n_times=n_times,
                    pulses=pulses,
                    transverse_decay=transverse[rows],
                    longitudinal_decay=longitudinal[rows],
                    dtype=dtype,
                    n_jobs=n_jobs,
                    device=self.device,
                )
                mxy[rows], mz[rows] = backend.simulate(batch)
                bar.update(rows.stop - rows.start)
        if self.output == "magnitude":
            return np.abs(mxy)
        if self.output == "complex":
            return mxy
        return mz

    def _relaxation_times(self, table):
        """Per-echo ``(T1, T2)`` (us): the table's, else the simulator's.

        Without any T2, ``T2 = 2 T1``: the transverse decay that T1 alone
        implies for a spin-1/2 (inf when there is no T1 either).
        """
        t1 = np.where(np.isnan(table["t1"]), self._t1(), table["t1"])
        t2 = np.where(np.isnan(table["t2"]), self._t2(), table["t2"])
        return t1, np.where(np.isinf(t2), 2 * t1, t2)

    def _decays(self, table):
        """Per-echo relaxation over one step: ``exp(-dt/T2)``, ``exp(-dt/T1)``."""
        dt = float(self.dt)
        t1, t2 = self._relaxation_times(table)
        transverse = np.exp(-dt / t2)  # exactly 1.0 where T2 is inf
        if self.t2 is None and self.dephasing_rate > 0:
            # the simulator's dephasing_rate, computed as it always was
            legacy = np.isnan(table["t2"].to_numpy()) & np.isinf(t1)
            transverse[legacy] = float(np.exp(-self.dephasing_rate * self.dt))
        return transverse.astype(np.float64), np.exp(-dt / t1).astype(np.float64)

    def sample(self, n_samples, kernels=KERNELS, random_state=None, **prior):
        """Draw parameters from the prior and simulate their echoes.

        The draw is that of :func:`sknmr.prior.sample_prior` and the echoes
        those of :func:`sknmr.datasets.make_echoes` with ``n_samples``: the
        same seed gives the same materials and the same echoes.

        Parameters
        ----------
        n_samples : int
            Total number of echoes, split evenly over ``kernels``.
        kernels : sequence of str, default=("gaussian", "power", "rkky")
        random_state : int, RandomState, Generator or None, default=None
            Seeds both the prior draw and the offsets; None uses the
            simulator's own ``random_state``.
        **prior
            Ranges of the prior (``alpha_xy``, ``alpha_z``, ``lengths``,
            ``W``, and for the general model ``alpha_x``, ``alpha_y``, ``t1``,
            ``t2``, ``linewidth``, ``kernel_params``), as for
            :func:`sknmr.prior.sample_prior`.

        Returns
        -------
        echoes : ndarray of shape (n_samples, n_times)
        table : pandas.DataFrame
            ``kernel, length, alpha_xy, alpha_z`` (or ``alpha_x, alpha_y``
            for an anisotropic prior), the drawn ``t1``, ``t2``, ``linewidth``
            and kernel parameters if any, then ``W, L, power``; one row per
            echo.

        Examples
        --------
        >>> sim = EchoSimulator(lattice_size=8, tau=2.0, random_state=0)
        >>> echoes, table = sim.sample(3)
        >>> echoes.shape, table["kernel"].tolist()
        ((3, 39), ['gaussian', 'power', 'rkky'])
        """
        experiment = self.experiment
        n_samples = check_count(n_samples, "n_samples")
        unknown = sorted(set(prior) - set(PRIOR_SETTINGS))
        if unknown:
            raise TypeError(
                f"sample() got unknown prior settings {unknown}; the prior takes "
                f"{', '.join(PRIOR_SETTINGS)}."
            )
        kernels = check_kernels(kernels)
        ranges, acceptance = check_prior(kernels, **prior)
        seed = check_seed(
            self.random_state if random_state is None else random_state,
            "random_state",
        )
        resolved = self._check_workload(n_samples, experiment)
        params, ids = draw_table(
            seed, kernels, split_counts(n_samples, kernels), ranges, acceptance
        )
        table = add_targets(params, experiment.lattice)
        echoes = self._run(self._check_table(params), seed, ids, resolved, experiment)
        return echoes, table

    # -- scikit-learn transformer API -----------------------------------------
    @staticmethod
    def _named_frame(X):
        """True for a DataFrame that names the parameter columns."""
        if not isinstance(X, pd.DataFrame):
            return False
        columns = set(map(str, X.columns))
        in_plane = "alpha_xy" in columns or {"alpha_x", "alpha_y"} <= columns
        return in_plane and {"kernel", "length", "alpha_z"} <= columns

    def _table_from_frame(self, X):
        """The parameter table of a DataFrame, read by column name.

        ``kernel`` holds names or codes (0 gaussian, 1 power, 2 rkky).
        """
        table = {str(c): X[c] for c in X.columns}
        kernel = X["kernel"]
        if pd.api.types.is_numeric_dtype(kernel) and not pd.api.types.is_bool_dtype(
            kernel
        ):
            kernel = self._kernel_names(kernel.to_numpy())
        table["kernel"] = np.asarray(kernel)
        return self._check_table(table)

    @staticmethod
    def _kernel_names(codes):
        codes = np.asarray(codes, dtype=np.float64)
        if not np.all(np.isin(codes, np.arange(len(KERNELS)))):
            raise ValueError(
                "The kernel column of X holds kernel codes and must be one of "
                f"{dict(enumerate(KERNELS))}; got {np.unique(codes)[:5]}."
            )
        return np.asarray(KERNELS)[codes.astype(int)]

    def _table_from_array(self, X):
        return self._check_table(
            {
                "kernel": self._kernel_names(X[:, 0]),
                "length": X[:, 1],
                "alpha_xy": X[:, 2],
                "alpha_z": X[:, 3],
            }
        )

    def fit(self, X, y=None):
        """Check the parameter table; the simulator learns nothing.

        Parameters
        ----------
        X : array-like of shape (n_echoes, 4) or DataFrame
            See :meth:`transform`.
        y : None
            Ignored.

        Returns
        -------
        self : EchoSimulator
        """
        self._check_settings()
        if self._named_frame(X):
            self._table_from_frame(X)
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(list(map(str, X.columns)), dtype=object)
            return self
        X = validate_data(self, X, dtype=np.float64)
        self._check_n_columns(X)
        return self

    def _check_n_columns(self, X):
        if X.shape[1] != len(PARAM_COLUMNS):
            raise ValueError(
                f"X has n_features={X.shape[1]}, but EchoSimulator needs 4 columns "
                "(kernel code, length, alpha_xy, alpha_z)."
            )

    def transform(self, X):
        """Simulate one echo per row of a parameter table.

        Parameters
        ----------
        X : array-like of shape (n_echoes, 4) or DataFrame
            An array's columns are, in order: kernel code (0 gaussian, 1
            power, 2 rkky), length parameter, ``alpha_xy`` and ``alpha_z``
            (MHz). A DataFrame with the columns ``kernel`` (names or codes),
            ``length``, ``alpha_xy`` and ``alpha_z`` is read by column name,
            in any order.

        Returns
        -------
        echoes : ndarray of shape (n_echoes, n_times)
        """
        self._check_settings()
        if self._named_frame(X):
            return self.simulate(self._table_from_frame(X))
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._check_n_columns(X)
        return self.simulate(self._table_from_array(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        tags.input_tags.allow_nan = False
        return tags
