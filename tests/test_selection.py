"""Tests for sknmr.selection.successive_elimination (paper Fig. 4(a))."""

import warnings

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from sknmr.screening import MissingWWarning, WScreenedClassifier
from sknmr.selection import _keep_above_median, successive_elimination


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=90,
        n_features=20,
        n_informative=3,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )


def test_keep_above_median_rule():
    imp = np.array([0.1, 0.5, 0.2, 0.9, 0.3, 0.0])
    # median 0.25: 0.5, 0.9, 0.3 are above; positions kept in order.
    np.testing.assert_array_equal(_keep_above_median(imp, 2), [1, 3, 4])
    # Three left, median is the middle one: one above, padded to min_features.
    np.testing.assert_array_equal(
        _keep_above_median(np.array([0.2, 0.5, 0.3]), 2), [1, 2]
    )
    # All tied: the first half.
    np.testing.assert_array_equal(_keep_above_median(np.full(6, 1 / 6), 2), [0, 1, 2])


def test_path_halves_until_two(data):
    X, y = data
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    path = successive_elimination(forest, X, y, scoring="f1", cv=3)
    np.testing.assert_array_equal(path.n_features, [20, 10, 5, 2])
    assert path.cv_scores.shape == (4, 3)
    np.testing.assert_allclose(path.mean_score, path.cv_scores.mean(axis=1))
    for i in range(1, len(path.support)):
        # Each step keeps a subset: the features above the previous median.
        prev, imp = path.support[i - 1], path.importances[i - 1]
        assert set(path.support[i]) <= set(prev)
        kept = np.isin(prev, path.support[i])
        if path.n_features[i] > 2:
            assert imp[kept].min() > np.median(imp)
    # An informative feature (0..2 with shuffle=False) survives.
    assert set(path.support[-1]) & {0, 1, 2}
    # Scores are those of the given folds, reproducible by hand.
    first = cross_val_score(forest, X, y, scoring="f1", cv=StratifiedKFold(3))
    np.testing.assert_allclose(path.cv_scores[0], first)
    assert path.estimators[-1].n_features_in_ == 2


def test_importance_getters(data):
    X, y = data
    pipe = make_pipeline(RandomOverSampler(random_state=0), LogisticRegression())
    auto = successive_elimination(pipe, X, y, cv=KFold(3), min_features=5)
    np.testing.assert_array_equal(auto.n_features, [20, 10, 5])
    path = successive_elimination(
        pipe,
        X,
        y,
        cv=KFold(3),
        min_features=5,
        importance_getter="named_steps.logisticregression.coef_",
    )
    np.testing.assert_array_equal(path.n_features, [20, 10, 5])
    called = successive_elimination(
        RandomForestClassifier(n_estimators=10, random_state=0),
        X,
        y,
        cv=3,
        min_features=5,
        importance_getter=lambda est: est.feature_importances_,
    )
    np.testing.assert_array_equal(called.n_features, [20, 10, 5])


def test_fit_params_reach_every_fit(data):
    X, y = data
    w = 0.1 + 0.2 * (X[:, 0] - X[:, 0].min()) / np.ptp(X[:, 0])
    clf = WScreenedClassifier(
        classifier=make_pipeline(
            RandomOverSampler(), RandomForestClassifier(n_estimators=5)
        ),
        bin_assignment="true",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingWWarning)
        path = successive_elimination(
            clf,
            X,
            y,
            cv=KFold(3, shuffle=True, random_state=0),
            min_features=10,
            params={"w": w},
        )
    assert path.estimators[0].screened_


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"min_features": 0}, ValueError, "min_features"),
        ({"min_features": 21}, ValueError, "min_features"),
        ({"min_features": 2.5}, TypeError, "min_features"),
        ({"importance_getter": 3}, TypeError, "importance_getter"),
    ],
)
def test_bad_arguments(data, kwargs, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        successive_elimination(DecisionTreeClassifier(), X, y, **kwargs)


def test_estimator_without_importances(data):
    X, y = data
    with pytest.raises(ValueError, match="feature_importances_ or coef_"):
        successive_elimination(KNeighborsClassifier(), X, y, cv=3)


# -- the one feature-importance helper --------------------------------------------
def test_one_importance_helper_for_selection_plotting_and_screening():
    import sknmr.plotting._importance
    import sknmr.screening
    import sknmr.selection
    from sknmr.utils._importances import feature_importances

    assert sknmr.selection.feature_importances is feature_importances
    assert sknmr.plotting._importance.feature_importances is feature_importances
    assert sknmr.screening.feature_importances is feature_importances


def test_feature_importances_auto(data):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import StandardScaler

    from sknmr.utils._importances import feature_importances

    X, y = data
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        feature_importances(forest), forest.feature_importances_
    )
    # A binary coef_ (1, n): its absolute values; a multiclass one: the norm
    # over classes.
    linear = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(feature_importances(linear), np.abs(linear.coef_[0]))
    y3 = np.arange(len(y)) % 3
    multi = LogisticRegression().fit(X, y3)
    np.testing.assert_allclose(
        feature_importances(multi), np.linalg.norm(multi.coef_, axis=0)
    )
    # The last step of a pipeline (scikit-learn's or imbalanced-learn's).
    pipe = sk_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    np.testing.assert_allclose(
        feature_importances(pipe, n_features=20), np.abs(pipe[-1].coef_[0])
    )
    imb = make_pipeline(RandomOverSampler(random_state=0), forest).fit(X, y)
    np.testing.assert_array_equal(
        feature_importances(imb, n_features=20), imb[-1].feature_importances_
    )
    # Without coef_: only feature_importances_ counts.
    with pytest.raises(ValueError, match="LogisticRegression has no feature_imp"):
        feature_importances(linear, use_coef=False)
    # A last step that did not see the pipeline's features.
    reduced = sk_pipeline(PCA(3), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match=r"\(LogisticRegression\) saw 3 features"):
        feature_importances(reduced, n_features=20)
    # Nothing to read: the message names the estimator and what is needed.
    with pytest.raises(
        ValueError, match="KNeighborsClassifier has no feature_importances_ or coef_"
    ):
        feature_importances(KNeighborsClassifier().fit(X, y))
    with pytest.raises(ValueError, match="its last step PCA"):
        feature_importances(sk_pipeline(StandardScaler(), PCA(2)).fit(X, y))


def test_feature_importances_getters_and_shape(data):
    from sknmr.utils._importances import feature_importances

    X, y = data
    pipe = make_pipeline(RandomOverSampler(random_state=0), LogisticRegression())
    pipe.fit(X, y)
    by_path = feature_importances(pipe, "named_steps.logisticregression.coef_")
    np.testing.assert_allclose(by_path, np.abs(pipe[-1].coef_[0]))
    by_callable = feature_importances(pipe, lambda est: -est[-1].coef_[0])
    np.testing.assert_allclose(by_callable, by_path)
    with pytest.raises(ValueError, match="'named_steps.nothing' is not an attribute"):
        feature_importances(pipe, "named_steps.nothing")
    with pytest.raises(TypeError, match="getter must be 'auto'"):
        feature_importances(pipe, 3)
    with pytest.raises(ValueError, match=r"shape \(20,\); expected \(5,\)"):
        feature_importances(pipe, lambda est: np.ones(20), n_features=5)


def test_selection_reports_a_reducing_pipeline(data):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline as sk_pipeline

    X, y = data
    reduced = sk_pipeline(PCA(3), LogisticRegression())
    with pytest.raises(ValueError, match="saw 3 features, not the 20.*importance_get"):
        successive_elimination(reduced, X, y, cv=3)
