"""Interaction kernels on the periodic square lattice, or any other lattice.

The electron-mediated coupling between a nucleus and the one at displacement
``d = (dx, dy)`` from it is ``K(d)``, with the self term ``d = 0`` excluded.
The paper's three kernels depend on the distance ``r = |d|`` only:

* ``"gaussian"``: ``exp(-(r / xi) ** 2)``, length parameter ``xi``;
* ``"power"``: ``r ** (-p)``, length parameter ``p``;
* ``"rkky"``: ``x ** -4 * (x cos x - sin x)`` with ``x = 2 r / gamma``,
  length parameter ``gamma``.

Beyond the paper:

* ``"uniform"``: ``1`` for ``0 < r <= R``, ``0`` beyond; length parameter
  ``radius``, at least 1 (the nearest-neighbour distance).
* The gaussian takes an optional ``exponent`` ``q`` (default 2):
  ``exp(-(r / xi) ** q)``, the stretched (``q < 2``) or compressed (``q > 2``)
  gaussian.
* Every kernel takes the angular weights ``s_wave`` (default 1), ``p_wave``
  (0) and ``d_wave`` (0), which multiply ``K`` by
  ``s_wave + p_wave cos(theta) + d_wave cos(2 theta)`` with
  ``theta = atan2(dy, dx)``, and ``staggered`` (0 or 1, default 0), which
  multiplies ``K`` by the antiferromagnetic sign ``(-1) ** (dx + dy)``. At
  their defaults these factors are not applied at all.
* :func:`register_kernel` adds a kernel of your own, which then works
  everywhere a built-in one does.

:func:`available_kernels` lists the kernel names and :func:`kernel_parameters`
each kernel's optional parameters with their defaults; every function here
takes them as keyword arguments.

**Lattice conventions.** Site ``(a, b)`` of the ``n x n`` periodic lattice
(lattice constant 1) is row ``a``, column ``b``; ``x`` runs along axis 0 and
``y`` along axis 1. The displacement of site ``(a, b)`` from site ``(0, 0)``
is the minimum image ``dx = a`` if ``a <= n // 2`` else ``a - n`` (likewise
``dy`` from ``b``), so ``dx`` lies in ``(-n/2, n/2]``: for even ``n`` the
tie at ``n/2`` is resolved to ``+n/2``. Distances ``r = hypot(|dx|, |dy|)``
are exactly those of :func:`lattice_distances`.

For odd ``n`` the staggered sign is frustrated at the boundary: the sites at
``dx = (n - 1) / 2`` and ``dx = -(n - 1) / 2`` are neighbours across the
periodic seam, yet their displacements have the same parity, so the sign
does not alternate there (an odd ring has no two-sublattice pattern). For
even ``n`` the sign equals ``(-1) ** (a + b)`` of the site indices, a perfect
checkerboard. Likewise, for even ``n`` a ``p_wave`` kernel is not exactly odd:
the line ``dx = n/2`` is its own mirror image and takes ``cos(theta)`` of
``+n/2``.

**Other lattices.** Wherever a ``lattice_size`` is taken, a
:class:`~sknmr.lattices.Lattice` may be given instead (triangular,
rectangular, oblique, layered or 3-D); arrays then have ``lattice.shape``,
indexed by cell. ``K`` is evaluated at the real-space displacement to the
nearest periodic image (:meth:`~sknmr.lattices.Lattice.displacements`), the
angular weights use the angle ``theta`` from ``a_1`` in the plane of ``a_1``
and ``a_2`` (:meth:`~sknmr.lattices.Lattice.plane_coordinates`; a
displacement with no component in that plane gets ``s_wave`` only), the
staggered sign is ``(-1) ** (sum of the cell offsets)`` and the convolution
is an FFT over the cell indices. The ``n x n`` unit square
:class:`~sknmr.lattices.Lattice` takes the integer's own code path, so it
gives the same bits as ``lattice_size=n``.

**Normalisation and targets.** ``kappa = sum_{j != i} K(d_ij)`` normalises
the kernel, ``Khat = K / kappa``, and the length scale is
``L = sum_j r_ij Khat(d_ij)``. A kernel whose values cancel (``kappa`` zero,
or at the level of rounding, or not finite) cannot be normalised and is
refused: a pure p-wave kernel (``s_wave=0``) is odd and sums to zero, so a
p-wave weight needs an ``s_wave`` (or another term) that does not cancel. (On
an even lattice only the tie line ``dx = n/2`` is left over; its sum is
normalised when it exceeds the rounding level, which is rarely meaningful.)
For kernels that change sign ``kappa`` and ``L`` may be negative or larger
than the lattice; they are what the definitions give. The interaction
weight is ``W = 2 alpha_xy + alpha_z`` (``alpha_x + alpha_y + alpha_z`` for
anisotropic couplings). ``W``, ``L`` and the power flag are the learning
targets of the paper.

**Mean field.** The local mean field is ``w_i = sum_j Khat(r_j - r_i) <I_j>``,
so ``fft2(w) = S * fft2(<I>)`` with ``S = conj(fft2(Khat))``, which
:func:`kernel_spectrum` returns: a real array for kernels even under
``d -> -d`` (all but the p-wave ones), a complex one otherwise.

Examples
--------
>>> from sknmr.kernels import kernel_stats
>>> kappa, L = kernel_stats("gaussian", 5.0, 100)
>>> print(f"{kappa:.4f} {L:.4f}")
77.5398 4.4853
>>> kappa, L = kernel_stats("gaussian", 5.0, 100, exponent=1.0)
>>> print(f"{kappa:.4f} {L:.4f}")
156.0864 10.0478
"""

