"""EchoInference: measured coverage of its intervals, and its OOD flag.

Simulates (and caches with ``make_echoes(memory=...)``) a training set and a
held-out test set from the paper's prior, on a ``--lattice``-square lattice
with tau = ``--tau`` us, then for each interval method of
:class:`sknmr.EchoInference`, trained on clean echoes and trained with noise
augmentation (``augment={"snr": ...}``), reports on the held-out echoes:

1. coverage of each target's interval at ``--confidence``, on clean echoes
   and at SNR 50 and 20 (noise added to the test echoes as a magnitude
   detector sees it: complex Gaussian noise of standard deviation echo top /
   SNR per quadrature, then ``|.|``), and the mean interval widths; and, for
   ``--variants matched``, the coverage of a model trained with the test
   echoes' own SNR (``augment={"snr": snr}``) on them;
2. R^2 of each estimate, and the ROC AUC and Brier score of ``p_power``;
3. the OOD false-alarm rate on clean held-out echoes (and at SNR 50, 20) vs
   the chosen ``ood_false_alarm``, and the fraction flagged of pure noise,
   echoes simulated with another tau (0.8 tau, padded, and 1.2 tau,
   truncated, to the same number of samples) and Lorentzian free-induction
   decays without coupling; and the same for clear echoes of another tau
   (their own echo top at least 3 times the median of their series) and for
   echoes of other sequences given as arrays on the model's grid (a CPMG
   train with pulses every tau/2, a stimulated echo, the Hahn echo at 45
   degrees and at tau/2);
4. the same OOD figures for other detectors: the default without its
   echo-top check (``ood_echo_top=False``), the plain nearest-neighbour
   distance, one combined with a shape distance on principal components, an
   IsolationForest, the shape distance alone (skipped with
   ``--skip-detectors``, as is 5);
5. the R^2 of the paper's feature order (whole series scaled to [0, 1],
   then the window) against the default (window, then scaled).

Coverage is averaged over ``--repeats`` calibration splits (``random_state``)
of each model, with its spread: one split's coverage varies by about
``sqrt(0.09 / n_calibration)`` around its expectation.

Run: ``python benchmarks/bench_inference.py`` (the simulation, about 1600
echoes of 1884 samples on a 32 x 32 lattice, takes ~4 min of one core the
first time and is cached under ``--cache``; the learning ~10 min).
"""

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from quantile_forest import ExtraTreesQuantileRegressor
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesRegressor,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.metrics import brier_score_loss, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline

from sknmr import EchoInference, EchoSimulator, EchoWindow, curve_scaler
from sknmr.datasets import make_echoes
from sknmr.inference._augment import augment_echoes
from sknmr.inference._ood import KNNDistance
from sknmr.sequences import cpmg, hahn_echo, stimulated_echo

TARGETS = ("W", "L", "alpha_xy", "alpha_z")


def other_sequences(args, sim):
    """Echoes of other sequences, recorded as long as the model's grid (no metadata)."""
    duration = sim.n_times * sim.dt
    tau = args.tau
    sequences = {
        "CPMG, pulses every tau/2": cpmg(tau / 4, 4, duration=duration),
        "stimulated echo": stimulated_echo(tau, tau / 2, duration=duration),
        "Hahn echo, 45 degrees": hahn_echo(tau, angle=45.0, duration=duration),
        "Hahn echo, tau/2": hahn_echo(tau / 2, duration=duration),
    }
    out = {}
    for name, sequence in sequences.items():
        other = clone(sim).set_params(sequence=sequence)
        out[name] = make_echoes(
            args.n_other_per_kernel,
            simulator=other,
            random_state=args.random_state + 2,
            memory=args.cache,
            n_jobs=args.n_jobs,
        ).data[:, : sim.n_times]
    return out


