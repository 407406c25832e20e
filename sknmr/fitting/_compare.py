"""compare_kernels: the kernel class by comparing the fits of each."""

import numpy as np
import pandas as pd
from scipy.special import softmax

from ..kernels import KERNELS, POWER_KERNELS
from ._fit import fit_echo

__all__ = ["KernelComparison", "compare_kernels"]


class KernelComparison:
    """Fits of several kernel classes to one echo and their probabilities.

    Attributes
    ----------
    fits : dict of EchoFit
        The fit of each kernel class.
    table : pandas.DataFrame
        Per kernel (index): ``log_likelihood``, ``n_parameters``, ``aic``,
        ``probability`` (Akaike weights: ``exp(-AIC / 2)`` normalised, equal
        prior odds), ``misfit`` and ``success``.
    p_power : float
        Total probability of the power-law kernels.
    best : str
        The most probable kernel.
    inference_p_power : float or None
        The calibrated ``p_power`` of the EchoInference given as
        ``inference``, for the same echo; None without one.
    """

    def __init__(self, fits, inference_p_power=None):
        self.fits = fits
        self.inference_p_power = inference_p_power
        ll = np.array([f.log_likelihood for f in fits.values()])
        k = np.array([len(f.covariance) for f in fits.values()])
        aic = 2 * k - 2 * ll
        self.table = pd.DataFrame(
            {
                "log_likelihood": ll,
                "n_parameters": k,
                "aic": aic,
                "probability": softmax(-aic / 2),
                "misfit": [f.misfit for f in fits.values()],
                "success": [f.success for f in fits.values()],
            },
            index=pd.Index(list(fits), name="kernel"),
        )
        self.best = str(self.table["probability"].idxmax())
        power = [name for name in fits if name in POWER_KERNELS]
        self.p_power = float(self.table.loc[power, "probability"].sum())

    def __repr__(self):
        probs = ", ".join(f"{k}={p:.3f}" for k, p in self.table["probability"].items())
        return f"KernelComparison({probs}; best={self.best!r})"


def compare_kernels(echo, simulator, kernels=KERNELS, *, inference=None, **fit_params):
    """Fit each kernel class and weigh the fits against each other.

    Every class is fitted with :func:`fit_echo` (the same parameters, starts
    and disorder draws); the fits' log-likelihoods, with the noise and the
    lattice's disorder in the residual's covariance, give Akaike weights:
    the probability of each class among those compared, with equal prior
    odds. Set them beside :class:`~sknmr.inference.EchoInference`'s
    calibrated ``p_power``: the weights assume one of the classes is right
    and the disorder covariance is well measured, so they are often too
    sure.

    Parameters
    ----------
    echo, simulator
        As for :func:`fit_echo`.
    kernels : sequence of str, default=("gaussian", "power", "rkky")
    inference : fitted EchoInference or None, default=None
        A model whose calibrated ``p_power`` for the (first) echo is set
        beside the fits' (``inference_p_power``).
    **fit_params
        Passed to :func:`fit_echo` (``parameters``, ``random_state``,
        ``detection``, ...); ``kernel`` is not allowed.

    Returns
    -------
    comparison : KernelComparison

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.fitting import compare_kernels
    >>> sim = EchoSimulator(lattice_size=6, tau=4.0, random_state=0)
    >>> echo = sim.simulate({"kernel": "power", "length": 2.0, "alpha_xy": 0.1,
    ...                      "alpha_z": 0.05})[0]
    >>> result = compare_kernels(echo, sim, kernels=["power", "gaussian"],
    ...                          parameters=["length", "alpha_xy"], random_state=0,
    ...                          disorder_draws=0, n_starts=1)
    >>> result.table.columns.tolist()[:4]
    ['log_likelihood', 'n_parameters', 'aic', 'probability']
    """
    if "kernel" in fit_params:
        raise TypeError("compare_kernels fits every kernel of kernels; drop kernel=.")
    if isinstance(kernels, str) or len(kernels) < 2:
        raise ValueError(
            f"kernels must name at least two kernel classes; got {kernels!r}."
        )
    p_power = None
    if inference is not None:
        if not (hasattr(inference, "predict") and hasattr(inference, "targets_")):
            raise TypeError(
                "inference must be a fitted EchoInference; got "
                f"{type(inference).__name__}."
            )
        first = echo[0] if isinstance(echo, list | tuple) else echo
        X = first if not isinstance(first, np.ndarray) else np.abs(first)[None]
        p_power = float(inference.predict(X)["p_power"].iloc[0])
    fits = {
        kernel: fit_echo(echo, simulator, kernel=kernel, **fit_params)
        for kernel in kernels
    }
    return KernelComparison(fits, p_power)
