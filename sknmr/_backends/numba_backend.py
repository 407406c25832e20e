"""The fast CPU backend: batched FFT convolution and a fused per-spin update.

Per time step and batch of echoes:

1. the transverse state ``<I^x> + i <I^y>`` of every echo goes through one
   complex FFT over the lattice's cell indices (2-D, or 3-D for a 3-D
   lattice; x and y at once: the kernel is real, so convolving ``x + i y``
   convolves both; its spectrum is complex only for a kernel that is not
   even under ``r -> -r``) and
   ``<I^z>`` through a real one, both multiplied by the kernel spectra and
   transformed back (torch's CPU FFT, or ``scipy.fft``: ``FFT_METHOD``, by
   default the faster on this machine for the lattice's shape and dtype,
   measured once, see :func:`tuned`); the ``z``
   convolution is skipped when every ``alpha_z`` of the batch is zero, since it
   then cannot enter the field;
2. one numba kernel, looping over each echo's flattened lattice in segments
   of 512 spins, builds each nucleus' field, rotates its Bloch vector
   exactly, relaxes it exactly (T2, T1) and accumulates the segment's
   magnetisation; it is written as three simple loops per segment so that
   LLVM vectorises them. Pulses are a second, rarely called kernel.

With ``n_jobs`` threads the batch is split into that many groups of echoes,
each run on its own thread (everything above releases the GIL); this scales
better on few cores than threading each transform. A thread transforms at
most a measured number of its echoes at once (:func:`tuned`: fewer echoes
per transform can keep the working set in cache). Segment sums are added in
a fixed order, so the output does not depend on the number of threads or on
how echoes are grouped into batches.
"""

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.fft as sfft

from . import _tuning

name = "numba"
#: Echoes per batch: 8 paper-size echoes keep the FFT working set in cache.
default_batch_size = 8

#: Bumped whenever the backend's arithmetic rounds its echoes differently
#: (the model, and so ``MODEL_REVISION``, unchanged): cached datasets are
#: keyed on it. 2: float32 updates in float32; torch's FFT for ``z`` too.
NUMERICS_REVISION = 2

FFT_METHODS = ("auto", "torch", "scipy")
#: The FFT of the convolutions: "torch" (torch's CPU FFT, on the arrays shared
#: zero-copy), "scipy" (``scipy.fft``) or "auto": the faster of the two on
#: this machine for the lattice's shape and dtype, measured once and
#: remembered (:func:`fft_method`). ``benchmarks/bench_fft.py`` measures both;
#: the environment variable ``SKNMR_NUMBA_FFT`` sets it too.
FFT_METHOD = os.environ.get("SKNMR_NUMBA_FFT", "auto")
#: The lattice :func:`fft_method` answers for when given none: the paper's.
DEFAULT_SHAPE = (100, 100)

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


def fft_method(dtype=np.float64, shape=DEFAULT_SHAPE):
    """The FFT the convolutions use for ``shape`` lattices in ``dtype``.

    ``FFT_METHOD`` (or ``SKNMR_NUMBA_FFT``) "torch" or "scipy" forces it.
    "auto" (the default) takes ``scipy.fft`` when torch cannot be imported,
    else the faster of the two on this machine for this lattice shape and
    dtype (:func:`tuned`); with the measurement off
    (``SKNMR_NUMBA_TUNING=off``, as in tests), torch.

    Echoes are bit-identical for a given answer; the two answers agree to
    rounding, and cached datasets are keyed on it.

    Parameters
    ----------
    dtype : numpy dtype, default=float64
        The dynamics' floating type.
    shape : tuple of int, default=(100, 100)
        The lattice's cells along each vector.

    Returns
    -------
    method : {"torch", "scipy"}
    """
    return tuned(dtype, shape)[0]


#: Echoes per transform that the measurement tries (a thread's share of a
#: batch is transformed at most this many at a time), those whose lattices
#: hold at most ``_TUNING_SPINS`` nuclei together; on larger lattices, a
#: thread's whole share (timed on 4 echoes).
ECHOES_PER_TRANSFORM = (4, 8)
_TUNING_SPINS = 2**19
#: Another candidate replaces the fixed default (torch, or the forced FFT,
#: on a thread's whole share) only when faster by more than this fraction:
#: a close call on a busy machine is not worth a change.
_MARGIN = 0.03


