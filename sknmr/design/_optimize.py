"""optimize_sequence: the pulse sequence that tells most about chosen parameters."""

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..kernels import KERNELS
from ..prior import sample_prior
from ..sequences import Pulse, PulseSequence
from ..simulator import EchoSimulator
from ..utils._random import as_generator, check_seed, derive_seed
from ._fisher import _RIDGE, FisherInformation, material_model

__all__ = ["SequenceDesign", "expected_bounds", "optimize_sequence"]

_PHASES = (0.0, 90.0, 180.0, 270.0)


def _materials(materials, kernels, n_materials, lattice_size, seed):
    if materials is not None:
        table = pd.DataFrame(materials).reset_index(drop=True)
        if "kernel" not in table or len(table) == 0:
            raise ValueError("materials must be a table with a kernel column.")
        return table
    return sample_prior(
        n_materials, kernels=kernels, lattice_size=lattice_size, random_state=seed
    )


def _information(simulators, table, parameters, noise, detection, seed):
    """Per material: its EchoModel information (natural units) and its vector."""
    out = []
    for _, row in table.iterrows():
        model, theta = material_model(simulators, row, parameters, detection, seed)
        out.append((model.information(theta, noise), theta))
    return out


def _score(infos, parameters, target):
    """Mean log-determinant (relative), or minus the mean log relative bound."""
    scores = []
    for matrix, theta in infos:
        relative = matrix * np.outer(theta, theta)
        ridge = _RIDGE * max(float(np.trace(relative)), 1.0)
        relative = relative + ridge * np.eye(len(theta))
        if target is None:
            scores.append(np.linalg.slogdet(relative)[1])
        else:
            k = parameters.index(target)
            scores.append(-0.5 * math.log(np.linalg.inv(relative)[k, k]))
    return float(np.mean(scores))


def expected_bounds(
    simulator,
    parameters=("length", "alpha_xy", "alpha_z"),
    *,
    materials=None,
    kernels=KERNELS,
    n_materials=6,
    noise=0.01,
    detection="magnitude",
    random_state=None,
):
    """Cramer-Rao bounds of one or several experiments over materials of the prior.

    Parameters
    ----------
    simulator : EchoSimulator or list of EchoSimulator
        The experiments (fitted jointly, noise independent).
    parameters : sequence of str
    materials : DataFrame or None, default=None
        The materials (``kernel`` and the model's columns); None draws
        ``n_materials`` from the paper's prior over ``kernels``.
    kernels, n_materials, noise, detection, random_state
        As for :func:`optimize_sequence`.

    Returns
    -------
    table : pandas.DataFrame
        One row per material: its kernel, the relative bound of each
        parameter (``<name>_bound``) and ``log_det``.
    """
    simulators = simulator if isinstance(simulator, list | tuple) else [simulator]
    seed = check_seed(random_state)
    table = _materials(
        materials, kernels, n_materials, simulators[0].experiment.lattice, seed
    )
    rows = []
    model_seed = derive_seed(seed, 0)
    for _, row in table.iterrows():
        model, theta = material_model(
            simulators, row, parameters, detection, model_seed
        )
        info = FisherInformation(
            model.information(theta, noise), model.parameters, theta
        )
        entry = {"kernel": row["kernel"]}
        entry.update({f"{k}_bound": v for k, v in info.relative_bounds.items()})
        entry["log_det"] = info.log_det
        rows.append(entry)
    return pd.DataFrame(rows)


class SequenceDesign:
    """The designed experiment and how it scored.

    Attributes
    ----------
    sequence : PulseSequence
        The best sequence found.
    simulator : EchoSimulator
        The template simulator with that sequence.
    score : float
        Its criterion (higher is better): the mean relative log-determinant
        of the information, or minus the mean log relative bound of the
        target.
    history : pandas.DataFrame
        Every sequence evaluated (``stage``: random or coordinate search)
        and its score.
    materials : pandas.DataFrame
        The materials the criterion averages over.
    """

    def __init__(self, sequence, simulator, score, history, materials):
        self.sequence = sequence
        self.simulator = simulator
        self.score = score
        self.history = history
        self.materials = materials

    def __repr__(self):
        return f"SequenceDesign(score={self.score:.4g}, sequence={self.sequence!r})"


