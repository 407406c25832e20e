"""Tests for sknmr.study (Table I, power false-positive rate, Fig. 5(e))."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import SVC, LinearSVC

import sknmr.study
from sknmr import _paper
from sknmr.study import (
    PAPER_TABLE_I,
    classification_models,
    classification_table,
    make_oversampled_pipeline,
    power_false_positive_rate,
    power_subsets,
    regression_table,
    row_normalized_confusion,
)


@pytest.fixture(scope="module")
def imbalanced():
    """Ordered like EchoSimulator.sample: 2:1 non-power:power, sorted by class."""
    X, y = make_classification(
        n_samples=120, n_features=6, weights=[0.67], random_state=0
    )
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


class SizeRecorder(ClassifierMixin, BaseEstimator):
    """Records its training class counts and the rows (column 0) it predicts."""

    fitted_counts = []
    predicted_rows = []

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        SizeRecorder.fitted_counts.append(np.bincount(y, minlength=2))
        return self

    def predict(self, X):
        SizeRecorder.predicted_rows.append(np.sort(X[:, 0]).astype(int))
        return np.ones(len(X), dtype=int)


def recorded(X, y, cv, random_state=0):
    """Run classification_table with a SizeRecorder on X with row ids."""
    SizeRecorder.fitted_counts, SizeRecorder.predicted_rows = [], []
    X_ids = np.column_stack([np.arange(len(X)), X])
    model = make_oversampled_pipeline(SizeRecorder(), random_state=0)
    classification_table(
        X_ids, y, {"recorder": model}, cv=cv, random_state=random_state
    )
    return SizeRecorder.fitted_counts, SizeRecorder.predicted_rows


def test_models_match_table_one_and_oversample_first():
    models = classification_models(random_state=0)
    assert list(models) == list(PAPER_TABLE_I)
    for pipe in models.values():
        assert isinstance(pipe, Pipeline)
        assert isinstance(pipe.steps[0][1], RandomOverSampler)
    assert isinstance(models["SVM"][-1], LinearSVC)
    assert isinstance(models["kernel SVM"][-1], SVC)
    assert models["kernel SVM"][-1].kernel == "rbf"
    assert "scale" in models["logistic regression"].named_steps
    assert "scale" not in models["random forest"].named_steps
    assert models["random forest"][-1].random_state == models["SGD"][-1].random_state


def test_classification_table(imbalanced):
    X, y = imbalanced
    models = {
        name: classification_models(random_state=0)[name]
        for name in ("logistic regression", "random forest")
    }
    models["extra"] = make_oversampled_pipeline(
        LinearSVC(random_state=0), scale=True, random_state=0
    )
    table = classification_table(X, y, models, cv=3, random_state=0)
    assert table.index.tolist() == ["logistic regression", "random forest", "extra"]
    assert ((table["f1"] > 0.5) & (table["f1"] <= 1)).all()
    assert table.loc["random forest", "paper_f1"] == 0.82
    assert np.isnan(table.loc["extra", "paper_f1"])
    again = classification_table(X, y, models, cv=3, random_state=0)
    pd.testing.assert_frame_equal(table, again)


def test_oversampling_stays_out_of_test_folds(imbalanced):
    X, y = imbalanced
    fitted_counts, predicted_rows = recorded(X, y, cv=4)
    # Training folds are balanced by the oversampler ...
    assert len(fitted_counts) == 4
    for counts in fitted_counts:
        assert counts[0] == counts[1]
    # ... and each test fold is predicted as is: every echo once, no copies.
    assert [len(rows) for rows in predicted_rows] == [30, 30, 30, 30]
    np.testing.assert_array_equal(
        np.sort(np.concatenate(predicted_rows)), np.arange(120)
    )


def test_int_cv_is_shuffled_and_seeded(imbalanced):
    X, y = imbalanced
    _, unshuffled = recorded(X, y, cv=StratifiedKFold(3))
    _, shuffled = recorded(X, y, cv=3, random_state=0)
    _, again = recorded(X, y, cv=3, random_state=0)
    _, other = recorded(X, y, cv=3, random_state=1)
    assert not np.array_equal(shuffled[0], unshuffled[0])
    np.testing.assert_array_equal(shuffled[0], again[0])
    assert not np.array_equal(shuffled[0], other[0])


def test_power_false_positive_rate():
    y_true = np.array([1, 1, 1, 1, 0, 0, 0])
    y_pred = np.array([1, 0, 0, 1, 1, 0, 0])
    assert power_false_positive_rate(y_true, y_pred) == 0.5
    assert power_false_positive_rate(y_true, y_pred) == pytest.approx(
        row_normalized_confusion(y_true, y_pred)[1, 0]
    )
    assert power_false_positive_rate(["p", "n"], ["n", "n"], power_label="p") == 1.0
    assert np.isnan(power_false_positive_rate([0, 0], [1, 0]))


def test_power_subsets_need_power_column():
    with pytest.raises(ValueError, match="power"):
        power_subsets(pd.DataFrame({"W": [0.1]}))


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.random((120, 4))
    targets = pd.DataFrame(
        {
            "W": 0.1 + 0.2 * X[:, 0],
            "L": np.where(np.arange(120) % 3 == 1, 5 * X[:, 1], rng.random(120)),
            "alpha_xy": 0.01 + 0.09 * X[:, 2],
            "alpha_z": rng.random(120),
            "power": (np.arange(120) % 3 == 1).astype(int),
        }
    )
    return X, targets


def test_regression_table(regression_data):
    X, targets = regression_data
    table = regression_table(
        X,
        targets,
        regressor=RandomForestRegressor(30, oob_score=True, random_state=0),
        random_state=0,
    )
    assert table.index.names == ["subset", "target"]
    assert table.columns.tolist() == ["oob_r2", "test_r2", "n_train", "n_test"]
    assert len(table) == 12
    counts = table.xs("W", level="target")
    assert counts.loc["all", "n_train"] + counts.loc["all", "n_test"] == 120
    assert counts.loc["power", "n_train"] + counts.loc["power", "n_test"] == 40
    # Learnable targets score high, noise does not; L is learnable on power only.
    assert table.loc[("all", "W"), "test_r2"] > 0.8
    assert table.loc[("all", "W"), "oob_r2"] > 0.8
    assert table.loc[("all", "alpha_z"), "test_r2"] < 0.3
    assert table.loc[("power", "L"), "test_r2"] > 0.6
    assert table.loc[("non-power", "L"), "test_r2"] < 0.3


def test_regression_table_default_forest_and_custom_subsets(regression_data):
    X, targets = regression_data
    table = regression_table(
        X,
        targets,
        target_names=["W"],
        subsets={"low": targets["W"] < 0.2},
        random_state=0,
        n_jobs=1,
    )
    assert table.index.tolist() == [("low", "W")]
    assert np.isfinite(table["oob_r2"]).all()
    no_oob = regression_table(
        X, targets, target_names=["W"], regressor=LinearRegression(), random_state=0
    )
    assert np.isnan(no_oob["oob_r2"]).all()
    assert (no_oob["test_r2"] > 0.99).all()


def test_regression_table_missing_target(regression_data):
    X, targets = regression_data
    with pytest.raises(ValueError, match="target_names"):
        regression_table(X, targets.drop(columns="L"))


def test_public_names():
    # Every name sknmr.study and sknmr.reproduce exported is importable here.
    names = {
        "PAPER",
        "PAPER_TABLE_I",
        "PRESETS",
        "REGRESSION_TARGETS",
        "classification_analysis",
        "classification_models",
        "classification_table",
        "elbow_point",
        "latent_orderings",
        "make_oversampled_pipeline",
        "pca_kmeans_analysis",
        "power_false_positive_rate",
        "power_subsets",
        "prepare_features",
        "regression_analysis",
        "regression_table",
        "reproduce",
        "row_normalized_confusion",
        "table_i",
        "vae_analysis",
    }
    assert set(sknmr.study.__all__) == names
    for name in names:
        assert hasattr(sknmr.study, name), name
    # The paper's numbers are those of sknmr._paper, not copies.
    assert sknmr.study.PAPER_TABLE_I is _paper.PAPER_TABLE_I
    assert sknmr.study.PAPER is _paper.PAPER_RESULTS


def test_import_loads_neither_torch_nor_matplotlib():
    code = (
        "import sys, sknmr.study; "
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_int_seed_is_used_as_given(regression_data):
    # An int random_state seeds every model and split as given
    # (sknmr.utils._random.check_seed); a RandomState draws one seed.
    models = classification_models(random_state=7)
    for name in ("SVM", "kernel SVM", "SGD", "decision tree", "random forest"):
        assert models[name][-1].random_state == 7
    assert models["SGD"][0].random_state == 7
    drawn = classification_models(random_state=np.random.RandomState(0))
    assert drawn["SGD"][-1].random_state == np.random.RandomState(0).randint(2**31 - 1)
    with pytest.raises(ValueError, match="random_state"):
        classification_models(random_state=-1)
    X, targets = regression_data
    fitted = []

    class Recorder(LinearRegression):
        def fit(self, X, y):
            fitted.append(np.asarray(X)[:, 0].astype(int))
            return super().fit(X, y)

    X_ids = np.column_stack([np.arange(len(X)), X])
    regression_table(
        X_ids,
        targets,
        target_names=["W"],
        subsets={"all": np.ones(len(X), dtype=bool)},
        regressor=Recorder(),
        random_state=7,
    )
    train, _ = train_test_split(np.arange(len(X)), test_size=0.25, random_state=7)
    np.testing.assert_array_equal(fitted[0], train)
