"""The fast CPU backend: batched FFT convolution and a fused per-spin update.

Per time step and batch of echoes:

1. the transverse state ``<I^x> + i <I^y>`` of every echo goes through one
   complex 2-D FFT (x and y at once, as the kernel spectrum is real) and
   ``<I^z>`` through a real one, both multiplied by the kernel spectra and
   transformed back (``scipy.fft``, threaded over the batch); the ``z``
   convolution is skipped when every ``alpha_z`` of the batch is zero, since it
   then cannot enter the field;
2. one numba kernel, parallel over (echo, lattice row), builds each nucleus'
   field, rotates its Bloch vector exactly, applies dephasing and the
   refocusing pulse, and accumulates the row's magnetisation.

Row sums are added in a fixed order, so the output does not depend on the
number of threads or on how echoes are grouped into batches.
"""

import math

import numpy as np
import scipy.fft as sfft

name = "numba"

try:  # numba is a core dependency, but keep the import error readable
    import numba
    from numba import njit, prange
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None


def is_available():
    return numba is not None


if numba is not None:

    @njit(parallel=True, cache=True)
    def _step(sxy, sz, wxy, wz, offsets, alpha_xy, alpha_z, angle_per_mhz, decay,
              pulse, apply_pulse, row_sums):
        n_echoes, n, _ = sz.shape
        for task in prange(n_echoes * n):
            b = task // n
            i = task % n
            axy = alpha_xy[b]
            az = alpha_z[b]
            sum_x = 0.0
            sum_y = 0.0
            sum_z = 0.0
            for j in range(n):
                w = wxy[b, i, j]
                bx = -axy * w.real
                by = -axy * w.imag
                bz = -(offsets[b, i, j] + az * wz[b, i, j])
                s = sxy[b, i, j]
                x = s.real
                y = s.imag
                z = sz[b, i, j]
                norm = math.sqrt(bx * bx + by * by + bz * bz)
                if norm > 0.0:
                    ux = bx / norm
                    uy = by / norm
                    uz = bz / norm
                    angle = angle_per_mhz * norm
                    c = math.cos(angle)
                    sn = math.sin(angle)
                    along = (ux * x + uy * y + uz * z) * (1.0 - c)
                    nx = x * c + (uy * z - uz * y) * sn + ux * along
                    ny = y * c + (uz * x - ux * z) * sn + uy * along
                    nz = z * c + (ux * y - uy * x) * sn + uz * along
                    x = nx
                    y = ny
                    z = nz
                x *= decay
                y *= decay
                if apply_pulse:
                    nx = pulse[0, 0] * x + pulse[0, 1] * y + pulse[0, 2] * z
                    ny = pulse[1, 0] * x + pulse[1, 1] * y + pulse[1, 2] * z
                    nz = pulse[2, 0] * x + pulse[2, 1] * y + pulse[2, 2] * z
                    x = nx
                    y = ny
                    z = nz
                sxy[b, i, j] = complex(x, y)
                sz[b, i, j] = z
                sum_x += x
                sum_y += y
                sum_z += z
            row_sums[b, i, 0] = sum_x
            row_sums[b, i, 1] = sum_y
            row_sums[b, i, 2] = sum_z

    @njit(cache=True)
    def _lattice_means(row_sums, out_xy, out_z, k):
        n_echoes, n, _ = row_sums.shape
        scale = 1.0 / (n * n)
        for b in range(n_echoes):
            sx = 0.0
            sy = 0.0
            sz = 0.0
            for i in range(n):
                sx += row_sums[b, i, 0]
                sy += row_sums[b, i, 1]
                sz += row_sums[b, i, 2]
            out_xy[b, k] = complex(sx * scale, sy * scale)
            out_z[b, k] = sz * scale


def simulate(batch, progress=None):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch` at once."""
    real = np.dtype(batch.dtype)
    cplx = np.result_type(real, np.complex64)
    n_echoes, n = batch.n_echoes, batch.lattice_size
    workers = max(1, int(batch.n_jobs))

    spectra = np.ascontiguousarray(batch.spectra, dtype=real)
    half_spectra = np.ascontiguousarray(spectra[:, :, : n // 2 + 1])
    offsets = np.ascontiguousarray(batch.offsets, dtype=real)
    alpha_xy = np.ascontiguousarray(batch.alpha_xy, dtype=real)
    alpha_z = np.ascontiguousarray(batch.alpha_z, dtype=real)
    couple_z = bool(np.any(alpha_z != 0))
    identity = np.eye(3, dtype=real)
    refocus = np.ascontiguousarray(batch.refocus_pulse, dtype=real)

    start = batch.first_pulse @ np.array([0.0, 0.0, 0.5])
    sxy = np.full((n_echoes, n, n), complex(start[0], start[1]), dtype=cplx)
    sz = np.full((n_echoes, n, n), start[2], dtype=real)
    wz = np.zeros_like(sz)
    row_sums = np.zeros((n_echoes, n, 3), dtype=np.float64)
    mxy = np.empty((n_echoes, batch.n_times), dtype=cplx)
    mz = np.empty((n_echoes, batch.n_times), dtype=real)
    row_sums[:, :, 0] = n * start[0]
    row_sums[:, :, 1] = n * start[1]
    row_sums[:, :, 2] = n * start[2]
    _lattice_means(row_sums, mxy, mz, 0)

    previous_threads = numba.get_num_threads()
    numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
    try:
        for k in range(1, batch.n_times):
            spectrum_xy = sfft.fft2(sxy, workers=workers)
            spectrum_xy *= spectra
            wxy = sfft.ifft2(spectrum_xy, workers=workers, overwrite_x=True)
            if couple_z:
                spectrum_z = sfft.rfft2(sz, workers=workers)
                spectrum_z *= half_spectra
                wz = sfft.irfft2(spectrum_z, s=(n, n), workers=workers,
                                 overwrite_x=True)
            pulse_now = k == batch.n_tau
            _step(sxy, sz, wxy, wz, offsets, alpha_xy, alpha_z,
                  real.type(2 * np.pi * batch.dt), real.type(batch.decay),
                  refocus if pulse_now else identity, pulse_now, row_sums)
            _lattice_means(row_sums, mxy, mz, k)
    finally:
        numba.set_num_threads(previous_threads)
    if progress is not None:
        progress(n_echoes)
    return mxy, mz
