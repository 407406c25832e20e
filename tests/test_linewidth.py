"""The linewidth as a sample parameter: per-echo column, line shape, prior, learning."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from sklearn.ensemble import RandomForestClassifier

from sknmr import EchoSimulator, Experiment
from sknmr._physics import draw_offsets, echo_rng
from sknmr.cli import main
from sknmr.datasets import load_echoes, make_echoes, save_echoes
from sknmr.inference import EchoInference, echoes_at_estimate, load_model, train_model
from sknmr.prior import Prior, check_prior, draw_extras, sample_prior

PARAMS = {
    "kernel": ["gaussian", "power", "rkky"],
    "length": [8.0, 2.0, 20.0],
    "alpha_xy": [0.05, 0.04, 0.03],
    "alpha_z": [0.02, 0.05, 0.08],
}


def small(**kw):
    return EchoSimulator(lattice_size=6, tau=3.0, random_state=0, **kw)


# -- the offsets -------------------------------------------------------------------
def test_lorentzian_offsets_are_the_former_draw_bit_for_bit():
    linewidth, cutoff = 0.08, 0.25
    nu = draw_offsets(echo_rng(3, 7), (16, 16), linewidth, cutoff)
    # the truncated Lorentzian as it was always drawn
    rng, half = echo_rng(3, 7), 0.5 * linewidth
    lo = 0.5 + np.arctan(-cutoff / half) / np.pi
    hi = 0.5 + np.arctan(cutoff / half) / np.pi
    u = lo + (hi - lo) * rng.random((16, 16))
    former = np.clip(half * np.tan(np.pi * (u - 0.5)), -cutoff, np.nextafter(cutoff, 0))
    np.testing.assert_array_equal(nu, former)


@pytest.mark.parametrize(
    "shape, inside",
    [
        # half of a Lorentzian lies within its half width at half maximum
        ("lorentzian", 0.5),
        # of a Gaussian, P(|z| < sqrt(2 ln 2)) = erf(sqrt(ln 2)) = 0.761
        ("gaussian", special.erf(np.sqrt(np.log(2)))),
    ],
)
def test_untruncated_offsets_within_half_the_width(shape, inside):
    linewidth = 0.05
    nu = draw_offsets(echo_rng(0, 0), (400, 400), linewidth, 1e3, shape)
    assert abs(np.mean(np.abs(nu) < linewidth / 2) - inside) < 0.005


def test_gaussian_offsets_follow_the_truncated_normal():
    linewidth, cutoff = 0.2, 0.1  # a line much wider than the window
    nu = draw_offsets(echo_rng(1, 2), (200, 200), linewidth, cutoff, "gaussian")
    assert nu.min() >= -cutoff and nu.max() < cutoff
    sigma = linewidth / (2 * np.sqrt(2 * np.log(2)))
    law = stats.truncnorm(-cutoff / sigma, cutoff / sigma, scale=sigma)
    assert stats.kstest(nu.ravel(), law.cdf).pvalue > 1e-3
    # one uniform per spin: the same uniforms as the Lorentzian's draw
    lorentz = draw_offsets(echo_rng(1, 2), (200, 200), linewidth, cutoff)
    rank = np.argsort(np.argsort(nu.ravel()))
    np.testing.assert_array_equal(rank, np.argsort(np.argsort(lorentz.ravel())))


# -- the column ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["lorentzian", "gaussian"])
def test_no_or_nan_linewidth_column_changes_nothing(shape):
    sim = small(line_shape=shape)
    echoes = sim.simulate(PARAMS)
    nan = sim.simulate({**PARAMS, "linewidth": [np.nan] * 3})
    np.testing.assert_array_equal(echoes, nan)


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian"])
def test_per_echo_linewidth_is_a_simulator_of_that_linewidth(shape):
    widths = [0.02, np.nan, 0.3]
    echoes = small(line_shape=shape).simulate({**PARAMS, "linewidth": widths})
    for i, width in enumerate(widths):
        own = small(line_shape=shape, linewidth=0.08 if np.isnan(width) else width)
        np.testing.assert_array_equal(echoes[i], own.simulate(PARAMS)[i])
    assert not np.array_equal(echoes[0], small(line_shape=shape).simulate(PARAMS)[0])


def test_a_wider_line_dephases_faster():
    sim = small(line_shape="gaussian")
    one = {k: v[:1] * 2 for k, v in PARAMS.items()}
    narrow, wide = sim.simulate({**one, "linewidth": [0.02, 0.2]}, echo_ids=[0, 0])
    n_tau = sim.n_tau
    assert wide[n_tau // 2] < narrow[n_tau // 2]


@pytest.mark.parametrize(
    "value, match",
    [
        (0.0, "linewidth must be > 0"),
        (-0.1, "linewidth must be > 0"),
        (np.inf, "linewidth must be finite"),
        ("wide", "linewidth must hold real numbers"),
        (True, "linewidth must hold real numbers"),
    ],
)
def test_bad_linewidth_column(value, match):
    one = {k: v[0] for k, v in PARAMS.items()}
    with pytest.raises(ValueError, match=match):
        small().simulate({**one, "linewidth": value})


def test_bad_line_shape():
    with pytest.raises(ValueError, match="line_shape"):
        small(line_shape="voigt").simulate(PARAMS)
    record = small().experiment.to_dict()
    with pytest.raises(ValueError, match="line_shape must be one of"):
        Experiment.from_dict({**record, "line_shape": "voigt"})
    with pytest.raises(TypeError, match="line_shape"):
        EchoSimulator.from_experiment(small().experiment, line_shape="gaussian")


# -- the experiment record ------------------------------------------------------------
def test_experiment_records_the_line_shape():
    lorentz, gauss = small().experiment, small(line_shape="gaussian").experiment
    # the default is left out of the stored form, so former keys still match
    assert "line_shape" not in lorentz.to_dict()
    assert "line_shape" not in repr(lorentz)
    assert gauss.to_dict()["line_shape"] == "gaussian"
    assert Experiment.from_dict(gauss.to_dict()) == gauss
    assert lorentz.key() != gauss.key()
    assert lorentz.differences(gauss) == (
        [],
        ["line_shape='gaussian' (not 'lorentzian')"],
    )
    again = EchoSimulator.from_experiment(gauss, random_state=0)
    assert again.line_shape == "gaussian"
    np.testing.assert_array_equal(
        again.simulate(PARAMS), small(line_shape="gaussian").simulate(PARAMS)
    )


# -- the prior ----------------------------------------------------------------------
def test_prior_draws_linewidth_log_uniformly_in_its_own_stream():
    prior, _ = check_prior(("power",), linewidth=(0.02, 0.2))
    assert prior["linewidth"] == [0.02, 0.2]
    widths = draw_extras(0, "power", np.arange(4000), prior)["linewidth"]
    assert widths.min() >= 0.02 and widths.max() <= 0.2
    logs = (np.log(widths) - np.log(0.02)) / np.log(10)
    assert stats.kstest(logs, "uniform").pvalue > 1e-3


@pytest.mark.parametrize(
    "others",
    [
        {},
        {"t1": (50.0, 100.0), "t2": (20.0, 40.0), "kernel_params": {"d_wave": (0, 1)}},
    ],
)
def test_linewidth_leaves_every_other_column_as_drawn(others):
    kw = dict(lattice_size=8, random_state=5, **others)
    without = sample_prior(9, **kw)
    with_ = sample_prior(9, linewidth=(0.01, 0.1), **kw)
    # after the couplings and relaxation times, before the kernel parameters
    after = "t2" if "t2" in others else "alpha_z"
    assert (
        list(with_.columns).index("linewidth") == list(without.columns).index(after) + 1
    )
    pd.testing.assert_frame_equal(with_.drop(columns="linewidth"), without)


def test_prior_object_stores_the_linewidth_range():
    prior = Prior(linewidth=(0.02, 0.2))
    assert list(prior.ranges)[-1] == "linewidth"
    assert Prior.from_dict(prior.to_dict()) == prior
    assert prior != Prior()


@pytest.mark.parametrize(
    "value, error, match",
    [
        ((0.0, 0.1), ValueError, "linewidth must be a range of full widths > 0"),
        ((0.2, 0.1), ValueError, "low <= high"),
        ((0.01, np.inf), ValueError, "finite"),
        ((0.01,), ValueError, r"\(low, high\) pair"),
        (("a", "b"), TypeError, "real numbers"),
    ],
)
def test_bad_linewidth_range(value, error, match):
    with pytest.raises(error, match=match):
        check_prior(linewidth=value)


# -- the datasets -------------------------------------------------------------------
def test_make_echoes_draws_and_simulates_the_linewidth(tmp_path):
    sim = EchoSimulator(lattice_size=6, tau=2.0)
    kw = dict(simulator=sim, random_state=0, linewidth=(0.02, 0.2))
    data = make_echoes(2, memory=tmp_path, **kw)
    assert data.target_names[:5] == [
        "kernel",
        "length",
        "alpha_xy",
        "alpha_z",
        "linewidth",
    ]
    assert data.settings["prior"]["linewidth"] == [0.02, 0.2]
    assert "linewidth (FWHM of the offsets) log-uniform in [0.02, 0.2]" in " ".join(
        data.DESCR.split()
    )
    # the drawn widths went to the simulator
    table = data.target[["kernel", "length", "alpha_xy", "alpha_z", "linewidth"]]
    again = sim.set_params(random_state=0).simulate(table, echo_ids=data.echo_ids)
    np.testing.assert_array_equal(data.data, again)
    # cached apart from the same draw at the simulator's linewidth
    plain = make_echoes(2, simulator=sim, random_state=0, memory=tmp_path)
    assert not np.array_equal(plain.data, data.data)
    np.testing.assert_array_equal(make_echoes(2, memory=tmp_path, **kw).data, data.data)
    # EchoSimulator.sample draws the same
    echoes, sampled = EchoSimulator(lattice_size=6, tau=2.0, random_state=0).sample(
        6, linewidth=(0.02, 0.2)
    )
    np.testing.assert_array_equal(sampled["linewidth"], data.target["linewidth"])
    np.testing.assert_array_equal(echoes, data.data)


def test_saved_dataset_keeps_the_linewidth_and_line_shape(tmp_path):
    sim = EchoSimulator(lattice_size=6, tau=2.0, line_shape="gaussian")
    data = make_echoes(2, simulator=sim, random_state=0, linewidth=(0.02, 0.2))
    save_echoes(data, tmp_path / "echoes.npz")
    again = load_echoes(tmp_path / "echoes.npz")
    assert again.experiment.line_shape == "gaussian"
    pd.testing.assert_frame_equal(again.target, data.target)
    np.testing.assert_array_equal(again.data, data.data)


# -- learning ------------------------------------------------------------------------
def test_echo_inference_learns_the_linewidth():
    from quantile_forest import ExtraTreesQuantileRegressor

    sim = EchoSimulator(lattice_size=6, tau=6.0)
    data = make_echoes(20, simulator=sim, random_state=0, linewidth=(0.02, 0.2))
    model = EchoInference(
        targets=("W", "linewidth"),
        regressor=ExtraTreesQuantileRegressor(20),
        classifier=RandomForestClassifier(10),
        calibration_size=0.4,
        ood_false_alarm=0.2,
        random_state=0,
    ).fit(data)
    table = model.predict(data.data[:5])
    for column in ("linewidth", "linewidth_lower", "linewidth_upper"):
        assert column in table.columns
    assert (table["linewidth_lower"] <= table["linewidth"]).all()
    assert (table["linewidth"] <= table["linewidth_upper"]).all()
    assert model.nonnegative_["linewidth"]
    # a model of many linewidths takes another simulator linewidth silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.check_compatible(EchoSimulator(lattice_size=6, tau=6.0, linewidth=0.02))
    with pytest.warns(UserWarning, match=r"lattice=Lattice.square\(8\)"):
        model.check_compatible(EchoSimulator(lattice_size=8, tau=6.0, linewidth=0.02))
    # the estimate's echoes are simulated at the estimated linewidth
    times, echoes = echoes_at_estimate(model, table.iloc[:1])
    assert set(echoes) >= {"estimate"} and echoes["estimate"].shape == times.shape


def test_train_model_with_the_linewidth_free():
    from quantile_forest import ExtraTreesQuantileRegressor

    sim = EchoSimulator(lattice_size=6, tau=6.0)
    kw = dict(
        n_per_kernel=10,
        confidence=0.8,
        ood_false_alarm=0.2,
        regressor=ExtraTreesQuantileRegressor(10),
        classifier=RandomForestClassifier(10),
    )
    model = train_model(sim, linewidth=(0.02, 0.2), **kw)
    assert model.targets_ == ["W", "L", "alpha_xy", "alpha_z", "linewidth"]
    assert train_model(sim, linewidth=(0.02, 0.2), targets=("W",), **kw).targets_ == [
        "W"
    ]
    with pytest.raises(ValueError, match="linewidth"):
        train_model(sim, linewidth=(0.2, 0.02), **kw)


@pytest.mark.slow  # trains the default forests: ~40 s on a loaded machine
def test_cli_infer_trains_with_the_linewidth_free(tmp_path, capsys):
    model = tmp_path / "model.skops"
    argv = ["infer", "--train", "--model", str(model), "--lattice-size", "6"]
    argv += ["--n-per-kernel", "10", "--tau", "6", "--confidence", "0.8", "-q"]
    assert main([*argv, "--linewidth", "0.02", "0.2"]) == 0
    assert load_model(model).targets_[-1] == "linewidth"
    for bad, match in (
        (["0.2", "0.02"], "argument --linewidth"),
        (["0.01", "0.02", "0.03"], "argument --linewidth"),
    ):
        with pytest.raises(SystemExit):
            main([*argv, "--overwrite", "--linewidth", *bad])
        assert match in capsys.readouterr().err


# -- the free-induction decay as features --------------------------------------------
def _fid_model(**kw):
    from quantile_forest import ExtraTreesQuantileRegressor

    params = dict(
        targets=("W", "linewidth"),
        regressor=ExtraTreesQuantileRegressor(20),
        classifier=RandomForestClassifier(10),
        calibration_size=0.4,
        ood_false_alarm=0.2,
        random_state=0,
    )
    return EchoInference(**{**params, **kw})


@pytest.fixture(scope="module")
def free_echoes():
    sim = EchoSimulator(lattice_size=8, tau=20.0)
    return make_echoes(30, simulator=sim, random_state=0, linewidth=(0.02, 0.2))


def test_linewidth_model_reads_the_free_induction_decay(free_echoes):
    model = _fid_model().fit(free_echoes)
    times = model.times_[model.fid_samples_]
    # "auto": 2 to 60 us after the first pulse, cut at the second (tau = 20 us)
    assert 2.0 <= times[0] < 2.0 + 2 * model.experiment_.dt
    assert times[-1] < 20.0
    n_window = model.window_.stop - model.window_.start
    features = model._features(free_echoes.data[:3])
    assert features.shape == (3, n_window + model.fid_samples_.size)
    # the FID's features: relative to its first sample
    np.testing.assert_allclose(features[:, n_window], 1.0)
    expected = free_echoes.data[:3, model.fid_samples_]
    np.testing.assert_allclose(features[:, n_window:], expected / expected[:, :1])
    # a span of one's own; None: the echo window alone, as without the linewidth
    own = _fid_model(fid_span=(5.0, 10.0)).fit(free_echoes)
    span = own.times_[own.fid_samples_]
    assert span[0] >= 5.0 and span[-1] <= 10.0
    assert _fid_model(fid_span=None).fit(free_echoes).fid_samples_ is None


def test_fid_span_leaves_models_without_the_linewidth_alone(free_echoes):
    auto = _fid_model(targets=("W", "L")).fit(free_echoes)
    assert auto.fid_samples_ is None
    none = _fid_model(targets=("W", "L"), fid_span=None).fit(free_echoes)
    pd.testing.assert_frame_equal(
        auto.predict(free_echoes.data), none.predict(free_echoes.data)
    )


def test_free_decay_features_do_not_depend_on_the_scale():
    from sknmr.inference._features import FreeDecayFeatures

    rng = np.random.default_rng(0)
    X = rng.random((4, 10)) + 0.1
    features = FreeDecayFeatures(columns=(2, 4, 6), n_times=10).fit(X)
    np.testing.assert_allclose(features.transform(7.5 * X), features.transform(X))
    # quadratures: the magnitude's decay, whatever the phase
    Z = X * np.exp(1j * rng.uniform(0, 2 * np.pi, size=(4, 1)))
    both = FreeDecayFeatures(columns=(2, 4, 6), n_times=10).fit_transform(
        np.hstack([Z.real, Z.imag])
    )
    np.testing.assert_allclose(both, features.transform(X))
    # an FID that is zero where it starts: no decay to read
    X[0, 2] = 0.0
    assert not features.transform(X)[0].any()
    with pytest.raises(ValueError, match="n_times=10"):
        FreeDecayFeatures(columns=(2,), n_times=10).fit(X[:, :7])


def test_the_free_induction_decay_learns_the_linewidth_better():
    from sklearn.metrics import r2_score

    sim = EchoSimulator(lattice_size=8, tau=20.0)
    train = make_echoes(90, simulator=sim, random_state=1, linewidth=(0.02, 0.2))
    test = make_echoes(40, simulator=sim, random_state=2, linewidth=(0.02, 0.2))
    truth = test.target["linewidth"]
    scores = {
        span: r2_score(
            truth, _fid_model(fid_span=span).fit(train).predict(test.data)["linewidth"]
        )
        for span in ("auto", None)
    }
    # measured: 0.87 with the FID, 0.72 from the echo window alone
    assert scores["auto"] > 0.8
    assert scores["auto"] > scores[None] + 0.05


def test_predict_needs_the_free_induction_decay_it_learnt_from(free_echoes):
    model = _fid_model().fit(free_echoes)
    X = free_echoes.data[:2].copy()
    first = model.fid_samples_[0]
    X[:, :first] = np.nan  # a dead time before the span: filled, not read
    table = model.predict(X)
    pd.testing.assert_frame_equal(
        table, model.predict(free_echoes.data[:2]), check_exact=False
    )
    X[:, first] = np.nan
    with pytest.raises(ValueError, match="free-induction decay from 2.07 us"):
        model.predict(X)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"fid_span": (5.0, 1.0)}, "0 <= start < stop"),
        ({"fid_span": (1.0,)}, "0 <= start < stop"),
        ({"fid_span": (-1.0, 3.0)}, "0 <= start < stop"),
        ({"fid_span": (2.0, 2.1)}, "at least two samples"),
        ({"fid_span": (25.0, 30.0)}, "0 sample"),
        ({"fid_span": (2.0, 20.0), "featurizer": "passthrough"}, "featurizer=None"),
        (
            {"fid_span": (1.0, 20.0), "augment": {"dead_time": 3.0}},
            r"within augment\['dead_time'\]=3 us",
        ),
    ],
)
def test_bad_fid_span(free_echoes, kw, match):
    with pytest.raises(ValueError, match=match):
        _fid_model(**kw).fit(free_echoes)


def test_fid_span_needs_a_known_grid(free_echoes):
    data, target = free_echoes.data, free_echoes.target
    model = _fid_model().fit(data, target)  # no simulator: "auto" reads no FID
    assert model.fid_samples_ is None
    with pytest.raises(ValueError, match="known grid"):
        _fid_model(fid_span=(2.0, 20.0)).fit(data, target)


def test_auto_fid_span_starts_after_an_augmented_dead_time(free_echoes):
    model = _fid_model(augment={"dead_time": 4.0, "copies": 1}).fit(free_echoes)
    assert model.times_[model.fid_samples_[0]] >= 4.0


def test_saved_linewidth_model_loads_untrusted(free_echoes, tmp_path):
    from sknmr.inference import save_model

    model = _fid_model().fit(free_echoes)
    save_model(model, tmp_path / "model.skops")
    again = load_model(tmp_path / "model.skops")
    np.testing.assert_array_equal(again.fid_samples_, model.fid_samples_)
    pd.testing.assert_frame_equal(
        again.predict(free_echoes.data[:3]), model.predict(free_echoes.data[:3])
    )
