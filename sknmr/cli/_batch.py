"""Several files in one run: folders expanded, a progress bar, one table with a
row per file (``sknmr decay`` and ``sknmr infer``)."""

import os

__all__ = ["BATCH_ERRORS", "check_paths", "expand_paths", "print_table", "run_batch"]

#: What reading or fitting one file may raise: the file's row gets the message.
BATCH_ERRORS = (OSError, ValueError, TypeError, ImportError)


def check_paths(parser, paths, argument):
    """A usage error, before any work, for a path that does not exist."""
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        parser.error(f"argument {argument}: no such file or folder: {missing[0]}")


def expand_paths(paths):
    """The files to read: each path, or the entries of a folder that is no experiment.

    A folder that :func:`sknmr.io.guess_format` reads as one experiment (a
    Bruker or Spinsolve folder) stays one path; another folder gives its
    entries, hidden ones left out, in sorted order.
    """
    from ..io import guess_format

    files = []
    for path in paths:
        if os.path.isdir(path):
            try:
                guess_format(path)
                files.append(path)
                continue
            except ValueError:
                pass
            entries = sorted(e for e in os.listdir(path) if not e.startswith("."))
            files.extend(os.path.join(path, entry) for entry in entries)
        else:
            files.append(path)
    return files


def run_batch(files, one, *, quiet, leading=None):
    """A table with a row per file: ``file``, ``leading``, ``one(path)``, ``error``.

    ``one(path)`` returns the row's values (a dict); a file for which it
    raises one of :data:`BATCH_ERRORS` gets the message in its ``error``
    column (empty otherwise) and the others go on. A progress bar counts the
    files unless ``quiet``.
    """
    import pandas as pd

    from .._progress import progress_bar

    rows = []
    with progress_bar(len(files), "file", enabled=not quiet) as bar:
        for path in files:
            row = {"file": path, **(leading or {})}
            try:
                row.update(one(path))
                row["error"] = ""
            except BATCH_ERRORS as exc:
                row["error"] = str(exc)
            rows.append(row)
            bar.update()
    table = pd.DataFrame(rows)
    # the error last, whichever file first had a result
    return table[[c for c in table.columns if c != "error"] + ["error"]]


def print_table(table):
    """Print a batch's table, whole (every column the library gave)."""
    import pandas as pd

    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.to_string(index=False))
