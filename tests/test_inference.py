"""Tests for sknmr.inference.EchoInference."""

import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
from imblearn import FunctionSampler
from quantile_forest import ExtraTreesQuantileRegressor
from sklearn.ensemble import (
    ExtraTreesRegressor,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.pipeline import Pipeline

from sknmr import EchoInference, EchoSimulator
from sknmr.datasets import make_echoes
from sknmr.inference import OOD_ADVICE, ood_advice, train_model
from sknmr.inference._augment import augment_echoes
from sknmr.inference._ood import KNNDistance, conformal_threshold, echo_top_offset
from sknmr.io import MeasuredEcho
from sknmr.sequences import hahn_echo
from sknmr.window import EchoWindow

TARGETS = ["W", "L", "alpha_xy", "alpha_z"]


def small(**params):
    """A fast, seeded EchoInference."""
    defaults = dict(
        regressor=ExtraTreesQuantileRegressor(n_estimators=20),
        classifier=RandomForestClassifier(n_estimators=20),
        ood_false_alarm=0.1,
        random_state=0,
    )
    defaults.update(params)
    return EchoInference(**defaults)


@pytest.fixture(scope="module")
def sim():
    return EchoSimulator(lattice_size=8, tau=8.0)


@pytest.fixture(scope="module")
def data(sim):
    return make_echoes(40, simulator=sim, random_state=0)


@pytest.fixture(scope="module")
def held_out(sim):
    return make_echoes(20, simulator=sim, random_state=1)


@pytest.fixture(scope="module")
def model(sim, data):
    return small(simulator=sim).fit(data.data, data.target)


def _not_echoes(sim, n=10, seed=0):
    """Pure noise and Lorentzian free-induction decays (no coupling, no echo)."""
    rng = np.random.default_rng(seed)
    shape = (n, sim.n_times)
    noise = np.abs(rng.normal(size=shape) + 1j * rng.normal(size=shape))
    t2 = rng.uniform(1.0, 20.0, n)
    fid = 0.5 * np.exp(-sim.times[None, :] / t2[:, None])
    fid = np.abs(fid + 0.002 * (rng.normal(size=shape) + 1j * rng.normal(size=shape)))
    return noise, fid


# -- the table -------------------------------------------------------------------------
def test_table_columns_and_types(model, held_out):
    table = model.predict(held_out.data)
    expected = []
    for t in TARGETS:
        expected += [t, f"{t}_lower", f"{t}_upper"]
    expected += ["p_power", "ood_score", "ood"]
    assert list(table.columns) == [*expected, "ood_reason"]
    assert list(model.get_feature_names_out()) == expected  # transform's: floats
    assert len(table) == len(held_out.data)
    assert table["ood"].dtype == bool
    assert table["p_power"].between(0, 1).all()
    assert np.all(np.isfinite(table[expected].drop(columns="ood").to_numpy()))
    # a reason exactly where an echo is flagged
    np.testing.assert_array_equal(table["ood_reason"] != "", table["ood"])


def test_intervals_contain_the_estimate(model, held_out):
    table = model.predict(held_out.data)
    for t in TARGETS:
        assert (table[f"{t}_lower"] <= table[t]).all()
        assert (table[t] <= table[f"{t}_upper"]).all()
        assert (table[f"{t}_lower"] >= 0).all()  # never negative in training
    y_pred, y_pis = model.predict_interval(held_out.data[:3])
    assert y_pred.shape == (3, 4) and y_pis.shape == (3, 2, 4)
    np.testing.assert_allclose(y_pred[:, 0], table["W"][:3])


def test_dataframe_input_keeps_its_index(sim, data, held_out):
    frame = make_echoes(40, simulator=sim, random_state=0, as_frame=True)
    fitted = small(simulator=sim, targets=("W",), power=None).fit(
        frame.data, frame.target
    )
    X = pd.DataFrame(
        held_out.data[:4], columns=frame.feature_names, index=[7, 8, 9, 10]
    )
    table = fitted.predict(X)
    assert list(table.index) == [7, 8, 9, 10]
    assert "p_power" not in table


def test_transform_and_set_output(model, held_out):
    table = model.predict(held_out.data[:5])
    out = model.transform(held_out.data[:5])
    numbers = table.drop(columns="ood_reason")
    np.testing.assert_array_equal(out, numbers.to_numpy(dtype=float))
    frame = pickle.loads(pickle.dumps(model)).set_output(transform="pandas")
    assert list(frame.transform(held_out.data[:5]).columns) == list(numbers.columns)


def test_fit_from_a_bunch_takes_the_simulator(sim, data):
    fitted = small(targets="W").fit(data)
    assert fitted.targets_ == ["W"]
    assert fitted.experiment_ == sim.experiment
    assert fitted.experiment_.output == "magnitude"
    with pytest.warns(FutureWarning, match="experiment_"):
        assert fitted.simulator_settings_["tau"] == sim.tau
    np.testing.assert_allclose(fitted.times_, sim.times)
    window = EchoWindow.for_simulator(sim).fit(data.data)
    assert fitted.window_ == window.window_
    assert isinstance(fitted.featurizer_, Pipeline)
    with pytest.raises(ValueError, match="not both"):
        small().fit(data, data.target)


# -- coverage --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["conformal", "conformalized_quantile"])
def test_coverage_near_the_confidence(method):
    """A larger synthetic case: heteroscedastic targets of 8 features."""
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.uniform(size=(n, 8))
    y = pd.DataFrame(
        {
            "a": 1 + X[:, 0] + 0.2 * X[:, 1] * rng.normal(size=n),
            "b": 2 + np.sin(3 * X[:, 2]) + 0.1 * rng.normal(size=n),
        }
    )
    regressor = None
    if method == "conformal":
        regressor = ExtraTreesRegressor(n_estimators=30, min_samples_leaf=5)
    fitted = EchoInference(
        featurizer="passthrough",
        targets=("a", "b"),
        power=None,
        regressor=regressor,
        interval_method=method,
        calibration_size=0.3,
        random_state=0,
    )
    if method != "conformal":
        fitted.set_params(regressor=ExtraTreesQuantileRegressor(n_estimators=30))
    train = slice(0, 1500)
    fitted.fit(X[train], y[train])
    table = fitted.predict(X[1500:])
    for t in ("a", "b"):
        truth = y[t].to_numpy()[1500:]
        covered = (table[f"{t}_lower"] <= truth) & (truth <= table[f"{t}_upper"])
        assert 0.86 <= covered.mean() <= 0.95, (t, covered.mean())


@pytest.mark.parametrize("method", ["conformal", "quantile"])
def test_other_interval_methods(method, data, held_out):
    fitted = small(interval_method=method, targets=("W",)).fit(data)
    table = fitted.predict(held_out.data)
    assert (table["W_lower"] <= table["W"]).all()
    assert (table["W"] <= table["W_upper"]).all()
    assert fitted.intervals_["W"] is None or method == "conformal"


def test_quantile_methods_need_a_quantile_regressor(data):
    for method in ("quantile", "conformalized_quantile"):
        with pytest.raises(ValueError, match="quantiles"):
            small(
                interval_method=method,
                targets=("W",),
                regressor=ExtraTreesRegressor(n_estimators=5),
            ).fit(data)


# -- out of distribution ---------------------------------------------------------------
def test_ood_flags_noise_and_a_free_induction_decay(model, sim, held_out):
    noise, fid = _not_echoes(sim)
    flagged = model.predict(noise)
    assert flagged["ood"].all()
    # noise is far from every training echo: the distance flags it
    assert flagged["ood_reason"].str.split("; ").map(lambda r: "distance" in r).all()
    assert model.predict(fid)["ood"].all()
    table = model.predict(held_out.data)
    assert (~table["ood"]).sum() >= 10
    assert (table.loc[~table["ood"], "ood_reason"] == "").all()


def test_ood_advice():
    assert set(OOD_ADVICE) == {
        "distance",
        "echo top (early span)",
        "echo top (late span)",
    }
    assert "time reference" in ood_advice("distance")
    assert "tau" in ood_advice("echo top (late span)")
    both = ood_advice("distance; echo top (early span)")
    assert both.splitlines() == [
        f"distance: {OOD_ADVICE['distance']}",
        f"echo top (early span): {OOD_ADVICE['echo top (early span)']}",
    ]
    assert ood_advice("") == ""
    with pytest.raises(ValueError, match="reason must name the checks"):
        ood_advice("echo top")
    with pytest.raises(TypeError, match="reason must be a str"):
        ood_advice(None)
    with pytest.raises(TypeError):
        OOD_ADVICE["distance"] = "read-only"


def test_ood_false_alarm_rate_on_held_out_simulations(sim):
    train = make_echoes(100, simulator=sim, random_state=2)
    test = make_echoes(100, simulator=sim, random_state=3)
    fitted = small(
        simulator=sim,
        targets=("W",),
        power=None,
        regressor=ExtraTreesQuantileRegressor(n_estimators=5),
        ood_false_alarm=0.1,
        calibration_size=0.5,
    ).fit(train.data, train.target)
    rate = fitted.predict(test.data)["ood"].mean()
    assert 0.03 <= rate <= 0.2, rate


def _other_tau_echoes(sim, factor, n=30, seed=5):
    """Clear echoes simulated with tau * factor, on the model's number of samples."""
    other = EchoSimulator(lattice_size=sim.lattice_size, tau=sim.tau * factor)
    echoes = make_echoes(n, simulator=other, random_state=seed).data
    top = np.argmin(np.abs(other.times - 2 * other.tau))
    clear = echoes[:, top - 2 : top + 3].max(axis=1) > 3 * np.median(echoes, axis=1)
    echoes = echoes[clear]
    if echoes.shape[1] < sim.n_times:  # recorded as long as the model's grid
        echoes = np.pad(echoes, ((0, 0), (0, sim.n_times - echoes.shape[1])), "edge")
    return echoes[:, : sim.n_times]


@pytest.fixture(scope="module")
def long_tau():
    """A model of echoes narrow beside tau (tau = 30 us), with and without the check."""
    sim = EchoSimulator(lattice_size=8, tau=30.0)
    train = make_echoes(60, simulator=sim, random_state=0)
    kept = small(simulator=sim, targets=("W",), power=None).fit(train)
    blind = small(simulator=sim, targets=("W",), power=None, ood_echo_top=False)
    return sim, kept, blind.fit(train)


@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_ood_flags_a_clear_echo_of_another_tau(long_tau, factor):
    sim, model, blind = long_tau
    echoes = _other_tau_echoes(sim, factor)
    assert len(echoes) >= 10
    assert (model.echo_top_threshold_ > model.echo_top_reference_).all()
    assert model.predict(echoes)["ood"].mean() >= 0.8
    # The echo top alone flags them (the benchmark's 32 x 32 echoes need it:
    # their window shows only the baseline, which the feature distance misses).
    offsets = model._echo_top_scores(echoes)
    assert offsets.shape == (len(echoes), 2)
    assert (offsets > model.echo_top_threshold_).any(axis=1).mean() >= 0.8
    # and the table says so: the echo top is among the reasons
    reasons = model.predict(echoes)["ood_reason"].str.split("; ")
    assert reasons.map(lambda r: any(c.startswith("echo top") for c in r)).mean() >= 0.8
    assert blind.echo_top_threshold_ is None
    assert blind._echo_top_scores(echoes) is None
    held_out = make_echoes(40, simulator=sim, random_state=1).data
    assert model.predict(held_out)["ood"].mean() <= 0.2  # at 0.1, 120 echoes


@pytest.mark.parametrize(
    "sequence",
    [
        lambda duration: hahn_echo(30.0, angle=45.0, duration=duration),
        lambda duration: hahn_echo(15.0, duration=duration),
    ],
    ids=["45-90 Hahn echo", "Hahn echo at tau/2"],
)
def test_ood_flags_echoes_of_another_sequence(long_tau, sequence):
    """Echoes of another sequence given as bare arrays (no metadata to refuse
    them by): a 45-90 echo has its echo where the model's is, but the decay
    after its second pulse is the top; a Hahn echo at tau/2 peaks at tau,
    before the late span. The early span sees both."""
    sim, model, blind = long_tau
    other = EchoSimulator(
        lattice_size=sim.lattice_size,
        sequence=sequence(sim.n_times * sim.dt),
    )
    echoes = make_echoes(30, simulator=other, random_state=3).data[:, : sim.n_times]
    assert model.predict(echoes)["ood"].mean() >= 0.8
    early = model._echo_top_scores(echoes)[:, 1]
    assert (early > model.echo_top_threshold_[1]).mean() >= 0.8
    reasons = model.predict(echoes)["ood_reason"].str.split("; ")
    assert reasons.map(lambda r: "echo top (early span)" in r).mean() >= 0.8


def test_echo_top_offset():
    t = np.arange(60.0)
    rng = np.random.default_rng(0)
    series = 0.01 * rng.random((4, 60))
    series[0, 40] = series[1, 30] = series[2, 50] = 1.0
    scores = echo_top_offset(series, t, 40.0, 20.0)
    assert scores[0] == 0  # the top at the echo time
    assert scores[1] > scores[2] > 30 > scores[3]  # 10 and 10/3 from it; none
    gap = series.copy()
    gap[:, 45:] = np.nan  # not recorded: left out
    assert echo_top_offset(gap, t, 40.0, 20.0)[2] < 30
    complex_series = series * np.exp(0.3j)
    np.testing.assert_allclose(echo_top_offset(complex_series, t, 40.0, 20.0), scores)
    with pytest.raises(ValueError, match="no recorded sample"):
        echo_top_offset(np.full((1, 60), np.nan), t, 40.0, 20.0)
    early = 0.01 * rng.random((1, 60))
    early[0, 10] = 1.0  # before the default span, which starts at 40 - 40/3
    assert echo_top_offset(early, t, 40.0, 20.0)[0] < 30
    assert echo_top_offset(early, t, 40.0, 20.0, start=5.0)[0] > 30


def test_knn_distance():
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(size=(50, 12)), axis=1) * 0.1  # smooth-ish curves
    noisy = X[:5] + rng.normal(size=(5, 12))
    for detector in (
        KNNDistance(),
        KNNDistance(derivative_weight=1.0),
        KNNDistance(derivative_weight=1.0, n_components=3),
    ):
        detector.fit(X)
        assert detector.score_samples(X[:5]).shape == (5,)
        assert np.all(detector.score_samples(noisy) < detector.score_samples(X[5:10]))
    assert KNNDistance(n_components=3).fit(X).pca_.n_components_ == 3


