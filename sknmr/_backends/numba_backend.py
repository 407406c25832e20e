"""The fast CPU backend: batched FFT convolution and a fused per-spin update.

Per time step and batch of echoes:

1. the transverse state ``<I^x> + i <I^y>`` of every echo goes through one
   complex FFT over the lattice's cell indices (2-D, or 3-D for a 3-D
   lattice; x and y at once: the kernel is real, so convolving ``x + i y``
   convolves both; its spectrum is complex only for a kernel that is not
   even under ``r -> -r``) and
   ``<I^z>`` through a real one, both multiplied by the kernel spectra and
   transformed back (torch's CPU FFT, or ``scipy.fft``: ``FFT_METHOD``); the ``z``
   convolution is skipped when every ``alpha_z`` of the batch is zero, since it
   then cannot enter the field;
2. one numba kernel, looping over each echo's flattened lattice in segments
   of 512 spins, builds each nucleus' field, rotates its Bloch vector
   exactly, relaxes it exactly (T2, T1) and accumulates the segment's
   magnetisation; it is written as three simple loops per segment so that
   LLVM vectorises them. Pulses are a second, rarely called kernel.

With ``n_jobs`` threads the batch is split into that many groups of echoes,
each run on its own thread (everything above releases the GIL); this scales
better on few cores than threading each transform. Segment sums are added in
a fixed order, so the output does not depend on the number of threads or on
how echoes are grouped into batches.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.fft as sfft

name = "numba"
#: Echoes per batch: 8 paper-size echoes keep the FFT working set in cache.
default_batch_size = 8

#: Bumped whenever the backend's arithmetic rounds its echoes differently
#: (the model, and so ``MODEL_REVISION``, unchanged): cached datasets are
#: keyed on it. 2: float32 updates in float32; torch's FFT for ``z`` too.
NUMERICS_REVISION = 2

FFT_METHODS = ("auto", "torch", "scipy")
#: The FFT of the convolutions: "torch" (torch's CPU FFT, on the arrays shared
#: zero-copy), "scipy" (``scipy.fft``) or "auto" (torch when importable).
#: ``benchmarks/bench_fft.py`` measures both; the environment variable
#: ``SKNMR_NUMBA_FFT`` sets it too.
FFT_METHOD = os.environ.get("SKNMR_NUMBA_FFT", "auto")

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
# vectorise the loop; segments with a larger angle fall back to libm.
_POLY_LIMIT = 1.0
# Reassociation lets the segment sums vectorise; no flag that changes NaN/inf
# handling or function accuracy is used.
_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}
# Where the Taylor coefficients start in the constants (see constants()).
_SINE, _COSINE = 4, 12
# Spins updated per inner loop: the flattened lattice in segments of this
# many (a 100 x 100 lattice row by row spent a quarter of the update in loop
# set-up and remainders; measured by benchmarks/bench_fft.py). Each segment's
# sums are kept and added in order, whatever the batch.
_SEGMENT = 512

if numba is not None:

    @njit(fastmath=_FASTMATH, error_model="numpy", cache=True)
    def _rotate_segment(
        sxy, sz, wxy, wz, offsets, ax, ay, az, angle_per_mhz, e2, e1, scratch, k
    ):
        """One segment of a flattened lattice: rotate each spin about its field,
        relax it (``e2`` on x and y, ``e1`` towards +1/2 on z); return the
        segment's sums.

        ``k`` holds the constants in the lattice's dtype (see
        :func:`constants`), so that float32 arithmetic stays in float32.
        """
        n = sz.shape[0]
        ux = scratch[0]
        uy = scratch[1]
        uz = scratch[2]
        cosines = scratch[3]
        sines = scratch[4]
        zero = k[0]
        one = k[1]
        # 1. the field B = (-a_x w_x, -a_y w_y, -(nu + a_z w_z)): axis and angle
        # (counting large angles rather than taking a max keeps it vectorised)
        limit = k[2]
        n_large = 0
        for j in range(n):
            w = wxy[j]
            bx = -ax * w.real
            by = -ay * w.imag
            bz = -(offsets[j] + az * wz[j])
            norm = math.sqrt(bx * bx + by * by + bz * bz)
            inverse = one / norm if norm > zero else zero  # zero field: no turn
            ux[j] = bx * inverse
            uy[j] = by * inverse
            uz[j] = bz * inverse
            angle = angle_per_mhz * norm
            cosines[j] = angle
            n_large += 1 if angle > limit else 0
        # 2. cos and sin of the angles: Taylor polynomials (Horner) or libm
        if n_large == 0:
            for j in range(n):
                a = cosines[j]
                a2 = a * a
                sine = k[_SINE + 7]  # 1/17!
                for m in range(_SINE + 6, _SINE - 1, -1):  # unrolled by LLVM
                    sine = k[m] - a2 * sine
                cosine = k[_COSINE + 8]  # 1/18!
                for m in range(_COSINE + 7, _COSINE - 1, -1):
                    cosine = k[m] - a2 * cosine
                sines[j] = a * (one - a2 * sine)
                cosines[j] = one - a2 * cosine
        else:
            for j in range(n):
                a = cosines[j]
                sines[j] = math.sin(a)
                cosines[j] = math.cos(a)
        # 3. Rodrigues' rotation, relaxation, and the segment's magnetisation
        z_eq = k[3] * (one - e1)  # 0 without T1: z is then left exactly as is
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
            along = (vx * x + vy * y + vz * z) * (one - c)
            nx = (x * c + (vy * z - vz * y) * sn + vx * along) * e2
            ny = (y * c + (vz * x - vx * z) * sn + vy * along) * e2
            nz = (z * c + (vx * y - vy * x) * sn + vz * along) * e1 + z_eq
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
        alpha_x,
        alpha_y,
        alpha_z,
        angle_per_mhz,
        transverse_decay,
        longitudinal_decay,
        sums,
        scratch,
        k,
    ):
        """Rotate and relax every spin for one step, in place.

        The lattices come flattened, shape ``(n_echoes, n_spins)``, and are
        updated ``_SEGMENT`` spins at a time; each segment's sums go to
        ``sums[echo, segment]``. ``scratch`` (5 rows of ``_SEGMENT`` in the
        lattice's dtype) is reused segment after segment, so it stays in the
        L1 cache; ``k`` holds the constants (:func:`constants`).
        """
        n_echoes, n_spins = sz.shape
        for b in range(n_echoes):
            for segment in range(sums.shape[1]):
                lo = segment * _SEGMENT
                hi = min(lo + _SEGMENT, n_spins)
                sx, sy, sz_ = _rotate_segment(
                    sxy[b, lo:hi],
                    sz[b, lo:hi],
                    wxy[b, lo:hi],
                    wz[b, lo:hi],
                    offsets[b, lo:hi],
                    alpha_x[b],
                    alpha_y[b],
                    alpha_z[b],
                    angle_per_mhz,
                    transverse_decay[b],
                    longitudinal_decay[b],
                    scratch,
                    k,
                )
                sums[b, segment, 0] = sx
                sums[b, segment, 1] = sy
                sums[b, segment, 2] = sz_

    @njit(nogil=True, cache=True)
    def _pulse(sxy, sz, rotation, sums):
        """Apply an instantaneous pulse (a Bloch-vector rotation) to every spin
        of the flattened lattices, segment by segment as :func:`_step`."""
        n_echoes, n_spins = sz.shape
        for b in range(n_echoes):
            for segment in range(sums.shape[1]):
                sum_x = 0.0
                sum_y = 0.0
                sum_z = 0.0
                for j in range(
                    segment * _SEGMENT, min((segment + 1) * _SEGMENT, n_spins)
                ):
                    s = sxy[b, j]
                    x = s.real
                    y = s.imag
                    z = sz[b, j]
                    nx = rotation[0, 0] * x + rotation[0, 1] * y + rotation[0, 2] * z
                    ny = rotation[1, 0] * x + rotation[1, 1] * y + rotation[1, 2] * z
                    nz = rotation[2, 0] * x + rotation[2, 1] * y + rotation[2, 2] * z
                    sxy[b, j] = complex(nx, ny)
                    sz[b, j] = nz
                    sum_x += nx
                    sum_y += ny
                    sum_z += nz
                sums[b, segment, 0] = sum_x
                sums[b, segment, 1] = sum_y
                sums[b, segment, 2] = sum_z

    @njit(nogil=True, cache=True)
    def _lattice_means(sums, out_xy, out_z, k, n_spins):
        """Sample ``k`` of every echo: lattice averages, segments added in order."""
        n_echoes, n_segments, _ = sums.shape
        scale = 1.0 / n_spins
        for b in range(n_echoes):
            sx = 0.0
            sy = 0.0
            sz = 0.0
            for i in range(n_segments):
                sx += sums[b, i, 0]
                sy += sums[b, i, 1]
                sz += sums[b, i, 2]
            out_xy[b, k] = complex(sx * scale, sy * scale)
            out_z[b, k] = sz * scale


def constants(dtype):
    """The constants of the spin update, in the lattice's ``dtype``.

    Literals would be float64 in numba and turn a float32 loop into a float64
    one at half the vector width; in float64 these are the same values.
    Order: 0, 1, the polynomial's limit, 1/2 (thermal polarisation), the
    sine's Taylor coefficients 1/3! ... 1/17!, the cosine's 1/2! ... 1/18!.
    """
    sine = [1 / math.factorial(m) for m in range(3, 18, 2)]
    cosine = [1 / math.factorial(m) for m in range(2, 19, 2)]
    return np.array([0.0, 1.0, _POLY_LIMIT, 0.5, *sine, *cosine], dtype=dtype)


def initial_sums(n_echoes, n_spins):
    """Per-segment sums of the thermal state (every spin ``(0, 0, 1/2)``)."""
    n_segments = -(-n_spins // _SEGMENT)
    lengths = np.minimum(_SEGMENT, n_spins - _SEGMENT * np.arange(n_segments))
    sums = np.zeros((n_echoes, n_segments, 3))
    sums[:, :, 2] = 0.5 * lengths
    return sums


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    return torch


def fft_method():
    """The FFT the convolutions use: ``"torch"`` or ``"scipy"``."""
    if FFT_METHOD not in FFT_METHODS:
        raise ValueError(
            f"The numba backend's FFT_METHOD (or SKNMR_NUMBA_FFT) must be one of "
            f"{FFT_METHODS}; got {FFT_METHOD!r}."
        )
    if FFT_METHOD == "auto":
        return "torch" if _torch() is not None else "scipy"
    return FFT_METHOD


def _multiply(spectrum, factor):
    """``spectrum *= factor``, the same bits wherever an element sits in the batch.

    A real factor multiplies each component once. A complex one (a kernel that
    is not even) is multiplied out in real arithmetic: a vectorised complex
    product may fuse a multiply-add or not depending on the element's position,
    which would make an echo depend on its batch.
    """
    if not np.iscomplexobj(factor):
        spectrum *= factor
        return spectrum
    x, y = spectrum.real.copy(), spectrum.imag.copy()
    spectrum.real = x * factor.real - y * factor.imag
    spectrum.imag = x * factor.imag + y * factor.real
    return spectrum


class _ScipyConvolution:
    """``w = Khat * s`` for the spins of a group, by ``scipy.fft``.

    The transforms run over the lattice's axes, the last 2 or 3 of the arrays
    (for a 2-D lattice, exactly ``fft2`` and ``rfft2``); ``shape`` is the
    lattice's cells, or ``n`` for ``n x n``.
    """

    def __init__(self, spectra, half_spectra, shape):
        self.spectra, self.half_spectra = spectra, half_spectra
        self.shape = (shape, shape) if np.ndim(shape) == 0 else tuple(shape)
        self.axes = tuple(range(-len(self.shape), 0))

    def xy(self, sxy):
        spectrum = _multiply(sfft.fftn(sxy, axes=self.axes), self.spectra)
        return sfft.ifftn(spectrum, axes=self.axes, overwrite_x=True)

    def z(self, sz):
        spectrum = _multiply(sfft.rfftn(sz, axes=self.axes), self.half_spectra)
        return sfft.irfftn(spectrum, s=self.shape, axes=self.axes, overwrite_x=True)


class _TorchConvolution(_ScipyConvolution):
    """The same with torch's CPU FFT, in buffers shared with numpy.

    The transforms write into buffers made once per group and reused every
    step (the inverse in place): fresh outputs of a megabyte each step cost
    page faults, up to twice the transforms' time in float64. A step's field
    is consumed before the next step overwrites it.

    torch transforms a batch of one with another code path than a batch of
    two or more for many real transforms' sizes (so the same echo would round
    differently alone); every batch of two or more rounds alike. A group of
    one echo is therefore transformed beside a zero lattice.
    """

    def __init__(self, spectra, half_spectra, shape):
        if spectra.shape[0] == 1:  # a lone echo, transformed as a pair
            half_spectra = np.concatenate([half_spectra, half_spectra])
        super().__init__(spectra, half_spectra, shape)
        torch = self.torch = _torch()
        self.complex_spectra = np.iscomplexobj(spectra)
        self.pad = spectra.shape[0] == 1
        real = half_spectra.real.dtype
        cplx = np.result_type(real, np.complex64)
        if self.pad:
            self.z_pair = np.zeros((2, *self.shape), dtype=real)
        self.t_spectra = torch.from_numpy(spectra)
        self.t_half = torch.from_numpy(half_spectra)
        self.xy_out = torch.from_numpy(np.empty(spectra.shape, dtype=cplx))
        self.z_spectrum = torch.from_numpy(np.empty(half_spectra.shape, dtype=cplx))
        self.z_out = torch.from_numpy(
            np.empty((len(half_spectra), *self.shape), dtype=real)
        )

    def _times_kernel(self, spectrum, t_spectra, spectra):
        if self.complex_spectra:
            _multiply(spectrum.numpy(), spectra)
        else:
            spectrum.mul_(t_spectra)

    def xy(self, sxy):
        fft, out = self.torch.fft, self.xy_out
        fft.fftn(self.torch.from_numpy(sxy), dim=self.axes, out=out)
        self._times_kernel(out, self.t_spectra, self.spectra)
        fft.ifftn(out, dim=self.axes, out=out)
        return out.numpy()

    def z(self, sz):
        fft, spectrum = self.torch.fft, self.z_spectrum
        if self.pad:
            self.z_pair[0] = sz[0]
            sz = self.z_pair
        fft.rfftn(self.torch.from_numpy(sz), dim=self.axes, out=spectrum)
        self._times_kernel(spectrum, self.t_half, self.half_spectra)
        fft.irfftn(spectrum, s=self.shape, dim=self.axes, out=self.z_out)
        out = self.z_out.numpy()
        return out[:1] if self.pad else out


@contextmanager
def _torch_threads(method):
    """torch's FFT on one thread per group: the groups are the parallelism.

    Set on the thread that transforms: a worker thread reports one thread
    but, unless told on that thread, MKL may split a real transform (and so
    round it differently) there.
    """
    if method != "torch":
        yield
        return
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def simulate(batch):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch`.

    With ``batch.n_jobs > 1`` the echoes are split into that many groups, each
    simulated on its own thread (the FFTs and the numba kernels release the
    GIL); echoes never interact, so the split does not change the results.
    With torch's FFT, torch's own thread count is set to 1 on each group's
    thread for the duration (and restored after), as the groups already use
    the threads.
    """
    method = fft_method()
    n_groups = max(1, min(int(batch.n_jobs), batch.n_echoes))
    groups = np.array_split(np.arange(batch.n_echoes), n_groups)
    if n_groups == 1:
        return _simulate_group(batch, groups[0], method)
    with ThreadPoolExecutor(n_groups) as pool:
        parts = list(
            pool.map(lambda rows: _simulate_group(batch, rows, method), groups)
        )
    mxy = np.concatenate([p[0] for p in parts])
    mz = np.concatenate([p[1] for p in parts])
    return mxy, mz


