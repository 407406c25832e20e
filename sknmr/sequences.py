"""Pulse sequences: the pulses of an experiment, its duration and its echoes.

Conventions (those of the simulator):

* Times are in microseconds (us), angles and phases in degrees.
* A pulse of angle ``theta`` about the in-plane axis at phase ``phi`` is the
  spin rotation ``U = exp(+i theta (cos(phi) sigma_x + sin(phi) sigma_y) / 2)``.
  On the Bloch vector it is the rotation by ``-theta`` about the unit axis
  ``n = (cos phi, sin phi, 0)``: the 90 degree pulse about x takes the thermal
  state ``+z`` to ``+y``.
* A phase is a number of degrees or one of the names ``'x'``, ``'y'``,
  ``'-x'``, ``'-y'`` (0, 90, 180 and 270 degrees). Phases that are multiples
  of 90 degrees, named or numeric (``90``, ``450``, ``-270``), use the exact
  axes of the simulator (``(0.0, 1.0, 0.0)`` for 90 degrees, where
  ``cos(90 deg)`` would give ``6e-17``), so their rotations are bit for bit
  those the simulator builds.
* A :class:`PulseSequence` lasts ``duration`` us from its first sample
  ``t = 0``; its pulses lie in ``[0, duration)``.
* :meth:`PulseSequence.grid` puts a sequence on a simulator's time grid of
  step ``dt``: the samples are ``t_k = k dt``, ``k = 0 .. n_times - 1`` with
  ``n_times = round(duration / dt)``, and a pulse at ``time`` falls on step
  ``round(time / dt)`` (Python's ``round``, the rule the simulator uses for
  ``tau``). A pulse on step ``p > 0`` acts after the ``p``-th step of free
  evolution, so sample ``p`` is taken just after it; a pulse on step 0 acts on
  the initial (thermal, ``+z``) state before sample 0.

Examples
--------
>>> from sknmr.sequences import cpmg
>>> seq = cpmg(10.0, 3)
>>> [(p.time, p.angle, p.phase) for p in seq]
[(0.0, 90.0, 'x'), (10.0, 180.0, 'y'), (30.0, 180.0, 'y'), (50.0, 180.0, 'y')]
>>> seq.echo_times, seq.duration
((20.0, 40.0, 60.0), 70.0)
>>> seq.grid(0.5).echo_steps
(40, 80, 120)
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

from ._echo_steps import grid_echo_steps, mirrors
from ._physics import REFOCUS_AXES, pulse_matrix
from ._timegrid import n_steps

__all__ = [
    "Pulse",
    "PulseSequence",
    "SequenceGrid",
    "cpmg",
    "hahn_echo",
    "stimulated_echo",
]

#: Degrees of the named phases.
_NAMED_PHASES = {"x": 0.0, "y": 90.0, "-x": 180.0, "-y": 270.0}
#: The name of each multiple of 90 degrees, whose axis is exact.
_QUARTER_NAMES = {degrees: name for name, degrees in _NAMED_PHASES.items()}
_PHASE_HELP = "a number of degrees or one of 'x', 'y', '-x', '-y'"


def _check_real(value, name, *, strict, unit):
    """``value`` as a float, checked finite and ``> 0`` (strict) or ``>= 0``."""
    bound = "> 0" if strict else ">= 0"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a finite number {bound} ({unit}); "
            f"got {type(value).__name__} {value!r}."
        )
    value = float(value)
    if not math.isfinite(value) or value < 0 or (strict and value == 0):
        raise ValueError(
            f"{name} must be a finite number {bound} ({unit}); got {value}."
        )
    return value + 0.0  # -0.0 -> 0.0, so equal values pickle (and hash) alike


def _check_phase(phase, name="phase"):
    """``phase`` as stored: a name unchanged, a number as a float."""
    if isinstance(phase, str):
        if phase not in _NAMED_PHASES:
            raise ValueError(f"{name} must be {_PHASE_HELP}; got {phase!r}.")
        return str(phase)
    if isinstance(phase, bool) or not isinstance(phase, Real):
        raise TypeError(
            f"{name} must be {_PHASE_HELP}; got {type(phase).__name__} {phase!r}."
        )
    phase = float(phase)
    if not math.isfinite(phase):
        raise ValueError(f"{name} must be {_PHASE_HELP}; got {phase}.")
    return phase + 0.0


def _check_n_echoes(n_echoes):
    if isinstance(n_echoes, bool) or not isinstance(n_echoes, Integral):
        raise TypeError(
            f"n_echoes must be an integer >= 1; got {type(n_echoes).__name__} "
            f"{n_echoes!r}."
        )
    if n_echoes < 1:
        raise ValueError(f"n_echoes must be an integer >= 1; got {n_echoes}.")
    return int(n_echoes)


@dataclass(frozen=True)
class Pulse:
    """One instantaneous pulse.

    Parameters
    ----------
    time : float
        When the pulse acts (us), ``>= 0``.
    angle : float
        Flip angle ``theta`` (degrees), ``>= 0``; angles beyond 180 degrees
        are allowed (450 acts as 90).
    phase : float or {'x', 'y', '-x', '-y'}, default='x'
        Phase ``phi`` of the in-plane axis (degrees), or its name (0, 90, 180,
        270 degrees). A name is stored as given, a number as a float;
        :attr:`phase_degrees` gives it in ``[0, 360)``. Pulses compare by
        these stored values, so ``Pulse(0, 90, 'y') != Pulse(0, 90, 90.0)``
        though their rotations are the same.

    Notes
    -----
    The pulse is the spin rotation
    ``U = exp(+i theta (cos(phi) sigma_x + sin(phi) sigma_y) / 2)``, the
    rotation of the Bloch vector by ``-theta`` about ``(cos phi, sin phi, 0)``.

    Examples
    --------
    >>> pulse = Pulse(100, 180, "y")
    >>> pulse
    Pulse(time=100.0, angle=180.0, phase='y')
    >>> pulse.phase_degrees, pulse.axis
    (90.0, (0.0, 1.0, 0.0))
    >>> (Pulse(0.0, 90.0).rotation() @ [0.0, 0.0, 1.0]).round(12) + 0.0
    array([0., 1., 0.])
    """

    time: float
    angle: float
    phase: float | str = "x"

    def __post_init__(self):
        object.__setattr__(
            self, "time", _check_real(self.time, "time", strict=False, unit="us")
        )
        object.__setattr__(
            self,
            "angle",
            _check_real(self.angle, "angle", strict=False, unit="degrees"),
        )
        object.__setattr__(self, "phase", _check_phase(self.phase))

    @property
    def phase_degrees(self):
        """The phase in degrees, in ``[0, 360)``."""
        if isinstance(self.phase, str):
            return _NAMED_PHASES[self.phase]
        degrees = self.phase % 360.0
        # A tiny negative phase wraps to 360.0 in floating point.
        return 0.0 if degrees == 360.0 else degrees + 0.0

    @property
    def axis(self):
        """Unit rotation axis ``(cos phi, sin phi, 0)``, exact on multiples of 90."""
        degrees = self.phase_degrees
        if degrees in _QUARTER_NAMES:
            return REFOCUS_AXES[_QUARTER_NAMES[degrees]]
        phi = math.radians(degrees)
        return (math.cos(phi), math.sin(phi), 0.0)

    def rotation(self):
        """The 3x3 rotation of the Bloch vector (a new float64 array)."""
        return np.array(pulse_matrix(self.axis, self.angle), dtype=np.float64)


class SequenceGrid(NamedTuple):
    """A :class:`PulseSequence` on a time grid of step ``dt``.

    Made by :meth:`PulseSequence.grid`.
    """

    #: Samples ``t_k = k dt``, ``k = 0 .. n_times - 1``: ``round(duration / dt)``.
    n_times: int
    #: Step of each pulse, ``round(time / dt)``, in time order.
    pulse_steps: tuple
    #: Times actually used, ``step * dt`` (us).
    pulse_times: tuple
    #: Bloch-vector rotation (3x3 float64 array) of each pulse.
    rotations: tuple
    #: Step of each echo: where the pulses on their steps refocus it (see
    #: :meth:`PulseSequence.grid`).
    echo_steps: tuple
    #: Echo times on the grid, ``step * dt`` (us).
    echo_times: tuple


def _echo_chain(pulses, duration):
    """Primary echo chain: each pulse mirrors the previous (virtual) echo."""
    times = [pulse.time for pulse in pulses]
    return tuple(
        echo
        for pulse, echo in zip(times[1:], mirrors(times), strict=True)
        if pulse < echo < duration
    )


@dataclass(frozen=True)
class PulseSequence:
    """An immutable sequence of pulses, its duration and its echo times.

    Parameters
    ----------
    pulses : sequence of Pulse
        At least one pulse, at distinct times in ``[0, duration)``. They are
        stored as a tuple sorted by time.
    duration : float
        Length of the experiment (us), ``> 0``: samples cover
        ``[0, duration)``.
    echo_times : sequence of float or None, default=None
        Times of the echoes (us), in ``[0, duration)``, stored sorted as a
        tuple of floats. None computes the primary echo chain: with pulses at
        ``t_0 < t_1 < ...``, ``e_0 = t_0`` and ``e_i = 2 t_i - e_{i-1}`` for
        every later pulse, of which the ``e_i`` in ``(t_i, duration)`` are
        echoes. That is the echo of a Hahn sequence (``2 tau``) and the echoes
        of CPMG (``2 tau, 4 tau, ...``), where each pulse inverts the
        dephasing; it does not find stimulated echoes, so the factories set
        their echo times explicitly.

    Notes
    -----
    Sequences compare and hash by their contents, and :func:`joblib.hash` of
    equal sequences is equal, so a sequence can key a cache.

    Examples
    --------
    >>> seq = PulseSequence([Pulse(10.0, 180.0, "y"), Pulse(0.0, 90.0)], 30.0)
    >>> seq
    PulseSequence(pulses=(Pulse(time=0.0, angle=90.0, phase='x'),
                          Pulse(time=10.0, angle=180.0, phase='y')),
                  duration=30.0, echo_times=(20.0,))
    >>> len(seq), seq == hahn_echo(10.0, duration=30.0)
    (2, True)
    """

    pulses: tuple
    duration: float
    echo_times: tuple | None = field(default=None)

    def __post_init__(self):
        pulses = self.pulses
        if isinstance(pulses, (str, bytes, Pulse)) or not isinstance(pulses, Iterable):
            raise TypeError(
                "pulses must be a non-empty sequence of Pulse instances; "
                f"got {type(pulses).__name__}."
            )
        pulses = tuple(pulses)
        if not pulses:
            raise ValueError(
                "pulses must be a non-empty sequence of Pulse instances; got none."
            )
        for i, pulse in enumerate(pulses):
            if not isinstance(pulse, Pulse):
                raise TypeError(
                    "pulses must be a non-empty sequence of Pulse instances; "
                    f"item {i} is {type(pulse).__name__} {pulse!r}."
                )
        duration = _check_real(self.duration, "duration", strict=True, unit="us")
        for pulse in pulses:
            if not pulse.time < duration:
                raise ValueError(
                    f"pulses must lie inside the duration, 0 <= time < "
                    f"duration={duration} us; {pulse!r} does not."
                )
        pulses = tuple(sorted(pulses, key=lambda pulse: pulse.time))
        for before, after in zip(pulses, pulses[1:], strict=False):
            if before.time == after.time:
                raise ValueError(
                    f"two pulses at time {after.time} us: {before!r} and {after!r}; "
                    "pulses must be at distinct times."
                )
        object.__setattr__(self, "pulses", pulses)
        object.__setattr__(self, "duration", duration)
        if self.echo_times is None:
            echo_times = _echo_chain(pulses, duration)
        else:
            echo_times = self._check_echo_times(self.echo_times, duration)
        first = pulses[0].time
        early = [echo for echo in echo_times if not echo > first]
        if early:
            # nothing is tipped before the first pulse, so nothing can echo there
            raise ValueError(
                f"echo_times must come after the first pulse (at {first} us); "
                f"got {early[0]} us."
            )
        object.__setattr__(self, "echo_times", echo_times)

    @staticmethod
    def _check_echo_times(echo_times, duration):
        if isinstance(echo_times, (str, bytes)) or not isinstance(echo_times, Iterable):
            raise TypeError(
                "echo_times must be a sequence of times (us) or None; "
                f"got {type(echo_times).__name__} {echo_times!r}."
            )
        checked = []
        for echo in echo_times:
            echo = _check_real(echo, "each echo time", strict=False, unit="us")
            if not echo < duration:
                raise ValueError(
                    f"echo_times must lie inside the duration, 0 <= time < "
                    f"duration={duration} us; got {echo}."
                )
            checked.append(echo)
        checked.sort()
        for before, after in zip(checked, checked[1:], strict=False):
            if before == after:
                raise ValueError(f"echo_times must be distinct; {after} is repeated.")
        return tuple(checked)

    def to_dict(self):
        """The sequence as plain JSON-able values (cache keys, saved settings).

        Examples
        --------
        >>> hahn_echo(10.0).to_dict()["pulses"]
        [[0.0, 90.0, 'x'], [10.0, 180.0, 'y']]
        >>> PulseSequence.from_dict(hahn_echo(10.0).to_dict()) == hahn_echo(10.0)
        True
        """
        return {
            "pulses": [[p.time, p.angle, p.phase] for p in self.pulses],
            "duration": self.duration,
            "echo_times": list(self.echo_times),
        }

    @classmethod
    def from_dict(cls, values):
        """The sequence :meth:`to_dict` describes."""
        try:
            pulses = [Pulse(*pulse) for pulse in values["pulses"]]
            return cls(pulses, values["duration"], values.get("echo_times"))
        except (KeyError, TypeError) as exc:
            raise ValueError(
                "A pulse sequence's description must have 'pulses' (a list of "
                "[time, angle, phase]), 'duration' and optionally 'echo_times'; "
                f"got {values!r} ({exc})."
            ) from None

    def __len__(self):
        return len(self.pulses)

    def __iter__(self):
        return iter(self.pulses)

    def _mirrored_end(self, pulse_steps, echo_steps):
        """Samples of a duration that mirrors the last pulse about the last echo.

        Such a duration (``3 tau`` of a Hahn echo, the factories' default)
        ends where the pulses on their steps put it, as the echoes do: ``2 e -
        p`` steps for the last echo's step ``e`` and the step ``p`` of the
        pulse before it. None for any other duration.
        """
        if not self.echo_times:
            return None
        echo = self.echo_times[-1]
        before = [i for i, pulse in enumerate(self.pulses) if pulse.time < echo]
        if not before:
            return None
        mirror = 2 * echo - self.pulses[before[-1]].time
        if abs(mirror - self.duration) > 1e-9 * max(1.0, self.duration):
            return None
        return 2 * echo_steps[-1] - pulse_steps[before[-1]]

    def grid(self, dt):
        """Put the sequence on the time grid ``t_k = k dt`` of a simulator.

        The grid has ``n_times = round(duration / dt)`` samples,
        ``k = 0 .. n_times - 1``, covering ``[0, duration)``; a duration that
        mirrors the last pulse before the last echo about that echo (``3 tau``
        of a Hahn echo, the default of every factory here) ends on the mirrored
        step, ``2 e - p``, as the echoes do, so that ``hahn_echo(tau)`` is
        sampled exactly as a simulator's own Hahn echo of ``tau``. A pulse at
        ``time`` falls on step ``p = round(time / dt)`` and acts after the
        ``p``-th step of free evolution, so sample ``p`` is taken just after
        it; a pulse on step 0 acts on the initial (thermal, ``+z``) state
        before sample 0. An echo falls where the pulses on their steps
        refocus it: an echo of the primary chain (``2 tau`` of a Hahn echo,
        every echo of CPMG) or a stimulated echo (``t_3 + t_2 - t_1``) is the
        same combination of the pulse steps (``2 round(tau / dt)`` for a
        Hahn echo, which can be one step from ``round(2 tau / dt)`` when tau
        is off the grid); any other echo time is rounded to its step.

        Parameters
        ----------
        dt : float
            Time step (us), ``> 0``.

        Returns
        -------
        grid : SequenceGrid
            ``n_times``, ``pulse_steps``, ``pulse_times`` (``step * dt``),
            ``rotations``, ``echo_steps`` and ``echo_times`` (``step * dt``).

        Raises
        ------
        ValueError
            If the grid has fewer than 2 samples, two pulses fall on one step,
            or a pulse or an echo falls on a step ``>= n_times`` (after the
            last sample).

        Examples
        --------
        >>> grid = hahn_echo(10.0).grid(0.1)
        >>> grid.n_times, grid.pulse_steps, grid.echo_steps
        (300, (0, 100), (200,))
        >>> hahn_echo(10.03).grid(0.1).echo_steps  # 2 * round(100.3), not 201
        (200,)
        >>> grid.rotations[1].round(12) + 0.0
        array([[-1.,  0.,  0.],
               [ 0.,  1.,  0.],
               [ 0.,  0., -1.]])
        """
        dt = _check_real(dt, "dt", strict=True, unit="us")
        n_times = n_steps(self.duration, dt)
        if n_times < 2:
            raise ValueError(
                f"dt={dt} us leaves {n_times} sample(s) in duration={self.duration} "
                "us; the grid needs at least 2: use a smaller dt."
            )
        pulse_steps = tuple(n_steps(pulse.time, dt) for pulse in self.pulses)
        for i in range(1, len(self.pulses)):
            if pulse_steps[i] == pulse_steps[i - 1]:
                raise ValueError(
                    f"pulses at {self.pulses[i - 1].time} us and "
                    f"{self.pulses[i].time} us both fall on step {pulse_steps[i]} "
                    f"of dt={dt} us; use a smaller dt or move the pulses apart."
                )
        echo_steps = grid_echo_steps(
            self.echo_times, [pulse.time for pulse in self.pulses], pulse_steps, dt
        )
        mirrored = self._mirrored_end(pulse_steps, echo_steps)
        if mirrored is not None:
            n_times = mirrored
        last = n_times - 1
        for pulse, step in zip(self.pulses, pulse_steps, strict=True):
            if step > last:
                raise ValueError(
                    f"the pulse at {pulse.time} us falls on step {step} of dt={dt} "
                    f"us, after the last sample (step {last} of n_times={n_times}); "
                    "use a smaller dt or a longer duration."
                )
        for echo, step in zip(self.echo_times, echo_steps, strict=True):
            if step > last:
                raise ValueError(
                    f"the echo at {echo} us falls on step {step} of dt={dt} us, "
                    f"after the last sample (step {last} of n_times={n_times}); "
                    "use a smaller dt or a longer duration."
                )
        return SequenceGrid(
            n_times=n_times,
            pulse_steps=pulse_steps,
            pulse_times=tuple(step * dt for step in pulse_steps),
            rotations=tuple(pulse.rotation() for pulse in self.pulses),
            echo_steps=echo_steps,
            echo_times=tuple(step * dt for step in echo_steps),
        )


def _duration(duration, default, last_echo):
    """The checked duration of a factory's sequence, which must contain its echoes."""
    if duration is None:
        return default
    duration = _check_real(duration, "duration", strict=True, unit="us")
    if not last_echo < duration:
        raise ValueError(
            f"duration must exceed the last echo time {last_echo} us so the echo "
            f"is sampled; got {duration}."
        )
    return duration


def hahn_echo(
    tau=100.0, angle=90.0, refocus_angle=None, refocus_phase="y", duration=None
):
    """The two-pulse (Hahn) echo: ``angle``\\ _x -- ``tau`` -- ``refocus_angle``.

    Parameters
    ----------
    tau : float, default=100.0
        Delay of the refocusing pulse (us), ``> 0``; the echo is at ``2 tau``.
    angle : float, default=90.0
        Angle of the first pulse (degrees), about x.
    refocus_angle : float or None, default=None
        Angle of the refocusing pulse (degrees); None gives ``2 * angle``, the
        paper's theta -- 2 theta experiment.
    refocus_phase : float or {'x', 'y', '-x', '-y'}, default='y'
        Phase of the refocusing pulse.
    duration : float or None, default=None
        Length (us), ``> 2 tau``; None gives ``3 tau``.

    Returns
    -------
    sequence : PulseSequence

    Examples
    --------
    >>> hahn_echo(10.0)
    PulseSequence(pulses=(Pulse(time=0.0, angle=90.0, phase='x'),
                          Pulse(time=10.0, angle=180.0, phase='y')),
                  duration=30.0, echo_times=(20.0,))
    >>> hahn_echo(10.0).echo_times
    (20.0,)
    >>> hahn_echo(10.0).grid(0.1).pulse_steps
    (0, 100)
    """
    tau = _check_real(tau, "tau", strict=True, unit="us")
    angle = _check_real(angle, "angle", strict=False, unit="degrees")
    if refocus_angle is None:
        refocus_angle = 2.0 * angle
    refocus_angle = _check_real(
        refocus_angle, "refocus_angle", strict=False, unit="degrees"
    )
    refocus_phase = _check_phase(refocus_phase, "refocus_phase")
    echo = 2.0 * tau
    duration = _duration(duration, 3.0 * tau, echo)
    pulses = [Pulse(0.0, angle, "x"), Pulse(tau, refocus_angle, refocus_phase)]
    return PulseSequence(pulses, duration, echo_times=(echo,))


def cpmg(
    tau, n_echoes, angle=90.0, refocus_angle=180.0, refocus_phase="y", duration=None
):
    """The Carr-Purcell-Meiboom-Gill train of ``n_echoes`` echoes.

    The excitation about x at 0 is followed by refocusing pulses at
    ``tau, 3 tau, ..., (2 n_echoes - 1) tau``; the echoes are at
    ``2 tau, 4 tau, ..., 2 n_echoes tau``.

    Parameters
    ----------
    tau : float
        Half the echo spacing (us), ``> 0``.
    n_echoes : int
        Number of refocusing pulses and echoes, ``>= 1``.
    angle : float, default=90.0
        Angle of the excitation (degrees), about x.
    refocus_angle : float, default=180.0
        Angle of every refocusing pulse (degrees).
    refocus_phase : float or {'x', 'y', '-x', '-y'}, default='y'
        Phase of every refocusing pulse ('y', at 90 degrees to the
        excitation, is Meiboom and Gill's choice).
    duration : float or None, default=None
        Length (us), ``> 2 n_echoes tau``; None gives ``(2 n_echoes + 1) tau``.

    Returns
    -------
    sequence : PulseSequence

    Examples
    --------
    >>> seq = cpmg(5.0, 2)
    >>> [pulse.time for pulse in seq], seq.echo_times, seq.duration
    ([0.0, 5.0, 15.0], (10.0, 20.0), 25.0)
    """
    tau = _check_real(tau, "tau", strict=True, unit="us")
    n_echoes = _check_n_echoes(n_echoes)
    angle = _check_real(angle, "angle", strict=False, unit="degrees")
    refocus_angle = _check_real(
        refocus_angle, "refocus_angle", strict=False, unit="degrees"
    )
    refocus_phase = _check_phase(refocus_phase, "refocus_phase")
    echoes = tuple(2.0 * k * tau for k in range(1, n_echoes + 1))
    duration = _duration(duration, (2.0 * n_echoes + 1.0) * tau, echoes[-1])
    pulses = [Pulse(0.0, angle, "x")]
    pulses += [
        Pulse((2.0 * k - 1.0) * tau, refocus_angle, refocus_phase)
        for k in range(1, n_echoes + 1)
    ]
    return PulseSequence(pulses, duration, echo_times=echoes)


def stimulated_echo(tau, mixing_time, angle=90.0, duration=None):
    """The three-pulse stimulated echo.

    Pulses of ``angle`` about x at ``0``, ``tau`` and ``tau + mixing_time``;
    the stimulated echo is at ``2 tau + mixing_time``.

    Parameters
    ----------
    tau : float
        Delay between the first two pulses (us), ``> 0``.
    mixing_time : float
        Delay between the second and third pulses (us), ``> 0``.
    angle : float, default=90.0
        Angle of each pulse (degrees).
    duration : float or None, default=None
        Length (us), ``> 2 tau + mixing_time``; None gives
        ``3 tau + mixing_time``.

    Returns
    -------
    sequence : PulseSequence

    Examples
    --------
    >>> seq = stimulated_echo(10.0, 50.0)
    >>> [pulse.time for pulse in seq], seq.echo_times, seq.duration
    ([0.0, 10.0, 60.0], (70.0,), 80.0)
    """
    tau = _check_real(tau, "tau", strict=True, unit="us")
    mixing_time = _check_real(mixing_time, "mixing_time", strict=True, unit="us")
    angle = _check_real(angle, "angle", strict=False, unit="degrees")
    echo = 2.0 * tau + mixing_time
    duration = _duration(duration, 3.0 * tau + mixing_time, echo)
    pulses = [
        Pulse(0.0, angle, "x"),
        Pulse(tau, angle, "x"),
        Pulse(tau + mixing_time, angle, "x"),
    ]
    return PulseSequence(pulses, duration, echo_times=(echo,))