def test_other_ood_detector(sim, data):
    fitted = small(
        simulator=sim, targets=("W",), ood_detector=IsolationForest(n_estimators=50)
    ).fit(data)
    noise, _ = _not_echoes(sim)
    assert fitted.predict(noise)["ood"].all()


def test_warnings_with_too_few_calibration_echoes(sim, data, held_out):
    assert conformal_threshold(np.arange(10.0), 0.5) == (5.0, True)
    assert conformal_threshold(np.arange(10.0), 0.01) == (9.0, False)
    with pytest.warns(UserWarning, match="cannot guarantee"):
        small(simulator=sim, targets=("W",), ood_false_alarm=0.001).fit(data)
    with pytest.warns(UserWarning, match="intervals are infinite"):
        fitted = small(targets=("W",)).fit(held_out)  # 15 calibration echoes
    table = fitted.predict(held_out.data[:2])
    assert (table["W_lower"] == 0).all()  # -inf, clipped: W is never negative
    assert np.isinf(table["W_upper"]).all()
    assert np.isfinite(table["W"]).all()


@pytest.fixture
def no_fit(monkeypatch):
    """Any regressor fit or simulation fails the test: refused before them."""

    def never(*args, **kwargs):
        raise AssertionError("fitted or simulated before the setting was refused")

    monkeypatch.setattr(ExtraTreesQuantileRegressor, "fit", never)
    monkeypatch.setattr("sknmr.inference._workflow.make_echoes", never)


