"""EchoWindow: keep the samples of an echo's area of interest.

The paper (Rao et al. 2023, section II.B) learns both from the full echo and
from the "area of interest" around the echo at ``t = 2 tau``; sknmr takes that
window as ``2 tau +- tau/3``: 419 samples around sample 1256 on the
simulator's default grid (``dt = 1/(2 pi)`` us, ``tau = 100`` us).

Both :class:`EchoWindow` and :class:`~sknmr.polynomial.PolynomialSectionFeaturizer`
need the time (us) of every input column. They find it the same way (the
time grid's ``sample_times``): an explicit ``times`` array if given; otherwise the
simulator's grid rule ``t_k = t_0 + k dt``, with ``dt`` the simulator's default
unless given, and ``t_0`` the time in the first input feature name when every
name carries one (``'absM_t=166.635us'``, as the simulator and this window name
their columns; so a window of a window, or a featurizer after a window with
pandas output, knows where it is), else 0.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._timegrid import default_window, sample_times, time_names

__all__ = ["EchoWindow"]


class EchoWindow(TransformerMixin, BaseEstimator):
    """Keep the samples of an echo series inside a time window.

    The window is ``[center - half_width, center + half_width]`` (us), by
    default the paper's area of interest ``2 tau +- tau/3`` around the echo of
    :class:`~sknmr.EchoSimulator`'s default grid: 419 samples, 1047 to 1465,
    centred on the echo sample 1256. Every sample whose time lies in the
    window (ends included) is kept.

    The time of each input column comes from ``times`` if given; otherwise
    ``t_k = t_0 + k dt`` (the simulator's grid), where ``t_0`` is the time in
    the first input feature name when all names carry times
    (``'absM_t=0.000us'``), else 0.

    Parameters
    ----------
    center : float or None, default=None
        Centre of the window (us). None means the echo time ``2 tau`` of
        ``EchoSimulator()``'s grid, ``times[2 * n_tau]`` = 199.899 us.
    half_width : float or None, default=None
        Half the window's length (us), > 0. None means ``tau / 3`` of
        ``EchoSimulator()`` (33.333 us).
    dt : float or None, default=None
        Sampling interval (us) of the input columns; None means the
        simulator's default ``1/(2 pi)``. Give ``dt`` or ``times``, not both.
    times : array-like of shape (n_features,) or None, default=None
        Time (us) of each input column, strictly increasing; overrides the
        ``t_0 + k dt`` grid.

    Attributes
    ----------
    window_ : slice
        The kept columns of the input.
    times_ : ndarray of shape (n_kept,)
        Times (us) of the kept samples.
    n_features_in_ : int
        Number of input samples per series.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    EchoWindow.for_simulator : The window ``2 tau +- tau/3`` of any simulator.
    sknmr.PolynomialSectionFeaturizer : Polynomial features of the window.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr import EchoSimulator, EchoWindow
    >>> echoes = np.zeros((2, EchoSimulator().n_times))
    >>> window = EchoWindow().fit(echoes)
    >>> window.transform(echoes).shape, window.window_
    ((2, 419), slice(1047, 1466, None))
    >>> window.get_feature_names_out()[[0, -1]]
    array(['t=166.635us', 't=233.162us'], dtype=object)

    A small simulator's own area of interest:

    >>> sim = EchoSimulator(lattice_size=8, tau=6.0, random_state=0)
    >>> window = EchoWindow.for_simulator(sim)
    >>> window.fit(np.zeros((1, sim.n_times))).times_[[0, -1]]
    array([10.1859..., 14.0056...])
    """

    _parameter_constraints = {
        "center": [Real, None],
        "half_width": [Interval(Real, 0, None, closed="neither"), None],
        "dt": [Interval(Real, 0, None, closed="neither"), None],
        "times": ["array-like", None],
    }

    def __init__(self, center=None, half_width=None, dt=None, times=None):
        self.center = center
        self.half_width = half_width
        self.dt = dt
        self.times = times

    @classmethod
    def for_simulator(cls, simulator, *, width=1 / 3):
        """The window ``2 tau +- width * tau`` on a simulator's time grid.

        The window is centred on the first echo of the simulator's
        experiment (on the grid), and ``tau`` is the time from the pulse
        before that echo to the echo, as the sequence states it
        (:attr:`Experiment.echo_window <sknmr.Experiment.echo_window>`).

        Parameters
        ----------
        simulator : EchoSimulator
            Its ``dt``, ``tau`` (or ``sequence``) and time grid define the
            window.
        width : float, default=1/3
            Half-width of the window in units of ``tau``.

        Returns
        -------
        window : EchoWindow
            Unfitted, with ``center``, ``half_width`` and ``dt`` set.

        Examples
        --------
        >>> from sknmr import EchoSimulator
        >>> from sknmr.sequences import cpmg
        >>> w = EchoWindow.for_simulator(EchoSimulator(dt=0.1, sequence=cpmg(3.0, 2)))
        >>> print(f"{w.center:.1f} +- {w.half_width:.1f} us")
        6.0 +- 1.0 us
        """
        experiment = simulator.experiment
        try:
            echo_time, half_width = experiment.window(width)
        except ValueError as exc:
            raise ValueError(f"{exc} Give center and half_width.") from None
        return cls(center=echo_time, half_width=half_width, dt=experiment.dt)

    def _window_bounds(self):
        default_center, default_half_width = default_window()
        center = default_center if self.center is None else float(self.center)
        half_width = (
            default_half_width if self.half_width is None else float(self.half_width)
        )
        for name, value in (("center", center), ("half_width", half_width)):
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite time (us); got {value}.")
        return center, half_width

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the columns of ``X`` inside the window.

        Parameters
        ----------
        X : array-like of shape (n_series, n_features)
            Series sampled at the times described above.
        y : None
            Ignored.

        Returns
        -------
        self : EchoWindow
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        n_features = X.shape[1]
        times = sample_times(self, n_features, getattr(self, "feature_names_in_", None))
        center, half_width = self._window_bounds()
        low, high = center - half_width, center + half_width
        # Tolerate float rounding at the ends (a micro-step, not a sample).
        spacing = float(np.min(np.diff(times))) if n_features > 1 else 1.0
        tol = 1e-6 * spacing
        if low < times[0] - tol or high > times[-1] + tol:
            raise ValueError(
                f"The window center +- half_width = {center:.6g} +- "
                f"{half_width:.6g} us "
                f"= [{low:.6g}, {high:.6g}] us must lie inside the series, but X has "
                f"n_features={n_features} samples spanning [{times[0]:.6g}, "
                f"{times[-1]:.6g}] us. Choose center and half_width inside it "
                "(or give the series' dt or times)."
            )
        kept = np.flatnonzero((times >= low - tol) & (times <= high + tol))
        if kept.size == 0:
            raise ValueError(
                f"The window [{low:.6g}, {high:.6g}] us holds no sample of the series "
                f"(sample spacing {spacing:.6g} us); increase half_width."
            )
        self.window_ = slice(int(kept[0]), int(kept[-1]) + 1)
        self.times_ = times[self.window_].copy()
        return self

    def transform(self, X):
        """Keep the samples inside the window.

        Parameters
        ----------
        X : array-like of shape (n_series, n_features)

        Returns
        -------
        X_window : ndarray of shape (n_series, n_kept)
            A contiguous copy of the kept columns.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.ascontiguousarray(X[:, self.window_])

    def get_feature_names_out(self, input_features=None):
        """Names of the kept samples.

        The input's names (``input_features``, or the DataFrame columns seen
        in :meth:`fit`) are kept; otherwise names are built from the sample
        times, ``'t=199.899us'``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features, generate_names=False)
        if names is None:
            return time_names(self.times_)
        return np.asarray(names, dtype=object)[self.window_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
