"""The figures of the report of :func:`~sknmr.study.reproduce`.

Drawn with :mod:`sknmr.plotting` on :class:`matplotlib.figure.Figure`
objects (no pyplot state); matplotlib is imported when a figure is drawn, so
importing :mod:`sknmr.study` does not load it.
"""

import os

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from ..plotting import EchoDisplay, FeatureImportanceDisplay, LatentSpaceDisplay


def _figure(ncols=1, width=5.5, height=4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _save(fig, folder, name, figures, caption):
    path = os.path.join(folder, "figures", name)
    fig.savefig(path, dpi=110)
    figures.append({"file": f"figures/{name}", "caption": caption})


def _make_figures(out, features, parts, settings):
    """Every figure of the report; returns [{file, caption}]."""
    figures = []
    t = features.targets
    max_curves = settings["max_curves"]

    fig, (ax,) = _figure(width=7)
    EchoDisplay(
        features.full,
        features.times,
        c=t["W"].to_numpy(),
        c_label="W (MHz)",
        area=features.window_estimator,
    ).plot(ax=ax, max_curves=max_curves)
    ax.set_ylabel("|M(t)| scaled to [0, 1]")
    _save(
        fig,
        out,
        "echoes.png",
        figures,
        "Echoes coloured by W, area of interest shaded (Fig. 2(a)).",
    )

    fig, (ax,) = _figure(width=7)
    EchoDisplay(
        features.window,
        features.window_times,
        c=t["kernel"].to_numpy(),
        c_label="kernel",
    ).plot(ax=ax, max_curves=max_curves)
    ax.set_ylabel("|M(t)| scaled to [0, 1]")
    _save(
        fig,
        out,
        "window_by_kernel.png",
        figures,
        "Area of interest coloured by kernel (Fig. 2(d), 4(d)).",
    )

    if "classification" in parts:
        names = (
            ("unscreened", "random forest"),
            ("screened", "W-screened (predicted W)"),
            ("screened_oracle", "W-screened (true-W bins)"),
        )
        for featurization, label in (
            ("pointwise", "pointwise"),
            ("polynomial", "polynomial"),
        ):
            metrics = parts["classification"][featurization].metrics
            fig, axes = _figure(ncols=3, width=3.6, height=3.4)
            for ax, (key, title) in zip(axes, names, strict=True):
                ConfusionMatrixDisplay(
                    np.asarray(metrics[key]["confusion"]),
                    display_labels=["non-power", "power"],
                ).plot(ax=ax, colorbar=False, values_format=".2f", cmap="Blues")
                m = metrics[key]
                # The weighted F1 is the one comparable with the paper's.
                ax.set_title(
                    f"{title}\nF1 {m['f1_weighted']:.2f} weighted, "
                    f"{m['f1_binary']:.2f} power",
                    fontsize=9,
                )
            _save(
                fig,
                out,
                f"confusion_{featurization}.png",
                figures,
                f"Row-normalized confusion matrices, {label} features "
                "(Fig. 4(b-c), 8, 9).",
            )
        models = parts["classification"]
        captions = {
            "pointwise": (
                features.window_estimator,
                "Random forest (power vs non-power) importances of the pointwise "
                "features, top 10 highlighted (Fig. 4(e)).",
            ),
            "polynomial": (
                features.featurizer,
                "Top 10 polynomial features of the random forest: bar = the "
                "section's time span, colour = coefficient order (Fig. 4(f)).",
            ),
        }
        for featurization, (featurizer, caption) in captions.items():
            fig, (ax,) = _figure(width=7)
            FeatureImportanceDisplay.from_estimator(
                models[featurization].models["unscreened"],
                featurizer=featurizer,
                top_k=10,
                ax=ax,
            )
            _save(fig, out, f"importance_{featurization}.png", figures, caption)

    if "regression" in parts:
        table = parts["regression"]["pointwise"]
        fig, (ax,) = _figure(width=7)
        targets = list(dict.fromkeys(table.index.get_level_values("target")))
        subsets = list(dict.fromkeys(table.index.get_level_values("subset")))
        width = 0.8 / len(subsets)
        for i, subset in enumerate(subsets):
            values = [table.loc[(subset, name), "test_r2"] for name in targets]
            ax.bar(np.arange(len(targets)) + i * width, values, width, label=subset)
        ax.set_xticks(np.arange(len(targets)) + 0.4 - width / 2, targets)
        ax.axhline(0, color="k", linewidth=0.8)
        ax.set_ylabel("test R^2")
        ax.legend(title="trained on")
        _save(
            fig,
            out,
            "regression.png",
            figures,
            "Random forest regression, test R^2 on pointwise features (Fig. 5(e)).",
        )

    for key, times, label in (
        ("vae_full", features.times, "full series"),
        ("vae_window", features.window_times, "window"),
    ):
        if key not in parts:
            continue
        result = parts[key]
        fig, axes = _figure(ncols=3, width=4.2, height=3.6)
        for ax, (column, c_label) in zip(
            axes, (("kernel", "kernel"), ("W", "W (MHz)"), ("L", "L")), strict=True
        ):
            LatentSpaceDisplay(
                result.embedding, c=t[column].to_numpy(), c_label=c_label
            ).plot(ax=ax, s=4)
        _save(
            fig,
            out,
            f"{key}_latent.png",
            figures,
            f"BetaVAE latent space ({label}) coloured by kernel, W and L "
            "(Fig. 3(a), (c)).",
        )
        fig, (ax,) = _figure(width=7)
        EchoDisplay.from_traversal(result.model, axis=result.w_axis, times=times, ax=ax)
        ax.set_ylabel("decoded |M(t)|")
        _save(
            fig,
            out,
            f"{key}_traversal.png",
            figures,
            f"Curves decoded along latent axis {result.w_axis + 1}, the one most "
            f"correlated with W ({label}; Fig. 3(b), (d)).",
        )

    if "pca_kmeans" in parts:
        result = parts["pca_kmeans"]
        fig, axes = _figure(ncols=3, width=4.2, height=3.6)
        for ax, (column, c_label) in zip(
            axes, (("W", "W (MHz)"), ("L", "L"), ("kernel", "kernel")), strict=True
        ):
            LatentSpaceDisplay(
                result.embedding,
                c=t[column].to_numpy(),
                c_label=c_label,
                axis_labels=("PC1", "PC2"),
            ).plot(ax=ax, s=4)
        _save(
            fig,
            out,
            "pca.png",
            figures,
            "PCA (2 components) of the scaled echoes coloured by W, L and kernel "
            "(Fig. 6(a-c)).",
        )
        fig, axes = _figure(ncols=2, width=5, height=3.6)
        axes[0].plot(result.ks, result.sse, "o-")
        axes[0].axvline(
            result.elbow,
            color="tab:red",
            linestyle="--",
            label=f"elbow K = {result.elbow}",
        )
        axes[0].set_xticks(result.ks)
        axes[0].set_xlabel("K")
        axes[0].set_ylabel("SSE (inertia)")
        axes[0].legend()
        if result.k2_labels is not None:
            names = np.array([f"cluster {c + 1}" for c in result.k2_labels])
            if result.k2_mean_w is not None:
                names = np.array(
                    [
                        f"cluster {c + 1} (mean W {result.k2_mean_w[c]:.3f})"
                        for c in result.k2_labels
                    ]
                )
            EchoDisplay(features.full, features.times, c=names, c_label="K = 2").plot(
                ax=axes[1], max_curves=max_curves
            )
        _save(
            fig,
            out,
            "kmeans.png",
            figures,
            "K-means SSE against K and the echoes of the two K = 2 clusters "
            "(Fig. 6(d-e)).",
        )
    return figures