def simulate(args):
    """Training, test and other-tau echoes (cached), plus noise and FIDs."""
    sim = EchoSimulator(lattice_size=args.lattice, tau=args.tau, dtype="float32")
    common = dict(simulator=sim, memory=args.cache, n_jobs=args.n_jobs, verbose=1)
    train = make_echoes(args.n_per_kernel, random_state=args.random_state, **common)
    test = make_echoes(
        args.n_test_per_kernel, random_state=args.random_state + 1, **common
    )
    n_times = sim.n_times
    others, clear = [], []
    for factor in (0.8, 1.2):
        other_sim = clone(sim).set_params(tau=args.tau * factor)
        echoes = make_echoes(
            args.n_other_per_kernel,
            simulator=other_sim,
            random_state=args.random_state + 2,
            memory=args.cache,
            n_jobs=args.n_jobs,
        ).data
        top = np.argmin(np.abs(other_sim.times - 2 * other_sim.tau))
        clear.append(
            echoes[:, top - 2 : top + 3].max(axis=1) > 3 * np.median(echoes, axis=1)
        )
        if echoes.shape[1] < n_times:  # recorded as long as the model's grid
            echoes = np.pad(echoes, ((0, 0), (0, n_times - echoes.shape[1])), "edge")
        others.append(echoes[:, :n_times])
    rng = np.random.default_rng(args.random_state + 3)
    n = len(test.data) // 3
    noise = np.abs(rng.normal(size=(n, n_times)) + 1j * rng.normal(size=(n, n_times)))
    # Lorentzian lines of width 1/(pi T2*) decay as exp(-t/T2*): no echo at all.
    t2 = np.exp(rng.uniform(np.log(2.0), np.log(3 * args.tau), n))
    fid = 0.5 * np.exp(-sim.times[None, :] / t2[:, None])
    fid = np.abs(
        fid + 0.005 * (rng.normal(size=fid.shape) + 1j * rng.normal(size=fid.shape))
    )
    return (
        sim,
        train,
        test,
        {
            "pure noise": noise,
            "other tau (0.8, 1.2)": np.vstack(others),
            "clear echo, other tau": np.vstack(others)[np.concatenate(clear)],
            "Lorentzian FID": fid,
            **other_sequences(args, sim),
        },
    )


