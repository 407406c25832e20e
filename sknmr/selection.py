"""Successive feature elimination by median importance (paper, Fig. 4(a)).

The paper trains "successive classification models that only have access to
features above the median feature importance of the previous model ...
until only two features remain". scikit-learn's :class:`~sklearn.feature_selection.RFE`
does not express this: a fractional ``step`` removes a fixed number of
features (``step`` times the *initial* count) at every round, not half of
those left, and :class:`~sklearn.feature_selection.RFECV` scores that same
fixed-step path. :func:`successive_elimination` is the paper's rule.

Examples
--------
>>> from sklearn.datasets import make_classification
>>> from sklearn.ensemble import RandomForestClassifier
>>> from sknmr.selection import successive_elimination
>>> X, y = make_classification(n_samples=80, n_features=16, random_state=0)
>>> forest = RandomForestClassifier(n_estimators=10, random_state=0)
>>> path = successive_elimination(forest, X, y, cv=3)
>>> path.n_features.tolist()
[16, 8, 4, 2]
"""

from numbers import Integral

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils import Bunch, _safe_indexing

from .utils._importances import feature_importances

__all__ = ["successive_elimination"]


def _keep_above_median(importances, min_features):
    """Positions of the features strictly above the median importance.

    At least ``min_features`` are kept (the most important, ties to the
    lower position); if all are tied, the first half.
    """
    n = importances.size
    n_keep = int(np.sum(importances > np.median(importances)))
    if n_keep == 0:
        n_keep = n // 2
    n_keep = min(n, max(min_features, n_keep))
    order = np.argsort(-importances, kind="stable")
    return np.sort(order[:n_keep])


def successive_elimination(
    estimator,
    X,
    y,
    *,
    scoring=None,
    cv=5,
    min_features=2,
    importance_getter="auto",
    params=None,
    n_jobs=None,
):
    """Keep the features above the median importance until ``min_features`` remain.

    At each step ``estimator`` is cross-validated on the current features
    and fitted on all of ``X``; the features whose importance in that fit is
    strictly above the median are kept for the next step (at least
    ``min_features``). The same folds are used at every step, so the scores
    are comparable.

    Parameters
    ----------
    estimator : estimator
        Cloned at every step; must expose importances (see
        ``importance_getter``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    scoring : str, callable or None, default=None
        As in :func:`~sklearn.model_selection.cross_validate` (None: the
        estimator's ``score``).
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`~sklearn.model_selection.cross_validate`. An int gives
        *unshuffled* (stratified) folds: for rows ordered by kernel, as
        :meth:`sknmr.EchoSimulator.sample` returns them, pass a shuffled
        splitter.
    min_features : int, default=2
        Stop once this many features remain (the paper stops at two).
    importance_getter : "auto", str or callable, default="auto"
        "auto": ``feature_importances_`` or the absolute ``coef_`` (the norm
        over classes of a 2-d one), of the estimator or else of the last step
        of a pipeline, which must then see every feature of the step (a PCA
        before it would not). A str: a dotted attribute path on the fitted
        estimator (e.g.
        ``"named_steps.randomforestclassifier.feature_importances_"``). A
        callable: ``getter(fitted_estimator)``. The values are made
        non-negative as for "auto" (absolute values, norm over rows of a 2-d
        array) and must be one per feature.
    params : dict, default=None
        Fit parameters (e.g. ``{"w": w}`` for
        :class:`~sknmr.WScreenedClassifier`), sliced per fold as in
        :func:`~sklearn.model_selection.cross_validate`.
    n_jobs : int, default=None
        Folds fitted in parallel.

    Returns
    -------
    path : Bunch
        ``n_features`` (ndarray of shape (n_steps,)); ``support`` (list of
        ndarrays: the column indices of ``X`` used at each step);
        ``cv_scores`` (ndarray of shape (n_steps, n_splits));
        ``mean_score``, ``std_score`` (ndarrays of shape (n_steps,));
        ``importances`` (list: the importances of each step's features);
        ``estimators`` (list: each step's estimator fitted on all of ``X``,
        e.g. to score a held-out test set with ``X_test[:, support[i]]``).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(n_samples=60, n_features=7, random_state=0)
    >>> path = successive_elimination(
    ...     DecisionTreeClassifier(random_state=0), X, y, scoring="f1", cv=3)
    >>> path.n_features.tolist(), path.cv_scores.shape
    ([7, 3, 2], (3, 3))
    """
    if not isinstance(min_features, Integral) or isinstance(min_features, bool):
        raise TypeError(f"min_features must be an int >= 1; got {min_features!r}.")
    X = X if hasattr(X, "shape") else np.asarray(X)
    n_features = X.shape[1]
    if not 1 <= min_features <= n_features:
        raise ValueError(
            f"min_features must lie in [1, n_features={n_features}]; "
            f"got {min_features}."
        )
    if not (callable(importance_getter) or isinstance(importance_getter, str)):
        raise TypeError(
            "importance_getter must be 'auto', an attribute path or a callable; "
            f"got {importance_getter!r}."
        )
    params = {} if params is None else dict(params)
    splits = list(check_cv(cv, y, classifier=is_classifier(estimator)).split(X, y))

    path = Bunch(n_features=[], support=[], cv_scores=[], importances=[], estimators=[])
    support = np.arange(n_features)
    while True:
        X_step = _safe_indexing(X, support, axis=1)
        scores = cross_validate(
            clone(estimator),
            X_step,
            y,
            scoring=scoring,
            cv=splits,
            params=params,
            n_jobs=n_jobs,
        )["test_score"]
        fitted = clone(estimator).fit(X_step, y, **params)
        try:
            importances = feature_importances(
                fitted, importance_getter, n_features=support.size
            )
        except ValueError as exc:
            raise ValueError(
                f"{exc} Pass importance_getter as a dotted attribute path or a "
                "callable that gives one importance per feature."
            ) from exc
        path.n_features.append(support.size)
        path.support.append(support)
        path.cv_scores.append(scores)
        path.importances.append(importances)
        path.estimators.append(fitted)
        if support.size <= min_features:
            break
        # Fewer than half survive, never fewer than min_features: terminates.
        support = support[_keep_above_median(importances, min_features)]

    path.n_features = np.asarray(path.n_features)
    path.cv_scores = np.asarray(path.cv_scores)
    path.mean_score = path.cv_scores.mean(axis=1)
    path.std_score = path.cv_scores.std(axis=1)
    return path
