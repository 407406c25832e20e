"""Fit echo decays: T2, stretched, bi-exponential and Gaussian x exponential.

:func:`fit_decay` fits a model to an :class:`~sknmr.io.EchoDecay` (read by
:func:`~sknmr.io.read_decay`, or taken from simulated echoes by
:meth:`~sknmr.io.EchoDecay.from_echoes`) by least squares
(:func:`scipy.optimize.least_squares`), with bootstrap intervals: residual
bootstrap for one decay, or a bootstrap over repeats when given several
decays of one sample. Times are in us.

Models (amplitude ``A`` free):

- ``"exponential"``: ``A exp(-t / T2)``;
- ``"stretched"``: ``A exp(-(t / T2) ** beta)``;
- ``"biexponential"``: ``A_short exp(-t / T2_short) + A_long exp(-t / T2_long)``;
- ``"gaussian_exponential"``: ``A exp(-t / T2L - (t / T2G) ** 2)``, the usual
  form for the indirect nuclear coupling in correlated-electron NMR.

Examples
--------
>>> import numpy as np
>>> from sknmr.decay import fit_decay
>>> from sknmr.io import EchoDecay
>>> t = np.arange(1, 41) * 25.0
>>> noise = np.random.default_rng(0).normal(0, 0.01, t.size)
>>> decay = EchoDecay(t, np.exp(-t / 300.0) + noise)
>>> fit = fit_decay(decay, random_state=0)
>>> round(fit.params["T2"], -1), fit.intervals["T2"][0] < 300 < fit.intervals["T2"][1]
(300.0, True)
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.optimize import least_squares
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .io import EchoDecay
from .utils._random import as_generator

__all__ = ["MODELS", "DecayFit", "fit_decay"]


def _exponential(t, amplitude, t2):
    return amplitude * np.exp(-t / t2)


def _stretched(t, amplitude, t2, beta):
    return amplitude * np.exp(-((t / t2) ** beta))


def _biexponential(t, amplitude_short, t2_short, amplitude_long, t2_long):
    return amplitude_short * np.exp(-t / t2_short) + amplitude_long * np.exp(
        -t / t2_long
    )


def _gaussian_exponential(t, amplitude, t2l, t2g):
    return amplitude * np.exp(-t / t2l - (t / t2g) ** 2)


#: The models: their parameter names (times in us) and functions of ``t``.
MODELS = {
    "exponential": (("amplitude", "T2"), _exponential),
    "stretched": (("amplitude", "T2", "beta"), _stretched),
    "biexponential": (
        ("amplitude_short", "T2_short", "amplitude_long", "T2_long"),
        _biexponential,
    ),
    "gaussian_exponential": (("amplitude", "T2L", "T2G"), _gaussian_exponential),
}
# Positive parameters are fitted as logarithms (times, beta); amplitudes as such.
_POSITIVE = {"T2", "beta", "T2_short", "T2_long", "T2L", "T2G"}


def _start(model, t, y):
    """A starting point from a straight line through log(y)."""
    positive = y > 0.05 * np.max(np.abs(y))
    if positive.sum() >= 2:
        slope, intercept = np.polyfit(t[positive], np.log(y[positive]), 1)
    else:
        slope, intercept = -1.0 / np.ptp(t), np.log(np.max(np.abs(y)))
    t2 = -1.0 / slope if slope < 0 else 2.0 * np.ptp(t)
    t2 = float(np.clip(t2, 1e-3 * np.ptp(t), 1e3 * np.ptp(t)))
    amplitude = float(np.exp(intercept))
    return {
        "exponential": [amplitude, t2],
        "stretched": [amplitude, t2, 1.0],
        "biexponential": [amplitude / 2, t2 / 3, amplitude / 2, 3 * t2],
        "gaussian_exponential": [amplitude, 2 * t2, 2 * t2],
    }[model]


_LOGS = {
    model: np.array([name in _POSITIVE for name in names])
    for model, (names, _) in MODELS.items()
}


def _encode(model, values):
    values = np.array(values, dtype=np.float64)
    logs = _LOGS[model]
    values[logs] = np.log(values[logs])
    return values


# Log-parameters are kept within exp(+-_LOG_LIMIT): a component the data do not
# show (a Gaussian term of a plain exponential) runs off to a large time
# instead of overflowing.
_LOG_LIMIT = 40.0


def _decode(model, x):
    logs = np.clip(np.where(_LOGS[model], x, 0.0), -_LOG_LIMIT, _LOG_LIMIT)
    return np.where(_LOGS[model], np.exp(logs), x)


def _least_squares(model, t, y, start, with_errors=False):
    """The fitted parameters (and, ``with_errors``, their rates' standard errors)."""
    function = MODELS[model][1]
    scale = np.max(np.abs(y)) or 1.0

    def residuals(x):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            r = (function(t, *_decode(model, x)) - y) / scale
        return np.nan_to_num(r, nan=1e6, posinf=1e6, neginf=-1e6)

    x0 = _encode(model, start)
    # Levenberg-Marquardt (MINPACK): no bounds needed with log-times, and fast
    result = least_squares(residuals, x0, method="lm", x_scale="jac")
    values = _decode(model, result.x)
    order = slice(None)
    if model == "biexponential" and values[1] > values[3]:
        order = [2, 3, 0, 1]  # keep the short component first
    if not with_errors:
        return values[order]
    return values[order], _rate_errors(model, result, values)[order]


# The rate each time constant is studentized as: 1 / T, and 1 / T2G ** 2 (the
# log of every model is close to linear in these, so their studentized
# errors are close to pivotal; a time's own error grows with the time).
_RATE_POWERS = {"T2": 1, "T2_short": 1, "T2_long": 1, "T2L": 1, "T2G": 2}
_POWERS = {
    model: np.array([_RATE_POWERS.get(name, 0) for name in names])
    for model, (names, _) in MODELS.items()
}


def _to_rates(model, values):
    """Times as rates ``T ** -q``, ``beta`` as its log, amplitudes as such."""
    values = np.array(values, dtype=np.float64)
    powers, logs = _POWERS[model], _LOGS[model]
    out = values.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[..., powers > 0] = values[..., powers > 0] ** -powers[powers > 0]
        plain_logs = logs & (powers == 0)
        out[..., plain_logs] = np.log(values[..., plain_logs])
    return out


def _from_rates(model, rates):
    """The inverse of :func:`_to_rates`; a rate <= 0 is an unbounded time."""
    rates = np.array(rates, dtype=np.float64)
    powers, logs = _POWERS[model], _LOGS[model]
    out = rates.copy()
    timed = powers > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.where(rates[..., timed] > 0, rates[..., timed], np.nan)
        out[..., timed] = np.nan_to_num(positive ** (-1.0 / powers[timed]), nan=np.inf)
    plain_logs = logs & ~timed
    out[..., plain_logs] = np.exp(
        np.clip(rates[..., plain_logs], -_LOG_LIMIT, _LOG_LIMIT)
    )
    return out


def _rate_errors(model, result, values):
    """Standard errors of the parameters as :func:`_to_rates` states them.

    The covariance of the fitted (log-)parameters is ``s**2 (J^T J)^-1``,
    ``s**2`` the residual variance over ``n - p`` (the data's scale cancels);
    a time ``T = exp(x)`` studentized as the rate ``T ** -q`` has ``q T **
    -q`` times the error of ``x``. NaN where the data do not determine a
    parameter.
    """
    jacobian = result.jac
    n, p = jacobian.shape
    variance = 2.0 * result.cost / max(n - p, 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        try:
            covariance = np.linalg.inv(jacobian.T @ jacobian) * variance
        except np.linalg.LinAlgError:
            return np.full(p, np.nan)
        errors = np.sqrt(np.diag(covariance))
        powers = _POWERS[model]
        errors = np.where(powers > 0, powers * values**-powers * errors, errors)
    return np.where(np.isfinite(errors) & (errors > 0), errors, np.nan)


@dataclass(frozen=True, eq=False)
class DecayFit:
    """A fitted echo decay (made by :func:`fit_decay`).

    Attributes
    ----------
    model : str
    params : dict
        The fitted parameters (times in us).
    intervals : dict
        ``name -> (low, high)``: bootstrap intervals at ``confidence``.
    confidence : float
    times, values : ndarray
        The echo times (us) and phased amplitudes fitted (after
        ``drop_first``; the mean of the repeats when several were given).
    bootstrap_params : ndarray of shape (n_bootstrap, n_params)
        The refitted parameters of each bootstrap sample.
    method : {"residual", "repeats"}
        How the bootstrap samples were drawn.
    """

    model: str
    params: dict
    intervals: dict
    confidence: float
    times: np.ndarray
    values: np.ndarray
    bootstrap_params: np.ndarray
    method: str

    def predict(self, t):
        """The model at echo times ``t`` (us)."""
        t = np.asarray(t, dtype=np.float64)
        return MODELS[self.model][1](t, *self.params.values())

    @property
    def residuals(self):
        """``values - predict(times)``."""
        return self.values - self.predict(self.times)

    def plot(self, ax=None):
        """The data, the fit and its parameters on ``ax`` (a new one if None)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(self.times, self.values, "o", ms=3, label="echo amplitudes")
        grid = np.linspace(0.0, self.times.max(), 200)
        text = ", ".join(
            f"{name} = {value:.4g}"
            for name, value in self.params.items()
            if name in _POSITIVE
        )
        ax.plot(grid, self.predict(grid), "-", label=f"{self.model}: {text}")
        ax.set_xlabel("echo time (us)")
        ax.set_ylabel("amplitude")
        ax.legend(fontsize="small")
        return ax

    def __repr__(self):
        shown = ", ".join(
            f"{name}={value:.4g} [{lo:.4g}, {hi:.4g}]"
            for (name, value), (lo, hi) in zip(
                self.params.items(), self.intervals.values(), strict=True
            )
        )
        return f"DecayFit({self.model}: {shown})"


def _as_decays(decay):
    if isinstance(decay, EchoDecay):
        return [decay]
    try:
        decays = list(decay)
    except TypeError:
        decays = None
    if not decays or not all(isinstance(d, EchoDecay) for d in decays):
        raise TypeError(
            "decay must be an EchoDecay or a list of EchoDecays (repeats of one "
            f"sample); got {type(decay).__name__}."
        )
    first = decays[0].times
    for k, other in enumerate(decays[1:], start=1):
        if other.times.shape != first.shape or not np.allclose(other.times, first):
            raise ValueError(
                f"The repeats must share their echo times; decay {k} does not match "
                "decay 0."
            )
    return decays


def _studentized(model, best, errors, samples, sample_errors, tail, low, high):
    """Bootstrap-t intervals, on the rates, turned back into the parameters.

    ``low`` and ``high`` (the percentile intervals) stay where a standard
    error is missing, or where fewer than half the refits have one.
    """
    center = _to_rates(model, best)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (_to_rates(model, samples) - center) / sample_errors
    t[~np.isfinite(t)] = np.nan
    usable = np.isfinite(errors) & (np.sum(np.isfinite(t), axis=0) >= t.shape[0] / 2)
    if not usable.any():
        return low, high
    q_low, q_high = np.nanpercentile(t[:, usable], [tail, 100 - tail], axis=0)
    ends = np.tile(center, (2, 1))
    ends[0, usable] = center[usable] - q_high * errors[usable]
    ends[1, usable] = center[usable] - q_low * errors[usable]
    ends = _from_rates(model, ends)
    # a rate is a decreasing function of its time: its ends swap
    ends = np.sort(ends, axis=0)
    low = np.where(usable, ends[0], low)
    high = np.where(usable, ends[1], high)
    return low, high


@validate_params(
    {
        "decay": "no_validation",
        "model": [StrOptions(set(MODELS))],
        "drop_first": [Interval(Integral, 0, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 20, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "interval": [StrOptions({"studentized", "percentile"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def fit_decay(
    decay,
    model="exponential",
    *,
    drop_first=0,
    n_bootstrap=300,
    confidence=0.9,
    interval="studentized",
    random_state=None,
):
    """Fit a decay model to echo amplitudes, with bootstrap intervals.

    The amplitudes are phased (their common phase removed) and the real
    part is fitted by least squares, the times and ``beta`` as logarithms
    (so they stay positive). Intervals come from the parameters refitted to
    bootstrap samples: for one decay, the fit plus resampled residuals
    (scaled by ``sqrt(n / (n - p))`` for the ``p`` fitted parameters); for
    several decays of one sample, the mean of repeats drawn with
    replacement. They are studentized (bootstrap-t) by default: each
    refit's error over its own standard error (from the Jacobian and the
    residual variance) gives the quantiles that scale the fit's standard
    error. Each time ``T`` is studentized as a rate, ``1 / T`` (``1 /
    T2G ** 2``), in which the log of the models is close to linear, and the
    interval is turned back into times (a rate interval reaching 0 leaves
    the time unbounded above). A percentile interval of the refits ignores
    that the noise level is itself estimated, and that a time's error grows
    with the time: with 40 echoes of a Gaussian x exponential decay it
    covers less than its nominal level.

    Parameters
    ----------
    decay : EchoDecay or list of EchoDecay
        One decay, or repeats of one sample (same echo times).
    model : {"exponential", "stretched", "biexponential", \
            "gaussian_exponential"}, default="exponential"
        See :mod:`sknmr.decay`.
    drop_first : int, default=0
        Echoes left out at the start (the first echoes of a CPMG train
        often carry stimulated echoes).
    n_bootstrap : int, default=300
        Bootstrap samples, ``>= 20``.
    confidence : float, default=0.9
        Level of the intervals, in (0, 1).
    interval : {"studentized", "percentile"}, default="studentized"
        Bootstrap-t intervals, or the percentiles of the refitted
        parameters (what earlier versions gave). A parameter whose standard
        error cannot be computed (the data do not determine it) gets its
        percentile interval.
    random_state : int, RandomState, Generator or None, default=None
        Draws the bootstrap samples.

    Returns
    -------
    fit : DecayFit

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.decay import fit_decay
    >>> from sknmr.io import EchoDecay
    >>> t = np.arange(1, 61) * 20.0
    >>> y = 2.0 * np.exp(-t / 900.0 - (t / 400.0) ** 2)
    >>> fit = fit_decay(EchoDecay(t, y), "gaussian_exponential", random_state=0)
    >>> {name: round(value, 3) for name, value in fit.params.items()}
    {'amplitude': 2.0, 'T2L': 900.0, 'T2G': 400.0}
    """
    decays = _as_decays(decay)
    names = MODELS[model][0]
    times = decays[0].times[drop_first:]
    rows = np.array([d.phased()[drop_first:] for d in decays])
    if times.size < len(names) + 2:
        raise ValueError(
            f"The {model!r} model fits {len(names)} parameters and needs at least "
            f"{len(names) + 2} echoes; {times.size} are left after "
            f"drop_first={drop_first}."
        )
    values = rows.mean(axis=0)
    best, errors = _least_squares(
        model, times, values, _start(model, times, values), with_errors=True
    )
    rng = as_generator(random_state)
    function = MODELS[model][1]
    samples = np.empty((n_bootstrap, len(names)))
    sample_errors = np.empty((n_bootstrap, len(names)))
    if len(decays) > 1:
        method = "repeats"
        for b in range(n_bootstrap):
            picked = rng.integers(0, len(decays), len(decays))
            samples[b], sample_errors[b] = _least_squares(
                model, times, rows[picked].mean(axis=0), best, with_errors=True
            )
    else:
        method = "residual"
        fitted = function(times, *best)
        residuals = values - fitted
        residuals = (residuals - residuals.mean()) * np.sqrt(
            times.size / (times.size - len(names))
        )
        for b in range(n_bootstrap):
            resampled = fitted + rng.choice(residuals, times.size)
            samples[b], sample_errors[b] = _least_squares(
                model, times, resampled, best, with_errors=True
            )
    tail = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    if interval == "studentized":
        low, high = _studentized(
            model, best, errors, samples, sample_errors, tail, low, high
        )
    return DecayFit(
        model=model,
        params={n: float(v) for n, v in zip(names, best, strict=True)},
        intervals={
            n: (float(lo), float(hi))
            for n, lo, hi in zip(names, low, high, strict=True)
        },
        confidence=float(confidence),
        times=times,
        values=values,
        bootstrap_params=samples,
        method=method,
    )
