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


def draw_offsets(rng, shape, linewidth, cutoff):
    """Lorentzian offsets (MHz) of full width ``linewidth``, kept in [-cutoff, cutoff).

    Redrawing the values outside the window until they fall inside it gives
    exactly the Lorentzian truncated to the window; we sample that truncated
    law directly by inverting its CDF, which uses one uniform per spin and so
    never loops.
    """
    half_width = 0.5 * linewidth
    lo = 0.5 + np.arctan(-cutoff / half_width) / np.pi
    hi = 0.5 + np.arctan(cutoff / half_width) / np.pi
    u = lo + (hi - lo) * rng.random(shape)
    nu = half_width * np.tan(np.pi * (u - 0.5))
    # Rounding can land exactly on +cutoff; the window is half open.
    return np.clip(nu, -cutoff, np.nextafter(cutoff, -np.inf))


def echo_rng(seed, echo_id):
    """The random generator of one echo: a function of the seed and its id only."""
    return np.random.default_rng([int(seed), int(echo_id)])


@dataclass
class EchoBatch:
    """Everything a backend needs to simulate a batch of echoes.

    Attributes
    ----------
    spectra : ndarray of shape (B, n, n), float64
        Real DFT of each echo's normalised kernel.
    offsets : ndarray of shape (B, n, n), float64
        Offset frequency of every nucleus (MHz).
    alpha_xy, alpha_z : ndarray of shape (B,), float64
        Couplings (MHz).
    dt : float
        Time step (us).
    n_tau : int
        Steps before the refocusing pulse.
    n_times : int
        Samples per echo; ``n_times - 1`` steps are taken.
    first_pulse, refocus_pulse : ndarray of shape (3, 3)
        Bloch-vector rotations of the two pulses.
    decay : float
        Factor applied to the transverse components each step (pure
        dephasing); 1.0 when off.
    dtype : numpy dtype
        Floating type of the state and fields.
    n_jobs : int
        Threads the backend may use.
    """

    spectra: np.ndarray
    offsets: np.ndarray
    alpha_xy: np.ndarray
    alpha_z: np.ndarray
    dt: float
    n_tau: int
    n_times: int
    first_pulse: np.ndarray
    refocus_pulse: np.ndarray
    decay: float
    dtype: np.dtype
    n_jobs: int = 1

    @property
    def n_echoes(self):
        return self.offsets.shape[0]

    @property
    def lattice_size(self):
        return self.offsets.shape[1]
