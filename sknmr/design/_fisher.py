"""fisher_information: what an experiment can tell about a material at best."""

import numpy as np
import pandas as pd

from ..fitting import EchoModel
from ..utils._random import check_seed, derive_seed

__all__ = ["FisherInformation", "fisher_information"]

# Relative ridge added to a log-coordinate information matrix before its
# log-determinant, so a parameter the experiment cannot see scores very low
# instead of minus infinity.
_RIDGE = 1e-8


def check_material(params):
    """One material's parameter values as a dict with a kernel name."""
    if isinstance(params, pd.DataFrame):
        if len(params) != 1:
            raise ValueError(
                f"params must describe one material (one row); got {len(params)}."
            )
        params = params.iloc[0]
    try:
        values = dict(params)
    except (TypeError, ValueError):
        raise TypeError(
            "params must be a dict or Series of one material's values (kernel, "
            f"length, alpha_xy, alpha_z, ...); got {type(params).__name__}."
        ) from None
    if "kernel" not in values:
        raise ValueError("params must name the material's kernel (params['kernel']).")
    return values


def material_model(simulators, params, parameters, detection, seed):
    """The EchoModel of one material with ``parameters`` free, and its vector."""
    values = check_material(params)
    kernel = values.pop("kernel")
    # targets that are not model columns (W, L, power) are dropped
    for name in ("W", "L", "power"):
        values.pop(name, None)
    parameters = [parameters] if isinstance(parameters, str) else list(parameters)
    missing = [p for p in parameters if p not in values and p != "linewidth"]
    if missing:
        raise ValueError(
            f"params gives no value for {missing}, which parameters asks about."
        )
    if "linewidth" in parameters and "linewidth" not in values:
        values["linewidth"] = simulators[0].linewidth
    theta = np.array([float(values.pop(p)) for p in parameters])
    bounds = {
        p: (v / 10, v * 10) if v > 0 else (v - 1.0, v + 1.0)
        for p, v in zip(parameters, theta, strict=True)
    }
    model = EchoModel.build(
        simulators, kernel, parameters, values, detection, seed, bounds
    )
    return model, theta


class FisherInformation:
    """The Fisher information of experiments at one material, and its bounds.

    Attributes
    ----------
    matrix : pandas.DataFrame
        The information matrix (natural units of the parameters).
    covariance : pandas.DataFrame
        Its inverse: the Cramer-Rao bound on the covariance of any unbiased
        estimate (a pseudo-inverse when singular).
    bounds : pandas.Series
        Smallest standard deviation of each parameter's estimate (inf for a
        parameter the experiments cannot see).
    relative_bounds : pandas.Series
        ``bounds / |value|``.
    log_det : float
        Log-determinant of the information in log coordinates (relative
        precision, comparable across parameters of different units): the
        D-optimal design criterion.
    values : pandas.Series
        The material's values of the parameters.
    """

    def __init__(self, matrix, parameters, theta):
        names = list(parameters)
        self.values = pd.Series(theta, index=names)
        self.matrix = pd.DataFrame(matrix, index=names, columns=names)
        scale = np.abs(theta)
        relative = matrix * np.outer(scale, scale)
        eig = np.linalg.eigvalsh(relative)
        top = max(float(eig.max()), 0.0)
        singular = eig.min() <= 1e-12 * max(top, 1e-300)
        cov = np.linalg.pinv(matrix)
        bounds = np.sqrt(np.clip(np.diag(cov), 0, None))
        if singular:
            # directions the experiments do not see have unbounded variance
            w, v = np.linalg.eigh(relative)
            blind = np.abs(v[:, w <= 1e-12 * max(top, 1e-300)]).max(axis=1) > 1e-6
            bounds = np.where(blind, np.inf, bounds)
        self.covariance = pd.DataFrame(cov, index=names, columns=names)
        self.bounds = pd.Series(bounds, index=names)
        self.relative_bounds = self.bounds / scale
        ridge = _RIDGE * max(top, 1.0)
        self.log_det = float(
            np.linalg.slogdet(relative + ridge * np.eye(len(names)))[1]
        )

    def __repr__(self):
        body = ", ".join(f"{k}: {v:.3g}" for k, v in self.relative_bounds.items())
        return f"FisherInformation(relative bounds {body})"


def fisher_information(
    simulator,
    params,
    parameters=("length", "alpha_xy", "alpha_z"),
    noise=0.01,
    detection="magnitude",
    random_state=None,
):
    """Fisher information of one or several experiments at one material.

    The echoes' derivatives with respect to ``parameters`` (at fixed
    disorder draws) against white Gaussian noise, with the receiver's gain
    (and, phase-blind, its phase) unknown: the smallest covariance any
    unbiased estimate from these experiments can reach (Cramer-Rao).
    Experiments with independent noise add their information.

    Parameters
    ----------
    simulator : EchoSimulator or list of EchoSimulator
        One per experiment (its sequence, grid and lattice).
    params : dict or pandas.Series
        The material: ``kernel`` and the values of every model column
        (``length``, ``alpha_xy``, ``alpha_z``, ...); targets such as ``W``
        are ignored.
    parameters : sequence of str, default=("length", "alpha_xy", "alpha_z")
        The parameters asked about; the others are known.
    noise : float or sequence of float, default=0.01
        Noise standard deviation per sample and quadrature, in units of the
        magnetization (``|M(0)| = 1/2``; 0.01 is an SNR of 50); one value or
        one per experiment.
    detection : {"magnitude", "quadrature", "phase-blind"}, default="magnitude"
        ``|M|``; ``M`` with a calibrated receiver phase; ``M`` with an
        unknown one.
    random_state : int, RandomState instance or None, default=None
        Seeds the disorder draws (the same seed as :func:`fit_echo`'s gives
        the same lattice).

    Returns
    -------
    information : FisherInformation

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.design import fisher_information
    >>> sim = EchoSimulator(lattice_size=6, tau=4.0)
    >>> material = {"kernel": "power", "length": 2.0, "alpha_xy": 0.05,
    ...             "alpha_z": 0.05}
    >>> info = fisher_information(sim, material, parameters=["alpha_xy"],
    ...                           random_state=0)
    >>> bool(info.bounds["alpha_xy"] < 0.05)
    True
    """
    simulators = simulator if isinstance(simulator, list | tuple) else [simulator]
    sigmas = np.broadcast_to(np.asarray(noise, dtype=np.float64), len(simulators))
    if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(
            "noise must be a positive standard deviation (one, or one per "
            f"experiment); got {noise!r}."
        )
    seed = derive_seed(check_seed(random_state), 0)
    model, theta = material_model(simulators, params, parameters, detection, seed)
    return FisherInformation(model.information(theta, sigmas), model.parameters, theta)
