"""The paper's supervised study on simulated echoes, side by side with its numbers.

Simulates ``--n`` echoes from the paper's prior (a ``--lattice``-square
lattice, default times: tau = 100 us, 1884 samples), keeps the area of
interest 2 tau +- tau/3 (samples 1047..1465), scales each curve to [0, 1]
(``sklearn.preprocessing.minmax_scale(X, axis=1)``) and reports:

1. Table I: cross-validated power vs non-power F1 of seven classifiers, in
   three averages (weighted, the paper's like-for-like figure: the first
   author's notebooks compute it; binary, the power class's; macro).
2. W screening: out-of-fold F1 (weighted and binary) and power-class
   false-positive rate of the
   unscreened random forest and of :class:`sknmr.WScreenedClassifier`
   (training bins by true W and by out-of-fold predicted W), plus the
   paper's own protocol, which routes *test* echoes by their true W (not
   available for a real measurement).
3. Fig. 5(e): out-of-bag and test R^2 of random forests for W, L, alpha_xy,
   alpha_z on all / power / non-power echoes.
4. Fig. 4(a): successive elimination of the features below the median
   importance, down to two.

Oversampling happens inside training folds only (imbalanced-learn
pipelines); every score is on echoes never resampled nor trained on.

Run: ``python benchmarks/bench_supervised.py`` (about 5-8 min of one core
at the defaults, the simulation cached under ``--cache``).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import f1_score, r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import minmax_scale

from sknmr import EchoSimulator
from sknmr.screening import WScreenedClassifier
from sknmr.selection import successive_elimination
from sknmr.study import (
    classification_table,
    make_oversampled_pipeline,
    power_false_positive_rate,
    regression_table,
    row_normalized_confusion,
)

PAPER_SCREENING = {
    "unscreened random forest": {"power_fpr": "~0.4 (just above)", "f1": "0.82"},
    "W-screened": {"power_fpr": "~0.2", "f1": "0.9"},
}
PAPER_REGRESSION = {
    ("all", "W"): "~0.8",
    ("all", "alpha_xy"): "~0.9",
    ("all", "alpha_z"): "poor",
    ("power", "L"): "> 0.8",
    ("non-power", "L"): "poor",
}


def clock(start):
    """Wall and CPU time since ``start`` (a (wall, cpu) pair)."""
    return (
        f"{time.perf_counter() - start[0]:.0f} s wall, "
        f"{time.process_time() - start[1]:.0f} s CPU"
    )


def load_echoes(n, lattice, seed, cache):
    """Simulate (or load cached) echoes and their parameter table."""
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"n{n}_L{lattice}_rs{seed}"
    echo_file, table_file = cache / f"echoes_{stem}.npy", cache / f"table_{stem}.pkl"
    sim = EchoSimulator(lattice_size=lattice, random_state=seed, n_jobs=1)
    if echo_file.exists() and table_file.exists():
        return np.load(echo_file), pd.read_pickle(table_file), sim, None
    start = time.perf_counter()
    echoes, table = sim.sample(n)
    elapsed = time.perf_counter() - start
    np.save(echo_file, echoes)
    table.to_pickle(table_file)
    return echoes, table, sim, elapsed


def featurize(echoes, n_tau):
    """Area of interest 2 tau +- tau/3, each curve scaled to [0, 1]."""
    half = round(n_tau / 3)
    window = slice(2 * n_tau - half, 2 * n_tau + half + 1)
    return minmax_scale(echoes[:, window], axis=1), window


def forest_pipeline(n_estimators, seed, n_jobs):
    return make_oversampled_pipeline(
        RandomForestClassifier(n_estimators, random_state=seed, n_jobs=n_jobs),
        random_state=seed,
    )


def true_w_routing(X_train, y_train, w_train, X_test, w_test, bins, make_model):
    """The paper's protocol: one forest per true-W bin, test echoes routed by true W."""
    edges = np.asarray(bins)[1:-1]
    train_bin = np.searchsorted(edges, w_train, side="right")
    test_bin = np.searchsorted(edges, w_test, side="right")
    y_pred = np.empty(len(X_test), dtype=y_train.dtype)
    for k in range(len(bins) - 1):
        model = make_model().fit(X_train[train_bin == k], y_train[train_bin == k])
        if np.any(test_bin == k):
            y_pred[test_bin == k] = model.predict(X_test[test_bin == k])
    return y_pred


