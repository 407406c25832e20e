"""Measured or simulated echoes on a simulator's grid, and their noise level."""

import math

import numpy as np

from ..io import EchoResampler, MeasuredEcho

__all__ = ["as_experiments", "estimate_noise"]

# A stated tau this far from the simulator's refocusing time is another grid.
_TAU_RTOL = 0.02
# Fewest covered samples (fraction of the grid) worth fitting.
_MIN_COVERED = 0.1
# Lowest noise level (relative to the echo's largest value) the fit assumes,
# so that a noiseless echo does not give a zero variance.
_NOISE_FLOOR = 1e-6


def estimate_noise(y, mask=None):
    """Noise standard deviation (per quadrature) of a smooth series.

    The median absolute second difference, scaled to the standard deviation
    of white noise (the second difference of white noise has variance
    ``6 sigma^2``). The echo itself changes little from one sample to the
    next, so its second differences are mostly noise; the median ignores the
    few sharp features (pulses).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 10, 2000)
    >>> y = np.exp(-t) + 0.01 * rng.standard_normal(t.size)
    >>> print(f"{estimate_noise(y):.3f}")
    0.010
    """
    y = np.asarray(y)
    if mask is not None:
        y = np.where(mask, y, np.nan)
    parts = [y.real, y.imag] if np.iscomplexobj(y) else [y]
    diffs = np.concatenate([np.diff(p, 2) for p in parts])
    diffs = diffs[np.isfinite(diffs)]
    sigma = 1.4826 * np.median(np.abs(diffs)) / math.sqrt(6.0)
    top = np.nanmax(np.abs(y))
    return float(max(sigma, _NOISE_FLOOR * top))


def _on_grid(echo, simulator, detection, k):
    """One echo as an array on the simulator's grid and the mask of its samples."""
    n_times = simulator.n_times
    if isinstance(echo, MeasuredEcho):
        pulses = simulator.pulse_times
        stated = echo.metadata.get("tau")
        if stated is not None and len(pulses) > 1:
            if not math.isclose(float(stated), pulses[1], rel_tol=_TAU_RTOL):
                raise ValueError(
                    f"Echo {k} was measured with tau={float(stated):g} us, but the "
                    f"simulator's second pulse comes at {pulses[1]:g} us: another "
                    "experiment. Give the simulator the measurement's sequence."
                )
        quadrature = detection != "magnitude"
        resampler = EchoResampler(
            times=simulator.times,
            phase="keep" if quadrature else "magnitude",
            output="complex" if quadrature else "real",
            pulse_times=tuple(pulses),
        )
        y = resampler.fit_transform([echo])[0]
    else:
        y = np.asarray(echo)
        if y.ndim != 1 or y.dtype.kind not in "iufc":
            raise ValueError(
                f"Echo {k} must be a MeasuredEcho or a 1-D array of numbers on the "
                f"simulator's grid ({n_times} samples); got shape {y.shape} and "
                f"dtype {y.dtype}."
            )
        if y.size != n_times:
            raise ValueError(
                f"Echo {k} has {y.size} samples, but its simulator's grid has "
                f"{n_times} (dt={simulator.dt:g} us, duration "
                f"{n_times * simulator.dt:g} us): another grid. Pass a MeasuredEcho "
                "to resample it, or a simulator of its grid."
            )
        y = y.astype(np.complex128 if y.dtype.kind == "c" else np.float64)
    if detection == "magnitude":
        y = np.abs(y)
    elif not np.iscomplexobj(y):
        raise ValueError(
            f"detection={detection!r} needs complex echoes (both quadratures); echo "
            f"{k} is real. Use detection='magnitude'."
        )
    mask = np.isfinite(y.real) & np.isfinite(y.imag)
    if mask.mean() < _MIN_COVERED:
        raise ValueError(
            f"Echo {k} covers only {mask.sum()} of the grid's {n_times} samples; "
            "it was measured on another time range than the simulator's."
        )
    return np.where(mask, y, 0), mask


def as_experiments(echo, simulators, detection, noise=None):
    """The echoes, their masks and noise levels, one per simulator.

    Checks everything (grids, detection, noise) before any simulation.
    """
    if isinstance(echo, MeasuredEcho) or (
        isinstance(echo, np.ndarray) and echo.ndim == 1
    ):
        echoes = [echo]
    else:
        echoes = list(echo)
        if echoes and np.ndim(echoes[0]) == 0:
            echoes = [np.asarray(echo)]
    if len(echoes) != len(simulators):
        raise ValueError(
            f"Got {len(echoes)} echo(es) and {len(simulators)} simulator(s): give "
            "one simulator (its sequence and grid) per echo."
        )
    data, masks = zip(
        *(
            _on_grid(e, s, detection, k)
            for k, (e, s) in enumerate(zip(echoes, simulators, strict=True))
        ),
        strict=True,
    )
    if noise is None:
        sigmas = [estimate_noise(y, m) for y, m in zip(data, masks, strict=True)]
    else:
        sigmas = np.broadcast_to(np.asarray(noise, dtype=np.float64), len(data))
        if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
            raise ValueError(
                "noise must be a positive standard deviation (one, or one per "
                f"echo); got {noise!r}."
            )
        sigmas = [float(s) for s in sigmas]
    return list(data), list(masks), sigmas
