"""fit_echo and compare_kernels on small lattices."""

import matplotlib
import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.fitting import EchoModel, compare_kernels, estimate_noise, fit_echo
from sknmr.io import MeasuredEcho
from sknmr.sequences import hahn_echo
from sknmr.utils._random import derive_seed

matplotlib.use("Agg")

SEED = 0
# The disorder draw fit_echo's model uses with random_state=SEED: echoes made
# with it differ from the model's only by the parameters (and the noise).
MODEL_SEED = derive_seed(SEED, 0)
TRUTH = {"kernel": "power", "length": 2.0, "alpha_xy": 0.08, "alpha_z": 0.05}


def _sim(seed=MODEL_SEED, **kw):
    return EchoSimulator(lattice_size=8, tau=4.0, random_state=seed, **kw)


def _echo(sim, truth=TRUTH):
    return sim.simulate(truth)[0]


def test_noiseless_echo_recovered_exactly():
    sim = _sim()
    fit = fit_echo(
        _echo(sim),
        sim,
        kernel="power",
        parameters=["length", "alpha_xy"],
        fixed={"alpha_z": 0.05},
        init={"length": 1.5, "alpha_xy": 0.05},
        random_state=SEED,
        disorder_draws=0,
    )
    assert fit.success
    assert fit.params["alpha_xy"] == pytest.approx(0.08, rel=1e-3)
    assert fit.params["length"] == pytest.approx(2.0, rel=1e-2)
    assert fit.misfit < 1.5
    assert fit.intervals.loc["alpha_xy", "lower"] <= 0.08
    assert fit.intervals.loc["alpha_xy", "upper"] >= 0.08


def test_noisy_echo_with_unknown_gain_is_covered():
    sim = _sim()
    rng = np.random.default_rng(1)
    echo = 3.0 * _echo(sim) + 0.01 * rng.standard_normal(sim.n_times)
    fit = fit_echo(
        echo,
        sim,
        kernel="power",
        parameters=["alpha_xy"],
        fixed={"length": 2.0, "alpha_z": 0.05},
        random_state=SEED,
        disorder_draws=0,
    )
    assert fit.noise[0] == pytest.approx(0.01, rel=0.2)
    assert fit.gains[0].real == pytest.approx(3.0, rel=0.02)
    low, high = fit.intervals.loc["alpha_xy"]
    assert low <= 0.08 <= high
    assert high - low < 0.02
    np.testing.assert_allclose(
        np.abs(fit.fitted[0]), 3.0 * np.abs(_echo(sim)), atol=0.03
    )


def test_other_disorder_widens_intervals():
    """An echo of another lattice draw: the disorder, not the noise, sets the
    error, and the intervals count it."""
    data = _echo(_sim(seed=123))
    sim = _sim()
    kw = dict(
        kernel="power",
        parameters=["alpha_xy"],
        fixed={"length": 2.0, "alpha_z": 0.05},
        random_state=SEED,
        noise=1e-4,
    )
    without = fit_echo(data, sim, disorder_draws=0, **kw)
    with_disorder = fit_echo(data, sim, disorder_draws=4, **kw)
    width = lambda f: np.diff(f.intervals.loc["alpha_xy"].to_numpy())[0]  # noqa: E731
    assert width(with_disorder) > 1.5 * width(without)
    assert with_disorder.disorder_share["alpha_xy"] > 0.9
    low, high = with_disorder.intervals.loc["alpha_xy"]
    assert low <= 0.08 <= high


def test_alpha_z_interval_wide_from_magnitude_of_90_180_echo():
    """|M| of the 90-180 echo barely depends on alpha_z; a 45 degree echo read
    in quadrature does."""
    kw = dict(
        kernel="power",
        parameters=["alpha_xy", "alpha_z"],
        fixed={"length": 2.0},
        init={"alpha_xy": 0.08, "alpha_z": 0.05},
        random_state=SEED,
        noise=0.005,
        disorder_draws=0,
    )
    sim = _sim()
    blind = fit_echo(_echo(sim), sim, **kw)
    low, high = blind.intervals.loc["alpha_z"]
    assert high / low > 3
    seq = hahn_echo(4.0, angle=45.0)
    quad_sim = EchoSimulator(
        lattice_size=8, sequence=seq, random_state=MODEL_SEED, output="complex"
    )
    seeing = fit_echo(_echo(quad_sim), quad_sim, detection="quadrature", **kw)
    qlow, qhigh = seeing.intervals.loc["alpha_z"]
    assert qhigh - qlow < 0.2 * (high - low)
    assert qlow <= 0.05 <= qhigh


