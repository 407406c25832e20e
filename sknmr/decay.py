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


def _least_squares(model, t, y, start):
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
    if model == "biexponential" and values[1] > values[3]:
        values = values[[2, 3, 0, 1]]  # keep the short component first
    return values


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


@validate_params(
    {
        "decay": "no_validation",
        "model": [StrOptions(set(MODELS))],
        "drop_first": [Interval(Integral, 0, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 20, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
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
    random_state=None,
):
    """Fit a decay model to echo amplitudes, with bootstrap intervals.

    The amplitudes are phased (their common phase removed) and the real
    part is fitted by least squares, the times and ``beta`` as logarithms
    (so they stay positive). Intervals are percentile intervals of the
    parameters refitted to bootstrap samples, never the covariance: for one
    decay, the fit plus resampled residuals (scaled by ``sqrt(n / (n - p))``
    for the ``p`` fitted parameters); for several decays of one sample, the
    mean of repeats drawn with replacement.

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
    best = _least_squares(model, times, values, _start(model, times, values))
    rng = as_generator(random_state)
    function = MODELS[model][1]
    samples = np.empty((n_bootstrap, len(names)))
    if len(decays) > 1:
        method = "repeats"
        for b in range(n_bootstrap):
            picked = rng.integers(0, len(decays), len(decays))
            samples[b] = _least_squares(model, times, rows[picked].mean(axis=0), best)
    else:
        method = "residual"
        fitted = function(times, *best)
        residuals = values - fitted
        residuals = (residuals - residuals.mean()) * np.sqrt(
            times.size / (times.size - len(names))
        )
        for b in range(n_bootstrap):
            resampled = fitted + rng.choice(residuals, times.size)
            samples[b] = _least_squares(model, times, resampled, best)
    tail = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
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