import functools
import hashlib
import inspect
import keyword
import math
import types
from collections.abc import Callable, Mapping
from functools import lru_cache
from numbers import Integral, Real
from typing import NamedTuple

import joblib
import numpy as np

from .lattices import Lattice

__all__ = [
    "KERNELS",
    "LENGTH_NAMES",
    "POWER_KERNELS",
    "RegisteredKernel",
    "available_kernels",
    "coupling_targets",
    "kernel_on_lattice",
    "kernel_parameters",
    "kernel_spectrum",
    "kernel_stats",
    "kernel_token",
    "lattice_distances",
    "register_kernel",
    "registered_kernels",
    "unregister_kernel",
]

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


def _check_lattice_size(lattice_size):
    if not isinstance(lattice_size, Integral) or isinstance(lattice_size, bool):
        raise TypeError(
            "lattice_size must be an integer >= 2 or a sknmr.lattices.Lattice; got "
            f"{type(lattice_size).__name__}."
        )
    if lattice_size < 2:
        raise ValueError(f"lattice_size must be an integer >= 2; got {lattice_size}.")


def _lattice_key(lattice_size):
    """What the kernels are computed on: ``n`` for the ``n x n`` unit square
    lattice (an int, or the equal :class:`~sknmr.lattices.Lattice`), which
    keeps the square lattice's own code path bit for bit; the Lattice otherwise.
    """
    if isinstance(lattice_size, Lattice):
        n = lattice_size.square_size()
        return lattice_size if n is None else n
    _check_lattice_size(lattice_size)
    return lattice_size


def _n_sites(key):
    return key.n_sites if isinstance(key, Lattice) else key**2


def _lattice_words(key):
    shape = key.shape if isinstance(key, Lattice) else (key, key)
    return "x".join(str(n) for n in shape)


def _zero_index(key):
    return (0,) * (key.ndim if isinstance(key, Lattice) else 2)


def _check_length(kernel, length):
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


@lru_cache(maxsize=8)
def _distances(lattice_size):
    offsets = np.arange(lattice_size)
    d = np.minimum(offsets, lattice_size - offsets).astype(np.float64)
    r = np.hypot(d[:, None], d[None, :])
    r.setflags(write=False)
    return r


