"""Tests of the display objects in sknmr.plotting (Agg backend, tiny data)."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer  # noqa: E402
from sknmr.datasets import make_echoes  # noqa: E402
from sknmr.plotting import (  # noqa: E402
    EchoDisplay,
    FeatureImportanceDisplay,
    LatentSpaceDisplay,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def echoes():
    t = np.linspace(0.0, 300.0, 120)
    w = np.linspace(0.1, 0.3, 7)
    curves = 0.5 * np.exp(-np.outer(w, np.abs(t - 200.0)) / 20.0)
    return t, w, curves


def _span(patch):
    """Time span of an axvspan (a Rectangle since matplotlib 3.9, else a Polygon)."""
    if hasattr(patch, "get_width"):
        return patch.get_x(), patch.get_x() + patch.get_width()
    xs = np.asarray(patch.get_xy())[:, 0]
    return xs.min(), xs.max()


# -- EchoDisplay --------------------------------------------------------------
def test_echo_display_numeric_colouring(echoes):
    t, w, curves = echoes
    display = EchoDisplay(curves, t, c=w, c_label="W (MHz)", area=(167, 233))
    assert display.plot() is display
    assert display.figure_ is display.ax_.figure
    segments = display.lines_.get_segments()
    assert len(segments) == len(curves)
    np.testing.assert_allclose(segments[3][:, 0], t)
    np.testing.assert_allclose(segments[3][:, 1], curves[3])
    np.testing.assert_allclose(display.lines_.get_array(), w)
    assert display.colorbar_.ax.get_ylabel() == "W (MHz)"
    assert display.ax_.get_xlabel() == "t (us)"
    # The shaded area spans the requested times.
    assert _span(display.area_) == pytest.approx((167, 233))


def test_echo_display_categorical_and_given_axes(echoes):
    t, _, curves = echoes
    kinds = np.array(
        ["power", "gaussian", "rkky", "power", "gaussian", "rkky", "power"]
    )
    fig, ax = plt.subplots()
    display = EchoDisplay(curves, t, c=kinds, c_label="kernel").plot(ax=ax)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.colorbar_ is None
    labels = [text.get_text() for text in display.legend_.get_texts()]
    assert labels == ["gaussian", "power", "rkky"]
    colours = display.lines_.get_colors()
    # Same kernel, same colour; different kernels, different colours.
    assert np.allclose(colours[0], colours[3])
    assert not np.allclose(colours[0], colours[1])


def test_echo_display_without_times_or_colour(echoes):
    _, _, curves = echoes
    display = EchoDisplay(curves).plot()
    assert display.ax_.get_xlabel() == "sample"
    assert display.colorbar_ is None and display.legend_ is None
    assert display.area_ is None


def test_echo_display_area_from_window():
    sim = EchoSimulator(lattice_size=8, tau=6.0, random_state=0)
    X = np.zeros((2, sim.n_times))
    window = EchoWindow.for_simulator(sim).fit(X)
    display = EchoDisplay(X, sim.times, area=window).plot()
    np.testing.assert_allclose(_span(display.area_), window.times_[[0, -1]])


def test_echo_display_max_curves_is_seeded(echoes):
    t, w, curves = echoes
    first = EchoDisplay(curves, t, c=w).plot(max_curves=3, random_state=1)
    again = EchoDisplay(curves, t, c=w).plot(max_curves=3, random_state=1)
    assert len(first.lines_.get_segments()) == 3
    np.testing.assert_array_equal(first.lines_.get_array(), again.lines_.get_array())


@pytest.mark.parametrize(
    "kwargs, plot_kwargs, match",
    [
        ({"c": [1.0, 2.0]}, {}, "one value per item"),
        ({"times": np.arange(5)}, {}, "one time per sample"),
        ({"area": (233, 167)}, {}, "start < stop"),
        ({"area": "window"}, {}, "area must be None"),
        ({}, {"max_curves": 0}, "max_curves"),
        ({"c": ["a"] * 7, "categorical": False}, {}, "numeric c"),
    ],
)
def test_echo_display_errors(echoes, kwargs, plot_kwargs, match):
    t, _, curves = echoes
    kwargs = {"times": t, **kwargs}
    with pytest.raises(ValueError, match=match):
        EchoDisplay(curves, **kwargs).plot(**plot_kwargs)


def test_echo_display_from_dataset():
    data = make_echoes(
        2, simulator=EchoSimulator(lattice_size=8, tau=3.0), random_state=0
    )
    display = EchoDisplay.from_dataset(data, c="W")
    np.testing.assert_allclose(display.lines_.get_array(), data.target["W"])
    assert display.colorbar_.ax.get_ylabel() == "W (MHz)"
    display = EchoDisplay.from_dataset(data, c="kernel")
    assert len(display.legend_.get_texts()) == 3
    with pytest.raises(ValueError, match="not a column"):
        EchoDisplay.from_dataset(data, c="nope")


def test_echo_display_from_traversal():
    from sknmr import BetaVAE

    rng = np.random.default_rng(0)
    X = np.exp(-np.outer(rng.uniform(1, 5, 40), np.linspace(0, 1, 12)))
    vae = BetaVAE(hidden_sizes=(4,), max_epochs=1, random_state=0).fit(X)
    display = EchoDisplay.from_traversal(
        vae, axis=1, values=[-1.0, 0.0, 1.0], times=np.arange(12) * 0.5
    )
    segments = display.lines_.get_segments()
    assert len(segments) == 3
    np.testing.assert_allclose(
        segments[2][:, 1], vae.latent_traversal(axis=1, values=[1.0])[0], rtol=1e-6
    )
    assert display.colorbar_.ax.get_ylabel() == "LA2"


# -- LatentSpaceDisplay ---------------------------------------------------------
def test_latent_space_from_estimator_pca():
    X = np.random.default_rng(0).random((25, 6))
    pca = PCA(3).fit(X)
    display = LatentSpaceDisplay.from_estimator(
        pca, X, c=X[:, 0], c_label="x0", components=(0, 2)
    )
    np.testing.assert_allclose(
        display.scatter_.get_offsets(), pca.transform(X)[:, [0, 2]]
    )
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("pca0", "pca2")
    assert display.colorbar_.ax.get_ylabel() == "x0"
    with pytest.raises(ValueError, match="components"):
        LatentSpaceDisplay.from_estimator(pca, X, components=(0, 3))


def test_latent_space_categorical_and_labels():
    Z = np.random.default_rng(1).random((6, 2))
    fig, ax = plt.subplots()
    display = LatentSpaceDisplay(Z, c=[True, False] * 3, c_label="power").plot(ax=ax)
    assert display.ax_ is ax
    assert [t.get_text() for t in display.legend_.get_texts()] == ["False", "True"]
    assert display.legend_.get_title().get_text() == "power"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("LA1", "LA2")
    plain = LatentSpaceDisplay(Z, axis_labels=("PC1", "PC2")).plot()
    assert plain.colorbar_ is None and plain.legend_ is None
    assert plain.ax_.get_xlabel() == "PC1"


def test_latent_space_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="2 columns"):
        LatentSpaceDisplay(np.zeros((4, 3))).plot()
    with pytest.raises(ValueError, match="one value per item"):
        LatentSpaceDisplay(np.zeros((4, 2)), c=[1, 2]).plot()


# -- FeatureImportanceDisplay ------------------------------------------------------
@pytest.fixture(scope="module")
def classified():
    rng = np.random.default_rng(0)
    t = np.arange(60) * 0.5
    X = rng.normal(size=(80, 60))
    y = (X[:, 10] + 0.5 * X[:, 40] > 0).astype(int)
    return t, X, y


def test_feature_importance_polynomial(classified):
    t, X, y = classified
    pipe = make_pipeline(
        PolynomialSectionFeaturizer(sections=(4, 5), times=t),
        RandomForestClassifier(n_estimators=20, random_state=0),
    ).fit(X, y)
    display = FeatureImportanceDisplay.from_estimator(pipe, top_k=5)
    poly = pipe[0]
    importances = pipe[-1].feature_importances_
    top = np.argsort(-importances, kind="stable")[:5]
    np.testing.assert_array_equal(display.top_features_, top)
    assert len(display.bars_) == 5
    for bar, k in zip(display.bars_, top, strict=True):
        start, stop = poly.feature_spans_[k]
        assert bar.get_x() == pytest.approx(start)
        assert bar.get_width() == pytest.approx(stop - start)
    ticks = [label.get_text() for label in display.ax_.get_yticklabels()]
    assert ticks == list(poly.get_feature_names_out()[top])
    # Bars of the same coefficient order share a colour.
    powers = poly.features_["power"].to_numpy()[top]
    colours = [bar.get_facecolor() for bar in display.bars_]
    for i in range(5):
        for j in range(5):
            assert (colours[i] == colours[j]) == (powers[i] == powers[j])
    # The most important feature is drawn on top.
    assert display.ax_.yaxis_inverted()


def test_feature_importance_pointwise_with_window(classified):
    t, X, y = classified
    window = EchoWindow(center=15.0, half_width=10.0, times=t).fit(X)
    model = LogisticRegression().fit(window.transform(X), y)
    display = FeatureImportanceDisplay.from_estimator(model, featurizer=window, top_k=3)
    assert len(display.bars_) == window.times_.size
    np.testing.assert_allclose(
        [b.get_x() + b.get_width() / 2 for b in display.bars_], window.times_
    )
    np.testing.assert_allclose(
        [b.get_height() for b in display.bars_], np.abs(model.coef_[0])
    )
    highlighted = [
        k
        for k, b in enumerate(display.bars_)
        if np.allclose(b.get_facecolor(), to_rgba("tab:orange"))
    ]
    assert sorted(highlighted) == sorted(display.top_features_.tolist())
    assert display.ax_.get_xlabel() == "t (us)"


def test_feature_importance_plain_bars():
    display = FeatureImportanceDisplay([0.1, 0.5, 0.2, 0.2], top_k=2).plot()
    assert display.top_features_.tolist() == [1, 2]
    assert display.ax_.get_xlabel() == "feature index"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"importances": []}, "non-empty"),
        ({"importances": [1.0, 2.0], "top_k": 0}, "top_k"),
        ({"importances": [1.0, 2.0], "feature_names": ["a"]}, "2 names"),
        ({"importances": [1.0, 2.0], "spans": [[0, 1], [1, 2]]}, "together"),
        ({"importances": [1.0, 2.0], "times": [0.0]}, "one time per feature"),
        (
            {"importances": [1.0, 2.0], "spans": [[0, 1]], "powers": [0, 1]},
            "spans must have shape",
        ),
    ],
)
def test_feature_importance_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FeatureImportanceDisplay(**kwargs).plot()


def test_feature_importance_from_estimator_errors(classified):
    t, X, y = classified
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[:, :10], y)
    poly = PolynomialSectionFeaturizer(sections=(4,), times=t).fit(X)
    with pytest.raises(ValueError, match="16 features but the model has 10"):
        FeatureImportanceDisplay.from_estimator(model, featurizer=poly)
    with pytest.raises(ValueError, match="featurizer must be fitted"):
        FeatureImportanceDisplay.from_estimator(model, featurizer=PCA())
    with pytest.raises(ValueError, match="no feature_importances_"):
        FeatureImportanceDisplay.from_estimator(PCA(2).fit(X))


def test_feature_importance_from_estimator_reads_importances_like_selection(
    classified,
):
    # The display reads importances with sknmr's one helper: a pipeline's last
    # step, and the norm over classes of a multiclass coef_.
    t, X, y = classified
    y3 = np.arange(len(y)) % 3
    pipe = make_pipeline(PCA(5), LogisticRegression()).fit(X, y3)
    display = FeatureImportanceDisplay.from_estimator(pipe, top_k=2)
    np.testing.assert_allclose(
        display.importances, np.linalg.norm(pipe[-1].coef_, axis=0)
    )
    with pytest.raises(
        ValueError,
        match="PCA has no feature_importances_ or coef_.*FeatureImportanceDisplay",
    ):
        FeatureImportanceDisplay.from_estimator(PCA(2).fit(X))


def test_importing_plotting_does_not_import_matplotlib():
    code = (
        "import sys, sknmr, sknmr.plotting, sknmr.study; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
