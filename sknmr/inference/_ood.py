"""The out-of-distribution checks of :class:`EchoInference`.

Three checks, each with a threshold set on the held-out echoes: the distance
of an echo's features from the training echoes' (:class:`KNNDistance`, or
any detector with ``score_samples``) and where its top lies
(:func:`echo_top_offset`) over two spans. :data:`OOD_ADVICE` says what to
check first when each one flags an echo.
"""

import math
import warnings
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "OOD_ADVICE",
    "KNNDistance",
    "conformal_threshold",
    "echo_top_offset",
    "ood_advice",
]

# The echo-top checks: where each span starts, before the echo time, in
# units of the time from the pulse before the echo to the echo. The late span
# sees an echo of another tau near the model's; the early one, from a third of
# the way after the pulse before that, also sees the echoes and decays of a
# sequence with shorter spacings or other angles (a 45-90 Hahn echo, a Hahn
# echo at tau/2), which the late span misses and whose early decays would
# blunt it if it were the only one (measured in the inference guide).
_ECHO_TOP_STARTS = (2 / 3, 5 / 3)
# Shares of the OOD false-alarm rate: the distance's, then each span's. Echoes
# of another tau or sequence score far above the spans' thresholds; failed
# measurements such as long free-induction decays lie close to the
# distance's, so it keeps most of the rate (measured: 0.8 flags 88% of such
# decays, 0.6 81%, with the same flags for other taus and sequences).
_OOD_SHARES = (0.8, 0.1, 0.1)

# The name of each check in ``ood_reason``: the distance, then the spans in
# the order of _ECHO_TOP_STARTS.
_DISTANCE = "distance"
_SPANS = ("echo top (late span)", "echo top (early span)")
# Separates the checks of an echo that several flag.
_SEPARATOR = "; "

#: What to check first when an out-of-distribution check flags an echo: the
#: name of each check, as :meth:`EchoInference.predict` writes it in the
#: ``ood_reason`` column, and a hint (read-only).
OOD_ADVICE = MappingProxyType(
    {
        _DISTANCE: (
            "The echo is far from every training echo. Check the time reference "
            "(read_echo's time_offset, sknmr infer --time-offset, or --align "
            "peak), the normalization (--normalize), and that the model was "
            "trained at the echo's linewidth and noise level (make_echoes' "
            "linewidth, augment={'snr': ...})."
        ),
        _SPANS[1]: (
            "Something peaks well before the model's echo (an echo of shorter "
            "pulse spacings, the decay after a pulse of another angle). Check "
            "the pulse sequence, tau and the dead time."
        ),
        _SPANS[0]: (
            "The echo's top is not at the model's echo time (2 tau for a Hahn "
            "echo). Check tau (state it, read_echo(..., tau=...), and an echo "
            "of another tau is refused), the pulse sequence and the dead time."
        ),
    }
)


