"""The interaction kernels in torch: values and spectra differentiable in
their length and parameters, from the lattice's displacements."""

import math

import numpy as np

from ..kernels import (
    kernel_parameters,
    kernel_spectrum,
    registered_kernels,
)

__all__ = ["kernel_half_spectrum", "lattice_displacements"]


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


def _builtin_values(kernel, length, dx, dy, parameters):
    """The unnormalised built-in kernel at displacements ``dx``, ``dy`` (tensors).

    Zero at the self term ``d = 0``; every operation is taken where it is
    finite, so derivatives are finite too. Any displacement arrays work
    (a lattice of another shape has other ones).
    """
    torch = _torch()
    self_term = (dx == 0) & (dy == 0)
    r = torch.where(self_term, 1.0, torch.hypot(dx, dy))
    if kernel == "gaussian":
        exponent = parameters["exponent"]
        if isinstance(exponent, float) and exponent == 2.0:
            k = torch.exp(-((r / length) ** 2))
        else:
            k = torch.exp(-((r / length) ** exponent))
    elif kernel == "power":
        k = r ** (-length)
    elif kernel == "rkky":
        x = 2.0 * r / length
        k = (x * torch.cos(x) - torch.sin(x)) / x**4
    else:  # uniform: a step in the radius
        k = (r <= length).to(r.dtype)
    s, p, d = (parameters[name] for name in ("s_wave", "p_wave", "d_wave"))
    if any(not isinstance(v, float) for v in (s, p, d)) or (s, p, d) != (1, 0, 0):
        r2 = torch.where(self_term, 1.0, dx**2 + dy**2)
        # cos(theta) and cos(2 theta), exactly odd and even in (dx, dy)
        k = k * (s + p * (dx / r) + d * ((dx**2 - dy**2) / r2))
    if parameters["staggered"]:
        k = k * (1.0 - 2.0 * ((dx + dy) % 2))
    return torch.where(self_term, 0.0, k)


def kernel_half_spectrum(kernel, length, lattice_size, *, dtype=None, **extras):
    """The half spectrum of a normalised kernel, as a differentiable tensor.

    What multiplies the real 2-D FFT of the spins: the first
    ``lattice_size // 2 + 1`` columns of
    :func:`sknmr.kernels.kernel_spectrum`, computed in torch.

    Parameters
    ----------
    kernel : str
        A name from :func:`sknmr.kernels.available_kernels`.
    length : float or 0-d tensor
        The kernel's length parameter.
    lattice_size : int
    dtype : torch dtype, default=torch.float64
    **extras : float or 0-d tensor
        The kernel's optional parameters.

    Returns
    -------
    half : tensor of shape (lattice_size, lattice_size // 2 + 1)
        Real for a kernel even under ``d -> -d``, complex otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.kernels import kernel_spectrum
    >>> half = kernel_half_spectrum("rkky", 13.0, 8)
    >>> bool(np.allclose(half.numpy(), kernel_spectrum("rkky", 13.0, 8)[:, :5]))
    True
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    plain = {name: _value(v) for name, v in extras.items()}
    # the numpy kernel validates the values and tells whether Khat is even
    reference = kernel_spectrum(kernel, _value(length), lattice_size, **plain)
    tensors = [v for v in (length, *extras.values()) if _requires_grad(v)]
    n = lattice_size
    if not tensors:
        half = torch.from_numpy(np.array(reference[:, : n // 2 + 1]))
        return half.to(dtype if not half.is_complex() else _complex(dtype))
    if kernel == "uniform" and _requires_grad(length):
        raise ValueError(
            "The uniform kernel is a step in its radius: it has no derivative "
            "with respect to length; give length as a number."
        )
    if _requires_grad(extras.get("staggered")):
        raise ValueError("staggered is 0 or 1: it has no derivative; give a number.")
    parameters = {**kernel_parameters(kernel), **extras}
    dx, dy = (torch.from_numpy(d).to(dtype) for d in lattice_displacements(n))
    if kernel in ("gaussian", "power", "rkky", "uniform"):
        k = _builtin_values(kernel, length, dx, dy, parameters)
    else:
        k = _registered_values(kernel, length, dx, dy, parameters)
    kappa = k.sum()
    spectrum = torch.conj_physical(torch.fft.fft2(k / kappa))
    if not np.iscomplexobj(reference):
        spectrum = spectrum.real
    return spectrum[:, : n // 2 + 1]


def _registered_values(kernel, length, dx, dy, parameters):
    """A registered kernel on torch tensors, with its angular factors."""
    torch = _torch()
    record = registered_kernels()[kernel]
    own = {name: parameters[name] for name in record.parameters}
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
    k = k.to(dx.dtype)
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
