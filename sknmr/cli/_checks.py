"""Checks made before any work: files and folders to write, and runs too big or
too long."""

import os
import tempfile

from ..utils._files import check_writable

__all__ = ["MAX_RUN_HOURS", "check_folder", "check_output_file", "check_run"]

#: Longest estimated simulation run that starts without ``--force``, in hours.
MAX_RUN_HOURS = 24.0

# Above this many nuclei a long run is blamed on --lattice-size (100 x 100,
# the paper's lattice).
_LARGE_LATTICE_SITES = 100 * 100


def check_output_file(parser, path, overwrite):
    """Fail now, not after the simulation, if ``path`` cannot be written."""

    def error(message):
        parser.error(f"argument -o/--output: {message}")

    if not path.strip():
        error("expected a file name, got an empty one")
    if os.path.isdir(path):
        error(f"{path!r} is a folder; give the name of the .npz file to write")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        problem = "is not a folder" if os.path.exists(folder) else "does not exist"
        error(f"cannot write {path!r}: {folder!r} {problem}")
    if os.path.lexists(path) and not overwrite:
        error(f"{path!r} exists; pass --overwrite to replace it")
    try:  # a real write: os.access says yes to root on read-only mounts
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        error(f"cannot write into folder {folder!r}: {exc.strerror or exc}")


def check_folder(parser, path, option):
    """Fail now, not after the work, if ``path`` cannot be (made) a folder.

    The nearest existing folder on the way must take a new file: a folder
    made later under it can then be written too.
    """
    if path is None:
        return
    if not path.strip():
        parser.error(f"argument {option}: expected a folder name, got an empty one")
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        parser.error(
            f"argument {option}: must be a folder that can be written; "
            f"{existing!r} is a file"
        )
    try:
        check_writable(os.path.join(existing, ".sknmr-check"), f"into {existing!r}")
    except OSError as exc:
        parser.error(
            f"argument {option}: must be a folder that can be written; "
            f"{exc.strerror or exc}"
        )


def _memory_option(simulator, count_option):
    """The option that makes a run too big: the samples per echo or the count."""
    from ..simulator import EchoSimulator

    if simulator.n_times > EchoSimulator(tau=simulator.tau).n_times:
        return "--dt"
    if simulator.tau > 100.0:
        return "--tau"
    return count_option


def check_run(parser, simulator, n_echoes, *, n_jobs, force, count_option):
    """Refuse, before any work, a run that cannot fit in memory or takes too long.

    ``n_echoes`` echoes of ``simulator`` in ``n_jobs`` processes; the limit of
    :data:`MAX_RUN_HOURS` on the simulator's own time estimate is lifted by
    ``--force``.
    """
    import warnings

    from joblib import effective_n_jobs

    from ..utils._resources import check_fits_in_memory

    n_sites, n_times = simulator.experiment.lattice.n_sites, simulator.n_times
    try:  # one echo's lattice state and samples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the long-run warning: refused below
            simulator.check_workload(1)
    except (ValueError, MemoryError) as exc:
        option = "--lattice-size" if 64 * n_sites > 4 * n_times else "--dt"
        parser.error(f"argument {option}: {exc}")
    itemsize = simulator.resolve_backend().dtype.itemsize
    try:  # the whole dataset, as make_echoes counts it
        check_fits_in_memory(
            n_echoes * (n_times * itemsize + 200),
            f"A dataset of {n_echoes} echoes of {n_times} samples",
            "the number of echoes, or tau / dt (the samples per echo)",
        )
    except (ValueError, MemoryError) as exc:
        parser.error(f"argument {_memory_option(simulator, count_option)}: {exc}")
    workers = max(1, min(effective_n_jobs(n_jobs), n_echoes))
    hours = simulator.estimate_seconds(n_echoes) / workers / 3600
    if hours > MAX_RUN_HOURS and not force:
        option = (
            "--lattice-size"
            if n_sites > _LARGE_LATTICE_SITES
            else _memory_option(simulator, count_option)
        )
        parser.error(
            f"argument {option}: simulating {n_echoes} echoes of {n_times} samples "
            f"on {n_sites} nuclei would take about {hours:.3g} hours, more than the "
            f"limit of {MAX_RUN_HOURS:g} hours; make the run smaller, or pass "
            "--force to start it anyway"
        )
