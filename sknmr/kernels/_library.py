"""The kernels' values on a lattice, before normalisation.

Minimum-image distances and displacements, the built-in kernels' formulas,
the evaluation (and checks) of a registered kernel's function, and the
angular and staggered factors every kernel takes.
"""

import inspect
from functools import lru_cache

import numpy as np
from sklearn.utils._param_validation import validate_params

from ..lattices import Lattice
from ._catalogue import (
    _COMMON_PARAMETERS,
    _OWN_PARAMETERS,
    _REGISTRY,
    LATTICE_SIZE,
    _lattice_key,
    _lattice_words,
    _zero_index,
)


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


@validate_params({"lattice_size": LATTICE_SIZE}, prefer_skip_nested_validation=True)
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


def angular_cosines(lattice):
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
            cos1, cos2 = angular_cosines(lattice_size)
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
