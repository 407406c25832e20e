"""Progress reporting for long work (tqdm, off unless asked)."""

import sys
from contextlib import contextmanager

from tqdm.auto import tqdm


class _SilentBar:
    """What a disabled bar does: nothing (it counts nothing, as tqdm's)."""

    n = 0

    def update(self, n=1):
        pass

    def close(self):
        pass


@contextmanager
def progress_bar(total, unit, enabled=True, desc=None):
    """A tqdm bar over ``total`` items, or a silent stand-in when disabled.

    The stand-in is no tqdm object: tqdm makes a multiprocessing lock for its
    first bar, even a disabled one, and a worker process killed while holding
    one leaves the resource tracker warning of "leaked semaphore objects".

    Examples
    --------
    >>> with progress_bar(3, "echoes", enabled=False) as bar:
    ...     bar.update(3)
    """
    bar = (
        tqdm(total=total, unit=unit, desc=desc, leave=False)
        if enabled
        else _SilentBar()
    )
    try:
        yield bar
    finally:
        bar.close()


def progress_message(verbose, source, message):
    """Print ``[sknmr <source>] <message>`` when ``verbose > 0``.

    Written through tqdm, so that a line printed while a bar runs does not
    break it.

    Examples
    --------
    >>> progress_message(1, "reproduce", "Table I")
    [sknmr reproduce] Table I
    >>> progress_message(0, "reproduce", "Table I")
    """
    if verbose > 0:
        tqdm.write(f"[sknmr {source}] {message}", file=sys.stdout)
        sys.stdout.flush()
