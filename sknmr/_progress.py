"""Progress reporting for long work (tqdm, off unless asked)."""

from contextlib import contextmanager

from tqdm.auto import tqdm


@contextmanager
def progress_bar(total, unit, enabled=True, desc=None):
    """A tqdm bar over ``total`` items, or a silent stand-in when disabled."""
    bar = tqdm(total=total, unit=unit, desc=desc, disable=not enabled, leave=False)
    try:
        yield bar
    finally:
        bar.close()
