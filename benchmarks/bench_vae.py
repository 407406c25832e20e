"""Does BetaVAE find the paper's latent structure (Fig. 3), and how long does it train?

Simulates echoes from the paper's prior with ``EchoSimulator.sample`` (a small
lattice to keep it short), scales each curve to [0, 1] and trains the paper's
two VAEs: on the full series (``hidden_sizes=(512, 128, 16)``) and on the
window ``2 tau +- tau/3`` (``(128, 32, 16)``). Reports the Spearman
correlation of each latent axis with W, L and the kernel type (the paper: W
ordered along one axis), the decoded echo height along that axis (Fig. 3(b):
a clean echo at small W, a suppressed one at large W), and the training time
per epoch and echo, extrapolated to the paper's 15000 echoes.

    python benchmarks/bench_vae.py                       # 600 echoes, 32x32
    python benchmarks/bench_vae.py --n-echoes 150 --cache /tmp/echoes.npz

Timings depend on the machine and on what else runs on it.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from sklearn.decomposition import PCA
from sklearn.preprocessing import minmax_scale

from sknmr import BetaVAE, EchoSimulator
from sknmr.kernels import KERNELS

PAPER_N_ECHOES = 15000


def simulate(n_echoes, lattice_size, seed, cache):
    sim = EchoSimulator(lattice_size=lattice_size, random_state=seed)
    if cache and Path(cache).exists():
        data = np.load(cache, allow_pickle=False)
        if (
            data["echoes"].shape[0] == n_echoes
            and int(data["lattice_size"]) == lattice_size
        ):
            print(f"echoes loaded from {cache}")
            table = pd.DataFrame({c: data[c] for c in ("W", "L", "kernel_code")})
            return sim, data["echoes"], table
    start = time.perf_counter()
    echoes, table = sim.sample(n_echoes)
    print(
        f"simulated {n_echoes} echoes ({lattice_size}x{lattice_size}, "
        f"{echoes.shape[1]} samples) in {time.perf_counter() - start:.1f} s"
    )
    table = pd.DataFrame(
        {
            "W": table["W"].to_numpy(),
            "L": table["L"].to_numpy(),
            "kernel_code": table["kernel"].map(KERNELS.index).to_numpy(),
        }
    )
    if cache:
        np.savez(cache, echoes=echoes, lattice_size=lattice_size, **table)
    return sim, echoes, table


def study(name, X, table, hidden_sizes, echo_index, seed, batch_size):
    vae = BetaVAE(hidden_sizes=hidden_sizes, batch_size=batch_size, random_state=seed)
    start = time.perf_counter()
    vae.fit(X)
    seconds = time.perf_counter() - start
    Z = vae.transform(X)
    best = int(np.argmin(vae.history_[:, "valid_recon"])) + 1
    print(
        f"\n{name}: {X.shape[1]} features, hidden {hidden_sizes}; "
        f"{vae.n_epochs_} epochs (best {best}) in {seconds:.1f} s"
    )
    rho = {
        target: [spearmanr(Z[:, j], table[target]).statistic for j in range(Z.shape[1])]
        for target in ("W", "L", "kernel_code")
    }
    # PCA, the paper's linear baseline, on the same curves.
    P = PCA(n_components=2, random_state=seed).fit_transform(X)
    pca = {t: [spearmanr(P[:, j], table[t]).statistic for j in range(2)] for t in rho}
    print("  Spearman rho   LA1      LA2      | PC1      PC2")
    for target, values in rho.items():
        print(
            f"  {target:<13}"
            + " ".join(f"{v:+.3f}  " for v in values)
            + "| "
            + " ".join(f"{v:+.3f}  " for v in pca[target])
        )
    print(f"  rho(LA1, LA2) = {spearmanr(Z[:, 0], Z[:, 1]).statistic:+.3f}")
    # Walk along the axis that orders W (Fig. 3(b), (d)).
    axis = int(np.argmax(np.abs(rho["W"])))
    values = np.linspace(-2.5, 2.5, 6)
    curves = vae.latent_traversal(axis=axis, values=values)
    sign = np.sign(rho["W"][axis])
    print(
        f"  decoded along LA{axis + 1} (W {'increases' if sign > 0 else 'decreases'}"
        " with it): echo height (scaled) at t = 2 tau"
    )
    print(
        "    "
        + "  ".join(
            f"{v:+.1f}: {c:.3f}"
            for v, c in zip(values, curves[:, echo_index], strict=True)
        )
    )
    return vae.n_epochs_


def epoch_time(X, hidden_sizes, n_rows, n_epochs, seed):
    """Seconds per epoch and echo (train + validation passes) on n_rows echoes.

    The echoes are repeated up to ``n_rows`` so that the per-epoch overhead
    of skorch is amortised as it would be on the paper's 15000 echoes.
    """
    rows = np.resize(np.arange(X.shape[0]), n_rows)
    vae = BetaVAE(hidden_sizes=hidden_sizes, max_epochs=n_epochs, random_state=seed)
    vae.fit(X[rows])
    # The fastest epoch: the least disturbed by other work on the machine.
    durations = np.asarray(vae.history_[:, "dur"])
    return float(durations.min()) / n_rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-echoes", type=int, default=600)
    parser.add_argument("--lattice-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--cache", default=None, help="npz file to keep the echoes in")
    parser.add_argument("--timing-echoes", type=int, default=3000)
    parser.add_argument("--timing-epochs", type=int, default=5)
    parser.add_argument(
        "--timing-only", action="store_true", help="skip the latent-space study"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")

    sim, echoes, table = simulate(
        args.n_echoes, args.lattice_size, args.seed, args.cache
    )
    echo = 2 * sim.n_tau
    half = round(sim.n_tau / 3)
    lo, hi = echo - half, echo + half  # samples lo..hi inclusive
    print(f"window: samples {lo}..{hi} of {echoes.shape[1]} ({hi - lo + 1} samples)")

    full = minmax_scale(echoes, axis=1)
    window = minmax_scale(echoes[:, lo : hi + 1], axis=1)
    runs = {
        "full series": (full, (512, 128, 16), echo),
        "window": (window, (128, 32, 16), echo - lo),
    }
    epochs = {name: None for name in runs}
    if not args.timing_only:
        epochs = {
            name: study(name, X, table, hidden, index, args.seed, args.batch_size)
            for name, (X, hidden, index) in runs.items()
        }

    print(
        f"\ntraining time, measured on {args.timing_echoes} echoes "
        f"({args.timing_epochs} epochs, fastest epoch), extrapolated to the paper's "
        f"{PAPER_N_ECHOES}:"
    )
    for name, (X, hidden, _) in runs.items():
        per_echo = epoch_time(
            X, hidden, args.timing_echoes, args.timing_epochs, args.seed
        )
        epoch = per_echo * PAPER_N_ECHOES
        print(
            f"  {name:<12} {per_echo * 1e6:7.1f} us per echo per epoch -> "
            f"{epoch:5.1f} s per epoch; "
            + ", ".join(
                f"{n} epochs: {epoch * n / 60:5.1f} min"
                for n in sorted({epochs[name] or 50, 50, 100})
            )
        )


if __name__ == "__main__":
    main()