def _profile_and_laplace(echo, sim, **kw):
    fits = {
        interval: fit_echo(echo, sim, interval=interval, **kw)
        for interval in ("laplace", "profile")
    }
    return fits["laplace"], fits["profile"]


def test_profile_interval_covers_the_truth_and_agrees_with_laplace():
    sim = _sim()
    rng = np.random.default_rng(1)
    echo = 3.0 * _echo(sim) + 0.01 * rng.standard_normal(sim.n_times)
    laplace, profile = _profile_and_laplace(
        echo,
        sim,
        kernel="power",
        parameters=["alpha_xy", "alpha_z"],
        fixed={"length": 2.0},
        random_state=SEED,
        disorder_draws=0,
    )
    assert profile.interval == "profile" and laplace.profiles is None
    for name in ("alpha_xy", "alpha_z"):
        low, high = profile.intervals.loc[name]
        assert low <= TRUTH[name] <= high
        points = profile.profiles[name]
        # the estimate is the profile's minimum, and the ends lie on it
        assert points["delta_chi2"].min() == 0.0
        assert points["value"].is_monotonic_increasing
    # well identified: the likelihood is near quadratic, the two agree
    width = lambda f: np.diff(f.intervals.loc["alpha_xy"].to_numpy())[0]  # noqa: E731
    assert 0.5 < width(profile) / width(laplace) < 2.0
    assert profile.params["alpha_xy"] == laplace.params["alpha_xy"]


def test_profile_interval_is_the_box_for_alpha_z_from_magnitude_of_90_180_echo():
    sim = _sim()
    fit = fit_echo(
        _echo(sim),
        sim,
        kernel="power",
        parameters=["alpha_xy", "alpha_z"],
        fixed={"length": 2.0},
        init={"alpha_xy": 0.08, "alpha_z": 0.05},
        bounds={"alpha_z": (0.005, 0.2)},
        interval="profile",
        random_state=SEED,
        noise=0.02,
        disorder_draws=0,
    )
    assert tuple(fit.intervals.loc["alpha_z"]) == pytest.approx((0.005, 0.2))
    # the profile stays below the chi-square quantile up to both edges
    assert fit.profiles["alpha_z"]["delta_chi2"].max() < 2.706
    low, high = fit.intervals.loc["alpha_xy"]
    assert low <= 0.08 <= high and high - low < 0.1


def test_model_simulates_several_disorder_draws_in_one_batch():
    model = EchoModel.build(
        _sim(), "power", ["alpha_xy"], {"length": 2.0, "alpha_z": 0.05}, "magnitude", 0
    )
    thetas = np.full((3, 1), 0.08)
    together = model.simulate(thetas, echo_id=[1, 2, 3])[0]
    for k in range(3):
        alone = model.simulate(thetas[:1], echo_id=k + 1)[0][0]
        np.testing.assert_allclose(together[k], alone, rtol=1e-9, atol=1e-12)
    assert not np.allclose(together[0], together[1], rtol=1e-3)


def test_second_start_only_when_the_first_leaves_misfit():
    sim = _sim()
    echo = _echo(sim)
    kw = dict(
        parameters=["alpha_xy"],
        fixed={"length": 2.0, "alpha_z": 0.05},
        random_state=SEED,
        noise=1e-5,
        disorder_draws=0,
    )
    evaluations = {
        (kernel, n): fit_echo(echo, sim, kernel=kernel, n_starts=n, **kw)
        for kernel in ("power", "gaussian")
        for n in (1, 2)
    }
    right = evaluations[("power", 1)], evaluations[("power", 2)]
    assert right[0].misfit <= 1.25
    assert right[1].n_evaluations == right[0].n_evaluations
    wrong = evaluations[("gaussian", 1)], evaluations[("gaussian", 2)]
    assert wrong[0].misfit > 1.25
    assert wrong[1].n_evaluations > wrong[0].n_evaluations
    assert wrong[1].loss <= wrong[0].loss


