"""The interaction kernels in torch: values and spectra differentiable in
their length and parameters, from the lattice's displacements."""

import math

import numpy as np

from ..kernels import kernel_parameters, kernel_spectrum, registered_kernels
from ..kernels._library import angular_cosines
from ..lattices import Lattice

__all__ = ["kernel_half_spectrum", "lattice_displacements"]

_BUILTIN = ("gaussian", "power", "rkky", "uniform")


def _torch():
    import torch

    return torch


# -- lattice and kernels -------------------------------------------------------
def lattice_displacements(lattice_size):
    """Minimum-image displacements ``dx``, ``dy`` of every site from site (0, 0).

    The conventions of :mod:`sknmr.kernels`: ``dx`` along axis 0, both in
    ``(-n/2, n/2]``.

    Returns
    -------
    dx, dy : ndarray of shape (lattice_size, lattice_size)

    Examples
    --------
    >>> dx, dy = lattice_displacements(4)
    >>> dx[:, 0], dy[0]
    (array([ 0.,  1.,  2., -1.]), array([ 0.,  1.,  2., -1.]))
    """
    offsets = np.arange(lattice_size)
    d = np.where(offsets <= lattice_size // 2, offsets, offsets - lattice_size)
    dx = np.repeat(d[:, None].astype(np.float64), lattice_size, axis=1)
    return dx, dx.T.copy()


def _radial(kernel, length, r, parameters):
    """A built-in kernel's radial part at distances ``r`` (a tensor, no zeros)."""
    torch = _torch()
    if kernel == "gaussian":
        exponent = parameters["exponent"]
        if isinstance(exponent, float) and exponent == 2.0:
            return torch.exp(-((r / length) ** 2))
        return torch.exp(-((r / length) ** exponent))
    if kernel == "power":
        return r ** (-length)
    if kernel == "rkky":
        x = 2.0 * r / length
        return (x * torch.cos(x) - torch.sin(x)) / x**4
    return (r <= length).to(r.dtype)  # uniform: a step in the radius


def _angular(parameters):
    """The s, p, d weights, or None for the plain ``(1, 0, 0)``."""
    s, p, d = (parameters[name] for name in ("s_wave", "p_wave", "d_wave"))
    if any(not isinstance(v, float) for v in (s, p, d)) or (s, p, d) != (1, 0, 0):
        return s, p, d
    return None


def _builtin_values(kernel, length, dx, dy, parameters):
    """The unnormalised built-in kernel at displacements ``dx``, ``dy`` (tensors).

    Zero at the self term ``d = 0``; every operation is taken where it is
    finite, so derivatives are finite too. Any displacement arrays work
    (a lattice of another shape has other ones).
    """
    torch = _torch()
    self_term = (dx == 0) & (dy == 0)
    r = torch.where(self_term, 1.0, torch.hypot(dx, dy))
    k = _radial(kernel, length, r, parameters)
    weights = _angular(parameters)
    if weights is not None:
        s, p, d = weights
        r2 = torch.where(self_term, 1.0, dx**2 + dy**2)
        # cos(theta) and cos(2 theta), exactly odd and even in (dx, dy)
        k = k * (s + p * (dx / r) + d * ((dx**2 - dy**2) / r2))
    if parameters["staggered"]:
        k = k * (1.0 - 2.0 * ((dx + dy) % 2))
    return torch.where(self_term, 0.0, k)


def _lattice_values(kernel, length, lattice, parameters, dtype):
    """The unnormalised kernel on a :class:`~sknmr.lattices.Lattice`, zero at
    cell 0: :func:`sknmr.kernels.kernel_on_lattice`'s values as tensors.

    The distances, the angular cosines (in the plane of ``a_1, a_2``) and the
    staggered signs are the lattice's, fixed; the kernel's length and
    parameters may be tensors.
    """
    torch = _torch()

    def tensor(values):
        return torch.from_numpy(np.array(values, dtype=np.float64)).to(dtype)

    self_term = torch.zeros(lattice.shape, dtype=torch.bool)
    self_term[(0,) * lattice.ndim] = True
    if kernel in _BUILTIN:
        r = torch.where(self_term, 1.0, tensor(lattice.distances()))
        k = _radial(kernel, length, r, parameters)
    else:
        d = lattice.displacements()
        components = [tensor(d[..., axis]) for axis in range(lattice.ndim)]
        k = _call_registered(kernel, length, components, parameters)
    weights = _angular(parameters)
    if weights is not None:
        s, p, d = weights
        cos1, cos2 = (tensor(c) for c in angular_cosines(lattice))
        k = k * (s + p * cos1 + d * cos2)
    if parameters["staggered"]:
        parity = lattice.cell_offsets().sum(axis=-1) % 2
        k = k * (1.0 - 2.0 * tensor(parity))
    return torch.where(self_term, 0.0, k)


def kernel_half_spectrum(kernel, length, lattice_size, *, dtype=None, **extras):
    """The half spectrum of a normalised kernel, as a differentiable tensor.

    What multiplies the real FFT of the spins (over every lattice axis): the
    first ``shape[-1] // 2 + 1`` entries along the last axis of
    :func:`sknmr.kernels.kernel_spectrum`, computed in torch from the
    kernel's values at the lattice's displacement vectors.

    Parameters
    ----------
    kernel : str
        A name from :func:`sknmr.kernels.available_kernels`.
    length : float or 0-d tensor
        The kernel's length parameter.
    lattice_size : int or Lattice
        Side of the periodic square lattice, or a
        :class:`~sknmr.lattices.Lattice` (2-D or 3-D).
    dtype : torch dtype, default=torch.float64
    **extras : float or 0-d tensor
        The kernel's optional parameters.

    Returns
    -------
    half : tensor of shape (n, n // 2 + 1) or (*shape[:-1], shape[-1] // 2 + 1)
        Real for a kernel even under ``d -> -d``, complex otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.kernels import kernel_spectrum
    >>> half = kernel_half_spectrum("rkky", 13.0, 8)
    >>> bool(np.allclose(half.numpy(), kernel_spectrum("rkky", 13.0, 8)[:, :5]))
    True
    >>> from sknmr.lattices import Lattice
    >>> kernel_half_spectrum("gaussian", 2.0, Lattice.tetragonal(6, 4, c=2.0)).shape
    torch.Size([6, 6, 3])
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    plain = {name: _value(v) for name, v in extras.items()}
    # the numpy kernel validates the values and tells whether Khat is even
    reference = kernel_spectrum(kernel, _value(length), lattice_size, **plain)
    cut = reference.shape[-1] // 2 + 1
    tensors = [v for v in (length, *extras.values()) if _requires_grad(v)]
    if not tensors:
        half = torch.from_numpy(np.array(reference[..., :cut]))
        return half.to(dtype if not half.is_complex() else _complex(dtype))
    if kernel == "uniform" and _requires_grad(length):
        raise ValueError(
            "The uniform kernel is a step in its radius: it has no derivative "
            "with respect to length; give length as a number."
        )
    if _requires_grad(extras.get("staggered")):
        raise ValueError("staggered is 0 or 1: it has no derivative; give a number.")
    parameters = {**kernel_parameters(kernel), **extras}
    square = (
        lattice_size.square_size()
        if isinstance(lattice_size, Lattice)
        else int(lattice_size)
    )
    if square is not None:  # the square lattice's own conventions (kernels)
        dx, dy = (torch.from_numpy(d).to(dtype) for d in lattice_displacements(square))
        if kernel in _BUILTIN:
            k = _builtin_values(kernel, length, dx, dy, parameters)
        else:
            k = _registered_values(kernel, length, dx, dy, parameters)
    else:
        k = _lattice_values(kernel, length, lattice_size, parameters, dtype)
    kappa = k.sum()
    spectrum = torch.conj_physical(torch.fft.fftn(k / kappa))
    if not np.iscomplexobj(reference):
        spectrum = spectrum.real
    return spectrum[..., :cut]


def _call_registered(kernel, length, components, parameters):
    """A registered kernel's function on torch tensors ``dx, dy (, dz)``."""
    torch = _torch()
    record = registered_kernels()[kernel]
    own = {name: parameters[name] for name in record.parameters}
    dx, dy, *dz = components
    if dz:
        own["dz"] = dz[0]
    try:
        k = record.function(dx, dy, length, **own)
        if not isinstance(k, torch.Tensor) or k.shape != dx.shape:
            raise TypeError(f"it returned {type(k).__name__}, not a tensor like dx")
    except Exception as exc:
        raise ValueError(
            f"The registered kernel {kernel!r} could not be evaluated on torch "
            f"tensors ({exc}), so it cannot be differentiated with respect to its "
            "length or parameters: write its function with operations torch can "
            "follow (torch.exp rather than np.exp, ...), or give them as numbers."
        ) from None
    return k.to(dx.dtype)


def _registered_values(kernel, length, dx, dy, parameters):
    """A registered kernel on torch tensors, with its angular factors."""
    k = _call_registered(kernel, length, (dx, dy), parameters)
    common = {name: parameters[name] for name in ("s_wave", "p_wave", "d_wave")}
    # the built-in angular and staggered factors on a flat kernel of ones
    factors = _builtin_values(
        "uniform", math.inf, dx, dy, {**common, "staggered": parameters["staggered"]}
    )
    return k * factors


def _value(v):
    """A plain float of a number or a 0-d tensor."""
    return float(v.detach().cpu()) if hasattr(v, "detach") else float(v)


def _requires_grad(v):
    return bool(getattr(v, "requires_grad", False))


def _complex(dtype):
    torch = _torch()
    return torch.complex64 if dtype == torch.float32 else torch.complex128
