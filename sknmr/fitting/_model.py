"""The physics as a function of a parameter vector: echoes and their Jacobian.

:class:`EchoModel` maps the continuous parameters being fitted (couplings,
the kernel's length and extra parameters, the linewidth, T2) to the echoes
of one or several experiments, with the disorder draws fixed by a seed, and
gives their derivatives. Everything that needs gradients (the fit, the
Fisher information) asks :meth:`EchoModel.jacobian`, the one place where
they come from.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._paper import PAPER_PRIOR
from ..kernels import available_kernels, kernel_parameters, kernel_stats
from ..lattices import LatticeRangeWarning
from ..simulator import EchoSimulator

__all__ = ["DETECTIONS", "EchoModel", "gain_basis", "check_simulators"]

#: How an echo is read: its magnitude, both quadratures with the receiver
#: phase calibrated, or both with an unknown receiver phase.
DETECTIONS = ("magnitude", "quadrature", "phase-blind")
# Table columns besides the kernel's extras that a fit may vary.
_TABLE_PARAMETERS = ("alpha_xy", "alpha_x", "alpha_y", "alpha_z", "length", "t2")
# Parameters fitted in log coordinates (positive by nature).
_POSITIVE = {"alpha_xy", "alpha_x", "alpha_y", "alpha_z", "length", "t2", "linewidth"}
# Relative step of the forward differences (float64 simulations).
_RELATIVE_STEP = 1e-6


def gain_basis(v, detection):
    """Real columns spanned by the receiver's gain (and phase) acting on ``v``.

    Magnitude: ``a |M|``; quadrature with a calibrated phase: ``a M`` (real
    and imaginary parts stacked); phase-blind: ``c M`` with complex ``c``
    (two real columns).
    """
    if detection == "magnitude":
        return v[:, None]
    stacked = np.concatenate([v.real, v.imag])[:, None]
    if detection == "quadrature":
        return stacked
    turned = np.concatenate([-v.imag, v.real])[:, None]
    return np.hstack([stacked, turned])


def check_simulators(simulator):
    """A list of EchoSimulator from one or a sequence of them."""
    sims = [simulator] if isinstance(simulator, EchoSimulator) else simulator
    try:
        sims = list(sims)
    except TypeError:
        sims = [sims]
    if not sims or not all(isinstance(s, EchoSimulator) for s in sims):
        raise TypeError(
            "simulator must be an EchoSimulator or a non-empty list of them (one "
            f"per experiment); got {type(simulator).__name__}."
        )
    for sim in sims:
        _ = sim.experiment  # every setting checked
    lattices = {s.experiment.lattice for s in sims}
    if len(lattices) > 1:
        raise ValueError(
            "The simulators of a joint fit must share one lattice (one material); "
            f"got {sorted(map(repr, lattices))}."
        )
    return sims


def _default_bounds(kernel, name, simulator):
    """A wide box around the paper's prior for each fitted parameter."""
    if name.startswith("alpha"):
        # the prior's couplings (0.01 to 0.1 MHz) with room on either side
        low, high = PAPER_PRIOR["alpha_xy"]
        return (0.5 * low, 2.0 * high)
    if name == "length":
        if kernel in PAPER_PRIOR["length"]:
            low, high = PAPER_PRIOR["length"][kernel]
            return (0.5 * low, 2.0 * high)
        return None
    if name == "linewidth":
        return (0.05 * simulator.linewidth, 20.0 * simulator.linewidth)
    if name == "t2":
        return (1.0, 1e6)
    return None


