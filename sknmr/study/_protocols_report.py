"""The record of a protocol study: its figure, best protocols and Markdown report.

:func:`protocol_figure` draws the table of
:func:`~sknmr.study.protocol_study` as "which experiment tells what";
:func:`_best_protocols` and :func:`_protocols_report_lines` give what
:func:`~sknmr.study.run_protocols` writes to ``protocols.json`` and
``report.md``.
"""

import os

import numpy as np

from ._markdown import _fmt, _markdown_table

__all__ = ["protocol_figure"]


def _is_score(column):
    """A score column of the protocol table (not its spread over folds)."""
    return column.startswith(("R2", "F1")) and not column.endswith("_std")


def _score_columns(columns):
    """The score columns, in order, of a table's columns or a row's keys."""
    return [c for c in columns if _is_score(c)]


def protocol_figure(table, path=None):
    """ "Which experiment tells what": a heat map of the protocols' scores.

    Parameters
    ----------
    table : DataFrame
        From :func:`protocol_study`.
    path : str or None, default=None
        Save the figure there (PNG) when given.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    columns = _score_columns(table.columns)
    values = table[columns].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 3.5, 0.5 * len(table) + 1.8))
    image = ax.imshow(np.clip(values, 0, 1), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(columns)), [c.replace("R2 ", "R² ") for c in columns])
    ax.set_yticks(range(len(table)), table.index)
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value < 0.6 else "black",
                fontsize=8,
            )
    fig.colorbar(image, ax=ax, label="cross-validated score (clipped to [0, 1])")
    ax.set_title("Which experiment tells what")
    fig.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def _best_protocols(table):
    """The best protocol of each score (name and value)."""
    best = {}
    for column in _score_columns(table.columns):
        values = table[column].astype(float)
        if values.notna().any():
            best[column] = (str(values.idxmax()), float(values.max()))
    return best


def _protocols_report_lines(summary, figure):
    """The lines of :func:`~sknmr.study.run_protocols`' ``report.md`` (Markdown).

    ``summary`` is what ``protocols.json`` holds; ``figure`` the heat map's
    path relative to the report.
    """
    settings, table = summary["settings"], summary["table"]
    scores = _score_columns(next(iter(table.values()), {}))
    rows = [
        (
            name,
            row["n_echoes"],
            *(f"{_fmt(row[c], 2)} ({_fmt(row[c + '_std'], 2)})" for c in scores),
        )
        for name, row in table.items()
    ]
    lines = [
        "# Which experiment tells what",
        "",
        f"Preset {summary['preset']}: {3 * settings['n_per_kernel']} materials on "
        f"{settings['lattice_size']} x {settings['lattice_size']}, tau = "
        f"{settings['tau']:g} us, each measured by every experiment; "
        f"{settings['cv']}-fold cross-validated random forests "
        f"({settings['n_estimators']} trees); mean (std over folds). "
        f"Wall time {summary['wall_time_s']:.0f} s.",
        "",
        _markdown_table(("protocol", "echoes", *scores), rows),
        "",
        "Best protocol per score:",
        "",
    ]
    lines += [
        f"- {score}: {name} ({value:.2f})"
        for score, (name, value) in summary["best"].items()
    ]
    lines += ["", f"![Which experiment tells what]({figure})", ""]
    return lines