class KNNDistance(OutlierMixin, BaseEstimator):
    """Outlyingness as the mean distance to the nearest training points.

    ``score_samples`` follows scikit-learn's convention for outlier detectors
    (higher is more normal): it returns minus the mean Euclidean distance of
    each point to its ``n_neighbors`` nearest training points.

    Two refinements, both measured in ``benchmarks/bench_inference.py``:

    - ``derivative_weight > 0``: the points are series and the distance also
      counts their first differences (``[x, w * diff(x)]``, a discrete
      Sobolev distance), which sets white noise far from smooth curves;
    - ``n_components``: a second distance, between the points' coordinates
      on their first principal components (the overall shape, blind to
      noise). The score is then the larger of the two distances, each divided
      by its median over the training points (leaving each point out).

    ``predict`` flags as outliers (-1) the points scoring below ``offset_``,
    the ``contamination`` quantile of the training points' scores (each
    training point among its own neighbours, as in ``score_samples``). A
    threshold with a guaranteed false-alarm rate is instead taken on
    held-out points (:func:`conformal_threshold`), as
    :class:`~sknmr.inference.EchoInference` does with ``score_samples``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours averaged over (at most the number of training points).
    derivative_weight : float, default=0.0
        Weight ``w`` of the first differences.
    n_components : int or None, default=None
        Principal components of the second distance; None: no second
        distance.
    contamination : float in (0, 0.5], default=0.1
        Fraction of the training points ``predict`` calls outliers.
    n_jobs : int or None, default=None
        Passed to :class:`~sklearn.neighbors.NearestNeighbors`.

    Attributes
    ----------
    neighbors_ : list of NearestNeighbors
        The training points in each space the distances are taken in.
    scales_ : list of float
        What each space's distance is divided by (1.0 without a second
        distance).
    pca_ : PCA or None
        The principal components of the second distance.
    offset_ : float
        ``decision_function`` is ``score_samples - offset_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> detector = KNNDistance(n_neighbors=1).fit(np.zeros((3, 2)))
    >>> detector.score_samples([[3.0, 4.0]])
    array([-5.])
    >>> detector.predict([[0.0, 0.0], [3.0, 4.0]])
    array([ 1, -1])
    >>> smooth = KNNDistance(n_neighbors=1, derivative_weight=1.0)
    >>> smooth.fit(np.zeros((3, 2))).score_samples([[3.0, 4.0]])
    array([-5.0990...])
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "derivative_weight": [Interval(Real, 0, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_neighbors=5,
        derivative_weight=0.0,
        n_components=None,
        contamination=0.1,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.derivative_weight = derivative_weight
        self.n_components = n_components
        self.contamination = contamination
        self.n_jobs = n_jobs

    def _spaces(self, X):
        """The points in each space the distances are taken in."""
        spaces = [X]
        if self.derivative_weight and X.shape[1] > 1:
            spaces[0] = np.hstack([X, self.derivative_weight * np.diff(X, axis=1)])
        if self.pca_ is not None:
            spaces.append(self.pca_.transform(X))
        return spaces

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the training points (and their principal components).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training points.
        y : None
            Ignored.

        Returns
        -------
        self : KNNDistance
        """
        X = validate_data(self, X, dtype=np.float64)
        n = X.shape[0]
        k = min(self.n_neighbors, n)
        self.pca_ = None
        if self.n_components is not None and n > 1:
            components = min(self.n_components, n, X.shape[1])
            self.pca_ = PCA(components, svd_solver="full").fit(X)
        self.neighbors_, self.scales_ = [], []
        for points in self._spaces(X):
            neighbors = NearestNeighbors(n_neighbors=k, n_jobs=self.n_jobs)
            self.neighbors_.append(neighbors.fit(points))
            scale = 1.0
            if self.pca_ is not None and n > 1:
                # Median distance of the training points, each left out.
                distances, _ = neighbors.kneighbors(points, n_neighbors=min(k + 1, n))
                scale = float(np.median(distances[:, 1:].mean(axis=1))) or 1.0
            self.scales_.append(scale)
        self.offset_ = float(np.percentile(self._scores(X), 100 * self.contamination))
        return self

    def _scores(self, X):
        distances = [
            neighbors.kneighbors(points)[0].mean(axis=1) / scale
            for neighbors, points, scale in zip(
                self.neighbors_, self._spaces(X), self.scales_, strict=True
            )
        ]
        return -np.max(distances, axis=0)

    def score_samples(self, X):
        """Minus the (largest scaled) mean distance to the nearest training points.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is more normal.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._scores(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """-1 for outliers (scores below ``offset_``), +1 for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)


def conformal_threshold(scores, false_alarm):
    """Outlyingness threshold with at most ``false_alarm`` false alarms.

    With ``n`` calibration scores of in-distribution points, a new
    in-distribution point's score exceeds the ``k``-th smallest, ``k =
    ceil((n + 1)(1 - false_alarm))``, with probability at most
    ``false_alarm`` (exchangeability). When ``k > n`` no finite threshold
    guarantees it; the largest score is returned with ``exact=False``.

    Returns
    -------
    threshold : float
    exact : bool
        Whether the guarantee holds.

    Examples
    --------
    >>> conformal_threshold(np.arange(1.0, 100.0), 0.1)
    (np.float64(90.0), True)
    """
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    n = scores.size
    k = math.ceil((n + 1) * (1 - false_alarm))
    if k > n:
        return scores[-1], False
    return scores[k - 1], True