@pytest.mark.parametrize(
    "confidence, needed, match",
    [
        (1e-9, 1_000_000_000, "Give more echoes, a larger calibration_size"),
        (1 - 1e-9, 2_000_000_000, "No calibration_size holds out that many of 60"),
    ],
)
def test_confidence_the_calibration_part_cannot_give(
    held_out, no_fit, confidence, needed, match
):
    """60 echoes, 15 held out: conformalized quantiles at 1/15 to 1 - 2/15."""
    with pytest.raises(ValueError, match=match) as info:
        small(targets=("W",), confidence=confidence).fit(held_out)
    message = str(info.value)
    # MAPIE's count, in floats: an echo or a few more than the exact one
    count = re.match(rf"confidence={confidence:g} needs at least (\d+) ", message)
    assert int(count[1]) == pytest.approx(needed, rel=1e-7)
    assert "interval_method='conformalized_quantile'" in message
    assert "gives 15, which allows a confidence between 0.0667 and 0.867" in message
    with pytest.raises(ValueError, match=f"confidence={confidence:g} needs"):
        train_model(  # refused before simulating its 60 echoes
            EchoSimulator(lattice_size=4, tau=3.0),
            n_per_kernel=20,
            confidence=confidence,
        )


def test_confidence_refused_for_conformal_intervals(held_out, no_fit):
    conformal = small(targets=("W",), confidence=1e-9, interval_method="conformal")
    with pytest.raises(ValueError, match="between 0.0667 and 0.933"):
        conformal.fit(held_out)
    with pytest.raises(ValueError, match="too few for any confidence"):
        conformal.set_params(confidence=0.5, calibration_size=1).fit(held_out)
    # augmented copies count for the conformalized quantiles (what MAPIE sees)
    with pytest.raises(ValueError, match=r"gives 30 \(15 held out, 2 copies each\)"):
        small(targets=("W",), confidence=0.01, augment={"snr": 50, "copies": 2}).fit(
            held_out
        )


