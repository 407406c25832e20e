"""Per-curve scaling to [0, 1], as the paper does before learning.

The paper (Rao et al. 2023, section II.B) normalises "each echo in the
dataset ... such that each time series only contains values between (0, 1)":
a min-max scaling of every *row*, not of every column as
:class:`sklearn.preprocessing.MinMaxScaler` does. scikit-learn expresses it
with its own tools, so sknmr adds no class for it: :func:`curve_scaler`
returns a :class:`~sklearn.preprocessing.FunctionTransformer` of
``minmax_scale(X, axis=1)``.

One detail is sknmr's own: the result is clipped to [0, 1].
``minmax_scale`` computes ``X * scale + offset``, whose rounding can land a
curve's maximum one unit in the last place above 1 (``1.0000001`` in float32,
e.g. for the row ``[0.1, 0.9]``), which :class:`~sknmr.BetaVAE`'s Bernoulli
likelihood refuses. Clipping moves such values by at most that rounding, so
the output lies in [0, 1] exactly, in float32 as in float64 (the input's
dtype is kept).

The transformer is stateless (each curve is scaled on its own, so it cannot
leak information between training and test series), keeps the input's
feature names, works with ``set_output``, and with ``validate=True`` rejects
NaN, inf and ragged input with scikit-learn's usual messages. A constant
curve becomes all zeros.

Whether to scale the full series before windowing it or the window itself is
a modelling choice; ``make_pipeline(EchoWindow(), curve_scaler())`` scales
the area of interest to [0, 1].
"""

import numpy as np
from sklearn.preprocessing import FunctionTransformer, minmax_scale

__all__ = ["curve_scaler"]


def _minmax_scale_curves(X):
    """``minmax_scale(X, axis=1)``, clipped to [0, 1] to undo its rounding."""
    scaled = minmax_scale(X, axis=1)
    return np.clip(scaled, 0, 1, out=scaled)


def curve_scaler():
    """A transformer that scales every curve (row) to [0, 1].

    Each row is min-max scaled on its own (``minmax_scale(X, axis=1)``) and
    clipped to [0, 1], so that rounding never puts a value outside it: the
    output can go straight into :class:`~sknmr.BetaVAE`, in float32 as in
    float64.

    Returns
    -------
    scaler : sklearn.preprocessing.FunctionTransformer
        A stateless transformer with ``feature_names_out="one-to-one"`` and
        ``validate=True``; it keeps the input's float dtype.

    See Also
    --------
    sklearn.preprocessing.minmax_scale : The scaling, here along ``axis=1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.scaling import curve_scaler
    >>> X = np.array([[0.5, 0.3, 0.1], [0.2, 0.4, 0.3]])
    >>> curve_scaler().fit_transform(X)
    array([[1. , 0.5, 0. ],
           [0. , 1. , 0.5]])

    In float32, ``minmax_scale`` alone can overshoot 1 by rounding; the
    scaler's output does not:

    >>> from sklearn.preprocessing import minmax_scale
    >>> X32 = np.array([[0.1, 0.9]], dtype=np.float32)
    >>> float(minmax_scale(X32, axis=1).max()) > 1
    True
    >>> curve_scaler().fit_transform(X32)
    array([[0., 1.]], dtype=float32)
    """
    return FunctionTransformer(
        _minmax_scale_curves,
        feature_names_out="one-to-one",
        validate=True,
    )
