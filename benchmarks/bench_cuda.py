"""GPU benchmark of the ``cuda`` backend (target: 15000 paper echoes < 60 s).

Run on a machine with an NVIDIA GPU::

    python benchmarks/bench_cuda.py                 # agreement + throughput
    python benchmarks/bench_cuda.py --full          # also the real 15000 echoes
    python benchmarks/bench_cuda.py --json out.json # keep the numbers

It reports

1. agreement with the CPU ``numba`` backend on a few paper-size echoes
   (100x100, 1884 steps): float32 and float64, for each convolution method
   (``torch`` = cuFFT, ``dft`` = direct DFT kernels), and whether a table
   split into batches differently gives bit-identical echoes;
2. the time per step of the convolution alone and of the spin update,
   per method and batch size, to choose the default ``FFT_METHOD``;
3. echoes per second for several batch sizes, the 15000-echo time this
   extrapolates to, and the GPU memory a batch takes.

Without a usable GPU it exits with a message saying so.
"""

import argparse
import functools
import json
import sys
import time

import numpy as np

from sknmr import EchoSimulator
from sknmr._backends import cuda_backend
from sknmr._physics import draw_offsets, echo_rng
from sknmr.kernels import kernel_spectrum
from sknmr.prior import sample_prior

PAPER_ECHOES = 15000
COLUMNS = ["kernel", "length", "alpha_xy", "alpha_z"]
# Lattice and echo length; the command line may shrink them (--lattice-size,
# --tau, --full-echoes; hidden) only to check this script itself, which
# tests/test_cuda_backend.py does under numba's CUDA simulator.
SIZE = {"lattice_size": 100, "tau": 100.0}


def _prior(n, seed):
    return sample_prior(n, random_state=seed)[COLUMNS].reset_index(drop=True)


def _simulator(**settings):
    return EchoSimulator(**SIZE, **settings)


def _methods(requested):
    usable = ["dft"]
    if cuda_backend._torch_for_fft() is not None:
        usable.insert(0, "torch")
    else:
        print("  (torch cannot use the GPU here: only the 'dft' method is measured)")
    return [m for m in requested if m in usable]


def _sync():
    cuda_backend.cuda.synchronize()
    torch = cuda_backend._torch_cuda()
    if torch is not None:
        torch.cuda.synchronize()


def agreement(methods, n_echoes, seed):
    print(f"\n== agreement with the numba backend ({n_echoes} paper echoes) ==")
    params = _prior(n_echoes, seed)
    results = {}
    for dtype, tolerance in [("float64", 1e-9), ("float32", 1e-4)]:
        settings = dict(random_state=seed, dtype=dtype, output="complex")
        reference = _simulator(backend="numba", n_jobs=-1, **settings).simulate(params)
        for method in methods:
            cuda_backend.FFT_METHOD = method
            got = _simulator(backend="cuda", **settings).simulate(params)
            error = float(np.max(np.abs(got - reference)))
            ok = error < tolerance
            results[f"{method}_{dtype}"] = {
                "max_abs_error": error,
                "tolerance": tolerance,
                "ok": ok,
            }
            print(
                f"  {method:5s} {dtype}: max |M_gpu - M_cpu| = {error:.2e} "
                f"(tolerance {tolerance:.0e}) {'OK' if ok else 'FAIL'}"
            )
    # Same echoes in other batches: are they bit-identical (cuFFT plans differ
    # with the batch count)?
    for method in methods:
        cuda_backend.FFT_METHOD = method
        whole = _simulator(
            backend="cuda", random_state=seed, batch_size=n_echoes
        ).simulate(params)
        split = _simulator(backend="cuda", random_state=seed, batch_size=1).simulate(
            params
        )
        same = bool(np.array_equal(whole, split))
        results[f"{method}_batch_independent"] = same
        gap = float(np.max(np.abs(whole - split)))
        verdict = "bit-identical" if same else f"differ by {gap:.1e}"
        print(f"  {method:5s} float32 batch of {n_echoes} vs batches of 1: {verdict}")
    return results


def _seconds_per_call(function, repeats):
    """Mean wall time of ``function()`` on the GPU, after one warm-up call."""
    function()
    _sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        function()
    _sync()
    return (time.perf_counter() - t0) / repeats


def _inputs(params, seed):
    """Kernel spectra, offsets and couplings of a batch, as EchoSimulator makes them."""
    n = SIZE["lattice_size"]
    spectra = np.stack(
        [
            kernel_spectrum(k, x, n)
            for k, x in zip(params["kernel"], params["length"], strict=True)
        ]
    )
    offsets = np.stack(
        [
            draw_offsets(echo_rng(seed, i), (n, n), 0.08, 0.25)
            for i in range(len(params))
        ]
    )
    return spectra, offsets, params["alpha_xy"].to_numpy(), params["alpha_z"].to_numpy()