@lru_cache(maxsize=8)
def _displacements(lattice_size):
    """Minimum-image ``dx``, ``dy`` of every site from (0, 0), in (-n/2, n/2]."""
    offsets = np.arange(lattice_size)
    d = np.where(offsets <= lattice_size // 2, offsets, offsets - lattice_size)
    dx = np.repeat(d[:, None].astype(np.float64), lattice_size, axis=1)
    dy = dx.T.copy()
    dx.setflags(write=False)
    dy.setflags(write=False)
    return dx, dy


@lru_cache(maxsize=8)
def _lattice_distances(lattice):
    r = lattice.distances()
    r.setflags(write=False)
    return r


def _distances_of(key):
    if isinstance(key, Lattice):
        return _lattice_distances(key)
    return _distances(key)


def lattice_distances(lattice_size):
    """Minimum-image distance from site (0, 0) to every site of the lattice.

    Parameters
    ----------
    lattice_size : int or Lattice
        Side ``n`` of the periodic ``n x n`` square lattice, or any
        :class:`~sknmr.lattices.Lattice`.

    Returns
    -------
    r : ndarray of shape (lattice_size, lattice_size) or lattice.shape
        ``r[a, b]`` is the distance from site ``(0, 0)`` to site ``(a, b)``
        (to its nearest periodic image).

    Examples
    --------
    >>> lattice_distances(4)[0]
    array([0., 1., 2., 1.])
    >>> from sknmr.lattices import Lattice
    >>> lattice_distances(Lattice.triangular(4))[0]
    array([0., 1., 2., 1.])
    """
    return _distances_of(_lattice_key(lattice_size)).copy()


def _builtin_kernel(kernel, length, r, exponent=2.0):
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "gaussian":
            if exponent == 2.0:  # the paper's expression, bit for bit
                return np.exp(-((r / length) ** 2))
            return np.exp(-((r / length) ** exponent))
        if kernel == "power":
            return r ** (-float(length))
        if kernel == "rkky":
            x = 2.0 * r / length
            return (x * np.cos(x) - np.sin(x)) / x**4
        return (r <= length).astype(np.float64)  # uniform


def _takes_dz(function):
    try:
        return "dz" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # no signature to read: assume 2-D only
        return False


def _components(key):
    """The displacement components ``dx, dy`` (and ``dz`` in 3-D) of every site."""
    if isinstance(key, Lattice):
        d = key.displacements()
        return tuple(d[..., axis] for axis in range(key.ndim))
    return _displacements(key)


def _registered_kernel(kernel, length, key, parameters):
    function = _REGISTRY[kernel][0].function
    components = [d.copy() for d in _components(key)]  # the caller's own
    if len(components) == 3:
        if not _takes_dz(function):
            raise ValueError(
                f"The registered kernel {kernel!r} takes no dz argument, so it "
                f"cannot be evaluated on the 3-D {_lattice_words(key)} lattice; "
                "register a function(dx, dy, length, dz=0.0, **parameters) to use "
                "it on 3-D lattices."
            )
        parameters = {**parameters, "dz": components.pop()}
    dx, dy = components
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # the self term
            k = np.asarray(function(dx, dy, float(length), **parameters))
    except Exception as exc:
        raise ValueError(
            f"The registered kernel {kernel!r} failed at length={float(length)!r}"
            f"{''.join(f', {n}={v!r}' for n, v in parameters.items())}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    shape = key.shape if isinstance(key, Lattice) else (key, key)
    if k.shape != shape:
        raise ValueError(
            f"The registered kernel {kernel!r} returned an array of shape "
            f"{k.shape}; it must return one value per site, shape {shape} like "
            "dx and dy."
        )
    if k.dtype.kind not in "biuf":
        raise ValueError(
            f"The registered kernel {kernel!r} must return real numbers; it "
            f"returned dtype {k.dtype}."
        )
    k = k.astype(np.float64)  # a copy: the caller's array is left alone
    k[_zero_index(key)] = 0.0
    if not np.isfinite(k).all():
        where = tuple(np.argwhere(~np.isfinite(k))[0])
        at = ", ".join(
            f"{name}={d[where]:g}"
            for name, d in zip(("dx", "dy", "dz"), _components(key), strict=False)
        )
        raise ValueError(
            f"The registered kernel {kernel!r} returned non-finite values, e.g. "
            f"{k[where]} at {at}."
        )
    return k


def _angular_cosines(lattice):
    """``cos(theta)`` and ``cos(2 theta)`` of every displacement of a Lattice,
    ``theta`` its angle from ``a_1`` in the plane of ``a_1, a_2``; 0 where the
    displacement has no component in that plane (the self term, a site straight
    above in another layer)."""
    u, v = lattice.plane_coordinates()
    rho2 = u**2 + v**2
    in_plane = rho2 > 0
    safe = np.where(in_plane, rho2, 1.0)
    cos1 = np.where(in_plane, u / np.sqrt(safe), 0.0)
    cos2 = np.where(in_plane, (u**2 - v**2) / safe, 0.0)
    return cos1, cos2


def _kernel_values(kernel, length, lattice_size, parameters):
    """The unnormalised kernel: a fresh float64 array, zero at (0, 0).

    ``lattice_size`` is a lattice key (:func:`_lattice_key`): an int takes the
    square lattice's own path, a Lattice the general one.
    """
    values = dict(parameters)
    s_wave, p_wave, d_wave, staggered = (
        values.pop(name) for name in _COMMON_PARAMETERS
    )
    if kernel in _OWN_PARAMETERS:
        k = _builtin_kernel(kernel, length, _distances_of(lattice_size), **values)
    else:
        k = _registered_kernel(kernel, length, lattice_size, values)
    if isinstance(lattice_size, Lattice):
        if (s_wave, p_wave, d_wave) != (1.0, 0.0, 0.0):
            cos1, cos2 = _angular_cosines(lattice_size)
            k = k * (s_wave + p_wave * cos1 + d_wave * cos2)
        if staggered:
            parity = lattice_size.cell_offsets().sum(axis=-1) % 2
            k = k * (1.0 - 2.0 * parity)
        k[_zero_index(lattice_size)] = 0.0  # no self-interaction
        return k
    if (s_wave, p_wave, d_wave) != (1.0, 0.0, 0.0):
        dx, dy = _displacements(lattice_size)
        with np.errstate(divide="ignore", invalid="ignore"):  # the self term
            # cos(theta) and cos(2 theta), exactly odd and even in (dx, dy)
            cos1 = dx / _distances(lattice_size)
            cos2 = (dx**2 - dy**2) / (dx**2 + dy**2)
        k = k * (s_wave + p_wave * cos1 + d_wave * cos2)
    if staggered:
        dx, dy = _displacements(lattice_size)
        k = k * (1.0 - 2.0 * ((dx + dy) % 2))
    k[0, 0] = 0.0  # no self-interaction
    return k


def _describe(kernel, length, parameters):
    defaults = kernel_parameters(kernel)
    changed = "".join(
        f", {name}={value:g}" for name, value in parameters if value != defaults[name]
    )
    return f"The {kernel} kernel with {_length_name(kernel)}={length}{changed}"


def _kappa(k, kernel, length, lattice_size, parameters):
    """``sum K``, refused when not finite or zero up to rounding."""
    kappa = k.sum()
    rounding = _n_sites(lattice_size) * np.finfo(np.float64).eps * np.abs(k).sum()
    if not np.isfinite(kappa) or abs(kappa) <= rounding:
        raise ValueError(
            f"{_describe(kernel, length, parameters)} sums to {kappa} on a "
            f"{_lattice_words(lattice_size)} lattice; it cannot be normalised. (A "
            "kernel whose values cancel, such as a pure p-wave one, needs a term "
            "that does not, such as s_wave != 0.)"
        )
    return kappa


def _validate(kernel, length, lattice_size, extras):
    """The lattice key (:func:`_lattice_key`) and the resolved parameters."""
    _check_kernel(kernel)
    key = _lattice_key(lattice_size)
    _check_length(kernel, length)
    return key, _resolve_parameters(kernel, extras)


def kernel_on_lattice(kernel, length, lattice_size, normalize=True, **extras):
    """The coupling kernel from site (0, 0) to every site of the lattice.

    Parameters
    ----------
    kernel : str
        Kernel form, a name from :func:`available_kernels`.
    length : float
        The kernel's length parameter: ``xi`` (gaussian), ``p`` (power),
        ``gamma`` (rkky), ``radius`` (uniform) or a registered kernel's.
    lattice_size : int or Lattice
        Side of the periodic square lattice, or a
        :class:`~sknmr.lattices.Lattice`.
    normalize : bool, default=True
        Return ``Khat = K / kappa`` (what the dynamics use) rather than ``K``.
    **extras : float
        The kernel's optional parameters, see :func:`kernel_parameters`.

    Returns
    -------
    K : ndarray of shape (lattice_size, lattice_size) or lattice.shape
        The kernel, zero at ``(0, 0)``: ``K[a, b]`` couples a nucleus to the
        one at minimum-image displacement ``(dx, dy)`` of site ``(a, b)``
        (on a Lattice, at the displacement of cell ``(a, b, ...)``).

    Raises
    ------
    TypeError
        For a parameter the kernel does not accept.
    ValueError
        For an unknown kernel, a bad value, or a kernel that cannot be
        normalised.

    Examples
    --------
    >>> K = kernel_on_lattice("power", 2.0, 8)
    >>> print(f"{K.sum():.6f}")
    1.000000
    >>> kernel_on_lattice("uniform", 1.0, 4, normalize=False, staggered=1)
    array([[ 0., -1.,  0., -1.],
           [-1.,  0.,  0.,  0.],
           [ 0.,  0.,  0.,  0.],
           [-1.,  0.,  0.,  0.]])
    >>> from sknmr.lattices import Lattice
    >>> K = kernel_on_lattice("uniform", 1.0, Lattice.triangular(6), normalize=False)
    >>> int(K.sum())  # six nearest neighbours
    6
    """
    key, parameters = _validate(kernel, length, lattice_size, extras)
    k = _kernel_values(kernel, length, key, parameters)
    if not normalize:
        return k
    return k / _kappa(k, kernel, length, key, parameters)


def kernel_stats(kernel, length, lattice_size, **extras):
    """``kappa`` (the kernel's lattice sum) and the length scale ``L``.

    Parameters
    ----------
    kernel : str
        A name from :func:`available_kernels`.
    length : float
        The kernel's length parameter.
    lattice_size : int or Lattice
        Side of the periodic square lattice, or a
        :class:`~sknmr.lattices.Lattice`.
    **extras : float
        The kernel's optional parameters, see :func:`kernel_parameters`.

    Returns
    -------
    kappa : float
        ``sum_{j != i} K(d_ij)``.
    L : float
        ``sum_j r_ij K(d_ij) / kappa``; negative or beyond the lattice's size
        for some kernels that change sign.

    Examples
    --------
    >>> kappa, L = kernel_stats("power", 2.0, 100)
    >>> print(f"{L:.3f}")
    12.516
    >>> kappa, L = kernel_stats("uniform", 2.0, 100)
    >>> print(f"{kappa:g} {L:.4f}")
    12 1.4714
    """
    key, parameters = _validate(kernel, length, lattice_size, extras)
    k = _kernel_values(kernel, length, key, parameters)
    kappa = float(_kappa(k, kernel, length, key, parameters))
    return kappa, float((_distances_of(key) * k).sum() / kappa)


def _is_even(khat):
    """Whether ``Khat(-d) == Khat(d)`` exactly on the periodic lattice."""
    axes = tuple(range(khat.ndim))
    return np.array_equal(
        khat, np.roll(khat[(slice(None, None, -1),) * khat.ndim], 1, axis=axes)
    )


# Lattices with more nuclei than this get their spectra computed afresh: 4096
# cached spectra of a large 3-D lattice would hold tens of gigabytes.
_LARGEST_CACHED = 2**17


def _values_digest(k):
    """A digest of a kernel's values on the lattice, the cache key of its spectrum."""
    return hashlib.blake2b(np.ascontiguousarray(k).tobytes(), digest_size=16).digest()


def _spectrum(kernel, length, lattice_size, parameters):
    if kernel in _OWN_PARAMETERS:  # fixed definitions: the name says it all
        return _builtin_spectrum(kernel, length, lattice_size, parameters)
    # A registered kernel may read globals or mutable closure values: evaluate
    # it (cheap beside a simulation) and reuse a spectrum only for equal values.
    k = _kernel_values(kernel, length, lattice_size, parameters)
    return _spectrum_of(_values_digest(k), k, kernel, length, lattice_size, parameters)


_SPECTRA = {}  # values digest -> spectrum of a registered kernel, newest last
_MAX_SPECTRA = 4096


def _spectrum_of(digest, k, kernel, length, lattice_size, parameters):
    key = (digest, lattice_size)
    spec = _SPECTRA.pop(key, None)
    if spec is None:
        spec = _spectrum_from_values(k, kernel, length, lattice_size, parameters)
        while len(_SPECTRA) >= _MAX_SPECTRA:
            del _SPECTRA[next(iter(_SPECTRA))]
    _SPECTRA[key] = spec
    return spec


@lru_cache(maxsize=4096)
def _builtin_spectrum(kernel, length, lattice_size, parameters):
    k = _kernel_values(kernel, length, lattice_size, parameters)
    return _spectrum_from_values(k, kernel, length, lattice_size, parameters)


def _spectrum_from_values(k, kernel, length, lattice_size, parameters):
    khat = k / _kappa(k, kernel, length, lattice_size, parameters)
    # an FFT over the cell indices, whatever the lattice's vectors
    fft = np.fft.fftn if isinstance(lattice_size, Lattice) else np.fft.fft2
    if _is_even(khat):
        spec = fft(khat).real  # conj(fft(Khat)) is real
    else:
        spec = np.conj(fft(khat))
    spec.setflags(write=False)
    return spec


def kernel_spectrum(kernel, length, lattice_size, **extras):
    """The spectrum ``S`` of the normalised kernel, for the mean field by FFT.

    The local mean field is ``w_i = sum_j Khat(r_j - r_i) <I_j>``, a periodic
    cross-correlation, so ``fft2(w) = S * fft2(<I>)`` with
    ``S = conj(fft2(Khat))`` (the DFT of ``Khat`` reflected).

    Parameters
    ----------
    kernel : str
        A name from :func:`available_kernels`.
    length : float
        The kernel's length parameter.
    lattice_size : int or Lattice
        Side of the periodic square lattice, or a
        :class:`~sknmr.lattices.Lattice`.
    **extras : float
        The kernel's optional parameters, see :func:`kernel_parameters`.

    Returns
    -------
    spectrum : ndarray of shape (lattice_size, lattice_size) or lattice.shape
        Read-only and cached (for lattices of up to 2**17 nuclei): a built-in
        kernel's per name, length, lattice and parameters; a registered
        kernel's per values on the lattice (it is evaluated on each call, so
        a function reading a global or a mutable closure value that changed
        gives the new spectrum).
        float64 (``fft2(Khat).real``) when ``Khat`` is exactly even under
        ``d -> -d`` on the lattice, as every kernel is unless it has a
        ``p_wave`` weight or is a registered odd one; complex128 otherwise.

    Examples
    --------
    >>> spec = kernel_spectrum("gaussian", 2.0, 16)
    >>> print(f"{spec[0, 0]:.6f}")  # the DC term is sum(Khat) = 1
    1.000000
    >>> kernel_spectrum("gaussian", 2.0, 16, p_wave=0.5).dtype
    dtype('complex128')
    """
    key, parameters = _validate(kernel, length, lattice_size, extras)
    if isinstance(key, Lattice) and key.n_sites > _LARGEST_CACHED:
        # the cache holds thousands of spectra: not of this size
        k = _kernel_values(kernel, float(length), key, parameters)
        return _spectrum_from_values(k, kernel, float(length), key, parameters)
    return _spectrum(kernel, float(length), key, parameters)


def _power_kernels():
    registered = (name for name, (record, _) in _REGISTRY.items() if record.power)
    return (*POWER_KERNELS, *registered)


def coupling_targets(params, lattice_size=100):
    """The paper's learning targets ``W``, ``L`` and the power flag.

    Parameters
    ----------
    params : mapping or DataFrame
        Columns ``kernel``, ``length``, ``alpha_z`` and either ``alpha_xy``
        or both ``alpha_x`` and ``alpha_y`` (which take precedence). Columns
        named after optional kernel parameters (:func:`kernel_parameters`)
        set them per row, for the rows whose kernel accepts them; NaN, or no
        column, means the default.
    lattice_size : int or Lattice, default=100
        Side of the periodic square lattice, or a
        :class:`~sknmr.lattices.Lattice`.

    Returns
    -------
    targets : dict of ndarray
        ``W = 2 alpha_xy + alpha_z`` (or ``alpha_x + alpha_y + alpha_z``),
        ``L`` (dimensionless length scale) and ``power`` (1 for power-law
        kernels, :data:`POWER_KERNELS` and registered ones marked so, 0
        otherwise).

    Examples
    --------
    >>> t = coupling_targets({"kernel": ["gaussian", "power"], "length": [5.0, 2.0],
    ...                       "alpha_xy": [0.05, 0.05], "alpha_z": [0.01, 0.02]})
    >>> t["W"], t["power"]
    (array([0.11, 0.12]), array([0, 1]))
    >>> t = coupling_targets({"kernel": ["gaussian"], "length": [5.0],
    ...                       "exponent": [1.0], "alpha_x": [0.04],
    ...                       "alpha_y": [0.06], "alpha_z": [0.01]})
    >>> print(f"{t['W'][0]:.2f} {t['L'][0]:.4f}")
    0.11 10.0478
    """
    kernels = np.asarray(params["kernel"]).astype(str)
    lengths = np.asarray(params["length"], dtype=np.float64)
    alpha_z = np.asarray(params["alpha_z"], dtype=np.float64)
    if "alpha_x" in params and "alpha_y" in params:
        alpha_x = np.asarray(params["alpha_x"], dtype=np.float64)
        alpha_y = np.asarray(params["alpha_y"], dtype=np.float64)
        W = alpha_x + alpha_y + alpha_z
    elif "alpha_xy" in params:
        W = 2.0 * np.asarray(params["alpha_xy"], dtype=np.float64) + alpha_z
    else:
        raise ValueError(
            "params must have an alpha_xy column, or both alpha_x and alpha_y."
        )
    accepted = {
        kernel: [name for name in kernel_parameters(kernel) if name in params]
        for kernel in np.unique(kernels)
    }
    columns = {
        name: np.asarray(params[name], dtype=np.float64)
        for names in accepted.values()
        for name in names
    }
    L = np.array(
        [
            _length_scale(
                kernel,
                float(length),
                lattice_size,
                tuple(
                    (name, float(columns[name][i]))
                    for name in accepted[kernel]
                    if not np.isnan(columns[name][i])
                ),
            )
            for i, (kernel, length) in enumerate(zip(kernels, lengths, strict=True))
        ],
        dtype=np.float64,
    )
    return {
        "W": W,
        "L": L,
        "power": np.isin(kernels, _power_kernels()).astype(np.int64),
    }


def _length_scale(kernel, length, lattice_size, extras):
    if kernel not in _OWN_PARAMETERS:  # its values may change between calls
        return kernel_stats(kernel, length, lattice_size, **dict(extras))[1]
    return _builtin_length_scale(kernel, length, lattice_size, extras)


@lru_cache(maxsize=65536)
def _builtin_length_scale(kernel, length, lattice_size, extras):
    return kernel_stats(kernel, length, lattice_size, **dict(extras))[1]


# -- registered kernels ------------------------------------------------------
def _fingerprint(obj, seen=frozenset()):
    """A picklable description of a callable's definition, for kernel_token.

    Functions are described by their code (bytecode, names, constants,
    nested code), defaults and closure values, so redefining a function
    under the same name changes it; other objects by ``joblib.hash``. The
    values of globals a function reads are not part of it.
    """
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:  # a recursive closure
            return ("recursion", obj.__qualname__)
        seen = seen | {id(obj)}
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(_fingerprint(cell.cell_contents, seen))
            except ValueError:  # an empty cell
                cells.append(("empty cell",))
        return (
            "function",
            obj.__module__,
            obj.__qualname__,
            _fingerprint(obj.__code__, seen),
            _fingerprint(obj.__defaults__, seen),
            _fingerprint(sorted((obj.__kwdefaults__ or {}).items()), seen),
            tuple(cells),
        )
    if isinstance(obj, types.CodeType):
        return (
            "code",
            obj.co_code,
            obj.co_names,
            obj.co_varnames,
            _fingerprint(obj.co_consts, seen),
        )
    if isinstance(obj, functools.partial):
        return (
            "partial",
            _fingerprint(obj.func, seen),
            _fingerprint(obj.args, seen),
            _fingerprint(sorted(obj.keywords.items()), seen),
        )
    if isinstance(obj, tuple | list):
        return tuple(_fingerprint(item, seen) for item in obj)
    return joblib.hash(obj)


def _check_parameter_defaults(name, parameters):
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"parameters of kernel {name!r} must be a mapping of parameter name "
            f"to default value; got {type(parameters).__name__}."
        )
    checked = {}
    for key, default in parameters.items():
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or keyword.iskeyword(key)
            or key in _RESERVED_NAMES
            or key in _COMMON_PARAMETERS
        ):
            reserved = sorted(_RESERVED_NAMES | set(_COMMON_PARAMETERS))
            raise ValueError(
                f"Parameter name {key!r} of kernel {name!r} must be a Python "
                f"identifier other than {reserved} (the names of the kernel "
                "function's arguments, of the parameter and target table columns "
                "and of the common kernel parameters)."
            )
        if not isinstance(default, Real) or not math.isfinite(default):
            raise ValueError(
                f"The default of parameter {key!r} of kernel {name!r} must be a "
                f"finite real number; got {default!r}."
            )
        checked[key] = float(default)
    return checked


