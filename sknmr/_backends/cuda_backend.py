"""The GPU backend: a batch of echoes per launch, written with numba-cuda.

Per time step and batch of ``B`` echoes, everything stays on the device:

1. the mean fields ``w = Khat * <I>`` (periodic convolutions) come from a
   pluggable *convolution* step: ``x`` and ``y`` go through one complex 2-D
   transform (the kernel is real, so ``x + i y`` is convolved at once; its
   spectrum is complex only for a kernel that is not even under ``r -> -r``)
   and ``z`` through a real one, skipped when every ``alpha_z`` of the batch
   is zero (it then cannot enter the field). Two implementations:

   * ``"torch"``: cuFFT through :mod:`torch.fft`, on the numba device arrays
     shared zero-copy through ``__cuda_array_interface__``;
   * ``"dft"``: numba-cuda kernels doing the 2-D DFT as two passes of 1-D
     DFTs with precomputed twiddles (``O(n^3)`` per field instead of
     ``O(n^2 log n)``); it needs nothing but numba-cuda, so it also runs under
     numba's CUDA simulator, which is how the tests check the kernels.

   ``"auto"`` (the default) takes ``"torch"`` on a real GPU when torch sees
   CUDA, ``"dft"`` otherwise (on a real GPU with a warning, once). The
   choice has not been measured on a GPU yet (``benchmarks/bench_cuda.py``
   does it); set :data:`FFT_METHOD` or the
   environment variable ``SKNMR_CUDA_FFT`` to ``auto``, ``torch`` or ``dft``.
2. one kernel, a thread per nucleus, builds each field, rotates the Bloch
   vector exactly, relaxes it exactly (T2, T1), applies the step's pulse, and reduces
   the magnetisation of its block in shared memory;
3. one small kernel adds the block sums of every echo, in a fixed order, into
   the sample ``k`` of a ``(B, n_times)`` device array, whose sample 0 (the
   state after the pulses at t = 0) another small kernel writes before the first
   step, so no sample is left uninitialised. Results are copied to the host
   once, at the end.

Lattices: any 2-D lattice of ``n1 x n2`` cells (square, triangular,
rectangular, oblique: the kernel spectra carry the geometry); 3-D lattices
are refused (:func:`check_lattice_shape`), use the numba backend for them.

Sums are taken in a fixed order (no atomics), so a run is repeatable bit for
bit on the same GPU. Under ``NUMBA_ENABLE_CUDASIM=1`` the simulator only
counts as a GPU when asked for with ``SKNMR_CUDA_SIMULATOR=1`` (or
:data:`ALLOW_SIMULATOR`), so that ``backend="auto"`` never picks it by
accident.
"""

import functools
import math
import os
import warnings

import numpy as np

name = "cuda"

try:  # numba-cuda is optional (the 'cuda' extra): importing must never fail
    from numba import cuda

    try:
        from numba.cuda.core import config as _cuda_config
    except ImportError:  # pragma: no cover - older numba-cuda layouts
        from numba import config as _cuda_config
    import numba

    _SIMULATOR = bool(getattr(_cuda_config, "ENABLE_CUDASIM", 0))
    _IMPORT_ERROR = None
except Exception as exc:  # pragma: no cover - exercised only without numba-cuda
    cuda = None
    _SIMULATOR = False
    _IMPORT_ERROR = exc

FFT_METHODS = ("auto", "torch", "dft")
#: Convolution method: "auto", "torch" (cuFFT) or "dft" (numba-cuda kernels).
FFT_METHOD = os.environ.get("SKNMR_CUDA_FFT", "auto")
#: Whether numba's CUDA simulator counts as a GPU (for testing the kernels).
ALLOW_SIMULATOR = os.environ.get("SKNMR_CUDA_SIMULATOR", "") not in ("", "0")

# The simulator runs every thread as a Python thread: keep blocks tiny there.
_THREADS = 8 if _SIMULATOR else 256  # power of two (tree reduction)
_SPINS_PER_THREAD = 4  # nuclei per thread and block, before capping blocks
_MAX_CHUNKS = 64  # blocks per echo in the update kernel
_FINALIZE_THREADS = 8 if _SIMULATOR else 128
_DFT_THREADS = 16 if _SIMULATOR else 256
# Element-wise kernels loop grid-stride; the simulator gets one block of them.
_MAX_BLOCKS = 1 if _SIMULATOR else 2**31 - 1

