"""Which experiment tells what: a study of measurement protocols.

The paper learns from one 90-180 Hahn echo, read as ``|M(t)|``, and ends on
its limits: ``alpha_z`` cannot be learned from it, ``L`` is poor for
non-power kernels, and "designing specific pulse sequences which can access
different aspects of the spin dynamics may lead to a larger improvement".
This study measures that outlook. On one set of materials, each measured by
several experiments (:func:`sknmr.datasets.make_echoes` with ``sequences``),
a *protocol* is a choice of experiments and a *detection*:

* ``"magnitude"``: ``|M(t)|`` of each experiment, min-max scaled per echo
  (the paper's features);
* ``"quadrature"``: the real and imaginary parts of ``M(t)`` with a
  calibrated receiver phase (as simulated);
* ``"phase-blind"``: quadrature with an unknown receiver phase, the same
  for every experiment on a sample (one receiver), drawn at random per
  sample: every experiment is turned by the phase of the *first*
  experiment's echo top, which cancels the receiver's.

Each experiment contributes the samples within a third of the echo spacing
around each of its echoes (``2 tau +- tau/3`` for a Hahn echo, the paper's
window), side by side through a :class:`~sklearn.compose.ColumnTransformer`.
Random forests are cross-validated on those features: ``R^2`` of ``W``,
``L`` (all, power, non-power), the in-plane and out-of-plane couplings and,
when the prior varies it, ``t2``; weighted and binary F1 of power vs
non-power (oversampled inside training folds only). :func:`protocol_study`
returns the table, :func:`protocol_figure` draws "which experiment tells
what", and ``sknmr protocols`` runs it all from the command line.

This module holds the study's loop and :func:`run_protocols`; the protocols
and their presets are in :mod:`._protocol_designs`, the estimators in
:mod:`._protocol_estimators` and the figure and report in
:mod:`._protocols_report`.
"""

import functools
import json
import os
import time
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from .._progress import progress_message
from ..utils._random import MAX_SEED, ProtocolStream, check_seed, derive_seed
from ._classification import F1_SCORERS, make_oversampled_pipeline
from ._protocol_designs import (
    DETECTIONS,
    PROTOCOL_PRESETS,
    _check_protocol,
    _check_protocol_settings,
    _echo_samples,
    default_experiments,
    default_protocols,
)
from ._protocol_estimators import _ExperimentFeatures, _protocol_regressor
from ._protocols_report import (
    _best_protocols,
    _protocols_report_lines,
    _score_columns,
    protocol_figure,
)
from ._regression import power_subsets
from ._runner import _check_folder, _StudyRun

__all__ = [
    "DETECTIONS",
    "PROTOCOL_PRESETS",
    "default_experiments",
    "default_protocols",
    "protocol_figure",
    "protocol_study",
    "run_protocols",
]


def _with_receiver_phase(X, random_state):
    """Every sample's echoes turned by one random receiver phase."""
    rng = np.random.default_rng(random_state)
    phase = np.exp(2j * np.pi * rng.random(len(X)))
    return np.asarray(X) * phase[:, None]


def _cv_r2(model, X, y, cv, params=None):
    """Mean and spread over shuffled folds of a model's test R^2."""
    if len(y) < cv:
        return np.nan, np.nan
    scores = cross_validate(
        model, X, y, cv=KFold(cv, shuffle=True, random_state=0), params=params
    )["test_score"]
    return float(np.mean(scores)), float(np.std(scores))


