"""Echoes as differentiable functions of the material and the experiment.

With the disorder fixed by the simulator's ``random_state``, an echo is a
smooth function of the couplings, the kernel's length and parameters, T1,
T2, the linewidth and the pulse angles and phases. :func:`simulate` runs the
simulator's model in torch (the ``"torch"`` backend's step) with any of these
given as tensors, so that ``torch.autograd`` gives the derivatives of the
echoes with respect to all of them.

* Any :class:`~sknmr.lattices.Lattice` (square, triangular, rectangular,
  3-D cubic or tetragonal): the mean field is a real FFT over all the
  lattice's axes, as on the ``"torch"`` backend.
* The offsets are fixed draws scaled by the linewidth: each nucleus' offset
  is the inverse CDF of the truncated line at a fixed uniform ``u`` (the one
  :class:`~sknmr.EchoSimulator` draws). For the Lorentzian,
  ``nu = hw tan(pi (lo + (hi - lo) u - 1/2))`` with ``hw = linewidth / 2``,
  ``lo, hi = 1/2 -+ atan(cutoff / hw) / pi``; for the Gaussian,
  ``nu = sigma ndtri(lo + (hi - lo) u)`` with ``sigma`` the linewidth over
  ``2 sqrt(2 ln 2)``, ``lo, hi = ndtr(-+cutoff / sigma)``. So the offsets
  are exactly the simulator's and differentiable in the linewidth.
* The built-in kernels are evaluated in torch at the lattice's
  displacement vectors (:func:`kernel_half_spectrum`), normalised by their
  sum ``kappa`` and transformed, so their length and parameters are
  differentiable; the uniform kernel's radius and the ``staggered`` flag are
  steps, not differentiable. A registered kernel is evaluated by numpy
  unless its length or parameters require grad; then its function is called
  with torch tensors (``dx, dy`` and, on a 3-D lattice, ``dz``) and must be
  written with operations torch can follow.
* The backward pass of each step is written by hand (the rotation's, then
  the mean field's, a convolution by the reflected kernel): it keeps about
  ten values per nucleus and step and costs about twice the step.
* Long echoes are differentiated by checkpointing the time loop in segments
  (see :func:`plan_segments`): the graph kept for the backward pass holds one
  segment of steps, and each segment is recomputed once during the backward
  pass.
* The backward pass runs on torch's current number of threads
  (:func:`torch.set_num_threads`); the forward pass on the simulator's
  ``n_jobs``. Set both alike to compare them.

Examples
--------
>>> import torch
>>> from sknmr import EchoSimulator
>>> from sknmr.autodiff import simulate
>>> sim = EchoSimulator(lattice_size=8, tau=2.0, backend="torch", random_state=0)
>>> alpha_z = torch.tensor([0.05], dtype=torch.float64, requires_grad=True)
>>> echo = simulate(sim, {"kernel": "gaussian", "length": 2.0,
...                       "alpha_xy": 0.05, "alpha_z": alpha_z})
>>> echo.shape
torch.Size([1, 39])
>>> echo[0, -1].backward()
>>> alpha_z.grad.shape
torch.Size([1])
"""

from ._kernels import kernel_half_spectrum, lattice_displacements
from ._simulate import (
    COLUMNS,
    GRAPH_BUDGET,
    DifferentiableSequence,
    plan_segments,
    simulate,
)

__all__ = [
    "COLUMNS",
    "GRAPH_BUDGET",
    "DifferentiableSequence",
    "kernel_half_spectrum",
    "lattice_displacements",
    "plan_segments",
    "simulate",
]
