"""The numba backend's step against the floor set by its FFTs.

One step of the numba backend is the mean-field convolution (a complex 2-D
FFT of ``x + i y``, one of ``z``, both multiplied by the kernel spectra and
transformed back) followed by the fused per-spin update. This benchmark
times, on one thread and a batch of echoes (default 8, 100 x 100), in
float32 and float64:

* the convolutions alone with each FFT available here (``scipy.fft``,
  torch's CPU FFT, and pyFFTW or ducc0 when installed): the *floor* is the
  fastest of them;
* whole steps of the backend (its own step: anisotropic couplings, T1 and
  T2 on, the z convolution on) with each FFT, the batch transformed whole
  or in pieces of fewer echoes (as the backend may choose);
* the backend's default here, "auto": the FFT and echoes per transform it
  measured on this machine for this lattice (measured now if not yet
  remembered; ``SKNMR_NUMBA_TUNING=off`` gives the fixed default).

It prints microseconds per echo and step, the ratio of each whole step to
the floor (the target is at most 1.25 for the default), the speed of
torch's step over scipy's, the largest difference between their fields, and
the tuning's own measurement. All figures but the last come from this one
run.

Run: ``python benchmarks/bench_fft.py [--lattice-size 100] [--batch 8]``.
"""

import argparse
import itertools
import json
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


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def backend_step(method, dtype, n, n_echoes, per_transform=None):
    """Whole steps of the numba backend on ``n_echoes`` paper-like echoes.

    The backend's own step (``_Group``: anisotropic couplings, the z
    convolution, T1 and T2 on) with FFT ``method``, the echoes cut into
    pieces of at most ``per_transform`` as a thread of the backend does.
    Returns the callable and the first piece's convolution.
    """
    batch = nb._random_batch(np.dtype(dtype), (n, n), n_echoes)
    pieces = 1 if per_transform is None else -(-n_echoes // per_transform)
    groups = [
        nb._Group(batch, rows, method)
        for rows in np.array_split(np.arange(n_echoes), pieces)
    ]
    counter = itertools.count()

    def step():
        k = 1 + next(counter) % (batch.n_times - 1)
        for group in groups:
            group.step(k)

    return step, groups[0].convolution


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
        f"cores; one thread; batch {batch}, {n} x {n}"
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
        # what "auto" chose on this machine (measured now if not yet remembered)
        method, per_transform = nb.tuned(real, (n, n))
        auto = f"auto: {method}, {per_transform or 'all'} per transform"
        sizes = (batch, *(g for g in nb.ECHOES_PER_TRANSFORM if g < batch))
        functions = {}
        for size in sizes:  # the floor: the convolutions as the steps cut them
            pieces = np.array_split(np.arange(batch), -(-batch // size))
            parts = [
                convolutions([a[rows] for a in state], spectra[rows], half[rows], n)
                for rows in pieces
            ]
            for name in parts[0]:
                functions[f"conv {name}, {size} per transform"] = (
                    lambda fs=[p[name] for p in parts]: [f() for f in fs]
                )
        methods = ["scipy"] + (["torch"] if _has_torch() else [])
        fields = {}
        for m in methods:
            for size in sizes:
                step, convolution = backend_step(m, real, n, batch, size)
                functions[f"step {m}, {size} per transform"] = step
                sxy = state[0][: len(convolution.spectra)]
                fields[m] = convolution.xy(sxy).copy()
        functions[f"step {auto}"] = backend_step(method, real, n, batch, per_transform)[
            0
        ]
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
            print(f"  {name:32s} {t:8.1f}  ({t / floor:.2f} x the floor)")
        print("  whole numba step, generalised model (us per echo and step)")
        for name, t in steps.items():
            print(
                f"  {name:32s} {t:8.1f}  ({t / floor:.2f} x the floor of {floor_name})"
            )
        print(
            f"  {auto} (the backend's default here): "
            f"{steps[auto] / floor:.2f} x the floor; target <= 1.25"
        )
        whole = f"{batch} per transform"
        if "torch" in methods:
            ratio = steps[f"scipy, {whole}"] / steps[f"torch, {whole}"]
            difference = np.max(np.abs(fields["torch"] - fields["scipy"]))
            print(
                f"  torch step over scipy step ({whole}): {ratio:.2f}x faster; "
                f"largest field difference {difference:.1e}"
            )
        seconds = [
            entry["seconds"]
            for question, entry in nb._tuning.entries().items()
            if json.loads(question).get("shape") == [n, n]
            and json.loads(question).get("dtype") == np.dtype(real).name
            and json.loads(question).get("fft") == nb.FFT_METHOD
        ]
        if seconds:
            measured = ", ".join(f"{c} {t * 1e6:.1f}" for c, t in seconds[0].items())
            print(f"  the tuning's own measurement (us per echo and step): {measured}")


if __name__ == "__main__":
    main()
