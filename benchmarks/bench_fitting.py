"""Fitting the physics against the forests, Cramer-Rao bounds, designed experiments.

Three parts (``--part``):

``fit``
    Held-out echoes simulated from the paper's prior on a ``--lattice``
    square lattice (their own disorder draws), with complex Gaussian noise
    of standard deviation echo top / ``--snr`` per quadrature, read as
    ``|M|``. Each is fitted by :func:`sknmr.fitting.compare_kernels` (every
    kernel class, length, alpha_xy and alpha_z free) and predicted by an
    :class:`sknmr.EchoInference` trained on ``--n-train`` echoes per kernel
    (noise-augmented at the same SNR). Reports the median absolute error of
    W, alpha_xy, alpha_z and L of both (the fit of the true kernel class, and
    of the class the comparison picks), the coverage of the intervals at 0.9,
    the kernel-class accuracy (most probable class; power vs non-power for
    the forests' p_power) and the time per fit. Fits are cached per echo
    under ``--cache``, so an interrupted run resumes.
``fisher``
    Cramer-Rao bounds of a tiny case (6 x 6, 45-90 echo at 3 us read in
    quadrature, alpha_xy and alpha_z) against the spread of fits over
    ``--repeats`` noise draws.
``design``
    For alpha_z (all kernels) and for the length parameter of the non-power
    kernels: the second experiment designed by
    :func:`sknmr.design.optimize_sequence` to go with the CPMG train, beside
    the protocol study's best hand-picked pair (CPMG train + 45-90 echo at
    tau/4, quadrature), scored by the mean relative Cramer-Rao bound over
    materials of the prior, on a small lattice.

``design-cv``
    The same two designs (alpha_z, and the length of the non-power kernels,
    each with the CPMG train), then echoes of every experiment simulated on
    ``--cv-per-kernel`` materials per kernel on a ``--cv-lattice`` lattice
    (:func:`sknmr.datasets.make_echoes` with ``sequences``) and scored by
    the protocol study (:func:`sknmr.study.protocol_study`, its
    cross-validated R^2 and F1), beside the study's best hand-picked
    protocol (CPMG train + 45-90 echo at tau/4, quadrature) and the paper's
    echo; up to four echoes per material. The Fisher bounds of the same
    protocols (design lattice) are printed beside them.

``--interval profile`` makes the fits of ``--part fit`` use profile-likelihood
intervals (:func:`sknmr.fitting.fit_echo`); the coverage columns then measure
them.

Run: ``python benchmarks/bench_fitting.py --part fit`` (hours at the goal's
size, 60 echoes on 32 x 32; ``--n-test 15 --lattice 16`` takes ~20 min on
two cores), ``--part fisher`` (~1 min), ``--part design`` (a few min),
``--part design-cv`` (~15 min at its defaults, 16 x 16 and 100 materials per
kernel; cached under ``--cache``).
"""

import argparse
import time

import joblib
import numpy as np
import pandas as pd

from sknmr import EchoInference, EchoSimulator
from sknmr.datasets import make_echoes
from sknmr.design import expected_bounds, fisher_information, optimize_sequence
from sknmr.fitting import compare_kernels, fit_echo
from sknmr.sequences import cpmg, hahn_echo
from sknmr.study import default_experiments, protocol_study
from sknmr.utils._random import derive_seed

TARGETS = ("W", "alpha_xy", "alpha_z", "L")