def noisy(X, snr, sim, seed):
    """Echoes with a magnitude detector's noise at a given SNR (echo top / sigma)."""
    n_tau = sim.n_tau
    top = slice(2 * n_tau - n_tau // 3, 2 * n_tau + n_tau // 3 + 1)
    return augment_echoes(
        X, kind="magnitude", snr=(snr, snr), top=top, random_state=seed
    )[0]


def make_model(args, sim, method, augment, repeat, **params):
    """The EchoInference measured: forests of --n-estimators trees."""
    if method == "conformal":
        regressor = ExtraTreesRegressor(n_estimators=args.n_estimators)
    else:
        regressor = ExtraTreesQuantileRegressor(n_estimators=args.n_estimators)
    settings = dict(
        simulator=sim,
        regressor=regressor,
        classifier=RandomForestClassifier(n_estimators=args.n_estimators),
        interval_method=method,
        confidence=args.confidence,
        ood_false_alarm=args.false_alarm,
        augment=augment,
        random_state=args.random_state + repeat,
        n_jobs=args.n_jobs,
    )
    settings.update(params)
    return EchoInference(**settings)


def evaluate(model, test, conditions, outliers):
    """Coverage, widths, R^2, p_power and OOD figures of a fitted model."""
    rows = []
    for name, X in conditions.items():
        table = model.predict(X)
        row = {"condition": name}
        for t in TARGETS:
            truth = test.target[t].to_numpy()
            lower, upper = table[f"{t}_lower"], table[f"{t}_upper"]
            row[f"cov {t}"] = float(np.mean((lower <= truth) & (truth <= upper)))
            row[f"width {t}"] = float(np.mean(upper - lower))
            row[f"R2 {t}"] = float(r2_score(truth, table[t]))
        power = test.target["power"].to_numpy()
        row["AUC p_power"] = float(roc_auc_score(power, table["p_power"]))
        row["Brier p_power"] = float(brier_score_loss(power, table["p_power"]))
        row["flagged OOD"] = float(table["ood"].mean())
        rows.append(row)
    flagged = {
        name: float(model.predict(X)["ood"].mean()) for name, X in outliers.items()
    }
    return pd.DataFrame(rows).set_index("condition"), flagged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lattice", type=int, default=32)
    parser.add_argument("--tau", type=float, default=100.0)
    parser.add_argument("--n-per-kernel", type=int, default=300)
    parser.add_argument("--n-test-per-kernel", type=int, default=200)
    parser.add_argument("--n-other-per-kernel", type=int, default=10)
    parser.add_argument("--confidence", type=float, default=0.9)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="calibration splits (random_state) per model; coverage is averaged",
    )
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--false-alarm", type=float, default=0.01)
    parser.add_argument(
        "--augment-snr",
        type=float,
        nargs=2,
        default=(15.0, 300.0),
        help="SNR range of the augmented training (log-uniform)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["conformal", "quantile", "conformalized_quantile"],
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["clean", "augmented", "matched"],
        choices=["clean", "augmented", "matched"],
        help="training on clean echoes, with noise over --augment-snr, and with "
        "each test condition's own SNR",
    )
    parser.add_argument(
        "--skip-detectors",
        action="store_true",
        help="skip the other OOD detectors and the feature-order check",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--cache", default="/tmp/sknmr_inference")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument(
        "--simulate-only", action="store_true", help="fill the cache and stop"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)

    start = time.perf_counter()
    sim, train, test, outliers = simulate(args)
    print(
        f"Simulated/loaded {len(train.data)} training and {len(test.data)} test "
        f"echoes ({args.lattice} x {args.lattice}, tau={args.tau:g} us, "
        f"{sim.n_times} samples) in {time.perf_counter() - start:.0f} s."
    )
    if args.simulate_only:
        return None
    conditions = {
        "clean": test.data,
        "SNR 50": noisy(test.data, 50.0, sim, args.random_state + 10),
        "SNR 20": noisy(test.data, 20.0, sim, args.random_state + 11),
    }
    results = {"args": vars(args), "models": {}}
    pd.set_option("display.width", 200, "display.precision", 3)
    snrs = {"clean": None, "SNR 50": 50.0, "SNR 20": 20.0}
    variants = {}
    if "clean" in args.variants:
        variants["clean training"] = None
    if "augmented" in args.variants:
        low, high = args.augment_snr
        variants[f"augmented training (SNR {low:g}..{high:g})"] = {"snr": (low, high)}
    if "matched" in args.variants:
        variants["training at the test echoes' own SNR"] = "matched"

    def fit_and_evaluate(method, augment, repeat):
        """One model per condition when matched, else one for all."""
        if augment != "matched":
            t0 = time.perf_counter()
            model = make_model(args, sim, method, augment, repeat).fit(train)
            seconds = time.perf_counter() - t0
            return (*evaluate(model, test, conditions, outliers), seconds)
        parts, flagged, seconds = [], None, 0.0
        for name, X in conditions.items():
            own = None if snrs[name] is None else {"snr": snrs[name]}
            t0 = time.perf_counter()
            model = make_model(args, sim, method, own, repeat).fit(train)
            seconds += time.perf_counter() - t0
            part, rates = evaluate(model, test, {name: X}, outliers)
            parts.append(part)
            flagged = flagged or rates  # the clean model's outlier rates
        return pd.concat(parts), flagged, seconds

    for method in args.methods:
        for variant, augment in variants.items():
            tables, flags, fit_s = [], [], []
            for repeat in range(args.repeats):
                table, flagged, seconds = fit_and_evaluate(method, augment, repeat)
                fit_s.append(seconds)
                tables.append(table)
                flags.append(flagged)
            mean = sum(tables) / len(tables)
            spread = (
                pd.concat(tables).groupby(level=0).std(ddof=1).reindex(mean.index)
                if len(tables) > 1
                else mean * 0
            )
            flagged = {k: float(np.mean([f[k] for f in flags])) for k in flags[0]}
            key = f"{method}, {variant}"
            print(
                f"\n== {key} ({args.repeats} calibration splits, fit "
                f"{np.mean(fit_s):.0f} s each) =="
            )
            cov = mean[[f"cov {t}" for t in TARGETS]]
            sd = spread[[f"cov {t}" for t in TARGETS]]
            print(
                f"coverage at confidence {args.confidence} (goal 0.88-0.92), "
                "mean +- sd over the splits:"
            )
            print(
                cov.round(3)
                .astype(str)
                .add(" +- ")
                .add(sd.round(3).astype(str))
                .to_string()
            )
            print("mean interval width:")
            print(mean[[f"width {t}" for t in TARGETS]].to_string())
            print("R^2 and p_power:")
            print(
                mean[
                    [f"R2 {t}" for t in TARGETS] + ["AUC p_power", "Brier p_power"]
                ].to_string()
            )
            print(
                f"OOD flagged (chosen false-alarm rate {args.false_alarm}): "
                + ", ".join(f"{c} {v:.3f}" for c, v in mean["flagged OOD"].items())
                + "; "
                + ", ".join(f"{c} {v:.3f}" for c, v in flagged.items())
            )
            results["models"][key] = {
                "fit_seconds": fit_s,
                "mean": mean.reset_index().to_dict(orient="records"),
                "sd": spread.reset_index().to_dict(orient="records"),
                "outliers_flagged": flagged,
            }

    if args.skip_detectors:
        return finish(results, args, start)

    # Other OOD detectors, with tiny forests (only the detector is measured).
    # (detector, ood_echo_top): the detectors alone, then the default's check.
    detectors = {
        "default: kNN distance of values and slopes, and the echo top": (None, True),
        "kNN distance of values and slopes (no echo-top check)": (None, False),
        "larger of that and the PCA(10) shape distance (each / its median)": (
            KNNDistance(derivative_weight=1.0, n_components=10),
            False,
        ),
        "kNN distance of values": (KNNDistance(), False),
        "IsolationForest": (IsolationForest(n_estimators=200), False),
        "kNN distance after PCA(10)": (make_pipeline(PCA(10), KNNDistance()), False),
    }
    print("\n== OOD detectors ==")
    for variant, augment in variants.items():
        if augment == "matched":
            continue
        for name, (detector, echo_top) in detectors.items():
            model = make_model(
                args,
                sim,
                "conformal",
                augment,
                0,
                regressor=ExtraTreesRegressor(n_estimators=5),
                classifier=RandomForestClassifier(n_estimators=5),
                ood_detector=detector,
                ood_echo_top=echo_top,
            ).fit(train)
            rates = {
                c: float(model.predict(X)["ood"].mean())
                for c, X in {**conditions, **outliers}.items()
            }
            print(
                f"{name}, {variant}: "
                + ", ".join(f"{c} {v:.3f}" for c, v in rates.items())
            )
            results["models"][f"OOD {name}, {variant}"] = rates

    # The paper's order, scaling the whole series then windowing, for the R^2.
    model = make_model(
        args,
        sim,
        "conformal",
        None,
        0,
        featurizer=make_pipeline(curve_scaler(), EchoWindow.for_simulator(sim)),
    ).fit(train)
    table = model.predict(test.data)
    r2 = {t: float(r2_score(test.target[t], table[t])) for t in TARGETS}
    print(
        "\n== featurizer: series scaled to [0, 1], then the window (conformal, "
        "clean) ==\nR^2 on clean test echoes: "
        + ", ".join(f"{t} {v:.3f}" for t, v in r2.items())
    )
    results["models"]["scale then window"] = r2
    return finish(results, args, start)


def finish(results, args, start):
    """Print the total time and write the results (``--out``)."""
    print(f"\nTotal {time.perf_counter() - start:.0f} s.")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
    return results


if __name__ == "__main__":
    main()
