"""The free-induction decay as features of a model that learns the linewidth.

After the first pulse the spins dephase at a rate set by their offsets'
spread: the free-induction decay (FID) falls within about ``1 / (pi
linewidth)`` (2 to 16 us for linewidths of 0.2 to 0.02 MHz), while the echo
refocuses that spread and shows it only in its shape. A model with
``"linewidth"`` among its targets therefore also reads the FID over
``fid_span`` (after the receiver's dead time), each series relative to its
first sample there, so that the features do not depend on the signal's scale.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.utils.validation import check_array, check_is_fitted

# The FID span of fid_span="auto" (us after the first pulse), cut at the next
# pulse: from past a short dead time to about four decay times of the
# narrowest line.
AUTO_FID_SPAN = (2.0, 60.0)

# Every other sample of the span: its decay varies over microseconds, a few
# samples (dt = 0.16 us on the default grid) apart.
_FID_STEP = 2


class FreeDecayFeatures(TransformerMixin, BaseEstimator):
    """The FID's samples relative to its first, from the detected series.

    Parameters
    ----------
    columns : sequence of int
        The FID's samples (indices into the ``n_times`` samples of an echo),
        the first being the reference.
    n_times : int
        Samples per echo: the detected series hold one channel of them
        (magnitude) or two (the real, then the imaginary quadrature), whose
        magnitude is taken.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.inference._features import FreeDecayFeatures
    >>> D = np.array([[0.5, 0.4, 0.2, 0.1, 1.0]])
    >>> FreeDecayFeatures(columns=[1, 2, 3], n_times=5).fit_transform(D)
    array([[1.  , 0.5 , 0.25]])
    """

    def __init__(self, columns=(), n_times=1):
        self.columns = columns
        self.n_times = n_times

    def fit(self, X, y=None):
        X = check_array(X, dtype=np.float64)
        columns = np.asarray(self.columns, dtype=np.intp)
        if columns.ndim != 1 or columns.size == 0:
            raise ValueError(f"columns must name FID samples; got {self.columns!r}.")
        if X.shape[1] not in (self.n_times, 2 * self.n_times):
            raise ValueError(
                f"X has {X.shape[1]} columns; expected n_times={self.n_times} "
                "(magnitude) or twice that (quadratures)."
            )
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} columns; this transformer was fitted on "
                f"{self.n_features_in_}."
            )
        columns = np.asarray(self.columns, dtype=np.intp)
        decay = X[:, columns]
        if X.shape[1] == 2 * self.n_times:
            decay = np.hypot(decay, X[:, columns + self.n_times])
        else:
            decay = np.abs(decay)
        first = decay[:, :1]
        # An FID that is zero where it starts carries no decay: all zeros.
        return np.divide(decay, first, out=np.zeros_like(decay), where=first > 0)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray([f"fid{k}" for k in range(len(self.columns))], dtype=object)


def check_fid_span(fid_span):
    """``fid_span`` as None, ``"auto"`` or a pair of floats ``0 <= start < stop``."""
    if fid_span is None or (isinstance(fid_span, str) and fid_span == "auto"):
        return fid_span
    try:
        start, stop = fid_span
        ok = all(isinstance(v, Real) and np.isfinite(v) for v in (start, stop))
    except (TypeError, ValueError):
        ok = False
    if not ok or not 0 <= start < stop:
        raise ValueError(
            "fid_span must be 'auto', None or (start, stop), times (us) after the "
            f"first pulse with 0 <= start < stop; got {fid_span!r}."
        )
    return float(start), float(stop)


def fid_columns(span, times, pulse_times):
    """The grid samples of the FID over ``span`` (us after the first pulse),
    cut before the second pulse; every ``_FID_STEP``-th one."""
    start, stop = span
    first = pulse_times[0] if len(pulse_times) else 0.0
    end = first + stop
    if len(pulse_times) > 1:
        end = min(end, pulse_times[1])
    tol = 1e-6 * (times[1] - times[0]) if len(times) > 1 else 0.0
    keep = np.flatnonzero((times >= first + start - tol) & (times < end - tol))
    return keep[::_FID_STEP]


def with_fid(featurizer, columns, n_times, n_channels):
    """The window ``featurizer`` and the FID's features side by side, from
    detected series of ``n_channels`` channels of ``n_times`` samples."""
    every = slice(0, n_channels * n_times)
    return ColumnTransformer(
        [
            ("echo", featurizer, every),
            (
                "fid",
                FreeDecayFeatures(columns=_ints(columns), n_times=n_times),
                every,
            ),
        ]
    )


def _ints(columns):
    # plain ints: what a saved model's parameters may hold
    return tuple(int(c) for c in columns)
