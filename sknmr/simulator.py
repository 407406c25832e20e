"""EchoSimulator: NMR spin echoes of a lattice of interacting nuclei.

The estimator's settings, its experiment and its public API live here; its
work is in :mod:`sknmr._simulation`, one concern a module: the settings'
joint checks (``settings``), parameter tables (``table``), the memory and
time a run needs (``workload``), kernels reaching round the lattice
(``lattice_range``) and the batches of echoes (``batches``).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from . import _backends
from ._physics import LINE_SHAPES, REFOCUS_AXES
from ._simulation import settings as _settings
from ._simulation import table as _table
from ._simulation import workload as _workload
from ._simulation.batches import simulate_batches
from ._simulation.lattice_range import warn_long_kernels
from ._simulation.table import (  # noqa: F401 (importable from here, as before)
    LINE_COLUMNS,
    MAX_COUPLING,
    RELAXATION_COLUMNS,
)
from ._timegrid import DEFAULT_DT, DEFAULT_TAU, n_steps
from .experiment import OUTPUTS, Experiment
from .kernels import KERNELS
from .lattices import LATTICE_NAMES, Lattice, resolve_lattice
from .prior import (
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

__all__ = ["EchoSimulator"]

#: Estimated run time (s) above which a run without a progress bar warns.
LONG_RUN_SECONDS = 600.0


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
        _settings.check_settings(self)

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
        ValueError
            When the echoes and the lattice state would not fit in the memory
            available (a large 3-D lattice, say), before anything is
            allocated; or when the backend does not take the lattice.
        """
        return self._check_workload(n_echoes, self.experiment)

    def _check_workload(self, n_echoes, experiment):
        resolved = self.resolve_backend()
        _workload.check_memory(n_echoes, experiment, resolved)
        seconds = _workload.estimate_seconds(
            n_echoes, experiment, resolved, self.n_jobs
        )
        if seconds > LONG_RUN_SECONDS and not self.verbose:
            warnings.warn(
                f"Simulating {n_echoes} echo(es) of {experiment.n_times} samples on "
                f"a {_workload.lattice_words(experiment.lattice)} lattice with the "
                f"{resolved.name} backend will take roughly {seconds / 60:.0f} "
                "minutes; set verbose=1 for a progress bar.",
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
        return _workload.estimate_seconds(
            n_echoes, self.experiment, self.resolve_backend(), self.n_jobs
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
    # -- parameter tables ----------------------------------------------------
    def _check_table(self, params):
        """Validate a parameter table; return it in the simulator's terms
        (:func:`sknmr._simulation.table.check_table`)."""
        return _table.check_table(
            params, _settings.default_relaxation(self), self._lattice
        )

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

        Warns
        -----
        LatticeRangeWarning
            Once a call, when a gaussian ``xi`` or uniform ``radius`` of the
            table exceeds half the lattice's smallest periodic extent (the
            spins couple to their own periodic images).
            :meth:`sample` and :func:`sknmr.datasets.make_echoes`, which draw
            from a prior, do not warn.
        """
        experiment = self.experiment  # the settings checked, the grid made once
        relaxation = _settings.default_relaxation(self)
        table = _table.check_table(params, relaxation, lattice=None)
        ids = _table.check_echo_ids(echo_ids, len(table))
        resolved = self._check_workload(len(table), experiment)
        # after the memory check: a kernel setting may be built on the lattice
        _table.check_kernel_settings(table, lambda: experiment.lattice)
        seed = check_seed(self.random_state)
        warn_long_kernels(_table.kernel_settings(table), experiment.lattice)
        return simulate_batches(self, table, seed, ids, resolved, experiment)

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
        echoes = simulate_batches(
            self, self._check_table(params), seed, ids, resolved, experiment
        )
        return echoes, table

    # -- scikit-learn transformer API -----------------------------------------
    # -- scikit-learn transformer API -----------------------------------------
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
        if _table.is_named_frame(X):
            self._check_table(_table.frame_columns(X))
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(list(map(str, X.columns)), dtype=object)
            return self
        X = validate_data(self, X, dtype=np.float64)
        _table.check_n_columns(X)
        return self

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
        if _table.is_named_frame(X):
            return self.simulate(self._check_table(_table.frame_columns(X)))
        X = validate_data(self, X, dtype=np.float64, reset=False)
        _table.check_n_columns(X)
        return self.simulate(self._check_table(_table.array_columns(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        tags.input_tags.allow_nan = False
        return tags