def _noisy(echoes, snr, tau, dt, seed):
    """|M + noise|: noise per quadrature echo top / SNR (largest |M| near 2 tau)."""
    rng = np.random.default_rng(seed)
    n_tau = int(round(tau / dt))
    window = slice(2 * n_tau - n_tau // 3, 2 * n_tau + n_tau // 3 + 1)
    top = np.abs(echoes[:, window]).max(axis=1, keepdims=True)
    noise = rng.standard_normal(echoes.shape) + 1j * rng.standard_normal(echoes.shape)
    return np.abs(echoes + noise * top / snr)


def _fit_one(echo, lattice, tau, seed, interval="laplace"):
    """Every kernel class fitted to one echo; a light summary of each."""
    sim = EchoSimulator(lattice_size=lattice, tau=tau)
    start = time.perf_counter()
    comparison = compare_kernels(echo, sim, random_state=seed, interval=interval)
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "probability": comparison.table["probability"]}
    for kernel, fit in comparison.fits.items():
        out[kernel] = {
            "params": fit.params,
            "intervals": fit.intervals,
            "success": fit.success,
            "misfit": fit.misfit,
            "disorder_share": fit.disorder_share,
        }
    return out


def part_fit(args, memory):
    complex_sim = EchoSimulator(
        lattice_size=args.lattice, tau=args.tau, output="complex", random_state=1234
    )
    clean, table = complex_sim.sample(args.n_test, random_state=1234)
    sim = complex_sim
    noisy = _noisy(clean, args.snr, args.tau, sim.dt, seed=5)
    train_sim = EchoSimulator(lattice_size=args.lattice, tau=args.tau)
    data = make_echoes(args.n_train, simulator=train_sim, random_state=0, memory=memory)
    model = EchoInference(
        simulator=train_sim, augment={"snr": args.snr}, random_state=0, n_jobs=1
    ).fit(data.data, data.target)
    forest = model.predict(noisy)
    fit_one = memory.cache(_fit_one)
    rows = []
    for k in range(args.n_test):
        t = time.perf_counter()
        res = fit_one(
            noisy[k], args.lattice, args.tau, derive_seed(0, k), args.interval
        )
        truth = table.iloc[k]
        best = res["probability"].idxmax()
        row = {
            "kernel": truth["kernel"],
            "best": best,
            "p_true": res["probability"][truth["kernel"]],
            "seconds": res["seconds"] / 3,
            "forest_power": forest["p_power"].iloc[k] > 0.5,
        }
        for target in TARGETS:
            for label, fit in (("fit", res[truth["kernel"]]), ("fit_best", res[best])):
                row[f"{label}_{target}"] = fit["params"][target]
                lo, hi = fit["intervals"].loc[target]
                row[f"{label}_{target}_covered"] = lo <= truth[target] <= hi
            row[f"forest_{target}"] = forest[target].iloc[k]
            row[f"forest_{target}_covered"] = (
                forest[f"{target}_lower"].iloc[k]
                <= truth[target]
                <= forest[f"{target}_upper"].iloc[k]
            )
            row[f"true_{target}"] = truth[target]
        rows.append(row)
        print(
            f"echo {k}: {truth['kernel']} -> {best} ({time.perf_counter() - t:.0f} s)"
        )
    df = pd.DataFrame(rows)
    summary = {}
    for label in ("fit", "fit_best", "forest"):
        summary[label] = {
            **{
                f"MAE {t}": np.median(np.abs(df[f"{label}_{t}"] - df[f"true_{t}"]))
                for t in TARGETS
            },
            **{f"cover {t}": df[f"{label}_{t}_covered"].mean() for t in TARGETS},
        }
    print(f"intervals: {args.interval}")
    print(pd.DataFrame(summary).round(4).to_string())
    by_kernel = df.groupby("kernel")
    for t in TARGETS:
        err = (df[f"fit_{t}"] - df[f"true_{t}"]).abs()
        ferr = (df[f"forest_{t}"] - df[f"true_{t}"]).abs()
        print(
            f"median |error| of {t} by kernel (fit / forest):",
            {
                kern: (round(err[idx].median(), 4), round(ferr[idx].median(), 4))
                for kern, idx in by_kernel.groups.items()
            },
        )
    accuracy = (df["best"] == df["kernel"]).mean()
    power_fit = ((df["best"] == "power") == (df["kernel"] == "power")).mean()
    power_forest = (df["forest_power"] == (df["kernel"] == "power")).mean()
    print(
        f"kernel class accuracy (fit comparison): {accuracy:.3f}; power vs non-power:"
        f" fit {power_fit:.3f}, forest {power_forest:.3f}"
    )
    print(f"time per fit: median {df['seconds'].median():.1f} s")


