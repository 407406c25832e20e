"""EchoFit: what fit_echo found, its intervals, and a figure."""

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["EchoFit"]

# Couplings and their weight in W = alpha_x + alpha_y + alpha_z.
_W_WEIGHTS = {"alpha_xy": 2.0, "alpha_x": 1.0, "alpha_y": 1.0, "alpha_z": 1.0}


class EchoFit:
    """The result of :func:`fit_echo`.

    Attributes
    ----------
    params : pandas.Series
        The fitted parameters, then the derived ``W`` (``alpha_x + alpha_y +
        alpha_z``) and ``L`` (the kernel's length scale).
    intervals : pandas.DataFrame
        ``lower`` and ``upper`` of each entry of ``params`` at
        ``confidence``: normal in the optimizer's coordinates (log for
        positive parameters), or from the profile likelihood (``interval``),
        W by the delta method, L from the ends of the length's interval
        (fixed values have empty intervals).
    confidence : float
    interval : {"laplace", "profile"}
        How the fitted parameters' intervals were made.
    profiles : dict of pandas.DataFrame or None
        With ``interval="profile"``, per fitted parameter the points of its
        profile: ``value`` and ``delta_chi2``, the chi-square's rise with the
        other parameters re-fitted (divided by the misfit when above 1);
        None otherwise.
    covariance : pandas.DataFrame
        Of the fitted parameters (natural units), noise and disorder.
    disorder_share : pandas.Series
        Fraction of each fitted parameter's variance that the lattice's
        disorder contributes (the rest is noise).
    loss : float
        Half the sum of squared noise-whitened residuals at the estimate.
    log_likelihood : float
        Gaussian log-likelihood with noise and disorder (for comparing
        kernel classes, :func:`compare_kernels`).
    misfit : float
        Residual over what noise and disorder explain; near 1 or below for a
        model that fits, larger for a wrong one (the intervals then widen
        by it).
    success : bool
        The search converged and the covariance is finite.
    message : str
        The optimizer's.
    n_evaluations : int
        Simulated parameter vectors (each a batch with its Jacobian or one
        echo).
    kernel, detection : str
    data, fitted : list of ndarray
        Per experiment, the echo on the grid (NaN where not covered) and the
        model's echo with the fitted gain (complex for quadrature detection).
    gains : list of complex
        The receiver's gain (and phase) of each experiment.
    noise : list of float
        Noise standard deviation used for each echo.
    times : list of ndarray
        Sample times (us) of each experiment.
    """

    def __init__(
        self,
        *,
        model,
        theta,
        lower,
        upper,
        covariance,
        disorder_share,
        confidence,
        loss,
        interval="laplace",
        profiles=None,
        log_likelihood,
        misfit,
        success,
        message,
        n_evaluations,
        data,
        fitted,
        gains,
        noise,
        n_residuals,
    ):
        names = model.parameters
        self.kernel = model.kernel
        self.detection = model.detection
        self.confidence = confidence
        self.interval = interval
        self.profiles = profiles
        self.loss = loss
        self.log_likelihood = log_likelihood
        self.misfit = misfit
        self.success = success
        self.message = message
        self.n_evaluations = n_evaluations
        self.n_residuals = n_residuals
        self.data = data
        self.fitted = fitted
        self.gains = gains
        self.noise = noise
        self.times = [s.times for s in model.simulators]
        self.covariance = pd.DataFrame(covariance, index=names, columns=names)
        self.disorder_share = pd.Series(disorder_share, index=names)
        values = model.values(theta)
        params = dict(zip(names, theta, strict=True))
        bounds = {n: (lo, hi) for n, lo, hi in zip(names, lower, upper, strict=True)}
        # W by the delta method over the fitted couplings
        grad = np.array([_W_WEIGHTS.get(n, 0.0) for n in names])
        w = sum(values.get(n, 0.0) * k for n, k in _W_WEIGHTS.items())
        half = norm.ppf(0.5 + confidence / 2) * np.sqrt(grad @ covariance @ grad)
        params["W"] = w
        bounds["W"] = (max(w - half, 0.0), w + half)
        params["L"] = model.length_scale(values["length"])
        if "length" in names:
            ends = [model.length_scale(b) for b in bounds["length"]]
            bounds["L"] = (min(ends), max(ends))
        else:
            bounds["L"] = (params["L"], params["L"])
        self.params = pd.Series(params, dtype=np.float64)
        self.intervals = pd.DataFrame(bounds, index=["lower", "upper"]).T.loc[
            self.params.index
        ]

    def table(self):
        """One row: each quantity ``q`` as ``q``, ``q_lower``, ``q_upper``.

        The layout of :meth:`sknmr.inference.EchoInference.predict`, with the
        kernel, ``loss``, ``misfit`` and ``success``.
        """
        row = {"kernel": self.kernel}
        for name, value in self.params.items():
            row[name] = value
            row[f"{name}_lower"] = self.intervals.loc[name, "lower"]
            row[f"{name}_upper"] = self.intervals.loc[name, "upper"]
        row.update(loss=self.loss, misfit=self.misfit, success=self.success)
        return pd.DataFrame([row])

    def plot(self, ax=None):
        """The echoes and the fitted model's, one panel per experiment.

        Parameters
        ----------
        ax : matplotlib Axes, array of them or None, default=None
            Where to draw (one per experiment); None makes a figure.

        Returns
        -------
        axes : ndarray of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        n = len(self.data)
        if ax is None:
            _, ax = plt.subplots(1, n, figsize=(5 * n, 3.5), squeeze=False)
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size != n:
            raise ValueError(f"ax must hold {n} Axes (one per experiment).")
        for k, a in enumerate(axes):
            t = self.times[k]
            a.plot(t, np.abs(self.data[k]), ".", ms=2, color="0.5", label="echo")
            a.plot(t, np.abs(self.fitted[k]), color="C3", lw=1.2, label="fit")
            a.set_xlabel("t (us)")
            a.set_ylabel("|M|")
            a.set_title(f"{self.kernel}, experiment {k}" if n > 1 else self.kernel)
        text = ", ".join(
            f"{name}={self.params[name]:.3g}"
            for name in self.params.index
            if name in ("W", "L", "alpha_xy", "alpha_z", "length")
        )
        axes[0].legend(
            loc="upper right", fontsize="small", title=text, title_fontsize="x-small"
        )
        return axes

    def __repr__(self):
        body = ", ".join(
            f"{name}={value:.4g} [{lo:.4g}, {hi:.4g}]"
            for (name, value), (lo, hi) in zip(
                self.params.items(), self.intervals.to_numpy(), strict=True
            )
        )
        return f"EchoFit({self.kernel}: {body}; success={self.success})"