class EchoModel:
    """Echoes of one material in one or several experiments, by parameter vector.

    Parameters
    ----------
    simulators : list of EchoSimulator
        One per experiment (its sequence and grid); they share a lattice.
    kernel : str
    parameters : sequence of str
        The fitted parameters, in the order of the vector.
    fixed : dict
        Values of the table columns that are not fitted.
    detection : {"magnitude", "quadrature", "phase-blind"}
    seed : int
        Seeds the disorder (offsets) of every simulation.
    bounds : dict
        ``(low, high)`` of every fitted parameter, natural units.
    """

    def __init__(self, simulators, kernel, parameters, fixed, detection, seed, bounds):
        self.simulators = [
            clone(s).set_params(output="complex", random_state=seed, verbose=0)
            for s in simulators
        ]
        self.kernel = kernel
        self.parameters = list(parameters)
        self.fixed = dict(fixed)
        self.detection = detection
        self.seed = seed
        self.bounds = bounds
        self.log = np.array([p in _POSITIVE for p in self.parameters])

    @classmethod
    def build(cls, simulators, kernel, parameters, fixed, detection, seed, bounds=None):
        """Check the names and values, then make the model (no simulation).

        ``simulators`` is one EchoSimulator or a list, one per experiment.
        """
        simulators = check_simulators(simulators)
        if not isinstance(kernel, str) or kernel not in available_kernels():
            raise ValueError(
                f"kernel must be one of {available_kernels()}; got {kernel!r}."
            )
        if detection not in DETECTIONS:
            raise ValueError(
                f"detection must be one of {DETECTIONS}; got {detection!r}."
            )
        if isinstance(parameters, str):
            parameters = [parameters]
        parameters = list(parameters)
        extras = list(kernel_parameters(kernel))
        allowed = [*_TABLE_PARAMETERS, "linewidth", *extras]
        unknown = [p for p in parameters if p not in allowed]
        if unknown or not parameters or len(set(parameters)) != len(parameters):
            raise ValueError(
                f"parameters must be distinct names from {allowed} (the {kernel} "
                f"kernel's model); got {parameters}."
            )
        fixed = dict(fixed or {})
        unknown = [p for p in fixed if p not in allowed]
        if unknown:
            raise ValueError(f"fixed takes values of {allowed}; got unknown {unknown}.")
        both = sorted(set(fixed) & set(parameters))
        if both:
            raise ValueError(f"{both} are both fitted and fixed; choose one.")
        names = set(parameters) | set(fixed)
        if "alpha_xy" in names and names & {"alpha_x", "alpha_y"}:
            raise ValueError(
                "Give the in-plane coupling as alpha_xy or as alpha_x and alpha_y, "
                f"not both; got {sorted(names & {'alpha_xy', 'alpha_x', 'alpha_y'})}."
            )
        # couplings neither fitted nor fixed are off
        in_plane = (
            ["alpha_x", "alpha_y"] if names & {"alpha_x", "alpha_y"} else ["alpha_xy"]
        )
        for name in [*in_plane, "alpha_z"]:
            if name not in parameters:
                fixed.setdefault(name, 0.0)
        if "length" not in parameters and "length" not in fixed:
            raise ValueError(
                "length is neither fitted nor fixed: add it to parameters or give "
                "fixed={'length': ...}."
            )
        if "linewidth" in fixed:
            simulators = [
                clone(s).set_params(linewidth=fixed.pop("linewidth"))
                for s in simulators
            ]
        user = dict(bounds or {})
        unknown = [p for p in user if p not in parameters]
        if unknown:
            raise ValueError(
                f"bounds are given for {unknown}, which are not fitted ({parameters})."
            )
        box = {}
        for name in parameters:
            box[name] = user.get(name, _default_bounds(kernel, name, simulators[0]))
            if box[name] is None:
                raise ValueError(
                    f"{name} of the {kernel} kernel has no default range; give "
                    f"bounds={{{name!r}: (low, high)}}."
                )
            low, high = (float(v) for v in box[name])
            if not low < high or (name in _POSITIVE and low <= 0):
                raise ValueError(
                    f"bounds[{name!r}] must be (low, high) with low < high"
                    f"{' and low > 0' if name in _POSITIVE else ''}; got {box[name]}."
                )
            box[name] = (low, high)
        model = cls(simulators, kernel, parameters, fixed, detection, seed, box)
        # a table at the middle of the box checks every column before any work
        model.table(model.to_natural(model.to_internal(model.middle()))[None])
        return model

    # -- coordinates ----------------------------------------------------------
    def middle(self):
        """The centre of the box (geometric for positive parameters)."""
        low, high = self.box()
        return np.where(self.log, np.sqrt(low * high), 0.5 * (low + high))

    def box(self):
        low = np.array([self.bounds[p][0] for p in self.parameters])
        high = np.array([self.bounds[p][1] for p in self.parameters])
        return low, high

    def to_internal(self, theta):
        """Optimizer coordinates: log of positive parameters, others as they are."""
        theta = np.asarray(theta, dtype=np.float64)
        return np.where(self.log, np.log(np.where(self.log, theta, 1.0)), theta)

    def to_natural(self, u):
        u = np.asarray(u, dtype=np.float64)
        return np.where(self.log, np.exp(np.where(self.log, u, 0.0)), u)

    def clip(self, theta):
        low, high = self.box()
        return np.clip(theta, low, high)

    # -- simulation -----------------------------------------------------------
    def table(self, thetas):
        """The parameter table of a stack of vectors (rows), without linewidth."""
        thetas = np.atleast_2d(thetas)
        columns = {"kernel": [self.kernel] * len(thetas)}
        for name, value in self.fixed.items():
            columns[name] = np.full(len(thetas), float(value))
        for k, name in enumerate(self.parameters):
            if name != "linewidth":
                columns[name] = thetas[:, k]
        table = pd.DataFrame(columns)
        self.simulators[0]._check_table(table)
        return table

    def simulate(self, thetas, echo_id=0):
        """Complex echoes of every experiment, ``[(B, n_times)]``.

        ``echo_id`` picks the disorder draw: one id shared by every row (rows
        then differ only by their parameters), or one per row (one batch
        holding several draws, which the backend simulates together).
        """
        thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
        ids = np.broadcast_to(np.asarray(echo_id, dtype=np.int64), len(thetas))
        table = self.table(thetas)
        if "linewidth" in self.parameters:
            k = self.parameters.index("linewidth")
            groups = {}
            for row, value in enumerate(thetas[:, k]):
                groups.setdefault(float(value), []).append(row)
        else:
            groups = {None: list(range(len(thetas)))}
        out = []
        for sim in self.simulators:
            echoes = np.empty((len(thetas), sim.n_times), dtype=np.complex128)
            for linewidth, rows in groups.items():
                s = (
                    sim
                    if linewidth is None
                    else clone(sim).set_params(linewidth=linewidth)
                )
                with warnings.catch_warnings():
                    # the search box spans the prior's lengths, whatever the
                    # lattice: its trial points are no user's choice
                    warnings.simplefilter("ignore", LatticeRangeWarning)
                    echoes[rows] = s.simulate(
                        table.iloc[rows].reset_index(drop=True), echo_ids=ids[rows]
                    )
            out.append(echoes)
        return out

    def read(self, echoes):
        """What the detection sees of complex echoes (magnitude or complex)."""
        return [np.abs(e) if self.detection == "magnitude" else e for e in echoes]

    def echoes(self, theta, echo_id=0):
        """The detected echoes of one parameter vector, one per experiment."""
        return [e[0] for e in self.read(self.simulate(theta, echo_id))]

    def jacobian(self, theta, echo_id=0):
        """Detected echoes and their derivatives in natural units.

        Returns ``values`` (one array of ``n_times`` per experiment) and
        ``jacobians`` (one ``(n_times, n_parameters)`` array per experiment).
        Forward differences of the simulator at fixed disorder (the
        simulations of the ``n_parameters + 1`` vectors run as one batch).
        """
        theta = np.asarray(theta, dtype=np.float64)
        low, high = self.box()
        scale = np.maximum(np.abs(theta), 1e-3 * (high - low))
        step = _RELATIVE_STEP * scale
        # step backwards at the upper edge so the table stays valid
        step = np.where(theta + step > high, -step, step)
        thetas = np.tile(theta, (len(theta) + 1, 1))
        thetas[1:] += np.diag(step)
        echoes = self.read(self.simulate(thetas, echo_id))
        values = [e[0] for e in echoes]
        jacobians = [((e[1:] - e[0]) / step[:, None]).T for e in echoes]
        return values, jacobians

    def torch_echoes(self, u, echo_id=0):
        """Detected echoes as torch tensors of the optimizer coordinates ``u``.

        ``u`` is a float64 tensor (it may require grad); the echoes come from
        :func:`sknmr.autodiff.simulate` at the same disorder draws as
        :meth:`simulate`, so torch's gradients are those of the same model.
        """
        import torch

        from ..autodiff import simulate

        log = torch.as_tensor(self.log)
        theta = torch.where(log, torch.exp(u), u)
        params = {"kernel": self.kernel}
        params.update({k: float(v) for k, v in self.fixed.items()})
        for k, name in enumerate(self.parameters):
            params[name] = theta[k : k + 1]
        out = []
        for sim in self.simulators:
            echo = simulate(sim, params, echo_ids=[echo_id])[0]
            out.append(echo.abs() if self.detection == "magnitude" else echo)
        return out

    # -- derived targets ------------------------------------------------------
    def lattice(self):
        """The material's :class:`~sknmr.lattices.Lattice`."""
        return self.simulators[0].experiment.lattice

    def length_scale(self, length):
        """The kernel's length scale L at a value of its length parameter."""
        extras = {
            k: v for k, v in self.fixed.items() if k in kernel_parameters(self.kernel)
        }
        return kernel_stats(self.kernel, float(length), self.lattice(), **extras)[1]

    def values(self, theta):
        """Every model column (fitted and fixed) at ``theta``, as a dict."""
        out = dict(self.fixed)
        out.update(dict(zip(self.parameters, map(float, theta), strict=True)))
        if "linewidth" not in out:
            out["linewidth"] = float(self.simulators[0].linewidth)
        return out

    def information(self, theta, noise, echo_id=0):
        """Fisher information of the experiments about ``theta`` (natural units).

        White Gaussian noise of standard deviation ``noise`` (per quadrature;
        one value or one per experiment) on the detected echoes, and the
        receiver's gain (and phase, phase-blind) unknown: the information
        left once they are estimated too (the Schur complement).
        """
        values, jacs = self.jacobian(theta, echo_id)
        sigmas = np.broadcast_to(np.asarray(noise, dtype=np.float64), len(values))
        total = np.zeros((len(self.parameters),) * 2)
        for v, J, s in zip(values, jacs, sigmas, strict=True):
            A = gain_basis(v, self.detection) / s
            D = (
                np.column_stack(
                    [
                        gain_basis(J[:, i], self.detection)[:, 0]
                        for i in range(J.shape[1])
                    ]
                )
                / s
            )
            D -= A @ np.linalg.lstsq(A, D, rcond=None)[0]
            total += D.T @ D
        return total
