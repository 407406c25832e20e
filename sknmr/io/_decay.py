"""EchoDecay: echo amplitudes against echo time, read or taken from echoes."""

import os
from dataclasses import dataclass, field

import numpy as np

from ._formats import read_records
from ._series import MeasuredSeries

__all__ = ["EchoDecay", "read_decay"]

_METHODS = ("top", "integral")
# axes whose values are tau of a Hahn echo: the echo comes at twice it
_TAU_AXES = ("delay", "tau", "d2")


def _frozen(values, dtype, name):
    try:
        array = np.array(values, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"EchoDecay.{name} must hold numbers: {exc}") from None
    array.setflags(write=False)
    return array


def _window_amplitude(times, signal, method):
    """One window's amplitude, phased on its own top (or whole window)."""
    top = int(np.argmax(np.abs(signal)))
    if method == "top":
        near = signal[max(top - 2, 0) : top + 3]  # a few samples steady the phase
        phase = np.angle(near.sum())
        return float((signal[top] * np.exp(-1j * phase)).real)
    phase = np.angle(signal.sum())
    return float(np.trapezoid((signal * np.exp(-1j * phase)).real, times))


@dataclass(frozen=True, eq=False)
class EchoDecay:
    """Echo amplitudes against echo time: a T2 (CPMG) train or Hahn echoes.

    Made by :func:`read_decay`, :meth:`from_series` (the windows of a
    measured train) or :meth:`from_echoes` (simulated echoes), and fitted by
    :func:`sknmr.decay.fit_decay`.

    Parameters
    ----------
    times : array-like of shape (n_echoes,)
        Echo times (us, from the excitation), strictly increasing.
    amplitudes : array-like of shape (n_echoes,)
        The echo amplitudes (complex128; a real decay has zero imaginary
        parts).
    metadata : dict, default={}
        What the source states.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.io import EchoDecay
    >>> decay = EchoDecay([100.0, 200.0, 300.0], np.exp(-np.array([1.0, 2, 3])))
    >>> decay
    EchoDecay(3 echoes, t=100..300 us)
    """

    times: np.ndarray
    amplitudes: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        times = _frozen(self.times, np.float64, "times")
        amplitudes = _frozen(self.amplitudes, np.complex128, "amplitudes")
        if times.ndim != 1 or times.shape != amplitudes.shape:
            raise ValueError(
                "EchoDecay.times and amplitudes must be 1-D of one length; got "
                f"shapes {times.shape} and {amplitudes.shape}."
            )
        if times.size < 2:
            raise ValueError(f"An EchoDecay needs at least 2 echoes; got {times.size}.")
        if not (np.isfinite(times).all() and np.isfinite(amplitudes).all()):
            raise ValueError("EchoDecay.times and amplitudes must be finite.")
        if np.any(np.diff(times) <= 0):
            raise ValueError("EchoDecay.times must be strictly increasing.")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "amplitudes", amplitudes)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __reduce__(self):
        return (type(self), (self.times, self.amplitudes, self.metadata))

    def __len__(self):
        return self.times.size

    def __repr__(self):
        return (
            f"EchoDecay({len(self)} echoes, t={self.times[0]:.6g}.."
            f"{self.times[-1]:.6g} us)"
        )

    @property
    def magnitude(self):
        """``|amplitudes|``."""
        return np.abs(self.amplitudes)

    def phased(self):
        """The amplitudes turned by their common phase, as real numbers.

        The phase is that of the amplitude-weighted sum, so a decay of one
        phase comes out positive; what stays in the imaginary part is noise.
        """
        phase = np.angle(np.sum(self.amplitudes * np.abs(self.amplitudes)))
        return (self.amplitudes * np.exp(-1j * phase)).real

    @classmethod
    def from_series(cls, series, method="top", echo_times=None):
        """The decay of a series of echo windows: each window's top or integral.

        Parameters
        ----------
        series : MeasuredSeries
            One record per echo.
        method : {"top", "integral"}, default="top"
            ``"top"``: the largest sample of each window, phased on the
            samples around it; ``"integral"``: the window's integral
            (trapezoid, us) after phasing it on its own sum.
        echo_times : array-like of shape (n_records,), default=None
            Echo times (us). None takes them from the series: its
            ``echo_time`` axis, twice a ``delay``/``tau`` axis (Hahn
            echoes), or the echo number times ``metadata["echo_time"]``.

        Returns
        -------
        decay : EchoDecay

        Examples
        --------
        >>> import numpy as np
        >>> from sknmr.io import EchoDecay, MeasuredSeries
        >>> t = np.tile(np.arange(5.0), (3, 1))
        >>> windows = np.exp(-((t - 2) ** 2)) * np.array([[1.0], [0.5], [0.25]])
        >>> series = MeasuredSeries(t, windows * 1j, "echo_time", [100, 200, 300])
        >>> EchoDecay.from_series(series).amplitudes.real.tolist()
        [1.0, 0.5, 0.25]
        """
        if not isinstance(series, MeasuredSeries):
            raise TypeError(
                f"series must be a MeasuredSeries; got {type(series).__name__}."
            )
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
        name, values = series.axis_name, series.axis_values
        if echo_times is None:
            if name == "echo_time":
                echo_times = values
            elif name in _TAU_AXES:
                echo_times = 2.0 * values
            elif name == "echo" and series.metadata.get("echo_time"):
                echo_times = values * float(series.metadata["echo_time"])
            else:
                raise ValueError(
                    f"The series' records are labelled by {name!r}, which does not "
                    "give their echo times; pass echo_times= (us)."
                )
        echo_times = np.asarray(echo_times, dtype=np.float64)
        if echo_times.shape != (len(series),):
            raise ValueError(
                f"echo_times must give one time per record ({len(series)}); got "
                f"shape {echo_times.shape}."
            )
        amplitudes = [
            _window_amplitude(t, s, method)
            for t, s in zip(series.times, series.signal, strict=True)
        ]
        metadata = dict(series.metadata, method=method)
        return cls(echo_times, amplitudes, metadata)

    @classmethod
    def from_echoes(cls, echoes, times, echo_times, half_width=None):
        """The tops of simulated echoes: Hahn echoes at several tau, or a train.

        Parameters
        ----------
        echoes : array-like of shape (n_times,) or (n_echoes, n_times)
            One trace holding every echo (a CPMG train, e.g. from
            ``EchoSimulator(sequence=cpmg(...))``), or one trace per echo
            (Hahn echoes, one per tau), on the time grid ``times``; or a
            list of traces of different lengths (one simulator per tau).
        times : array-like of shape (n_times,), or a list of them
            The traces' sample times (us); a list gives each trace its own.
        echo_times : array-like of shape (n_echoes,)
            Where each echo is expected (us): ``2 tau`` of a Hahn echo, the
            train's ``2 tau, 4 tau, ...``.
        half_width : float, default=None
            Each top is the sample of largest magnitude within this many us
            of its echo time; None takes a quarter of the smallest spacing
            of ``echo_times`` (a tenth of the echo time for a single echo).

        Returns
        -------
        decay : EchoDecay

        Examples
        --------
        >>> import numpy as np
        >>> from sknmr.io import EchoDecay
        >>> t = np.arange(0.0, 100.0, 0.5)
        >>> train = sum(np.exp(-(t - c) ** 2 - c / 50) for c in (20, 40, 60, 80))
        >>> EchoDecay.from_echoes(train, t, [20, 40, 60, 80]).magnitude.round(3)
        array([0.67 , 0.449, 0.301, 0.202])
        """
        echo_times = np.atleast_1d(np.asarray(echo_times, dtype=np.float64))
        traces = _traces(echoes, times, echo_times.size)
        if half_width is None:
            spacing = np.diff(np.sort(echo_times))
            half_width = 0.25 * spacing.min() if spacing.size else 0.1 * echo_times[0]
        if not half_width > 0:
            raise ValueError(f"half_width must be > 0 (us); got {half_width!r}.")
        tops = []
        for (trace, times), echo_time in zip(traces, echo_times, strict=True):
            near = np.flatnonzero(np.abs(times - echo_time) <= half_width)
            if near.size == 0:
                raise ValueError(
                    f"No sample of times lies within {half_width:g} us of echo time "
                    f"{echo_time:g} us."
                )
            tops.append(trace[near[np.argmax(np.abs(trace[near]))]])
        return cls(echo_times, tops, {"half_width": float(half_width)})


