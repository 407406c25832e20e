"""Time paper-size echoes per backend against the FFT-only floor (performance targets).

Run: ``python benchmarks/bench_simulator.py [--batch 8] [--n-jobs 2] [--steps 1884]``

One paper-size echo is a 100x100 lattice over 1884 samples. The floor is the
cost of the FFTs the numba backend performs per step (forward and inverse
transforms of the transverse and longitudinal fields for the same batch, split
over the same threads), timed alone over the same number of steps. Each
measurement is repeated (``--repeat``, interleaved) and the fastest kept, and
every figure comes from this one run, so the ratios compare like with like on
the same machine and load.
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft as sfft

from sknmr import EchoSimulator
from sknmr._backends import available_backends
from sknmr.prior import PARAM_COLUMNS, sample_prior


def _ffts(sxy, sz, steps):
    n = sz.shape[-1]
    for _ in range(steps):
        f = sfft.fft2(sxy)
        sfft.ifft2(f, overwrite_x=True)
        fz = sfft.rfft2(sz)
        sfft.irfft2(fz, s=(n, n), overwrite_x=True)


def fft_floor(batch, n, steps, workers, dtype):
    """Seconds for the forward+inverse FFTs of ``steps`` steps of a batch,
    split over ``workers`` threads as the numba backend splits its echoes."""
    rng = np.random.default_rng(0)
    real = np.dtype(dtype)
    cplx = np.result_type(real, np.complex64)
    groups = [len(g) for g in np.array_split(np.arange(batch), min(workers, batch))]
    fields = [
        (
            (rng.random((b, n, n)) + 1j * rng.random((b, n, n))).astype(cplx),
            rng.random((b, n, n)).astype(real),
        )
        for b in groups
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(len(fields)) as pool:
        list(pool.map(lambda f: _ffts(*f, steps), fields))
    return time.perf_counter() - start


def time_backend(backend, table, n_jobs, batch, dtype, tau):
    sim = EchoSimulator(
        backend=backend,
        n_jobs=n_jobs,
        batch_size=batch,
        dtype=dtype,
        tau=tau,
        random_state=0,
    )
    start = time.perf_counter()
    sim.simulate(table)
    return time.perf_counter() - start, sim.n_times - 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="echoes per numba batch")
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="threads for numba and FFTs"
    )
    parser.add_argument(
        "--numpy-tau",
        type=float,
        default=100.0,
        help="tau (us) of the numpy run (shorten to save time)",
    )
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--repeat", type=int, default=2, help="repetitions (min kept)")
    args = parser.parse_args(argv)

    table = sample_prior(args.batch, random_state=0)[list(PARAM_COLUMNS)]
    # compile once so the timings below exclude numba's JIT
    EchoSimulator(lattice_size=8, tau=1.0, backend="numba", dtype=args.dtype).simulate(
        table.iloc[:1]
    )

    steps = EchoSimulator().n_times - 1
    numba_s = floor_s = numba_1_s = floor_1_s = np.inf
    for _ in range(args.repeat):  # interleaved, so a slow spell hits all alike
        t, _ = time_backend("numba", table, args.n_jobs, args.batch, args.dtype, 100.0)
        numba_s = min(numba_s, t)
        floor_s = min(
            floor_s, fft_floor(args.batch, 100, steps, args.n_jobs, args.dtype)
        )
        t, _ = time_backend("numba", table, 1, args.batch, args.dtype, 100.0)
        numba_1_s = min(numba_1_s, t)
        floor_1_s = min(floor_1_s, fft_floor(args.batch, 100, steps, 1, args.dtype))
    numpy_s, numpy_steps = time_backend(
        "numpy", table.iloc[:1], 1, 1, args.dtype, args.numpy_tau
    )

    per_step = {
        f"numba ({args.n_jobs} jobs)": numba_s / (args.batch * steps),
        f"FFT floor ({args.n_jobs} jobs)": floor_s / (args.batch * steps),
        "numba (1 job)": numba_1_s / (args.batch * steps),
        "FFT floor (1 job)": floor_1_s / (args.batch * steps),
        "numpy (1 job)": numpy_s / numpy_steps,
    }
    print(
        f"paper-size echo: 100x100 lattice, {steps} steps, dtype {args.dtype}, "
        f"batch {args.batch}; backends here: {available_backends()}"
    )
    for name, t in per_step.items():
        print(
            f"  {name:<22} {t * 1e6:8.1f} us per echo-step   "
            f"{t * steps:7.3f} s per echo"
        )
    n = args.n_jobs
    print(f"numba / FFT floor ({n} jobs):  {numba_s / floor_s:5.2f}   (target <= 1.5)")
    print(f"numba / FFT floor (1 job):   {numba_1_s / floor_1_s:5.2f}")
    speedup = per_step["numpy (1 job)"] / per_step[f"numba ({n} jobs)"]
    print(f"numpy / numba ({n} jobs):      {speedup:5.2f}   (target >= 4)")
    print(
        f"numpy / numba (1 job):       "
        f"{per_step['numpy (1 job)'] / per_step['numba (1 job)']:5.2f}"
    )
    hours = 15000 * steps * per_step[f"numba ({n} jobs)"] / 3600
    print(f"15000 paper echoes with numba, {n} jobs: {hours:.2f} h   (target < 1 h)")


if __name__ == "__main__":
    main()
