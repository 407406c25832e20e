"""Which kernels there are and what they take.

The built-in kernels' names, length parameters and optional parameters, the
records of kernels added with :func:`~sknmr.kernels.register_kernel`, and the
checks of a kernel's name, length, parameters and lattice that every public
function makes before any work.
"""

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.utils._param_validation import Interval

from ..lattices import Lattice

#: The paper's kernel names, in the order used for numeric kernel codes
#: (0, 1, 2) and by the paper's prior.
KERNELS = ("gaussian", "power", "rkky")
#: The name of each built-in kernel's length parameter (a registered kernel's
#: is in its :class:`RegisteredKernel` record).
LENGTH_NAMES = {"gaussian": "xi", "power": "p", "rkky": "gamma", "uniform": "radius"}
#: Built-in kernels whose coupling decays as a power law (the paper's "power"
#: class); registered kernels join it with ``register_kernel(..., power=True)``.
POWER_KERNELS = ("power",)

# Each built-in kernel's own optional parameters, with their defaults.
_OWN_PARAMETERS = {
    "gaussian": {"exponent": 2.0},
    "power": {},
    "rkky": {},
    "uniform": {},
}
# The optional parameters every kernel takes, with their defaults (at which
# the angular and staggered factors are not applied).
_COMMON_PARAMETERS = {"s_wave": 1.0, "p_wave": 0.0, "d_wave": 0.0, "staggered": 0}
# Names a registered kernel's parameters may not take: the arguments of the
# kernel function and of the public functions here, and every column of the
# parameter and target tables (a kernel parameter named like one would be
# handed that column, or shadowed by it, without a word).
_TABLE_COLUMNS = (
    "kernel",
    "length",
    "alpha_x",
    "alpha_y",
    "alpha_xy",
    "alpha_z",
    "t1",
    "t2",
    "linewidth",
    "W",
    "L",
    "power",
)
_RESERVED_NAMES = {"dx", "dy", "dz", "lattice_size", "normalize", *_TABLE_COLUMNS}


class RegisteredKernel(NamedTuple):
    """A kernel added with :func:`register_kernel`: the arguments that made it.

    ``register_kernel(**record._asdict(), overwrite=True)`` registers the same
    kernel again, in another process say.
    """

    name: str
    function: Callable
    length_name: str
    parameters: dict
    power: bool


# name -> (RegisteredKernel, digest of its definition for kernel_token)
_REGISTRY = {}


def available_kernels():
    """The names of all usable kernels.

    Returns
    -------
    names : tuple of str
        The paper's three (:data:`KERNELS`), ``"uniform"``, then the
        registered kernels in the order they were registered.

    Examples
    --------
    >>> available_kernels()
    ('gaussian', 'power', 'rkky', 'uniform')
    """
    return (*_OWN_PARAMETERS, *_REGISTRY)


def _check_kernel(kernel):
    if not isinstance(kernel, str) or not (
        kernel in _OWN_PARAMETERS or kernel in _REGISTRY
    ):
        raise ValueError(
            f"kernel must be one of {available_kernels()}; got {kernel!r}."
        )


def _length_name(kernel):
    _check_kernel(kernel)
    if kernel in LENGTH_NAMES:
        return LENGTH_NAMES[kernel]
    return _REGISTRY[kernel][0].length_name


def kernel_parameters(kernel):
    """The optional parameters a kernel accepts, with their defaults.

    Parameters
    ----------
    kernel : str
        A name from :func:`available_kernels`.

    Returns
    -------
    parameters : dict
        The kernel's own parameters (``exponent`` for the gaussian, those
        given to :func:`register_kernel`), then the common ``s_wave``,
        ``p_wave``, ``d_wave`` and ``staggered``.

    Examples
    --------
    >>> kernel_parameters("gaussian")
    {'exponent': 2.0, 's_wave': 1.0, 'p_wave': 0.0, 'd_wave': 0.0, 'staggered': 0}
    >>> list(kernel_parameters("power"))
    ['s_wave', 'p_wave', 'd_wave', 'staggered']
    """
    _check_kernel(kernel)
    if kernel in _OWN_PARAMETERS:
        own = _OWN_PARAMETERS[kernel]
    else:
        own = _REGISTRY[kernel][0].parameters
    return {**own, **_COMMON_PARAMETERS}


#: The constraint (:mod:`sklearn.utils._param_validation`) on the public
#: functions' ``lattice_size``: the side ``n >= 2`` of the square lattice, or
#: any Lattice (whose own checks ask for 2 cells or more along each vector).
LATTICE_SIZE = [Interval(Integral, 2, None, closed="left"), Lattice]


def _lattice_key(lattice_size):
    """What the kernels are computed on: ``n`` for the ``n x n`` unit square
    lattice (an int, or the equal :class:`~sknmr.lattices.Lattice`), which
    keeps the square lattice's own code path bit for bit; the Lattice otherwise.
    """
    if isinstance(lattice_size, Lattice):
        n = lattice_size.square_size()
        return lattice_size if n is None else n
    return lattice_size


def _n_sites(key):
    return key.n_sites if isinstance(key, Lattice) else key**2


def _lattice_words(key):
    shape = key.shape if isinstance(key, Lattice) else (key, key)
    return "x".join(str(n) for n in shape)


def _zero_index(key):
    return (0,) * (key.ndim if isinstance(key, Lattice) else 2)


def check_length(kernel, length):
    name = _length_name(kernel)
    if not isinstance(length, Real) or not np.isfinite(length):
        raise ValueError(f"length ({name}) must be a finite number; got {length!r}.")
    if kernel == "power":
        if length < 0:
            raise ValueError(
                f"length (p) of the power kernel must be >= 0; got {length}."
            )
    elif kernel == "uniform":
        if length < 1:
            raise ValueError(
                "length (radius) of the uniform kernel must be >= 1, the "
                "nearest-neighbour distance (a smaller radius reaches no site and "
                f"the kernel sums to 0); got {length}."
            )
    elif kernel in KERNELS and length <= 0:
        raise ValueError(
            f"length ({name}) of the {kernel} kernel must be > 0; got {length}."
        )


def _resolve_parameters(kernel, extras):
    """Validate a kernel's optional parameters; all of them as (name, float)."""
    defaults = kernel_parameters(kernel)
    unknown = sorted(set(extras) - set(defaults))
    if unknown:
        raise TypeError(
            f"The {kernel!r} kernel got unknown parameter(s) {unknown}; it "
            f"accepts {list(defaults)}."
        )
    values = {**defaults, **extras}
    for name, value in values.items():
        if not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(
                f"{name} of the {kernel!r} kernel must be a finite real number; "
                f"got {value!r}."
            )
    if kernel == "gaussian" and values["exponent"] <= 0:
        raise ValueError(
            f"exponent of the gaussian kernel must be > 0; got {values['exponent']}."
        )
    if values["staggered"] not in (0, 1):
        raise ValueError(f"staggered must be 0 or 1; got {values['staggered']!r}.")
    return tuple((name, float(value)) for name, value in values.items())