#: Echoes per batch when the caller does not choose (not yet tuned on a GPU).
default_batch_size = 2 if _SIMULATOR else 512
default_dtype = np.float32


@functools.cache
def _gpu_present():
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install reads as "no GPU"
        return False


def unavailable_reason():
    """Why the backend cannot run here (None when it can)."""
    if cuda is None:
        return f"numba-cuda cannot be imported ({_IMPORT_ERROR})."
    if _SIMULATOR:
        if ALLOW_SIMULATOR:
            return None
        return (
            "NUMBA_ENABLE_CUDASIM=1 is set; numba's CUDA simulator is used only "
            "when SKNMR_CUDA_SIMULATOR=1 is set too (it is slow, for tests)."
        )
    if not _gpu_present():
        return "numba-cuda finds no usable NVIDIA GPU (cuda.is_available() is False)."
    return None


def is_available():
    """True when numba-cuda sees a GPU (or the simulator, when explicitly allowed)."""
    return unavailable_reason() is None


def _fft_method():
    method = FFT_METHOD
    if method not in FFT_METHODS:
        raise ValueError(
            f"SKNMR_CUDA_FFT / FFT_METHOD must be one of {FFT_METHODS}; got {method!r}."
        )
    if method == "auto":
        if _SIMULATOR:
            return "dft"
        if _torch_cuda() is None:
            _warn_no_cufft()
            return "dft"
        return "torch"
    if method == "torch" and _torch_for_fft() is None:
        raise ValueError(
            "FFT_METHOD='torch' needs a CUDA build of torch that sees the GPU; "
            "use 'dft' or 'auto'."
        )
    return method


@functools.cache
def _warn_no_cufft():
    # Once per process: the DFT kernels are exact but O(n^3) per field.
    warnings.warn(
        "The 'cuda' backend found no CUDA build of torch, so its lattice "
        "convolutions run as direct DFT kernels (O(n^3) per field, against "
        "cuFFT's O(n^2 log n)). Install torch's CUDA build for cuFFT, or set "
        "SKNMR_CUDA_FFT=dft to silence this.",
        RuntimeWarning,
        stacklevel=4,
    )


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_cuda():
    """The torch module when it can use the GPU, else None."""
    torch = _torch()
    return torch if torch is not None and torch.cuda.is_available() else None


def _torch_for_fft():
    # Under the simulator (tests only) torch's CPU FFTs work on the simulated
    # arrays' host memory, so the cuFFT path's logic is tested there too.
    return _torch() if _SIMULATOR else _torch_cuda()


