"""Tests for sknmr.screening.WScreenedClassifier (W screening)."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as imb_pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknmr.screening import PAPER_W_BINS, MissingWWarning, WScreenedClassifier


@pytest.fixture(scope="module")
def data():
    """Two classes whose W (0.1..0.3) follows the first feature."""
    X, y = make_classification(
        n_samples=150, n_features=5, n_informative=3, random_state=0
    )
    w = 0.1 + 0.2 * (X[:, 0] - X[:, 0].min()) / np.ptp(X[:, 0])
    return X, y, w


def small(**params):
    """A fast, seeded screened classifier."""
    defaults = dict(
        regressor=RandomForestRegressor(n_estimators=5),
        classifier=imb_pipeline(
            RandomOverSampler(), RandomForestClassifier(n_estimators=5)
        ),
        random_state=0,
    )
    defaults.update(params)
    return WScreenedClassifier(**defaults)


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class and keeps the sample_weight it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.sample_weight_ = sample_weight
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


# -- fitting and attributes ------------------------------------------------------
@pytest.mark.parametrize("bin_assignment", ["oof", "true"])
def test_fit_attributes(data, bin_assignment):
    X, y, w = data
    clf = small(bin_assignment=bin_assignment).fit(X, y, w=w)
    assert clf.screened_
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.bin_edges_, PAPER_W_BINS)
    assert len(clf.classifiers_) == 3 and clf.bin_counts_.sum() == len(X)
    assert clf.regressor_.n_features_in_ == X.shape[1]
    assert clf.predict(X).shape == (len(X),)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.8
    if bin_assignment == "true":
        assert clf.oof_w_ is None
        expected = np.bincount(np.searchsorted([0.17, 0.23], w, side="right"))
        np.testing.assert_array_equal(clf.bin_counts_, expected)
    else:
        # Bins follow the out-of-fold W, which differs from the true W.
        assert clf.oof_w_.shape == w.shape
        expected = np.bincount(
            np.searchsorted([0.17, 0.23], clf.oof_w_, side="right"), minlength=3
        )
        np.testing.assert_array_equal(clf.bin_counts_, expected)
        assert not np.allclose(clf.oof_w_, w)


def test_routes_by_predicted_w(data):
    X, y, w = data
    clf = small().fit(X, y, w=w)
    bins = clf.predict_bin(X)
    np.testing.assert_array_equal(
        bins, np.searchsorted([0.17, 0.23], clf.predict_w(X), side="right")
    )
    y_pred = clf.predict(X)
    for k, model in enumerate(clf.classifiers_):
        np.testing.assert_array_equal(y_pred[bins == k], model.predict(X[bins == k]))


@pytest.mark.parametrize("constant, expected_bin", [(-1.0, 0), (0.5, 2), (0.3, 2)])
def test_out_of_edge_predictions_clip_to_end_bins(data, constant, expected_bin):
    X, y, w = data
    clf = small(regressor=DummyRegressor(strategy="constant", constant=constant))
    clf.fit(X, y, w=w)
    assert np.all(clf.predict_bin(X) == expected_bin)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classifiers_[expected_bin].predict(X)
    )


def test_out_of_edge_training_w_clips(data):
    X, y, w = data
    w_out = w.copy()
    w_out[:10] = 0.05  # below the first edge
    w_out[10:20] = 0.4  # above the last edge
    clf = small(bin_assignment="true").fit(X, y, w=w_out)
    expected = np.bincount(np.searchsorted([0.17, 0.23], w_out, side="right"))
    np.testing.assert_array_equal(clf.bin_counts_, expected)
    assert clf.bin_counts_.sum() == len(X)


def test_empty_bin_uses_fallback_fitted_on_all(data):
    X, y, w = data
    clf = small(bins=(0.1, 0.17, 0.23, 0.31, 0.5), bin_assignment="true")
    clf.fit(X, y, w=w)
    assert clf.bin_counts_[3] == 0
    assert clf.fallback_ is not None and clf.classifiers_[3] is clf.fallback_
    assert clf.fallback_[-1].n_features_in_ == X.shape[1]
    # Echoes predicted in the empty bin get the all-data model's answers.
    routed = clone(clf).set_params(
        regressor=DummyRegressor(strategy="constant", constant=0.4)
    )
    routed.fit(X, y, w=w)
    np.testing.assert_array_equal(routed.predict(X), routed.fallback_.predict(X))
    np.testing.assert_allclose(
        routed.predict_proba(X), routed.fallback_.predict_proba(X)
    )


def test_no_fallback_without_empty_bins(data):
    X, y, w = data
    assert small(bin_assignment="true").fit(X, y, w=w).fallback_ is None


def test_one_class_bin_is_constant_with_aligned_proba(data):
    X, y, w = data
    y = y.copy()
    first = w < 0.17
    y[first] = 1  # bin 0 holds class 1 only
    clf = small(bin_assignment="true").fit(X, y, w=w)
    assert isinstance(clf.classifiers_[0], DummyClassifier)
    in_first = clf.predict_bin(X) == 0
    assert in_first.any()
    np.testing.assert_array_equal(clf.predict(X)[in_first], 1)
    proba = clf.predict_proba(X)[in_first]
    np.testing.assert_array_equal(proba[:, 0], 0.0)
    np.testing.assert_array_equal(proba[:, 1], 1.0)


def test_bin_missing_a_class_multiclass_string_labels(data):
    X, _, w = data
    labels = np.array(["gaussian", "power", "rkky"])
    y = labels[np.arange(len(X)) % 3]
    y[(w >= 0.23) & (y == "gaussian")] = "rkky"  # last bin: no gaussian
    clf = small(bin_assignment="true").fit(X, y, w=w)
    np.testing.assert_array_equal(clf.classes_, labels)
    last = clf.predict_bin(X) == 2
    assert last.any()
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba[last, 0], 0.0)  # "gaussian" column
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)[last]) <= {"power", "rkky"}


# -- missing w and bad input ------------------------------------------------------
def test_missing_w_warns_and_fits_unscreened(data):
    X, y, _ = data
    with pytest.warns(MissingWWarning, match="no w"):
        clf = small().fit(X, y)
    assert not clf.screened_ and clf.regressor_ is None
    assert len(clf.classifiers_) == 1 and clf.bin_counts_.tolist() == [len(X)]
    np.testing.assert_array_equal(clf.predict(X), clf.classifiers_[0].predict(X))
    np.testing.assert_array_equal(clf.predict_bin(X), 0)
    with pytest.raises(AttributeError, match="without w"):
        clf.predict_w(X)


def test_missing_w_can_be_an_error(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingWWarning)
        with pytest.raises(MissingWWarning):
            small().fit(X, y)


@pytest.mark.parametrize(
    "bins",
    [(0.1,), (0.3, 0.2, 0.1), (0.1, 0.1, 0.3), (0.1, np.nan), [[0.1, 0.2]], "ab"],
)
def test_bad_bins(data, bins):
    X, y, w = data
    with pytest.raises(ValueError, match="bins"):
        small(bins=bins).fit(X, y, w=w)


@pytest.mark.parametrize(
    "w_bad, match",
    [
        (np.full(10, 0.2), "one W per echo"),
        (np.full(150, np.nan), "finite"),
        # A 2-d w is named as w, with its shape (not as "y").
        (np.full((150, 2), 0.2), r"w must be a 1-d array .*shape \(150, 2\)"),
        (np.full((2, 150), 0.2), r"w must be a 1-d array .*shape \(2, 150\)"),
        (np.float64(0.2), r"w must be a 1-d array .*shape \(\)"),
        (["a"] * 150, "w must be an array-like of floats"),
    ],
)
def test_bad_w(data, w_bad, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        small().fit(X, y, w=w_bad)


def test_column_vector_w_warns_naming_w(data):
    X, y, w = data
    with pytest.warns(DataConversionWarning, match=r"w has shape \(150, 1\)"):
        column = small(bin_assignment="true").fit(X, y, w=w[:, None])
    flat = small(bin_assignment="true").fit(X, y, w=w)
    np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))


def test_paper_bins_come_from_the_constants_module():
    from sknmr import _paper, screening

    assert screening.PAPER_W_BINS is _paper.PAPER_W_BINS
    assert WScreenedClassifier().bins is _paper.PAPER_W_BINS


def test_bad_bin_assignment(data):
    X, y, w = data
    with pytest.raises(InvalidParameterError, match="bin_assignment"):
        small(bin_assignment="predicted").fit(X, y, w=w)


def test_extra_fit_params_need_routing(data):
    X, y, w = data
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        small().fit(X, y, w=w, sample_weight=np.ones(len(X)))


# -- random states, importances, optional methods ----------------------------
def test_random_state_reproducible_and_seeds_unset_states(data):
    X, y, w = data
    a = small().fit(X, y, w=w)
    b = small().fit(X, y, w=w)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert isinstance(a.regressor_.random_state, int)
    seeds = [m[-1].random_state for m in a.classifiers_]
    assert all(isinstance(s, int) for s in seeds) and len(set(seeds)) == 3
    # A seed the user set is kept.
    kept = small(regressor=RandomForestRegressor(n_estimators=5, random_state=7))
    assert kept.fit(X, y, w=w).regressor_.random_state == 7
    # Without random_state nothing is seeded.
    free = small(random_state=None).fit(X, y, w=w)
    assert free.regressor_.random_state is None


def test_default_estimators(data):
    X, y, w = data
    clf = WScreenedClassifier(bin_assignment="true", random_state=0, n_jobs=1)
    clf.fit(X[:60], y[:60], w=w[:60])
    assert isinstance(clf.regressor_, RandomForestRegressor)
    names = [name for name, _ in clf.classifiers_[0].steps]
    assert names == ["randomoversampler", "randomforestclassifier"]
    assert clf.classifiers_[0][-1].n_jobs == 1


def test_feature_importances_weighted_by_bin_size(data):
    X, y, w = data
    clf = small(bin_assignment="true").fit(X, y, w=w)
    per_bin = np.array([m[-1].feature_importances_ for m in clf.classifiers_])
    expected = clf.bin_counts_ @ per_bin / clf.bin_counts_.sum()
    np.testing.assert_allclose(clf.feature_importances_, expected)
    np.testing.assert_allclose(clf.feature_importances_.sum(), 1.0)


def test_feature_importances_absent_without_inner_importances(data):
    X, y, w = data
    clf = small(classifier=LogisticRegression()).fit(X, y, w=w)
    assert not hasattr(clf, "feature_importances_")
    # A pipeline whose last step sees other features than the input's does
    # not rank the input features either.
    reduced = make_pipeline(
        PCA(2), RandomForestClassifier(n_estimators=5, random_state=0)
    )
    clf = small(classifier=reduced).fit(X, y, w=w)
    with pytest.raises(AttributeError, match="No per-bin classifier"):
        _ = clf.feature_importances_


def test_predict_proba_only_if_classifier_has_it(data):
    X, y, w = data
    clf = small(classifier=LinearSVC())
    assert not hasattr(clf, "predict_proba")
    clf.fit(X, y, w=w)
    assert clf.predict(X).shape == (len(X),)
    assert hasattr(small(), "predict_proba")


def test_cv_splitter_object(data):
    X, y, w = data
    clf = small(cv=KFold(3)).fit(X, y, w=w)
    assert clf.oof_w_.shape == w.shape


# -- scikit-learn integration ------------------------------------------------------
def test_clone_and_pickle(data):
    X, y, w = data
    clf = small().fit(X, y, w=w)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params()["bins"] == PAPER_W_BINS
    assert not hasattr(clone(clf), "classes_")


def test_pipeline_without_routing(data):
    X, y, w = data
    pipe = make_pipeline(StandardScaler(), small())
    pipe.fit(X, y, wscreenedclassifier__w=w)
    assert pipe[-1].screened_
    assert pipe.score(X, y) > 0.8


def test_cross_validate_and_grid_search_without_routing(data):
    X, y, w = data
    scores = cross_validate(small(), X, y, cv=3, params={"w": w})["test_score"]
    assert scores.shape == (3,) and np.all(scores > 0.6)
    grid = GridSearchCV(
        small(), {"classifier__randomforestclassifier__n_estimators": [2, 6]}, cv=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingWWarning)  # w must reach every fit
        grid.fit(X, y, w=w)
    assert grid.best_estimator_.screened_
    assert grid.best_params_["classifier__randomforestclassifier__n_estimators"] in (
        2,
        6,
    )


def test_routing_requests_w_by_default():
    with sklearn.config_context(enable_metadata_routing=True):
        routing = small().get_metadata_routing()
        assert routing.consumes("fit", ["w"]) == {"w"}
        declined = small().set_fit_request(w=False).get_metadata_routing()
        assert declined.consumes("fit", ["w"]) == set()


def test_metadata_routing(data):
    X, y, w = data
    with sklearn.config_context(enable_metadata_routing=True):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MissingWWarning)
            routed = cross_validate(small(), X, y, cv=3, params={"w": w})
            grid = GridSearchCV(
                small(),
                {"classifier__randomforestclassifier__n_estimators": [2, 6]},
                cv=3,
            ).fit(X, y, w=w)
            pipe = make_pipeline(StandardScaler(), small()).fit(X, y, w=w)
    assert grid.best_estimator_.screened_ and pipe[-1].screened_
    # Routing sends each split the same slice of w as the legacy fit params.
    legacy = cross_validate(small(), X, y, cv=3, params={"w": w})
    np.testing.assert_array_equal(routed["test_score"], legacy["test_score"])


def test_metadata_routing_sample_weight_sliced_per_bin(data):
    X, y, w = data
    weights = np.arange(len(X), dtype=float)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = small(
            regressor=DummyRegressor().set_fit_request(sample_weight=True),
            classifier=RecordingClassifier().set_fit_request(sample_weight=True),
            bin_assignment="true",
        )
        clf.fit(X, y, w=w, sample_weight=weights)
    bins = np.searchsorted([0.17, 0.23], w, side="right")
    for k, model in enumerate(clf.classifiers_):
        np.testing.assert_array_equal(model.sample_weight_, weights[bins == k])
    # The regressor got the whole, unsliced weights: a weighted mean of w.
    np.testing.assert_allclose(clf.regressor_.constant_, np.average(w, weights=weights))


# -- common checks on the screened path ----------------------------------------
class WFromFirstFeature(WScreenedClassifier):
    """Derives w from the first feature when fit gets none, so that
    scikit-learn's common checks (which call fit(X, y)) run the screened path.
    The unscreened fallback is covered by tests/test_common.py."""

    def fit(self, X, y, w=None, **fit_params):
        if w is None:
            try:
                with warnings.catch_warnings():  # complex X: the parent rejects it
                    warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
                    first = np.asarray(X, dtype=float)[:, 0]
                w = 0.1 + 0.2 / (1 + np.exp(-first))
            except (TypeError, ValueError, IndexError):
                w = None  # invalid X: let the parent raise its own error
        return super().fit(X, y, w=w, **fit_params)


@pytest.mark.filterwarnings("ignore::sknmr.screening.MissingWWarning")
@parametrize_with_checks(
    [
        WFromFirstFeature(
            RandomForestRegressor(n_estimators=5),
            imb_pipeline(RandomOverSampler(), RandomForestClassifier(n_estimators=5)),
            bin_assignment=mode,
            cv=2,
            random_state=0,
        )
        for mode in ("true", "oof")
    ]
)
def test_screened_path_common_checks(estimator, check):
    check(estimator)
