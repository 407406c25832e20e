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
from ._physics import REFOCUS_AXES, EchoBatch, draw_offsets, echo_rng, pulse_matrix
from ._progress import progress_bar
from ._timegrid import DEFAULT_DT, DEFAULT_TAU, n_steps, time_names
from .kernels import KERNELS, _check_length, kernel_spectrum
from .prior import (
    PARAM_COLUMNS,
    add_targets,
    check_count,
    check_kernels,
    check_prior,
    draw_table,
    split_counts,
)
from .utils._random import check_seed
from .utils._resources import check_fits_in_memory, check_n_jobs, format_bytes

__all__ = ["EchoSimulator"]

OUTPUTS = {"magnitude": "absM", "complex": "M", "z": "Iz"}
#: Largest coupling (MHz) accepted: far beyond any material, and small enough
#: that every backend's fields and rotation angles stay finite.
MAX_COUPLING = 1e6
# Rough cost of one nucleus over one step, per thread (s), to warn before long
# work: measured at 100 x 100 in float32 (numba ~2.5e-8, numpy about 4x that).
_SECONDS_PER_SPIN_STEP = {"numpy": 1e-7, "numba": 2.5e-8, "cuda": 1e-10}
# Fixed cost of one step of a batch (kernel launches, loop overhead), roughly.
_SECONDS_PER_STEP = 1e-5
#: Estimated run time (s) above which a run without a progress bar warns.
LONG_RUN_SECONDS = 600.0


def _real_column(values, name):
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
    if not np.all(np.isfinite(col)):
        raise ValueError(f"{name} must be finite; got {col[~np.isfinite(col)][:3]}.")
    return col


def _bytes_per_sample(dtype):
    """Bytes held per echo and sample: complex M, <I^z> and the returned array."""
    item = np.dtype(dtype).itemsize
    return 2 * item + item + 2 * item


