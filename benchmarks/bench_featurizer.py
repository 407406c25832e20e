"""Time and memory of PolynomialSectionFeaturizer on the paper's dataset size.

Featurizes 15000 echoes (random data: the cost does not depend on the
values) of the full 1884-sample series and of the 419-sample area of
interest, reports wall time (best of ``--repeat``) and the peak memory that
numpy allocates beyond the input (tracemalloc traces numpy's buffers), and
compares with a plain loop of ``numpy.polynomial.polynomial.polyfit`` over
echoes and sections on a subset, extrapolated.

Run: ``python benchmarks/bench_featurizer.py [--n-echoes 15000] [--repeat 3]``
"""

import argparse
import platform
import resource
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def peak_extra_mib(fn):
    """Peak of numpy/python allocations while fn runs, in MiB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def polyfit_loop(X, sections, degree, dt):
    """The obvious implementation: one polyfit per echo and section."""
    times = np.arange(X.shape[1]) * dt
    out = []
    for row in X:
        coefs = []
        for n in sections:
            for t, y in zip(
                np.array_split(times, n), np.array_split(row, n), strict=True
            ):
                coefs.extend(
                    np.polynomial.polynomial.polyfit(t - (t[0] + t[-1]) / 2, y, degree)
                )
        out.append(coefs)
    return np.asarray(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-echoes", type=int, default=15000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-echoes", type=int, default=200)
    args = parser.parse_args()

    sim = EchoSimulator()
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(args.n_echoes, sim.n_times))
    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS {blas}")
    print(f"input: {X.shape} float64, {X.nbytes / 2**20:.0f} MiB")

    window = EchoWindow().fit(X)
    X_window = window.transform(X)
    for label, data in (("full series", X), ("area of interest", X_window)):
        poly = PolynomialSectionFeaturizer()
        fit_s, _ = best_time(lambda d=data, p=poly: p.fit(d), args.repeat)
        transform_s, out = best_time(lambda d=data, p=poly: p.transform(d), args.repeat)
        peak = peak_extra_mib(lambda d=data, p=poly: p.transform(d))
        print(
            f"{label:17s} {data.shape[1]:5d} -> {out.shape[1]} features: "
            f"fit {fit_s * 1e3:.1f} ms, transform {transform_s:.3f} s "
            f"({transform_s / data.shape[0] * 1e6:.1f} us/echo), "
            f"peak extra memory {peak:.1f} MiB (output {out.nbytes / 2**20:.1f} MiB)"
        )
        n_loop = min(args.loop_echoes, data.shape[0])
        loop_s, loop_out = best_time(
            lambda d=data[:n_loop]: polyfit_loop(d, (4, 5, 10), 3, sim.dt), 1
        )
        np.testing.assert_allclose(out[:n_loop], loop_out, rtol=1e-6, atol=1e-9)
        per_echo = loop_s / n_loop
        print(
            f"{'':17s} polyfit loop: {per_echo * 1e3:.2f} ms/echo, "
            f"{per_echo * data.shape[0]:.1f} s extrapolated to {data.shape[0]} echoes "
            f"({per_echo * data.shape[0] / transform_s:.0f}x slower); same coefficients"
        )

    pipe_s, _ = best_time(
        lambda: PolynomialSectionFeaturizer().fit_transform(
            EchoWindow().fit_transform(X)
        ),
        args.repeat,
    )
    print(f"EchoWindow + featurizer, fit_transform of {X.shape}: {pipe_s:.3f} s")
    # ru_maxrss is in KiB on Linux.
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"process peak RSS: {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
