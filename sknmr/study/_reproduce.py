""":func:`reproduce`: simulate the paper's dataset, run its analyses, write a report."""

import os
import platform
import time
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .. import __version__
from ..datasets import load_echoes, make_echoes
from ..kernels import KERNELS
from ..utils._random import ReproduceStream, check_seed, derive_seed
from ..utils._resources import check_n_jobs
from ..window import EchoWindow
from ._ablations import (
    ABLATIONS,
)
from ._classification import classification_analysis, table_i
from ._features import _check_sections, _grid, prepare_features
from ._figures import _make_figures
from ._presets import (
    _PAPER_LINEWIDTH,
    _default_ablation_lattices,
    _default_linewidth,
    _preset_simulator,
    _resolve_preset,
)
from ._regression import regression_analysis
from ._report import _comparison, _jsonable, _nested, _notes, _report_lines
from ._reproduce_ablations import _run_ablations
from ._runner import _check_folder, _StudyRun
from ._unsupervised import _ORDERED_RHO, pca_kmeans_analysis, vae_analysis

__all__ = ["reproduce"]


#: The tolerance within which an ablation row "reproduces" a paper number.
def _load_data(data):
    """The dataset ``data`` names: a Bunch as it is, or read from a ``.npz`` file."""
    if isinstance(data, (str, os.PathLike)):
        try:
            return load_echoes(data)
        except OSError as exc:
            raise ValueError(
                f"data must be a dataset or a readable .npz file from save_echoes; "
                f"{os.fspath(data)!r} cannot be read: {exc}"
            ) from None
    for attribute in ("data", "target", "times"):
        if not hasattr(data, attribute):
            raise TypeError(
                "data must be a Bunch from sknmr.datasets.make_echoes/load_echoes "
                f"or the path of a .npz file from save_echoes; it lacks {attribute!r}."
            )
    return data


def _check_window(simulator, settings):
    """Fail on bad simulator settings or a window too short for the sections."""
    window = EchoWindow.for_simulator(simulator).fit(np.zeros((1, simulator.n_times)))
    _check_sections(window.times_.size, settings["sections"])


def _check_memory(memory):
    """Check a cache folder (or ``joblib.Memory``) before anything is written."""
    if memory is None:
        return None
    if isinstance(memory, joblib.Memory):
        location = getattr(memory, "location", None)
        if location is not None:
            _check_folder(location, "memory")
        return memory
    if not isinstance(memory, (str, os.PathLike)):
        raise TypeError(
            "memory must be None, a folder (str or path-like) or a joblib.Memory; "
            f"got {type(memory).__name__}."
        )
    return _check_folder(os.path.expanduser(os.fspath(memory)), "memory")


