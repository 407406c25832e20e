"""Dataset ablations: the core metrics of datasets made another way.

:func:`core_metrics` measures the numbers the paper's conclusions rest on,
on one dataset; :func:`linewidth_ablation` and :func:`lattice_ablation` give
them as rows of the ablation table (:func:`~sknmr.study.ablation_row`) for
datasets simulated with another linewidth of the offsets or on lattices of
other sizes.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..utils._random import MAX_SEED, AblationStream, derive_seed
from ._ablations import (
    _cv_forest,
    _held_out_analysis,
    _held_out_split,
    _test_split_metrics,
    ablation_row,
)
from ._features import _check_dataset, _check_section_counts, prepare_features
from ._regression import power_subsets, regression_table

__all__ = ["core_metrics", "lattice_ablation", "linewidth_ablation"]


@validate_params(
    {
        "dataset": [dict],
        "sections": ["array-like"],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "regression_max_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"sqrt", "log2"}),
            None,
        ],
        # every part's seed is derived from it: an int
        "random_state": [Interval(Integral, 0, MAX_SEED, closed="both")],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def core_metrics(
    dataset,
    *,
    sections=(4, 5, 10),
    cv=5,
    test_size=0.25,
    n_estimators=100,
    regression_max_features=1.0,
    random_state=0,
    n_jobs=None,
):
    """The study's key numbers on one dataset, cheaply (random forests only).

    On the window features of :func:`~sknmr.study.prepare_features`:

    - the random forest's cross-validated F1, three averages (Table I's
      row; oversampling inside the training folds);
    - on a stratified held-out split,
      :func:`~sknmr.study.classification_analysis`: the power class's miss
      rate and F1 unscreened, screened (routed by predicted W) and per
      true-W range;
    - random forest test R^2 (:func:`~sknmr.study.regression_table`) of W
      and alpha_xy on all echoes and of L on power and non-power echoes.

    Parameters
    ----------
    dataset : Bunch
        From :func:`sknmr.datasets.make_echoes` or ``load_echoes``.
    sections : tuple of int, default=(4, 5, 10)
        For :func:`~sknmr.study.prepare_features`.
    cv, test_size, n_estimators, regression_max_features, random_state, \
n_jobs
        As in :func:`oversampling_ablation`; ``regression_max_features``
        is also that of the regressions.

    Returns
    -------
    metrics : dict
        Keys of :data:`ABLATION_METRICS`.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.datasets import make_echoes
    >>> from sknmr.study import core_metrics
    >>> data = make_echoes(12, simulator=EchoSimulator(lattice_size=8, tau=5.0),
    ...                    random_state=0)
    >>> metrics = core_metrics(data, sections=(2,), cv=3, n_estimators=10)
    >>> sorted(metrics)[:3], 0 <= metrics["rf_f1_weighted"] <= 1
    (['f1_oracle_binary', 'f1_oracle_macro', 'f1_oracle_weighted'], True)
    """
    _check_dataset(dataset)
    _check_section_counts(sections)
    features = prepare_features(dataset, sections=sections)
    X, y, w, targets = features.window, features.y, features.w, features.targets
    metrics = _cv_forest(
        X, y, cv=cv, n_estimators=n_estimators, random_state=random_state, n_jobs=n_jobs
    )
    train, test = _held_out_split(y, test_size=test_size, random_state=random_state)
    analysis = _held_out_analysis(
        X,
        y,
        w,
        train,
        test,
        cv=cv,
        n_estimators=n_estimators,
        regression_max_features=regression_max_features,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    metrics.update(_test_split_metrics(analysis.metrics))
    regressor = RandomForestRegressor(
        n_estimators=n_estimators,
        max_features=regression_max_features,
        random_state=derive_seed(random_state, AblationStream.MODELS),
        n_jobs=n_jobs,
    )
    subsets = power_subsets(targets)
    seed = derive_seed(random_state, AblationStream.TEST_SPLIT)
    table = regression_table(
        X,
        targets,
        target_names=("W", "alpha_xy"),
        subsets={"all": subsets["all"]},
        regressor=regressor,
        test_size=test_size,
        random_state=seed,
    )
    metrics["r2_W"] = table.loc[("all", "W"), "test_r2"]
    metrics["r2_alpha_xy"] = table.loc[("all", "alpha_xy"), "test_r2"]
    table = regression_table(
        X,
        targets,
        target_names=("L",),
        subsets={"power": subsets["power"], "non-power": subsets["non-power"]},
        regressor=regressor,
        test_size=test_size,
        random_state=seed,
    )
    metrics["r2_L_power"] = table.loc[("power", "L"), "test_r2"]
    metrics["r2_L_non_power"] = table.loc[("non-power", "L"), "test_r2"]
    return {key: float(value) for key, value in metrics.items()}


def _dataset_details(dataset):
    settings = getattr(dataset, "settings", None) or {}
    experiment = getattr(dataset, "experiment", None)
    return {
        "n_echoes": int(len(dataset.target)),
        "lattice_size": None if experiment is None else experiment.lattice_size,
        "linewidth": None if experiment is None else experiment.linewidth,
        "seed": settings.get("seed"),
    }


def _linewidth_label(linewidth, paper_linewidth, default_linewidth):
    label = f"{linewidth:g} MHz"
    if np.isclose(linewidth, paper_linewidth):
        label += " (paper)"
    elif np.isclose(linewidth, default_linewidth):
        label += " (sknmr default)"
    return label


def _lattice_label(size):
    return f"{size} x {size}"


def linewidth_ablation(datasets, **kwargs):
    """:func:`core_metrics` of datasets that differ in the offsets' linewidth.

    Parameters
    ----------
    datasets : dict of float to Bunch
        Linewidth (MHz) -> dataset simulated with it (same prior, seed and
        lattice otherwise).
    **kwargs
        For :func:`core_metrics`.

    Returns
    -------
    rows : list of dict
        One :func:`ablation_row` per linewidth, setting ``"<linewidth> MHz"``
        (marked ``(paper)`` for 0.008 and ``(sknmr default)`` for 0.08).
    """
    from ._presets import _PAPER_LINEWIDTH, _default_linewidth

    return [
        ablation_row(
            "linewidth",
            _linewidth_label(lw, _PAPER_LINEWIDTH, _default_linewidth()),
            core_metrics(data, **kwargs),
            **_dataset_details(data),
        )
        for lw, data in datasets.items()
    ]


def lattice_ablation(datasets, **kwargs):
    """:func:`core_metrics` of datasets simulated on lattices of several sizes.

    Parameters
    ----------
    datasets : dict of int to Bunch
        Lattice side -> dataset simulated on it (same prior, seed and
        linewidth otherwise).
    **kwargs
        For :func:`core_metrics`.

    Returns
    -------
    rows : list of dict
        One :func:`ablation_row` per lattice, setting ``"<n> x <n>"``.
    """
    return [
        ablation_row(
            "lattice",
            _lattice_label(size),
            core_metrics(data, **kwargs),
            **_dataset_details(data),
        )
        for size, data in datasets.items()
    ]
