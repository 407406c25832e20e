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

from ._catalogue import (
    KERNELS,
    LENGTH_NAMES,
    POWER_KERNELS,
    RegisteredKernel,
    available_kernels,
    kernel_parameters,
)
from ._lattice_sums import (
    coupling_targets,
    kernel_on_lattice,
    kernel_spectrum,
    kernel_stats,
)
from ._library import lattice_distances
from ._registry import (
    kernel_token,
    register_kernel,
    registered_kernels,
    unregister_kernel,
)

#: The paper's kernel names, in the order used for numeric kernel codes
#: (0, 1, 2) and by the paper's prior.
KERNELS = KERNELS
#: The name of each built-in kernel's length parameter (a registered kernel's
#: is in its :class:`RegisteredKernel` record).
LENGTH_NAMES = LENGTH_NAMES
#: Built-in kernels whose coupling decays as a power law (the paper's "power"
#: class); registered kernels join it with ``register_kernel(..., power=True)``.
POWER_KERNELS = POWER_KERNELS

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
