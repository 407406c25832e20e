"""sknmr.decay: echo-decay models, least squares and bootstrap intervals."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.optimize import curve_fit

from sknmr import EchoSimulator
from sknmr.decay import MODELS, DecayFit, fit_decay
from sknmr.io import EchoDecay
from sknmr.sequences import cpmg

TRUTH = {
    "exponential": (1.5, 300.0),
    "stretched": (1.0, 300.0, 1.6),
    "biexponential": (0.6, 80.0, 0.4, 600.0),
    "gaussian_exponential": (2.0, 700.0, 350.0),
}
T = np.arange(1, 61) * 20.0


def _noisy(model, noise=0.01, seed=0):
    clean = MODELS[model][1](T, *TRUTH[model])
    rng = np.random.default_rng(seed)
    return EchoDecay(T, clean + rng.normal(0, noise, T.size)), clean


@pytest.mark.parametrize("model", sorted(MODELS))
def test_noiseless_decays_give_their_parameters(model):
    clean = MODELS[model][1](T, *TRUTH[model])
    fit = fit_decay(EchoDecay(T, clean), model, n_bootstrap=20, random_state=0)
    np.testing.assert_allclose(list(fit.params.values()), TRUTH[model], rtol=1e-5)
    np.testing.assert_allclose(fit.predict(T), clean, atol=1e-8)
    assert isinstance(fit, DecayFit) and fit.method == "residual"


@pytest.mark.parametrize("model", sorted(MODELS))
def test_fit_agrees_with_an_independent_scipy_fit(model):
    decay, _ = _noisy(model, noise=0.01, seed=3)
    fit = fit_decay(decay, model, n_bootstrap=20, random_state=0)
    reference, _ = curve_fit(
        MODELS[model][1], T, decay.amplitudes.real, p0=TRUTH[model], maxfev=20000
    )
    np.testing.assert_allclose(list(fit.params.values()), reference, rtol=0.01)


def test_intervals_hold_the_truth_and_are_reproducible():
    decay, _ = _noisy("gaussian_exponential", noise=0.02, seed=1)
    fit = fit_decay(decay, "gaussian_exponential", n_bootstrap=100, random_state=0)
    for (name, (low, high)), true in zip(
        fit.intervals.items(), TRUTH["gaussian_exponential"], strict=True
    ):
        assert low < true < high, name
        assert low < fit.params[name] < high, name
    again = fit_decay(decay, "gaussian_exponential", n_bootstrap=100, random_state=0)
    np.testing.assert_array_equal(again.bootstrap_params, fit.bootstrap_params)
    assert fit.bootstrap_params.shape == (100, 3)
    wider = fit_decay(
        decay, "gaussian_exponential", n_bootstrap=100, confidence=0.99, random_state=0
    )
    assert np.ptp(wider.intervals["T2G"]) > np.ptp(fit.intervals["T2G"])
    assert "T2G=" in repr(fit)


def test_studentized_and_percentile_intervals():
    decay, _ = _noisy("gaussian_exponential")
    fit = fit_decay(decay, "gaussian_exponential", n_bootstrap=60, random_state=0)
    old = fit_decay(
        decay,
        "gaussian_exponential",
        n_bootstrap=60,
        interval="percentile",
        random_state=0,
    )
    # the same refits; the percentile intervals are their 5th and 95th percentiles
    np.testing.assert_array_equal(fit.bootstrap_params, old.bootstrap_params)
    low, high = np.percentile(old.bootstrap_params, [5, 95], axis=0)
    np.testing.assert_allclose([v for v in old.intervals.values()], np.c_[low, high])
    for name, value in fit.params.items():
        lo, hi = fit.intervals[name]
        assert lo < value < hi, name
        assert (lo, hi) != pytest.approx(old.intervals[name]), name
    with pytest.raises(ValueError, match="interval"):
        fit_decay(decay, interval="bca")


def test_an_undetermined_component_keeps_its_percentile_interval():
    # a plain exponential: the Gaussian time runs off, its error is unknown
    decay, _ = _noisy("exponential")
    fit = fit_decay(decay, "gaussian_exponential", n_bootstrap=40, random_state=0)
    old = fit_decay(
        decay,
        "gaussian_exponential",
        n_bootstrap=40,
        interval="percentile",
        random_state=0,
    )
    assert fit.params["T2G"] > 1e5
    assert fit.intervals["T2G"] == old.intervals["T2G"]
    lo, hi = fit.intervals["T2L"]
    assert lo < fit.params["T2L"] < hi and np.isfinite([lo, hi]).all()


def test_repeats_are_bootstrapped_over_repeats():
    repeats = [_noisy("exponential", noise=0.03, seed=s)[0] for s in range(6)]
    fit = fit_decay(repeats, n_bootstrap=100, random_state=0)
    assert fit.method == "repeats"
    low, high = fit.intervals["T2"]
    assert low < 300.0 < high
    mean = np.mean([d.amplitudes.real for d in repeats], axis=0)
    np.testing.assert_allclose(fit.values, mean)
    shifted = EchoDecay(T + 1.0, repeats[0].amplitudes)
    with pytest.raises(ValueError, match="share their echo times"):
        fit_decay([repeats[0], shifted])


def test_drop_first_and_phase():
    clean = 1.5 * np.exp(-T / 300.0)
    spoiled = clean.copy()
    spoiled[:2] *= 1.4  # stimulated echoes lift the first two
    decay = EchoDecay(T, spoiled * np.exp(1j * 2.0))  # any common phase
    fit = fit_decay(decay, drop_first=2, n_bootstrap=20, random_state=0)
    assert fit.params["T2"] == pytest.approx(300.0, rel=1e-6)
    assert fit.times.size == T.size - 2


def test_bad_settings_are_refused():
    decay, _ = _noisy("exponential")
    with pytest.raises(ValueError, match="model"):
        fit_decay(decay, "lorentzian")
    with pytest.raises(ValueError, match="n_bootstrap"):
        fit_decay(decay, n_bootstrap=5)
    with pytest.raises(ValueError, match="confidence"):
        fit_decay(decay, confidence=1.0)
    with pytest.raises(ValueError, match="needs at least 6 echoes"):
        fit_decay(decay, "biexponential", drop_first=56)
    with pytest.raises(TypeError, match="EchoDecay"):
        fit_decay(np.ones(5))


def test_plot_draws_the_data_and_the_fit():
    decay, _ = _noisy("exponential")
    ax = fit_decay(decay, n_bootstrap=20, random_state=0).plot()
    assert len(ax.lines) == 2 and "T2 =" in ax.get_legend().get_texts()[1].get_text()


def test_simulated_cpmg_tops_give_the_simulator_t2():
    sim = EchoSimulator(
        lattice_size=8, sequence=cpmg(20.0, 6), backend="numpy", random_state=0
    )
    table = {"kernel": ["gaussian"], "length": [2.0], "alpha_xy": [0.0]}
    table |= {"alpha_z": [0.0], "t2": [150.0]}
    echoes = sim.simulate(table)
    decay = EchoDecay.from_echoes(echoes[0], sim.times, sim.echo_times)
    np.testing.assert_allclose(decay.times, sim.echo_times)
    fit = fit_decay(decay, n_bootstrap=20, random_state=0)
    assert fit.params["T2"] == pytest.approx(150.0, rel=0.02)
    hahn = EchoDecay.from_echoes(np.vstack([echoes[0]] * 2), sim.times, [40.0, 80.0])
    np.testing.assert_allclose(hahn.amplitudes, decay.amplitudes[:2])
    with pytest.raises(ValueError, match="holds 2 traces"):
        EchoDecay.from_echoes(np.vstack([echoes[0]] * 2), sim.times, [40.0])


@pytest.mark.slow
def test_bootstrap_coverage_is_near_nominal():
    truth = 300.0
    t = np.arange(1, 41) * 25.0
    rng = np.random.default_rng(7)
    hits = 0
    n = 120
    for k in range(n):
        y = np.exp(-t / truth) + rng.normal(0, 0.02, t.size)
        low, high = fit_decay(
            EchoDecay(t, y), n_bootstrap=150, random_state=k
        ).intervals["T2"]
        hits += low <= truth <= high
    assert 0.8 <= hits / n <= 0.97
