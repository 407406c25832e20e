"""MeasuredEcho: one measured spin echo, its sample times and what the file said."""

import math
from dataclasses import dataclass, field

import numpy as np

from ._text import TIME_KEYS, parse_time

__all__ = ["METADATA_KEYS", "MeasuredEcho"]

#: Metadata every reader fills in (None where the file does not state it):
#: ``dwell_time``, ``tau`` and ``dead_time`` in us, ``spectrometer_frequency``
#: in MHz, ``n_scans``, the ``format`` read and the ``source`` path.
METADATA_KEYS = (
    "dwell_time",
    "tau",
    "dead_time",
    "spectrometer_frequency",
    "n_scans",
    "format",
    "source",
)

# Relative spread of the sample spacings below which an echo counts as
# uniformly sampled (text files round their times).
_UNIFORM_RTOL = 1e-3


def _frozen_array(values, dtype, name):
    try:
        array = np.array(values, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"MeasuredEcho.{name} must hold numbers: {exc}") from None
    array.setflags(write=False)
    return array


def uniform_step(times):
    """The common spacing (us) of ``times``, or None unless they are uniform."""
    times = np.asarray(times, dtype=np.float64)
    if times.size < 2:
        return None
    steps = np.diff(times)
    step = float(np.median(steps))
    if step > 0 and np.max(np.abs(steps - step)) <= _UNIFORM_RTOL * step:
        return float((times[-1] - times[0]) / (times.size - 1))
    return None


@dataclass(frozen=True, eq=False)
class MeasuredEcho:
    """A measured spin echo: sample times (us), complex signal and metadata.

    Made by :func:`read_echo`, or directly from arrays. It is immutable:
    ``times`` and ``signal`` are read-only copies, and
    :func:`dataclasses.replace` makes a changed copy.

    Parameters
    ----------
    times : array-like of shape (n_samples,)
        Sample times (us), finite and strictly increasing; at least two.
    signal : array-like of shape (n_samples,)
        The signal at those times, stored as complex128 (a real signal gets a
        zero imaginary part). Finite.
    metadata : dict, default={}
        What the file states. Readers always fill the keys of
        :data:`METADATA_KEYS`: ``dwell_time``, ``tau`` and ``dead_time``
        (us), ``spectrometer_frequency`` (MHz), ``n_scans``, ``format`` and
        ``source`` (the path read), None where not stated; vendor readers add
        more (``nucleus``, ``pulse_program``, ...). A time key (``tau``,
        ``dead_time``, ``dwell_time``, ``echo_time``) given as text with a
        unit, such as ``"100 us"`` or ``"0.1 ms"``, is stored in us; other
        text there is refused.

    Attributes
    ----------
    magnitude : ndarray of shape (n_samples,)
        ``|signal|``.
    dwell_time : float
        Sampling interval (us): the metadata's ``dwell_time`` if stated, else
        the median spacing of ``times``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.io import MeasuredEcho
    >>> echo = MeasuredEcho(np.arange(4) * 0.5, [1, 1j, -1, 0], {"tau": 1.0})
    >>> len(echo), echo.dwell_time, echo.magnitude.tolist()
    (4, 0.5, [1.0, 1.0, 1.0, 0.0])
    >>> echo
    MeasuredEcho(4 samples, t=0..1.5 us, dwell_time=0.5 us, tau=1 us)
    """

    times: np.ndarray
    signal: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        times = _frozen_array(self.times, np.float64, "times")
        signal = _frozen_array(self.signal, np.complex128, "signal")
        if times.ndim != 1:
            raise ValueError(
                f"MeasuredEcho.times must be one-dimensional; got shape {times.shape}."
            )
        if signal.ndim != 1:
            raise ValueError(
                "MeasuredEcho.signal must be one-dimensional; got shape "
                f"{signal.shape}."
            )
        if times.shape != signal.shape:
            raise ValueError(
                f"MeasuredEcho.times and signal must have the same length; got "
                f"{times.size} times and {signal.size} signal values."
            )
        if times.size < 2:
            raise ValueError(
                f"A MeasuredEcho needs at least 2 samples; got {times.size}."
            )
        for name, values in (("times", times), ("signal", signal)):
            bad = ~np.isfinite(values)
            if bad.any():
                raise ValueError(
                    f"MeasuredEcho.{name} must be finite; sample "
                    f"{int(np.flatnonzero(bad)[0])} is {values[bad][0]}."
                )
        steps = np.diff(times)
        if np.any(steps <= 0):
            k = int(np.flatnonzero(steps <= 0)[0])
            raise ValueError(
                "MeasuredEcho.times must be strictly increasing; sample "
                f"{k + 1} ({times[k + 1]:g} us) does not come after sample {k} "
                f"({times[k]:g} us)."
            )
        if not isinstance(self.metadata, dict):
            try:
                metadata = dict(self.metadata)
            except (TypeError, ValueError):
                raise ValueError(
                    "MeasuredEcho.metadata must be a dict; got "
                    f"{type(self.metadata).__name__}."
                ) from None
        else:
            metadata = dict(self.metadata)
        for key in TIME_KEYS:
            # a time given as text ("100 us") is read in us; other text refused
            if isinstance(metadata.get(key), (str, bytes)):
                metadata[key] = parse_time(metadata[key], f"metadata[{key!r}]")
        dwell = metadata.get("dwell_time")
        if dwell is not None and not (
            isinstance(dwell, (int, float, np.number))
            and math.isfinite(dwell)
            and dwell > 0
        ):
            raise ValueError(
                f"metadata['dwell_time'] must be a positive time (us); got {dwell!r}."
            )
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "signal", signal)
        object.__setattr__(self, "metadata", metadata)

    def __reduce__(self):
        # Unpickling goes through __post_init__, so arrays come back read-only.
        return (type(self), (self.times, self.signal, self.metadata))

    def __len__(self):
        return self.times.size

    @property
    def magnitude(self):
        """``|signal|`` (float64)."""
        return np.abs(self.signal)

    @property
    def dwell_time(self):
        """Sampling interval (us): stated in the metadata, else the median spacing."""
        dwell = self.metadata.get("dwell_time")
        if dwell is not None:
            return float(dwell)
        return float(np.median(np.diff(self.times)))

    def __repr__(self):
        parts = [
            f"{len(self)} samples",
            f"t={self.times[0]:.6g}..{self.times[-1]:.6g} us",
            f"dwell_time={self.dwell_time:.6g} us",
        ]
        for key in ("tau", "dead_time"):
            value = self.metadata.get(key)
            if value is None:
                continue
            try:  # any value a caller put there shows, numbers as times
                parts.append(f"{key}={float(value):.6g} us")
            except (TypeError, ValueError):
                parts.append(f"{key}={value!r}")
        if self.metadata.get("format") is not None:
            parts.append(f"format={self.metadata['format']!r}")
        return f"MeasuredEcho({', '.join(parts)})"