def test_joint_fit_of_two_experiments_phase_blind():
    sims = [
        EchoSimulator(
            lattice_size=8,
            sequence=hahn_echo(4.0, angle=a),
            random_state=MODEL_SEED,
            output="complex",
        )
        for a in (90.0, 45.0)
    ]
    echoes = [_echo(s) for s in sims]
    echoes[1] = echoes[1] * 2.0 * np.exp(0.7j)  # its own receiver gain and phase
    fit = fit_echo(
        echoes,
        sims,
        kernel="power",
        parameters=["alpha_xy", "alpha_z"],
        fixed={"length": 2.0},
        init={"alpha_xy": 0.06, "alpha_z": 0.03},
        detection="phase-blind",
        random_state=SEED,
        disorder_draws=0,
    )
    assert fit.params["alpha_xy"] == pytest.approx(0.08, rel=1e-3)
    assert fit.params["alpha_z"] == pytest.approx(0.05, rel=1e-2)
    assert fit.gains[1] == pytest.approx(2.0 * np.exp(0.7j), rel=1e-3)
    assert fit.params["W"] == pytest.approx(0.21, rel=1e-2)
    axes = fit.plot()
    assert len(axes) == 2


def test_measured_echo_matches_array():
    sim = _sim()
    y = _echo(sim)
    measured = MeasuredEcho(sim.times, y, {"tau": sim.pulse_times[1]})
    kw = dict(
        kernel="power",
        parameters=["alpha_xy"],
        fixed={"length": 2.0, "alpha_z": 0.05},
        random_state=SEED,
        disorder_draws=0,
        noise=0.01,
    )
    a = fit_echo(y, sim, **kw)
    b = fit_echo(measured, sim, **kw)
    assert a.params["alpha_xy"] == pytest.approx(b.params["alpha_xy"], rel=1e-6)
    table = b.table()
    assert {"alpha_xy", "alpha_xy_lower", "W_upper", "L", "misfit"} <= set(table)


def test_compare_kernels_prefers_the_true_class():
    sim = _sim()
    result = compare_kernels(
        _echo(sim),
        sim,
        kernels=["power", "gaussian"],
        parameters=["length", "alpha_xy"],
        fixed={"alpha_z": 0.05},
        random_state=SEED,
        noise=0.002,
        disorder_draws=0,
        n_starts=1,
    )
    assert result.best == "power"
    assert result.p_power > 0.5
    assert result.table["probability"].sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_init_from_inference_model():
    from sknmr.inference import train_model

    sim = EchoSimulator(lattice_size=6, tau=4.0)
    model = train_model(
        sim, n_per_kernel=20, confidence=0.8, ood_false_alarm=0.2, n_jobs=1
    )
    fit_sim = EchoSimulator(lattice_size=6, tau=4.0, random_state=MODEL_SEED)
    fit = fit_echo(
        _echo(fit_sim),
        fit_sim,
        kernel="power",
        init=model,
        random_state=SEED,
        disorder_draws=0,
        noise=0.002,
    )
    assert fit.params["alpha_xy"] == pytest.approx(0.08, rel=0.05)
    comparison = compare_kernels(
        _echo(fit_sim),
        fit_sim,
        kernels=["power", "gaussian"],
        inference=model,
        parameters=["length", "alpha_xy"],
        fixed={"alpha_z": 0.05},
        random_state=SEED,
        disorder_draws=0,
        n_starts=1,
    )
    assert 0 <= comparison.inference_p_power <= 1