def part_fisher(args):
    seed = 0
    sim = EchoSimulator(
        lattice_size=6,
        sequence=hahn_echo(3.0, angle=45.0),
        random_state=derive_seed(seed, 0),
        output="complex",
    )
    material = {"kernel": "power", "length": 2.0, "alpha_xy": 0.08, "alpha_z": 0.05}
    params = ["alpha_xy", "alpha_z"]
    noise = 0.01
    info = fisher_information(
        sim, material, params, noise=noise, detection="quadrature", random_state=seed
    )
    clean = sim.simulate(material)[0]
    rng = np.random.default_rng(0)
    estimates = []
    for _ in range(args.repeats):
        noisy = clean + noise * (
            rng.standard_normal(clean.size) + 1j * rng.standard_normal(clean.size)
        )
        fit = fit_echo(
            noisy,
            sim,
            kernel="power",
            parameters=params,
            fixed={"length": 2.0},
            init={"alpha_xy": 0.08, "alpha_z": 0.05},
            detection="quadrature",
            noise=noise,
            disorder_draws=0,
            random_state=seed,
            max_iter=10,
        )
        estimates.append(fit.params[params].to_numpy())
    spread = np.std(estimates, axis=0, ddof=1)
    print(
        pd.DataFrame(
            {
                "cramer_rao": info.bounds[params],
                "spread_of_fits": spread,
                "ratio": spread / info.bounds[params],
            }
        ).to_string()
    )


def part_design(args):
    lattice, tau = args.design_lattice, args.tau
    sim = EchoSimulator(lattice_size=lattice)
    quad = dict(output="complex")
    cpmg_sim = EchoSimulator(lattice_size=lattice, sequence=cpmg(tau / 4, 4), **quad)
    hand = EchoSimulator(
        lattice_size=lattice, sequence=hahn_echo(tau / 4, angle=45.0), **quad
    )
    paper = EchoSimulator(lattice_size=lattice, sequence=hahn_echo(tau), **quad)
    for target, kernels in (
        ("alpha_z", ("gaussian", "power", "rkky")),
        ("length", ("gaussian", "rkky")),
    ):
        params = ["length", "alpha_xy", "alpha_z"]
        kw = dict(
            kernels=kernels,
            n_materials=args.materials,
            detection="quadrature",
            random_state=3,
        )
        start = time.perf_counter()
        design = optimize_sequence(
            sim,
            params,
            target=target,
            n_pulses=args.pulses,
            duration=hand.n_times * sim.dt,
            baseline=[cpmg_sim],
            n_candidates=args.candidates,
            n_rounds=2,
            **kw,
        )
        seconds = time.perf_counter() - start
        designed = EchoSimulator(lattice_size=lattice, sequence=design.sequence, **quad)
        rows = {}
        for name, sims in (
            ("paper 90-180 (quadrature)", [paper]),
            ("CPMG alone", [cpmg_sim]),
            ("CPMG + 45-90 at tau/4 (hand-picked)", [cpmg_sim, hand]),
            ("CPMG + designed", [cpmg_sim, designed]),
            ("designed alone", [designed]),
        ):
            table = expected_bounds(
                sims,
                params,
                materials=design.materials,
                detection="quadrature",
                random_state=3,
            )
            rows[name] = {
                f"median relative bound of {p}": table[f"{p}_bound"].median()
                for p in params
            }
        print(f"\ntarget {target}, kernels {kernels} ({seconds:.0f} s of search):")
        print(f"designed: {design.sequence}")
        print(pd.DataFrame(rows).T.to_string(float_format=lambda v: f"{v:.3g}"))


