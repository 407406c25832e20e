"""Time echoes on 3-D and triangular lattices beside the 100 x 100 square one.

Run: ``python benchmarks/bench_lattices.py [--tau 10] [--batch 8] [--n-jobs 2]
[--compare-default] [--profile]``

Every lattice holds about as many nuclei as the paper's 100 x 100 square
lattice (10 000): the triangular 100 x 100, the simple cubic-like 22 x 22 x 21
(10 164) and 20 x 20 x 25 (10 000, better factored for the FFT), and 4 square
layers of 50 x 50. The same table of echoes (the paper's prior) is simulated on
each with the numba backend; runs are interleaved and repeated
(``--repeat``), the fastest kept, so the ratios compare like with like on the
same machine and load. The figure of merit is the time per nucleus and step
relative to the square lattice's.

The backend's default FFT and echoes per transform are measured per lattice
shape on this machine (printed as "auto"); ``--compare-default`` also runs,
interleaved, the fixed default (torch's FFT on a thread's whole share of a
batch, what ``SKNMR_NUMBA_TUNING=off`` gives). ``--profile`` first times,
on one thread and 8 echoes, where a step's time goes on each lattice: each
FFT's convolutions of ``x + i y`` and of ``z`` (transform, product,
inverse) and the spin update, in ns per nucleus.
"""

import argparse
import os
import time

import numpy as np

from sknmr import EchoSimulator
from sknmr._backends import _tuning
from sknmr._backends import numba_backend as nb
from sknmr.lattices import Lattice
from sknmr.prior import PARAM_COLUMNS, sample_prior

LATTICES = {
    "square 100 x 100": Lattice.square(100),
    "triangular 100 x 100": Lattice.triangular(100),
    "cubic 22 x 22 x 21": Lattice([[1, 0, 0], [0, 1, 0], [0, 0, 1]], (22, 22, 21)),
    "cubic 20 x 20 x 25": Lattice([[1, 0, 0], [0, 1, 0], [0, 0, 1]], (20, 20, 25)),
    "tetragonal 50 x 50 x 4 (c=2)": Lattice.tetragonal(50, 4, c=2.0),
}


def _best_times(functions, repeat):
    """The fastest of ``repeat`` calls of each function, interleaved."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def profile(dtype, repeat, n_echoes=8):
    """ns per nucleus and echo of each part of a step, on one thread."""
    functions = {}
    with nb._torch_threads("torch"):
        for name, lattice in LATTICES.items():
            batch = nb._random_batch(np.dtype(dtype), lattice.shape, n_echoes)
            rows = np.arange(n_echoes)
            for method in ("torch", "scipy"):
                group = nb._Group(batch, rows, method)
                group.step(1)
                conv = group.convolution
                functions[name, f"{method} xy"] = lambda c=conv, g=group: c.xy(g.sxy)
                functions[name, f"{method} z"] = lambda c=conv, g=group: c.z(g.sz)
            flat = group.flat_z.shape
            wxy = conv.xy(group.sxy).reshape(flat).copy()
            wz = conv.z(group.sz).reshape(flat).copy()

            def update(g=group, wxy=wxy, wz=wz):
                nb._step(
                    g.flat_xy,
                    g.flat_z,
                    wxy,
                    wz,
                    g.flat_offsets,
                    g.alpha_x,
                    g.alpha_y,
                    g.alpha_z,
                    g.angle_per_mhz,
                    g.transverse_decay,
                    g.longitudinal_decay,
                    g.sums,
                    g.scratch,
                    g.k_real,
                )

            functions[name, "update"] = update
        for function in functions.values():
            function()
        best = _best_times(functions, repeat)
    parts = ["torch xy", "torch z", "scipy xy", "scipy z", "update"]
    print(
        f"\nWhere a step's time goes ({dtype}, one thread, {n_echoes} echoes, "
        f"best of {repeat}; ns per nucleus and echo)"
    )
    print(f"{'lattice':30s}" + "".join(f"{p:>10s}" for p in parts) + f"{'best':>8s}")
    for name, lattice in LATTICES.items():
        per = {p: best[name, p] / (n_echoes * lattice.n_sites) * 1e9 for p in parts}
        fastest = min(
            per[f"{m} xy"] + per[f"{m} z"] + per["update"] for m in ("torch", "scipy")
        )
        print(
            f"{name:30s}"
            + "".join(f"{per[p]:10.2f}" for p in parts)
            + f"{fastest:8.2f}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tau", type=float, default=10.0, help="tau (us)")
    parser.add_argument("--batch", type=int, default=8, help="echoes per batch")
    parser.add_argument("--n-echoes", type=int, default=8, help="echoes per run")
    parser.add_argument("--n-jobs", type=int, default=2, help="numba threads")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per lattice")
    parser.add_argument(
        "--compare-default",
        action="store_true",
        help="also run the fixed default (no measured choice), interleaved",
    )
    parser.add_argument(
        "--profile", action="store_true", help="first time each part of a step"
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.dtype, max(10, 10 * args.repeat))

    table = sample_prior(args.n_echoes, random_state=0)[list(PARAM_COLUMNS)]
    variants = ["auto", "fixed default"] if args.compare_default else ["auto"]
    sims = {
        (name, variant): EchoSimulator(
            lattice=lattice,
            tau=args.tau,
            backend="numba",
            dtype=args.dtype,
            batch_size=args.batch,
            n_jobs=args.n_jobs,
            random_state=0,
        )
        for name, lattice in LATTICES.items()
        for variant in variants
    }
    tuning = os.environ.get(_tuning.TUNING_VARIABLE)

    def run(key, rows):
        # the fixed default is what the backend does with the measurement off
        if key[1] == "fixed default":
            os.environ[_tuning.TUNING_VARIABLE] = "off"
        elif tuning is None:
            os.environ.pop(_tuning.TUNING_VARIABLE, None)
        else:
            os.environ[_tuning.TUNING_VARIABLE] = tuning
        sims[key].simulate(rows)

    chosen = {}
    for key in sims:  # compile, build the kernel spectra, measure the choice
        run(key, table.iloc[:2])
        if key[1] == "auto":
            method, size = nb.tuned(args.dtype, LATTICES[key[0]].shape)
            chosen[key[0]] = f"{method} {size or 'all'}"
    best = dict.fromkeys(sims, float("inf"))
    for _ in range(args.repeat):
        for key in sims:
            start = time.perf_counter()
            run(key, table)
            best[key] = min(best[key], time.perf_counter() - start)

    steps = next(iter(sims.values())).n_times - 1
    print(
        f"\n{args.n_echoes} echoes, {steps} steps, numba backend, {args.dtype}, "
        f"batch {args.batch}, {args.n_jobs} threads, best of {args.repeat}"
    )
    header = f"{'lattice':30s} {'nuclei':>7s} {'auto: FFT, per transform':>25s}"
    for variant in variants:
        header += f" | {variant}: {'s':>6s} {'ns/nuc/step':>11s} {'x':>5s}"
    print(header)
    for name, lattice in LATTICES.items():
        line = f"{name:30s} {lattice.n_sites:7d} {chosen[name]:>25s}"
        for variant in variants:
            seconds = best[name, variant]
            reference = best["square 100 x 100", variant] / 10_000
            per = seconds / (args.n_echoes * steps * lattice.n_sites) * 1e9
            ratio = seconds / lattice.n_sites / reference
            line += f" | {' ' * len(variant)}  {seconds:6.3f} {per:11.2f} {ratio:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
