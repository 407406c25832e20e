"""MeasuredSeries: the records of one file (echo windows, arrayed or 2-D data)."""

import os
from dataclasses import dataclass, field

import numpy as np

from ._echo import MeasuredEcho
from ._formats import read_records

__all__ = ["MeasuredSeries", "read_series"]


def _frozen(values, dtype, name):
    try:
        array = np.array(values, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"MeasuredSeries.{name} must hold numbers: {exc}") from None
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class MeasuredSeries:
    """Several records of one measurement, each on its own time axis.

    Made by :func:`read_series`, or directly from arrays: echoes acquired
    in windows (one per echo of a train), or the traces of an arrayed or
    2-D experiment (one per delay of a ``vdlist``, per value of an arrayed
    parameter, ...). Indexing gives a :class:`MeasuredEcho` (a slice, a
    smaller series); iterating gives every record in turn.

    Parameters
    ----------
    times : array-like of shape (n_records, n_samples)
        Each record's sample times (us), as :class:`MeasuredEcho` needs them.
    signal : array-like of shape (n_records, n_samples)
        The complex signal of each record.
    axis_name : str, default="record"
        What varies from record to record: ``"delay"`` (a Bruker ``vdlist``,
        us), ``"echo"`` (echo number), ``"echo_time"`` (us), the name of an
        arrayed Varian parameter, ``"record"`` (just the index), ...
    axis_values : array-like of shape (n_records,), default=None
        Its value for each record (times in us); None numbers the records.
    metadata : dict, default={}
        What the file states, shared by all records (:data:`METADATA_KEYS`).

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.io import MeasuredSeries
    >>> t = np.tile(np.arange(4) * 0.5, (3, 1))
    >>> series = MeasuredSeries(t, np.ones((3, 4)), "delay", [10.0, 20.0, 40.0])
    >>> len(series), series[1].metadata["delay"]
    (3, 20.0)
    >>> series
    MeasuredSeries(3 records of 4 samples, delay=10..40)
    """

    times: np.ndarray
    signal: np.ndarray
    axis_name: str = "record"
    axis_values: np.ndarray = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        times = _frozen(self.times, np.float64, "times")
        signal = _frozen(self.signal, np.complex128, "signal")
        if signal.ndim != 2 or times.shape != signal.shape:
            raise ValueError(
                "MeasuredSeries.times and signal must be 2-D arrays of one shape "
                f"(n_records, n_samples); got {times.shape} and {signal.shape}."
            )
        if signal.shape[0] < 1:
            raise ValueError("A MeasuredSeries needs at least one record.")
        values = self.axis_values
        if values is None:
            values = np.arange(signal.shape[0], dtype=np.float64)
        values = _frozen(values, np.float64, "axis_values")
        if values.shape != (signal.shape[0],):
            raise ValueError(
                f"MeasuredSeries.axis_values must give one value per record "
                f"({signal.shape[0]}); got shape {values.shape}."
            )
        if not isinstance(self.axis_name, str) or not self.axis_name:
            raise ValueError(
                f"MeasuredSeries.axis_name must be a name; got {self.axis_name!r}."
            )
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "signal", signal)
        object.__setattr__(self, "axis_values", values)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __reduce__(self):
        return (
            type(self),
            (self.times, self.signal, self.axis_name, self.axis_values, self.metadata),
        )

    def __len__(self):
        return self.signal.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return MeasuredSeries(
                self.times[index],
                self.signal[index],
                self.axis_name,
                self.axis_values[index],
                self.metadata,
            )
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(
                f"A MeasuredSeries is indexed by an integer or a slice; got {index!r}."
            )
        if not -len(self) <= index < len(self):
            raise IndexError(
                f"record {index} is out of range: the series holds {len(self)}."
            )
        index = int(index) % len(self)
        metadata = dict(self.metadata)
        metadata["record"] = index
        metadata[self.axis_name] = float(self.axis_values[index])
        return MeasuredEcho(self.times[index], self.signal[index], metadata)

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def __repr__(self):
        values = self.axis_values
        return (
            f"MeasuredSeries({len(self)} records of {self.signal.shape[1]} samples, "
            f"{self.axis_name}={values.min():.6g}..{values.max():.6g})"
        )


def read_series(path, format=None, *, axis_name=None, axis_values=None, **options):
    """Read every record of a file: echo windows, arrayed or 2-D experiments.

    Parameters
    ----------
    path : str or path-like
        Any file or folder :func:`read_echo` reads. Files of several
        records: a Bruker ``ser`` (labelled by its ``vdlist``, ``vclist`` or
        ``vplist``), an arrayed Varian/Agilent ``fid`` (by the arrayed
        procpar parameter), a Tecmag ``.tnt`` of several traces or of echo
        windows (``acq_points`` per echo), a Spinsolve ``data.2d`` or a T2
        ``data.1d`` of several points per echo (by echo time). A file of one
        trace gives a series of one record.
    format : str or None, default=None
        As for :func:`read_echo`.
    axis_name : str, default=None
        Overrides what the records are labelled by.
    axis_values : array-like of shape (n_records,), default=None
        Overrides the labels (e.g. the delays of a Tecmag 2-D file, whose
        header does not state them).
    **options
        The options of :func:`read_echo` for the format (not ``record``).

    Returns
    -------
    series : MeasuredSeries

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.io import read_series
    >>> path = os.path.join(tempfile.mkdtemp(), "echo.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("0,1\\n1,0.5\\n2,0.25\\n")
    >>> series = read_series(path)
    >>> len(series), series.signal.shape, series.axis_name
    (1, (1, 3), 'record')
    """
    records = read_records(path, format, "read_series", **options)
    if records.kind == "decay":
        raise ValueError(
            f"{os.fspath(path)} holds an echo decay (one amplitude per echo), not "
            "sampled echoes; read it with read_decay."
        )
    name = records.axis_name if axis_name is None else axis_name
    values = records.axis_values if axis_values is None else axis_values
    try:
        return MeasuredSeries(
            records.times, records.signal, name, values, records.metadata
        )
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None
