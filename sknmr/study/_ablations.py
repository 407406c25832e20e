"""Ablations: each difference from the paper measured by switching one setting.

Every ablation gives rows ``{"ablation", "setting", <metrics>, "details"}``
with the metric keys of :data:`ABLATION_METRICS` (None where a row does not
measure one), so that rows of different ablations sit in one table and
:func:`which_settings_reproduce` can look for the paper's numbers in all of
them:

- ``oversampling`` (:func:`oversampling_ablation`): the minority (power)
  class oversampled before the train/test split, as the first author's
  notebooks did in places (copies of one echo then sit on both sides of the
  split), against inside the training folds only (sknmr);
- ``screening`` (:func:`screening_ablation`): W screening with training
  bins by true or out-of-fold W, scored with test echoes routed by predicted
  W or per true-W range (the paper's appendix), for both oversampling
  settings;
- ``linewidth`` and ``lattice`` (:func:`linewidth_ablation`,
  :func:`lattice_ablation`): the :func:`core_metrics` of datasets simulated
  with the offsets' linewidth of the paper's text (0.008 MHz) and of
  sknmr's default (0.08 MHz), or on lattices of several sizes.

This module runs the first two, on a held-out split shared by their rows;
:mod:`._dataset_ablations` the other two; the rows, their metrics and the
paper's numbers are those of :mod:`._ablation_table`.
"""

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ..utils._random import AblationStream, derive_seed
from ._ablation_table import (
    _AVERAGES,
    ABLATION_METRICS,
    ABLATIONS,
    PAPER_TARGETS,
    ablation_row,
    which_settings_reproduce,
)
from ._classification import (
    _per_true_w_range,
    _scores,
    classification_analysis,
    classification_table,
    make_oversampled_pipeline,
)

__all__ = [
    "ABLATIONS",
    "ABLATION_METRICS",
    "PAPER_TARGETS",
    "ablation_row",
    "oversample_before_split",
    "oversampling_ablation",
    "screening_ablation",
    "which_settings_reproduce",
]

#: Settings of the oversampling ablation: key -> label.
_OVERSAMPLING = {
    "inside": "inside training folds (sknmr)",
    "before": "before the split (notebooks)",
}

#: The training bins of the screening ablation: label -> (key of the metrics
#: routed by predicted W, key of the metrics per true-W range).
_BINS = {
    "out-of-fold W": ("screened", "screened_oof_oracle"),
    "true W": ("screened_true_bins", "screened_oracle"),
}


def _oversampled_index(y, random_state):
    """Rows of ``y`` with the minority class repeated until balanced."""
    sampler = RandomOverSampler(random_state=random_state)
    index, _ = sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), np.asarray(y))
    return index.ravel()


def oversample_before_split(y, *, test_size=0.25, random_state=0):
    """Oversample, then split: the leaky protocol the notebooks used in places.

    The minority class is randomly oversampled on the *whole* dataset
    (``RandomOverSampler``) and the oversampled rows are then split,
    stratified, into training and test sets, so that copies of one echo can
    sit on both sides of the split.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    test_size : float, default=0.25
    random_state : int, default=0
        Seeds the oversampler and the split (one derived seed each).

    Returns
    -------
    split : Bunch
        ``index`` (rows of the original data, minority rows repeated),
        ``train`` and ``test`` (positions into ``index``) and
        ``test_copies``: the fraction of the test set's minority rows whose
        echo is also in the training set.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.study import oversample_before_split
    >>> y = np.r_[np.zeros(20), np.ones(10)].astype(int)
    >>> split = oversample_before_split(y, random_state=0)
    >>> np.bincount(y[split.index]).tolist(), len(split.test)
    ([20, 20], 10)
    >>> bool(0 < split.test_copies <= 1)
    True
    """
    y = np.asarray(y)
    seed = random_state
    index = _oversampled_index(y, derive_seed(seed, AblationStream.OVERSAMPLER))
    train, test = _held_out_split(y[index], test_size=test_size, random_state=seed)
    classes, counts = np.unique(y, return_counts=True)
    rows = index[test][y[index][test] == classes[np.argmin(counts)]]
    copies = float(np.isin(rows, index[train]).mean()) if rows.size else float("nan")
    return Bunch(index=index, train=train, test=test, test_copies=copies)


def _forest(n_estimators, random_state, n_jobs):
    return make_oversampled_pipeline(
        RandomForestClassifier(
            n_estimators=n_estimators, random_state=random_state, n_jobs=n_jobs
        ),
        random_state=random_state,
    )


def _cv_forest(X, y, *, cv, n_estimators, random_state, n_jobs):
    """The random forest's cross-validated F1, three averages (Table I's row)."""
    seed = derive_seed(random_state, AblationStream.MODELS)
    table = classification_table(
        X,
        y,
        {"random forest": _forest(n_estimators, seed, n_jobs)},
        cv=cv,
        random_state=derive_seed(random_state, AblationStream.FOLDS),
    )
    row = table.loc["random forest"]
    return {f"rf_f1_{a}": float(row[f"f1_{a}"]) for a in _AVERAGES}