def _check_limits(simulator, n_pulses, duration, min_delay, angle_range):
    if not isinstance(simulator, EchoSimulator):
        raise TypeError(
            f"simulator must be an EchoSimulator; got {type(simulator).__name__}."
        )
    _ = simulator.experiment  # every setting checked
    if not isinstance(n_pulses, Integral) or n_pulses < 1:
        raise ValueError(f"n_pulses must be an integer >= 1; got {n_pulses!r}.")
    dt = float(simulator.dt)
    if not isinstance(duration, Real) or not duration > 0:
        raise ValueError(f"duration must be a positive time (us); got {duration!r}.")
    min_delay = 2 * dt if min_delay is None else min_delay
    if not isinstance(min_delay, Real) or not min_delay > 0:
        raise ValueError(f"min_delay must be a positive time (us); got {min_delay!r}.")
    n_steps = int(round(duration / dt))
    min_steps = max(1, int(math.ceil(min_delay / dt - 1e-9)))
    # the last pulse must leave at least one delay of sampling after it
    if n_pulses * min_steps > n_steps - 1:
        raise ValueError(
            f"No sequence fits these limits: {n_pulses} pulses at least "
            f"min_delay={min_delay:g} us apart (and one delay after the last) need "
            f"{n_pulses * min_steps * dt:g} us, more than duration={duration:g} us "
            f"on the grid of dt={dt:g} us. Allow a longer duration, fewer pulses or a "
            "shorter min_delay."
        )
    low, high = angle_range
    if not 0 <= low < high:
        raise ValueError(
            f"angle_range must be (low, high) degrees with 0 <= low < high; got "
            f"{angle_range!r}."
        )
    return dt, n_steps, min_steps