def _check_ablations(ablations, lattice_sizes, n_per_kernel, settings):
    """Validate the ablation arguments; returns them resolved.

    ``(ablations, lattice_sizes, n_per_kernel, linewidth_lattice)``: the
    ablations in the order they run, the lattice ablation's sizes, the echoes
    per kernel of the simulated ablation datasets and the lattice of the
    linewidth ablation.
    """
    if isinstance(ablations, str):
        ablations = (ablations,)
    try:
        names = list(ablations)
    except TypeError:
        raise TypeError(
            f"ablations must be a sequence of names among {list(ABLATIONS)}; got "
            f"{ablations!r}."
        ) from None
    for name in names:
        if name not in ABLATIONS:
            raise ValueError(
                f"ablations must be names among {list(ABLATIONS)}; got {name!r}."
            )
    names = tuple(a for a in ABLATIONS if a in names)
    simulated = {"linewidth", "lattice"} & set(names)
    given = lattice_sizes
    if lattice_sizes is not None:
        if isinstance(lattice_sizes, (str, bytes)) or not hasattr(
            lattice_sizes, "__iter__"
        ):
            raise TypeError(
                "ablation_lattice_sizes must be a sequence of ints >= 2 (lattice "
                f"sides) or None; got {lattice_sizes!r}."
            )
        lattice_sizes = list(lattice_sizes)
        if not lattice_sizes or not all(_is_int(n) and n >= 2 for n in lattice_sizes):
            raise ValueError(
                "ablation_lattice_sizes must be a non-empty sequence of ints >= 2 "
                f"(lattice sides); got {lattice_sizes!r}."
            )
        lattice_sizes = tuple(dict.fromkeys(int(n) for n in lattice_sizes))
    if n_per_kernel is not None and (not _is_int(n_per_kernel) or n_per_kernel < 1):
        raise ValueError(
            f"ablation_n_per_kernel must be a positive int or None; got "
            f"{n_per_kernel!r}."
        )
    for option, value in (
        ("ablation_lattice_sizes", given),
        ("ablation_n_per_kernel", n_per_kernel),
    ):
        if value is not None and not simulated:
            raise ValueError(
                f"{option} sets the datasets of the 'linewidth' and 'lattice' "
                "ablations; ask for one of them in ablations, or leave it out."
            )
    if lattice_sizes is None:
        lattice_sizes = _default_ablation_lattices(settings["lattice_size"])
        linewidth_lattice = settings["lattice_size"]
    else:
        linewidth_lattice = lattice_sizes[0]
    n = settings["n_per_kernel"] if n_per_kernel is None else int(n_per_kernel)
    return names, lattice_sizes, n, linewidth_lattice


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _check_arguments(
    output_dir,
    preset="quick",
    *,
    data=None,
    memory=None,
    n_jobs=None,
    random_state=0,
    verbose=1,
    linewidth=None,
    ablations=(),
    ablation_lattice_sizes=None,
    ablation_n_per_kernel=None,
):
    """Validate every argument of :func:`reproduce` before any work.

    Raises a ValueError or TypeError that names the parameter; creates
    nothing. Returns the resolved arguments: ``name``, ``settings``, ``out``,
    ``memory``, ``n_jobs``, ``random_state``, ``dataset`` (the given data,
    loaded, or None), ``simulator`` (None when data is given), ``linewidth``
    (of the simulated dataset, or of the ablation datasets when data is
    given), ``ablations``, ``ablation_lattice_sizes``,
    ``ablation_n_per_kernel`` and ``linewidth_lattice`` (resolved).
    """
    name, settings = _resolve_preset(preset)
    if not isinstance(random_state, Integral) or isinstance(random_state, bool):
        raise TypeError(
            f"random_state must be an int (the seed of the dataset and of every "
            f"analysis); got {random_state!r}."
        )
    random_state = check_seed(random_state, "random_state")
    n_jobs = check_n_jobs(n_jobs, "n_jobs")
    if not isinstance(verbose, (Integral, np.bool_)):
        raise TypeError(f"verbose must be an int (0: silent); got {verbose!r}.")
    if linewidth is not None:
        if not isinstance(linewidth, Real) or isinstance(linewidth, bool):
            raise TypeError(
                f"linewidth must be a positive number (MHz) or None; got {linewidth!r}."
            )
        if not (np.isfinite(linewidth) and linewidth > 0):
            raise ValueError(
                f"linewidth must be a positive, finite number (MHz); got {linewidth!r}."
            )
    out = _check_folder(output_dir, "output_dir")
    if os.path.exists(os.path.join(out, "figures")) and not os.path.isdir(
        os.path.join(out, "figures")
    ):
        raise ValueError(
            f"output_dir must be a folder that can hold figures/; "
            f"{os.path.join(out, 'figures')!r} is a file."
        )
    ablations, lattice_sizes, n_ablation, linewidth_lattice = _check_ablations(
        ablations, ablation_lattice_sizes, ablation_n_per_kernel, settings
    )
    memory = _check_memory(memory)
    dataset = simulator = None
    if data is not None:
        dataset = _load_data(data)
    else:
        simulator = _preset_simulator(settings, linewidth)
        # Fail now, not after the simulation, on bad simulator settings or a
        # window too short for the polynomial sections.
        _check_window(simulator, settings)
    # The simulators of the ablation datasets, checked the same way.
    main_linewidth = _default_linewidth() if linewidth is None else float(linewidth)
    if "linewidth" in ablations:
        for width in (_PAPER_LINEWIDTH, _default_linewidth()):
            _check_window(
                _preset_simulator(
                    {**settings, "lattice_size": linewidth_lattice}, width
                ),
                settings,
            )
    if "lattice" in ablations:
        for size in lattice_sizes:
            _check_window(
                _preset_simulator({**settings, "lattice_size": size}, main_linewidth),
                settings,
            )
    return Bunch(
        linewidth=main_linewidth,
        ablations=ablations,
        ablation_lattice_sizes=lattice_sizes,
        ablation_n_per_kernel=n_ablation,
        linewidth_lattice=linewidth_lattice,
        name=name,
        settings=settings,
        out=out,
        memory=memory,
        n_jobs=n_jobs,
        random_state=random_state,
        verbose=int(verbose),
        dataset=dataset,
        simulator=simulator,
    )


