"""The numba backend's step against the floor set by its FFTs.

One step of the numba backend is the mean-field convolution (a complex 2-D
FFT of ``x + i y``, one of ``z``, both multiplied by the kernel spectra and
transformed back) followed by the fused per-spin update. This benchmark
times, on one thread and a batch of echoes (default 8, 100 x 100), in
float32 and float64:

* the convolutions alone with each FFT available here (``scipy.fft``,
  torch's CPU FFT, and pyFFTW or ducc0 when installed): the *floor* is the
  fastest of them;
* a whole step of the generalised backend (anisotropic couplings, T1 and
  T2 on, the z convolution on) with each of the backend's FFT methods.

It prints microseconds per echo and step, the ratio of each whole step to
the floor (the target is at most 1.25 for the backend's default), the speed
of torch's step over scipy's, and the largest difference between their
fields. All figures come from this one run.

Run: ``python benchmarks/bench_fft.py [--lattice-size 100] [--batch 8]``.
"""

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.fft as sfft  # noqa: E402

from sknmr._backends import numba_backend as nb  # noqa: E402


def _best_times(functions, repeat, number):
    """The fastest of ``repeat`` timings of each function, interleaved.

    The functions take turns, so a slow spell of a shared machine hits all
    of them alike instead of one.
    """
    for function in functions.values():
        function()  # warm up (plans, compilation)
    best = dict.fromkeys(functions, np.inf)
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(number):
                function()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return best


def convolutions(state, spectra, half, n):
    """Each available FFT's convolution of x + i y and z, as callables."""
    sxy, sz = state
    out = {}

    def scipy_conv():
        a = sfft.fft2(sxy, workers=1)
        a *= spectra
        sfft.ifft2(a, overwrite_x=True, workers=1)
        b = sfft.rfft2(sz, workers=1)
        b *= half
        sfft.irfft2(b, s=(n, n), overwrite_x=True, workers=1)

    out["scipy.fft"] = scipy_conv
    try:
        import torch

        torch.set_num_threads(1)
        t_xy, t_z = torch.from_numpy(sxy), torch.from_numpy(sz)
        t_s, t_h = torch.from_numpy(spectra), torch.from_numpy(half)

        # outputs written into buffers made once (the inverse in place): the
        # fastest way found here, fresh outputs cost page faults
        a, b = torch.empty_like(t_xy), torch.empty(t_h.shape, dtype=t_xy.dtype)
        z_out = torch.empty_like(t_z)

        def torch_conv():
            torch.fft.fft2(t_xy, out=a)
            a.mul_(t_s)
            torch.fft.ifft2(a, out=a)
            torch.fft.rfft2(t_z, out=b)
            b.mul_(t_h)
            torch.fft.irfft2(b, s=(n, n), out=z_out)

        out["torch"] = torch_conv
    except ImportError:
        pass
    try:
        import pyfftw.interfaces.numpy_fft as fftw

        def fftw_conv():
            a = fftw.fft2(sxy, threads=1)
            a *= spectra
            fftw.ifft2(a, threads=1)
            b = fftw.rfft2(sz, threads=1)
            b *= half
            fftw.irfft2(b, s=(n, n), threads=1)

        out["pyfftw"] = fftw_conv
    except ImportError:
        pass
    try:
        import ducc0

        def ducc_conv():
            a = ducc0.fft.c2c(sxy, axes=(1, 2), forward=True, nthreads=1)
            a *= spectra
            ducc0.fft.c2c(a, axes=(1, 2), forward=False, inorm=2, nthreads=1)
            b = ducc0.fft.r2c(sz, axes=(1, 2), forward=True, nthreads=1)
            b *= half
            ducc0.fft.c2r(
                b, axes=(1, 2), lastsize=n, forward=False, inorm=2, nthreads=1
            )

        out["ducc0"] = ducc_conv
    except ImportError:
        pass
    return out