def echo_top_offset(series, times, echo_time, spacing, start=None):
    """How far an echo's top lies from the echo time, weighted by its clarity.

    An echo recorded with another ``tau`` peaks at another time; inside the
    echo window it may show only the baseline, which many simulations share,
    so the window's features alone cannot tell it. This score looks at the
    span from a third of the way after the refocusing pulse to as far after
    the echo as the pulse is before it, ``[echo_time - 2 spacing / 3,
    echo_time + spacing)``: its top is the largest magnitude, and the score is
    the top's robust z-score over the span, ``(top - median) / (1.4826
    MAD)``, times its distance from the echo time in units of ``spacing``.
    A clear echo where the model expects it and a series without a clear top
    (no echo, or noise) both score low; a clear echo elsewhere scores high.
    NaN samples (not recorded) are left out. ``start`` moves the span's
    start earlier, to see echoes (or free-induction decays) that come before
    it, such as those of a sequence with shorter pulse spacings.

    Parameters
    ----------
    series : array-like of shape (n_echoes, n_times)
        Magnitudes (complex values are taken in magnitude).
    times : array-like of shape (n_times,)
        Sample times (or sample indices, with ``echo_time`` and ``spacing`` in
        the same unit).
    echo_time : float
        When the model's echo peaks (``2 tau`` for a Hahn echo).
    spacing : float
        Time from the pulse before the echo to the echo (``tau``).
    start : float or None, default=None
        Start of the span; None: ``echo_time - 2 spacing / 3``. The span ends
        at ``echo_time + spacing`` either way.

    Returns
    -------
    scores : ndarray of shape (n_echoes,)

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(300.0)
    >>> rng = np.random.default_rng(0)
    >>> baseline = 0.01 * rng.random((3, 300))
    >>> there, elsewhere = baseline.copy(), baseline.copy()
    >>> there[0, 200], elsewhere[0, 160] = 1.0, 1.0
    >>> scores = [echo_top_offset(s, t, 200.0, 100.0)[0]
    ...           for s in (there, elsewhere, baseline)]
    >>> bool(scores[0] == 0 and scores[1] > 50 > scores[2])
    True
    """
    series = np.abs(np.asarray(series))
    times = np.asarray(times, dtype=np.float64)
    tol = 1e-9 * max(abs(spacing), 1.0)
    if start is None:
        start = echo_time - 2 * spacing / 3
    span = (times >= start - tol) & (times < echo_time + spacing - tol)
    part = series[:, span].astype(np.float64)
    if np.isnan(part).all(axis=1).any():
        raise ValueError("An echo has no recorded sample around its echo time.")
    top_index = np.nanargmax(part, axis=1)
    median = np.nanmedian(part, axis=1)
    mad = 1.4826 * np.nanmedian(np.abs(part - median[:, None]), axis=1)
    height = np.nanmax(part, axis=1) - median
    z = np.divide(height, mad, out=np.zeros_like(height), where=mad > 0)
    z[(mad == 0) & (height > 0)] = np.inf
    offset = np.abs(times[span][top_index] - echo_time) / spacing
    return np.where(offset > 0, z, 0.0) * offset  # a top at the echo time: 0


def ood_advice(reason):
    """What to check first about an echo flagged out of distribution.

    Parameters
    ----------
    reason : str
        One check's name (a key of :data:`OOD_ADVICE`) or an ``ood_reason``
        cell of :meth:`EchoInference.predict`'s table, which names every
        check that flagged the echo (separated by ``"; "``; empty when none
        did).

    Returns
    -------
    advice : str
        The hint of each check named, one line each; empty for an empty
        ``reason``.

    Examples
    --------
    >>> from sknmr.inference import ood_advice
    >>> print(ood_advice("distance"))
    distance: The echo is far from every training echo. Check the time reference ...
    >>> ood_advice("")
    ''
    """
    if not isinstance(reason, str):
        raise TypeError(
            f"reason must be a str (an ood_reason cell); got {type(reason).__name__}."
        )
    names = [name for name in reason.split(_SEPARATOR.strip()) if name.strip()]
    lines = []
    for name in (name.strip() for name in names):
        if name not in OOD_ADVICE:
            raise ValueError(
                f"reason must name the checks {list(OOD_ADVICE)} (separated by "
                f"{_SEPARATOR!r}); got {name!r}."
            )
        lines.append(f"{name}: {OOD_ADVICE[name]}")
    return "\n".join(lines)