# -- grids and measured echoes ---------------------------------------------------------
def test_refuses_another_grid(model, sim):
    other = make_echoes(2, simulator=EchoSimulator(lattice_size=8, tau=6.0))
    with pytest.raises(ValueError, match="another grid"):
        model.predict(other.data)
    with pytest.raises(ValueError, match="another grid.*tau"):
        model.check_compatible(other)
    for changed in (dict(dt=0.2), dict(tau=6.0), dict(output="complex")):
        with pytest.raises(ValueError, match="another grid"):
            settings = {"lattice_size": 8, "tau": 8.0, **changed}
            model.check_compatible(EchoSimulator(**settings))
    assert model.check_compatible(sim) is model
    with pytest.warns(UserWarning, match=r"lattice=Lattice.square\(10\)"):
        model.check_compatible(EchoSimulator(lattice_size=10, tau=8.0))
    with pytest.raises(ValueError, match="samples per echo"):
        small(simulator=sim).fit(other.data, other.target)


def test_a_model_of_another_sequence(model, sim):
    """A model trained on a CPMG train reads its first echo, keeps its
    sequence through joblib, and refuses echoes of the Hahn echo (and back)."""
    from sknmr.sequences import cpmg

    cpmg_sim = EchoSimulator(lattice_size=8, sequence=cpmg(4.0, 2), t2=50.0)
    train = make_echoes(30, simulator=cpmg_sim, random_state=0)
    cpmg_model = small(simulator=cpmg_sim).fit(train.data, train.target)
    experiment = cpmg_model.experiment_
    assert experiment.sequence == cpmg(4.0, 2)
    assert experiment.t2 == 50.0
    first_echo = cpmg_sim.echo_times[0]
    window = cpmg_model.times_[cpmg_model.window_]
    assert window[0] < first_echo < window[-1]
    assert window[-1] - window[0] == pytest.approx(2 * 4.0 / 3, abs=2 * sim.dt)
    assert cpmg_model.check_compatible(train) is cpmg_model
    with pytest.raises(ValueError, match="another experiment"):
        cpmg_model.check_compatible(EchoSimulator(lattice_size=8, tau=8.0))
    with pytest.raises(ValueError, match="another experiment"):
        model.check_compatible(cpmg_sim)
    with pytest.warns(UserWarning, match="t2"):
        cpmg_model.check_compatible(cpmg_sim.set_params(t2=None))
    assert cpmg_model.predict(train.data[:2]).shape[0] == 2