def step_timings(methods, batch_sizes, repeats, seed):
    n = SIZE["lattice_size"]
    print(f"\n== time per step ({n}x{n}, float32, mean of {repeats} steps) ==")
    cuda = cuda_backend.cuda
    results = {}
    for size in batch_sizes:
        spectra_host, offsets, alpha_xy, alpha_z = _inputs(_prior(size, seed), seed)
        real = np.float32
        start = np.array([0.0, 0.5, 0.0])  # after the 90 degree pulse
        state = np.empty((size, n, n, 2), real)
        state[..., 0], state[..., 1] = start[0], start[1]
        for method in methods:
            stream = cuda_backend._stream(method)
            sxy = cuda.to_device(state, stream=stream)
            sz = cuda.to_device(np.full((size, n, n), start[2], real), stream=stream)
            spectra = cuda.to_device(spectra_host.astype(real), stream=stream)
            convolve = (
                cuda_backend._TorchConvolution
                if method == "torch"
                else cuda_backend._DFTConvolution
            )(sxy, sz, spectra, True, stream)
            per_step = _seconds_per_call(convolve, repeats)
            per_echo = per_step / size
            results[f"{method}_B{size}_convolution_s"] = per_step
            print(
                f"  B={size:5d} {method:5s} convolution (x, y and z): "
                f"{per_step * 1e6:9.1f} us/step = {per_echo * 1e9:8.1f} ns/echo-step"
            )
        # the update + reduction alone (method independent)
        stream = cuda_backend._stream(methods[0])
        arrays = [
            cuda.to_device(a, stream=stream)
            for a in (
                state,
                np.full((size, n, n), start[2], real),
                np.zeros((size, n, n, 2), real),
                np.zeros((size, n, n), real),
                offsets.astype(real),
                alpha_xy.astype(real),  # alpha_x
                alpha_xy.astype(real),  # alpha_y
                alpha_z.astype(real),
            )
        ]
        no_relaxation = [cuda.to_device(np.ones(size, real), stream=stream)] * 2
        refocus = cuda.to_device(np.diag([-1.0, 1.0, -1.0]).astype(real), stream=stream)
        n_chunks = cuda_backend._update_chunks(n)
        partials = cuda.device_array((size, n_chunks, 3), np.float64, stream=stream)
        out = cuda.device_array((size, 8, 3), np.float64, stream=stream)
        update = cuda_backend._configure(
            cuda_backend._update, (size, n_chunks), cuda_backend._THREADS, stream
        )
        finalize = cuda_backend._configure(
            cuda_backend._finalize,
            cuda_backend._blocks(size, cuda_backend._FINALIZE_THREADS),
            cuda_backend._FINALIZE_THREADS,
            stream,
        )
        # angle per MHz (dt = 1/(2 pi)), no T2 and no T1, then one and a half
        scalars = (real(1.0), *no_relaxation, real(1.0), real(0.5))
        step = functools.partial(
            _update_step, update, finalize, arrays, scalars, refocus, partials, out, n
        )
        per_step = _seconds_per_call(step, repeats)
        results[f"B{size}_update_s"] = per_step
        print(
            f"  B={size:5d} update + sums             : "
            f"{per_step * 1e6:9.1f} us/step = {per_step / size * 1e9:8.1f} ns/echo-step"
        )
    return results


def _update_step(update, finalize, arrays, scalars, refocus, partials, out, n):
    update(*arrays, *scalars, refocus, False, partials)
    finalize(partials, out, 1, 1.0 / (n * n))


def _timed_with_memory(run):
    """Seconds of ``run()``, the device bytes it holds at its end (numba's frees
    deferred) and torch's peak allocation."""
    cuda = cuda_backend.cuda
    torch = cuda_backend._torch_cuda()
    _sync()
    if torch is not None:
        torch.cuda.reset_peak_memory_stats()
        torch_before = torch.cuda.memory_allocated()
    free_before = cuda.current_context().get_memory_info().free
    with cuda.defer_cleanup():  # keep the batch's numba arrays counted until here
        t0 = time.perf_counter()
        run()
        _sync()
        seconds = time.perf_counter() - t0
        free_after = cuda.current_context().get_memory_info().free
    torch_peak = torch.cuda.max_memory_allocated() - torch_before if torch else 0
    return seconds, free_before - free_after, torch_peak


