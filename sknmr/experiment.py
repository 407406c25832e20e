"""The experiment as simulated: one record that every part of sknmr shares.

An :class:`Experiment` holds everything that decides an echo except the
material (the kernel, its length and the couplings of a parameter table) and
the disorder draw (``random_state``): the pulse sequence, the time grid, what
a sample is (``output``), the offsets' line (width, shape and cutoff), the
relaxation defaults and the lattice. :attr:`EchoSimulator.experiment
<sknmr.EchoSimulator.experiment>` returns it, and
:meth:`EchoSimulator.from_experiment <sknmr.EchoSimulator.from_experiment>`
builds a simulator from one.

Its one JSON-safe form (:meth:`Experiment.to_dict`,
:meth:`Experiment.from_dict`, :meth:`Experiment.key`) is what the datasets'
cache keys hold, what a trained :class:`~sknmr.inference.EchoInference`
stores and compares, and what reports and result files write.

Examples
--------
>>> from sknmr import EchoSimulator, Experiment
>>> from sknmr.sequences import hahn_echo
>>> experiment = EchoSimulator(lattice_size=8, tau=10.0, dt=0.1).experiment
>>> experiment.n_times, experiment.echo_steps
(300, (200,))
>>> experiment == EchoSimulator(lattice_size=8, dt=0.1,
...                             sequence=hahn_echo(10.0)).experiment
True
>>> Experiment.from_dict(experiment.to_dict()) == experiment
True
"""

import hashlib
import json
import math
from dataclasses import dataclass, fields
from functools import cached_property
from numbers import Real

import numpy as np

from ._physics import LINE_SHAPES
from ._timegrid import time_names
from .lattices import Lattice
from .sequences import PulseSequence, hahn_echo

__all__ = ["OUTPUTS", "Experiment", "experiment_of", "legacy_experiment"]

#: What a sample of an echo is, and the prefix of its feature names.
OUTPUTS = {"magnitude": "absM", "complex": "M", "z": "Iz"}
#: Half-width of the default echo window, in units of the echo's own tau.
WINDOW_WIDTH = 1 / 3
# Fields that define the time grid and what a sample is: echoes that differ
# in them are not comparable sample by sample.
_GRID_FIELDS = ("sequence", "dt", "output")
# Fields that to_dict leaves out at their default (added after the format):
# an experiment at the default keeps the key it always had.
_OMITTED_AT_DEFAULT = ("line_shape",)
# The format of to_dict; from_dict refuses another.
_FORMAT = "sknmr.Experiment/1"


def _positive(value, name, *, allow_zero=False, optional=False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}.")
    return value