def screening_comparison(X, y, w, args):
    """Out-of-fold predictions of each classifier on the same shuffled folds."""
    seed, trees, n_jobs = args.random_state, args.n_estimators, args.n_jobs
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed).split(X, y)
    names = [
        "unscreened random forest",
        "W-screened, bins by true W",
        "W-screened, bins by OOF W (default)",
        "paper protocol: test routed by true W",
    ]
    pred = {name: np.empty_like(y) for name in names}
    per_fold = {name: [] for name in names}
    w_pred = np.empty_like(w)
    for train, test in folds:
        models = {
            names[0]: forest_pipeline(trees, seed, n_jobs),
            names[1]: WScreenedClassifier(
                RandomForestRegressor(trees, n_jobs=n_jobs),
                forest_pipeline(trees, None, n_jobs),
                bin_assignment="true",
                random_state=seed,
            ),
            names[2]: WScreenedClassifier(
                RandomForestRegressor(trees, n_jobs=n_jobs),
                forest_pipeline(trees, None, n_jobs),
                bin_assignment="oof",
                random_state=seed,
            ),
        }
        for name, model in models.items():
            fit_params = {} if name == names[0] else {"w": w[train]}
            model.fit(X[train], y[train], **fit_params)
            pred[name][test] = model.predict(X[test])
        w_pred[test] = models[names[1]].predict_w(X[test])
        pred[names[3]][test] = true_w_routing(
            X[train],
            y[train],
            w[train],
            X[test],
            w[test],
            (0.1, 0.17, 0.23, 0.3),
            lambda: forest_pipeline(trees, seed, n_jobs),
        )
        for name in names:
            per_fold[name].append(
                (
                    f1_score(y[test], pred[name][test]),
                    power_false_positive_rate(y[test], pred[name][test]),
                )
            )
    rows = {}
    for name in names:
        scores = np.asarray(per_fold[name])
        confusion = row_normalized_confusion(y, pred[name])
        rows[name] = {
            "f1_weighted": f1_score(y, pred[name], average="weighted"),
            "f1_binary": f1_score(y, pred[name]),
            "f1_binary_fold_std": scores[:, 0].std(),
            "power_fpr": power_false_positive_rate(y, pred[name]),
            "power_fpr_fold_std": scores[:, 1].std(),
            "nonpower_called_power": confusion[0, 1],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table, r2_score(w, w_pred)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=900, help="echoes (split over kernels)"
    )
    parser.add_argument("--lattice", type=int, default=32)
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--folds", type=int, default=5, help="folds of sections 1, 2, 4"
    )
    parser.add_argument("--cache", default="/tmp/sknmr_supervised")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--skip-elimination", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 120)
    results = {"settings": vars(args)}

    echoes, table, sim, sim_seconds = load_echoes(
        args.n, args.lattice, args.random_state, args.cache
    )
    X, window = featurize(echoes, sim.n_tau)
    y = table["power"].to_numpy()
    w = table["W"].to_numpy()
    print(
        f"{len(X)} echoes ({np.bincount(y)[1]} power), {args.lattice}x{args.lattice} "
        f"lattice, samples {window.start}..{window.stop - 1} of {echoes.shape[1]} "
        f"-> {X.shape[1]} features; simulation "
        + ("cached" if sim_seconds is None else f"{sim_seconds:.0f} s")
    )

    start = time.perf_counter(), time.process_time()
    t1 = classification_table(X, y, cv=args.folds, random_state=args.random_state)
    print(
        f"\n1. Table I: power vs non-power F1, {args.folds} shuffled stratified "
        f"folds ({clock(start)})"
    )
    print(t1.round(3).to_string())
    results["table_I"] = t1.to_dict(orient="index")

    start = time.perf_counter(), time.process_time()
    t2, w_r2 = screening_comparison(X, y, w, args)
    t2["paper"] = [
        f"F1 {PAPER_SCREENING['unscreened random forest']['f1']}, "
        f"FPR {PAPER_SCREENING['unscreened random forest']['power_fpr']}",
        "",
        f"F1 {PAPER_SCREENING['W-screened']['f1']}, "
        f"FPR {PAPER_SCREENING['W-screened']['power_fpr']}",
        "",
    ]
    print(
        f"\n2. W screening, out-of-fold over {args.folds} shuffled stratified "
        f"folds ({clock(start)}); power_fpr = power echoes "
        f"called non-power (the paper's 'false-positive rate'); "
        f"test R^2 of the W regressor {w_r2:.3f}"
    )
    print(t2.round(3).to_string())
    results["screening"] = t2.to_dict(orient="index")
    results["screening_w_r2"] = w_r2

    start = time.perf_counter(), time.process_time()
    t3 = regression_table(
        X,
        table,
        regressor=RandomForestRegressor(
            args.n_estimators,
            oob_score=True,
            random_state=args.random_state,
            n_jobs=args.n_jobs,
        ),
        random_state=args.random_state,
    )
    t3["paper"] = [PAPER_REGRESSION.get(key, "") for key in t3.index]
    print(f"\n3. Fig. 5(e): random forest R^2, 75/25 split ({clock(start)})")
    print(t3.round(3).to_string())
    results["regression"] = {
        f"{subset}/{target}": row
        for (subset, target), row in t3.to_dict("index").items()
    }

    if not args.skip_elimination:
        start = time.perf_counter(), time.process_time()
        path = successive_elimination(
            forest_pipeline(args.n_estimators, args.random_state, args.n_jobs),
            X,
            y,
            scoring="f1",
            cv=StratifiedKFold(
                args.folds, shuffle=True, random_state=args.random_state
            ),
        )
        times = sim.times[window]
        print(
            f"\n4. Fig. 4(a): successive elimination, {args.folds}-fold CV F1 "
            f"({clock(start)})"
        )
        for n, mean, std, support in zip(
            path.n_features, path.mean_score, path.std_score, path.support, strict=True
        ):
            shown = (
                (
                    ", features at t = "
                    + ", ".join(f"{t:.1f}" for t in times[support])
                    + " us"
                )
                if n <= 3
                else ""
            )
            print(f"  {n:4d} features: F1 {mean:.3f} +- {std:.3f}{shown}")
        results["elimination"] = {
            "n_features": path.n_features.tolist(),
            "mean_f1": path.mean_score.tolist(),
            "std_f1": path.std_score.tolist(),
            "last_times_us": times[path.support[-1]].tolist(),
        }

    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
