"""The ablations' section of :func:`~sknmr.study.reproduce`'s report.

The table of every ablation row (:mod:`._ablation_table`), a sentence per
ablation on what it switches and what it found, and which settings
reproduce each of the paper's numbers.
"""

from ._ablation_table import _METRIC_LABELS
from ._markdown import _fmt, _markdown_table
from ._presets import _PAPER_LINEWIDTH


def _cells(row, *keys, digits=2):
    values = [row.get(k) for k in keys]
    if all(v is None for v in values):
        return "–"
    return " / ".join(_fmt(v, digits) for v in values)


#: What each ablation switches, for the report.
_ABLATION_WHAT = {
    "oversampling": (
        "the power class oversampled inside the training folds only (sknmr) or "
        "on every echo before the train/test split (the notebooks, in places); "
        "pointwise features, the same seeds, folds and models"
    ),
    "screening": (
        "W screening with training bins by out-of-fold or true W, each scored "
        "routed by predicted W and per true-W range, with either oversampling; "
        "unscreened on the same split as the baseline"
    ),
    "linewidth": (
        f"datasets simulated with the paper's {_PAPER_LINEWIDTH:g} MHz linewidth "
        "and sknmr's default, the same prior, seed and lattice otherwise"
    ),
    "lattice": (
        "datasets simulated on lattices of several sizes, the same prior, seed "
        "and linewidth otherwise"
    ),
}


def _ablation_sentence(ablation, rows):
    """What an ablation's rows show, in one sentence with their numbers."""

    def pairs(key, digits=2):
        return ", ".join(f"{r['setting']} {_fmt(r[key], digits)}" for r in rows)

    if ablation == "oversampling":
        before = next((r for r in rows if r["setting"].startswith("before")), None)
        copies = (before or {}).get("details", {}).get("test_copies")
        return (
            f"Random forest F1 (weighted, CV): {pairs('rf_f1_weighted')}; power "
            f"FPR unscreened: {pairs('fpr_unscreened')}. Before the split, "
            f"{_fmt(None if copies is None else 100 * copies, 0)}% of the test "
            "split's power echoes have a copy in training, so part of what is "
            "scored was trained on."
        )
    if ablation == "screening":
        parts = [
            f"{r['setting']}: {_fmt(r['fpr_unscreened'], 2)} -> "
            f"{_fmt(r['fpr_screened'], 2)} routed by predicted W, "
            f"{_fmt(r['fpr_oracle'], 2)} per true-W range"
            for r in rows
        ]
        return "Power FPR unscreened -> screened, " + "; ".join(parts) + "."
    return (
        f"R^2 of L (power): {pairs('r2_L_power')}; RF F1 (weighted, CV): "
        f"{pairs('rf_f1_weighted')}; power FPR unscreened: "
        f"{pairs('fpr_unscreened')}; R^2 of W: {pairs('r2_W')}."
    )


def _datasets_sentence(rows):
    """The sentence naming the datasets the ablations simulated, or "" if none."""
    sizes = [
        f"{r['ablation']} {r['setting']}: {r['details']['n_echoes']} echoes"
        for r in rows
        if "n_echoes" in r.get("details", {})
    ]
    return f" Datasets: {'; '.join(sizes)}." if sizes else ""


def _ablations_section(results):
    """The report's "Ablations" section (empty when none was run)."""
    block = results.get("ablations")
    if not block or not block.get("rows"):
        return []
    rows = block["rows"]
    table = [
        (
            r["ablation"],
            r["setting"],
            _cells(r, "rf_f1_weighted", "rf_f1_binary", "rf_f1_macro"),
            _cells(r, "fpr_unscreened"),
            _cells(r, "fpr_screened", "fpr_oracle"),
            _cells(r, "f1_screened_weighted", "f1_oracle_weighted"),
            _cells(r, "f1_screened_binary", "f1_oracle_binary"),
            _cells(r, "r2_W"),
            _cells(r, "r2_alpha_xy"),
            _cells(r, "r2_L_power", "r2_L_non_power"),
        )
        for r in rows
    ]
    lines = [
        "## Ablations",
        "",
        "Each ablation switches one setting, with its own seeds (the numbers "
        "above do not change), so its rows differ by that setting only; a "
        "baseline row differs from the sections above by its seeds. RF F1: the "
        f"random forest's {results['preset_settings']['cv']}-fold cross-validated "
        "F1, weighted / binary (power) / macro. Power FPR: the power class's miss "
        "rate on a held-out split; screened: routed by predicted W / each W-range "
        "model scored on the echoes of its true-W range. Unless the setting names "
        "them, the training bins are out-of-fold W for the routed figure and true "
        "W for the per-range one. R^2: test R^2 of random forest regressions "
        "(L on power / non-power echoes)." + _datasets_sentence(rows),
        "",
        _markdown_table(
            (
                "ablation",
                "setting",
                "RF F1 w / bin / macro",
                "power FPR unscreened",
                "power FPR screened: routed / per range",
                "screened F1 w: routed / per range",
                "screened F1 bin: routed / per range",
                "R^2 W",
                "R^2 alpha_xy",
                "R^2 L: power / non-power",
            ),
            table,
        ),
        "",
    ]
    for ablation in dict.fromkeys(r["ablation"] for r in rows):
        these = [r for r in rows if r["ablation"] == ablation]
        lines.append(
            f"- **{ablation}** ({_ABLATION_WHAT.get(ablation, '')}): "
            + _ablation_sentence(ablation, these)
        )
    lines += [
        "",
        "### Which setting reproduces each paper number",
        "",
        f"A row reproduces a number when one of its figures lies within "
        f'{_fmt(block["tolerance"], 2)} of it (above it for "> 0.8").',
        "",
    ]
    for item in block.get("reproducing", []):
        paper = item["paper"]
        paper = (
            " -> ".join(_fmt(v, 2) for v in paper)
            if isinstance(paper, list)
            else _fmt(paper, 2)
        )
        if item["matches"]:
            found = "; ".join(
                f"{m['ablation']} / {m['setting']} ("
                + _match_label(m["column"])
                + " "
                + (
                    " -> ".join(_fmt(v, 2) for v in m["value"])
                    if isinstance(m["value"], list)
                    else _fmt(m["value"], 2)
                )
                + ")"
                for m in item["matches"]
            )
        elif item.get("measured", True):
            found = "none"
        else:
            found = "not measured by these ablations (see the sections above)"
        lines.append(
            f"- {item['number']}, paper {paper} ({item['criterion']}): {found}"
        )
    lines.append("")
    return lines


def _match_label(column):
    return " -> ".join(_METRIC_LABELS.get(c, c) for c in column.split(" -> "))
