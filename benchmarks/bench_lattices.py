"""Time echoes on 3-D and triangular lattices beside the 100 x 100 square one.

Run: ``python benchmarks/bench_lattices.py [--tau 10] [--batch 8] [--n-jobs 2]``

Every lattice holds about as many nuclei as the paper's 100 x 100 square
lattice (10 000): the triangular 100 x 100, the simple cubic-like 22 x 22 x 21
(10 164) and 20 x 20 x 25 (10 000, better factored for the FFT), and 4 square
layers of 50 x 50. The same table of echoes (the paper's prior) is simulated on
each with the numba backend; runs are interleaved and repeated
(``--repeat``), the fastest kept, so the ratios compare like with like on the
same machine and load. The figure of merit is the time per nucleus and step
relative to the square lattice's.
"""

import argparse
import time

from sknmr import EchoSimulator
from sknmr.lattices import Lattice
from sknmr.prior import PARAM_COLUMNS, sample_prior

LATTICES = {
    "square 100 x 100": Lattice.square(100),
    "triangular 100 x 100": Lattice.triangular(100),
    "cubic 22 x 22 x 21": Lattice([[1, 0, 0], [0, 1, 0], [0, 0, 1]], (22, 22, 21)),
    "cubic 20 x 20 x 25": Lattice([[1, 0, 0], [0, 1, 0], [0, 0, 1]], (20, 20, 25)),
    "tetragonal 50 x 50 x 4 (c=2)": Lattice.tetragonal(50, 4, c=2.0),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tau", type=float, default=10.0, help="tau (us)")
    parser.add_argument("--batch", type=int, default=8, help="echoes per batch")
    parser.add_argument("--n-echoes", type=int, default=8, help="echoes per run")
    parser.add_argument("--n-jobs", type=int, default=2, help="numba threads")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per lattice")
    args = parser.parse_args(argv)

    table = sample_prior(args.n_echoes, random_state=0)[list(PARAM_COLUMNS)]
    sims = {
        name: EchoSimulator(
            lattice=lattice,
            tau=args.tau,
            backend="numba",
            dtype=args.dtype,
            batch_size=args.batch,
            n_jobs=args.n_jobs,
            random_state=0,
        )
        for name, lattice in LATTICES.items()
    }
    for sim in sims.values():  # compile, build the kernel spectra
        sim.simulate(table.iloc[:2])
    best = dict.fromkeys(sims, float("inf"))
    for _ in range(args.repeat):
        for name, sim in sims.items():
            start = time.perf_counter()
            sim.simulate(table)
            best[name] = min(best[name], time.perf_counter() - start)

    steps = next(iter(sims.values())).n_times - 1
    reference = best["square 100 x 100"] / LATTICES["square 100 x 100"].n_sites
    print(
        f"{args.n_echoes} echoes, {steps} steps, numba backend, {args.dtype}, "
        f"batch {args.batch}, {args.n_jobs} threads, best of {args.repeat}"
    )
    print(
        f"{'lattice':30s} {'nuclei':>7s} {'s':>8s} {'ns/nucleus/step':>16s} {'x':>6s}"
    )
    for name, seconds in best.items():
        n_sites = LATTICES[name].n_sites
        per = seconds / (args.n_echoes * steps * n_sites) * 1e9
        ratio = seconds / n_sites / reference
        print(f"{name:30s} {n_sites:7d} {seconds:8.3f} {per:16.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
