"""Where a pulse sequence's echoes fall on the time grid.

An echo of the primary chain (each pulse mirrors the previous echo) or a
stimulated echo (``t_c + t_b - t_a`` of pulses ``a < b < c``) is the same
combination of the pulse *steps* as of the pulse times, so it lands on the
step where the pulses on their steps refocus it; any other echo time is
rounded to its step. Found by sorted searches: trains of 10^4 pulses take
seconds, not the cubic scan's hours.
"""

import numpy as np

from ._timegrid import n_steps

__all__ = ["grid_echo_steps", "mirrors"]


def mirrors(points):
    """The primary chain ``e_0 = x_0``, ``e_i = 2 x_i - e_{i-1}`` (times or steps)."""
    echoes, echo = [], points[0]
    for x in points[1:]:
        echo = 2 * x - echo
        echoes.append(echo)
    return echoes


def _near(sorted_times, value, tol):
    """The slice of ``sorted_times`` that may lie within ``tol`` of ``value``."""
    lo = np.searchsorted(sorted_times, value - 2 * tol, "left")
    hi = np.searchsorted(sorted_times, value + 2 * tol, "right")
    return lo, hi


def _sorted(times):
    """``(times, order, times[order])``: candidates ready for sorted searches."""
    times = np.asarray(times, dtype=np.float64)
    order = np.argsort(times, kind="stable")
    return times, order, times[order]


def _matching_step(echo, candidates, steps, tol):
    """The step of the first candidate time within ``tol`` of ``echo``, or None.

    A sorted search over ``candidates`` (:func:`_sorted`): the first
    candidate in the given order wins, as in a scan.
    """
    times, order, ordered = candidates
    lo, hi = _near(ordered, echo, tol)
    near = order[lo:hi]
    match = near[np.abs(times[near] - echo) <= tol]
    return int(np.asarray(steps)[match.min()]) if match.size else None


def _stimulated_step(echo, pulses, steps, tol):
    """The step of the first stimulated echo ``t_c + t_b - t_a`` at ``echo``.

    Pulses ``a < b < c``, "first" ordered by ``a``, then ``b``, then ``c``;
    found by a sorted search for ``t_a`` over the pairs ``b < c`` (``pulses``
    from :func:`_sorted`): memory linear and time ``O(n^2 log n)`` in the
    pulses, not ``n^3``.
    """
    times, order, ordered = pulses
    steps = np.asarray(steps)
    best = None
    for b in range(1, times.size - 1):
        c = np.arange(b + 1, times.size)
        lo, hi = _near(ordered, times[c] + times[b] - echo, tol)
        for k in np.flatnonzero(hi > lo):
            a = order[lo[k] : hi[k]]
            a = a[a < b]
            a = a[np.abs(times[c[k]] + times[b] - times[a] - echo) <= tol]
            if a.size and (best is None or (a.min(), b, c[k]) < best):
                best = (int(a.min()), b, int(c[k]))
    if best is None:
        return None
    a, b, c = best
    return int(steps[c] + steps[b] - steps[a])


def grid_echo_steps(echo_times, pulse_times, pulse_steps, dt):
    """Steps of the echoes where the pulses on their steps refocus them.

    An echo of the primary chain or a stimulated echo (``t_c + t_b - t_a``,
    pulses ``a < b < c``) is the same combination of the pulse steps; any
    other echo time is rounded to its step.
    """
    tol = 1e-9 * max(1.0, *map(abs, pulse_times), *map(abs, echo_times))
    chain = _sorted(mirrors(pulse_times))
    chain_steps = np.asarray(mirrors(pulse_steps))  # once: not per echo
    pulses = _sorted(pulse_times)
    result = []
    for echo in echo_times:
        step = _matching_step(echo, chain, chain_steps, tol)
        if step is None:  # only when an echo is not in the chain
            step = _stimulated_step(echo, pulses, np.asarray(pulse_steps), tol)
        result.append(n_steps(echo, dt) if step is None else step)
    return tuple(result)
