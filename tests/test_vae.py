"""Tests of sknmr.BetaVAE (tiny networks, a few seconds in all)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, minmax_scale
from skorch.exceptions import DeviceWarning

from sknmr import BetaVAE

SMALL = dict(hidden_sizes=(16,), max_epochs=4, batch_size=16, random_state=0)


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Tiny networks run fastest on one thread, and the CI machine is shared:
    # oversubscribed OpenMP threads can make them 50x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def decays(n=120, n_features=30, seed=0):
    """Curves exp(-k t) in (0, 1] with one latent factor k."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(1, 8, n)
    return np.exp(-np.outer(k, np.linspace(0, 1, n_features))), k


def test_shapes_and_feature_names():
    X, _ = decays()
    vae = BetaVAE(n_components=3, **SMALL).fit(X)
    Z = vae.transform(X)
    assert Z.shape == (120, 3) and Z.dtype == np.float32
    assert vae.n_features_in_ == 30
    assert list(vae.get_feature_names_out()) == ["betavae0", "betavae1", "betavae2"]
    assert vae.n_epochs_ == len(vae.history_) == 4
    curves = vae.inverse_transform(Z[:5])
    assert curves.shape == (5, 30)
    assert np.all((curves > 0) & (curves < 1))
    # The paper's architecture by default, the input size from the data.
    module = BetaVAE(max_epochs=1, random_state=0).fit(X).net_.module_
    widths = [
        m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert widths == [512, 128, 16, 4, 16, 128, 512, 30]
    leaky = [m for m in module.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert {m.negative_slope for m in leaky} == {0.01}


def test_transform_is_deterministic_latent_mean():
    X, _ = decays()
    vae = BetaVAE(**SMALL).fit(X)
    np.testing.assert_array_equal(vae.transform(X), vae.transform(X))
    mean, _ = vae.net_.module_.encode(torch.as_tensor(X[:3], dtype=torch.float32))
    np.testing.assert_allclose(vae.transform(X[:3]), mean.detach().numpy(), rtol=1e-6)


def test_latent_traversal():
    X, _ = decays()
    vae = BetaVAE(**SMALL).fit(X)
    values = [-2.5, 0.0, 2.5]
    curves = vae.latent_traversal(axis=1, values=values)
    assert curves.shape == (3, 30)
    np.testing.assert_array_equal(
        curves, vae.inverse_transform([[0.0, -2.5], [0.0, 0.0], [0.0, 2.5]])
    )
    shifted = vae.latent_traversal(axis=0, values=values, origin=[0.0, 1.0])
    np.testing.assert_array_equal(
        shifted, vae.inverse_transform([[-2.5, 1.0], [0.0, 1.0], [2.5, 1.0]])
    )
    assert vae.latent_traversal().shape == (11, 30)  # -2.5 .. 2.5 as Fig. 3(b)
    with pytest.raises(ValueError, match="axis must be an int in"):
        vae.latent_traversal(axis=2)
    with pytest.raises(ValueError, match="origin must have shape"):
        vae.latent_traversal(origin=[0.0])
    with pytest.raises(ValueError, match="n_components=2"):
        vae.inverse_transform(np.zeros((2, 3)))


@pytest.mark.parametrize("bad, message", [(-0.1, "Negative values"), (1.5, "above 1")])
def test_rejects_data_outside_unit_interval(bad, message):
    X, _ = decays()
    X_bad = X.copy()
    X_bad[3, 4] = bad
    with pytest.raises(ValueError, match=message) as err:
        BetaVAE(**SMALL).fit(X_bad)
    assert "minmax_scale" in str(err.value)
    vae = BetaVAE(**SMALL).fit(X)
    with pytest.raises(ValueError, match=message):
        vae.transform(X_bad)
    # The Gaussian likelihood takes any real data.
    Z = BetaVAE(likelihood="gaussian", **SMALL).fit(X_bad * 10 - 3).transform(X_bad)
    assert Z.shape == (120, 2)


def test_bad_parameters_are_named():
    X, _ = decays()
    with pytest.raises(ValueError, match="hidden_sizes"):
        BetaVAE(hidden_sizes=(8, 0)).fit(X)
    with pytest.raises(ValueError, match="likelihood"):
        BetaVAE(likelihood="poisson").fit(X)
    with pytest.raises(ValueError, match="validation_fraction"):
        BetaVAE(validation_fraction=1.5).fit(X)
    with pytest.raises(ValueError, match="device"):
        BetaVAE(device="not-a-device").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            BetaVAE(device="cuda").fit(X)
    with pytest.raises(ValueError, match="n_samples=1"):
        BetaVAE(**SMALL).fit(X[:1])


def test_same_seed_same_model_and_torch_state_untouched():
    X, _ = decays()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = BetaVAE(**SMALL).fit(X)
    assert torch.equal(torch.get_rng_state(), before)
    b = clone(a).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    for pa, pb in zip(
        a.net_.module_.parameters(), b.net_.module_.parameters(), strict=True
    ):
        assert torch.equal(pa, pb)
    c = clone(a).set_params(random_state=1).fit(X)
    assert not np.array_equal(a.transform(X), c.transform(X))
    # A RandomState instance in the same state gives the same model too.
    d = clone(a).set_params(random_state=np.random.RandomState(5)).fit(X)
    e = clone(a).set_params(random_state=np.random.RandomState(5)).fit(X)
    np.testing.assert_array_equal(d.transform(X), e.transform(X))


def test_early_stopping_on_validation_reconstruction():
    X, _ = decays(n=200)
    patience, max_epochs = 3, 300
    vae = BetaVAE(
        hidden_sizes=(16,),
        max_epochs=max_epochs,
        patience=patience,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    ).fit(X)
    recon = np.asarray(vae.history_[:, "valid_recon"])
    assert len(recon) == vae.n_epochs_ < max_epochs
    best = int(np.argmin(recon))
    # Stopped exactly `patience` epochs after the last improvement (within
    # EarlyStopping's relative threshold of 1e-4).
    assert recon[: best + 1].min() * (1 - 1e-4) <= recon[best + 1 :].min()
    assert vae.n_epochs_ - 1 - best <= patience
    assert "train_recon" in vae.history_[-1] and "valid_loss" in vae.history_[-1]


def test_no_validation_trains_max_epochs():
    X, _ = decays()
    vae = BetaVAE(**{**SMALL, "max_epochs": 3}, validation_fraction=None).fit(X)
    assert vae.n_epochs_ == 3
    assert "valid_recon" not in vae.history_[-1]


def test_pickle_round_trip():
    X, _ = decays()
    vae = BetaVAE(**SMALL).fit(X)
    again = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae.transform(X), again.transform(X))
    np.testing.assert_array_equal(
        vae.latent_traversal(values=[0.5]), again.latent_traversal(values=[0.5])
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_trained_model_unpickles_on_cpu():
    # No GPU here: simulate a model trained with device="cuda" by marking the
    # fitted net as a CUDA one before pickling. skorch then maps its tensors
    # to the CPU when unpickling where CUDA is unavailable.
    X, _ = decays()
    vae = BetaVAE(**SMALL).fit(X)
    expected = vae.transform(X)
    vae.set_params(device="cuda")
    vae.net_.device = "cuda"
    with pytest.warns(DeviceWarning) as record:
        again = pickle.loads(pickle.dumps(vae))
    assert any("no CUDA devices" in str(w.message) for w in record)
    assert torch.device(again.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in again.net_.module_.parameters())
    np.testing.assert_array_equal(again.transform(X), expected)


def test_pipeline_dataframe_and_set_output():
    X, _ = decays()
    frame = pd.DataFrame(X * 2, columns=[f"t{i}" for i in range(30)])
    pipe = make_pipeline(
        FunctionTransformer(
            minmax_scale, kw_args={"axis": 1}, feature_names_out="one-to-one"
        ),
        BetaVAE(**SMALL),
    ).set_output(transform="pandas")
    out = pipe.fit_transform(frame)
    assert list(out.columns) == ["betavae0", "betavae1"]
    assert out.shape == (120, 2)


def test_finds_the_one_latent_factor():
    # Smoke test of the learning itself: one factor drives the curves, so
    # some latent axis must order them by it.
    X, k = decays(n=200, n_features=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vae = BetaVAE(hidden_sizes=(32, 8), batch_size=32, random_state=0).fit(X)
    Z = vae.transform(X)
    rho = [abs(spearmanr(Z[:, j], k).statistic) for j in range(2)]
    assert max(rho) > 0.8, rho
    # and the decoder reproduces the curves.
    assert np.abs(vae.inverse_transform(Z) - X).mean() < 0.05


# -- float32 input: the documented make_echoes -> curve_scaler -> BetaVAE path --
def test_rounding_of_the_unit_range_is_clipped_not_refused():
    # minmax_scale alone rounds this float32 row's maximum to 1.0000001: that
    # is the most common scaler's rounding, not bad input; it is clipped.
    X = np.tile(np.array([0.1, 0.9, 0.5], dtype=np.float32), (8, 1))
    scaled = minmax_scale(X, axis=1)
    assert scaled.max() > 1
    vae = BetaVAE(**SMALL).fit(scaled)
    clipped = np.clip(scaled, 0, 1)
    np.testing.assert_array_equal(vae.transform(scaled), vae.transform(clipped))
    # beyond rounding, the message shows enough digits to see the problem
    with pytest.raises(ValueError, match=r"got values in \[-0\.100000001, "):
        BetaVAE(**SMALL).fit(X - np.float32(0.2))
    with pytest.raises(ValueError, match=r"got values in \[0, 1\.00001001\]"):
        BetaVAE(**SMALL).fit(np.minimum(scaled * np.float32(1.00001), 1.00001))


def test_float32_curve_scaler_output_fits():
    from sknmr.scaling import curve_scaler

    X = np.tile(np.array([0.1, 0.9, 0.5], dtype=np.float32), (8, 1))
    vae = make_pipeline(curve_scaler(), BetaVAE(**SMALL)).fit(X)
    assert vae.transform(X).shape == (8, 2)


def test_make_echoes_curve_scaler_betavae_in_float32():
    from sknmr import EchoSimulator, curve_scaler
    from sknmr.datasets import make_echoes

    simulator = EchoSimulator(lattice_size=4, tau=1.0, dtype="float32")
    X = make_echoes(2, simulator=simulator, random_state=0).data
    assert X.dtype == np.float32
    pipe = make_pipeline(curve_scaler(), BetaVAE(**SMALL))
    Z = pipe.fit_transform(X)
    assert Z.shape == (6, 2) and Z.dtype == np.float32
