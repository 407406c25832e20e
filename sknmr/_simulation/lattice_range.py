"""A kernel whose range reaches round the periodic lattice: warned of.

On a periodic lattice a nucleus meets its own periodic image at the
shortest translation of the whole lattice; beyond half of it, the kernel is
evaluated at the nearest image of each site, so a longer kernel is folded
back onto the lattice and the spin couples to its own images through the
kernel's range. The kernels whose length parameter is the distance their
coupling dies out over (the gaussian's ``xi``, the uniform ``radius``) are
compared with that half. The power and rkky kernels are not: their tails
decay as powers of the distance (``r ** -p``, ``r ** -3``) and reach round
any lattice, as the model means them to, and their length parameter is an
exponent or a wavelength (the paper's ``gamma`` reaches 52 on its 100 x 100
lattice). Nor is a registered kernel, whose length may mean anything.
"""

import itertools
import math
import warnings

import numpy as np

from ..lattices import LatticeRangeWarning

# The kernels whose length parameter is the distance their coupling dies out
# over, in lattice units.
DISTANCE_LENGTHS = {"gaussian": "xi", "uniform": "radius"}


def half_extent(lattice):
    """Half the shortest translation of the whole periodic lattice."""
    cells = np.asarray(lattice.shape)[:, None] * np.asarray(lattice.vectors)
    shortest = min(
        float(np.linalg.norm(np.asarray(s) @ cells))
        for s in itertools.product((-1, 0, 1), repeat=lattice.ndim)
        if any(s)
    )
    return shortest / 2.0


def warn_long_kernels(settings, lattice, stacklevel=3):
    """One :class:`~sknmr.lattices.LatticeRangeWarning` for the kernel settings
    whose length exceeds :func:`half_extent`, naming the longest.

    Parameters
    ----------
    settings : iterable of (str, float, dict)
        Distinct ``(kernel, length, extras)`` of a checked table.
    lattice : Lattice
    """
    half = half_extent(lattice)
    long = sorted(
        {
            (length, kernel)
            for kernel, length, _ in settings
            if kernel in DISTANCE_LENGTHS and length > half
        },
        reverse=True,
    )
    if not long:
        return
    length, kernel = long[0]
    more = f" (and {len(long) - 1} more setting(s))" if len(long) > 1 else ""
    cells = " x ".join(str(n) for n in lattice.shape)
    # the sides grow together: the factor that brings half the extent to the length
    grow = math.floor(length / half * max(lattice.shape)) + 1
    warnings.warn(
        f"The {kernel} kernel's length {DISTANCE_LENGTHS[kernel]}={length:g}{more} "
        f"exceeds half the smallest periodic extent of the {cells} lattice "
        f"({half:g}): each spin then couples to its own periodic images through "
        "the kernel's range. Use a larger lattice (lattice_size, or a Lattice "
        f"with about {grow} cells or more along each vector).",
        LatticeRangeWarning,
        stacklevel=stacklevel,
    )
