"""scikit-learn's common checks and meta-estimator use for every sknmr estimator.

Estimators are found automatically (:func:`sknmr.utils.all_estimators`), so a
new estimator is checked without editing a list. Each one needs an entry,
keyed by its class name, in each of three registries below:

- ``ESTIMATOR_PARAMS``: small, seeded constructor parameters (fast checks);
- ``DATA_FACTORIES``: a function ``rng -> Data`` giving valid X, y (and fit
  parameters such as ``w``) for the Pipeline / GridSearchCV / pickle tests;
- ``GRID_PARAMS``: one of its parameters and two values for GridSearchCV.

A missing entry fails ``test_registries_cover_every_estimator`` (and the tests
that need it) with a message saying what to add. Checks that cannot apply are
listed in ``EXPECTED_FAILED_CHECKS`` with their reasons; they run as strict
xfails, so a check that starts passing must be taken off the list.

Estimator classes that no public module exports (private helpers, or public
names in private modules) are not found by ``all_estimators``: they go through
the same checks from ``PRIVATE_ESTIMATOR_PARAMS``, or are listed with a reason
in ``NOT_CHECKED``. ``test_every_estimator_class_goes_through_the_checks``
walks every module of the package, private ones included, and fails on a
``BaseEstimator`` subclass that is in none of these registries.
"""

