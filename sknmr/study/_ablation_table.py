"""The ablation table: its rows, their metrics, and which reproduce the paper.

Every ablation (:mod:`._ablations`, :mod:`._dataset_ablations`) gives rows
of :func:`ablation_row`, with the metric keys of :data:`ABLATION_METRICS`,
so that rows of different ablations sit in one table;
:func:`which_settings_reproduce` looks for the paper's numbers
(:data:`PAPER_TARGETS`) in all of them.
"""

from .._paper import PAPER_NUMBERS, PAPER_TABLE_I

__all__ = [
    "ABLATIONS",
    "ABLATION_METRICS",
    "PAPER_TARGETS",
    "ablation_row",
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
