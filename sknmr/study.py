"""The paper's supervised study as a few functions (Sec. III.B-C, Table I, Fig. 5).

- :func:`classification_models` and :func:`classification_table`: Table I,
  power vs non-power F1 of seven standard classifiers, each in an
  imbalanced-learn pipeline so that the minority class is oversampled inside
  training folds only.
- :func:`power_false_positive_rate`: the paper's "false-positive rate" of
  the power class (Fig. 4(b-c), Figs. 8-9).
- :func:`regression_table`: Fig. 5(e), out-of-bag and test R^2 of random
  forests for W, L, alpha_xy and alpha_z, on all kernels and on the power /
  non-power subsets.

W screening itself is :class:`sknmr.WScreenedClassifier`; the successive
feature elimination of Fig. 4(a) is :func:`sknmr.selection.successive_elimination`.

Examples
--------
>>> from sklearn.datasets import make_classification
>>> from sknmr.study import classification_table
>>> X, y = make_classification(n_samples=90, n_features=5, weights=[0.67],
...                            random_state=0)
>>> table = classification_table(X, y, cv=3, random_state=0)
>>> table.columns.tolist()
['f1', 'f1_std', 'paper_f1']
"""

from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import confusion_matrix, r2_score
from sklearn.model_selection import (
    StratifiedKFold,
    check_cv,
    cross_validate,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_random_state

__all__ = [
    "PAPER_TABLE_I",
    "REGRESSION_TARGETS",
    "classification_models",
    "classification_table",
    "make_oversampled_pipeline",
    "power_false_positive_rate",
    "power_subsets",
    "regression_table",
    "row_normalized_confusion",
]

#: Table I of the paper: power vs non-power F1 score per model.
PAPER_TABLE_I = {
    "logistic regression": 0.795,
    "k-nearest neighbors": 0.793,
    "SVM": 0.796,
    "kernel SVM": 0.69,
    "SGD": 0.79,
    "decision tree": 0.756,
    "random forest": 0.82,
}

#: The regression targets of Fig. 5(e), in the paper's order.
REGRESSION_TARGETS = ("W", "L", "alpha_xy", "alpha_z")


def _seed(random_state):
    """An int seed from ``random_state`` (None stays None)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(2**31 - 1))


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
        Seeds the oversamplers and the randomized models.
    n_jobs : int, default=None
        For the k-nearest neighbors and the random forest.

    Returns
    -------
    models : dict of str to imblearn.pipeline.Pipeline
        Keyed like :data:`PAPER_TABLE_I`.

    Examples
    --------
    >>> list(classification_models(random_state=0))  # doctest: +NORMALIZE_WHITESPACE
    ['logistic regression', 'k-nearest neighbors', 'SVM', 'kernel SVM', 'SGD',
     'decision tree', 'random forest']
    """
    rs = _seed(random_state)
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
            n_splits=cv, shuffle=True, random_state=_seed(random_state)
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

    Examples
    --------
    >>> row_normalized_confusion([0, 0, 1, 1], [0, 0, 1, 0]).tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    return confusion_matrix(y_true, y_pred, labels=list(labels), normalize="true")


def power_subsets(targets):
    """Row masks for all kernels, power-law only and non-power only.

    Parameters
    ----------
    targets : pandas.DataFrame
        With a ``power`` column (1 power law, 0 otherwise).

    Returns
    -------
    subsets : dict of str to ndarray of bool
        ``{"all": ..., "power": ..., "non-power": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> masks = power_subsets(pd.DataFrame({"power": [0, 1, 0]}))
    >>> {name: mask.tolist() for name, mask in masks.items()}
    {'all': [True, True, True], 'power': [False, True, False],
     'non-power': [True, False, True]}
    """
    if "power" not in targets:
        raise ValueError("targets needs a 'power' column to build the power subsets.")
    power = np.asarray(targets["power"]) == 1
    return {"all": np.ones(power.size, dtype=bool), "power": power, "non-power": ~power}


def regression_table(
    X,
    targets,
    *,
    target_names=REGRESSION_TARGETS,
    subsets=None,
    regressor=None,
    test_size=0.25,
    random_state=None,
    n_jobs=None,
):
    """Out-of-bag and test R^2 of a random forest per target and subset (Fig. 5(e)).

    For each subset of rows and each target, the rows are split into
    training and test sets (the same split for every target of a subset),
    a random forest with ``oob_score=True`` is fitted on the training rows,
    and its out-of-bag R^2 and held-out test R^2 are recorded. No
    oversampling: duplicated rows would sit both in and out of the bag and
    inflate the out-of-bag score.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    targets : pandas.DataFrame
        The target table (as from :meth:`sknmr.EchoSimulator.sample`), with
        the ``target_names`` columns and, for the default subsets, ``power``.
    target_names : sequence of str, default=("W", "L", "alpha_xy", "alpha_z")
    subsets : dict of str to array-like of bool, default=None
        Row masks; None: :func:`power_subsets` ("all", "power", "non-power").
    regressor : regressor, default=None
        None: ``RandomForestRegressor(oob_score=True)`` seeded by
        ``random_state``. A given regressor is used as is (``oob_r2`` is
        its ``oob_score_`` if it has one, else NaN).
    test_size : float, default=0.25
    random_state : int, RandomState instance or None, default=None
        Seeds the splits and the default forest.
    n_jobs : int, default=None
        For the default forest.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (subset, target), columns ``oob_r2``, ``test_r2``,
        ``n_train``, ``n_test``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((80, 3))
    >>> targets = pd.DataFrame({"W": X[:, 0], "L": X[:, 1] ** 2,
    ...                         "power": np.arange(80) % 2})
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> table = regression_table(X, targets, target_names=["W", "L"],
    ...     regressor=RandomForestRegressor(20, oob_score=True, random_state=0),
    ...     random_state=0)
    >>> table.index.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [('all', 'W'), ('all', 'L'), ('power', 'W'), ('power', 'L'),
     ('non-power', 'W'), ('non-power', 'L')]
    >>> bool((table["test_r2"] > 0.5).all())
    True
    """
    X = np.asarray(X) if not hasattr(X, "iloc") else X
    missing = [name for name in target_names if name not in targets]
    if missing:
        raise ValueError(f"targets lacks the target_names columns {missing}.")
    if subsets is None:
        subsets = power_subsets(targets)
    if regressor is None:
        regressor = RandomForestRegressor(
            oob_score=True, random_state=_seed(random_state), n_jobs=n_jobs
        )
    split_seed = _seed(random_state)
    rows = {}
    for subset, mask in subsets.items():
        index = np.flatnonzero(np.asarray(mask, dtype=bool))
        train, test = train_test_split(
            index, test_size=test_size, random_state=split_seed
        )
        for name in target_names:
            values = np.asarray(targets[name], dtype=float)
            model = clone(regressor).fit(_rows(X, train), values[train])
            rows[(subset, name)] = {
                "oob_r2": float(getattr(model, "oob_score_", np.nan)),
                "test_r2": r2_score(values[test], model.predict(_rows(X, test))),
                "n_train": train.size,
                "n_test": test.size,
            }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["subset", "target"])
    return table


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]
