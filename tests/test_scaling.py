"""Tests of sknmr.scaling.curve_scaler (per-curve min-max scaling)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer, minmax_scale

from sknmr.scaling import curve_scaler


def test_is_a_function_transformer_of_rows():
    scaler = curve_scaler()
    assert isinstance(scaler, FunctionTransformer)
    X = np.array([[0.5, 0.3, 0.1], [0.2, 0.4, 0.3], [1.0, 1.0, 1.0]])
    out = scaler.fit_transform(X)
    np.testing.assert_allclose(out[:2], minmax_scale(X[:2], axis=1))
    np.testing.assert_array_equal(out[2], 0.0)  # a constant curve: zeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_lies_in_unit_interval_exactly(dtype):
    # Random float32 rows overshoot 1 under minmax_scale alone (e.g. the row
    # [0.1, 0.9] gives 1.0000001); the scaler's output never leaves [0, 1].
    rng = np.random.default_rng(0)
    X = np.vstack(
        [
            rng.uniform(0.1, 1.0, size=(300, 40)),
            rng.uniform(-5.0, 3.0, size=(300, 40)),
            [[0.1, 0.9] * 20],
        ]
    ).astype(dtype)
    out = curve_scaler().fit_transform(X)
    assert out.dtype == dtype
    assert out.min() == 0 and out.max() == 1
    assert np.all((out >= 0) & (out <= 1))
    # Clipping only undoes rounding: within a unit in the last place.
    reference = minmax_scale(X, axis=1)
    np.testing.assert_allclose(out, reference, rtol=0, atol=np.finfo(dtype).eps)
    # Every row still spans [0, 1] (its maximum to rounding).
    np.testing.assert_array_equal(out.min(axis=1), 0)
    assert np.all(out.max(axis=1) >= 1 - np.finfo(dtype).eps)


def test_the_float32_overshoot_is_clipped():
    X = np.array([[0.1, 0.9]], dtype=np.float32)
    assert minmax_scale(X, axis=1).max() > 1  # the rounding the scaler undoes
    out = curve_scaler().fit_transform(X)
    np.testing.assert_array_equal(out, np.array([[0, 1]], dtype=np.float32))


def test_feature_names_set_output_clone_and_pickle():
    frame = pd.DataFrame([[2.0, 4.0, 3.0]], columns=["a", "b", "c"])
    scaler = curve_scaler().set_output(transform="pandas").fit(frame)
    out = scaler.transform(frame)
    assert list(out.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(out.to_numpy(), [[0.0, 1.0, 0.5]])
    again = pickle.loads(pickle.dumps(clone(scaler).fit(frame)))
    pd.testing.assert_frame_equal(again.transform(frame), out)


def test_rejects_nan_with_sklearn_message():
    with pytest.raises(ValueError, match="NaN"):
        curve_scaler().fit_transform(np.array([[0.0, np.nan, 1.0]]))