def _held_out_split(y, *, test_size, random_state):
    """The ablations' stratified train / test split of the rows of ``y``."""
    return train_test_split(
        np.arange(len(y)),
        test_size=test_size,
        stratify=y,
        random_state=derive_seed(random_state, AblationStream.TEST_SPLIT),
    )


def _held_out_analysis(
    X,
    y,
    w,
    train,
    test,
    *,
    cv,
    n_estimators,
    regression_max_features,
    random_state,
    n_jobs,
):
    """:func:`classification_analysis` on a held-out split, with the ablations' seed."""
    return classification_analysis(
        X,
        y,
        w,
        train,
        test,
        n_estimators=n_estimators,
        regression_max_features=regression_max_features,
        cv=cv,
        random_state=derive_seed(random_state, AblationStream.MODELS),
        n_jobs=n_jobs,
    )


def _test_split_metrics(analysis, screened="screened", oracle="screened_oracle"):
    """Ablation metrics from the classification metrics of a held-out split.

    ``fpr_unscreened`` and ``f1_unscreened_*`` come from the unscreened
    forest's metrics; ``*_screened*`` and ``*_oracle*`` from those under the
    keys ``screened`` (routed by predicted W) and ``oracle`` (per true-W
    range): by default the bins by out-of-fold W and by true W, as
    :func:`~sknmr.study.classification_analysis` names them.
    """
    out = {}
    for prefix, key in (
        ("unscreened", "unscreened"),
        ("screened", screened),
        ("oracle", oracle),
    ):
        m = analysis[key]
        out[f"fpr_{prefix}"] = m["power_fpr"]
        for a in _AVERAGES:
            out[f"f1_{prefix}_{a}"] = m[f"f1_{a}"]
    return out


