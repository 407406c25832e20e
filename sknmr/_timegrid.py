"""The time grid of an echo: default step and delay, sample times, and the
time-stamped feature names that carry them.

The simulator samples ``t_k = k dt`` (us); its columns are named
``'<quantity>_t=<time>us'`` (``'absM_t=166.635us'``), with enough decimals to
tell neighbouring samples apart. :class:`~sknmr.EchoWindow` and
:class:`~sknmr.PolynomialSectionFeaturizer` read the times back from such
names, so a window of a window, or a featurizer after a window with pandas
output, knows where it is on the grid.
"""

import math
import re

import numpy as np

__all__ = [
    "DEFAULT_DT",
    "DEFAULT_TAU",
    "default_window",
    "n_steps",
    "sample_times",
    "time_names",
    "times_from_names",
]

#: Default time step and sampling interval (us): ``1 / (2 pi)``, the step of
#: the paper's simulator (which rounds it to 160 ns).
DEFAULT_DT = 1 / (2 * np.pi)
#: Default delay of the refocusing pulse (us).
DEFAULT_TAU = 100.0

# The time in a feature name such as 'absM_t=199.899us' or 't=1.5us'.
_TIME_IN_NAME = re.compile(r"(?:^|_)t=([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)us$")


def n_steps(duration, dt):
    """Steps of length ``dt`` that make up ``duration``: ``round(duration / dt)``."""
    return int(round(float(duration) / float(dt)))


def decimals_of(spacing):
    """Decimals that keep names of samples ``spacing`` us apart distinct."""
    return max(3, int(math.ceil(-math.log10(float(spacing)))) + 2)


def time_names(times, prefix=None, dt=None):
    """Feature names of samples at ``times`` (us): ``'<prefix>_t=<time>us'``.

    Parameters
    ----------
    times : array-like of float
    prefix : str or None, default=None
        The quantity (``'absM'``, ``'M'``, ``'Iz'``); None gives ``'t=...us'``.
    dt : float or None, default=None
        The grid step, which sets the decimals; None takes the smallest
        spacing of ``times``.

    Examples
    --------
    >>> time_names([0.0, 0.159155], prefix="absM").tolist()
    ['absM_t=0.000us', 'absM_t=0.159us']
    """
    times = np.asarray(times, dtype=np.float64)
    if dt is None:
        dt = float(np.min(np.diff(times))) if times.size > 1 else 1.0
    decimals = decimals_of(dt)
    head = "" if prefix is None else f"{prefix}_"
    return np.asarray([f"{head}t={t:.{decimals}f}us" for t in times], dtype=object)


def times_from_names(feature_names):
    """Times (us) in feature names, or None unless every name has one, increasing.

    Examples
    --------
    >>> times_from_names(["absM_t=0.000us", "absM_t=0.159us"]).tolist()
    [0.0, 0.159]
    >>> times_from_names(["x0", "x1"]) is None
    True
    """
    if feature_names is None or len(feature_names) == 0:
        return None
    times = []
    for name in feature_names:
        match = _TIME_IN_NAME.search(str(name))
        if match is None:
            return None
        times.append(float(match.group(1)))
    times = np.asarray(times)
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        return None
    return times


def default_window(tau=DEFAULT_TAU, dt=DEFAULT_DT, width=1 / 3):
    """``(center, half_width)`` (us) of the area of interest ``2 tau +- width tau``.

    The centre is the echo sample ``2 round(tau / dt) dt``, on the grid.

    Examples
    --------
    >>> center, half_width = default_window()
    >>> round(center, 3), round(half_width, 3)
    (199.899, 33.333)
    """
    return 2 * n_steps(tau, dt) * float(dt), float(width) * float(tau)


def sample_times(estimator, n_features, feature_names=None):
    """Times (us) of the input columns of ``estimator`` (see :mod:`sknmr.window`).

    ``estimator`` has the parameters ``times`` and ``dt``; ``feature_names``
    are the input's column names, if any.
    """
    times, dt = estimator.times, estimator.dt
    if times is not None and dt is not None:
        raise ValueError(
            f"Give either dt or times, not both; got dt={dt} and times of "
            f"length {len(times)}."
        )
    if times is not None:
        t = np.asarray(times, dtype=np.float64)
        if t.ndim != 1 or t.shape[0] != n_features:
            raise ValueError(
                f"times must hold one time (us) per input feature: shape "
                f"({n_features},); got shape {t.shape}."
            )
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise ValueError("times must be finite and strictly increasing.")
        return t
    # The simulator's grid rule t_k = k * dt, with its default dt.
    step = float(DEFAULT_DT if dt is None else dt)
    grid = np.arange(n_features) * step
    named = times_from_names(feature_names)
    if named is None:
        return grid
    grid = grid + named[0]
    # Names are rounded, so allow half a step; a wrong dt drifts much further.
    if np.max(np.abs(named - grid)) > step / 2:
        raise ValueError(
            f"The input's feature names give sample times {named[0]:g}, "
            f"{named[1] if len(named) > 1 else named[0]:g}, ... us that do not "
            f"follow the grid t_0 + k*dt with dt={step:g} us; pass the grid's dt "
            "(or its times)."
        )
    return grid
