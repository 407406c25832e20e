"""Tests for sknmr.study (Table I, power false-positive rate, Fig. 5(e))."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import SVC, LinearSVC

import sknmr.study
from sknmr import _paper
from sknmr.study import (
    ABLATION_METRICS,
    ABLATIONS,
    PAPER_TABLE_I,
    PAPER_TARGETS,
    ablation_row,
    classification_models,
    classification_table,
    make_oversampled_pipeline,
    oversample_before_split,
    oversampling_ablation,
    power_false_positive_rate,
    power_subsets,
    regression_table,
    row_normalized_confusion,
    screening_ablation,
    which_settings_reproduce,
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
    assert table.columns.tolist() == [
        "f1_weighted",
        "f1_weighted_std",
        "f1_binary",
        "f1_binary_std",
        "f1_macro",
        "f1_macro_std",
        "paper_f1",
    ]
    for average in ("weighted", "binary", "macro"):
        column = table[f"f1_{average}"]
        assert ((column > 0.5) & (column <= 1)).all()
    assert table.loc["random forest", "paper_f1"] == 0.82
    assert np.isnan(table.loc["extra", "paper_f1"])
    again = classification_table(X, y, models, cv=3, random_state=0)
    pd.testing.assert_frame_equal(table, again)


def test_three_f1_averages_match_f1_score(imbalanced):
    # Each column is the mean over the folds of sklearn's f1_score with that
    # average on the fold's predictions; binary is the power class (1).
    X, y = imbalanced
    model = make_oversampled_pipeline(
        LogisticRegression(max_iter=1000), scale=True, random_state=0
    )
    table = classification_table(X, y, {"m": model}, cv=4, random_state=0)
    folds = StratifiedKFold(4, shuffle=True, random_state=0).split(X, y)
    scores = {"weighted": [], "binary": [], "macro": []}
    for train, test in folds:
        y_pred = clone(model).fit(X[train], y[train]).predict(X[test])
        for average in scores:
            scores[average].append(f1_score(y[test], y_pred, average=average))
    for average, values in scores.items():
        assert table.loc["m", f"f1_{average}"] == pytest.approx(np.mean(values))
        assert table.loc["m", f"f1_{average}_std"] == pytest.approx(np.std(values))
    # The three differ on an imbalanced problem.
    assert len({round(np.mean(v), 6) for v in scores.values()}) == 3
    # A hand-made case: 2:1 classes, the power class half recalled.
    y_true, y_pred = [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 0]
    f1_power, f1_other = 2 / 3, 8 / 9
    assert f1_score(y_true, y_pred) == pytest.approx(f1_power)
    assert f1_score(y_true, y_pred, average="macro") == pytest.approx(
        (f1_power + f1_other) / 2
    )
    assert f1_score(y_true, y_pred, average="weighted") == pytest.approx(
        (f1_power * 2 + f1_other * 4) / 6
    )


def test_classification_table_scoring(imbalanced):
    X, y = imbalanced
    model = {
        "m": make_oversampled_pipeline(
            LinearSVC(random_state=0), scale=True, random_state=0
        )
    }
    table = classification_table(X, y, model, cv=3, scoring="f1", random_state=0)
    default = classification_table(X, y, model, cv=3, random_state=0)
    assert table.columns.tolist() == ["f1", "f1_std", "paper_f1"]
    assert table.loc["m", "f1"] == default.loc["m", "f1_binary"]
    table = classification_table(
        X, y, model, cv=3, scoring={"acc": "accuracy"}, random_state=0
    )
    assert table.columns.tolist() == ["acc", "acc_std", "paper_f1"]
    with pytest.raises(TypeError, match="scoring"):
        classification_table(X, y, model, cv=3, scoring=3)


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
        "ABLATIONS",
        "ABLATION_METRICS",
        "F1_SCORERS",
        "PAPER",
        "PAPER_TABLE_I",
        "PAPER_TARGETS",
        "PRESETS",
        "REGRESSION_TARGETS",
        "ablation_row",
        "classification_analysis",
        "classification_models",
        "classification_table",
        "core_metrics",
        "elbow_point",
        "lattice_ablation",
        "latent_orderings",
        "linewidth_ablation",
        "make_oversampled_pipeline",
        "oversample_before_split",
        "oversampling_ablation",
        "pca_kmeans_analysis",
        "power_false_positive_rate",
        "power_subsets",
        "prepare_features",
        "regression_analysis",
        "regression_table",
        "reproduce",
        "row_normalized_confusion",
        "screening_ablation",
        "table_i",
        "vae_analysis",
        "which_settings_reproduce",
        # designed experiments
        "DETECTIONS",
        "PROTOCOL_PRESETS",
        "default_experiments",
        "default_protocols",
        "protocol_figure",
        "protocol_study",
        "run_protocols",
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


# -- ablations ------------------------------------------------------------------
def test_oversample_before_split_leaks_copies():
    y = np.r_[np.zeros(60), np.ones(30)].astype(int)
    split = oversample_before_split(y, test_size=0.25, random_state=0)
    # Balanced, every original row kept, minority rows repeated.
    assert np.bincount(y[split.index]).tolist() == [60, 60]
    assert set(split.index) == set(range(90))
    assert sorted(np.r_[split.train, split.test]) == list(range(120))
    test_power = split.index[split.test][y[split.index][split.test] == 1]
    leaked = np.isin(test_power, split.index[split.train]).mean()
    assert split.test_copies == pytest.approx(leaked) and leaked > 0.3
    again = oversample_before_split(y, test_size=0.25, random_state=0)
    np.testing.assert_array_equal(again.index, split.index)


@pytest.fixture(scope="module")
def noise():
    """Features that carry no class: any score above chance is a leak."""
    rng = np.random.default_rng(0)
    y = (np.arange(150) % 3 == 0).astype(int)
    return rng.normal(size=(150, 6)), y, rng.uniform(0.1, 0.3, 150)


def test_oversampling_ablation_measures_the_leak(noise):
    X, y, w = noise
    kwargs = dict(cv=3, n_estimators=20, random_state=0)
    result = oversampling_ablation(X, y, w, **kwargs)
    inside, before = result.rows
    assert inside["setting"].startswith("inside")
    assert before["setting"].startswith("before")
    assert inside["details"]["test_copies"] == 0.0
    assert before["details"]["test_copies"] > 0.3
    # Copies of trained-on power echoes in the test folds inflate every score.
    assert before["rf_f1_binary"] > inside["rf_f1_binary"] + 0.2
    assert before["rf_f1_weighted"] > inside["rf_f1_weighted"] + 0.1
    assert before["fpr_unscreened"] < inside["fpr_unscreened"] - 0.2
    for row in result.rows:
        assert set(ABLATION_METRICS) <= set(row)
        assert row["r2_W"] is None and row["fpr_oracle"] is not None
    # The screening ablation reuses the fits: the rows agree.
    screening = screening_ablation(X, y, w, analyses=result.analyses, **kwargs)
    fresh = screening_ablation(X, y, w, **kwargs)
    assert screening.rows == fresh.rows
    assert [r["setting"] for r in fresh.rows] == [
        "bins by out-of-fold W, oversampled inside training folds (sknmr)",
        "bins by true W, oversampled inside training folds (sknmr)",
        "bins by out-of-fold W, oversampled before the split (notebooks)",
        "bins by true W, oversampled before the split (notebooks)",
    ]
    by_setting = {r["setting"]: r for r in fresh.rows}
    true_inside = by_setting[
        "bins by true W, oversampled inside training folds (sknmr)"
    ]
    oof_inside = by_setting[
        "bins by out-of-fold W, oversampled inside training folds (sknmr)"
    ]
    # The oversampling row's screened / per-range figures are the OOF-bin routed
    # and true-bin per-range ones; the baseline is shared.
    assert inside["fpr_screened"] == oof_inside["fpr_screened"]
    assert inside["fpr_oracle"] == true_inside["fpr_oracle"]
    assert {r["fpr_unscreened"] for r in fresh.rows[:2]} == {inside["fpr_unscreened"]}
    with pytest.raises(ValueError, match="analyses lacks"):
        screening_ablation(X, y, w, analyses={"inside": {}}, **kwargs)


def test_ablation_row():
    row = ablation_row("lattice", "8 x 8", {"r2_W": np.float32(0.5)}, n_echoes=3)
    assert list(row)[:2] == ["ablation", "setting"]
    assert row["r2_W"] == 0.5 and type(row["r2_W"]) is float
    assert all(row[k] is None for k in ABLATION_METRICS if k != "r2_W")
    assert row["details"] == {"n_echoes": 3}
    with pytest.raises(ValueError, match="unknown keys"):
        ablation_row("lattice", "8 x 8", {"f1": 0.5})


def test_which_settings_reproduce_on_hand_made_rows():
    rows = [
        ablation_row(
            "oversampling",
            "before",
            {
                "rf_f1_weighted": 0.84,  # within 0.03 of 0.82
                "rf_f1_binary": 0.86,  # not
                "fpr_unscreened": 0.42,
                "fpr_screened": 0.35,
                "fpr_oracle": 0.18,
                "f1_oracle_binary": 0.9,
            },
        ),
        ablation_row(
            "screening",
            "x",
            {"fpr_unscreened": 0.30, "fpr_screened": 0.2, "fpr_oracle": 0.2},
        ),
        ablation_row(
            "lattice",
            "100 x 100",
            {
                "r2_W": 0.77,
                "r2_alpha_xy": 0.95,
                "r2_L_power": 0.81,
                "rf_f1_macro": 0.79,
            },
        ),
        ablation_row("lattice", "32 x 32", {"r2_L_power": 0.8, "r2_W": 0.8}),
    ]
    found = {f["number"]: f for f in which_settings_reproduce(rows)}
    assert list(found) == [name for name, *_ in PAPER_TARGETS]

    def matched(number):
        return [
            (m["ablation"], m["setting"], m["column"]) for m in found[number]["matches"]
        ]

    assert matched("Table I random forest F1") == [
        ("oversampling", "before", "rf_f1_weighted"),
        ("lattice", "100 x 100", "rf_f1_macro"),
    ]
    assert matched("W-screened F1") == [("oversampling", "before", "f1_oracle_binary")]
    # The pair needs both ends: 0.30 -> 0.2 is not 0.4 -> 0.2.
    assert matched("Power FPR unscreened -> W-screened") == [
        ("oversampling", "before", "fpr_unscreened -> fpr_oracle")
    ]
    assert found["Power FPR unscreened -> W-screened"]["matches"][0]["value"] == [
        0.42,
        0.18,
    ]
    assert matched("R^2 of W") == [
        ("lattice", "100 x 100", "r2_W"),
        ("lattice", "32 x 32", "r2_W"),
    ]
    assert matched("R^2 of alpha_xy") == []  # 0.95 is 0.05 away
    # "> 0.8" is strict.
    assert matched("R^2 of L (power)") == [("lattice", "100 x 100", "r2_L_power")]
    assert found["R^2 of L (power)"]["criterion"] == "above 0.8"
    # A tighter tolerance drops the near misses; no rows, no matches.
    tight = which_settings_reproduce(rows, tolerance=0.01)
    assert tight[0]["matches"] == [] and tight[0]["criterion"] == "within 0.01"
    assert all(not f["matches"] for f in which_settings_reproduce([]))


def test_paper_targets_are_the_papers():
    targets = {name: value for name, value, *_ in PAPER_TARGETS}
    assert targets["Table I random forest F1"] == PAPER_TABLE_I["random forest"]
    assert targets["W-screened F1"] == _paper.PAPER_RESULTS["screened_f1"]
    low, high = targets["Power FPR unscreened -> W-screened"]
    assert _paper.PAPER_RESULTS["power_fpr"] == f"~{low:g} -> ~{high:g}"
    assert _paper.PAPER_RESULTS["r2_W"] == f"~{targets['R^2 of W']:g}"
    assert _paper.PAPER_RESULTS["r2_alpha_xy"] == f"~{targets['R^2 of alpha_xy']:g}"
    assert _paper.PAPER_RESULTS["r2_L"].startswith(
        f"> {targets['R^2 of L (power)']:g} (power)"
    )
    assert ABLATIONS == ("oversampling", "screening", "linewidth", "lattice")


@pytest.fixture(scope="module")
def tiny_protocol_data():
    from sknmr import EchoSimulator
    from sknmr.datasets import make_echoes
    from sknmr.sequences import hahn_echo

    return make_echoes(
        3,
        simulator=EchoSimulator(lattice_size=4, tau=2.0, dtype="float32"),
        sequences={"hahn90": {"sequence": hahn_echo(2.0), "output": "complex"}},
        random_state=0,
    )


def _protocol_study_call(**kwargs):
    def call(data):
        return sknmr.study.protocol_study(
            data, protocols={"paper": (("hahn90",), "magnitude")}, **kwargs
        )

    return call


# (call on the tiny dataset, exception, message naming the parameter)
BAD_STUDY_CALLS = {
    "prepare_features(None)": (
        lambda data: sknmr.study.prepare_features(None),
        "'dataset' parameter",
    ),
    "prepare_features({})": (
        lambda data: sknmr.study.prepare_features({}),
        r"dataset must be a dataset .* lacks \['data', 'target', 'times'\]",
    ),
    "core_metrics(None)": (
        lambda data: sknmr.study.core_metrics(None),
        "'dataset' parameter",
    ),
    "core_metrics(cv=1)": (
        lambda data: sknmr.study.core_metrics(data, cv=1),
        "'cv' parameter",
    ),
    "prepare_features(sections=(0,))": (
        lambda data: sknmr.study.prepare_features(data, sections=(0,)),
        "sections must be a non-empty sequence of positive ints",
    ),
    "prepare_features(sections=())": (
        lambda data: sknmr.study.prepare_features(data, sections=()),
        "sections must be a non-empty sequence of positive ints",
    ),
    "elbow_point([], [])": (
        lambda data: sknmr.study.elbow_point([], []),
        "ks and sse must be non-empty",
    ),
    "elbow_point(3 ks, 2 sse)": (
        lambda data: sknmr.study.elbow_point([1, 2, 3], [3.0, 1.0]),
        "ks and sse must be non-empty 1-d sequences of the same length",
    ),
    "pca_kmeans_analysis(max_clusters=0)": (
        lambda data: sknmr.study.pca_kmeans_analysis(
            np.ones((4, 3)), pd.DataFrame({"W": np.ones(4)}), max_clusters=0
        ),
        "'max_clusters' parameter",
    ),
    "protocol_study(targets=['nope'])": (
        _protocol_study_call(targets=["nope"]),
        r"targets must be numeric columns of data.target .* got \['nope'\]",
    ),
    "protocol_study(targets=['kernel'])": (
        _protocol_study_call(targets=["kernel"]),
        "targets must be numeric columns",
    ),
    "protocol_study(cv=1)": (_protocol_study_call(cv=1), "'cv' parameter"),
    "protocol_study(cv=4), 3 power materials": (
        _protocol_study_call(cv=4),
        "cv=4 folds need at least 4 power",
    ),
}


@pytest.mark.parametrize("case", list(BAD_STUDY_CALLS))
def test_bad_study_arguments_fail_clearly(case, tiny_protocol_data):
    call, message = BAD_STUDY_CALLS[case]
    with pytest.raises((ValueError, TypeError), match=message):
        call(tiny_protocol_data)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cv": 1}, "'cv' parameter of run_protocols"),
        ({"n_per_kernel": 2, "cv": 3}, "cv=3 folds need at least 3 materials"),
        ({"tau": -1.0}, "'tau' parameter of run_protocols"),
        ({"lattice": 4}, "unknown settings"),
        ({"random_state": -1}, "'random_state' parameter"),
        ({"preset": "medium"}, "'preset' parameter of run_protocols"),
    ],
)
def test_run_protocols_checks_before_any_work(
    tmp_path, monkeypatch, overrides, message
):
    """No folder is made and nothing simulated when an argument is bad."""
    import sknmr.datasets

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated before checking the arguments")

    monkeypatch.setattr(sknmr.datasets, "make_echoes", no_simulation)
    out = tmp_path / "report"
    with pytest.raises((ValueError, TypeError), match=message):
        sknmr.study.run_protocols(out, verbose=0, **overrides)
    assert not out.exists()