def _clear_caches():
    _builtin_spectrum.cache_clear()
    _SPECTRA.clear()
    _builtin_length_scale.cache_clear()


def register_kernel(
    name,
    function,
    *,
    length_name="length",
    parameters=None,
    power=False,
    overwrite=False,
):
    """Add a kernel of your own, usable wherever a built-in kernel is.

    Parameters
    ----------
    name : str
        The kernel's name; not a built-in one.
    function : callable
        ``function(dx, dy, length, **parameters) -> K``: called with float
        arrays ``dx`` and ``dy`` of shape ``(n, n)``, the minimum-image
        displacements of every site from site ``(0, 0)`` (which is at index
        ``[0, 0]``; see the module's lattice conventions), the length as a
        float and the kernel's own parameters as floats. It returns the
        kernel's real values, shape ``(n, n)``. On a
        :class:`~sknmr.lattices.Lattice` ``dx`` and ``dy`` are the Cartesian
        components of the nearest-image displacements, shape
        ``lattice.shape``; on a 3-D lattice the function must also take a
        ``dz`` keyword (the third component), and is refused there otherwise,
        so a 2-D kernel keeps its signature. The self term ``[0, 0]`` is set
        to 0 whatever it returns (division warnings there are silenced); the
        other values must be finite. The output is checked on each evaluation,
        so a faulty function fails at first use, naming the kernel.
    length_name : str, default="length"
        The length parameter's name, for messages.
    parameters : mapping of str to float, optional
        The kernel's own optional parameters and their defaults. The common
        ``s_wave``, ``p_wave``, ``d_wave`` and ``staggered`` apply on top.
        Names of parameter and target table columns (``kernel``, ``length``,
        ``alpha_x``, ``alpha_y``, ``alpha_xy``, ``alpha_z``, ``t1``, ``t2``,
        ``linewidth``, ``W``, ``L``, ``power``) are refused: a table column
        of that name would set or shadow it.
    power : bool, default=False
        Whether the kernel counts as a power law for the ``power`` target of
        :func:`coupling_targets`.
    overwrite : bool, default=False
        Replace a kernel already registered under ``name``.

    Notes
    -----
    Registering (and unregistering) clears this module's caches. The registry
    lives in one process: to use registered kernels in worker processes, send
    them :func:`registered_kernels` (the function must be picklable there, a
    module-level function, or a lambda or closure with cloudpickle as joblib's
    workers use) and call ``register_kernel(**record._asdict(),
    overwrite=True)`` for each record.

    Examples
    --------
    >>> import numpy as np
    >>> def exponential(dx, dy, length, shift=0.0):
    ...     return np.exp(-np.hypot(dx, dy) / length) + shift
    >>> register_kernel("exponential", exponential, length_name="lambda",
    ...                 parameters={"shift": 0.0})
    >>> available_kernels()
    ('gaussian', 'power', 'rkky', 'uniform', 'exponential')
    >>> kappa, L = kernel_stats("exponential", 3.0, 50)
    >>> print(f"{kappa:.4f} {L:.4f}")
    55.5559 6.0664
    >>> unregister_kernel("exponential")
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str; got {type(name).__name__}.")
    if not name:
        raise ValueError("name must be a non-empty str.")
    if name in _OWN_PARAMETERS:
        raise ValueError(
            f"{name!r} is a built-in kernel and cannot be replaced; choose "
            "another name."
        )
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"A kernel named {name!r} is already registered; pass overwrite=True "
            "to replace it."
        )
    if not callable(function):
        raise TypeError(
            f"function of kernel {name!r} must be callable; got "
            f"{type(function).__name__}."
        )
    if not isinstance(length_name, str) or not length_name:
        raise ValueError(f"length_name must be a non-empty str; got {length_name!r}.")
    parameters = _check_parameter_defaults(name, parameters)
    if not isinstance(power, bool | np.bool_):
        raise TypeError(f"power must be a bool; got {power!r}.")
    record = RegisteredKernel(name, function, length_name, parameters, bool(power))
    try:
        digest = joblib.hash(
            (
                _fingerprint(function),
                length_name,
                sorted(parameters.items()),
                bool(power),
            )
        )
    except Exception as exc:
        raise TypeError(
            f"function of kernel {name!r} cannot be fingerprinted for "
            f"kernel_token; is it picklable? ({exc})"
        ) from exc
    _REGISTRY[name] = (record, digest)
    _clear_caches()


def unregister_kernel(name):
    """Remove a kernel added with :func:`register_kernel`.

    Parameters
    ----------
    name : str
        The registered kernel's name.

    Examples
    --------
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> unregister_kernel("flat")
    >>> "flat" in available_kernels()
    False
    """
    if name in _OWN_PARAMETERS:
        raise ValueError(f"{name!r} is a built-in kernel; it cannot be unregistered.")
    if name not in _REGISTRY:
        raise ValueError(
            f"No kernel named {name!r} is registered; registered: {list(_REGISTRY)}."
        )
    del _REGISTRY[name]
    _clear_caches()


def registered_kernels():
    """The registered kernels, to register them again elsewhere.

    Returns
    -------
    records : dict of str to RegisteredKernel
        In registration order; ``register_kernel(**record._asdict(),
        overwrite=True)`` registers a record's kernel again (in a worker
        process, say).

    Examples
    --------
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> record = registered_kernels()["flat"]
    >>> record.length_name, record.parameters, record.power
    ('length', {}, False)
    >>> unregister_kernel("flat")
    >>> registered_kernels()
    {}
    """
    return {
        name: record._replace(parameters=dict(record.parameters))
        for name, (record, _) in _REGISTRY.items()
    }


def kernel_token(kernel):
    """A hashable, picklable token identifying a kernel's definition.

    A cache keyed on it (with the length, lattice size and parameters) is
    invalidated when a registered kernel is redefined.

    Parameters
    ----------
    kernel : str
        A name from :func:`available_kernels`.

    Returns
    -------
    token : str or tuple of str
        A built-in kernel's name; for a registered kernel, its name and a
        digest of its definition (the function's code, constants, defaults and
        closure values, its length name, parameters and power flag). The
        values of globals the function reads are not part of it.

    Examples
    --------
    >>> kernel_token("gaussian")
    'gaussian'
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> first = kernel_token("flat")
    >>> register_kernel("flat", lambda dx, dy, length: 2 * np.ones_like(dx),
    ...                 overwrite=True)
    >>> first == kernel_token("flat")
    False
    >>> unregister_kernel("flat")
    """
    _check_kernel(kernel)
    if kernel in _OWN_PARAMETERS:
        return kernel
    return (kernel, _REGISTRY[kernel][1])
