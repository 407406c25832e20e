"""Lattice sums of a kernel: its normalisation, spectrum and targets.

``kappa`` and the length scale ``L`` (:func:`~sknmr.kernels.kernel_stats`),
the normalised kernel (:func:`~sknmr.kernels.kernel_on_lattice`), the cached
spectrum the dynamics use (:func:`~sknmr.kernels.kernel_spectrum`) and the
learning targets ``W``, ``L`` and the power flag
(:func:`~sknmr.kernels.coupling_targets`).
"""

import hashlib
from functools import lru_cache

import numpy as np
from sklearn.utils._param_validation import validate_params

from ..lattices import Lattice
from ._catalogue import (
    _OWN_PARAMETERS,
    _REGISTRY,
    LATTICE_SIZE,
    POWER_KERNELS,
    _check_kernel,
    _lattice_key,
    _lattice_words,
    _length_name,
    _n_sites,
    _resolve_parameters,
    check_length,
    kernel_parameters,
)
from ._library import _distances_of, _kernel_values


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
    check_length(kernel, length)
    return key, _resolve_parameters(kernel, extras)


@validate_params(
    {"lattice_size": LATTICE_SIZE, "normalize": ["boolean"]},
    prefer_skip_nested_validation=True,
)
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


@validate_params({"lattice_size": LATTICE_SIZE}, prefer_skip_nested_validation=True)
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


@validate_params({"lattice_size": LATTICE_SIZE}, prefer_skip_nested_validation=True)
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


@validate_params({"lattice_size": LATTICE_SIZE}, prefer_skip_nested_validation=True)
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