class EchoSimulator(TransformerMixin, BaseEstimator):
    """Spin echoes of an ``n x n`` lattice of nuclei with electron-mediated coupling.

    Implements the mean-field model of Rao et al. (2023), as the physics guide
    of the documentation states it. Each nucleus ``i`` of a periodic square lattice is a
    spin-1/2 in a pure state with a Lorentzian offset ``nu_i`` and feels the
    field of ``H_i = -(nu_i + alpha_z w_i^z) I^z - alpha_xy (w_i^x I^x + w_i^y
    I^y)``, where ``w_i = sum_j Khat(r_ij) <I_j>`` is the kernel-weighted mean
    spin of the others. A ``theta`` pulse about x at ``t = 0`` and a
    ``2 theta`` pulse about ``refocus_axis`` at ``t = tau`` give an echo at
    ``2 tau``. Frequencies are in MHz, times in microseconds.

    Each row of a parameter table is one echo: a kernel (``"gaussian"``,
    ``"power"`` or ``"rkky"``), its length parameter (``xi``, ``p`` or
    ``gamma``) and the couplings ``alpha_xy`` and ``alpha_z``.

    Parameters
    ----------
    lattice_size : int, default=100
        Side ``n`` of the periodic square lattice (``n * n`` nuclei).
    dt : float, default=1/(2*pi)
        Time step and sampling interval (us).
    tau : float, default=100.0
        Delay of the refocusing pulse (us); it comes after
        ``n_tau = round(tau / dt)`` steps, and ``3 * n_tau`` samples are taken.
    linewidth : float, default=0.08
        Full width at half maximum (MHz) of the Lorentzian offsets. The paper
        states 0.008; see the user guide for why 0.08 is the default.
    cutoff : float, default=0.25
        Offsets are kept in ``[-cutoff, cutoff)`` MHz (redrawn outside).
    pulse_angle : float, default=90.0
        First pulse angle ``theta`` in degrees, in (0, 180]; the refocusing
        pulse turns by ``2 theta``.
    refocus_axis : {"y", "x", "-x", "-y"}, default="y"
        Axis of the refocusing pulse.
    dephasing_rate : float, default=0.0
        Pure dephasing rate ``1/T2`` (1/us): transverse components decay by
        ``exp(-dephasing_rate * dt)`` each step. Off by default.
    output : {"magnitude", "complex", "z"}, default="magnitude"
        What each echo is: ``|M(t)|``, the complex ``M(t) = <I^x> + i <I^y>``,
        or ``<I^z>(t)`` (lattice averages).
    backend : {"auto", "numpy", "numba", "cuda"}, default="auto"
        ``"numpy"`` is the plain reference, ``"numba"`` the fast CPU one,
        ``"cuda"`` the GPU one; ``"auto"`` picks the fastest available.
    dtype : {"float64", "float32"} or None, default=None
        Floating type of the dynamics; None means float64 on the CPU and
        float32 on the GPU.
    batch_size : int or None, default=None
        Echoes simulated together; None lets the backend choose. It does not
        change the results.
    n_jobs : int or None, default=None
        Threads for the numba backend (None means 1, -1 all cores). It does
        not change the results.
    random_state : int, RandomState instance or None, default=None
        Seeds the offsets. An echo's offsets depend only on this seed and the
        echo's position in the table (or its ``echo_ids`` entry).
    verbose : int, default=0
        Show a progress bar when positive.

    Attributes
    ----------
    n_features_in_ : int
        Always 4 once fitted (see :meth:`transform`).
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
        "dephasing_rate": [Interval(Real, 0, None, closed="left")],
        "output": [StrOptions(set(OUTPUTS))],
        "backend": [StrOptions({"auto", *_backends.BACKENDS})],
        "dtype": [StrOptions(set(_backends.DTYPES)), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
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
    ):
        self.lattice_size = lattice_size
        self.dt = dt
        self.tau = tau
        self.linewidth = linewidth
        self.cutoff = cutoff
        self.pulse_angle = pulse_angle
        self.refocus_axis = refocus_axis
        self.dephasing_rate = dephasing_rate
        self.output = output
        self.backend = backend
        self.dtype = dtype
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- settings -----------------------------------------------------------
    def _check_settings(self):
        self._validate_params()
        for name in ("dt", "tau", "linewidth", "cutoff", "dephasing_rate"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}.")
        if self.dt >= self.tau:
            raise ValueError(
                f"dt must be smaller than tau; got dt={self.dt} and tau={self.tau}."
            )
        check_n_jobs(self.n_jobs)

    def _resolve(self):
        """Backend module, dtype and batch size these settings mean here."""
        return _backends.resolve(self.backend, self.dtype, self.batch_size)

    def _check_request(self, n_echoes):
        """Refuse work that cannot fit in memory; warn about work that takes long."""
        resolved = self._resolve()
        n, n_times = self.lattice_size, self.n_times
        batch = min(resolved.batch_size, n_echoes)
        echoes = n_echoes * n_times * _bytes_per_sample(resolved.dtype)
        # Per echo of a batch: kernel spectrum and offsets (float64), the state,
        # the fields and the FFT's work arrays (about 12 values per nucleus).
        lattice = batch * n * n * (16 + 12 * resolved.dtype.itemsize)
        check_fits_in_memory(
            echoes + lattice,
            f"Simulating {n_echoes} echo(es) of {n_times} samples (tau / dt) on a "
            f"{n} x {n} lattice (echoes {format_bytes(echoes)}, lattice state "
            f"{format_bytes(lattice)})",
            "the number of echoes, tau / dt (the samples per echo) or lattice_size",
        )
        threads = max(1, joblib.effective_n_jobs(self.n_jobs))
        n_batches = -(-n_echoes // resolved.batch_size)
        per_spin = _SECONDS_PER_SPIN_STEP.get(resolved.name, 1e-7)
        seconds = (n_times - 1) * (
            n_echoes * n * n * per_spin / threads + n_batches * _SECONDS_PER_STEP
        )
        if seconds > LONG_RUN_SECONDS and not self.verbose:
            warnings.warn(
                f"Simulating {n_echoes} echo(es) of {n_times} samples on a {n} x {n} "
                f"lattice with the {resolved.name} backend will take roughly "
                f"{seconds / 60:.0f} minutes; set verbose=1 for a progress bar.",
                UserWarning,
                stacklevel=3,
            )
        return resolved

    @property
    def n_tau(self):
        """Steps from the first pulse to the refocusing pulse: ``round(tau / dt)``."""
        self._check_settings()
        return n_steps(self.tau, self.dt)

    @property
    def n_times(self):
        """Samples per echo: ``3 * n_tau``."""
        return 3 * self.n_tau

    @property
    def times(self):
        """Sample times ``t_k = k * dt`` (us), ``k = 0 .. 3 n_tau - 1``.

        The sample at ``k = n_tau`` is taken just after the refocusing pulse,
        and the echo ``t = 2 tau`` is sample ``2 n_tau``.
        """
        return np.arange(self.n_times) * float(self.dt)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the quantity and the sample time.

        Examples
        --------
        >>> EchoSimulator(tau=1.0).get_feature_names_out()[:2]
        array(['absM_t=0.000us', 'absM_t=0.159us'], dtype=object)
        """
        return time_names(self.times, prefix=OUTPUTS[self.output], dt=self.dt)

    # -- parameter tables ----------------------------------------------------
    def _check_table(self, params):
        """Validate a parameter table; return a DataFrame of the four columns."""
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
        missing = [c for c in PARAM_COLUMNS if c not in columns]
        extra = [c for c in columns if c not in PARAM_COLUMNS]
        if missing or extra:
            raise ValueError(
                f"params must have exactly the columns {PARAM_COLUMNS}; "
                f"missing {missing}, extra {extra}. (Drop derived targets with "
                "table[list(sknmr.prior.PARAM_COLUMNS)].)"
            )
        if len(table) == 0:
            raise ValueError("params holds no echo (0 rows).")
        kernels = table["kernel"].to_numpy()
        bad = sorted(
            {
                repr(getattr(k, "item", lambda k=k: k)())
                for k in kernels
                if not isinstance(k, str)
            }
            | {k for k in kernels if isinstance(k, str) and k not in KERNELS}
        )
        if bad:
            raise ValueError(f"kernel must be one of {KERNELS} (names); got {bad[:5]}.")
        out = {"kernel": kernels.astype(str)}
        for name in ("length", "alpha_xy", "alpha_z"):
            out[name] = _real_column(table[name], name)
            if name != "length":
                col = out[name]
                if np.any(col < 0):
                    raise ValueError(
                        f"{name} must be >= 0 (MHz); got {col[col < 0][:3]}."
                    )
                if np.any(col > MAX_COUPLING):
                    raise ValueError(
                        f"{name} must lie in the usable range [0, {MAX_COUPLING:g}] "
                        f"MHz; got {col[col > MAX_COUPLING][:3]}."
                    )
        for kernel in np.unique(out["kernel"]):
            for length in np.unique(out["length"][out["kernel"] == kernel]):
                _check_length(kernel, float(length))
        return pd.DataFrame(out)

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
            mapping of scalars is one echo.
        echo_ids : array-like of int, default=None
            Identity of each echo for seeding its offsets (default: its row
            number). Give global positions when simulating a table in pieces.

        Returns
        -------
        echoes : ndarray of shape (n_echoes, n_times)
            ``|M(t)|``, complex ``M(t)`` or ``<I^z>(t)`` depending on
            ``output``, sampled at :attr:`times`.
        """
        self._check_settings()
        table = self._check_table(params)
        ids = self._check_echo_ids(echo_ids, len(table))
        resolved = self._check_request(len(table))
        return self._run(table, check_seed(self.random_state), ids, resolved)

    def _run(self, table, seed, ids, resolved):
        backend, dtype, batch_size = (
            resolved.module,
            resolved.dtype,
            resolved.batch_size,
        )
        n_jobs = joblib.effective_n_jobs(self.n_jobs)
        n = self.lattice_size
        first = pulse_matrix(REFOCUS_AXES["x"], self.pulse_angle)
        refocus = pulse_matrix(REFOCUS_AXES[self.refocus_axis], 2 * self.pulse_angle)
        decay = float(np.exp(-self.dephasing_rate * self.dt))
        n_echoes = len(table)
        n_tau = self.n_tau  # validated once, not per batch
        n_times = 3 * n_tau

        mxy = np.empty((n_echoes, n_times), dtype=np.result_type(dtype, np.complex64))
        mz = np.empty((n_echoes, n_times), dtype=dtype)
        with progress_bar(n_echoes, "echoes", enabled=self.verbose > 0) as bar:
            for start in range(0, n_echoes, batch_size):
                rows = slice(start, min(start + batch_size, n_echoes))
                part = table.iloc[rows]
                batch = EchoBatch(
                    spectra=np.stack(
                        [
                            kernel_spectrum(k, x, n)
                            for k, x in zip(part["kernel"], part["length"], strict=True)
                        ]
                    ),
                    offsets=np.stack(
                        [
                            draw_offsets(
                                echo_rng(seed, i), (n, n), self.linewidth, self.cutoff
                            )
                            for i in ids[rows]
                        ]
                    ),
                    alpha_xy=part["alpha_xy"].to_numpy(np.float64),
                    alpha_z=part["alpha_z"].to_numpy(np.float64),
                    dt=float(self.dt),
                    n_tau=n_tau,
                    n_times=n_times,
                    first_pulse=first,
                    refocus_pulse=refocus,
                    decay=decay,
                    dtype=dtype,
                    n_jobs=n_jobs,
                )
                mxy[rows], mz[rows] = backend.simulate(batch)
                bar.update(rows.stop - rows.start)
        if self.output == "magnitude":
            return np.abs(mxy)
        if self.output == "complex":
            return mxy
        return mz

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
            ``W``), as for :func:`sknmr.prior.sample_prior`.

        Returns
        -------
        echoes : ndarray of shape (n_samples, n_times)
        table : pandas.DataFrame
            ``kernel, length, alpha_xy, alpha_z, W, L, power``, one row per echo.

        Examples
        --------
        >>> sim = EchoSimulator(lattice_size=8, tau=2.0, random_state=0)
        >>> echoes, table = sim.sample(3)
        >>> echoes.shape, table["kernel"].tolist()
        ((3, 39), ['gaussian', 'power', 'rkky'])
        """
        self._check_settings()
        n_samples = check_count(n_samples, "n_samples")
        unknown = sorted(set(prior) - {"alpha_xy", "alpha_z", "lengths", "W"})
        if unknown:
            raise TypeError(
                f"sample() got unknown prior settings {unknown}; the prior takes "
                "alpha_xy, alpha_z, lengths and W."
            )
        kernels = check_kernels(kernels)
        ranges, acceptance = check_prior(kernels, **prior)
        seed = check_seed(
            self.random_state if random_state is None else random_state,
            "random_state",
        )
        resolved = self._check_request(n_samples)
        params, ids = draw_table(
            seed, kernels, split_counts(n_samples, kernels), ranges, acceptance
        )
        table = add_targets(params, self.lattice_size)
        echoes = self._run(
            self._check_table(table[list(PARAM_COLUMNS)]), seed, ids, resolved
        )
        return echoes, table

    # -- scikit-learn transformer API -----------------------------------------
    @staticmethod
    def _named_frame(X):
        """True for a DataFrame that names the four parameter columns."""
        return isinstance(X, pd.DataFrame) and all(
            c in X.columns for c in PARAM_COLUMNS
        )

    def _table_from_frame(self, X):
        """The parameter table of a DataFrame, read by column name.

        ``kernel`` holds names or codes (0 gaussian, 1 power, 2 rkky).
        """
        extra = [str(c) for c in X.columns if c not in PARAM_COLUMNS]
        if extra:
            raise ValueError(
                f"X must have exactly the columns {PARAM_COLUMNS}; got the extra "
                f"columns {extra}."
            )
        kernel = X["kernel"]
        if pd.api.types.is_numeric_dtype(kernel) and not pd.api.types.is_bool_dtype(
            kernel
        ):
            kernel = self._kernel_names(kernel.to_numpy())
        return self._check_table(
            {
                "kernel": np.asarray(kernel),
                "length": X["length"],
                "alpha_xy": X["alpha_xy"],
                "alpha_z": X["alpha_z"],
            }
        )

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
            self.n_features_in_ = len(PARAM_COLUMNS)
            self.feature_names_in_ = np.asarray(list(PARAM_COLUMNS), dtype=object)
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