def throughput(methods, batch_sizes, seed):
    n, steps = SIZE["lattice_size"], _simulator().n_times
    print(
        f"\n== throughput ({n}x{n}, {steps} samples, float32, EchoSimulator "
        "end to end) =="
    )
    results = {}
    # compile every kernel once (small lattice, few steps)
    for method in methods:
        cuda_backend.FFT_METHOD = method
        EchoSimulator(
            backend="cuda", lattice_size=8, tau=2.0, random_state=seed
        ).simulate(_prior(2, seed))
    for method in methods:
        cuda_backend.FFT_METHOD = method
        for size in batch_sizes:
            params = _prior(size, seed)
            simulator = _simulator(backend="cuda", random_state=seed, batch_size=size)
            seconds, used, torch_peak = _timed_with_memory(
                functools.partial(simulator.simulate, params)
            )
            rate = size / seconds
            full = PAPER_ECHOES / rate
            results[f"{method}_B{size}"] = {
                "seconds": seconds,
                "echoes_per_s": rate,
                "extrapolated_15000_s": full,
                "device_bytes": used,
                "torch_peak_bytes": torch_peak,
            }
            print(
                f"  {method:5s} B={size:5d}: {seconds:7.2f} s, {rate:8.1f} echoes/s, "
                f"15000 echoes ~ {full:7.1f} s; device memory ~ "
                f"{used / 2**20:7.0f} MiB (torch peak {torch_peak / 2**20:.0f} MiB)"
            )
    return results


def full_run(seed, n_echoes=PAPER_ECHOES):
    print(f"\n== the whole paper dataset: {n_echoes} echoes, default settings ==")
    simulator = _simulator(backend="cuda", random_state=seed)
    t0 = time.perf_counter()
    echoes, _ = simulator.sample(n_echoes)
    seconds = time.perf_counter() - t0
    print(
        f"  {echoes.shape} in {seconds:.1f} s (FFT_METHOD={cuda_backend.FFT_METHOD!r}, "
        f"batch_size={cuda_backend.default_batch_size}); target < 60 s, aim 10 s"
    )
    return {"n_echoes": n_echoes, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[64, 256, 512, 1024, 2048]
    )
    parser.add_argument(
        "--methods", nargs="+", default=["torch", "dft"], choices=["torch", "dft"]
    )
    parser.add_argument("--agreement-echoes", type=int, default=3)
    parser.add_argument("--step-repeats", type=int, default=50)
    parser.add_argument(
        "--full",
        action="store_true",
        help="also simulate the 15000 paper echoes for real",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the numbers to this file")
    parser.add_argument("--lattice-size", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--tau", type=float, default=100.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--full-echoes", type=int, default=PAPER_ECHOES, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--allow-simulator", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    SIZE.update(lattice_size=args.lattice_size, tau=args.tau)

    if not cuda_backend.is_available():
        sys.exit(
            f"bench_cuda: no GPU to benchmark: {cuda_backend.unavailable_reason()}"
        )
    if cuda_backend._SIMULATOR and not args.allow_simulator:
        sys.exit(
            "bench_cuda: NUMBA_ENABLE_CUDASIM is set; timings of the simulator mean "
            "nothing. Unset it and run on a GPU."
        )
    cuda = cuda_backend.cuda
    device = cuda.get_current_device()
    name = getattr(device, "name", "numba CUDA simulator")
    name = name.decode() if isinstance(name, bytes) else str(name)
    try:
        from numba_cuda import __version__ as version
    except ImportError:
        version = "?"
    print(f"GPU: {name}; numba-cuda {version}")
    methods = _methods(args.methods)
    if not methods:
        sys.exit("bench_cuda: none of the requested methods can run here.")
    default_method = cuda_backend._fft_method()
    report = {"gpu": name, "default_fft_method": default_method}
    report["agreement"] = agreement(methods, args.agreement_echoes, args.seed)
    report["steps"] = step_timings(
        methods,
        [b for b in args.batch_sizes if b <= 1024] or args.batch_sizes[:1],
        args.step_repeats,
        args.seed,
    )
    report["throughput"] = throughput(methods, args.batch_sizes, args.seed)
    best = min(
        report["throughput"].items(), key=lambda kv: kv[1]["extrapolated_15000_s"]
    )
    print(
        f"\nbest: {best[0]}: 15000 echoes ~ {best[1]['extrapolated_15000_s']:.1f} s "
        f"(defaults now: FFT_METHOD auto -> {default_method!r}, "
        f"batch_size {cuda_backend.default_batch_size})"
    )
    if args.full:
        cuda_backend.FFT_METHOD = "auto"
        report["full"] = full_run(args.seed, args.full_echoes)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    failed = [
        k for k, v in report["agreement"].items() if isinstance(v, dict) and not v["ok"]
    ]
    if failed:
        sys.exit(f"bench_cuda: GPU and CPU disagree: {failed}")


if __name__ == "__main__":
    main()
