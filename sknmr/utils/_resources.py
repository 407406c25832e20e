"""Checks on what a request will cost, made before any work starts.

A request too big for memory is refused before it allocates anything, with a
message naming the parameters that set its size; ``n_jobs`` values are
checked against the machine.
"""

import os
from numbers import Integral

__all__ = ["available_memory", "check_fits_in_memory", "check_n_jobs", "format_bytes"]

#: Fraction of the available memory a single request may plan to use.
MEMORY_FRACTION = 0.8


def available_memory():
    """Bytes of memory available now (physical memory if that is unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 2**63 - 1


def format_bytes(n):
    """``n`` bytes in words: ``'7.28 TiB'``.

    Examples
    --------
    >>> format_bytes(3 * 2**30)
    '3 GiB'
    """
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def check_fits_in_memory(n_bytes, what, parameters):
    """Refuse a plan of ``n_bytes`` that cannot fit in the memory available now.

    Parameters
    ----------
    n_bytes : int or float
        What the request will allocate at its peak, estimated.
    what : str
        The request, in words (``"simulating 10 echoes of 1884 samples"``).
    parameters : str
        The parameters that set the size, for the message
        (``"n_samples, tau / dt or lattice_size"``).

    Raises
    ------
    ValueError
        When ``n_bytes`` exceeds :data:`MEMORY_FRACTION` of the available memory.
    """
    limit = MEMORY_FRACTION * available_memory()
    if n_bytes > limit:
        raise ValueError(
            f"{what} needs about {format_bytes(n_bytes)} of memory, more than this "
            f"machine can give ({format_bytes(limit)}); reduce {parameters}."
        )


def check_n_jobs(n_jobs, name="n_jobs"):
    """Validate ``n_jobs``: None, a positive int, or -1 .. -(number of cores).

    Examples
    --------
    >>> check_n_jobs(-1)
    -1
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be None, a positive int or a negative int ...
    """
    if n_jobs is None:
        return None
    cores = os.cpu_count() or 1
    allowed = (
        f"{name} must be None, a positive int or a negative int in [-{cores}, -1] "
        f"(-1 all {cores} cores, -2 all but one, ...)"
    )
    if not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool):
        raise TypeError(f"{allowed}; got {n_jobs!r}.")
    if n_jobs == 0 or n_jobs < -cores:
        raise ValueError(f"{allowed}; got {n_jobs}.")
    return int(n_jobs)
