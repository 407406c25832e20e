"""Interaction kernels on the periodic square lattice.

The electron-mediated coupling between two nuclei a distance ``r`` apart is
``K(r)``, with the self term ``r = 0`` excluded:

* ``"gaussian"``: ``exp(-(r / xi) ** 2)``, length parameter ``xi``;
* ``"power"``: ``r ** (-p)``, length parameter ``p``;
* ``"rkky"``: ``x ** -4 * (x cos x - sin x)`` with ``x = 2 r / gamma``,
  length parameter ``gamma``.

Distances use the minimum image on the ``n x n`` periodic lattice (lattice
constant 1). ``kappa = sum_{j != i} K(r_ij)`` normalises the kernel,
``Khat = K / kappa``, and the length scale is ``L = sum_j r_ij Khat(r_ij)``.
The interaction weight is ``W = 2 alpha_xy + alpha_z``. ``W``, ``L`` and the
power flag are the learning targets of the paper.

Examples
--------
>>> from sknmr.kernels import kernel_stats
>>> kappa, L = kernel_stats("gaussian", 5.0, 100)
>>> print(f"{kappa:.4f} {L:.4f}")
77.5398 4.4853
"""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np

__all__ = [
    "KERNELS",
    "LENGTH_NAMES",
    "POWER_KERNELS",
    "coupling_targets",
    "kernel_on_lattice",
    "kernel_spectrum",
    "kernel_stats",
    "lattice_distances",
]

#: Kernel names, in the order used for numeric kernel codes (0, 1, 2).
KERNELS = ("gaussian", "power", "rkky")
#: The name of each kernel's length parameter.
LENGTH_NAMES = {"gaussian": "xi", "power": "p", "rkky": "gamma"}
#: Kernels whose coupling decays as a power law (the paper's "power" class).
POWER_KERNELS = ("power",)


def _check_kernel(kernel):
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}; got {kernel!r}.")


def _check_lattice_size(lattice_size):
    if not isinstance(lattice_size, Integral) or isinstance(lattice_size, bool):
        raise TypeError(
            f"lattice_size must be an integer >= 2; got {type(lattice_size).__name__}."
        )
    if lattice_size < 2:
        raise ValueError(f"lattice_size must be an integer >= 2; got {lattice_size}.")


def _check_length(kernel, length):
    if not isinstance(length, Real) or not np.isfinite(length):
        raise ValueError(
            f"length ({LENGTH_NAMES[kernel]}) must be a finite number; got {length!r}."
        )
    if kernel == "power":
        if length < 0:
            raise ValueError(
                f"length (p) of the power kernel must be >= 0; got {length}."
            )
    elif length <= 0:
        raise ValueError(
            f"length ({LENGTH_NAMES[kernel]}) of the {kernel} kernel must be > 0; "
            f"got {length}."
        )


@lru_cache(maxsize=8)
def _distances(lattice_size):
    offsets = np.arange(lattice_size)
    d = np.minimum(offsets, lattice_size - offsets).astype(np.float64)
    r = np.hypot(d[:, None], d[None, :])
    r.setflags(write=False)
    return r


def lattice_distances(lattice_size):
    """Minimum-image distance from site (0, 0) to every site of the lattice.

    Parameters
    ----------
    lattice_size : int
        Side ``n`` of the periodic ``n x n`` lattice.

    Returns
    -------
    r : ndarray of shape (lattice_size, lattice_size)
        ``r[a, b]`` is the distance from site ``(0, 0)`` to site ``(a, b)``.

    Examples
    --------
    >>> lattice_distances(4)[0]
    array([0., 1., 2., 1.])
    """
    _check_lattice_size(lattice_size)
    return _distances(lattice_size).copy()


def _raw_kernel(kernel, length, r):
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "gaussian":
            k = np.exp(-((r / length) ** 2))
        elif kernel == "power":
            k = r ** (-float(length))
        else:
            x = 2.0 * r / length
            k = (x * np.cos(x) - np.sin(x)) / x**4
    k[0, 0] = 0.0  # no self-interaction
    return k


