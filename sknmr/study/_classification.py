"""Power vs non-power classification: Table I, the confusion matrix, W screening."""

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline, make_pipeline
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import confusion_matrix, f1_score, r2_score
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import Bunch

from .._paper import PAPER_TABLE_I, PAPER_W_BINS
from ..screening import WScreenedClassifier
from ..utils._random import check_seed

__all__ = [
    "classification_analysis",
    "classification_models",
    "classification_table",
    "make_oversampled_pipeline",
    "power_false_positive_rate",
    "row_normalized_confusion",
    "table_i",
]


def make_oversampled_pipeline(model, *, scale=False, random_state=None):
    """``RandomOverSampler`` (then ``StandardScaler``) then ``model``.

    An imbalanced-learn pipeline resamples in ``fit`` only: the minority
    class is oversampled in each training fold and never in what is
    predicted or scored.

    Parameters
    ----------
    model : estimator
    scale : bool, default=False
        Standardize features after resampling (for distance- and
        gradient-based models).
    random_state : int, RandomState instance or None, default=None
        Seeds the oversampler.

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from sknmr.study import make_oversampled_pipeline
    >>> make_oversampled_pipeline(SVC(), scale=True).named_steps.keys()
    dict_keys(['oversample', 'scale', 'model'])
    """
    steps = [("oversample", RandomOverSampler(random_state=random_state))]
    if scale:
        steps.append(("scale", StandardScaler()))
    steps.append(("model", model))
    return Pipeline(steps)


def classification_models(random_state=None, n_jobs=None):
    """Table I's seven classifiers, each in an oversampling pipeline.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the oversamplers and the randomized models, all with one int
        seed: an int is used as given; a RandomState, a Generator or None
        (numpy's global random state) draws one.
    n_jobs : int, default=None
        For the k-nearest neighbors and the random forest.

    Returns
    -------
    models : dict of str to imblearn.pipeline.Pipeline
        Keyed like :data:`~sknmr.study.PAPER_TABLE_I`.

    Examples
    --------
    >>> from sknmr.study import classification_models
    >>> list(classification_models(random_state=0))  # doctest: +NORMALIZE_WHITESPACE
    ['logistic regression', 'k-nearest neighbors', 'SVM', 'kernel SVM', 'SGD',
     'decision tree', 'random forest']
    """
    rs = check_seed(random_state)
    models = {
        "logistic regression": (LogisticRegression(max_iter=1000), True),
        "k-nearest neighbors": (KNeighborsClassifier(n_jobs=n_jobs), True),
        "SVM": (LinearSVC(random_state=rs), True),
        "kernel SVM": (SVC(kernel="rbf", random_state=rs), True),
        "SGD": (SGDClassifier(random_state=rs), True),
        "decision tree": (DecisionTreeClassifier(random_state=rs), False),
        "random forest": (
            RandomForestClassifier(random_state=rs, n_jobs=n_jobs),
            False,
        ),
    }
    return {
        name: make_oversampled_pipeline(model, scale=scale, random_state=rs)
        for name, (model, scale) in models.items()
    }


def _check_cv(cv, y, random_state):
    """Shuffled stratified folds for an int (rows may be ordered by kernel)."""
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        return StratifiedKFold(
            n_splits=cv, shuffle=True, random_state=check_seed(random_state)
        )
    return check_cv(cv, y, classifier=True)


