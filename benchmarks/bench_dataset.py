"""Time to make the paper's dataset (15000 echoes) with ``make_echoes``.

Measures a fraction of the dataset (``--n-echoes``, default 24) at the
paper's settings (100 x 100 lattice, 1884 steps, numba backend), with
``make_echoes`` running 1 and 2 chunks at once (``--jobs``), and
extrapolates to 15000 echoes. For the same table it also times the bare
``EchoSimulator.simulate`` (one process), so the overhead of chunking, the
per-echo prior and joblib shows as a ratio. All ratios come from this one
run; the target is under 1 hour on a 2-core machine.

Run: ``python benchmarks/bench_dataset.py [--n-echoes 24] [--jobs 1 2]``
(``--lattice-size 16 --tau 10`` for a quick smoke run). ``--compare-fft``
runs the measurement once per FFT of the numba backend (``scipy`` and
``torch``, each in a fresh process so that the worker processes use it),
alternating them ``--rounds`` times so that a slow spell of a shared
machine hits both alike, and prints the ratio of their best times.
"""

import argparse
import math
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np

from sknmr import EchoSimulator
from sknmr.datasets import make_echoes
from sknmr.prior import PARAM_COLUMNS

PAPER_TOTAL = 15000
TARGET_S = 3600.0  # the target: under 1 hour on a 2-core machine


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-echoes", type=int, default=24, help="echoes measured (all kernels)"
    )
    parser.add_argument(
        "--jobs", type=int, nargs="+", default=[1, 2], help="make_echoes n_jobs values"
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="echoes per chunk (default: each kernel's echoes split evenly "
        "over the largest n_jobs)",
    )
    parser.add_argument("--backend", default="numba")
    parser.add_argument("--lattice-size", type=int, default=100)
    parser.add_argument("--tau", type=float, default=100.0)
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default=None,
        help="simulation dtype (default: the backend's)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="numba threads per chunk (default 1)"
    )
    parser.add_argument(
        "--fft",
        choices=["auto", "scipy", "torch"],
        default=None,
        help="FFT of the numba backend (sets SKNMR_NUMBA_FFT for this process "
        "and its workers)",
    )
    parser.add_argument(
        "--compare-fft",
        action="store_true",
        help="run once with each FFT of the numba backend and print the ratio",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --compare-fft: how many times each FFT runs, alternating "
        "(the fastest run of each is kept)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip timing the bare EchoSimulator.simulate",
    )
    return parser.parse_args(argv)


def compare_fft(argv, rounds=1):
    """Run this benchmark with each FFT, each in its own process, alternating
    ``rounds`` times; print the ratio of the fastest runs."""
    argv = [a for a in argv if a != "--compare-fft"]
    best = {}
    for round_ in range(rounds):
        for method in ("scipy", "torch"):
            print(
                f"\n===== numba backend with the {method} FFT (round {round_ + 1} of "
                f"{rounds}) =====",
                flush=True,
            )
            done = subprocess.run(
                [sys.executable, __file__, *argv, "--fft", method],
                capture_output=True,
                text=True,
                check=True,
            )
            print(done.stdout, end="")
            found = re.search(
                r"for \d+ echoes at these settings: ([\d.]+) min", done.stdout
            )
            best[method] = min(best.get(method, math.inf), float(found.group(1)))
    print(
        f"\n15000 echoes (fastest of {rounds} runs each): scipy.fft "
        f"{best['scipy']:.1f} min, torch {best['torch']:.1f} min: torch "
        f"{best['scipy'] / best['torch']:.2f}x faster (target >= 1.3)"
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.compare_fft:
        return compare_fft(argv, args.rounds)
    if args.fft is not None:
        os.environ["SKNMR_NUMBA_FFT"] = args.fft  # inherited by the workers
        from sknmr._backends import numba_backend

        numba_backend.FFT_METHOD = args.fft
    n = args.n_echoes
    sim = EchoSimulator(
        lattice_size=args.lattice_size,
        tau=args.tau,
        backend=args.backend,
        n_jobs=args.threads,
        dtype=args.dtype,
    )
    per_kernel = math.ceil(n / 3)
    chunk_size = args.chunk_size or math.ceil(per_kernel / max(args.jobs))
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"measuring {n} echoes: lattice {sim.lattice_size}x{sim.lattice_size}, "
        f"{sim.n_times} steps, backend {sim.backend}, "
        f"dtype {args.dtype or 'default'}, chunk_size {chunk_size}, "
        f"numba threads per chunk {args.threads or 1}, numba FFT "
        f"{args.fft or os.environ.get('SKNMR_NUMBA_FFT', 'auto')}"
    )

    # Warm up: numba compilation (or its cache) and the worker processes,
    # which joblib reuses between calls with the same n_jobs.
    warm = EchoSimulator(
        lattice_size=8, tau=2.0, backend=args.backend, dtype=args.dtype
    )
    for jobs in args.jobs:
        make_echoes(n_samples=2 * jobs * 3, simulator=warm, chunk_size=1, n_jobs=jobs)

    results = {}
    reference = None
    for jobs in args.jobs:
        start = time.perf_counter()
        bunch = make_echoes(
            n_samples=n,
            simulator=sim,
            random_state=0,
            n_jobs=jobs,
            chunk_size=chunk_size,
        )
        elapsed = time.perf_counter() - start
        results[jobs] = elapsed
        if reference is None:
            reference = bunch
        identical = np.array_equal(bunch.data, reference.data)
        rate = n / elapsed
        print(
            f"n_jobs={jobs}: {elapsed:.2f} s, {rate:.3f} echoes/s, "
            f"15000 such echoes in {PAPER_TOTAL / rate / 60:.1f} min "
            f"({PAPER_TOTAL / rate / TARGET_S:.2f} x the 1 h target); "
            f"same echoes as n_jobs={args.jobs[0]}: {identical}"
        )

    first = args.jobs[0]
    for jobs in args.jobs[1:]:
        print(
            f"speed-up n_jobs={jobs} over n_jobs={first}: "
            f"{results[first] / results[jobs]:.2f}x"
        )
    if not args.no_baseline:
        table = reference.target[list(PARAM_COLUMNS)]
        start = time.perf_counter()
        sim.set_params(random_state=reference.settings["seed"]).simulate(
            table, echo_ids=reference.echo_ids
        )
        bare = time.perf_counter() - start
        if 1 in results:
            ratio = f"make_echoes(n_jobs=1) / bare: {results[1] / bare:.3f}"
        else:
            ratio = "(run --jobs 1 for the overhead ratio)"
        print(
            f"bare EchoSimulator.simulate of the same {n} echoes: {bare:.2f} s; {ratio}"
        )
    best = min(results.values())
    print(
        f"best estimate for {PAPER_TOTAL} echoes at these settings: "
        f"{PAPER_TOTAL * best / n / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
