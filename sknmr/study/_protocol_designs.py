"""The protocols of the protocol study: experiments, detections, presets.

A protocol is a choice of experiments, measured on the same samples, and a
detection (:data:`DETECTIONS`); :func:`default_experiments` and
:func:`default_protocols` are those the study compares by default,
:data:`PROTOCOL_PRESETS` the sizes of ``sknmr protocols``. Each experiment
contributes the samples around its echoes (:func:`_echo_samples`).
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_parameter_constraints

from .._presets import PRESETS as _REGISTRY
from ..sequences import cpmg, hahn_echo

__all__ = [
    "DETECTIONS",
    "PROTOCOL_PRESETS",
    "default_experiments",
    "default_protocols",
]

#: How an echo is read out (see the module's description).
DETECTIONS = ("magnitude", "quadrature", "phase-blind")


def default_experiments(tau=100.0):
    """The experiments the default protocols use, by name.

    ``hahn90`` is the paper's 90-180 echo; ``hahn<angle>`` the theta-2theta
    Hahn echo at another first-pulse angle (the sweep takes 30, 60, 90, 120
    and 150 degrees); ``hahn90_half_tau`` the paper's echo at ``tau / 2``;
    ``hahn45_quarter_tau`` the 45-90 echo at ``tau / 4`` (short enough that
    the phase ``alpha_z`` turns does not wrap round many times before the
    echo); ``cpmg`` a CPMG train of four echoes with pulses every
    ``tau / 2``.

    Examples
    --------
    >>> sorted(default_experiments(10.0))
    ['cpmg', 'hahn120', 'hahn150', 'hahn30', 'hahn45', 'hahn45_quarter_tau',
     'hahn60', 'hahn90', 'hahn90_half_tau']
    """
    experiments = {
        f"hahn{angle}": hahn_echo(tau, angle=float(angle))
        for angle in (90, 45, 30, 60, 120, 150)
    }
    experiments["hahn90_half_tau"] = hahn_echo(tau / 2)
    experiments["hahn45_quarter_tau"] = hahn_echo(tau / 4, angle=45.0)
    experiments["cpmg"] = cpmg(tau / 4, n_echoes=4)
    return experiments


def default_protocols():
    """The protocols compared by default: name -> (experiments, detection).

    The paper's single echo first; then two Hahn echoes at different angles
    (``alpha_z`` acts only where ``<I^z>`` is not zero), a five-angle sweep,
    a CPMG train and two values of tau, read as magnitudes; the two-angle
    pair read in quadrature, calibrated and phase-blind; the 45 degree echo
    at ``tau / 4`` read in quadrature, alone and after the CPMG train
    (calibrated and phase-blind); and the adaptive protocol of the paper's
    conclusion, a dict: ``W`` from the 90-180 echo, then the second
    experiment chosen for that ``W`` range (two echoes per sample).

    Examples
    --------
    >>> protocols = default_protocols()
    >>> protocols["paper: 90-180 echo, |M|"]
    (('hahn90',), 'magnitude')
    """
    sweep = ("hahn30", "hahn60", "hahn90", "hahn120", "hahn150")
    return {
        "paper: 90-180 echo, |M|": (("hahn90",), "magnitude"),
        "90 + 45 degrees, |M|": (("hahn90", "hahn45"), "magnitude"),
        "angle sweep (5), |M|": (sweep, "magnitude"),
        "CPMG train, |M|": (("cpmg",), "magnitude"),
        "two taus, |M|": (("hahn90", "hahn90_half_tau"), "magnitude"),
        "45 degrees, quadrature": (("hahn45",), "quadrature"),
        "90 + 45 degrees, quadrature": (("hahn90", "hahn45"), "quadrature"),
        "90 + 45 degrees, phase-blind": (("hahn90", "hahn45"), "phase-blind"),
        "45 degrees at tau/4, quadrature": (("hahn45_quarter_tau",), "quadrature"),
        "CPMG + 45 degrees at tau/4, quadrature": (
            ("cpmg", "hahn45_quarter_tau"),
            "quadrature",
        ),
        "CPMG + 45 degrees at tau/4, phase-blind": (
            ("cpmg", "hahn45_quarter_tau"),
            "phase-blind",
        ),
        "adaptive: 90-180, then the best for its W, quadrature": {
            "first": "hahn90",
            "options": ("hahn45", "hahn30", "cpmg", "hahn90_half_tau"),
            "detection": "quadrature",
        },
    }


def _echo_samples(times, sequence, dt):
    """Indices of the samples within a third of the echo spacing of each echo."""
    grid = sequence.grid(dt)
    keep = []
    for echo in grid.echo_steps:
        before = max(step for step in grid.pulse_steps if step < echo)
        half = (echo - before) / 3
        lo, hi = math.ceil(echo - half - 1e-9), math.floor(echo + half + 1e-9)
        keep.extend(range(max(lo, 0), min(hi, len(times) - 1) + 1))
    return np.unique(keep)


def _check_protocol(name, protocol, blocks):
    """A protocol: ``(experiments, detection)``, or an adaptive one's dict."""
    if isinstance(protocol, dict):
        experiments = [protocol.get("first"), *protocol.get("options", ())]
        detection = protocol.get("detection", "quadrature")
        ok = set(protocol) <= {"first", "options", "detection"} and bool(
            protocol.get("options")
        )
    else:
        try:
            experiments, detection = protocol
        except (TypeError, ValueError):
            experiments, detection = (), None
        ok = bool(experiments) and not isinstance(experiments, str)
    if not ok or detection not in DETECTIONS or not set(experiments) <= set(blocks):
        raise ValueError(
            f"protocol {name!r} must use experiments from {sorted(blocks)} and a "
            f"detection from {DETECTIONS}, as (experiments, detection) or "
            "{'first': ..., 'options': [...], 'detection': ...} (adaptive); got "
            f"{protocol!r}."
        )


#: Sizes of ``sknmr protocols`` (see ``sknmr._presets.PRESETS``, the registry
#: of every preset).
PROTOCOL_PRESETS = _REGISTRY["protocols"]


#: What each setting of :data:`PROTOCOL_PRESETS` must be.
_SETTING_CONSTRAINTS = {
    "n_per_kernel": [Interval(Integral, 1, None, closed="left")],
    "lattice_size": [Interval(Integral, 2, None, closed="left")],
    "tau": [Interval(Real, 0, None, closed="neither")],
    "cv": [Interval(Integral, 2, None, closed="left")],
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
}


def _check_protocol_settings(preset, overrides):
    """The settings of ``preset`` (a checked name) with ``overrides``, checked."""
    settings = {**PROTOCOL_PRESETS[preset], **overrides}
    unknown = sorted(set(settings) - set(PROTOCOL_PRESETS["quick"]))
    if unknown:
        raise TypeError(
            f"run_protocols got unknown settings {unknown}; the settings are "
            f"{sorted(PROTOCOL_PRESETS['quick'])}."
        )
    validate_parameter_constraints(_SETTING_CONSTRAINTS, settings, "run_protocols")
    # the power class has n_per_kernel materials; stratified folds need cv each
    if settings["cv"] > settings["n_per_kernel"]:
        raise ValueError(
            f"cv={settings['cv']} folds need at least {settings['cv']} materials "
            f"per kernel; n_per_kernel is {settings['n_per_kernel']}."
        )
    return settings