def classification_table(
    X, y, models=None, *, cv=5, scoring="f1", random_state=None, n_jobs=None
):
    """Cross-validated power vs non-power F1 per model (Table I).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Echo features (e.g. the windowed, per-curve scaled echoes).
    y : array-like of shape (n_samples,)
        1 for power-law kernels, 0 otherwise (the prior's ``power`` column).
    models : dict of str to estimator, default=None
        None: :func:`classification_models` seeded with ``random_state``.
        Oversampling belongs inside each model (an imbalanced-learn
        pipeline), so that test folds are never resampled.
    cv : int, cross-validation generator or iterable, default=5
        An int gives *shuffled* stratified folds (seeded by
        ``random_state``), the same for every model.
    scoring : str or callable, default="f1"
        F1 of the positive (power, 1) class by default, as in Table I.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
        Folds fitted in parallel.

    Returns
    -------
    table : pandas.DataFrame
        One row per model: ``f1`` (mean over folds), ``f1_std`` and
        ``paper_f1`` (Table I, NaN for models not in it).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sknmr.study import classification_table, make_oversampled_pipeline
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> models = {"logistic regression": make_oversampled_pipeline(
    ...     LogisticRegression(), scale=True, random_state=0)}
    >>> table = classification_table(X, y, models, cv=3, random_state=0)
    >>> table.index.tolist(), float(table.loc["logistic regression", "paper_f1"])
    (['logistic regression'], 0.795)
    >>> bool(0.5 < table.loc["logistic regression", "f1"] <= 1)
    True
    """
    if models is None:
        models = classification_models(random_state=random_state)
    splits = list(_check_cv(cv, y, random_state).split(X, y))
    rows = {}
    for name, model in models.items():
        scores = cross_validate(model, X, y, scoring=scoring, cv=splits, n_jobs=n_jobs)
        rows[name] = {
            "f1": scores["test_score"].mean(),
            "f1_std": scores["test_score"].std(),
            "paper_f1": PAPER_TABLE_I.get(name, np.nan),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def power_false_positive_rate(y_true, y_pred, *, power_label=1):
    """The paper's power-class "false-positive rate": power echoes called non-power.

    The paper reads it off the lower (true power) row of the row-normalized
    confusion matrix (Sec. III.B: "just above 0.4" unscreened, "about 0.2"
    with W screening). In standard terms it is the power class's miss rate,
    ``1 - recall(power)``; it is *not* the fraction of non-power echoes
    called power.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    power_label : int or str, default=1

    Returns
    -------
    rate : float
        NaN when ``y_true`` holds no power echo.

    Examples
    --------
    >>> from sknmr.study import power_false_positive_rate
    >>> power_false_positive_rate([1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 1])
    0.5
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    power = y_true == power_label
    if not power.any():
        return float("nan")
    return float(np.mean(y_pred[power] != power_label))


def row_normalized_confusion(y_true, y_pred, labels=(0, 1)):
    """Confusion matrix with each true-class row summing to 1 (Fig. 4(b-c)).

    A row of a class absent from ``y_true`` is all zeros.

    Examples
    --------
    >>> from sknmr.study import row_normalized_confusion
    >>> row_normalized_confusion([0, 0, 1, 1], [0, 0, 1, 0]).tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    return confusion_matrix(y_true, y_pred, labels=list(labels), normalize="true")


def table_i(X, y, *, cv=5, n_estimators=100, random_state=0, n_jobs=None):
    """Table I: cross-validated power vs non-power F1 of seven classifiers.

    Each classifier is an imbalanced-learn pipeline (oversampling, scaling
    where the model needs it, the model) from :func:`classification_models`,
    so the minority (power) class is oversampled in training folds only.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        1 power, 0 non-power.
    cv : int, default=5
        Shuffled stratified folds.
    n_estimators : int, default=100
        Trees of the random forest.
    random_state : int, default=0
    n_jobs : int, default=None
        For the random forest and k-nearest neighbors.

    Returns
    -------
    table : pandas.DataFrame
        One row per model: ``f1``, ``f1_std``, ``paper_f1``.
    warnings : list of str
        Distinct warnings raised while fitting (e.g. convergence).

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.study import table_i
    >>> y = np.r_[np.ones(10), np.zeros(20)].astype(int)
    >>> X = np.random.default_rng(0).normal(size=(30, 3)) + 3.0 * y[:, None]
    >>> table, _ = table_i(X, y, cv=3, n_estimators=5, random_state=0)
    >>> table.shape
    (7, 3)
    """
    models = classification_models(random_state=random_state, n_jobs=n_jobs)
    models["random forest"].set_params(model__n_estimators=n_estimators)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = classification_table(X, y, models, cv=cv, random_state=random_state)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return table, messages


def _scores(y_true, y_pred):
    """Confusion counts and rates, the power FPR, non-power recall and F1."""
    rates = row_normalized_confusion(y_true, y_pred)
    return {
        "confusion": rates.tolist(),
        "counts": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        "power_fpr": power_false_positive_rate(y_true, y_pred),
        "non_power_recall": float(rates[0, 0]),
        "f1": float(f1_score(y_true, y_pred, zero_division=0.0)),
    }


def classification_analysis(
    X,
    y,
    w,
    train,
    test,
    *,
    n_estimators=100,
    regression_max_features=1.0,
    cv=5,
    random_state=0,
    n_jobs=None,
):
    """Random forest power vs non-power, unscreened and W-screened (Fig. 4, C5).

    Fitted on ``train``, scored on ``test``; the minority class is
    oversampled inside training only. Four classifiers:

    - ``unscreened``: one oversampled random forest (Fig. 4(b-c));
    - ``screened``: :class:`~sknmr.WScreenedClassifier` over the paper's W
      bins with its default ``bin_assignment="oof"`` (training echoes binned
      by out-of-fold predicted W, test echoes routed by predicted W): what
      can be deployed;
    - ``screened_true_bins``: the same with training echoes binned by their
      true W (the paper's training protocol), test echoes routed by
      predicted W;
    - ``screened_oracle``: the ``screened_true_bins`` bin models, each scored
      on the test echoes whose *true* W lies in its bin, an upper bound
      that needs W to be known.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        1 power, 0 non-power.
    w : ndarray of shape (n_samples,)
        True W (MHz).
    train, test : ndarray of int
        Row indices.
    n_estimators : int, default=100
    regression_max_features : int, float or str, default=1.0
        ``max_features`` of the W regressor.
    cv : int, default=5
        Folds of the out-of-fold W prediction.
    random_state : int, default=0
    n_jobs : int, default=None

    Returns
    -------
    result : Bunch
        ``metrics`` (a dict per classifier: row-normalized ``confusion``,
        ``counts``, ``power_fpr`` (power echoes called non-power),
        ``non_power_recall``, ``f1`` of the power class; and ``w_r2``, the
        test R^2 of the screening W regressor) and ``models``.
    """
    X, y, w = np.asarray(X), np.asarray(y), np.asarray(w, dtype=float)
    forest = RandomForestClassifier(n_estimators=n_estimators, n_jobs=n_jobs)
    unscreened = make_oversampled_pipeline(
        forest.set_params(random_state=random_state), random_state=random_state
    ).fit(X[train], y[train])
    metrics = {"unscreened": _scores(y[test], unscreened.predict(X[test]))}
    models = {"unscreened": unscreened}
    regressor = RandomForestRegressor(
        n_estimators=n_estimators, max_features=regression_max_features, n_jobs=n_jobs
    )
    classifier = make_pipeline(
        RandomOverSampler(),
        RandomForestClassifier(n_estimators=n_estimators, n_jobs=n_jobs),
    )
    for name, assignment in (("screened", "oof"), ("screened_true_bins", "true")):
        model = WScreenedClassifier(
            regressor,
            classifier,
            bins=PAPER_W_BINS,
            bin_assignment=assignment,
            cv=cv,
            random_state=random_state,
        ).fit(X[train], y[train], w=w[train])
        metrics[name] = _scores(y[test], model.predict(X[test]))
        models[name] = model
    # The oracle: each bin's model on the test echoes of its true-W bin, binned
    # by the classifier's own routing.
    model = models["screened_true_bins"]
    bins = model._bin_index(w[test])
    y_pred = np.empty(len(test), dtype=y.dtype)
    for k, estimator in enumerate(model.classifiers_):
        mask = bins == k
        if mask.any():
            y_pred[mask] = estimator.predict(X[test][mask])
    metrics["screened_oracle"] = _scores(y[test], y_pred)
    metrics["w_r2"] = float(r2_score(w[test], models["screened"].predict_w(X[test])))
    return Bunch(metrics=metrics, models=models)
