"""The report of :func:`~sknmr.study.run_protocols`, in Markdown."""

from ._report import _fmt, _markdown_table


def _protocols_report_lines(summary, figure):
    """The lines of :func:`~sknmr.study.run_protocols`' ``report.md`` (Markdown).

    ``summary`` is what ``protocols.json`` holds; ``figure`` the heat map's
    path relative to the report.
    """
    settings, table = summary["settings"], summary["table"]
    scores = [
        c
        for c in next(iter(table.values()), {})
        if c.startswith(("R2", "F1")) and not c.endswith("_std")
    ]
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