def _designs(lattice, tau, materials, pulses, candidates):
    """The designed partners of the CPMG train: for alpha_z and for the length."""
    sim = EchoSimulator(lattice_size=lattice)
    quad = dict(output="complex")
    cpmg_sim = EchoSimulator(lattice_size=lattice, sequence=cpmg(tau / 4, 4), **quad)
    duration = hahn_echo(tau / 4, angle=45.0).grid(sim.dt).n_times * sim.dt
    out = {}
    for target, kernels in (
        ("alpha_z", ("gaussian", "power", "rkky")),
        ("length", ("gaussian", "rkky")),
    ):
        start = time.perf_counter()
        design = optimize_sequence(
            sim,
            ["length", "alpha_xy", "alpha_z"],
            target=target,
            n_pulses=pulses,
            duration=duration,
            baseline=[cpmg_sim],
            kernels=kernels,
            n_materials=materials,
            detection="quadrature",
            n_candidates=candidates,
            n_rounds=2,
            random_state=3,
        )
        out[target] = (design.sequence, design.materials, time.perf_counter() - start)
    return out


def _design_cv_scores(lattice, tau, n_per_kernel, cv, n_estimators, sequences):
    """The protocol study's scores of the protocols made of ``sequences``."""
    simulator = EchoSimulator(lattice_size=lattice, tau=tau, dtype="float32")
    data = make_echoes(
        n_per_kernel,
        simulator=simulator,
        sequences={
            name: {"sequence": seq, "output": "complex"}
            for name, seq in sequences.items()
        },
        random_state=0,
    )
    return protocol_study(
        data,
        protocols=DESIGN_CV_PROTOCOLS,
        cv=cv,
        n_estimators=n_estimators,
        random_state=0,
        n_jobs=1,
        verbose=1,
    )


#: The protocols of ``--part design-cv``: name -> (experiments, detection).
DESIGN_CV_PROTOCOLS = {
    "paper: 90-180 echo, |M|": (("hahn90",), "magnitude"),
    "CPMG + 45 at tau/4 (hand-picked best)": (
        ("cpmg", "hahn45_quarter_tau"),
        "quadrature",
    ),
    "CPMG + designed for alpha_z": (("cpmg", "designed_alpha_z"), "quadrature"),
    "CPMG + designed for L": (("cpmg", "designed_length"), "quadrature"),
    "CPMG + 45 at tau/4 + designed for L": (
        ("cpmg", "hahn45_quarter_tau", "designed_length"),
        "quadrature",
    ),
    "CPMG + 45 at tau/4 + both designed (4 echoes)": (
        ("cpmg", "hahn45_quarter_tau", "designed_length", "designed_alpha_z"),
        "quadrature",
    ),
}


def part_design_cv(args, memory):
    tau = args.tau
    designs = memory.cache(_designs)(
        args.design_lattice, tau, args.materials, args.pulses, args.candidates
    )
    experiments = default_experiments(tau)
    sequences = {
        name: experiments[name] for name in ("hahn90", "cpmg", "hahn45_quarter_tau")
    }
    for target, (sequence, _, seconds) in designs.items():
        sequences[f"designed_{target}"] = sequence
        print(f"designed for {target} ({seconds:.0f} s of search): {sequence}")
    start = time.perf_counter()
    table = memory.cache(_design_cv_scores)(
        args.cv_lattice,
        tau,
        args.cv_per_kernel,
        args.cv_folds,
        args.cv_trees,
        sequences,
    )
    print(
        f"\nprotocol study: {3 * args.cv_per_kernel} materials on "
        f"{args.cv_lattice} x {args.cv_lattice}, tau {tau:g} us, {args.cv_folds}-fold "
        f"CV, {args.cv_trees} trees ({time.perf_counter() - start:.0f} s)"
    )
    columns = [
        c
        for c in ("R2 W", "R2 L", "R2 alpha_xy", "R2 alpha_z", "R2 L power")
        + ("R2 L non-power", "F1 weighted")
        if c in table
    ]
    print(table[["n_echoes", *columns]].to_string(float_format=lambda v: f"{v:.2f}"))
    # Fisher bounds of the same protocols on the design lattice, noise only
    lattice = args.design_lattice
    params = ["length", "alpha_xy", "alpha_z"]
    rows = {}
    for name, (names, detection) in DESIGN_CV_PROTOCOLS.items():
        sims = [
            EchoSimulator(lattice_size=lattice, sequence=sequences[n], output="complex")
            for n in names
        ]
        row = {}
        for target, (_, materials, _) in designs.items():
            bounds = expected_bounds(
                sims,
                params,
                materials=materials,
                detection=detection,
                random_state=3,
            )
            row[f"bound {target} ({target} design's materials)"] = bounds[
                f"{target}_bound"
            ].median()
        rows[name] = row
    print(f"\nmedian relative Cramer-Rao bounds ({lattice} x {lattice}, noise 0.01):")
    print(pd.DataFrame(rows).T.to_string(float_format=lambda v: f"{v:.3g}"))
    table = memory.cache(_disorder_bounds)(args.cv_lattice, sequences, designs)
    print(
        f"\nmedian relative standard deviations with the lattice's disorder "
        f"({args.cv_lattice} x {args.cv_lattice}, noise 0.01, 8 draws; fit_echo's "
        "Laplace covariance at the true material):"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))


