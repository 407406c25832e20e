"""The study runner: a report folder, checked before any work, and its files.

:func:`~sknmr.study.reproduce` and :func:`~sknmr.study.run_protocols` both
run through :class:`_StudyRun`: the output folder is checked (never created)
with the other arguments, created once the work starts, progress goes
through :func:`sknmr._progress.progress_message`, every step is timed, and
the report is written once, as Markdown (``report.md``, which the
documentation renders with MyST), beside its numbers as JSON.
"""

import json
import os
import tempfile
import time

from .._progress import progress_message

__all__ = []


def _check_folder(path, name):
    """Check that folder ``path`` exists or can be created, and can be written.

    Creates nothing: the nearest existing folder on the path is checked with
    a temporary file that leaves no trace (``os.access`` says yes to root on
    read-only mounts). Returns the path as a str.
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(
            f"{name} must be a str or path-like; got {type(path).__name__}."
        ) from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValueError(f"{name} must name a folder; got an empty path.")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name} must be a folder; {path!r} is a file.")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(
            f"{name} must be a folder that can be created; {path!r} cannot: "
            f"{existing!r} is a file."
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise ValueError(
            f"{name} must be a folder that can be written; {path!r} cannot: "
            f"{exc.strerror or exc}."
        ) from None
    return path


class _StudyRun:
    """One run of a study into a checked report folder.

    Parameters
    ----------
    source : str
        The command's name in progress lines (``[sknmr <source>] ...``).
    out : str
        The report folder, already checked by :func:`_check_folder`.
    verbose : int
        Progress lines when > 0.
    subfolders : sequence of str
        Folders made inside ``out`` when the run starts.
    """

    def __init__(self, source, out, verbose, subfolders=()):
        self.source = source
        self.out = out
        self.verbose = verbose
        self.subfolders = tuple(subfolders)
        self.timings = {}

    def start(self):
        """Make the folders and start the clocks; returns the run."""
        os.makedirs(self.out, exist_ok=True)
        for sub in self.subfolders:
            os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        self.started = self._last = time.perf_counter()
        return self

    def log(self, message):
        progress_message(self.verbose, self.source, message)

    def step(self, label):
        """Record the time since the previous step (or the start) as ``label``."""
        now = time.perf_counter()
        self.timings[label] = now - self._last
        self._last = now

    @property
    def wall_time(self):
        return time.perf_counter() - self.started

    def path(self, name):
        return os.path.join(self.out, name)

    def write_json(self, name, value):
        """Write ``value`` (JSON-able) as ``name`` in the folder; returns its path."""
        with open(self.path(name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
        return self.path(name)

    def write_report(self, lines):
        """Write the Markdown report ``report.md`` from its lines; returns its path."""
        with open(self.path("report.md"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        return self.path("report.md")
