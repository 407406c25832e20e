"""The simulator's settings checked together, and the relaxation they set.

:class:`~sknmr.EchoSimulator` checks each setting alone with its
``_parameter_constraints``; what is checked here involves several at once
(``dt`` against ``tau``, a ``sequence`` against the Hahn-echo settings,
``t2`` against ``t1`` and ``dephasing_rate``, ``device`` against
``backend``).
"""

import numpy as np

from .. import _backends
from .._timegrid import DEFAULT_TAU
from ..utils._resources import check_n_jobs

# The most steps of dt tau may span (a grid of 3 tau / dt samples).
MAX_STEPS = 1e12
# The Hahn-echo parameters a `sequence` replaces, with their defaults.
HAHN_DEFAULTS = {"tau": DEFAULT_TAU, "pulse_angle": 90.0, "refocus_axis": "y"}


def check_relaxation_times(t1, t2, whose):
    """Refuse ``T2 > 2 T1``: a spin-1/2 ensemble cannot lose polarisation slower."""
    t1, t2 = np.broadcast_arrays(np.asarray(t1, float), np.asarray(t2, float))
    bad = t2 > 2 * t1
    if np.any(bad):
        raise ValueError(
            f"t2 must be at most 2 * t1 (a spin-1/2 ensemble's transverse decay is "
            f"at least half its longitudinal one); {whose} t2={t2[bad][0]:g} us and "
            f"t1={t1[bad][0]:g} us."
        )


def check_settings(simulator):
    """The checks of a simulator's settings that involve several of them.

    Called after ``simulator._validate_params()``, which checks each alone
    (and so refuses an infinite or NaN ``dt``, ``tau``, ``linewidth``,
    ``cutoff`` or ``dephasing_rate``: their intervals are open at infinity).
    """
    if simulator.sequence is None:
        if simulator.dt >= simulator.tau:
            raise ValueError(
                f"dt must be smaller than tau; got dt={simulator.dt} and "
                f"tau={simulator.tau}."
            )
        if simulator.tau / simulator.dt > MAX_STEPS:
            # beyond any memory, and 3 n_tau no longer counts steps exactly
            raise ValueError(
                f"tau must be at most {MAX_STEPS:.0e} steps of dt; got "
                f"tau={simulator.tau:g} us with dt={simulator.dt:g} us."
            )
    else:
        changed = [
            f"{name}={getattr(simulator, name)!r}"
            for name, default in HAHN_DEFAULTS.items()
            if getattr(simulator, name) != default
        ]
        if changed:
            raise ValueError(
                "sequence replaces the Hahn-echo parameters tau, pulse_angle and "
                f"refocus_axis; got sequence and {', '.join(changed)}. Build the "
                "echo with sknmr.sequences.hahn_echo(tau, angle, ...) instead, or "
                "leave sequence=None."
            )
    if simulator.t2 is not None and simulator.dephasing_rate > 0:
        raise ValueError(
            "dephasing_rate and t2 both set the transverse decay; set t2 only "
            f"(t2 = 1 / dephasing_rate); got t2={simulator.t2} and "
            f"dephasing_rate={simulator.dephasing_rate}."
        )
    t1, t2 = default_relaxation(simulator)
    check_relaxation_times(t1, t2 if np.isfinite(t2) else 0.0, "the simulator's")
    check_n_jobs(simulator.n_jobs)
    check_device(simulator.device, simulator.backend)


def check_device(device, backend):
    """``device`` is the torch backend's only, and one torch has here."""
    if device is None:
        return
    if backend != "torch":
        raise ValueError(
            f"device selects the torch backend's device; set backend='torch' "
            f"or leave device=None (got device={device!r} with "
            f"backend={backend!r})."
        )
    _backends.get_backend("torch").check_device(device)


def default_relaxation(simulator):
    """The simulator's own ``(T1, T2)`` (us), inf when off.

    T2 comes from ``t2`` or else ``dephasing_rate``.
    """
    t1 = np.inf if simulator.t1 is None else float(simulator.t1)
    if simulator.t2 is not None:
        t2 = float(simulator.t2)
    else:
        rate = simulator.dephasing_rate
        t2 = 1.0 / rate if rate > 0 else np.inf
    return t1, t2


def relaxation_times(table, defaults):
    """Per-echo ``(T1, T2)`` (us): the table's, else the simulator's ``defaults``.

    Without any T2, ``T2 = 2 T1``: the transverse decay that T1 alone
    implies for a spin-1/2 (inf when there is no T1 either).
    """
    own_t1, own_t2 = defaults
    t1 = np.where(np.isnan(table["t1"]), own_t1, table["t1"])
    t2 = np.where(np.isnan(table["t2"]), own_t2, table["t2"])
    return t1, np.where(np.isinf(t2), 2 * t1, t2)


def step_decays(table, simulator):
    """Per-echo relaxation over one step: ``exp(-dt/T2)``, ``exp(-dt/T1)``."""
    dt = float(simulator.dt)
    t1, t2 = relaxation_times(table, default_relaxation(simulator))
    transverse = np.exp(-dt / t2)  # exactly 1.0 where T2 is inf
    if simulator.t2 is None and simulator.dephasing_rate > 0:
        # the simulator's dephasing_rate, computed as it always was
        legacy = np.isnan(table["t2"].to_numpy()) & np.isinf(t1)
        transverse[legacy] = float(np.exp(-simulator.dephasing_rate * simulator.dt))
    return transverse.astype(np.float64), np.exp(-dt / t1).astype(np.float64)