def _simulate_group(batch, rows, method="scipy"):
    """Simulate the echoes ``rows`` of a batch on the calling thread."""
    with _torch_threads(method):
        return _simulate_rows(batch, rows, method)


def _simulate_rows(batch, rows, method):
    real = np.dtype(batch.dtype)
    cplx = np.result_type(real, np.complex64)
    n_echoes, shape = len(rows), batch.lattice_shape

    def per_echo(values, dtype=real):
        return np.ascontiguousarray(np.asarray(values)[rows], dtype=dtype)

    # a kernel that is not even under r -> -r has a complex spectrum
    spectra = per_echo(batch.spectra, cplx if np.iscomplexobj(batch.spectra) else real)
    half_spectra = np.ascontiguousarray(spectra[..., : shape[-1] // 2 + 1])
    offsets = per_echo(batch.offsets)
    alpha_x = per_echo(batch.alpha_x)
    alpha_y = per_echo(batch.alpha_y)
    alpha_z = per_echo(batch.alpha_z)
    # z enters the field only through alpha_z: skip its convolution otherwise
    couple_z = bool(np.any(alpha_z != 0))
    transverse_decay = per_echo(batch.transverse_decay)
    longitudinal_decay = per_echo(batch.longitudinal_decay)
    pulses = {
        step: np.ascontiguousarray(rotation, dtype=real)
        for step, rotation in batch.pulses
    }
    angle_per_mhz = real.type(2 * np.pi * batch.dt)

    sxy = np.zeros((n_echoes, *shape), dtype=cplx)
    sz = np.full((n_echoes, *shape), 0.5, dtype=real)  # every nucleus along +z
    wz = np.zeros_like(sz)
    # the kernels see the lattices flattened (views of the same memory)
    n_spins = math.prod(shape)
    flat_xy, flat_z = sxy.reshape(n_echoes, n_spins), sz.reshape(n_echoes, n_spins)
    flat_offsets = offsets.reshape(n_echoes, n_spins)
    sums = initial_sums(n_echoes, n_spins)
    scratch = np.empty((5, min(_SEGMENT, n_spins)), dtype=real)
    k_real = constants(real)
    mxy = np.empty((n_echoes, batch.n_times), dtype=cplx)
    mz = np.empty((n_echoes, batch.n_times), dtype=real)

    if 0 in pulses:  # a pulse on the thermal state, before sample 0
        _pulse(flat_xy, flat_z, pulses[0], sums)
    _lattice_means(sums, mxy, mz, 0, n_spins)
    convolution = (_TorchConvolution if method == "torch" else _ScipyConvolution)(
        spectra, half_spectra, shape
    )
    for k in range(1, batch.n_times):
        wxy = convolution.xy(sxy)
        if couple_z:
            wz = convolution.z(sz)
        _step(
            flat_xy,
            flat_z,
            wxy.reshape(n_echoes, n_spins),
            wz.reshape(n_echoes, n_spins),
            flat_offsets,
            alpha_x,
            alpha_y,
            alpha_z,
            angle_per_mhz,
            transverse_decay,
            longitudinal_decay,
            sums,
            scratch,
            k_real,
        )
        if k in pulses:  # a pulse just before this sample
            _pulse(flat_xy, flat_z, pulses[k], sums)
        _lattice_means(sums, mxy, mz, k, n_spins)
    return mxy, mz
