"""PolynomialSectionFeaturizer: exact coefficients, layout, names, spans, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer
from sknmr.polynomial import section_edges

DT = EchoSimulator().dt


def _piecewise(coefs, times, edges):
    """Series equal to sum_k coefs[s, k] (t - t_c)^k in each section s."""
    y = np.empty(len(times))
    for s, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        x = times[a:b] - (times[a] + times[b - 1]) / 2
        y[a:b] = np.polynomial.polynomial.polyval(x, coefs[s])
    return y


@pytest.mark.parametrize("n_sections", [1, 3, 4, 5, 10])
@pytest.mark.parametrize("n_features", [419, 400])
def test_recovers_piecewise_cubic_coefficients(n_sections, n_features):
    rng = np.random.default_rng(n_sections)
    times = np.arange(n_features) * DT
    edges = section_edges(n_features, n_sections)
    coefs = rng.normal(size=(3, n_sections, 4)) * [1.0, 0.1, 0.01, 0.001]
    X = np.vstack([_piecewise(c, times, edges) for c in coefs])
    features = PolynomialSectionFeaturizer(sections=(n_sections,)).fit_transform(X)
    np.testing.assert_allclose(features, coefs.reshape(3, -1), rtol=1e-8, atol=1e-12)


def test_recovers_a_global_cubic_as_local_taylor_coefficients():
    """A cubic p(t) has, about each centre t_c, c = (p, p', p''/2, p'''/6)(t_c)."""
    p = np.polynomial.Polynomial([0.4, -0.02, 3e-4, -2e-6])
    times = 160.0 + np.arange(419) * DT
    poly = PolynomialSectionFeaturizer(times=times).fit(p(times)[None])
    features = poly.transform(p(times)[None])[0]
    centers = poly.features_["center"].to_numpy()
    powers = poly.features_["power"].to_numpy()
    expected = np.choose(
        powers,
        [
            p(centers),
            p.deriv(1)(centers),
            p.deriv(2)(centers) / 2,
            p.deriv(3)(centers) / 6,
        ],
    )
    np.testing.assert_allclose(features, expected, rtol=1e-7, atol=1e-12)


def test_non_uniform_times_exact():
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.uniform(0.5, 1.5, size=60))
    edges = section_edges(60, 4)
    coefs = rng.normal(size=(4, 3))
    X = _piecewise(coefs, times, edges)[None]
    features = PolynomialSectionFeaturizer(
        sections=(4,), degree=2, times=times
    ).fit_transform(X)
    np.testing.assert_allclose(features[0], coefs.ravel(), rtol=1e-9, atol=1e-12)


def test_matches_a_polyfit_loop_on_noise():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(5, 103))
    poly = PolynomialSectionFeaturizer(sections=(4, 5), dt=0.5).fit(X)
    features = poly.transform(X)
    times = np.arange(103) * 0.5
    expected = []
    for row in X:
        coefs = []
        for n in (4, 5):
            for t, y in zip(
                np.array_split(times, n), np.array_split(row, n), strict=True
            ):
                fit = np.polynomial.polynomial.polyfit(t - (t[0] + t[-1]) / 2, y, 3)
                coefs.extend(fit)
        expected.append(coefs)
    np.testing.assert_allclose(features, expected, rtol=1e-8, atol=1e-10)


def test_default_layout_names_and_spans():
    X = np.random.default_rng(3).uniform(size=(2, 419))
    poly = PolynomialSectionFeaturizer().fit(X)
    names = poly.get_feature_names_out()
    assert len(names) == 76 == poly.transform(X).shape[1]
    assert (
        names[0] == "n4_s0_c0" and names[5] == "n4_s1_c1" and names[-1] == "n10_s9_c3"
    )
    assert poly.feature_spans_.shape == (76, 2)
    table = poly.features_
    assert (table["n_sections"].value_counts().sort_index() == [16, 20, 40]).all()
    # Sections are those of np.array_split, one sample longer first.
    for n in (4, 5, 10):
        sizes = table.query("n_sections == @n and power == 0").eval(
            "stop_index - start_index"
        )
        assert sizes.tolist() == [len(a) for a in np.array_split(np.arange(419), n)]
    times = np.arange(419) * DT
    np.testing.assert_allclose(
        poly.feature_spans_,
        times[np.column_stack([table["start_index"], table["stop_index"] - 1])],
    )
    np.testing.assert_allclose(table["center"], poly.feature_spans_.mean(axis=1))
    assert poly.feature_spans_[0, 0] == 0 and poly.feature_spans_[-1, 1] == times[-1]


def test_section_edges():
    np.testing.assert_array_equal(section_edges(10, 3), [0, 4, 7, 10])
    np.testing.assert_array_equal(section_edges(12, 4), [0, 3, 6, 9, 12])


def test_float32_is_preserved():
    X = np.random.default_rng(4).uniform(size=(3, 50))
    poly = PolynomialSectionFeaturizer(sections=(2, 5), dt=1.0).fit(X)
    out32 = poly.transform(X.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, poly.transform(X), rtol=1e-3, atol=1e-4)


def test_spans_follow_the_window_with_pandas_output():
    sim = EchoSimulator()
    frame = pd.DataFrame(
        np.random.default_rng(5).uniform(size=(2, sim.n_times)),
        columns=sim.get_feature_names_out(),
    )
    pipe = make_pipeline(EchoWindow(), PolynomialSectionFeaturizer()).set_output(
        transform="pandas"
    )
    out = pipe.fit_transform(frame)
    window, poly = pipe[0], pipe[1]
    assert list(out.columns) == list(poly.get_feature_names_out())
    # Spans are absolute times (names carry 3 decimals).
    np.testing.assert_allclose(poly.feature_spans_[0, 0], window.times_[0], atol=1e-3)
    np.testing.assert_allclose(poly.feature_spans_[-1, 1], window.times_[-1], atol=1e-3)
    # The coefficients do not depend on the output container.
    plain = make_pipeline(EchoWindow(), PolynomialSectionFeaturizer()).fit_transform(
        frame.to_numpy()
    )
    np.testing.assert_array_equal(out.to_numpy(), plain)


@pytest.mark.parametrize(
    "params, n_features, match",
    [
        ({}, 39, "degree=3 needs at least 4 samples per section"),  # too short
        ({"sections": (4,), "degree": 10}, 40, "degree=10"),  # degree >= length
        ({"sections": (50,)}, 40, "n_features=40"),
        ({"sections": (0, 4)}, 100, "sections"),
        ({"sections": (4, 4)}, 100, "distinct"),
        ({"sections": (2.5,)}, 100, "sections"),
        ({"sections": ()}, 100, "sections"),
        ({"sections": 4}, 100, "sections"),
        ({"degree": -1}, 100, "degree"),
        ({"degree": 1.5}, 100, "degree"),
        ({"dt": -0.1}, 100, "dt"),
        ({"dt": 1.0, "times": np.arange(100.0)}, 100, "either dt or times"),
        ({"times": np.arange(99.0)}, 100, "times"),
        ({"times": np.arange(100.0)[::-1]}, 100, "increasing"),
    ],
)
def test_bad_input(params, n_features, match):
    with pytest.raises(ValueError, match=match):
        PolynomialSectionFeaturizer(**params).fit(np.zeros((2, n_features)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(bad):
    X = np.zeros((2, 100))
    X[0, 3] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        PolynomialSectionFeaturizer().fit(X)
    poly = PolynomialSectionFeaturizer().fit(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="NaN|infinity"):
        poly.transform(X)


def test_transform_checks_the_length():
    poly = PolynomialSectionFeaturizer().fit(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="100 features"):
        poly.transform(np.zeros((2, 120)))