class _OutOfDistribution:
    """EchoInference's out-of-distribution checks: fitted, thresholded, read."""

    def _make_detector(self):
        if self.ood_detector is not None:
            return clone(self.ood_detector)
        # Values and slopes of the default features (time series); only the
        # values for a featurizer whose columns need not be ordered in time.
        weight = 1.0 if self.featurizer is None else 0.0
        return KNNDistance(n_neighbors=5, derivative_weight=weight, n_jobs=self.n_jobs)

    def _outlyingness(self, F):
        return -np.asarray(self.ood_detector_.score_samples(F), dtype=np.float64)

    def _echo_top_scores(self, X):
        """Echo-top offsets of the series over each span, shape (n_echoes, 2)
        (NaN samples left out); None if unchecked."""
        if not self.ood_echo_top or self.window_ is None:
            return None
        experiment = self.experiment_
        if experiment is not None:
            echo_time, third = experiment.echo_window
            times = self.times_
        else:  # samples of a simulator's grid: 2 n_tau +- n_tau/3
            n_tau = self.n_features_in_ // 3
            echo_time, third = 2.0 * n_tau, n_tau / 3
            times = np.arange(self.n_features_in_)
        spacing = 3 * third
        return np.column_stack(
            [
                echo_top_offset(X, times, echo_time, spacing, echo_time - f * spacing)
                for f in _ECHO_TOP_STARTS
            ]
        )

    def _fit_ood(self, F_train, F_cal, X_cal, seed):
        """Fit the detector on the training features; set each check's
        threshold on the held-out echoes (``X_cal`` as recorded)."""
        self.ood_detector_ = self._seeded(self._make_detector(), seed).fit(F_train)
        echo_top = self._echo_top_scores(X_cal)
        # The checks share the rate: at most the rate flagged by any.
        share = 1.0 if echo_top is None else _OOD_SHARES[0]
        self.ood_threshold_, self.ood_reference_ = _ood_threshold(
            self._outlyingness(F_cal),
            share * self.ood_false_alarm,
            self.ood_false_alarm,
        )
        self.echo_top_threshold_ = self.echo_top_reference_ = None
        if echo_top is not None:
            thresholds = [
                _ood_threshold(
                    scores,
                    rate * self.ood_false_alarm,
                    self.ood_false_alarm,
                    warn=False,
                )
                for scores, rate in zip(echo_top.T, _OOD_SHARES[1:], strict=True)
            ]
            self.echo_top_threshold_, self.echo_top_reference_ = map(
                np.array, zip(*thresholds, strict=True)
            )

    def _ood_columns(self, F, recorded):
        """The table's ``ood_score``, ``ood`` and ``ood_reason`` columns."""
        distance = _rescaled(
            self._outlyingness(F), self.ood_threshold_, self.ood_reference_
        )
        score, checks = distance, [(_DISTANCE, distance)]
        if getattr(self, "echo_top_threshold_", None) is not None:
            echo_top = _rescaled(
                self._echo_top_scores(recorded),
                self.echo_top_threshold_,
                self.echo_top_reference_,
            )
            score = np.maximum(score, echo_top.max(axis=1))
            # early span first: the checks in the order of time
            checks += [(_SPANS[1], echo_top[:, 1]), (_SPANS[0], echo_top[:, 0])]
        flagged = score > 1
        fired = np.column_stack([scores > 1 for _, scores in checks])
        names = [name for name, _ in checks]
        reason = np.array(
            [
                _SEPARATOR.join(n for n, f in zip(names, row, strict=True) if f)
                if ood
                else ""
                for row, ood in zip(fired, flagged, strict=True)
            ],
            dtype=object,
        )
        return {"ood_score": score, "ood": flagged, "ood_reason": reason}


def _rescaled(scores, threshold, reference):
    """Scores with the median calibration echo at 0 and the threshold at 1."""
    return (scores - reference) / (threshold - reference)


def _ood_threshold(scores, rate, false_alarm, warn=True):
    """Conformal threshold of calibration scores at ``rate``, and their median.

    The threshold is kept above the median so that the rescaled score
    ``(s - median) / (threshold - median)`` is defined.
    """
    threshold, exact = conformal_threshold(scores, rate)
    if not exact and warn:
        warnings.warn(
            f"{len(scores)} calibration echoes cannot guarantee an OOD false-"
            f"alarm rate of {false_alarm:g} (that needs "
            f"{math.ceil(1 / rate) - 1}); the threshold is their largest score.",
            UserWarning,
            stacklevel=5,  # the caller of fit
        )
    reference = float(np.median(scores))
    if not threshold > reference:
        threshold = reference + max(abs(reference), 1.0) * 1e-12
    return float(threshold), reference