def _disorder_bounds(lattice, sequences, designs, seed=3):
    """Per protocol, the median relative standard deviation of each design's
    target with noise and one lattice's disorder: fit_echo's covariance at the
    true material, from its noiseless echo on the fit's own disorder draw."""
    params = ["length", "alpha_xy", "alpha_z"]
    rows = {}
    for name, (names, detection) in DESIGN_CV_PROTOCOLS.items():
        sims = [
            EchoSimulator(
                lattice_size=lattice,
                sequence=sequences[n],
                output="complex",
                random_state=derive_seed(seed, 0),
            )
            for n in names
        ]
        row = {}
        for target, (_, materials, _) in designs.items():
            relative = []
            for _, material in materials.iterrows():
                truth = {p: float(material[p]) for p in params}
                echoes = [
                    s.simulate({"kernel": material["kernel"], **truth})[0] for s in sims
                ]
                fit = fit_echo(
                    echoes,
                    sims,
                    kernel=material["kernel"],
                    parameters=params,
                    init=truth,
                    detection=detection,
                    noise=0.01,
                    disorder_draws=8,
                    disorder_factor=1.0,
                    random_state=seed,
                    max_iter=2,
                )
                relative.append(
                    np.sqrt(fit.covariance.loc[target, target]) / truth[target]
                )
            row[f"sd {target} ({target} design's materials)"] = np.median(relative)
        rows[name] = row
    return pd.DataFrame(rows).T


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part", choices=["fit", "fisher", "design", "design-cv"], default="fit"
    )
    parser.add_argument("--interval", choices=["laplace", "profile"], default="laplace")
    parser.add_argument("--cv-lattice", type=int, default=16)
    parser.add_argument("--cv-per-kernel", type=int, default=100)
    parser.add_argument("--cv-folds", type=int, default=5)
    parser.add_argument("--cv-trees", type=int, default=100)
    parser.add_argument("--lattice", type=int, default=32)
    parser.add_argument("--tau", type=float, default=100.0)
    parser.add_argument("--n-test", type=int, default=60)
    parser.add_argument("--n-train", type=int, default=1000, help="per kernel")
    parser.add_argument("--snr", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--design-lattice", type=int, default=8)
    parser.add_argument("--materials", type=int, default=6)
    parser.add_argument("--pulses", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--cache", default="sknmr_data/bench_fitting")
    args = parser.parse_args()
    memory = joblib.Memory(args.cache, verbose=0)
    {
        "fit": lambda: part_fit(args, memory),
        "fisher": lambda: part_fisher(args),
        "design": lambda: part_design(args),
        "design-cv": lambda: part_design_cv(args, memory),
    }[args.part]()


if __name__ == "__main__":
    main()
