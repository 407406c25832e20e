"""Regression of W, L, alpha_xy and alpha_z from echoes (Fig. 5(e))."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from ..utils._random import check_seed

__all__ = [
    "REGRESSION_TARGETS",
    "power_subsets",
    "regression_analysis",
    "regression_table",
]

#: The regression targets of Fig. 5(e), in the paper's order.
REGRESSION_TARGETS = ("W", "L", "alpha_xy", "alpha_z")


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
    >>> from sknmr.study import power_subsets
    >>> masks = power_subsets(pd.DataFrame({"power": [0, 1, 0]}))
    >>> {name: mask.tolist() for name, mask in masks.items()}
    {'all': [True, True, True], 'power': [False, True, False],
     'non-power': [True, False, True]}
    """
    if "power" not in targets:
        raise ValueError("targets needs a 'power' column to build the power subsets.")
    power = np.asarray(targets["power"]) == 1
    return {"all": np.ones(power.size, dtype=bool), "power": power, "non-power": ~power}


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


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
        Seeds the splits and the default forest with one int seed: an int is
        used as given; a RandomState, a Generator or None (numpy's global
        random state) draws one.
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
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sknmr.study import regression_table
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((80, 3))
    >>> targets = pd.DataFrame({"W": X[:, 0], "L": X[:, 1] ** 2,
    ...                         "power": np.arange(80) % 2})
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
            oob_score=True, random_state=check_seed(random_state), n_jobs=n_jobs
        )
    split_seed = check_seed(random_state)
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


def regression_analysis(
    X,
    targets,
    *,
    n_estimators=100,
    max_features=1.0,
    test_size=0.25,
    random_state=0,
    n_jobs=None,
):
    """Out-of-bag and test R^2 of random forests (Fig. 5(e)).

    :func:`regression_table` for W, L, alpha_xy and alpha_z on all echoes,
    power-law only and non-power only, with the random forest of the given
    size.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    targets : pandas.DataFrame
        With W, L, alpha_xy, alpha_z and power.
    n_estimators : int, default=100
    max_features : int, float or str, default=1.0
    test_size : float, default=0.25
    random_state : int, default=0
    n_jobs : int, default=None

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (subset, target): ``oob_r2``, ``test_r2``, ``n_train``,
        ``n_test``.
    """
    regressor = RandomForestRegressor(
        n_estimators=n_estimators,
        max_features=max_features,
        oob_score=True,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    return regression_table(
        X,
        targets,
        regressor=regressor,
        test_size=test_size,
        random_state=random_state,
    )
