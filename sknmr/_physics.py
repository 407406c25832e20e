"""Pieces of the spin-echo model shared by every backend.

Conventions (the physics guide): frequencies in MHz (cyclic), times in
microseconds. A nucleus in a pure state is its Bloch vector ``<I>`` of length
1/2. Under ``H = B . I`` (MHz) the vector obeys ``d<I>/dt = 2 pi B x <I>``, so one
step of length ``dt`` is the rotation by ``2 pi |B| dt`` about ``B``. A pulse
``U = exp(+i theta n . sigma / 2)`` rotates the Bloch vector by ``-theta`` about
``n``: the 90 degree pulse about x takes ``+z`` to ``+y`` (``M = 0.5 i``).
"""

from dataclasses import dataclass

import numpy as np
from scipy import special

#: Revision of the simulated physics. Cached echoes are keyed on it (not on the
#: package version), so it must change whenever the echoes of any setting do:
#: ``tests/test_model_revision.py`` compares small echoes with stored ones and
#: fails, asking for a bump, when they differ.
MODEL_REVISION = 1

REFOCUS_AXES = {
    "x": (1.0, 0.0, 0.0),
    "-x": (-1.0, 0.0, 0.0),
    "y": (0.0, 1.0, 0.0),
    "-y": (0.0, -1.0, 0.0),
}


def rotation_matrix(axis, angle):
    """3x3 matrix of the right-handed rotation by ``angle`` (rad) about ``axis``."""
    u = np.asarray(axis, dtype=np.float64)
    u = u / np.linalg.norm(u)
    c, s = np.cos(angle), np.sin(angle)
    cross = np.array([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
    return c * np.eye(3) + s * cross + (1.0 - c) * np.outer(u, u)


def pulse_matrix(axis, theta_degrees):
    """Bloch-vector rotation of the pulse ``exp(+i theta n . sigma / 2)``."""
    return rotation_matrix(axis, -np.deg2rad(theta_degrees))


#: Line shapes of the offsets: the name of each law of ``draw_offsets``.
LINE_SHAPES = ("lorentzian", "gaussian")
# FWHM of a standard normal law: 2 sqrt(2 ln 2).
_GAUSSIAN_FWHM = 2.0 * np.sqrt(2.0 * np.log(2.0))


def draw_offsets(rng, shape, linewidth, cutoff, line_shape="lorentzian"):
    """Offsets (MHz) of full width ``linewidth``, kept in [-cutoff, cutoff).

    ``line_shape`` is ``"lorentzian"`` or ``"gaussian"``, each of full width
    at half maximum ``linewidth``. Redrawing the values outside the window
    until they fall inside it gives exactly the law truncated to the window;
    we sample that truncated law directly by inverting its CDF, which uses one
    uniform per spin and so never loops.
    """
    u = rng.random(shape)
    if line_shape == "gaussian":
        sigma = linewidth / _GAUSSIAN_FWHM
        lo, hi = special.ndtr(-cutoff / sigma), special.ndtr(cutoff / sigma)
        nu = sigma * special.ndtri(lo + (hi - lo) * u)
    else:
        half_width = 0.5 * linewidth
        lo = 0.5 + np.arctan(-cutoff / half_width) / np.pi
        hi = 0.5 + np.arctan(cutoff / half_width) / np.pi
        nu = half_width * np.tan(np.pi * (lo + (hi - lo) * u - 0.5))
    # Rounding can land exactly on +cutoff; the window is half open.
    return np.clip(nu, -cutoff, np.nextafter(cutoff, -np.inf))


def echo_rng(seed, echo_id):
    """The random generator of one echo: a function of the seed and its id only."""
    return np.random.default_rng([int(seed), int(echo_id)])


@dataclass
class EchoBatch:
    """Everything a backend needs to simulate a batch of echoes.

    One step of length ``dt`` is: rotate every Bloch vector exactly about its
    field, relax it exactly over ``dt`` (transverse components times
    ``transverse_decay``, ``<I^z> -> 1/2 + (<I^z> - 1/2) longitudinal_decay``),
    then apply the pulse of that step, if any; the sample is taken after all
    of it. Pulses at step 0 act on the initial state (every nucleus along +z)
    before sample 0.

    Attributes
    ----------
    spectra : ndarray of shape (B, *lattice_shape), float64 or complex128
        DFT (over the cell indices) of each echo's normalised kernel, as
        multiplied into the DFT of the spins (real for kernels even under
        ``r -> -r``).
    offsets : ndarray of shape (B, *lattice_shape), float64
        Offset frequency of every nucleus (MHz); ``lattice_shape`` is the
        lattice's cells along each vector, ``(n, n)`` for the square lattice.
    alpha_x, alpha_y, alpha_z : ndarray of shape (B,), float64
        Couplings (MHz).
    dt : float
        Time step (us).
    n_times : int
        Samples per echo; ``n_times - 1`` steps are taken.
    pulses : tuple of (int, ndarray of shape (3, 3))
        ``(step, Bloch-vector rotation)`` of every pulse, by increasing step.
    transverse_decay, longitudinal_decay : ndarray of shape (B,), float64
        ``exp(-dt / T2)`` and ``exp(-dt / T1)`` of each echo; 1.0 when off.
    dtype : numpy dtype
        Floating type of the state and fields.
    n_jobs : int
        Threads the backend may use.
    device : str or None
        The torch device of the torch backend (None: the CPU); the other
        backends have none.
    """

    spectra: np.ndarray
    offsets: np.ndarray
    alpha_x: np.ndarray
    alpha_y: np.ndarray
    alpha_z: np.ndarray
    dt: float
    n_times: int
    pulses: tuple
    transverse_decay: np.ndarray
    longitudinal_decay: np.ndarray
    dtype: np.dtype
    n_jobs: int = 1
    device: str | None = None

    @property
    def n_echoes(self):
        return self.offsets.shape[0]

    @property
    def lattice_shape(self):
        """Cells along each lattice vector: ``(n, n)``, ``(n1, n2, n3)``..."""
        return tuple(self.offsets.shape[1:])

    @property
    def relaxes_z(self):
        """Whether any echo of the batch has a finite T1."""
        return bool(np.any(np.asarray(self.longitudinal_decay) != 1.0))

    def initial_state(self):
        """The Bloch vector of every nucleus at sample 0: +z after the step-0 pulses."""
        state = np.array([0.0, 0.0, 0.5])
        for step, rotation in self.pulses:
            if step == 0:
                state = rotation @ state
        return state

    def pulses_after_start(self):
        """``{step: rotation}`` of the pulses at steps >= 1."""
        return {step: rotation for step, rotation in self.pulses if step > 0}
