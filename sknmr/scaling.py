"""Per-curve scaling to [0, 1], as the paper does before learning.

The paper (Rao et al. 2023, section II.B) normalises "each echo in the
dataset ... such that each time series only contains values between (0, 1)":
a min-max scaling of every *row*, not of every column as
:class:`sklearn.preprocessing.MinMaxScaler` does. scikit-learn expresses it
exactly with its own tools, so sknmr adds no class for it::

    FunctionTransformer(minmax_scale, kw_args={"axis": 1},
                        feature_names_out="one-to-one", validate=True)

:func:`curve_scaler` returns that transformer. It is stateless (each curve is
scaled on its own, so it cannot leak information between training and test
series), keeps the input's feature names, works with ``set_output``, and with
``validate=True`` rejects NaN, inf and ragged input with scikit-learn's usual
messages. A constant curve becomes all zeros.

Whether to scale the full series before windowing it or the window itself is
a modelling choice; ``make_pipeline(EchoWindow(), curve_scaler())`` scales
the area of interest to [0, 1].
"""

from sklearn.preprocessing import FunctionTransformer, minmax_scale

__all__ = ["curve_scaler"]


def curve_scaler():
    """A transformer that scales every curve (row) to [0, 1].

    Returns
    -------
    scaler : sklearn.preprocessing.FunctionTransformer
        ``FunctionTransformer(minmax_scale, kw_args={"axis": 1},
        feature_names_out="one-to-one", validate=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.scaling import curve_scaler
    >>> X = np.array([[0.5, 0.3, 0.1], [0.2, 0.4, 0.3]])
    >>> curve_scaler().fit_transform(X)
    array([[1. , 0.5, 0. ],
           [0. , 1. , 0.5]])
    """
    return FunctionTransformer(
        minmax_scale,
        kw_args={"axis": 1},
        feature_names_out="one-to-one",
        validate=True,
    )