def tuned(dtype=np.float64, shape=DEFAULT_SHAPE):
    """The FFT and the echoes per transform for ``shape`` lattices in ``dtype``.

    Measured once per machine, lattice shape and dtype when ``FFT_METHOD``
    is "auto" and the measurement is on: a few whole steps of the backend
    (:class:`_Group`, the generalised model) with each FFT and each of
    ``ECHOES_PER_TRANSFORM`` (those that fit), taken in turns, on random
    echoes of that shape (a fraction of a second), the fastest per echo
    kept and remembered in the user's cache folder for this CPU and these
    library versions (``sknmr._backends._tuning``); the fixed default is
    kept unless another is more than 3% faster. A forced FFT
    (``FFT_METHOD`` "torch" or "scipy") is kept and only the echoes per
    transform are measured.

    Returns
    -------
    method : {"torch", "scipy"}
        The FFT.
    per_transform : int or None
        Most echoes a thread transforms at once (its share of a batch is
        cut into pieces of at most this many); None: all of its share.
        Echoes do not depend on it.
    """
    if FFT_METHOD not in FFT_METHODS:
        raise ValueError(
            f"The numba backend's FFT_METHOD (or SKNMR_NUMBA_FFT) must be one of "
            f"{FFT_METHODS}; got {FFT_METHOD!r}."
        )
    if FFT_METHOD != "auto":
        methods = (FFT_METHOD,)
    else:
        methods = ("torch", "scipy") if _torch() is not None else ("scipy",)
    if not _tuning.enabled():
        return methods[0], None
    dtype, shape = np.dtype(dtype), tuple(int(n) for n in shape)
    sizes = [g for g in ECHOES_PER_TRANSFORM if g * math.prod(shape) <= _TUNING_SPINS]
    candidates = [
        f"{method} {size or 'all'}" for method in methods for size in sizes or [None]
    ]
    if len(candidates) == 1:
        return methods[0], None
    question = {
        "backend": name,
        "what": "FFT and echoes per transform",
        "fft": FFT_METHOD,
        "dtype": dtype.name,
        "shape": list(shape),
    }
    default = f"{methods[0]} {sizes[-1] if sizes else 'all'}"
    choice = _tuning.remembered(
        question,
        lambda: _time_steps(dtype, shape, candidates, default),
        default=f"{methods[0]} all",
        choices=tuple(candidates) + (f"{methods[0]} all",),
    )
    method, size = choice.split()
    return method, None if size == "all" else int(size)


def _time_steps(dtype, shape, candidates, default, budget=0.3):
    """The fastest candidate ("method size") and each's seconds per echo-step.

    Whole steps of the backend (:class:`_Group`: anisotropic couplings, the
    z convolution, T1 and T2) on ``size`` echoes of random spins (4 for
    "all"), the candidates in turns (:func:`_tuning.fastest`). ``default``
    is kept unless another is more than ``_MARGIN`` faster.
    """
    steps, per_echo = {}, {}
    with _torch_threads("torch"):
        for candidate in candidates:
            method, size = candidate.split()
            n_echoes = 4 if size == "all" else int(size)
            batch = _random_batch(dtype, shape, n_echoes)
            group = _Group(batch, np.arange(n_echoes), method)
            counter = itertools.count()

            def step(group=group, counter=counter, n_steps=batch.n_times - 1):
                group.step(1 + next(counter) % n_steps)

            steps[candidate] = step
            per_echo[candidate] = n_echoes
        seconds = _tuning.fastest(steps, budget=budget, min_rounds=5)
    seconds = {c: t / per_echo[c] for c, t in seconds.items()}
    best = min(seconds, key=seconds.get)
    if seconds[best] > (1 - _MARGIN) * seconds[default]:
        best = default
    return best, seconds