def _traces(echoes, times, n_echoes):
    """``(trace, times)`` for each echo."""
    if isinstance(times, (list, tuple)) and times and np.ndim(times[0]) == 1:
        grids = [np.asarray(t, dtype=np.float64) for t in times]
        rows = [np.asarray(e) for e in echoes]
        if len(grids) != len(rows) or any(
            g.shape != r.shape for g, r in zip(grids, rows, strict=False)
        ):
            raise ValueError(
                "With a list of times, echoes must be a list of traces of the same "
                "lengths."
            )
    else:
        grid = np.asarray(times, dtype=np.float64)
        echoes = np.asarray(echoes)
        if echoes.ndim not in (1, 2) or echoes.shape[-1] != grid.size:
            raise ValueError(
                "echoes must be one trace or one per echo on the grid times; got "
                f"shape {echoes.shape} for {grid.size} times."
            )
        rows = [echoes] * n_echoes if echoes.ndim == 1 else list(echoes)
        grids = [grid] * len(rows)
    if len(rows) != n_echoes:
        raise ValueError(
            f"echoes holds {len(rows)} traces but echo_times gives {n_echoes} times."
        )
    return list(zip(rows, grids, strict=True))


def read_decay(path, format=None, *, method="top", echo_times=None, **options):
    """Read an echo decay: echo times (us) and amplitudes.

    Parameters
    ----------
    path : str or path-like
        A Spinsolve T2 folder (``echoTime`` and ``nrEchoes`` in
        ``acqu.par``; one point per echo, or several, then taken as echo
        windows), a text export (echo time and one or two amplitude columns,
        or a complex one; ``time_unit=``), a NumPy or JCAMP-DX file of that
        kind, or any file of echo windows :func:`read_series` reads (Tecmag
        ``acq_points``, a Bruker ``vdlist`` of Hahn echoes, ...).
    format : str or None, default=None
        As for :func:`read_echo`.
    method : {"top", "integral"}, default="top"
        How a window becomes an amplitude (:meth:`EchoDecay.from_series`).
    echo_times : array-like, default=None
        Echo times (us) of the windows, where the file does not state them.
    **options
        The options of :func:`read_echo` for the format.

    Returns
    -------
    decay : EchoDecay

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.io import read_decay
    >>> path = os.path.join(tempfile.mkdtemp(), "t2.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("echo_time_ms,amplitude\\n0.1,1.0\\n0.2,0.6\\n0.3,0.37\\n")
    >>> read_decay(path, time_unit="ms").times
    array([100., 200., 300.])
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    records = read_records(path, format, "read_decay", **options)
    metadata = dict(records.metadata)
    one_trace = records.metadata["format"] in ("text", "numpy", "jcampdx")
    try:
        if records.kind == "decay" or (one_trace and records.signal.shape[0] == 1):
            if echo_times is not None:
                raise ValueError(
                    "echo_times= labels echo windows; this file states its echo times."
                )
            metadata.pop("dwell_time", None)
            return EchoDecay(records.times[0], records.signal[0], metadata)
        if records.signal.shape[0] == 1 and echo_times is None:
            raise ValueError(
                "it holds one echo, not a decay (several echoes, or one amplitude "
                "per echo); read it with read_echo."
            )
        series = MeasuredSeries(
            records.times,
            records.signal,
            records.axis_name,
            records.axis_values,
            metadata,
        )
        return EchoDecay.from_series(series, method, echo_times)
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None
