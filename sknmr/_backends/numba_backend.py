"""The fast CPU backend: batched FFT convolution and a fused per-spin update.

Per time step and batch of echoes:

1. the transverse state ``<I^x> + i <I^y>`` of every echo goes through one
   complex 2-D FFT (x and y at once, as the kernel spectrum is real) and
   ``<I^z>`` through a real one, both multiplied by the kernel spectra and
   transformed back (``scipy.fft``, threaded over the batch); the ``z``
   convolution is skipped when every ``alpha_z`` of the batch is zero, since it
   then cannot enter the field;
2. one numba kernel, looping over (echo, lattice row), builds each nucleus'
   field, rotates its Bloch vector exactly, applies dephasing and accumulates
   the row's magnetisation; it is written as three simple loops per row so
   that LLVM vectorises them. Pulses are a second, rarely called kernel.

With ``n_jobs`` threads the batch is split into that many groups of echoes,
each run on its own thread (everything above releases the GIL); this scales
better on few cores than threading each transform. Row sums are added in a
fixed order, so the output does not depend on the number of threads or on how
echoes are grouped into batches.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft as sfft

name = "numba"
#: Echoes per batch: 8 paper-size echoes keep the FFT working set in cache.
default_batch_size = 8

try:  # numba is a core dependency, but keep the import error readable
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None


def is_available():
    return numba is not None


# Exact rotations need cos and sin of every spin's angle each step. For angles
# up to 1 rad (the paper's fields give at most ~0.4) a degree-17/18 Taylor
# polynomial is exact to double precision and, unlike libm calls, lets LLVM
# vectorise the loop; rows with a larger angle fall back to libm.
_POLY_LIMIT = 1.0
# Reassociation lets the row sums vectorise; no flag that changes NaN/inf
# handling or function accuracy is used.
_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

if numba is not None:

    @njit(fastmath=_FASTMATH, error_model="numpy", cache=True)
    def _rotate_row(sxy, sz, wxy, wz, offsets, axy, az, angle_per_mhz, decay, scratch):
        """One lattice row: rotate each spin about its field; return the row's sums."""
        n = sz.shape[0]
        ux = scratch[0]
        uy = scratch[1]
        uz = scratch[2]
        cosines = scratch[3]
        sines = scratch[4]
        # 1. the field B = (-a_xy w_x, -a_xy w_y, -(nu + a_z w_z)): axis and angle
        # (counting large angles rather than taking a max keeps it vectorised)
        n_large = 0
        for j in range(n):
            w = wxy[j]
            bx = -axy * w.real
            by = -axy * w.imag
            bz = -(offsets[j] + az * wz[j])
            norm = math.sqrt(bx * bx + by * by + bz * bz)
            inverse = 1.0 / norm if norm > 0.0 else 0.0  # zero field: no turn
            ux[j] = bx * inverse
            uy[j] = by * inverse
            uz[j] = bz * inverse
            angle = angle_per_mhz * norm
            cosines[j] = angle
            n_large += 1 if angle > _POLY_LIMIT else 0
        # 2. cos and sin of the angles
        if n_large == 0:
            for j in range(n):
                a = cosines[j]
                a2 = a * a
                sines[j] = a * (
                    1.0
                    - a2
                    * (
                        1 / 6
                        - a2
                        * (
                            1 / 120
                            - a2
                            * (
                                1 / 5040
                                - a2
                                * (
                                    1 / 362880
                                    - a2
                                    * (
                                        1 / 39916800
                                        - a2
                                        * (
                                            1 / 6227020800
                                            - a2
                                            * (1 / 1307674368000 - a2 / 355687428096000)
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
                cosines[j] = 1.0 - a2 * (
                    0.5
                    - a2
                    * (
                        1 / 24
                        - a2
                        * (
                            1 / 720
                            - a2
                            * (
                                1 / 40320
                                - a2
                                * (
                                    1 / 3628800
                                    - a2
                                    * (
                                        1 / 479001600
                                        - a2
                                        * (
                                            1 / 87178291200
                                            - a2
                                            * (
                                                1 / 20922789888000
                                                - a2 / 6402373705728000
                                            )
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
        else:
            for j in range(n):
                a = cosines[j]
                sines[j] = math.sin(a)
                cosines[j] = math.cos(a)
        # 3. Rodrigues' rotation, dephasing, and the row's magnetisation
        sum_x = 0.0
        sum_y = 0.0
        sum_z = 0.0
        for j in range(n):
            s = sxy[j]
            x = s.real
            y = s.imag
            z = sz[j]
            c = cosines[j]
            sn = sines[j]
            vx = ux[j]
            vy = uy[j]
            vz = uz[j]
            along = (vx * x + vy * y + vz * z) * (1.0 - c)
            nx = (x * c + (vy * z - vz * y) * sn + vx * along) * decay
            ny = (y * c + (vz * x - vx * z) * sn + vy * along) * decay
            nz = z * c + (vx * y - vy * x) * sn + vz * along
            sxy[j] = complex(nx, ny)
            sz[j] = nz
            sum_x += nx
            sum_y += ny
            sum_z += nz
        return sum_x, sum_y, sum_z

    @njit(nogil=True, cache=True)
    def _step(
        sxy,
        sz,
        wxy,
        wz,
        offsets,
        alpha_xy,
        alpha_z,
        angle_per_mhz,
        decay,
        row_sums,
        scratch,
    ):
        """Rotate every spin about its field for one step, in place."""
        n_echoes, n, _ = sz.shape
        for task in range(n_echoes * n):
            b = task // n
            i = task % n
            sx, sy, sz_ = _rotate_row(
                sxy[b, i],
                sz[b, i],
                wxy[b, i],
                wz[b, i],
                offsets[b, i],
                alpha_xy[b],
                alpha_z[b],
                angle_per_mhz,
                decay,
                scratch[task],
            )
            row_sums[b, i, 0] = sx
            row_sums[b, i, 1] = sy
            row_sums[b, i, 2] = sz_

    @njit(nogil=True, cache=True)
    def _pulse(sxy, sz, rotation, row_sums):
        """Apply an instantaneous pulse (a Bloch-vector rotation) to every spin."""
        n_echoes, n, _ = sz.shape
        for task in range(n_echoes * n):
            b = task // n
            i = task % n
            sum_x = 0.0
            sum_y = 0.0
            sum_z = 0.0
            for j in range(n):
                s = sxy[b, i, j]
                x = s.real
                y = s.imag
                z = sz[b, i, j]
                nx = rotation[0, 0] * x + rotation[0, 1] * y + rotation[0, 2] * z
                ny = rotation[1, 0] * x + rotation[1, 1] * y + rotation[1, 2] * z
                nz = rotation[2, 0] * x + rotation[2, 1] * y + rotation[2, 2] * z
                sxy[b, i, j] = complex(nx, ny)
                sz[b, i, j] = nz
                sum_x += nx
                sum_y += ny
                sum_z += nz
            row_sums[b, i, 0] = sum_x
            row_sums[b, i, 1] = sum_y
            row_sums[b, i, 2] = sum_z

    @njit(nogil=True, cache=True)
    def _lattice_means(row_sums, out_xy, out_z, k):
        """Sample ``k`` of every echo: lattice averages, rows added in order."""
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


def simulate(batch):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch`.

    With ``batch.n_jobs > 1`` the echoes are split into that many groups, each
    simulated on its own thread (the FFTs and the numba kernels release the
    GIL); echoes never interact, so the split does not change the results.
    """
    n_groups = max(1, min(int(batch.n_jobs), batch.n_echoes))
    groups = np.array_split(np.arange(batch.n_echoes), n_groups)
    if n_groups == 1:
        mxy, mz = _simulate_group(batch, groups[0])
    else:
        with ThreadPoolExecutor(n_groups) as pool:
            parts = list(pool.map(lambda rows: _simulate_group(batch, rows), groups))
        mxy = np.concatenate([p[0] for p in parts])
        mz = np.concatenate([p[1] for p in parts])
    return mxy, mz


def _simulate_group(batch, rows):
    """Simulate the echoes ``rows`` of a batch on the calling thread."""
    real = np.dtype(batch.dtype)
    cplx = np.result_type(real, np.complex64)
    n_echoes, n = len(rows), batch.lattice_size

    spectra = np.ascontiguousarray(batch.spectra[rows], dtype=real)
    half_spectra = np.ascontiguousarray(spectra[:, :, : n // 2 + 1])
    offsets = np.ascontiguousarray(batch.offsets[rows], dtype=real)
    alpha_xy = np.ascontiguousarray(batch.alpha_xy[rows], dtype=real)
    alpha_z = np.ascontiguousarray(batch.alpha_z[rows], dtype=real)
    couple_z = bool(np.any(alpha_z != 0))
    first = np.ascontiguousarray(batch.first_pulse, dtype=real)
    refocus = np.ascontiguousarray(batch.refocus_pulse, dtype=real)
    angle_per_mhz = real.type(2 * np.pi * batch.dt)
    decay = real.type(batch.decay)

    sxy = np.zeros((n_echoes, n, n), dtype=cplx)
    sz = np.full((n_echoes, n, n), 0.5, dtype=real)  # every nucleus along +z
    wz = np.zeros_like(sz)
    row_sums = np.zeros((n_echoes, n, 3), dtype=np.float64)
    scratch = np.empty((n_echoes * n, 5, n), dtype=real)
    mxy = np.empty((n_echoes, batch.n_times), dtype=cplx)
    mz = np.empty((n_echoes, batch.n_times), dtype=real)

    _pulse(sxy, sz, first, row_sums)
    _lattice_means(row_sums, mxy, mz, 0)
    for k in range(1, batch.n_times):
        spectrum_xy = sfft.fft2(sxy)
        spectrum_xy *= spectra
        wxy = sfft.ifft2(spectrum_xy, overwrite_x=True)
        if couple_z:
            spectrum_z = sfft.rfft2(sz)
            spectrum_z *= half_spectra
            wz = sfft.irfft2(spectrum_z, s=(n, n), overwrite_x=True)
        _step(
            sxy,
            sz,
            wxy,
            wz,
            offsets,
            alpha_xy,
            alpha_z,
            angle_per_mhz,
            decay,
            row_sums,
            scratch,
        )
        if k == batch.n_tau:  # the refocusing pulse, just before this sample
            _pulse(sxy, sz, refocus, row_sums)
        _lattice_means(row_sums, mxy, mz, k)
    return mxy, mz