def test_measured_echo_round_trip(model, sim, held_out):
    rng = np.random.default_rng(1)
    X = held_out.data[:5] + 1e-4 * rng.normal(size=(5, sim.n_times))
    echoes = [MeasuredEcho(sim.times, row) for row in X]
    from_echoes = model.predict(echoes)
    from_array = model.predict(np.abs(X))
    np.testing.assert_allclose(
        model.transform(echoes), model.transform(np.abs(X)), atol=1e-9
    )
    pd.testing.assert_series_equal(from_echoes["ood_reason"], from_array["ood_reason"])
    # Sampled twice as often, and missing the first microseconds (a dead
    # time): resampled onto the grid, the window is what counts.
    fine = np.arange(0.0, sim.times[-1], sim.dt / 2)
    late = fine >= 1.0
    curve = np.interp(fine, sim.times, np.abs(X[0]))
    measured = MeasuredEcho(fine[late], curve[late])
    got = model.predict(measured)
    resampled = model.make_resampler(dead_time=0.5).fit_transform([measured])
    assert np.isnan(resampled[0, 0])  # uncovered: accepted outside the window
    again = model.predict(resampled)
    pd.testing.assert_frame_equal(
        again.drop(columns="ood_score"), got.drop(columns="ood_score")
    )
    # the early echo-top span reaches back past the refocusing pulse, whose
    # dead time hides a few samples there: the score moves, barely
    np.testing.assert_allclose(again["ood_score"], got["ood_score"], atol=0.01)
    resampled[0, model.window_.start + 1] = np.nan
    with pytest.raises(ValueError, match="inside the echo window"):
        model.predict(resampled)
    for t in TARGETS:
        assert abs(got[t][0] - from_array[t][0]) <= 0.1 * (
            from_array[f"{t}_upper"][0] - from_array[f"{t}_lower"][0]
        )


