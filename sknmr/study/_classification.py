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
    "F1_SCORERS",
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


#: The F1 averages of :func:`classification_table`: column -> scikit-learn scorer.
#: The paper does not say which average Table I reports; the first author's
#: notebooks compute ``f1_score(..., average="weighted")``.
F1_SCORERS = {"f1_weighted": "f1_weighted", "f1_binary": "f1", "f1_macro": "f1_macro"}


def _scorers(scoring):
    """``{column: scorer}`` from ``classification_table``'s ``scoring``."""
    if scoring is None:
        return dict(F1_SCORERS)
    if isinstance(scoring, dict):
        if not scoring:
            raise ValueError("scoring must not be an empty dict.")
        return dict(scoring)
    if isinstance(scoring, str):
        return {scoring: scoring}
    if callable(scoring):
        return {"score": scoring}
    raise TypeError(
        "scoring must be None (the three F1 averages), a scorer name, a callable "
        f"scorer or a dict of them; got {type(scoring).__name__}."
    )


def classification_table(
    X, y, models=None, *, cv=5, scoring=None, random_state=None, n_jobs=None
):
    """Cross-validated power vs non-power F1 per model (Table I).

    Every score is the mean over the folds of the score of each test fold,
    with its standard deviation over the folds.

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
    scoring : None, str, callable or dict, default=None
        None: the three F1 averages of :data:`F1_SCORERS`, columns
        ``f1_weighted`` (F1 of each class weighted by its support, the
        paper's like-for-like figure), ``f1_binary`` (F1 of the power class,
        1) and ``f1_macro`` (unweighted mean of the two classes' F1). A
        scorer name gives one column of that name, a callable one column
        ``score``, a dict one column per key.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
        Folds fitted in parallel.

    Returns
    -------
    table : pandas.DataFrame
        One row per model: each score's mean over the folds and its standard
        deviation (``<column>_std``), then ``paper_f1`` (Table I, NaN for
        models not in it). By default ``f1_weighted``, ``f1_weighted_std``,
        ``f1_binary``, ``f1_binary_std``, ``f1_macro``, ``f1_macro_std``,
        ``paper_f1``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sknmr.study import classification_table, make_oversampled_pipeline
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> models = {"logistic regression": make_oversampled_pipeline(
    ...     LogisticRegression(), scale=True, random_state=0)}
    >>> table = classification_table(X, y, models, cv=3, random_state=0)
    >>> table.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['f1_weighted', 'f1_weighted_std', 'f1_binary', 'f1_binary_std', 'f1_macro',
     'f1_macro_std', 'paper_f1']
    >>> table.index.tolist(), float(table.loc["logistic regression", "paper_f1"])
    (['logistic regression'], 0.795)
    >>> bool(0.5 < table.loc["logistic regression", "f1_weighted"] <= 1)
    True
    >>> classification_table(X, y, models, cv=3, scoring="accuracy",
    ...                      random_state=0).columns.tolist()
    ['accuracy', 'accuracy_std', 'paper_f1']
    """
    scorers = _scorers(scoring)
    if models is None:
        models = classification_models(random_state=random_state)
    splits = list(_check_cv(cv, y, random_state).split(X, y))
    rows = {}
    for name, model in models.items():
        scores = cross_validate(model, X, y, scoring=scorers, cv=splits, n_jobs=n_jobs)
        row = {}
        for column in scorers:
            row[column] = scores[f"test_{column}"].mean()
            row[f"{column}_std"] = scores[f"test_{column}"].std()
        row["paper_f1"] = PAPER_TABLE_I.get(name, np.nan)
        rows[name] = row
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
        One row per model: the three F1 averages of
        :func:`classification_table` (``f1_weighted``, ``f1_binary``,
        ``f1_macro``, each with its ``_std`` over the folds) and
        ``paper_f1``.
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
    (7, 7)
    """
    models = classification_models(random_state=random_state, n_jobs=n_jobs)
    models["random forest"].set_params(model__n_estimators=n_estimators)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = classification_table(X, y, models, cv=cv, random_state=random_state)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return table, messages


def _scores(y_true, y_pred):
    """Confusion counts and rates, the power FPR, non-power recall, three F1s."""
    rates = row_normalized_confusion(y_true, y_pred)
    scores = {
        "confusion": rates.tolist(),
        "counts": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        "power_fpr": power_false_positive_rate(y_true, y_pred),
        "non_power_recall": float(rates[0, 0]),
    }
    for key, average in (("binary", "binary"), ("macro", "macro")):
        scores[f"f1_{key}"] = float(
            f1_score(y_true, y_pred, average=average, zero_division=0.0)
        )
    scores["f1_weighted"] = float(
        f1_score(y_true, y_pred, average="weighted", zero_division=0.0)
    )
    return scores


def _per_true_w_range(model, X, w):
    """Predictions of a fitted WScreenedClassifier's bin models by *true* W.

    Each bin's model predicts the echoes whose true W lies in its bin (the
    paper's per-range evaluation): an upper bound that needs W known.
    """
    bins = model.w_bin(w)
    y_pred = np.empty(len(X), dtype=model.classes_.dtype)
    for k, estimator in enumerate(model.classifiers_):
        mask = bins == k
        if mask.any():
            y_pred[mask] = estimator.predict(X[mask])
    return y_pred


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
        ``non_power_recall``, ``f1_binary`` (F1 of the power class),
        ``f1_macro`` and ``f1_weighted`` (the two classes' F1 averaged
        without and with their support as weights: the paper's F1 is most
        likely the weighted one); and ``w_r2``, the test R^2 of the
        screening W regressor) and ``models``.
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
    y_pred = _per_true_w_range(models["screened_true_bins"], X[test], w[test])
    metrics["screened_oracle"] = _scores(y[test], y_pred)
    metrics["w_r2"] = float(r2_score(w[test], models["screened"].predict_w(X[test])))
    return Bunch(metrics=metrics, models=models)
