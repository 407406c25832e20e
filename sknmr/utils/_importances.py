"""One rule for the feature importances of a fitted estimator.

:func:`~sknmr.selection.successive_elimination`,
:class:`~sknmr.plotting.FeatureImportanceDisplay` and
:class:`~sknmr.WScreenedClassifier` all read importances through
:func:`feature_importances`, so they agree on where importances come from
(the estimator or the last step of its pipeline) and on how coefficients
become importances.
"""

import numpy as np

__all__ = ["feature_importances"]


def _name(estimator):
    return type(estimator).__name__


def _last_step(estimator):
    """The last step of a pipeline (scikit-learn's or imbalanced-learn's), else None."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, (list, tuple)) and steps:
        return steps[-1][1]
    return None


def _auto(estimator, n_features, use_coef):
    """``feature_importances_`` (else ``coef_``) of the estimator or its last step."""
    attributes = (
        ("feature_importances_", "coef_") if use_coef else ("feature_importances_",)
    )
    candidates = [estimator]
    last = _last_step(estimator)
    if last is not None:
        candidates.append(last)
    for obj in candidates:
        for attribute in attributes:
            try:
                values = getattr(obj, attribute)
            except AttributeError:  # absent, or a property that says "not here"
                continue
            if values is None:
                continue
            if obj is last and n_features is not None:
                seen = getattr(last, "n_features_in_", None)
                if seen is not None and seen != n_features:
                    raise ValueError(
                        f"The last step of {_name(estimator)} "
                        f"({_name(last)}) saw {seen} features, not the "
                        f"{n_features} given to the pipeline, so its "
                        f"{attribute} cannot rank them."
                    )
            return values
    wanted = " or ".join(attributes)
    nor = "" if last is None else f", nor has its last step {_name(last)}"
    raise ValueError(
        f"{_name(estimator)} has no {wanted}{nor}, so it gives no feature "
        f"importances: use a fitted estimator with {wanted}."
    )


def feature_importances(estimator, getter="auto", n_features=None, *, use_coef=True):
    """Non-negative importances of the input features of a fitted estimator.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator or pipeline (scikit-learn's or
        imbalanced-learn's).
    getter : "auto", str or callable, default="auto"
        Where the importances come from. ``"auto"``: ``feature_importances_``
        of the estimator, else its ``coef_``, else the same of the last step
        of a pipeline. A str: a dotted attribute path on the fitted estimator
        (e.g. ``"named_steps.logisticregression.coef_"``). A callable:
        ``getter(estimator)``.
    n_features : int, default=None
        The number of input features the importances must describe. When
        given, a pipeline's last step counts only if it saw that many
        features (a pipeline that ends with a PCA and a classifier does not
        rank its inputs), and the result must have shape ``(n_features,)``.
    use_coef : bool, default=True
        Whether ``"auto"`` falls back to ``coef_``. False: only
        ``feature_importances_`` counts.

    Returns
    -------
    importances : ndarray of shape (n_features,), float
        The values found, made non-negative as scikit-learn's feature
        selectors do: absolute values of a 1-d array, and for a 2-d one (a
        ``coef_`` with one row per class) the Euclidean norm of each column.

    Raises
    ------
    ValueError
        If ``"auto"`` finds no importances (the message names the
        estimator), if a pipeline's last step saw other features than
        ``n_features``, or if the importances do not have shape
        ``(n_features,)``.
    TypeError
        If ``getter`` is neither ``"auto"``, a str nor a callable.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknmr.utils._importances import feature_importances
    >>> X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> importances = feature_importances(pipe, n_features=4)
    >>> importances.shape, bool((importances >= 0).all())
    ((4,), True)
    >>> feature_importances(StandardScaler().fit(X))
    Traceback (most recent call last):
        ...
    ValueError: StandardScaler has no feature_importances_ or coef_, ...
    """
    if callable(getter):
        values = getter(estimator)
    elif isinstance(getter, str) and getter == "auto":
        values = _auto(estimator, n_features, use_coef)
    elif isinstance(getter, str):
        values = estimator
        for part in getter.split("."):
            try:
                values = getattr(values, part)
            except AttributeError as exc:
                raise ValueError(
                    f"The importance getter {getter!r} is not an attribute path "
                    f"of the fitted {_name(estimator)}: {exc}"
                ) from exc
    else:
        raise TypeError(
            "getter must be 'auto', a dotted attribute path or a callable; "
            f"got {getter!r}."
        )
    values = np.asarray(values, dtype=float)
    if values.ndim > 1:
        importances = np.linalg.norm(values.reshape(-1, values.shape[-1]), axis=0)
    else:
        importances = np.abs(values)
    if n_features is not None and importances.shape != (n_features,):
        raise ValueError(
            f"The importances of {_name(estimator)} have shape "
            f"{importances.shape}; expected ({n_features},), one per feature."
        )
    return importances
