"""Instrument effects added to simulated echoes at fit time only.

:func:`augment_echoes` is the function of the imbalanced-learn
:class:`~imblearn.FunctionSampler` that :class:`~sknmr.inference.EchoInference`
builds from its ``augment`` dict. A sampler only has ``fit_resample``: it runs
on the training and calibration echoes inside ``fit`` and never on what
``predict`` sees.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn import FunctionSampler

from ..utils._random import InferenceStream, derive_seed
from ..utils._resources import check_fits_in_memory

__all__ = [
    "AUGMENT_KEYS",
    "augment_echoes",
    "augment_parts",
    "check_augment",
    "make_augmenter",
]

#: Keys of the ``augment`` dict and their defaults (None: the effect is off).
AUGMENT_KEYS = {
    "snr": None,
    "phase_error": None,
    "dead_time": None,
    "dead_fill": "hold",
    "copies": 1,
    "keep_original": False,
}


def _check_range(value, name, low=0.0):
    """``(lo, hi)`` from a number or a pair, both > ``low``."""
    if isinstance(value, Real) and not isinstance(value, bool):
        pair = (float(value), float(value))
    else:
        try:
            pair = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            pair = ()
    if len(pair) != 2 or not (low < pair[0] <= pair[1] < np.inf):
        raise ValueError(
            f"augment[{name!r}] must be a finite number > {low:g} or a pair "
            f"(low, high) with {low:g} < low <= high < inf; got {value!r}. "
            "(Keep clean echoes too with keep_original=True.)"
        )
    return pair


def check_augment(augment, kind, has_grid):
    """The validated ``augment`` dict with defaults filled in (None: no augmentation).

    Parameters
    ----------
    augment : dict or None
    kind : {"complex", "magnitude", "real"}
        What the training echoes are: complex ``M``, ``|M|``, or another real
        series (``<I^z>``).
    has_grid : bool
        Whether sample times are known (a dead time needs them).
    """
    if augment is None:
        return None
    if not isinstance(augment, dict):
        raise TypeError(f"augment must be a dict or None; got {augment!r}.")
    unknown = sorted(set(augment) - set(AUGMENT_KEYS))
    if unknown:
        raise ValueError(
            f"augment has unknown keys {unknown}; it takes {sorted(AUGMENT_KEYS)}."
        )
    out = {**AUGMENT_KEYS, **augment}
    if out["snr"] is not None:
        out["snr"] = _check_range(out["snr"], "snr")
    if out["phase_error"] is not None:
        if kind != "complex":
            raise ValueError(
                "augment['phase_error'] needs complex echoes (EchoSimulator("
                "output='complex') with detection='quadrature'); a receiver phase "
                f"does not change {kind} echoes."
            )
        value = out["phase_error"]
        if not isinstance(value, Real) or not 0 <= value <= 180:
            raise ValueError(
                "augment['phase_error'] must be the largest phase error in degrees, "
                f"in [0, 180]; got {value!r}."
            )
        out["phase_error"] = float(value)
    if out["dead_time"] is not None:
        if not has_grid:
            raise ValueError(
                "augment['dead_time'] needs the sample times: pass the simulator "
                "the echoes came from (simulator=...)."
            )
        value = out["dead_time"]
        if not isinstance(value, Real) or not value >= 0 or not np.isfinite(value):
            raise ValueError(
                f"augment['dead_time'] must be a time >= 0 (us); got {value!r}."
            )
        out["dead_time"] = float(value)
    if out["dead_fill"] not in ("hold", "zero"):
        raise ValueError(
            f"augment['dead_fill'] must be 'hold' or 'zero'; got {out['dead_fill']!r}."
        )
    copies = out["copies"]
    if not isinstance(copies, Integral) or isinstance(copies, bool) or copies < 1:
        raise ValueError(f"augment['copies'] must be an int >= 1; got {copies!r}.")
    out["copies"] = int(copies)
    out["keep_original"] = bool(out["keep_original"])
    return out


def _repeat_rows(y, index):
    if y is None:
        return None
    if isinstance(y, (pd.DataFrame, pd.Series)):
        return y.iloc[index].reset_index(drop=True)
    return np.asarray(y)[index]


def augment_echoes(
    X,
    y=None,
    *,
    kind="magnitude",
    snr=None,
    phase_error=None,
    dead_time=None,
    dead_fill="hold",
    copies=1,
    keep_original=False,
    times=None,
    pulse_times=(),
    top=None,
    random_state=0,
):
    """Echoes with instrument effects, and their targets repeated to match.

    Each of the ``copies`` augmented versions of an echo gets, in order:

    1. a receiver phase error ``exp(i phi)``, ``phi`` uniform in
       ``[-phase_error, phase_error]`` degrees (complex echoes only);
    2. additive white noise at a signal-to-noise ratio drawn log-uniformly in
       ``snr = (low, high)``: Gaussian noise of standard deviation
       ``A / snr`` on each quadrature channel, ``A`` the echo top (largest
       ``|M|`` over the columns ``top``). Complex echoes get complex noise;
       magnitude echoes are taken as the in-phase signal ``|M|`` and become
       ``|(|M| + noise)|`` (the Rician noise of a magnitude detector); other
       real series get real noise;
    3. a dead time: samples within ``dead_time`` us after each of
       ``pulse_times`` are replaced by the first sample after it (``"hold"``,
       what :class:`~sknmr.inference.EchoInference` does with the samples a
       measurement lacks) or by 0 (``"zero"``).

    Parameters
    ----------
    X : ndarray of shape (n_echoes, n_times)
    y : DataFrame, ndarray or None
        Targets, one row per echo; repeated like the echoes.
    kind : {"complex", "magnitude", "real"}
    snr, phase_error, dead_time, dead_fill, copies, keep_original
        See :class:`~sknmr.inference.EchoInference`'s ``augment``.
    times : ndarray of shape (n_times,) or None
        Sample times (us); needed for a dead time.
    pulse_times : sequence of float
        Times (us) of the pulses.
    top : slice or None
        Columns where the echo top is looked for (None: all).
    random_state : int
        Seeds the draws.

    Returns
    -------
    X_aug : ndarray of shape (n_out, n_times)
        ``n_out = n_echoes * (copies + keep_original)``: the originals first
        when kept, then the copies, each in the input's order.
    y_aug : like ``y``, or None

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 5))
    >>> X_aug, _ = augment_echoes(X, snr=10.0, copies=3, random_state=0)
    >>> X_aug.shape, bool(np.all(X_aug >= 0))
    ((6, 5), True)
    """
    rng = np.random.default_rng(random_state)
    X = np.asarray(X)
    n = X.shape[0]
    parts = [X] if keep_original else []
    top = slice(None) if top is None else top
    for _ in range(copies):
        Z = X.astype(np.complex128 if kind == "complex" else np.float64, copy=True)
        if phase_error:
            phi = np.deg2rad(rng.uniform(-phase_error, phase_error, size=n))
            Z = Z * np.exp(1j * phi)[:, None]
        if snr is not None:
            low, high = _check_range(snr, "snr")
            ratio = np.exp(rng.uniform(np.log(low), np.log(high), size=n))
            amplitude = np.max(np.abs(Z[:, top]), axis=1)
            sigma = (amplitude / ratio)[:, None]
            noise = rng.standard_normal(Z.shape)
            if kind == "real":
                Z = Z + sigma * noise
            else:
                noise = noise + 1j * rng.standard_normal(Z.shape)
                Z = Z + sigma * noise
                if kind == "magnitude":
                    Z = np.abs(Z)
        if dead_time:
            times = np.asarray(times, dtype=np.float64)
            for p in pulse_times:
                dead = np.flatnonzero((times >= p) & (times < p + dead_time))
                if dead.size == 0:
                    continue
                after = dead[-1] + 1
                if dead_fill == "zero" or after >= times.size:
                    Z[:, dead] = 0
                else:
                    Z[:, dead] = Z[:, [after]]
        parts.append(Z.astype(X.dtype, copy=False) if kind != "complex" else Z)
    X_aug = np.concatenate(parts, axis=0)
    index = np.tile(np.arange(n), len(parts))
    return X_aug, _repeat_rows(y, index)


def make_augmenter(options, **context):
    """The :class:`~imblearn.FunctionSampler` applying ``options`` (fit time only).

    ``context`` holds what the echoes are (``kind``, ``times``,
    ``pulse_times``, ``top``) and the ``random_state``.
    """
    return FunctionSampler(
        func=augment_echoes,
        kw_args={**options, **context},
        validate=False,
    )


def augment_parts(augment, train, calibration, seed, **context):
    """Augment the training and the calibration part, each with its own seeds.

    ``train`` and ``calibration`` are ``(X, y)`` pairs; ``context`` is
    :func:`make_augmenter`'s. Returns the training part's fitted sampler and
    both parts augmented. Refuses, before any work, more augmented echoes than
    fit in memory.
    """
    X = train[0]
    n = len(X) + len(calibration[0])
    rows = n * (augment["copies"] + augment["keep_original"])
    check_fits_in_memory(
        rows * X.shape[1] * X.itemsize * 3,  # echoes, detected, features
        f"Augmenting {n} echoes into {rows}",
        "augment['copies'] (or the number of echoes)",
    )
    augmenter = make_augmenter(
        augment,
        **context,
        random_state=derive_seed(seed, InferenceStream.AUGMENT_TRAIN),
    )
    train = augmenter.fit_resample(*train)
    calibration = make_augmenter(
        augment,
        **context,
        random_state=derive_seed(seed, InferenceStream.AUGMENT_CALIBRATION),
    ).fit_resample(*calibration)
    return augmenter, train, calibration