def reproduce(
    output_dir,
    preset="quick",
    *,
    data=None,
    memory=None,
    n_jobs=None,
    random_state=0,
    verbose=1,
    linewidth=None,
    ablations=(),
    ablation_lattice_sizes=None,
    ablation_n_per_kernel=None,
):
    """Run the paper's analyses and write a report folder.

    Simulates the dataset with :func:`sknmr.datasets.make_echoes` (or reads
    it from ``memory``'s cache, or takes ``data``), then runs, with the
    package's own estimators, every analysis whose number the paper reports:

    - Table I, power vs non-power F1 of seven classifiers, cross-validated,
      the minority class oversampled inside training folds only
      (:func:`table_i`);
    - the random forest's confusion matrix and the power class's
      "false-positive rate" with and without W screening
      (:class:`~sknmr.WScreenedClassifier`), and the screened F1
      (:func:`classification_analysis` on the pointwise and the polynomial
      features, Fig. 4(b-c), Appendix C5);
    - the regression R^2 of W, L, alpha_xy and alpha_z on all / power /
      non-power echoes (:func:`regression_analysis`, both features,
      Fig. 5(e));
    - the order of W, L and the kernel along the latent axes of a
      :class:`~sknmr.BetaVAE`, for the full series and the window
      (:func:`vae_analysis`, Fig. 3);
    - PCA with 2 components and the K-means elbow
      (:func:`pca_kmeans_analysis`, Fig. 6);
    - the ``ablations`` asked for, each a difference from the paper measured
      by switching one setting (see below);

    draws every figure with :mod:`sknmr.plotting`, and writes into
    ``output_dir``:

    - ``report.md``: the paper's numbers beside ours, every table, figure
      and setting;
    - ``results.json``: every number, the preset and the dataset's
      generation settings;
    - ``figures/*.png``.

    Every argument is checked before any folder is created or any echo
    simulated. The features are those of :func:`prepare_features`.

    Parameters
    ----------
    output_dir : str or path-like
        The report folder (created if needed; files in it are overwritten).
    preset : {"quick", "full"} or dict, default="quick"
        The settings (:data:`PRESETS`): ``"quick"`` runs in minutes on two
        CPU cores (500 echoes per kernel on a 32 x 32 lattice, see
        :data:`PRESETS`), ``"full"`` is the paper's 5000 per kernel on
        100 x 100 (minutes on a GPU, an hour or more of CPU). A dict gives
        settings over those of ``"quick"`` (e.g. for tests).
    data : Bunch or path, default=None
        A dataset from ``make_echoes``/``load_echoes`` or a ``.npz`` file
        from ``save_echoes`` to analyse instead of simulating one; the
        preset's simulation settings are then unused.
    memory : str, path or joblib.Memory, default=None
        Cache of simulated chunks (see ``make_echoes``): a second run, or a
        resumed one, reads them back.
    n_jobs : int, default=None
        Chunks simulated at once, and cores of the random forests: None
        (one), a positive int, or -1 .. -(number of cores) counted from the
        end.
    random_state : int, default=0
        Seeds the dataset and every analysis (each gets its own seed derived
        from this one), in ``[0, 2**32 - 1]``.
    verbose : int, default=1
        Print progress when > 0 (a line per step, a bar per simulation).
    linewidth : float, default=None
        Offset linewidth (MHz) of the simulator; None keeps its default
        (0.08). The paper states 0.008.
    ablations : sequence of {"oversampling", "screening", "linewidth", \
"lattice"}, default=()
        Ablations to run after the main analyses, each with its own seeds
        (the main numbers do not change), each a set of rows of the report's
        "Ablations" table and of ``results["ablations"]``:

        - ``"oversampling"``: the power class oversampled before the
          train/test split (as the first author's notebooks did in places)
          vs inside the training folds only
          (:func:`~sknmr.study.oversampling_ablation`, window features);
        - ``"screening"``: W screening with training bins by true or
          out-of-fold W, scored routed by predicted W and per true-W range,
          for both oversampling settings
          (:func:`~sknmr.study.screening_ablation`);
        - ``"linewidth"``: the :func:`~sknmr.study.core_metrics` of a
          dataset simulated with the paper's 0.008 MHz and of one with
          sknmr's 0.08 MHz (lattice ``ablation_lattice_sizes[0]``, or the
          preset's);
        - ``"lattice"``: the core metrics on each lattice of
          ``ablation_lattice_sizes``.

        The simulated datasets share the preset's prior, time grid and
        ``random_state`` and are cached in ``memory``; the one equal to the
        main dataset is not simulated again.
    ablation_lattice_sizes : sequence of int, default=None
        Lattice sides (>= 2) of the ``"lattice"`` ablation; None: half the
        preset's lattice and the preset's (16 and 32 for ``"quick"``). The
        paper's is 100.
    ablation_n_per_kernel : int, default=None
        Echoes per kernel of the datasets the ``"linewidth"`` and
        ``"lattice"`` ablations simulate; None: the preset's.

    Returns
    -------
    result : Bunch
        ``results`` (what ``results.json`` holds), ``report`` (path of
        ``report.md``), ``output_dir``, ``figures`` (list of paths) and
        ``dataset``.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.study import reproduce
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     reproduce(os.path.join(folder, "report"), n_jobs=0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be None, a positive int or a negative int ...
    """
    started = time.perf_counter()
    args = _check_arguments(
        output_dir,
        preset,
        data=data,
        memory=memory,
        n_jobs=n_jobs,
        random_state=random_state,
        verbose=verbose,
        linewidth=linewidth,
        ablations=ablations,
        ablation_lattice_sizes=ablation_lattice_sizes,
        ablation_n_per_kernel=ablation_n_per_kernel,
    )
    name, settings, out = args.name, args.settings, args.out
    n_jobs, random_state = args.n_jobs, args.random_state
    run = _StudyRun("reproduce", out, args.verbose, subfolders=("figures",)).start()
    step = run.step

    if args.dataset is None:
        run.log(
            f"preset {name!r}: simulating {len(KERNELS) * settings['n_per_kernel']} "
            f"echoes on {settings['lattice_size']}x{settings['lattice_size']}",
        )
        dataset = make_echoes(
            settings["n_per_kernel"],
            simulator=args.simulator,
            random_state=random_state,
            memory=args.memory,
            n_jobs=n_jobs,
            chunk_size=settings["chunk_size"],
            verbose=run.verbose,
        )
    else:
        dataset = args.dataset
        run.log(f"analysing the given dataset of {len(dataset.target)} echoes")
    step("dataset")

    features = prepare_features(dataset, sections=settings["sections"])
    step("features")
    generation = getattr(dataset, "settings", None) or {}
    experiment = getattr(dataset, "experiment", None)
    tau, dt = _grid(dataset)
    counts = features.targets["kernel"].value_counts().to_dict()
    results = {
        "sknmr_version": __version__,
        "preset": name,
        "preset_settings": settings,
        "random_state": int(random_state),
        "machine": f"{platform.machine()} with {os.cpu_count()} CPU cores",
        "dataset": {
            "n_echoes": int(len(features.targets)),
            "counts": {k: int(counts.get(k, 0)) for k in KERNELS},
            "lattice_size": None if experiment is None else experiment.lattice_size,
            "tau": tau,
            "dt": dt,
            "n_times": int(features.full.shape[1]),
            "linewidth": None if experiment is None else experiment.linewidth,
            "seed": generation.get("seed"),
            "backend": generation.get("simulation", {}).get("backend"),
            "generation_settings": generation,
        },
        "features": {
            "n_window": int(features.window.shape[1]),
            "n_poly": int(features.poly.shape[1]),
            "window_us": [
                float(features.window_times[0]),
                float(features.window_times[-1]),
            ],
        },
    }
    parts = {}
    n_estimators = settings["n_estimators"]

    run.log("Table I: seven classifiers, cross-validated F1")
    table, table_warnings = table_i(
        features.window,
        features.y,
        cv=settings["cv"],
        n_estimators=n_estimators,
        random_state=derive_seed(random_state, ReproduceStream.TABLE_I),
        n_jobs=n_jobs,
    )
    results["table_i"] = {
        model: {column: row[column] for column in table.columns}
        for model, row in table.iterrows()
    }
    results["table_i_warnings"] = table_warnings
    step("table_i")

    train, test = train_test_split(
        np.arange(len(features.y)),
        test_size=settings["test_size"],
        stratify=features.y,
        random_state=derive_seed(random_state, ReproduceStream.TEST_SPLIT),
    )
    featurizations = (("pointwise", features.window), ("polynomial", features.poly))
    parts["classification"] = {}
    for featurization, X in featurizations:
        run.log(f"random forest and W screening ({featurization} features)")
        parts["classification"][featurization] = classification_analysis(
            X,
            features.y,
            features.w,
            train,
            test,
            n_estimators=n_estimators,
            regression_max_features=settings["regression_max_features"],
            cv=settings["cv"],
            random_state=derive_seed(random_state, ReproduceStream.CLASSIFICATION),
            n_jobs=n_jobs,
        )
    results["classification"] = {
        k: v.metrics for k, v in parts["classification"].items()
    }
    step("classification")

    parts["regression"] = {}
    for featurization, X in featurizations:
        run.log(f"regression of W, L, alpha_xy, alpha_z ({featurization})")
        parts["regression"][featurization] = regression_analysis(
            X,
            features.targets,
            n_estimators=n_estimators,
            max_features=settings["regression_max_features"],
            test_size=settings["test_size"],
            random_state=derive_seed(random_state, ReproduceStream.REGRESSION),
            n_jobs=n_jobs,
        )
    results["regression"] = {k: _nested(v) for k, v in parts["regression"].items()}
    step("regression")

    results["vae"] = {}
    for key, X, params in (
        ("full", features.full, settings["vae"]),
        ("window", features.window, settings["vae_window"]),
    ):
        run.log(f"BetaVAE on the {key} series")
        result = vae_analysis(
            X,
            features.targets,
            vae_params=params,
            device=settings["device"],
            threads=settings["torch_threads"],
            random_state=derive_seed(random_state, ReproduceStream.VAE),
        )
        parts[f"vae_{key}"] = result
        results["vae"][key] = {
            "orderings": result.orderings.to_dict(orient="index"),
            "w_axis": result.w_axis,
            "w_rho": result.w_rho,
            "w_ordered": bool(abs(result.w_rho) >= _ORDERED_RHO),
            "n_epochs": result.n_epochs,
            "hidden_sizes": list(params.get("hidden_sizes", (512, 128, 16))),
        }
    step("vae")

    run.log("PCA and K-means")
    pk = pca_kmeans_analysis(
        features.full,
        features.targets,
        max_clusters=settings["max_clusters"],
        random_state=derive_seed(random_state, ReproduceStream.PCA_KMEANS),
    )
    parts["pca_kmeans"] = pk
    results["pca_kmeans"] = {
        "explained_variance_ratio": pk.explained_variance_ratio,
        "orderings": pk.orderings.to_dict(orient="index"),
        "ks": pk.ks,
        "sse": pk.sse,
        "elbow": pk.elbow,
        "k2_mean_w": pk.k2_mean_w,
        "k2_auc": pk.k2_auc,
        "k2_splits_w": pk.k2_splits_w,
    }
    step("pca_kmeans")

    if args.ablations:
        results["ablations"] = _run_ablations(args, dataset, features, run)
        step("ablations")

    run.log("figures")
    figures = _make_figures(out, features, parts, settings)
    step("figures")

    results["timings_s"] = run.timings
    results["wall_time_s"] = time.perf_counter() - started
    results["notes"] = _notes(results)
    results["comparison"] = [
        {"result": r, "paper": p, "ours": o if isinstance(o, str) else _jsonable(o)}
        for r, p, o in _comparison(results)
    ]
    results = _jsonable(results)
    report = run.write_report(_report_lines(results, figures))
    run.write_json("results.json", results)
    run.log(f"wrote {report} ({results['wall_time_s']:.0f} s)")
    return Bunch(
        results=results,
        report=report,
        output_dir=out,
        figures=[os.path.join(out, f["file"]) for f in figures],
        dataset=dataset,
    )