def _split_analyses(
    X,
    y,
    w,
    *,
    cv=5,
    test_size=0.25,
    n_estimators=100,
    regression_max_features=1.0,
    random_state=0,
    n_jobs=None,
):
    """:func:`classification_analysis` with oversampling inside / before the split.

    Both settings use the same seeds; the "before" one oversamples every row
    first. Each metrics dict also holds ``screened_oof_oracle`` (the
    out-of-fold-bin models scored per true-W range) and ``test_copies``.
    """
    X, y, w = np.asarray(X), np.asarray(y), np.asarray(w, dtype=float)
    analyses = {}
    for setting in _OVERSAMPLING:
        if setting == "inside":
            index = np.arange(len(y))
            train, test = _held_out_split(
                y, test_size=test_size, random_state=random_state
            )
            copies = 0.0
        else:
            split = oversample_before_split(
                y, test_size=test_size, random_state=random_state
            )
            index, train, test, copies = (
                split.index,
                split.train,
                split.test,
                split.test_copies,
            )
        Xs, ys, ws = X[index], y[index], w[index]
        result = _held_out_analysis(
            Xs,
            ys,
            ws,
            train,
            test,
            cv=cv,
            n_estimators=n_estimators,
            regression_max_features=regression_max_features,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        metrics = dict(result.metrics)
        metrics["screened_oof_oracle"] = _scores(
            ys[test], _per_true_w_range(result.models["screened"], Xs[test], ws[test])
        )
        metrics["test_copies"] = copies
        metrics["n_test"] = int(len(test))
        analyses[setting] = metrics
    return analyses


def _check_analyses(analyses, kwargs, X, y, w):
    if analyses is None:
        return _split_analyses(X, y, w, **kwargs)
    missing = sorted(set(_OVERSAMPLING) - set(analyses))
    if missing:
        raise ValueError(
            f"analyses lacks the settings {missing}; pass the analyses of an "
            "earlier oversampling_ablation or screening_ablation call."
        )
    return analyses


def oversampling_ablation(
    X,
    y,
    w,
    *,
    cv=5,
    test_size=0.25,
    n_estimators=100,
    regression_max_features=1.0,
    random_state=0,
    n_jobs=None,
    analyses=None,
):
    """Oversampling inside the training folds vs before the split.

    Two rows, with the same seeds, folds and models; only where the power
    class is oversampled differs:

    - ``inside training folds (sknmr)``: an imbalanced-learn pipeline
      oversamples each training fold, never what is scored;
    - ``before the split (notebooks)``: every row oversampled first
      (:func:`oversample_before_split`), then cross-validated or split, so
      copies of a power echo are scored after being trained on.

    Each row holds the random forest's cross-validated F1 (three averages,
    shuffled stratified ``cv`` folds) and the W-screening metrics of
    :func:`~sknmr.study.classification_analysis` on a held-out split.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features (the study uses the window's).
    y : ndarray of shape (n_samples,)
        1 power, 0 non-power.
    w : ndarray of shape (n_samples,)
        True W (MHz).
    cv : int, default=5
    test_size : float, default=0.25
    n_estimators : int, default=100
        Trees of every forest.
    regression_max_features : int, float or str, default=1.0
        ``max_features`` of the screening W regressor.
    random_state : int, default=0
        Every seed is derived from it.
    n_jobs : int, default=None
    analyses : dict, default=None
        The ``analyses`` of an earlier :func:`oversampling_ablation` or
        :func:`screening_ablation` call on the same data with the same
        arguments, reused instead of refitted.

    Returns
    -------
    result : Bunch
        ``rows`` (two :func:`ablation_row` dicts; ``details`` holds
        ``test_copies``, the fraction of the test split's power echoes
        with a copy in training) and ``analyses`` (the classification
        metrics of each setting).

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.study import oversampling_ablation
    >>> rng = np.random.default_rng(0)
    >>> y = (np.arange(90) % 3 == 0).astype(int)
    >>> w = rng.uniform(0.1, 0.3, 90)
    >>> X = np.c_[w, y + rng.normal(size=90), rng.normal(size=(90, 2))]
    >>> result = oversampling_ablation(X, y, w, cv=3, n_estimators=10)
    >>> [row["setting"] for row in result.rows]
    ['inside training folds (sknmr)', 'before the split (notebooks)']
    >>> result.rows[0]["details"]["test_copies"]
    0.0
    """
    kwargs = dict(
        cv=cv,
        test_size=test_size,
        n_estimators=n_estimators,
        regression_max_features=regression_max_features,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    X, y, w = np.asarray(X), np.asarray(y), np.asarray(w, dtype=float)
    analyses = _check_analyses(analyses, kwargs, X, y, w)
    rows = []
    for setting, label in _OVERSAMPLING.items():
        if setting == "inside":
            Xc, yc = X, y
        else:
            index = _oversampled_index(
                y, derive_seed(random_state, AblationStream.OVERSAMPLER)
            )
            Xc, yc = X[index], y[index]
        metrics = _cv_forest(
            Xc,
            yc,
            cv=cv,
            n_estimators=n_estimators,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        m = analyses[setting]
        metrics.update(_test_split_metrics(m))
        rows.append(
            ablation_row(
                "oversampling",
                label,
                metrics,
                test_copies=m["test_copies"],
                n_test=m["n_test"],
            )
        )
    return Bunch(rows=rows, analyses=analyses)


def screening_ablation(
    X,
    y,
    w,
    *,
    cv=5,
    test_size=0.25,
    n_estimators=100,
    regression_max_features=1.0,
    random_state=0,
    n_jobs=None,
    analyses=None,
):
    """W screening: training bins, test routing and oversampling crossed.

    Four rows: training bins by ``out-of-fold W`` or by ``true W``
    (:class:`~sknmr.WScreenedClassifier`'s ``bin_assignment``), each with
    the power class oversampled inside training or before the split (see
    :func:`oversampling_ablation`). Each row gives the power class's miss
    rate and F1 of its bin models two ways: ``fpr_screened`` routing each
    test echo by its *predicted* W, ``fpr_oracle`` scoring each bin's model
    on the test echoes whose *true* W lies in its bin (the paper's Appendix
    C5); ``fpr_unscreened`` is the unscreened random forest on the same
    split, the baseline.

    Parameters
    ----------
    X, y, w, cv, test_size, n_estimators, regression_max_features, \
random_state, n_jobs, analyses
        As in :func:`oversampling_ablation` (with the same arguments the two
        share their ``analyses``).

    Returns
    -------
    result : Bunch
        ``rows`` (four :func:`ablation_row` dicts, settings
        ``"bins by <out-of-fold|true> W, oversampled <where>"``) and
        ``analyses``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.study import screening_ablation
    >>> rng = np.random.default_rng(0)
    >>> y = (np.arange(90) % 3 == 0).astype(int)
    >>> w = rng.uniform(0.1, 0.3, 90)
    >>> X = np.c_[w, y + rng.normal(size=90), rng.normal(size=(90, 2))]
    >>> rows = screening_ablation(X, y, w, cv=3, n_estimators=10).rows
    >>> rows[0]["setting"]
    'bins by out-of-fold W, oversampled inside training folds (sknmr)'
    >>> rows[0]["rf_f1_weighted"] is None, rows[0]["fpr_oracle"] is not None
    (True, True)
    """
    kwargs = dict(
        cv=cv,
        test_size=test_size,
        n_estimators=n_estimators,
        regression_max_features=regression_max_features,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    analyses = _check_analyses(analyses, kwargs, X, y, w)
    rows = []
    for setting, where in _OVERSAMPLING.items():
        m = analyses[setting]
        for bins, (routed, per_range) in _BINS.items():
            metrics = _test_split_metrics(m, screened=routed, oracle=per_range)
            rows.append(
                ablation_row(
                    "screening",
                    f"bins by {bins}, oversampled {where}",
                    metrics,
                    test_copies=m["test_copies"],
                    n_test=m["n_test"],
                )
            )
    return Bunch(rows=rows, analyses=analyses)