if cuda is not None:
    _f64 = numba.float64

    @cuda.jit
    def _update(
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
        one,
        half,
        pulse,
        apply_pulse,
        partials,
    ):
        """One step for every nucleus; block sums of the new state in ``partials``.

        Grid: (echoes, chunks per echo). ``sxy``/``wxy`` hold x and y in their
        last axis. Scalars come typed like the arrays (``one`` and ``half``
        too) so that a float32 run stays in float32; the sums are float64.
        """
        b = cuda.blockIdx.x
        chunk = cuda.blockIdx.y
        t = cuda.threadIdx.x
        n_chunks = cuda.gridDim.y
        n_cols = sz.shape[2]
        n_spins = sz.shape[1] * n_cols
        ax = alpha_x[b]
        ay = alpha_y[b]
        az = alpha_z[b]
        e2 = transverse_decay[b]
        e1 = longitudinal_decay[b]
        z_eq = half * (one - e1)  # 0 without T1: z is then left exactly as is
        acc_x = 0.0
        acc_y = 0.0
        acc_z = 0.0
        for idx in range(chunk * _THREADS + t, n_spins, n_chunks * _THREADS):
            i = idx // n_cols
            j = idx - i * n_cols
            bx = -ax * wxy[b, i, j, 0]
            by = -ay * wxy[b, i, j, 1]
            bz = -(offsets[b, i, j] + az * wz[b, i, j])
            x = sxy[b, i, j, 0]
            y = sxy[b, i, j, 1]
            z = sz[b, i, j]
            norm = math.sqrt(bx * bx + by * by + bz * bz)
            if norm > 0:
                ux = bx / norm
                uy = by / norm
                uz = bz / norm
                angle = angle_per_mhz * norm
                c = math.cos(angle)
                s = math.sin(angle)
                along = (ux * x + uy * y + uz * z) * (one - c)
                nx = x * c + (uy * z - uz * y) * s + ux * along
                ny = y * c + (uz * x - ux * z) * s + uy * along
                nz = z * c + (ux * y - uy * x) * s + uz * along
                x = nx
                y = ny
                z = nz
            x *= e2
            y *= e2
            z = z * e1 + z_eq
            if apply_pulse:
                nx = pulse[0, 0] * x + pulse[0, 1] * y + pulse[0, 2] * z
                ny = pulse[1, 0] * x + pulse[1, 1] * y + pulse[1, 2] * z
                nz = pulse[2, 0] * x + pulse[2, 1] * y + pulse[2, 2] * z
                x = nx
                y = ny
                z = nz
            sxy[b, i, j, 0] = x
            sxy[b, i, j, 1] = y
            sz[b, i, j] = z
            acc_x += x
            acc_y += y
            acc_z += z
        # Fixed-shape tree reduction over the block: repeatable, no atomics.
        shared = cuda.shared.array((_THREADS, 3), _f64)
        shared[t, 0] = acc_x
        shared[t, 1] = acc_y
        shared[t, 2] = acc_z
        cuda.syncthreads()
        step = _THREADS // 2
        while step > 0:
            if t < step:
                shared[t, 0] += shared[t + step, 0]
                shared[t, 1] += shared[t + step, 1]
                shared[t, 2] += shared[t + step, 2]
            cuda.syncthreads()
            step //= 2
        if t == 0:
            partials[b, chunk, 0] = shared[0, 0]
            partials[b, chunk, 1] = shared[0, 1]
            partials[b, chunk, 2] = shared[0, 2]

    @cuda.jit
    def _first_sample(out, x, y, z):
        """``out[b, 0] = (x, y, z)`` for every echo b: the state after the first
        pulse, the same for every nucleus (``out`` is allocated uninitialised)."""
        b = cuda.grid(1)
        if b < out.shape[0]:
            out[b, 0, 0] = x
            out[b, 0, 1] = y
            out[b, 0, 2] = z

    @cuda.jit
    def _finalize(partials, out, k, scale):
        """``out[b, k] = scale * sum of the block sums of echo b`` (in order)."""
        b = cuda.grid(1)
        if b < partials.shape[0]:
            sx = 0.0
            sy = 0.0
            sz = 0.0
            for c in range(partials.shape[1]):
                sx += partials[b, c, 0]
                sy += partials[b, c, 1]
                sz += partials[b, c, 2]
            out[b, k, 0] = sx * scale
            out[b, k, 1] = sy * scale
            out[b, k, 2] = sz * scale

    @cuda.jit
    def _dft_pack(sxy, sz, fields, couple_z):
        """fields[b] = x + i y and, with z coupling, fields[B + b] = z + 0 i."""
        n_echoes, n_rows, n_cols = sz.shape[0], sz.shape[1], sz.shape[2]
        size = n_rows * n_cols
        for idx in range(cuda.grid(1), n_echoes * size, cuda.gridsize(1)):
            b = idx // size
            i = (idx // n_cols) % n_rows
            j = idx % n_cols
            fields[b, i, j, 0] = sxy[b, i, j, 0]
            fields[b, i, j, 1] = sxy[b, i, j, 1]
            if couple_z:
                fields[n_echoes + b, i, j, 0] = sz[b, i, j]
                fields[n_echoes + b, i, j, 1] = 0

    @cuda.jit
    def _dft_pass(
        src, dst, twiddle, along_rows, spectra, spectra_im, use_spectra, scale
    ):
        """A 1-D DFT of every row (``along_rows``) or column of every field.

        ``dst[f, p, q] = scale * sum_m src[f, p, m] tw[q m mod n]`` along rows
        (``n`` columns), ``sum_m src[f, m, q] tw[p m mod n]`` along columns
        (``n`` rows), times the kernel spectrum of the field's echo when
        ``use_spectra`` (its imaginary part ``spectra_im`` unless that is the
        (1, 1, 1) placeholder of a real one). ``twiddle[r]`` holds
        ``exp(-+2 pi i r / n)`` as (re, im), for the ``n`` of the pass's axis.
        """
        n_fields, n_rows, n_cols = src.shape[0], src.shape[1], src.shape[2]
        size = n_rows * n_cols
        for idx in range(cuda.grid(1), n_fields * size, cuda.gridsize(1)):
            f = idx // size
            p = (idx // n_cols) % n_rows
            q = idx % n_cols
            # the m = 0 term starts the sums (typed like the arrays, no literal)
            if along_rows:
                re = src[f, p, 0, 0] * twiddle[0, 0] - src[f, p, 0, 1] * twiddle[0, 1]
                im = src[f, p, 0, 0] * twiddle[0, 1] + src[f, p, 0, 1] * twiddle[0, 0]
                for m in range(1, n_cols):
                    r = (q * m) % n_cols
                    a = src[f, p, m, 0]
                    c = src[f, p, m, 1]
                    re += a * twiddle[r, 0] - c * twiddle[r, 1]
                    im += a * twiddle[r, 1] + c * twiddle[r, 0]
            else:
                re = src[f, 0, q, 0] * twiddle[0, 0] - src[f, 0, q, 1] * twiddle[0, 1]
                im = src[f, 0, q, 0] * twiddle[0, 1] + src[f, 0, q, 1] * twiddle[0, 0]
                for m in range(1, n_rows):
                    r = (p * m) % n_rows
                    a = src[f, m, q, 0]
                    c = src[f, m, q, 1]
                    re += a * twiddle[r, 0] - c * twiddle[r, 1]
                    im += a * twiddle[r, 1] + c * twiddle[r, 0]
            if use_spectra:
                e = f % spectra.shape[0]
                g = spectra[e, p, q]
                if spectra_im.shape[1] == spectra.shape[1]:
                    h = spectra_im[e, p, q]
                    re, im = re * g - im * h, re * h + im * g
                else:
                    re *= g
                    im *= g
            dst[f, p, q, 0] = re * scale
            dst[f, p, q, 1] = im * scale

    @cuda.jit
    def _dft_unpack_z(fields, wz):
        """wz[b] = real part of fields[B + b]."""
        n_echoes, n_rows, n_cols = wz.shape[0], wz.shape[1], wz.shape[2]
        size = n_rows * n_cols
        for idx in range(cuda.grid(1), n_echoes * size, cuda.gridsize(1)):
            b = idx // size
            i = (idx // n_cols) % n_rows
            j = idx % n_cols
            wz[b, i, j] = fields[n_echoes + b, i, j, 0]


def check_lattice_shape(shape):
    """Refuse lattices this backend does not simulate: the 3-D ones.

    Examples
    --------
    >>> check_lattice_shape((8, 6))
    >>> check_lattice_shape((4, 4, 4))
    Traceback (most recent call last):
    ...
    ValueError: The 'cuda' backend simulates 2-D lattices only; ...
    """
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(
            "The 'cuda' backend simulates 2-D lattices only; got a lattice of "
            f"{' x '.join(map(str, shape))} cells. Use backend='numba' (or "
            "'numpy') for 3-D lattices."
        )


def _blocks(count, threads):
    return (count + threads - 1) // threads


def _update_chunks(n, n_cols=None):
    """Blocks per echo of the update kernel on an ``n x n`` (``n x n_cols``) lattice."""
    n_spins = n * (n if n_cols is None else n_cols)
    return min(_MAX_CHUNKS, max(1, _blocks(n_spins, _THREADS * _SPINS_PER_THREAD)))


def _stride_blocks(count, threads):
    """Blocks for a grid-stride kernel over ``count`` items."""
    return min(_MAX_BLOCKS, _blocks(count, threads))


def _configure(kernel, blocks, threads, stream):
    """``kernel[blocks, threads, stream]``, configured once per batch.

    Small grids are deliberate here (tiny batches, the per-echo sums), so
    numba's low-occupancy warning is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Grid size .* under-utilization")
        return kernel[blocks, threads, stream]


def _imaginary_part(spectra_im, real, stream):
    """The spectra's imaginary part on the device, or the (1, 1, 1) placeholder
    that tells the DFT kernel the spectra are real."""
    if spectra_im is None:
        return cuda.to_device(np.zeros((1, 1, 1), dtype=real), stream=stream)
    return spectra_im


class _DFTConvolution:
    """Mean fields by direct 2-D DFTs in numba-cuda kernels (runs in the simulator)."""

    def __init__(self, sxy, sz, spectra, couple_z, stream, spectra_im=None):
        n_echoes, shape = sz.shape[0], tuple(sz.shape[1:])
        n_sites = shape[0] * shape[1]
        real = np.dtype(sz.dtype)
        self.sxy, self.sz, self.spectra = sxy, sz, spectra
        self.spectra_im = _imaginary_part(spectra_im, real, stream)
        self.couple_z, self.stream = couple_z, stream
        n_fields = 2 * n_echoes if couple_z else n_echoes
        self.fields = cuda.device_array(
            (n_fields, *shape, 2), dtype=real, stream=stream
        )
        self.scratch = cuda.device_array(
            (n_fields, *shape, 2), dtype=real, stream=stream
        )

        def twiddles(n, sign):
            phase = np.exp(-2j * np.pi * np.arange(n) / n)  # exact in float64
            stacked = np.stack([phase.real, sign * phase.imag], axis=1)
            return cuda.to_device(stacked.astype(real), stream=stream)

        # (forward, inverse) twiddles of the passes along columns (n_rows
        # terms) and along rows (n_cols terms)
        self.columns = twiddles(shape[0], 1.0), twiddles(shape[0], -1.0)
        self.rows = twiddles(shape[1], 1.0), twiddles(shape[1], -1.0)
        self.one = real.type(1.0)
        self.inv_size = real.type(1.0 / n_sites)
        state_blocks = _stride_blocks(n_echoes * n_sites, _DFT_THREADS)
        field_blocks = _stride_blocks(n_fields * n_sites, _DFT_THREADS)
        self.pack = _configure(_dft_pack, state_blocks, _DFT_THREADS, stream)
        self.dft = _configure(_dft_pass, field_blocks, _DFT_THREADS, stream)
        self.unpack_z = _configure(_dft_unpack_z, state_blocks, _DFT_THREADS, stream)
        # after the four passes the result is back in `fields`: x + i y first
        self.wxy = self.fields[:n_echoes]
        self.wz = cuda.to_device(
            np.zeros((n_echoes, *shape), dtype=real), stream=stream
        )

    def __call__(self):
        a, b = self.fields, self.scratch
        spectra, im = self.spectra, self.spectra_im
        self.pack(self.sxy, self.sz, a, self.couple_z)
        # rows then columns forward (times the spectrum), columns then rows back
        (row_forward, row_inverse), (col_forward, col_inverse) = self.rows, self.columns
        self.dft(a, b, row_forward, True, spectra, im, False, self.one)
        self.dft(b, a, col_forward, False, spectra, im, True, self.one)
        self.dft(a, b, col_inverse, False, spectra, im, False, self.one)
        self.dft(b, a, row_inverse, True, spectra, im, False, self.inv_size)
        if self.couple_z:
            self.unpack_z(a, self.wz)


class _TorchConvolution:
    """Mean fields by cuFFT (torch.fft), on the numba arrays shared zero-copy."""

    def __init__(self, sxy, sz, spectra, couple_z, stream, spectra_im=None):
        torch = _torch_for_fft()
        n_echoes, shape = sz.shape[0], tuple(sz.shape[1:])
        if _SIMULATOR:  # a simulated device array wraps a host array: share that
            device = torch.device("cpu")

            def shared(array):
                return torch.from_numpy(array._ary)
        else:
            device = torch.device("cuda", cuda.get_current_device().id)

            def shared(array):
                return torch.as_tensor(array, device=device)

        complex_type = torch.complex64 if sz.dtype == np.float32 else torch.complex128
        self.shape, self.couple_z, self.stream = shape, couple_z, stream
        self.wxy = cuda.device_array(
            (n_echoes, *shape, 2), dtype=sz.dtype, stream=stream
        )
        self.wz = cuda.to_device(
            np.zeros((n_echoes, *shape), dtype=sz.dtype), stream=stream
        )
        stream.synchronize()  # the arrays are ready before torch reads them
        self.t_sxy = torch.view_as_complex(shared(sxy))
        self.t_sz = shared(sz)
        self.t_wxy = torch.view_as_complex(shared(self.wxy))
        self.t_wz = shared(self.wz)
        self.t_spectra = shared(spectra)
        if spectra_im is not None:  # a kernel that is not even
            self.t_spectra = torch.complex(self.t_spectra, shared(spectra_im))
        half = shape[1] // 2 + 1
        self.t_half = self.t_spectra[:, :, :half].contiguous()
        self.spectrum_xy = torch.empty(
            (n_echoes, *shape), dtype=complex_type, device=device
        )
        self.spectrum_z = torch.empty(
            (n_echoes, shape[0], half), dtype=complex_type, device=device
        )
        self.fft = torch.fft

    def __call__(self):
        fft = self.fft
        fft.fft2(self.t_sxy, out=self.spectrum_xy)
        self.spectrum_xy.mul_(self.t_spectra)
        fft.ifft2(self.spectrum_xy, out=self.t_wxy)
        if self.couple_z:
            fft.rfft2(self.t_sz, out=self.spectrum_z)
            self.spectrum_z.mul_(self.t_half)
            fft.irfft2(self.spectrum_z, s=self.shape, out=self.t_wz)


def _stream(method):
    """The stream the kernels use: torch's current one with cuFFT, so that
    kernels and FFTs are ordered."""
    if method == "torch" and not _SIMULATOR:
        torch = _torch_cuda()
        pointer = torch.cuda.current_stream(cuda.get_current_device().id).cuda_stream
        if pointer:
            return cuda.external_stream(pointer)
        return cuda.legacy_default_stream()
    return cuda.default_stream()


def simulate(batch):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch` on the GPU."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"The 'cuda' backend cannot run: {reason}")
    method = _fft_method()
    real = np.dtype(batch.dtype)
    cplx = np.result_type(real, np.complex64)
    check_lattice_shape(batch.lattice_shape)
    n_echoes, shape = batch.n_echoes, batch.lattice_shape
    couple_z = bool(np.any(np.asarray(batch.alpha_z) != 0))
    stream = _stream(method)

    def device(array, dtype=real):
        return cuda.to_device(np.ascontiguousarray(array, dtype=dtype), stream=stream)

    start = batch.initial_state()
    state_xy = np.empty((n_echoes, *shape, 2), dtype=real)
    state_xy[..., 0], state_xy[..., 1] = start[0], start[1]
    sxy = device(state_xy)
    sz = device(np.full((n_echoes, *shape), start[2]))
    spectra = device(np.real(batch.spectra))
    # a kernel that is not even under r -> -r has a complex spectrum
    spectra_im = (
        device(np.imag(batch.spectra)) if np.iscomplexobj(batch.spectra) else None
    )
    offsets = device(batch.offsets)
    alpha_x = device(batch.alpha_x)
    alpha_y = device(batch.alpha_y)
    alpha_z = device(batch.alpha_z)
    transverse_decay = device(batch.transverse_decay)
    longitudinal_decay = device(batch.longitudinal_decay)
    pulses = {
        step: device(rotation) for step, rotation in batch.pulses_after_start().items()
    }
    no_pulse = device(np.eye(3))
    convolve = (_TorchConvolution if method == "torch" else _DFTConvolution)(
        sxy, sz, spectra, couple_z, stream, spectra_im
    )

    n_chunks = _update_chunks(*shape)
    partials = cuda.device_array(
        (n_echoes, n_chunks, 3), dtype=np.float64, stream=stream
    )
    out = cuda.device_array(
        (n_echoes, batch.n_times, 3), dtype=np.float64, stream=stream
    )
    update = _configure(_update, (n_echoes, n_chunks), _THREADS, stream)
    per_echo = (_blocks(n_echoes, _FINALIZE_THREADS), _FINALIZE_THREADS, stream)
    finalize = _configure(_finalize, *per_echo)
    # Sample 0 is the state right after the pulses at t = 0, the same for every
    # nucleus, in the run's precision; the loop writes samples 1 and later.
    # Every sample of `out` is thus written before the copy reads it.
    first = [float(real.type(value)) for value in start]
    _configure(_first_sample, *per_echo)(out, *first)
    angle_per_mhz = real.type(2 * np.pi * batch.dt)
    one, half = real.type(1.0), real.type(0.5)
    scale = 1.0 / (shape[0] * shape[1])
    for k in range(1, batch.n_times):
        convolve()
        update(
            sxy,
            sz,
            convolve.wxy,
            convolve.wz,
            offsets,
            alpha_x,
            alpha_y,
            alpha_z,
            angle_per_mhz,
            transverse_decay,
            longitudinal_decay,
            one,
            half,
            pulses.get(k, no_pulse),
            k in pulses,
            partials,
        )
        finalize(partials, out, k, scale)
    result = out.copy_to_host(stream=stream)
    stream.synchronize()

    mxy = (result[:, :, 0] + 1j * result[:, :, 1]).astype(cplx)
    mz = result[:, :, 2].astype(real)
    return mxy, mz
