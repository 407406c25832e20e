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
"""

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .._paper import PAPER_NUMBERS, PAPER_TABLE_I
from ..utils._random import AblationStream, derive_seed
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

#: The ablations of :func:`~sknmr.study.reproduce`, in the order they run.
ABLATIONS = ("oversampling", "screening", "linewidth", "lattice")

#: The metrics of an ablation row (each None where the row does not measure it):
#:
#: - ``rf_f1_weighted``, ``rf_f1_binary``, ``rf_f1_macro``: the random
#:   forest's cross-validated F1 (Table I), three averages;
#: - ``fpr_unscreened``: the power class's miss rate (the paper's
#:   "false-positive rate") of one random forest on a held-out test split;
#: - ``fpr_screened``: the same with W screening, test echoes routed by
#:   *predicted* W (what can be deployed);
#: - ``fpr_oracle``: the same with each W-range model scored on the test
#:   echoes whose *true* W lies in its range (the paper's appendix);
#: - ``f1_unscreened_*``, ``f1_screened_*``, ``f1_oracle_*``: the F1 of
#:   those three on the test split, ``weighted``, ``binary`` (power class)
#:   and ``macro``;
#: - ``r2_W``, ``r2_alpha_xy`` (all echoes), ``r2_L_power``,
#:   ``r2_L_non_power``: test R^2 of random forest regressions.
#:
#: Unless a row's setting names the training bins, ``fpr_screened`` is
#: :func:`~sknmr.study.classification_analysis`'s ``screened`` (bins by
#: out-of-fold W) and ``fpr_oracle`` its ``screened_oracle`` (bins by true W).
ABLATION_METRICS = (
    "rf_f1_weighted",
    "rf_f1_binary",
    "rf_f1_macro",
    "fpr_unscreened",
    "fpr_screened",
    "fpr_oracle",
    "f1_unscreened_weighted",
    "f1_unscreened_binary",
    "f1_unscreened_macro",
    "f1_screened_weighted",
    "f1_screened_binary",
    "f1_screened_macro",
    "f1_oracle_weighted",
    "f1_oracle_binary",
    "f1_oracle_macro",
    "r2_W",
    "r2_alpha_xy",
    "r2_L_power",
    "r2_L_non_power",
)

_AVERAGES = ("weighted", "binary", "macro")

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


#: The paper's numbers that :func:`which_settings_reproduce` looks for:
#: (name, paper value, test, candidate columns). "approx": within the
#: tolerance; "above": strictly above; "pair": ``fpr_unscreened`` near the
#: first value and a screened FPR near the second. The values are the
#: paper's numbers (``sknmr._paper.PAPER_NUMBERS``), which
#: :data:`~sknmr.study.PAPER` writes as the paper's text does.
PAPER_TARGETS = (
    (
        "Table I random forest F1",
        PAPER_TABLE_I["random forest"],
        "approx",
        ("rf_f1_weighted", "rf_f1_binary", "rf_f1_macro"),
    ),
    (
        "W-screened F1",
        PAPER_NUMBERS["screened_f1"],
        "approx",
        tuple(f"f1_{k}_{a}" for k in ("screened", "oracle") for a in _AVERAGES),
    ),
    (
        "Power FPR unscreened -> W-screened",
        PAPER_NUMBERS["power_fpr"],
        "pair",
        ("fpr_screened", "fpr_oracle"),
    ),
    ("R^2 of W", PAPER_NUMBERS["r2_W"], "approx", ("r2_W",)),
    ("R^2 of alpha_xy", PAPER_NUMBERS["r2_alpha_xy"], "approx", ("r2_alpha_xy",)),
    ("R^2 of L (power)", PAPER_NUMBERS["r2_L_power"], "above", ("r2_L_power",)),
)

#: Short names of the metric columns, for the report.
_METRIC_LABELS = {
    "rf_f1_weighted": "RF F1 weighted (CV)",
    "rf_f1_binary": "RF F1 binary (CV)",
    "rf_f1_macro": "RF F1 macro (CV)",
    "fpr_unscreened": "unscreened FPR",
    "fpr_screened": "FPR routed by predicted W",
    "fpr_oracle": "FPR per true-W range",
    **{
        f"f1_{k}_{a}": f"{label} F1 {a}"
        for k, label in (
            ("unscreened", "unscreened"),
            ("screened", "routed"),
            ("oracle", "per-range"),
        )
        for a in _AVERAGES
    },
    "r2_W": "R^2 W",
    "r2_alpha_xy": "R^2 alpha_xy",
    "r2_L_power": "R^2 L (power)",
    "r2_L_non_power": "R^2 L (non-power)",
}


def ablation_row(ablation, setting, metrics=None, **details):
    """One row of the ablation table: every metric of :data:`ABLATION_METRICS`.

    Parameters
    ----------
    ablation : str
    setting : str
    metrics : dict, default=None
        Values of some of :data:`ABLATION_METRICS` (others are None); other
        keys are refused.
    **details
        Kept under ``details`` (e.g. the dataset's size).

    Returns
    -------
    row : dict

    Examples
    --------
    >>> from sknmr.study import ablation_row
    >>> row = ablation_row("lattice", "16 x 16", {"r2_L_power": 0.5},
    ...                    n_echoes=30)
    >>> row["r2_L_power"], row["r2_W"], row["details"]
    (0.5, None, {'n_echoes': 30})
    """
    metrics = dict(metrics or {})
    unknown = sorted(set(metrics) - set(ABLATION_METRICS))
    if unknown:
        raise ValueError(f"metrics has unknown keys {unknown}.")
    row = {"ablation": ablation, "setting": setting}
    for key in ABLATION_METRICS:
        value = metrics.get(key)
        row[key] = None if value is None else float(value)
    row["details"] = details
    return row


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
    train, test = train_test_split(
        np.arange(index.size),
        test_size=test_size,
        stratify=y[index],
        random_state=derive_seed(seed, AblationStream.TEST_SPLIT),
    )
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


def _test_split_metrics(analysis, prefix_keys):
    """Ablation metrics from classification metrics: {prefix: metrics key}."""
    out = {}
    for prefix, key in prefix_keys.items():
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
            train, test = train_test_split(
                index,
                test_size=test_size,
                stratify=y,
                random_state=derive_seed(random_state, AblationStream.TEST_SPLIT),
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
        result = classification_analysis(
            Xs,
            ys,
            ws,
            train,
            test,
            n_estimators=n_estimators,
            regression_max_features=regression_max_features,
            cv=cv,
            random_state=derive_seed(random_state, AblationStream.MODELS),
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
        metrics.update(
            _test_split_metrics(
                m,
                {
                    "unscreened": "unscreened",
                    "screened": "screened",
                    "oracle": "screened_oracle",
                },
            )
        )
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
            metrics = _test_split_metrics(
                m,
                {"unscreened": "unscreened", "screened": routed, "oracle": per_range},
            )
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


def _near(value, target, tolerance):
    return value is not None and abs(value - target) <= tolerance + 1e-12


def which_settings_reproduce(rows, *, tolerance=0.03):
    """For each of the paper's numbers, the ablation rows that reproduce it.

    A number is reproduced by a row when one of its candidate columns (see
    :data:`PAPER_TARGETS`) lies within ``tolerance`` of it; "> 0.8" when
    above 0.8; the power FPR "~0.4 -> ~0.2" when ``fpr_unscreened`` lies
    within ``tolerance`` of 0.4 and ``fpr_screened`` or ``fpr_oracle``
    within ``tolerance`` of 0.2.

    Parameters
    ----------
    rows : list of dict
        Ablation rows (:func:`ablation_row`); missing or None values never
        match.
    tolerance : float, default=0.03

    Returns
    -------
    found : list of dict
        One per paper number, in the order of :data:`PAPER_TARGETS`:
        ``number``, ``paper`` (the value), ``criterion`` (in words) and
        ``matches``, a list of ``{"ablation", "setting", "column",
        "value"}`` (empty: none reproduces it), and ``measured``: whether
        any row has a figure to compare (False when no ablation run measures
        that number).

    Examples
    --------
    >>> from sknmr.study import ablation_row, which_settings_reproduce
    >>> rows = [ablation_row("oversampling", "before the split",
    ...                      {"rf_f1_weighted": 0.83, "rf_f1_binary": 0.70}),
    ...         ablation_row("lattice", "32 x 32", {"r2_L_power": 0.6})]
    >>> found = which_settings_reproduce(rows)
    >>> found[0]["number"], [m["column"] for m in found[0]["matches"]]
    ('Table I random forest F1', ['rf_f1_weighted'])
    >>> found[-1]["criterion"], found[-1]["matches"], found[-1]["measured"]
    ('above 0.8', [], True)
    >>> which_settings_reproduce(rows[:1])[-1]["measured"]
    False
    """
    found = []
    for name, paper, test, columns in PAPER_TARGETS:
        matches = []
        compared = list(columns) + (["fpr_unscreened"] if test == "pair" else [])
        measured = any(row.get(c) is not None for row in rows for c in compared)
        for row in rows:
            where = {"ablation": row["ablation"], "setting": row["setting"]}
            if test == "pair":
                before = row.get("fpr_unscreened")
                if not _near(before, paper[0], tolerance):
                    continue
                for column in columns:
                    after = row.get(column)
                    if _near(after, paper[1], tolerance):
                        matches.append(
                            {
                                **where,
                                "column": f"fpr_unscreened -> {column}",
                                "value": [before, after],
                            }
                        )
                continue
            for column in columns:
                value = row.get(column)
                if value is None:
                    continue
                if (test == "approx" and _near(value, paper, tolerance)) or (
                    test == "above" and value > paper
                ):
                    matches.append({**where, "column": column, "value": value})
        if test == "pair":
            criterion = f"unscreened and screened each within {tolerance:g}"
        elif test == "above":
            criterion = f"above {paper:g}"
        else:
            criterion = f"within {tolerance:g}"
        found.append(
            {
                "number": name,
                "paper": list(paper) if isinstance(paper, tuple) else paper,
                "criterion": criterion,
                "matches": matches,
                "measured": measured,
            }
        )
    return found
