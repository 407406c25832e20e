"""Worker processes that end when the process that started them is gone.

A process killed with SIGKILL cannot end its own workers, and joblib's loky
workers then wait for work that never comes (seen: four processes left,
re-parented to PID 1, still there minutes later). A task that runs in such a
worker calls :func:`end_with_parent` first: the worker then watches its parent
and exits as soon as it is gone.
"""

import multiprocessing
import os
import threading
import time

__all__ = ["end_with_parent"]

_watching = threading.Event()
_lock = threading.Lock()


def _watch(parent, poll_seconds):
    while True:
        time.sleep(poll_seconds)
        if os.getppid() != parent:  # re-parented: the parent is gone
            os._exit(1)


def end_with_parent(poll_seconds=1.0):
    """In a joblib (loky) worker process, exit when its parent process is gone.

    The first call in a worker starts a daemon thread that checks every
    ``poll_seconds`` whether the worker's parent is still the process that
    started it. Anywhere else (the main process, threads, Dask workers, which
    have nannies of their own) it does nothing.

    Parameters
    ----------
    poll_seconds : float, default=1.0
        How often the parent is looked for.

    Returns
    -------
    watching : bool
        Whether this process is a worker that now watches its parent.

    Examples
    --------
    >>> end_with_parent()  # in the main process: nothing to watch
    False
    """
    if not multiprocessing.current_process().name.startswith("LokyProcess"):
        return False
    with _lock:
        if not _watching.is_set():
            thread = threading.Thread(
                target=_watch,
                args=(os.getppid(), poll_seconds),
                name="sknmr-end-with-parent",
                daemon=True,
            )
            thread.start()
            _watching.set()
    return True