def _random_batch(dtype, shape, n_echoes, n_times=16):
    """A batch of echoes like the paper's on ``shape``: for timing steps only.

    A Gaussian kernel's spectrum (even, so real), offsets of a 50 kHz line,
    couplings of 0.1-0.3 MHz on every axis, T1 and T2 on, a 90 degree pulse
    before sample 0: turns of a few hundredths of a radian per step, as in
    real echoes.
    """
    from sknmr._physics import EchoBatch

    rng = np.random.default_rng(0)
    q2 = sum(
        np.square(2 * np.pi * np.fft.fftfreq(n)).reshape(
            [-1 if i == axis else 1 for i in range(len(shape))]
        )
        for axis, n in enumerate(shape)
    )
    spectrum = np.exp(-2.0 * q2)
    return EchoBatch(
        spectra=np.broadcast_to(spectrum, (n_echoes, *shape)).copy(),
        offsets=0.05 * rng.standard_normal((n_echoes, *shape)),
        alpha_x=rng.uniform(0.1, 0.3, n_echoes),
        alpha_y=rng.uniform(0.1, 0.3, n_echoes),
        alpha_z=rng.uniform(0.1, 0.3, n_echoes),
        dt=1 / (2 * np.pi),
        n_times=n_times,
        pulses=((0, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])),),
        transverse_decay=np.full(n_echoes, np.exp(-0.16 / 300.0)),
        longitudinal_decay=np.full(n_echoes, np.exp(-0.16 / 900.0)),
        dtype=dtype,
    )


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
    the threads. The FFT, and how many of its echoes a thread transforms at
    once, are :func:`tuned`'s for the batch's lattice shape and dtype.
    """
    method, per_transform = tuned(batch.dtype, batch.lattice_shape)
    n_groups = max(1, min(int(batch.n_jobs), batch.n_echoes))
    groups = np.array_split(np.arange(batch.n_echoes), n_groups)
    if n_groups == 1:
        return _simulate_group(batch, groups[0], method, per_transform)
    with ThreadPoolExecutor(n_groups) as pool:
        parts = list(
            pool.map(
                lambda rows: _simulate_group(batch, rows, method, per_transform),
                groups,
            )
        )
    mxy = np.concatenate([p[0] for p in parts])
    mz = np.concatenate([p[1] for p in parts])
    return mxy, mz


def _simulate_group(batch, rows, method="scipy", per_transform=None):
    """Simulate the echoes ``rows`` of a batch on the calling thread.

    At most ``per_transform`` echoes at a time (None: all at once).
    """
    pieces = 1 if per_transform is None else -(-len(rows) // per_transform)
    mxy, mz = [], []
    with _torch_threads(method):
        for piece in np.array_split(rows, pieces):
            group = _Group(batch, piece, method)
            for k in range(1, batch.n_times):
                group.step(k)
            mxy.append(group.mxy)
            mz.append(group.mz)
    if pieces == 1:
        return mxy[0], mz[0]
    return np.concatenate(mxy), np.concatenate(mz)


class _Group:
    """The echoes ``rows`` of a batch, set up to be stepped on one thread.

    ``step(k)`` takes step ``k``: the convolutions, the spin update, the
    pulse of that step if any, and sample ``k`` into ``mxy`` and ``mz``.
    The tuning (:func:`fft_method`) times this same step.
    """

    def __init__(self, batch, rows, method):
        real = np.dtype(batch.dtype)
        cplx = np.result_type(real, np.complex64)
        n_echoes, shape = len(rows), batch.lattice_shape

        def per_echo(values, dtype=real):
            return np.ascontiguousarray(np.asarray(values)[rows], dtype=dtype)

        # a kernel that is not even under r -> -r has a complex spectrum
        complex_kernel = np.iscomplexobj(batch.spectra)
        spectra = per_echo(batch.spectra, cplx if complex_kernel else real)
        half_spectra = np.ascontiguousarray(spectra[..., : shape[-1] // 2 + 1])
        self.offsets = per_echo(batch.offsets)
        self.alpha_x = per_echo(batch.alpha_x)
        self.alpha_y = per_echo(batch.alpha_y)
        self.alpha_z = per_echo(batch.alpha_z)
        # z enters the field only through alpha_z: skip its convolution otherwise
        self.couple_z = bool(np.any(self.alpha_z != 0))
        self.transverse_decay = per_echo(batch.transverse_decay)
        self.longitudinal_decay = per_echo(batch.longitudinal_decay)
        self.pulses = {
            step: np.ascontiguousarray(rotation, dtype=real)
            for step, rotation in batch.pulses
        }
        self.angle_per_mhz = real.type(2 * np.pi * batch.dt)

        self.sxy = np.zeros((n_echoes, *shape), dtype=cplx)
        self.sz = np.full((n_echoes, *shape), 0.5, dtype=real)  # all along +z
        self.wz = np.zeros_like(self.sz)
        # the kernels see the lattices flattened (views of the same memory)
        n_spins = self.n_spins = math.prod(shape)
        self.flat_xy = self.sxy.reshape(n_echoes, n_spins)
        self.flat_z = self.sz.reshape(n_echoes, n_spins)
        self.flat_offsets = self.offsets.reshape(n_echoes, n_spins)
        self.sums = initial_sums(n_echoes, n_spins)
        self.scratch = np.empty((5, min(_SEGMENT, n_spins)), dtype=real)
        self.k_real = constants(real)
        self.mxy = np.empty((n_echoes, batch.n_times), dtype=cplx)
        self.mz = np.empty((n_echoes, batch.n_times), dtype=real)

        if 0 in self.pulses:  # a pulse on the thermal state, before sample 0
            _pulse(self.flat_xy, self.flat_z, self.pulses[0], self.sums)
        _lattice_means(self.sums, self.mxy, self.mz, 0, n_spins)
        self.convolution = (
            _TorchConvolution if method == "torch" else _ScipyConvolution
        )(spectra, half_spectra, shape)

    def step(self, k):
        """Step ``k`` (1 to ``n_times - 1``) of every echo, in place."""
        n_echoes, n_spins = self.flat_z.shape
        wxy = self.convolution.xy(self.sxy)
        if self.couple_z:
            self.wz = self.convolution.z(self.sz)
        _step(
            self.flat_xy,
            self.flat_z,
            wxy.reshape(n_echoes, n_spins),
            self.wz.reshape(n_echoes, n_spins),
            self.flat_offsets,
            self.alpha_x,
            self.alpha_y,
            self.alpha_z,
            self.angle_per_mhz,
            self.transverse_decay,
            self.longitudinal_decay,
            self.sums,
            self.scratch,
            self.k_real,
        )
        if k in self.pulses:  # a pulse just before this sample
            _pulse(self.flat_xy, self.flat_z, self.pulses[k], self.sums)
        _lattice_means(self.sums, self.mxy, self.mz, k, n_spins)
