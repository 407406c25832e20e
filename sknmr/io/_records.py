"""What every reader returns: one or several records on their own time axes."""

from typing import NamedTuple

import numpy as np

__all__ = ["Records", "single", "uniform_records"]


class Records(NamedTuple):
    """Records read from a file.

    ``times`` and ``signal`` have shape ``(n_records, n_samples)`` (times in
    us, each record's own); ``axis_name`` and ``axis_values`` say what varies
    from record to record; ``kind`` is ``"echo"`` for sampled echoes and
    ``"decay"`` when the file holds one amplitude per echo (its times are the
    echo times).
    """

    times: np.ndarray
    signal: np.ndarray
    metadata: dict
    axis_name: str = "record"
    axis_values: np.ndarray = None
    kind: str = "echo"


def single(times, signal, metadata, kind="echo"):
    """Records holding one trace."""
    return Records(
        np.asarray(times, dtype=np.float64)[None, :],
        np.asarray(signal, dtype=np.complex128)[None, :],
        metadata,
        "record",
        np.zeros(1),
        kind,
    )


def uniform_records(rows, dwell, metadata, axis_name="record", axis_values=None):
    """Records of equal length sampled every ``dwell`` us from 0."""
    rows = np.asarray(rows, dtype=np.complex128)
    if rows.ndim == 1:
        rows = rows[None, :]
    times = np.broadcast_to(np.arange(rows.shape[1]) * dwell, rows.shape)
    if axis_values is None:
        axis_values = np.arange(rows.shape[0], dtype=np.float64)
    return Records(
        np.array(times, dtype=np.float64),
        rows,
        metadata,
        axis_name,
        np.asarray(axis_values, dtype=np.float64),
    )