def test_measured_echo_with_another_tau_is_refused(model, sim, held_out):
    echo = MeasuredEcho(sim.times, held_out.data[0], {"tau": 6.0})
    with pytest.raises(ValueError, match="tau=6 us.*another grid"):
        model.predict(echo)
    same = MeasuredEcho(sim.times, held_out.data[0], {"tau": 8.0})
    assert len(model.predict([same])) == 1


def test_measured_echo_must_cover_the_window(model, sim, held_out):
    times = sim.times[: 2 * sim.n_tau]  # stops at the echo top
    with pytest.raises(ValueError, match="does not cover"):
        model.predict(MeasuredEcho(times, held_out.data[0, : 2 * sim.n_tau]))
    unfitted_grid = small(targets=("W",), calibration_size=0.4).fit(
        np.abs(held_out.data), held_out.target
    )
    with pytest.raises(ValueError, match="without a simulator"):
        unfitted_grid.predict(MeasuredEcho(sim.times, held_out.data[0]))


# -- detection -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def complex_data():
    """60 complex echoes; fits on them hold out 40% (24 echoes) to calibrate."""
    sim = EchoSimulator(lattice_size=8, tau=8.0, output="complex")
    return sim, make_echoes(20, simulator=sim, random_state=0)


def test_blind_quadrature_ignores_the_receiver_phase(complex_data):
    sim, data = complex_data
    fitted = small(
        simulator=sim,
        detection="quadrature",
        receiver_phase="blind",
        targets=("W",),
        calibration_size=0.4,
    ).fit(data)
    X = data.data[:5]
    rotated = X * np.exp(1j * 1.1)
    # Equal up to the rounding of the float32 echoes (the 0/1 flag left out:
    # a held-out echo may score exactly its threshold, 1, and rounding then
    # tips it either way).
    names = list(fitted.get_feature_names_out())
    assert names[-1] == "ood"
    np.testing.assert_allclose(
        fitted.transform(rotated)[:, :-1],
        fitted.transform(X)[:, :-1],
        rtol=1e-5,
        atol=1e-6,
    )
    calibrated = small(
        simulator=sim, detection="quadrature", targets=("W",), calibration_size=0.4
    ).fit(data)
    assert calibrated.featurizer_.transform(calibrated._detect(X)).shape[1] == 2 * (
        fitted.window_.stop - fitted.window_.start
    )
    echo = MeasuredEcho(sim.times, X[0])
    np.testing.assert_allclose(
        fitted.transform(echo), fitted.transform(X[:1]), atol=1e-9
    )