import copy
import importlib
import inspect
import pickle
import pkgutil
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from quantile_forest import ExtraTreesQuantileRegressor
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.ensemble import (
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import sknmr
from sknmr.scaling import curve_scaler
from sknmr.utils import all_estimators

ESTIMATORS = dict(all_estimators())
TRANSFORMERS = dict(all_estimators(type_filter="transformer"))


def _estimator_classes():
    """Every concrete BaseEstimator subclass sknmr defines, private ones included.

    Name -> the classes of that name (one, unless two modules reuse a name).
    A module that fails to import raises, as in all_estimators.
    """
    found = {}
    for info in pkgutil.walk_packages(sknmr.__path__, prefix="sknmr."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and issubclass(cls, BaseEstimator)
                and not inspect.isabstract(cls)
            ):
                found.setdefault(name, []).append(cls)
    return found


ESTIMATOR_CLASSES = _estimator_classes()

# -- registries (one entry per estimator class name) ---------------------------
ESTIMATOR_PARAMS = {
    "EchoSimulator": dict(lattice_size=6, tau=1.0, random_state=0, backend="numpy"),
    # The checks feed series of only 2 samples: a window and sections that fit.
    "EchoWindow": dict(center=0.5, half_width=0.5, dt=1.0),
    # The same 2-sample window; Hamming, as a 2-sample Hann window is all zeros.
    "EchoSpectrum": dict(
        center=0.5,
        half_width=0.5,
        dt=1.0,
        apodization="hamming",
        parts=("magnitude", "real", "imag"),
    ),
    # Columns taken on the target grid's step (no source_times): 2 samples fit.
    "EchoResampler": dict(dt=1.0, n_times=2),
    "PolynomialSectionFeaturizer": dict(sections=(1, 2), degree=0, dt=1.0),
    # The checks' random X is not in [0, 1], which the Bernoulli likelihood needs.
    "BetaVAE": dict(
        hidden_sizes=(8,),
        max_epochs=3,
        batch_size=16,
        likelihood="gaussian",
        random_state=0,
    ),
    "WScreenedClassifier": dict(
        regressor=RandomForestRegressor(n_estimators=5, random_state=0),
        classifier=RandomForestClassifier(n_estimators=5, random_state=0),
        cv=2,
        random_state=0,
    ),
    # One target and no power flag: the checks' y is one column. A coverage of
    # 0.5 and a false-alarm rate of 0.25 need only a few calibration echoes.
    "EchoInference": dict(
        featurizer="passthrough",
        targets=("width",),
        power=None,
        regressor=ExtraTreesQuantileRegressor(n_estimators=5, random_state=0),
        confidence=0.5,
        ood_false_alarm=0.25,
        random_state=0,
    ),
}


@dataclass
class Data:
    """Valid input for one estimator: X, y and extra fit parameters."""

    X: np.ndarray
    y: np.ndarray
    fit_params: dict = field(default_factory=dict)
    columns: list = None  # column names for a DataFrame version of X


def _parameter_table(rng, n=18):
    """A valid EchoSimulator input: kernel code, length, alpha_xy, alpha_z."""
    codes = np.arange(n) % 3
    lengths = np.choose(
        codes, [rng.uniform(1, 3, n), rng.uniform(1, 3, n), rng.uniform(2, 6, n)]
    )
    X = np.column_stack([codes, lengths, rng.uniform(0.01, 0.1, (n, 2))])
    return Data(X, codes, columns=["kernel", "length", "alpha_xy", "alpha_z"])


def _curves(rng, n=40, n_features=12):
    """Series in [0, 1] whose class is visible in their level."""
    y = np.arange(n) % 2
    X = np.clip(
        0.3 + 0.4 * y[:, None] + 0.1 * rng.standard_normal((n, n_features)), 0, 1
    )
    return Data(X, y, columns=[f"x{i}" for i in range(n_features)])


def _screened_features(rng, n=60):
    """Features, a binary class and the coupling weight W in [0.1, 0.3] MHz."""
    data = _curves(rng, n=n, n_features=8)
    w = 0.1 + 0.2 * rng.uniform(size=n)
    data.X[:, 0] = w  # W is learnable from the features
    data.fit_params = {"w": w}
    return data


def _echo_table(rng, n=48, n_times=12):
    """Echo-like peaks, narrow or wide; y is the width class (0 or 1).

    An integer target, so that the forest classifier after EchoInference in
    the pipeline tests can take it too.
    """
    y = np.arange(n) % 2
    rate = np.where(y == 1, 0.1, 0.3) * rng.uniform(0.8, 1.2, n)
    t = np.arange(n_times)
    X = 0.5 * np.exp(-((t[None, :] - 8) ** 2) * rate[:, None])
    X += 0.01 * rng.uniform(size=(n, n_times))
    return Data(X, y, columns=[f"x{i}" for i in range(n_times)])


DATA_FACTORIES = {
    "EchoSimulator": _parameter_table,
    "EchoWindow": _curves,
    "EchoSpectrum": _curves,
    "EchoResampler": _curves,
    "PolynomialSectionFeaturizer": _curves,
    "BetaVAE": _curves,
    "WScreenedClassifier": _screened_features,
    "EchoInference": _echo_table,
}

GRID_PARAMS = {
    "EchoSimulator": {"pulse_angle": [90.0, 45.0]},
    "EchoWindow": {"center": [0.5, 5.0]},
    "EchoSpectrum": {"zero_fill": [1, 2]},
    "EchoResampler": {"n_times": [2, 12]},
    "PolynomialSectionFeaturizer": {"degree": [0, 1]},
    "BetaVAE": {"n_components": [1, 2]},
    "WScreenedClassifier": {"bin_assignment": ["true", "oof"]},
    "EchoInference": {"confidence": [0.5, 0.6]},
}

# -- the package's private estimator classes ------------------------------------
# Estimator classes that no public module exports, so all_estimators does not
# find them: small constructor parameters for the common checks, keyed by class
# name (the classes are found by walking every module, private ones included).
PRIVATE_ESTIMATOR_PARAMS = {
    # Both refinements on (differences, one principal component: the checks' X
    # has few columns), so that the checks cover every space it measures in.
    "KNNDistance": dict(n_neighbors=2, derivative_weight=1.0, n_components=1),
    # Two experiments of one sample each: the checks' X has 2 columns or more.
    # Phase-blind reads in the most steps (turned, then real and imaginary parts).
    "_ExperimentFeatures": dict(
        blocks={"first": slice(0, 1), "second": slice(1, 2)},
        windows={"first": np.arange(1), "second": np.arange(1)},
        experiments=("first", "second"),
        detection="phase-blind",
    ),
    # The checks cannot pass w: fit warns and chooses one second experiment for
    # all samples (the routing by W is tested in test_protocols.py).
    "_AdaptiveProtocolRegressor": dict(
        blocks={"first": slice(0, 1), "second": slice(1, 2)},
        windows={"first": np.arange(1), "second": np.arange(1)},
        first="first",
        options=("second",),
        n_estimators=5,
        cv=2,
        random_state=0,
    ),
}

#: BaseEstimator subclasses of the package that the common checks cannot take.
NOT_CHECKED = {
    "_VAENet": (
        "BetaVAE's skorch NeuralNet (its PyTorch training loop), built and fitted "
        "by BetaVAE, which goes through the checks; a skorch net takes a torch "
        "module, not the checks' constructor parameters and data."
    ),
    "FreeDecayFeatures": (
        "EchoInference's FID step: its columns index the samples of an echo of "
        "n_times samples (X is n_times or 2 n_times wide), which the checks' X of "
        "changing widths cannot be; EchoInference, which builds it, goes through "
        "the checks, and tests/test_linewidth.py tests it on echoes."
    ),
}

REGISTRIES = {
    "ESTIMATOR_PARAMS": ESTIMATOR_PARAMS,
    "DATA_FACTORIES": DATA_FACTORIES,
    "GRID_PARAMS": GRID_PARAMS,
}

# -- checks that cannot apply, with their reasons ------------------------------
_NOT_A_TABLE = (
    "EchoSimulator's X is a table of physical parameters (kernel code 0/1/2, "
    "length, alpha_xy, alpha_z: exactly 4 columns); the check's random X has "
    "{} columns, so fit/transform rightly raise ValueError."
)
_SIMULATOR_FAILURES = {
    check: _NOT_A_TABLE.format(n_columns)
    for n_columns, checks in {
        "2": [
            "check_estimators_overwrite_params",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_fit_idempotent",
            "check_fit_check_is_fitted",
            "check_n_features_in",
        ],
        "3": [
            "check_fit_score_takes_y",
            "check_dont_overwrite_parameters",
            "check_pipeline_consistency",
            "check_estimators_nan_inf",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_dict_unchanged",
            "check_fit2d_predict1d",
        ],
        "5": ["check_estimators_dtypes", "check_transformers_unfitted_stateless"],
        "10": ["check_dtype_object"],
    }.items()
    for check in checks
}
_SIMULATOR_FAILURES["check_fit2d_1sample"] = (
    "The check's X, one row of 10 columns, is not a 4-column parameter table; "
    "the ValueError says so rather than mentioning the single sample."
)

_TABLE = (
    "EchoInference.predict returns a DataFrame mixing float columns and the bool "
    "column 'ood', which the check's numeric comparison cannot take; the same "
    "outputs as floats (transform) are compared by test_inference.py."
)
_INFERENCE_FAILURES = {
    check: _TABLE
    for check in (
        "check_estimators_pickle",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit_idempotent",
    )
}
_INFERENCE_FAILURES["check_estimators_pickle(readonly_memmap=True)"] = _TABLE

EXPECTED_FAILED_CHECKS = {
    "EchoSimulator": _SIMULATOR_FAILURES,
    "EchoSpectrum": {
        "check_complex_data": (
            "EchoSpectrum takes complex echoes (quadrature M(t)) by design; the "
            "check's one-sample series cannot hold its window, so the ValueError "
            "says that instead of 'Complex data not supported'."
        )
    },
    "EchoInference": _INFERENCE_FAILURES,
    "_ExperimentFeatures": {
        "check_complex_data": (
            "_ExperimentFeatures reads complex echoes M(t) by design (quadrature "
            "and phase-blind detection); the check's one-column X cannot hold its "
            "two experiments, so the ValueError says that instead of 'Complex data "
            "not supported'."
        )
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


# -- helpers ------------------------------------------------------------------
def _require(name, registry):
    if name not in REGISTRIES[registry]:
        pytest.fail(
            f"{name} is a public sknmr estimator but has no entry in {registry} of "
            f"tests/test_common.py. Add one (see the module docstring) so that it "
            "is checked like every other estimator.",
            pytrace=False,
        )
    return REGISTRIES[registry][name]


def _make(name):
    params = copy.deepcopy(_require(name, "ESTIMATOR_PARAMS"))
    return ESTIMATORS[name](**params)


def _data(name):
    return _require(name, "DATA_FACTORIES")(np.random.default_rng(0))


def _pipeline(estimator):
    """The estimator in a Pipeline: a predictor last, a transformer before a forest."""
    if is_classifier(estimator) or is_regressor(estimator):
        return Pipeline([("scale", StandardScaler()), ("est", estimator)])
    return Pipeline(
        [
            ("est", estimator),
            ("rf", RandomForestClassifier(n_estimators=10, random_state=0)),
        ]
    )


def _routed(fit_params):
    return {f"est__{key}": value for key, value in fit_params.items()}


def _output(estimator, X):
    """What a fitted estimator produces: transform for transformers, else predict."""
    if hasattr(estimator, "transform"):
        return estimator.transform(X)
    return estimator.predict(X)


# -- tests --------------------------------------------------------------------
def test_discovery_finds_the_package_estimators():
    for name in ("EchoSimulator", "EchoWindow", "PolynomialSectionFeaturizer"):
        assert name in ESTIMATORS
    assert all(cls.__module__.startswith("sknmr.") for cls in ESTIMATORS.values())
    assert "EchoSimulator" in TRANSFORMERS


def test_every_estimator_class_goes_through_the_checks():
    """A new estimator class, public or private, must get a registry entry."""
    problems = []
    for name, classes in sorted(ESTIMATOR_CLASSES.items()):
        where = ", ".join(f"{cls.__module__}.{name}" for cls in classes)
        if len(classes) > 1:
            problems.append(f"{where}: one class name per estimator, please")
        elif name in ESTIMATORS and ESTIMATORS[name] is classes[0]:
            if name not in ESTIMATOR_PARAMS:
                problems.append(f"{where}: public, add it to ESTIMATOR_PARAMS")
            if name in PRIVATE_ESTIMATOR_PARAMS or name in NOT_CHECKED:
                problems.append(
                    f"{where}: public, take it off PRIVATE_ESTIMATOR_PARAMS and "
                    "NOT_CHECKED"
                )
        elif (name in PRIVATE_ESTIMATOR_PARAMS) == (name in NOT_CHECKED):
            problems.append(
                f"{where}: not exported by a public module, add it to exactly one "
                "of PRIVATE_ESTIMATOR_PARAMS (checked) and NOT_CHECKED (with why)"
            )
    for name in sorted({*PRIVATE_ESTIMATOR_PARAMS, *NOT_CHECKED}):
        if name not in ESTIMATOR_CLASSES:
            problems.append(f"{name}: no such estimator class in sknmr any more")
    assert not problems, "Estimator classes of sknmr and tests/test_common.py:\n" + (
        "\n".join(problems)
    )


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_registries_cover_every_estimator(name, registry):
    _require(name, registry)


def _checked_estimators():
    found = [_make(name) for name in sorted(ESTIMATORS) if name in ESTIMATOR_PARAMS]
    private = [
        ESTIMATOR_CLASSES[name][0](**copy.deepcopy(params))
        for name, params in sorted(PRIVATE_ESTIMATOR_PARAMS.items())
        if len(ESTIMATOR_CLASSES.get(name, ())) == 1
    ]
    # The documented per-curve scaler is scikit-learn's own transformer, configured.
    return [*found, *private, curve_scaler()]


# The checks fit without fit parameters, so WScreenedClassifier and the adaptive
# protocol's regressor warn (by design) that they cannot use W; expected here.
@pytest.mark.filterwarnings("ignore:WScreenedClassifier.fit got no w")
@pytest.mark.filterwarnings("ignore:_AdaptiveProtocolRegressor.fit got no w")
@parametrize_with_checks(
    _checked_estimators(),
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_in_pipeline(name):
    data = _data(name)
    pipe = _pipeline(_make(name)).fit(data.X, data.y, **_routed(data.fit_params))
    predicted = pipe.predict(data.X)
    assert predicted.shape == data.y.shape
    if is_classifier(pipe):
        assert set(np.unique(predicted)) <= set(np.unique(data.y))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_in_grid_search(name):
    data = _data(name)
    grid = {
        f"est__{key}": values for key, values in _require(name, "GRID_PARAMS").items()
    }
    search = GridSearchCV(_pipeline(_make(name)), grid, cv=3, error_score="raise")
    search.fit(data.X, data.y, **_routed(data.fit_params))
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ in search.cv_results_["params"]
    assert search.predict(data.X).shape == data.y.shape


@pytest.mark.parametrize("name", sorted(TRANSFORMERS))
def test_set_output_pandas(name):
    data = _data(name)
    frame = pd.DataFrame(
        data.X, columns=data.columns, index=np.arange(len(data.X)) + 100
    )
    estimator = _make(name).set_output(transform="pandas").fit(frame, data.y)
    out = estimator.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(estimator.get_feature_names_out())
    assert list(out.index) == list(frame.index)
    plain = _make(name).fit(frame, data.y).transform(frame)
    np.testing.assert_allclose(out.to_numpy(), plain)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_clone_and_pickle(name):
    data = _data(name)
    estimator = _make(name).fit(data.X, data.y, **data.fit_params)
    unfitted = clone(estimator)
    assert unfitted.get_params().keys() == estimator.get_params().keys()
    assert not any(
        key.endswith("_") and not key.startswith("_") for key in vars(unfitted)
    )
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(_output(restored, data.X), _output(estimator, data.X))