def backend_step(method, state, spectra, half, n, dtype):
    """A whole step of the numba backend with FFT ``method``, as a callable."""
    rng = np.random.default_rng(1)
    batch = spectra.shape[0]
    sxy, sz = (a.copy() for a in state)
    convolution = (nb._TorchConvolution if method == "torch" else nb._ScipyConvolution)(
        spectra, half, n
    )
    offsets = (0.05 * rng.standard_normal((batch, n, n))).astype(dtype)
    alpha_x = np.full(batch, 0.12, dtype)
    alpha_y = np.full(batch, 0.08, dtype)
    alpha_z = np.full(batch, 0.05, dtype)
    e2 = np.full(batch, np.exp(-0.16 / 300.0), dtype)
    e1 = np.full(batch, np.exp(-0.16 / 900.0), dtype)
    angle = dtype(2 * np.pi / (2 * np.pi))
    n_spins = n * n
    sums = nb.initial_sums(batch, n_spins)
    scratch = np.empty((5, min(nb._SEGMENT, n_spins)), dtype=dtype)
    k = nb.constants(dtype)

    def flat(a):
        return a.reshape(batch, n_spins)

    def step():
        wxy = convolution.xy(sxy)
        wz = convolution.z(sz)
        nb._step(
            flat(sxy),
            flat(sz),
            flat(wxy),
            flat(wz),
            flat(offsets),
            alpha_x,
            alpha_y,
            alpha_z,
            angle,
            e2,
            e1,
            sums,
            scratch,
            k,
        )

    return step, convolution


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lattice-size", type=int, default=100)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=20)
    args = parser.parse_args(argv)
    n, batch = args.lattice_size, args.batch
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"cores; one thread; batch {batch}, {n} x {n}; default FFT of the numba "
        f"backend here: {nb.fft_method()}"
    )
    rng = np.random.default_rng(0)
    for real in (np.float32, np.float64):
        cplx = np.result_type(real, np.complex64)
        state = (
            (0.3 * (rng.random((batch, n, n)) + 1j * rng.random((batch, n, n)))).astype(
                cplx
            ),
            (0.3 * rng.random((batch, n, n))).astype(real),
        )
        spectra = rng.random((batch, n, n)).astype(real)
        half = np.ascontiguousarray(spectra[:, :, : n // 2 + 1])
        per_echo = 1e6 / batch
        functions = {
            f"conv {name}": f
            for name, f in convolutions(state, spectra, half, n).items()
        }
        methods = ["scipy"] + (["torch"] if "conv torch" in functions else [])
        fields = {}
        for method in methods:
            step, convolution = backend_step(method, state, spectra, half, n, real)
            functions[f"step {method}"] = step
            fields[method] = convolution.xy(state[0].copy()).copy()
        times = {
            k: t * per_echo
            for k, t in _best_times(functions, args.repeat, args.number).items()
        }
        conv = {k[5:]: t for k, t in times.items() if k.startswith("conv ")}
        steps = {k[5:]: t for k, t in times.items() if k.startswith("step ")}
        floor_name = min(conv, key=conv.get)
        floor = conv[floor_name]
        print(f"\n{np.dtype(real).name}: convolutions alone (us per echo and step)")
        for name, t in conv.items():
            print(f"  {name:10s} {t:8.1f}  ({t / floor:.2f} x the floor)")
        print("  whole numba step, generalised model (us per echo and step)")
        for method, t in steps.items():
            print(
                f"  {method:10s} {t:8.1f}  ({t / floor:.2f} x the floor of "
                f"{floor_name}; target <= 1.25 for the default)"
            )
        if "torch" in steps:
            print(
                f"  torch step over scipy step: {steps['scipy'] / steps['torch']:.2f}x "
                f"faster; largest field difference "
                f"{np.max(np.abs(fields['torch'] - fields['scipy'])):.1e}"
            )


if __name__ == "__main__":
    main()