def optimize_sequence(
    simulator,
    parameters=("length", "alpha_xy", "alpha_z"),
    *,
    target=None,
    n_pulses=2,
    duration=None,
    min_delay=None,
    angle_range=(10.0, 270.0),
    baseline=None,
    kernels=KERNELS,
    n_materials=6,
    materials=None,
    detection="magnitude",
    noise=0.01,
    n_candidates=24,
    n_rounds=2,
    random_state=None,
):
    """Pulse angles, phases and delays that tell most about chosen parameters.

    A Bayesian design criterion over materials drawn from the paper's prior:
    the mean log-determinant of the Fisher information in log coordinates
    (relative precision of all ``parameters``), or, with ``target``, the
    mean log of that parameter's relative Cramer-Rao bound (the others being
    estimated too). The search is small and plain: ``n_candidates`` random
    sequences (delays on the simulator's time grid, angles uniform in
    ``angle_range``, phases among x, y, -x, -y), then ``n_rounds`` of
    coordinate search from the best (each delay moved by 1, 4 and 16 grid
    steps, each angle by 10 and 30 degrees, each phase by 90 degrees,
    keeping every improvement).

    Parameters
    ----------
    simulator : EchoSimulator
        The template: lattice, time step, linewidth and relaxation; its own
        sequence is replaced.
    parameters : sequence of str, default=("length", "alpha_xy", "alpha_z")
        The parameters estimated from the experiments.
    target : str or None, default=None
        Optimize this parameter's bound rather than the log-determinant.
    n_pulses : int, default=2
        Pulses of the designed sequence, the first at ``t = 0``.
    duration : float or None, default=None
        Length of the experiment (us); None: the simulator's.
    min_delay : float or None, default=None
        Shortest delay between pulses, and after the last (us); None: two
        time steps.
    angle_range : (float, float), default=(10, 270)
        Range of the flip angles (degrees).
    baseline : list of EchoSimulator or None, default=None
        Experiments made anyway: the designed one is scored together with
        them (their information adds).
    kernels : sequence of str, default=("gaussian", "power", "rkky")
        Kernel classes of the prior's materials.
    n_materials : int, default=6
        Materials drawn from the prior (split over ``kernels``).
    materials : DataFrame or None, default=None
        Use these materials instead of drawing them.
    detection : {"magnitude", "quadrature", "phase-blind"}, default="magnitude"
    noise : float, default=0.01
        Noise standard deviation per sample and quadrature (units of M).
    n_candidates : int, default=24
    n_rounds : int, default=2
    random_state : int, RandomState instance or None, default=None
        Seeds the materials, the candidates and the disorder draws.

    Returns
    -------
    design : SequenceDesign

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.design import optimize_sequence
    >>> sim = EchoSimulator(lattice_size=4, tau=2.0)
    >>> design = optimize_sequence(sim, ["alpha_xy"], duration=6.0, n_materials=2,
    ...                            n_candidates=3, n_rounds=1, random_state=0)
    >>> len(design.sequence)
    2
    """
    duration = (
        simulator.n_times * float(simulator.dt) if duration is None else (duration)
    )
    dt, n_steps, min_steps = _check_limits(
        simulator, n_pulses, duration, min_delay, angle_range
    )
    parameters = [parameters] if isinstance(parameters, str) else list(parameters)
    if target is not None and target not in parameters:
        raise ValueError(
            f"target must be one of parameters {parameters}; got {target!r}."
        )
    for name, value in (("n_candidates", n_candidates), ("n_rounds", n_rounds)):
        if not isinstance(value, Integral) or value < (
            1 if name == "n_candidates" else 0
        ):
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}.")
    baseline = list(baseline or [])
    seed = check_seed(random_state)
    rng = as_generator(derive_seed(seed, 2))
    table = _materials(
        materials, kernels, n_materials, simulator.experiment.lattice, seed
    )
    model_seed = derive_seed(seed, 0)
    base = (
        _information(baseline, table, parameters, noise, detection, model_seed)
        if baseline
        else None
    )
    template = clone(simulator).set_params(
        tau=EchoSimulator().tau, pulse_angle=90.0, refocus_axis="y"
    )

    def build(steps, angles, phases):
        pulses = [
            Pulse(k * dt, float(a), float(p))
            for k, a, p in zip(steps, angles, phases, strict=True)
        ]
        return PulseSequence(pulses, n_steps * dt)

    def evaluate(design):
        sim = clone(template).set_params(sequence=build(*design))
        infos = _information([sim], table, parameters, noise, detection, model_seed)
        if base is not None:
            infos = [(a + b, t) for (a, t), (b, _) in zip(infos, base, strict=True)]
        return _score(infos, parameters, target)

    def valid(steps):
        gaps = np.diff([*steps, n_steps - 1])
        return steps[0] == 0 and np.all(gaps >= min_steps)

    history = []
    best, best_score = None, -np.inf
    free = n_steps - 1 - n_pulses * min_steps  # spare steps to spread over gaps
    for _ in range(n_candidates):
        cuts = np.sort(rng.integers(0, free + 1, size=n_pulses))
        gaps = np.diff(np.concatenate([[0], cuts])) + min_steps
        steps = [0, *np.cumsum(gaps[:-1]).tolist()]
        angles = rng.uniform(*angle_range, size=n_pulses).round(1)
        phases = rng.choice(_PHASES, size=n_pulses)
        design = (steps, list(angles), list(phases))
        score = evaluate(design)
        history.append(("random", build(*design), score))
        if score > best_score:
            best, best_score = design, score
    for _ in range(n_rounds):
        for kind, index, delta in (
            [
                ("step", i, d)
                for i in range(1, n_pulses)
                for d in (1, -1, 4, -4, 16, -16)
            ]
            + [("angle", i, d) for i in range(n_pulses) for d in (10, -10, 30, -30)]
            + [("phase", i, d) for i in range(n_pulses) for d in (90, -90)]
        ):
            steps, angles, phases = (list(x) for x in best)
            if kind == "step":
                steps[index] += delta
                if not valid(steps):
                    continue
            elif kind == "angle":
                angles[index] = angles[index] + delta
                if not angle_range[0] <= angles[index] <= angle_range[1]:
                    continue
            else:
                phases[index] = (phases[index] + delta) % 360.0
            design = (steps, angles, phases)
            score = evaluate(design)
            history.append(("coordinate", build(*design), score))
            if score > best_score:
                best, best_score = design, score
    sequence = build(*best)
    return SequenceDesign(
        sequence,
        clone(template).set_params(sequence=sequence),
        best_score,
        pd.DataFrame(history, columns=["stage", "sequence", "score"]),
        table,
    )
