"""The ablations of :func:`~sknmr.study.reproduce`, run on its dataset."""

from ..datasets import make_echoes
from ..kernels import KERNELS
from ..utils._random import ReproduceStream, derive_seed
from ._ablations import (
    ablation_row,
    oversampling_ablation,
    screening_ablation,
    which_settings_reproduce,
)
from ._dataset_ablations import _lattice_label, _linewidth_label, core_metrics
from ._presets import _PAPER_LINEWIDTH, _default_linewidth, _preset_simulator

#: How close an ablation's number must come to the paper's to reproduce it.
_REPRODUCE_TOLERANCE = 0.03


def _run_ablations(args, dataset, features, run):
    """The ablations ``args`` asks for: their rows and which reproduce the paper."""
    settings, n_jobs = args.settings, args.n_jobs
    random_state = args.random_state
    common = {
        "cv": settings["cv"],
        "test_size": settings["test_size"],
        "n_estimators": settings["n_estimators"],
        "regression_max_features": settings["regression_max_features"],
        "n_jobs": n_jobs,
    }
    rows = []
    analyses = None
    for ablation, ablate in (
        ("oversampling", oversampling_ablation),
        ("screening", screening_ablation),
    ):
        if ablation not in args.ablations:
            continue
        run.log(
            f"ablation {ablation}: "
            + (
                "random forest and W screening, oversampled inside training folds "
                "and before the split (pointwise features)"
                if analyses is None
                else "the oversampling ablation's fits, every bin and routing"
            ),
        )
        result = ablate(
            features.window,
            features.y,
            features.w,
            random_state=derive_seed(random_state, ReproduceStream.ABLATION_SPLITS),
            analyses=analyses,
            **common,
        )
        analyses = result.analyses
        rows += result.rows

    datasets, core = {}, {}
    n = args.ablation_n_per_kernel
    if args.dataset is None:  # the main dataset, not simulated again
        datasets[
            (settings["lattice_size"], settings["n_per_kernel"], args.linewidth)
        ] = dataset

    def metrics_of(ablation, lattice_size, linewidth):
        key = (lattice_size, n, float(linewidth))
        if key not in datasets:
            run.log(
                f"ablation {ablation}: simulating {len(KERNELS) * n} echoes on "
                f"{lattice_size}x{lattice_size}, linewidth {linewidth:g} MHz",
            )
            datasets[key] = make_echoes(
                n,
                simulator=_preset_simulator(
                    {**settings, "lattice_size": lattice_size}, linewidth
                ),
                random_state=random_state,
                memory=args.memory,
                n_jobs=n_jobs,
                chunk_size=settings["chunk_size"],
                verbose=run.verbose,
            )
        if key not in core:
            run.log(
                f"ablation {ablation}: core metrics on {lattice_size}x{lattice_size}, "
                f"linewidth {linewidth:g} MHz",
            )
            core[key] = core_metrics(
                datasets[key],
                sections=settings["sections"],
                random_state=derive_seed(random_state, ReproduceStream.ABLATION_CORE),
                **common,
            )
        details = {
            "n_echoes": int(len(datasets[key].target)),
            "lattice_size": lattice_size,
            "linewidth": float(linewidth),
        }
        return core[key], details

    if "linewidth" in args.ablations:
        default = _default_linewidth()
        for width in (_PAPER_LINEWIDTH, default):
            metrics, details = metrics_of("linewidth", args.linewidth_lattice, width)
            label = _linewidth_label(width, _PAPER_LINEWIDTH, default)
            rows.append(ablation_row("linewidth", label, metrics, **details))
    if "lattice" in args.ablations:
        for size in args.ablation_lattice_sizes:
            metrics, details = metrics_of("lattice", size, args.linewidth)
            rows.append(
                ablation_row("lattice", _lattice_label(size), metrics, **details)
            )
    return {
        "asked": list(args.ablations),
        "seeds": {
            "oversampling_screening": derive_seed(
                random_state, ReproduceStream.ABLATION_SPLITS
            ),
            "core_metrics": derive_seed(random_state, ReproduceStream.ABLATION_CORE),
            "datasets": int(random_state),
        },
        "lattice_sizes": list(args.ablation_lattice_sizes),
        "linewidth_lattice": args.linewidth_lattice,
        "n_per_kernel": n,
        "tolerance": _REPRODUCE_TOLERANCE,
        "rows": rows,
        "reproducing": which_settings_reproduce(rows, tolerance=_REPRODUCE_TOLERANCE),
    }