@dataclass(frozen=True)
class Experiment:
    """The experiment as simulated: sequence, time grid, detection, line, lattice.

    Immutable; equal experiments give equal echoes for the same material and
    ``random_state``. Build it with :attr:`EchoSimulator.experiment
    <sknmr.EchoSimulator.experiment>` rather than by hand.

    Parameters
    ----------
    sequence : PulseSequence
        The pulses and the duration (:mod:`sknmr.sequences`); the paper's
        experiment is ``hahn_echo(100.0)``.
    dt : float
        Time step and sampling interval (us).
    lattice : Lattice
        The periodic lattice of nuclei (:class:`~sknmr.lattices.Lattice`;
        the paper's is ``Lattice.square(100)``).
    linewidth : float
        Full width at half maximum (MHz) of the offsets' line (echoes whose
        parameter table sets none).
    cutoff : float
        Offsets are kept in ``[-cutoff, cutoff)`` (MHz).
    output : {"magnitude", "complex", "z"}, default="magnitude"
        What a sample is: ``|M(t)|``, ``M(t)`` or ``<I^z>(t)``.
    t1, t2 : float or None, default=None
        Relaxation times (us) of echoes whose parameter table sets none.
    dephasing_rate : float, default=0.0
        Pure dephasing rate (1/us), the older spelling of ``t2``.
    line_shape : {"lorentzian", "gaussian"}, default="lorentzian"
        Law of the offsets, of full width at half maximum ``linewidth``
        (a parameter table's ``linewidth`` column overrides the width, never
        the shape).

    Attributes
    ----------
    grid : SequenceGrid
        The sequence on the time grid (pulse and echo steps, rotations).
    n_times : int
    times : ndarray of shape (n_times,)
    pulse_times, echo_times : ndarray
        On the grid (us).
    tau : float
        The echo's own delay: from the pulse before the first echo to that
        echo, as the sequence states it (``tau`` of a Hahn echo).
    echo_window : (float, float)
        Centre and half-width (us) of the area of interest: the first echo
        on the grid ``+- tau / 3``.
    """

    sequence: PulseSequence
    dt: float
    lattice: Lattice
    linewidth: float
    cutoff: float
    output: str = "magnitude"
    t1: float | None = None
    t2: float | None = None
    dephasing_rate: float = 0.0
    line_shape: str = "lorentzian"

    def __post_init__(self):
        if not isinstance(self.sequence, PulseSequence):
            raise TypeError(
                "sequence must be a PulseSequence (sknmr.sequences); got "
                f"{type(self.sequence).__name__}."
            )
        if not isinstance(self.lattice, Lattice):
            raise TypeError(
                "lattice must be an sknmr.lattices.Lattice; got "
                f"{type(self.lattice).__name__}."
            )
        if self.output not in OUTPUTS:
            raise ValueError(
                f"output must be one of {sorted(OUTPUTS)}; got {self.output!r}."
            )
        if self.line_shape not in LINE_SHAPES:
            raise ValueError(
                f"line_shape must be one of {list(LINE_SHAPES)}; got "
                f"{self.line_shape!r}."
            )
        values = {
            "dt": _positive(self.dt, "dt"),
            "linewidth": _positive(self.linewidth, "linewidth"),
            "cutoff": _positive(self.cutoff, "cutoff"),
            "t1": _positive(self.t1, "t1", optional=True),
            "t2": _positive(self.t2, "t2", optional=True),
            "dephasing_rate": _positive(
                self.dephasing_rate, "dephasing_rate", allow_zero=True
            ),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __getstate__(self):
        # the grid is derived (and cached): stored files hold the fields only
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # -- the time grid ------------------------------------------------------
    @cached_property
    def grid(self):
        """The sequence on the time grid (:meth:`PulseSequence.grid`)."""
        return self.sequence.grid(self.dt)

    @property
    def longitudinal_time(self):
        """T1 (us) of echoes whose table sets none; inf when off."""
        return math.inf if self.t1 is None else self.t1

    @property
    def transverse_time(self):
        """T2 (us) of echoes whose table sets none (from ``t2`` or
        ``dephasing_rate``); inf when off."""
        if self.t2 is not None:
            return self.t2
        return 1.0 / self.dephasing_rate if self.dephasing_rate > 0 else math.inf

    @property
    def lattice_size(self):
        """``n`` of the ``n x n`` unit square lattice; None for any other."""
        return self.lattice.square_size()

    @property
    def n_times(self):
        """Samples per echo."""
        return self.grid.n_times

    @property
    def times(self):
        """Sample times ``t_k = k dt`` (us)."""
        return np.arange(self.n_times) * self.dt

    @property
    def pulse_times(self):
        """Pulse times on the grid (us)."""
        return np.asarray(self.grid.pulse_times, dtype=np.float64)

    @property
    def echo_times(self):
        """Echo times on the grid (us)."""
        return np.asarray(self.grid.echo_times, dtype=np.float64)

    @property
    def echo_steps(self):
        """Echo samples on the grid."""
        return self.grid.echo_steps

    def _first_echo(self):
        if not self.sequence.echo_times:
            raise ValueError(
                f"The sequence {self.sequence!r} has no echo; it has no echo "
                "window or tau."
            )
        echo = self.sequence.echo_times[0]
        before = max(p.time for p in self.sequence.pulses if p.time < echo)
        return self.grid.echo_steps[0], echo - before

    @property
    def tau(self):
        """From the pulse before the first echo to that echo (us), as stated."""
        return float(self._first_echo()[1])

    def window(self, width=WINDOW_WIDTH):
        """Centre and half-width (us) of ``first echo +- width * tau``."""
        step, tau = self._first_echo()
        return step * self.dt, float(width) * float(tau)

    @property
    def echo_window(self):
        """The default area of interest: ``first echo +- tau / 3``."""
        return self.window()

    def feature_names(self):
        """Column names of the echoes: ``'<quantity>_t=<time>us'``."""
        return time_names(self.times, prefix=OUTPUTS[self.output], dt=self.dt)

    # -- comparison and serialization ---------------------------------------
    def differences(self, other):
        """``(grid, physics)``: lists of what differs from ``other``, in words.

        ``grid`` holds differences of the time grid and of what a sample is
        (echoes then differ sample by sample), ``physics`` those of the line,
        relaxation and lattice (comparable echoes of another physics).
        """
        grid, physics = [], []
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            same = (
                math.isclose(mine, theirs, rel_tol=1e-9)
                if isinstance(mine, float) and isinstance(theirs, float)
                else mine == theirs
            )
            if not same:
                (grid if f.name in _GRID_FIELDS else physics).append(
                    f"{f.name}={_describe(theirs)} (not {_describe(mine)})"
                )
        if self.n_times != other.n_times:
            grid.append(f"n_times={other.n_times} (not {self.n_times})")
        return grid, physics

    def to_dict(self):
        """The experiment as plain JSON-able values.

        Examples
        --------
        >>> from sknmr import EchoSimulator
        >>> values = EchoSimulator(lattice_size=8, tau=10.0).experiment.to_dict()
        >>> values["sequence"]["pulses"]
        [[0.0, 90.0, 'x'], [10.0, 180.0, 'y']]
        """
        values = {"format": _FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _OMITTED_AT_DEFAULT and value == f.default:
                # left out at its default, so that the stored keys of
                # experiments made before the field existed stay the same
                continue
            values[f.name] = (
                value.to_dict() if f.name in ("sequence", "lattice") else value
            )
        return values

    @classmethod
    def from_dict(cls, values):
        """The experiment :meth:`to_dict` describes."""
        if not isinstance(values, dict) or values.get("format") != _FORMAT:
            raise ValueError(
                f"An experiment's description is a dict of format {_FORMAT!r} "
                f"(Experiment.to_dict); got {values!r:.200}."
            )
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names - {"format"})
        if unknown:
            raise ValueError(
                f"Unknown fields in an experiment's description: {unknown}."
            )
        kwargs = {k: v for k, v in values.items() if k in names}
        kwargs["sequence"] = PulseSequence.from_dict(kwargs.get("sequence"))
        kwargs["lattice"] = Lattice.from_dict(kwargs.get("lattice"))
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"Not an experiment's description: {exc}") from None

    def key(self):
        """A stable hash of :meth:`to_dict` (hex), the same in every process."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def __repr__(self):
        parts = ", ".join(
            f"{f.name}={_describe(getattr(self, f.name))}"
            for f in fields(self)
            if f.name not in _OMITTED_AT_DEFAULT or getattr(self, f.name) != f.default
        )
        return f"Experiment({parts})"


def _describe(value):
    """A setting in words; a Hahn echo and a square lattice by their factories."""
    if isinstance(value, Lattice) and value.square_size() is not None:
        return f"Lattice.square({value.square_size()})"
    if isinstance(value, PulseSequence):
        first = value.pulses[0]
        if len(value) == 2 and value.echo_times and first.time == 0.0:
            second = value.pulses[1]
            same = hahn_echo(
                second.time,
                first.angle,
                second.angle,
                second.phase,
            )
            if first.phase == "x" and value == same:
                return (
                    f"hahn_echo(tau={second.time!r}, angle={first.angle!r}, "
                    f"refocus_angle={second.angle!r}, "
                    f"refocus_phase={second.phase!r})"
                )
        return repr(value)
    return repr(value)


def legacy_experiment(settings):
    """The experiment of simulator settings stored by sknmr 0.1 (a flat dict).

    Datasets saved and models trained before the experiment record stored
    the simulator's parameters (``tau``, ``pulse_angle``, ``refocus_axis``
    or ``sequence``, ``dt``, ...); this reads them once, here.
    """
    sequence = settings.get("sequence")
    if sequence is None:
        angle = float(settings.get("pulse_angle", 90.0))
        sequence = hahn_echo(
            float(settings.get("tau", 100.0)),
            angle,
            2 * angle,
            settings.get("refocus_axis", "y"),
        )
    elif isinstance(sequence, dict):
        sequence = PulseSequence.from_dict(sequence)
    return Experiment(
        sequence=sequence,
        dt=settings["dt"],
        lattice=Lattice.square(int(settings.get("lattice_size", 100))),
        linewidth=settings.get("linewidth", 0.08),
        cutoff=settings.get("cutoff", 0.25),
        output=settings.get("output", "magnitude"),
        t1=settings.get("t1"),
        t2=settings.get("t2"),
        dephasing_rate=settings.get("dephasing_rate", 0.0),
        line_shape=settings.get("line_shape", "lorentzian"),
    )


def experiment_of(key):
    """The :class:`Experiment` of a dataset's ``settings["simulation"]``.

    Datasets saved before the experiment record stored the simulator's
    parameters instead; they are read here, once.
    """
    if "experiment" in key:
        return Experiment.from_dict(key["experiment"])
    return legacy_experiment(key["settings"])