def kernel_on_lattice(kernel, length, lattice_size, normalize=True):
    """The coupling kernel from site (0, 0) to every site of the lattice.

    Parameters
    ----------
    kernel : {"gaussian", "power", "rkky"}
        Kernel form.
    length : float
        The kernel's length parameter: ``xi`` (gaussian), ``p`` (power) or
        ``gamma`` (rkky).
    lattice_size : int
        Side of the periodic square lattice.
    normalize : bool, default=True
        Return ``Khat = K / kappa`` (what the dynamics use) rather than ``K``.

    Returns
    -------
    K : ndarray of shape (lattice_size, lattice_size)
        The kernel, zero at ``(0, 0)``.

    Examples
    --------
    >>> K = kernel_on_lattice("power", 2.0, 8)
    >>> print(f"{K.sum():.6f}")
    1.000000
    """
    _check_kernel(kernel)
    _check_lattice_size(lattice_size)
    _check_length(kernel, length)
    k = _raw_kernel(kernel, length, _distances(lattice_size))
    if not normalize:
        return k
    kappa = k.sum()
    if not np.isfinite(kappa) or kappa == 0.0:
        raise ValueError(
            f"The {kernel} kernel with {LENGTH_NAMES[kernel]}={length} sums to "
            f"{kappa} on a {lattice_size}x{lattice_size} lattice; it cannot be "
            "normalised."
        )
    return k / kappa


def kernel_stats(kernel, length, lattice_size):
    """``kappa`` (the kernel's lattice sum) and the length scale ``L``.

    Parameters
    ----------
    kernel : {"gaussian", "power", "rkky"}
    length : float
        The kernel's length parameter.
    lattice_size : int

    Returns
    -------
    kappa : float
        ``sum_{j != i} K(r_ij)``.
    L : float
        ``sum_j r_ij K(r_ij) / kappa``.

    Examples
    --------
    >>> kappa, L = kernel_stats("power", 2.0, 100)
    >>> print(f"{L:.3f}")
    12.516
    """
    k = kernel_on_lattice(kernel, length, lattice_size, normalize=False)
    kappa = float(k.sum())
    if not np.isfinite(kappa) or kappa == 0.0:
        raise ValueError(
            f"The {kernel} kernel with {LENGTH_NAMES[kernel]}={length} sums to "
            f"{kappa}; it cannot be normalised."
        )
    return kappa, float((_distances(lattice_size) * k).sum() / kappa)


@lru_cache(maxsize=4096)
def _spectrum(kernel, length, lattice_size):
    khat = kernel_on_lattice(kernel, length, lattice_size)
    # Khat is real and even under the minimum image, so its DFT is real.
    spec = np.fft.fft2(khat).real
    spec.setflags(write=False)
    return spec


def kernel_spectrum(kernel, length, lattice_size):
    """Real 2-D DFT of the normalised kernel ``Khat``.

    The local mean field is the periodic convolution ``w = Khat * <I>``, so
    ``fft2(w) = kernel_spectrum(...) * fft2(<I>)``.

    Returns
    -------
    spectrum : ndarray of shape (lattice_size, lattice_size)
        Read-only; cached per ``(kernel, length, lattice_size)``.

    Examples
    --------
    >>> spec = kernel_spectrum("gaussian", 2.0, 16)
    >>> print(f"{spec[0, 0]:.6f}")  # the DC term is sum(Khat) = 1
    1.000000
    """
    return _spectrum(kernel, float(length), lattice_size)


def coupling_targets(params, lattice_size=100):
    """The paper's learning targets ``W``, ``L`` and the power flag.

    Parameters
    ----------
    params : mapping or DataFrame
        Columns ``kernel``, ``length``, ``alpha_xy`` and ``alpha_z``.
    lattice_size : int, default=100

    Returns
    -------
    targets : dict of ndarray
        ``W = 2 alpha_xy + alpha_z``, ``L`` (dimensionless length scale) and
        ``power`` (1 for power-law kernels, 0 otherwise).

    Examples
    --------
    >>> t = coupling_targets({"kernel": ["gaussian", "power"], "length": [5.0, 2.0],
    ...                       "alpha_xy": [0.05, 0.05], "alpha_z": [0.01, 0.02]})
    >>> t["W"], t["power"]
    (array([0.11, 0.12]), array([0, 1]))
    """
    kernels = np.asarray(params["kernel"]).astype(str)
    lengths = np.asarray(params["length"], dtype=np.float64)
    alpha_xy = np.asarray(params["alpha_xy"], dtype=np.float64)
    alpha_z = np.asarray(params["alpha_z"], dtype=np.float64)
    L = np.array(
        [
            _length_scale(k, float(x), lattice_size)
            for k, x in zip(kernels, lengths, strict=True)
        ],
        dtype=np.float64,
    )
    return {
        "W": 2.0 * alpha_xy + alpha_z,
        "L": L,
        "power": np.isin(kernels, POWER_KERNELS).astype(np.int64),
    }


@lru_cache(maxsize=65536)
def _length_scale(kernel, length, lattice_size):
    return kernel_stats(kernel, length, lattice_size)[1]