def test_estimate_noise_ignores_the_smooth_echo():
    sim = _sim()
    y = _echo(sim)
    rng = np.random.default_rng(0)
    assert estimate_noise(y) < 0.002
    noisy = y + 0.02 * rng.standard_normal(y.size)
    assert estimate_noise(noisy) == pytest.approx(0.02, rel=0.25)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"parameters": ["alpha_q"]}, "parameters must be distinct names"),
        ({"parameters": ["exponent"], "kernel": "power"}, "parameters must be"),
        ({"kernel": "cubic"}, "kernel must be one of"),
        ({"fixed": {"alpha_xy": 0.1}}, "both fitted and fixed"),
        ({"bounds": {"t2": (1, 2)}}, "which are not fitted"),
        ({"init": {"t2": 5.0}}, "which are not fitted"),
        ({"detection": "quadrature"}, "needs complex echoes"),
        ({"detection": "sideways"}, "detection must be one of"),
        ({"confidence": 1.5}, "confidence must be in"),
        ({"interval": "bootstrap"}, "interval must be one of"),
        ({"disorder_draws": 1}, "disorder_draws must be 0"),
        ({"noise": -1.0}, "noise must be a positive"),
        ({"init": "inference"}, "init must be None"),
        ({"parameters": ["alpha_xy"]}, "length is neither fitted nor fixed"),
    ],
)
def test_bad_input_is_refused_before_any_work(kwargs, message):
    sim = _sim()
    echo = np.ones(sim.n_times)
    with pytest.raises((ValueError, TypeError), match=message):
        fit_echo(echo, sim, **kwargs)


def test_echo_on_another_grid_is_refused():
    sim = _sim()
    with pytest.raises(ValueError, match="another grid"):
        fit_echo(np.ones(sim.n_times + 3), sim)
    measured = MeasuredEcho(sim.times, np.ones(sim.n_times), {"tau": 9.0})
    with pytest.raises(ValueError, match="measured with tau=9"):
        fit_echo(measured, sim)
    with pytest.raises(ValueError, match="one simulator"):
        fit_echo([np.ones(sim.n_times)] * 2, sim)


@pytest.mark.parametrize("interval", ["laplace", "profile"])
def test_command_line_fit_writes_table_and_figure(tmp_path, capsys, interval):
    from sknmr.cli import main
    from sknmr.io import write_echo

    sim = EchoSimulator(lattice_size=6, tau=4.0, output="complex", random_state=5)
    path = tmp_path / "echo.csv"
    write_echo(MeasuredEcho(sim.times, sim.simulate(TRUTH)[0]), path)
    out = tmp_path / "out"
    argv = (
        f"fit {path} --lattice-size 6 --tau 4 --kernels power --parameters alpha_xy "
        f"--fixed length=2 alpha_z=0.05 --interval {interval} --output {out} -q"
    )
    status = main(argv.split())
    assert status == 0
    assert (out / "fit.csv").exists() and (out / "fit.png").exists()
    assert "alpha_xy_lower" in capsys.readouterr().out


def test_command_line_fit_names_the_option(tmp_path, capsys):
    from sknmr.cli import main
    from sknmr.io import write_echo

    path = tmp_path / "echo.csv"
    write_echo(MeasuredEcho(np.arange(30) * 0.5, np.ones(30)), path)
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(path), "--parameters", "alpha_w"])
    assert exc.value.code == 2
    assert "argument --parameters" in capsys.readouterr().err


@pytest.mark.slow
def test_autodiff_gradient_reaches_the_same_fit():
    sim = EchoSimulator(lattice_size=4, tau=2.0, random_state=MODEL_SEED)
    kw = dict(
        kernel="power",
        parameters=["alpha_xy"],
        fixed={"length": 2.0, "alpha_z": 0.05},
        init={"alpha_xy": 0.06},
        random_state=SEED,
        disorder_draws=0,
        noise=0.001,
    )
    echo = _echo(sim)
    by_torch = fit_echo(echo, sim, gradient="autodiff", **kw)
    by_differences = fit_echo(echo, sim, **kw)
    assert by_torch.params["alpha_xy"] == pytest.approx(0.08, rel=1e-3)
    assert by_torch.params["alpha_xy"] == pytest.approx(
        by_differences.params["alpha_xy"], rel=1e-3
    )
