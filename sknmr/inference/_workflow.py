"""From a file to a table and a figure: what ``sknmr infer`` runs.

:func:`train_model` simulates a training set for a simulator's settings and
fits an :class:`~sknmr.inference.EchoInference` on it; :func:`infer_file`
reads a measured echo, predicts its table and draws the measured echo beside
echoes simulated at the estimate and at the ends of the intervals
(:func:`echoes_at_estimate`).
"""

import dataclasses
import os
import warnings

import numpy as np
import pandas as pd

from .._paper import PAPER_PRIOR
from .._presets import PRESETS
from ..datasets import make_echoes
from ..io import read_echo
from ..kernels import KERNELS, kernel_stats
from ..simulator import EchoSimulator
from ._augment import check_augment
from ._estimator import EchoInference
from ._persist import load_model

__all__ = ["echoes_at_estimate", "infer_file", "summary", "train_model"]

#: Training sizes of ``sknmr infer --train``: ``quick`` for a first try (a
#: minute on two cores), ``default`` for use (minutes).
TRAINING_PRESETS = PRESETS["training"]


def train_model(
    simulator=None,
    *,
    n_per_kernel=500,
    linewidth=None,
    random_state=0,
    memory=None,
    n_jobs=None,
    verbose=0,
    **params,
):
    """Simulate a training set for ``simulator`` and fit an EchoInference on it.

    Parameters
    ----------
    simulator : EchoSimulator or None, default=None
        The settings of the experiment to interpret (its grid, tau, output);
        None: ``EchoSimulator(lattice_size=32, dtype="float32")``.
    n_per_kernel : int, default=500
        Training echoes per kernel, drawn from the paper's prior.
    linewidth : (float, float) or None, default=None
        Train with the linewidth free: each echo's linewidth (MHz, the
        simulator's line shape) drawn log-uniformly in this range, and
        ``"linewidth"`` added to the default targets, so that it is predicted
        with an interval like the others. None: every echo has the
        simulator's linewidth.
    random_state : int, default=0
        Seeds the dataset and the model.
    memory, n_jobs, verbose
        For :func:`sknmr.datasets.make_echoes` (``n_jobs`` also for the model).
    **params
        :class:`EchoInference` parameters (``confidence``, ``augment``, ...).

    Returns
    -------
    model : EchoInference
        Fitted, with the simulator's settings.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> sim = EchoSimulator(lattice_size=6, tau=6.0)
    >>> model = train_model(sim, n_per_kernel=30, confidence=0.8, ood_false_alarm=0.2)
    >>> model.experiment_.tau
    6.0
    >>> model = train_model(sim, n_per_kernel=30, linewidth=(0.02, 0.2),
    ...                     confidence=0.8, ood_false_alarm=0.2)
    >>> model.targets_
    ['W', 'L', 'alpha_xy', 'alpha_z', 'linewidth']
    """
    if simulator is None:
        simulator = EchoSimulator(lattice_size=32, dtype="float32")
    if linewidth is not None and "targets" not in params:
        params["targets"] = (*EchoInference().targets, "linewidth")
    # Validate the model's settings before simulating anything.
    model = EchoInference(
        simulator=simulator, random_state=random_state, n_jobs=n_jobs, **params
    )
    model._validate_params()
    kind = simulator.experiment.output  # what fit will see of its echoes
    kind = kind if kind in ("magnitude", "complex") else "real"
    augment = check_augment(model.augment, kind, True)
    copies = 1 if augment is None else augment["copies"] + augment["keep_original"]
    with warnings.catch_warnings():  # fit warns of infinite intervals itself
        warnings.simplefilter("ignore", UserWarning)
        model._check_sizes(n_per_kernel * len(KERNELS), copies)
    data = make_echoes(
        n_per_kernel,
        simulator=simulator,
        linewidth=linewidth,
        random_state=random_state,
        memory=memory,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return model.fit(data.data, data.target)


def summary(table):
    """One echo's prediction as rows ``quantity: estimate, lower, upper``.

    Examples
    --------
    >>> import pandas as pd
    >>> row = pd.DataFrame({"W": [0.2], "W_lower": [0.1], "W_upper": [0.3],
    ...                     "p_power": [0.7], "ood_score": [0.4], "ood": [False]})
    >>> summary(row)
                estimate  lower  upper
    W                0.2    0.1    0.3
    p_power          0.7    NaN    NaN
    ood_score        0.4    NaN    NaN
    ood            False    NaN    NaN
    """
    row = table.iloc[0]
    names = [c for c in table.columns if not c.endswith(("_lower", "_upper"))]
    out = pd.DataFrame(
        index=names, columns=["estimate", "lower", "upper"], dtype=object
    )
    for name in names:
        out.loc[name, "estimate"] = row[name]
        for end in ("lower", "upper"):
            key = f"{name}_{end}"
            out.loc[name, end] = row[key] if key in table.columns else np.nan
    return out


def _length_for(kernel, L, lattice_size):
    """The kernel's length parameter (in the paper's range) whose L is nearest."""
    lo, hi = PAPER_PRIOR["length"][kernel]
    grid = np.linspace(lo, hi, 41)
    values = np.array([kernel_stats(kernel, x, lattice_size)[1] for x in grid])
    return float(grid[np.argmin(np.abs(values - L))])


def echoes_at_estimate(model, table, simulator=None):
    """Echoes simulated at an echo's estimate and at the ends of its intervals.

    The kernel is the power law when ``p_power >= 0.5`` and the gaussian
    otherwise, its length parameter the one (in the paper's range) whose
    length scale is nearest the estimated ``L``; the couplings are the
    estimated ``alpha_xy`` and ``alpha_z`` (lower ends, estimate, upper ends),
    and the estimated linewidth when the model predicts one.

    Returns
    -------
    times : ndarray
    echoes : dict of str to ndarray
        ``"estimate"``, ``"lower"``, ``"upper"`` (an unbounded interval end
        is left out).
    """
    if simulator is None:
        experiment = dataclasses.replace(model.experiment_, output="magnitude")
        simulator = EchoSimulator.from_experiment(experiment, random_state=0)
    row = table.iloc[0]
    kernel = "power" if row.get("p_power", 0.0) >= 0.5 else "gaussian"
    echoes = {}
    for name, suffix in (("lower", "_lower"), ("estimate", ""), ("upper", "_upper")):
        values = [
            float(row.get(f"{t}{suffix}", row.get(t, 0.05)))
            for t in ("L", "alpha_xy", "alpha_z")
        ]
        if not np.all(np.isfinite(values)):
            continue  # an unbounded interval end: nothing to simulate there
        L = values[0]
        params = {
            "kernel": kernel,
            "length": _length_for(kernel, max(L, 0.0), simulator.lattice_size),
            "alpha_xy": max(float(row.get(f"alpha_xy{suffix}", 0.05)), 0.0),
            "alpha_z": max(float(row.get(f"alpha_z{suffix}", 0.05)), 0.0),
        }
        width = float(row.get(f"linewidth{suffix}", np.nan))
        if np.isfinite(width) and width > 0:
            params["linewidth"] = width
        echoes[name] = simulator.simulate(params)[0]
    return simulator.times, echoes


def infer_file(
    path, model, *, format=None, output_dir=None, resampler=None, **read_options
):
    """Read a measured echo, predict its table, and write the table and a figure.

    Parameters
    ----------
    path : str or path-like
        The measured echo (any format :func:`sknmr.io.read_echo` reads).
    model : EchoInference or str
        A fitted model, or the path of one saved with
        :func:`~sknmr.inference.save_model` (read with ``trusted=False``).
    format : str or None, default=None
        Passed to :func:`~sknmr.io.read_echo` (None guesses).
    output_dir : str or None, default=None
        Where to write ``inference.csv`` and ``inference.png``; None writes
        nothing.
    resampler : dict or None, default=None
        Settings of the resampler onto the model's grid
        (:meth:`EchoInference.make_resampler`), e.g. ``{"align": "peak",
        "echo_time": 2 * tau, "normalize": "max"}``; None uses the model's.
    **read_options
        More options of :func:`~sknmr.io.read_echo`.

    Returns
    -------
    table : pandas.DataFrame
        One row (see :meth:`EchoInference.predict`).
    files : list of str
        What was written.
    """
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    echo = read_echo(path, format=format, **read_options)
    if resampler:
        table = model.predict(model.make_resampler(**resampler).fit_transform([echo]))
    else:
        table = model.predict([echo])
    files = []
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        csv = os.path.join(output_dir, "inference.csv")
        table.to_csv(csv, index=False)
        files.append(csv)
        files.append(
            _figure(
                model,
                echo,
                table,
                os.path.join(output_dir, "inference.png"),
                resampler,
            )
        )
    return table, files


def _figure(model, echo, table, path, resampler=None):
    """The measured echo beside echoes simulated at the estimate and interval ends."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    # the echo placed as for the table (an alignment, a dead time), shown as |M|
    settings = dict(resampler or {})
    settings.update(normalize="first", output="real", phase="magnitude")
    resampler = model.make_resampler(**settings)
    measured = 0.5 * resampler.fit_transform([echo])[0]
    times, simulated = echoes_at_estimate(model, table)
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    ax.plot(times, measured, color="black", lw=1.2, label="measured (|M|, M(0) = 1/2)")
    styles = {"lower": ":", "estimate": "-", "upper": "--"}
    for name, curve in simulated.items():
        ax.plot(
            times,
            curve,
            styles[name],
            lw=1.0,
            label=f"simulated at the {name}" + ("" if name == "estimate" else " ends"),
        )
    row = table.iloc[0]
    title = ", ".join(
        f"{t} = {row[t]:.3g} [{row[t + '_lower']:.3g}, {row[t + '_upper']:.3g}]"
        for t in model.targets_[:2]
    )
    if "p_power" in table.columns:
        title += f", p(power) = {row['p_power']:.2f}"
    if row.get("ood", False):
        title += "  (OUT OF DISTRIBUTION)"
    ax.set(xlabel="t (us)", ylabel="|M(t)|", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