def test_detection_needs_the_right_echoes(complex_data, sim, data):
    csim, cdata = complex_data
    with pytest.raises(ValueError, match="complex"):
        small(simulator=sim, detection="quadrature").fit(data)
    magnitude = small(simulator=csim, targets=("W",), calibration_size=0.4)
    magnitude.fit(cdata)
    np.testing.assert_allclose(
        magnitude.transform(cdata.data[:3]),
        magnitude.transform(np.abs(cdata.data[:3]) + 0j),
    )


# -- augmentation ----------------------------------------------------------------------
def test_augmentation_is_applied_at_fit_only(sim, data, held_out):
    fitted = small(
        simulator=sim,
        targets=("W",),
        augment={"snr": (20, 50), "copies": 2, "keep_original": True},
    ).fit(data)
    assert isinstance(fitted.augmenter_, FunctionSampler)
    assert fitted.augmenter_.kw_args["snr"] == (20.0, 50.0)
    before = fitted.transform(held_out.data)

    def refuse(X, y, **kwargs):
        raise AssertionError("the augmentation ran at prediction time")

    fitted.augmenter_ = FunctionSampler(func=refuse, validate=False)
    fitted.set_params(augment={"snr": 1.0})
    np.testing.assert_array_equal(fitted.transform(held_out.data), before)
    plain = small(simulator=sim, targets=("W",)).fit(data)
    assert not np.array_equal(plain.transform(held_out.data), before)


def test_augment_echoes():
    X = np.tile(np.linspace(1.0, 0.0, 10), (3, 1))
    y = pd.DataFrame({"W": [0.1, 0.2, 0.3]})
    X_aug, y_aug = augment_echoes(
        X, y, snr=(10, 10), copies=2, keep_original=True, random_state=0
    )
    assert X_aug.shape == (9, 10) and list(y_aug["W"]) == [0.1, 0.2, 0.3] * 3
    np.testing.assert_array_equal(X_aug[:3], X)
    assert np.all(X_aug >= 0)  # Rician: a magnitude stays a magnitude
    dead, _ = augment_echoes(
        X, dead_time=2.5, times=np.arange(10.0), pulse_times=(0.0,)
    )
    np.testing.assert_array_equal(dead[:, :3], X[:, [3, 3, 3]])
    Z = np.ones((2, 4), dtype=complex)
    phased, _ = augment_echoes(Z, kind="complex", phase_error=90.0, random_state=0)
    np.testing.assert_allclose(np.abs(phased), 1.0)
    assert not np.allclose(phased, Z)


@pytest.mark.parametrize(
    "augment, match",
    [
        ({"noise": 1}, "unknown keys"),
        ({"snr": -1}, "snr"),
        ({"snr": (50, 20)}, "snr"),
        ({"phase_error": 10}, "complex"),
        ({"copies": 0}, "copies"),
    ],
)
def test_bad_augment(sim, data, augment, match):
    with pytest.raises(ValueError, match=match):
        small(simulator=sim, targets=("W",), augment=augment).fit(data)


# -- persistence and errors ------------------------------------------------------------
def test_pickle_and_joblib(model, held_out, tmp_path):
    expected = model.predict(held_out.data)
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.predict(held_out.data), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(loaded.predict(held_out.data), expected)


def test_bad_targets(sim, data):
    with pytest.raises(ValueError, match="lacks the columns"):
        small(targets=("W", "nope")).fit(data.data, data.target)
    with pytest.raises(ValueError, match="y to be passed"):
        small().fit(data.data)
    with pytest.raises(ValueError, match="array of 5 columns"):
        small().fit(data.data, data.target["W"].to_numpy())
