"""EchoWindow: the area of interest 2 tau +- tau/3, feature names, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoWindow
from sknmr.scaling import curve_scaler


@pytest.fixture(scope="module")
def default_grid():
    return EchoSimulator().times


def test_default_window_is_the_papers_area_of_interest(default_grid):
    sim = EchoSimulator()
    X = np.tile(np.arange(sim.n_times, dtype=float), (3, 1))
    window = EchoWindow().fit(X)
    echo = 2 * sim.n_tau  # sample 1256, t = 2 tau
    assert echo == 1256
    assert window.window_ == slice(echo - 209, echo + 210)
    out = window.transform(X)
    assert out.shape == (3, 419)
    np.testing.assert_array_equal(out[0], np.arange(echo - 209, echo + 210))
    np.testing.assert_array_equal(window.times_, default_grid[window.window_])
    # Every kept sample is within tau/3 of the echo, and no other one is.
    distance = np.abs(default_grid - default_grid[echo])
    assert np.all(distance[window.window_] <= sim.tau / 3)
    outside = np.ones(sim.n_times, bool)
    outside[window.window_] = False
    assert np.all(distance[outside] > sim.tau / 3)


def test_for_simulator_matches_the_default():
    X = np.zeros((1, EchoSimulator().n_times))
    default = EchoWindow().fit(X)
    explicit = EchoWindow.for_simulator(EchoSimulator()).fit(X)
    assert default.window_ == explicit.window_


def test_for_simulator_small_grid():
    sim = EchoSimulator(lattice_size=8, tau=6.0, random_state=0)
    window = EchoWindow.for_simulator(sim, width=0.5).fit(np.zeros((2, sim.n_times)))
    echo_time = sim.times[2 * sim.n_tau]
    assert window.times_[0] >= echo_time - 3.0
    assert window.times_[-1] <= echo_time + 3.0
    assert np.argmin(np.abs(window.times_ - echo_time)) == len(window.times_) // 2


def test_output_is_a_copy():
    X = np.random.default_rng(0).uniform(size=(4, 20))
    window = EchoWindow(center=10.0, half_width=3.0, dt=1.0).fit(X)
    out = window.transform(X)
    np.testing.assert_array_equal(out, X[:, 7:14])
    out[:] = -1
    assert np.all(X >= 0)


def test_explicit_times_and_float32():
    times = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])
    X = np.arange(12, dtype=np.float32).reshape(2, 6)
    window = EchoWindow(center=5.0, half_width=3.0, times=times).fit(X)
    np.testing.assert_array_equal(window.times_, [3.0, 6.0])
    out = window.transform(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, X[:, 2:4])


def test_window_ends_are_included():
    window = EchoWindow(center=5.0, half_width=2.0, dt=1.0).fit(np.zeros((1, 11)))
    np.testing.assert_array_equal(window.times_, [3, 4, 5, 6, 7])


def test_feature_names_from_times_or_kept(default_grid):
    sim = EchoSimulator()
    X = np.zeros((2, sim.n_times))
    names = EchoWindow().fit(X).get_feature_names_out()
    assert names[0] == "t=166.635us" and names[-1] == "t=233.162us"
    assert len(set(names)) == 419
    frame = pd.DataFrame(X, columns=sim.get_feature_names_out())
    window = EchoWindow().fit(frame)
    kept = window.get_feature_names_out()
    np.testing.assert_array_equal(kept, sim.get_feature_names_out()[window.window_])
    assert kept[209] == "absM_t=199.899us"  # the echo sample
    window.set_output(transform="pandas")
    assert list(window.transform(frame).columns) == list(kept)


def test_time_origin_read_from_feature_names():
    """A series that starts later (e.g. an already windowed one) is placed right."""
    sim = EchoSimulator()
    names = sim.get_feature_names_out()[1000:1500]
    frame = pd.DataFrame(np.zeros((1, 500)), columns=names)
    window = EchoWindow().fit(frame)
    assert window.get_feature_names_out()[0] == "absM_t=166.635us"
    assert window.transform(frame).shape == (1, 419)


def test_names_that_contradict_dt():
    names = [f"absM_t={0.5 * k:.3f}us" for k in range(50)]
    frame = pd.DataFrame(np.zeros((1, 50)), columns=names)
    with pytest.raises(ValueError, match="dt"):
        EchoWindow(center=5.0, half_width=1.0, dt=1.0).fit(frame)


def test_windowing_a_window_with_pandas_output():
    sim = EchoSimulator(lattice_size=8, tau=6.0, random_state=0)
    frame = pd.DataFrame(
        np.zeros((1, sim.n_times)), columns=sim.get_feature_names_out()
    )
    outer = EchoWindow.for_simulator(sim, width=0.5).set_output(transform="pandas")
    inner = EchoWindow.for_simulator(sim).set_output(transform="pandas")
    twice = make_pipeline(outer, inner).fit_transform(frame)
    once = (
        EchoWindow.for_simulator(sim)
        .set_output(transform="pandas")
        .fit_transform(frame)
    )
    assert list(twice.columns) == list(once.columns)


def test_pipeline_with_curve_scaler():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5, EchoSimulator().n_times))
    out = make_pipeline(EchoWindow(), curve_scaler()).fit_transform(X)
    assert out.shape == (5, 419)
    np.testing.assert_allclose(out.min(axis=1), 0)
    np.testing.assert_allclose(out.max(axis=1), 1)


@pytest.mark.parametrize(
    "params, n_features, match",
    [
        ({}, 1000, "center and half_width"),  # series shorter than the window
        ({"center": 280.0}, 1884, "center"),  # past the series end (299.7 us)
        ({"half_width": 250.0}, 1884, "half_width"),
        ({"center": 5.0, "half_width": 1.0, "dt": 1.0}, 5, "n_features=5"),
        ({"center": 2.5, "half_width": 0.1, "dt": 1.0}, 10, "holds no sample"),
        ({"times": np.arange(5.0), "dt": 1.0}, 5, "either dt or times"),
        ({"center": 2.0, "half_width": 1.0, "times": np.arange(4.0)}, 5, "times"),
        ({"center": 2.0, "half_width": 1.0, "times": [0, 1, 1, 2, 3]}, 5, "increasing"),
        (
            {"center": 2.0, "half_width": 1.0, "times": [0, 1, np.nan, 3, 4]},
            5,
            "finite",
        ),
    ],
)
def test_bad_window(params, n_features, match):
    with pytest.raises(ValueError, match=match):
        EchoWindow(**params).fit(np.zeros((2, n_features)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"half_width": -1.0}, "half_width"),
        ({"half_width": 0.0}, "half_width"),
        ({"dt": 0.0}, "dt"),
        ({"center": "middle"}, "center"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        EchoWindow(**params).fit(np.zeros((2, 1884)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(bad):
    X = np.zeros((2, 1884))
    X[1, 5] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        EchoWindow().fit(X)
    window = EchoWindow().fit(np.zeros((2, 1884)))
    with pytest.raises(ValueError, match="NaN|infinity"):
        window.transform(X)


def test_transform_checks_the_length():
    window = EchoWindow().fit(np.zeros((2, 1884)))
    with pytest.raises(ValueError, match="1884 features"):
        window.transform(np.zeros((2, 1800)))