@validate_params(
    {
        "data": [dict],
        "protocols": [dict, None],
        "targets": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def protocol_study(
    data,
    *,
    protocols=None,
    targets=None,
    cv=5,
    n_estimators=100,
    random_state=0,
    n_jobs=None,
    verbose=0,
):
    """Cross-validated scores of every protocol on the same materials.

    Parameters
    ----------
    data : Bunch
        From :func:`sknmr.datasets.make_echoes` with ``sequences`` naming
        every experiment the protocols use, recorded as ``output="complex"``
        (magnitude detection takes ``|M|``).
    protocols : dict, default=None
        Name -> ``(experiments, detection)``; None: :func:`default_protocols`.
    targets : sequence of str, default=None
        Regression targets; None: ``W``, ``L``, the in-plane coupling
        (``alpha_xy``, or ``alpha_x``), ``alpha_z`` and ``t2`` when the
        prior varies it.
    cv : int, default=5
        Folds of every cross-validation.
    n_estimators : int, default=100
        Trees of every random forest.
    random_state : int, default=0
        Seeds the receiver phases, the folds and the forests.
    n_jobs : int, default=None
        Cores of every forest.
    verbose : int, default=0
        Print a line per protocol.

    Returns
    -------
    table : pandas.DataFrame
        One row per protocol: ``experiments``, ``detection``,
        ``n_echoes`` (echoes per material), and the mean and standard
        deviation over folds (``_std``) of ``R2 <target>``, ``R2 L power``,
        ``R2 L non-power``, ``F1 weighted`` and ``F1 binary``.
    """
    seed = check_seed(random_state)
    blocks = getattr(data, "blocks", None)
    if not blocks:
        raise ValueError(
            "data must come from make_echoes(..., sequences=...): it has no blocks."
        )
    X = np.asarray(data.data)
    if not np.iscomplexobj(X):
        raise ValueError(
            "The protocol study needs the complex signal M(t) of every experiment "
            "(make_echoes sequences with output='complex'); magnitude detection "
            "takes its modulus."
        )
    protocols = default_protocols() if protocols is None else dict(protocols)
    for name, protocol in protocols.items():
        _check_protocol(name, protocol, blocks)
    target = data.target
    in_plane = "alpha_x" if "alpha_x" in target else "alpha_xy"
    if targets is None:
        targets = ["W", "L", in_plane, "alpha_z"]
        if "t2" in target and target["t2"].nunique() > 1:
            targets.append("t2")
    else:
        targets = list(targets)
        numeric = [
            c for c in target.columns if pd.api.types.is_numeric_dtype(target[c])
        ]
        unknown = [t for t in targets if t not in numeric]
        if not targets or unknown:
            raise ValueError(
                f"targets must be numeric columns of data.target {numeric}; got "
                f"{targets!r}."
            )
    power_count = int(np.asarray(target["power"]).sum())
    if cv > min(power_count, len(target) - power_count):
        raise ValueError(
            f"cv={cv} folds need at least {cv} power and {cv} non-power materials; "
            f"data has {power_count} and {len(target) - power_count}."
        )
    windows = {}
    for name in blocks:
        experiment = data.experiments[name]
        windows[name] = _echo_samples(
            data.times[blocks[name]], experiment.sequence, experiment.dt
        )
    # one receiver phase per sample, shared by its experiments
    X_blind = _with_receiver_phase(X, derive_seed(seed, ProtocolStream.RECEIVER_PHASE))
    subsets = power_subsets(target)
    power = np.asarray(target["power"])
    forest_seed = derive_seed(seed, ProtocolStream.FORESTS)
    rows = []
    w = np.asarray(target["W"], dtype=float)
    for name, protocol in protocols.items():
        started = time.perf_counter()
        adaptive = isinstance(protocol, dict)
        if adaptive:
            detection = protocol.get("detection", "quadrature")
            experiments = [protocol["first"], *protocol["options"]]
            row = {
                "protocol": name,
                "experiments": f"{protocol['first']}, then one of "
                + " / ".join(protocol["options"])
                + " by predicted W",
                "detection": detection,
                "n_echoes": 2,
            }
        else:
            experiments, detection = protocol
            row = {
                "protocol": name,
                "experiments": " + ".join(experiments),
                "detection": detection,
                "n_echoes": len(experiments),
            }
        source = X_blind if detection == "phase-blind" else X
        features = _ExperimentFeatures(blocks, windows, list(experiments), detection)

        regressor = functools.partial(
            _protocol_regressor,
            protocol if adaptive else None,
            features,
            n_estimators=n_estimators,
            cv=cv,
            random_state=forest_seed,
            n_jobs=n_jobs,
        )
        scored = [(column, column, subsets["all"]) for column in targets]
        scored += [
            ("L", f"L {subset}", subsets[subset]) for subset in ("power", "non-power")
        ]
        for column, label, mask in scored:
            y = np.asarray(target[column], dtype=float)
            params = {"w": w[mask]} if adaptive else None
            mean, std = _cv_r2(regressor(), source[mask], y[mask], cv, params)
            row[f"R2 {label}"], row[f"R2 {label}_std"] = mean, std
        if adaptive:  # a regressor: the kernel class is left to the others
            for label in ("F1 weighted", "F1 binary"):
                row[label] = row[f"{label}_std"] = np.nan
        else:
            classifier = make_pipeline(
                features,
                make_oversampled_pipeline(
                    RandomForestClassifier(
                        n_estimators=n_estimators,
                        random_state=forest_seed,
                        n_jobs=n_jobs,
                    ),
                    random_state=forest_seed,
                ),
            )
            scores = cross_validate(
                classifier,
                source,
                power,
                cv=StratifiedKFold(cv, shuffle=True, random_state=0),
                scoring={k: F1_SCORERS[k] for k in ("f1_weighted", "f1_binary")},
            )
            for key, label in (
                ("f1_weighted", "F1 weighted"),
                ("f1_binary", "F1 binary"),
            ):
                row[label] = float(np.mean(scores[f"test_{key}"]))
                row[f"{label}_std"] = float(np.std(scores[f"test_{key}"]))
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        if verbose:
            scores_text = ", ".join(f"{k} {row[k]:.2f}" for k in _score_columns(row))
            progress_message(verbose, "protocols", f"{name}: {scores_text}")
    return pd.DataFrame(rows).set_index("protocol")


@validate_params(
    {
        "output": [str, os.PathLike],
        "preset": [StrOptions(set(PROTOCOL_PRESETS))],
        "memory": [str, os.PathLike, HasMethods("cache"), None],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, MAX_SEED, closed="both")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def run_protocols(
    output,
    preset="quick",
    *,
    memory=None,
    n_jobs=None,
    random_state=0,
    verbose=1,
    **overrides,
):
    """Simulate the protocols' experiments, score them and write a report folder.

    Writes ``protocols.csv`` (the table of :func:`protocol_study`),
    ``protocols.json`` (the table, the best protocol of each score and the
    settings), ``protocols.png`` (:func:`protocol_figure`) and ``report.md``.
    Every argument is checked before the folder is created or any echo
    simulated.

    Parameters
    ----------
    output : str or path
        The report folder (created).
    preset : {"quick", "full"}, default="quick"
        :data:`PROTOCOL_PRESETS`; ``overrides`` replace its entries.
    memory : str, path, joblib.Memory or None, default=None
        Caches the simulated chunks (see :func:`sknmr.datasets.make_echoes`).
    n_jobs : int, default=None
        Parallel simulation chunks and forest cores.
    random_state : int, default=0
    verbose : int, default=1
        Progress (a line per protocol, a bar for the simulation) when > 0.
    **overrides
        Settings of :data:`PROTOCOL_PRESETS` (``n_per_kernel``,
        ``lattice_size``, ``tau``, ``cv``, ``n_estimators``).

    Returns
    -------
    table : pandas.DataFrame

    Examples
    --------
    >>> from sknmr.study import run_protocols
    >>> run_protocols("protocols_report", cv=1)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'cv' parameter ...
    """
    from ..datasets import make_echoes
    from ..simulator import EchoSimulator

    settings = _check_protocol_settings(preset, overrides)
    out = _check_folder(output, "output")
    simulator = EchoSimulator(
        lattice_size=settings["lattice_size"], tau=settings["tau"], dtype="float32"
    )
    experiments = default_experiments(settings["tau"])
    run = _StudyRun("protocols", out, int(verbose)).start()
    run.log(
        f"simulating {len(experiments)} experiments on "
        f"{3 * settings['n_per_kernel']} materials "
        f"({settings['lattice_size']}x{settings['lattice_size']})"
    )
    data = make_echoes(
        settings["n_per_kernel"],
        simulator=simulator,
        sequences={
            name: {"sequence": sequence, "output": "complex"}
            for name, sequence in experiments.items()
        },
        random_state=random_state,
        memory=memory,
        n_jobs=n_jobs,
        verbose=run.verbose,
    )
    run.step("dataset")
    table = protocol_study(
        data,
        cv=settings["cv"],
        n_estimators=settings["n_estimators"],
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=run.verbose,
    )
    run.step("protocols")
    table.to_csv(run.path("protocols.csv"))
    protocol_figure(table, run.path("protocols.png"))
    summary = {
        "preset": preset,
        "settings": settings,
        "random_state": random_state,
        "experiments": {k: v.to_dict() for k, v in experiments.items()},
        "table": json.loads(table.to_json(orient="index")),
        "best": _best_protocols(table),
        "wall_time_s": round(run.wall_time, 1),
    }
    run.write_json("protocols.json", summary)
    report = run.write_report(_protocols_report_lines(summary, "protocols.png"))
    run.log(f"wrote {report} ({summary['wall_time_s']:.0f} s)")
    return table
