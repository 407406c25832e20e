"""Magritek Spinsolve folders: ``acqu.par`` with ``data.1d`` or ``data.2d``.

The binary files are little-endian: a 32-byte header of eight int32
(owner, format, version, data type, xDim, yDim, zDim, qDim), then float32
values: optionally the x axis, then the complex points as interleaved real
and imaginary parts (``nmrglue.spinsolve.read`` reads ``data.1d`` the same
way). The header's sizes are checked against the file's size first.
"""

import struct
import warnings

import numpy as np

from ._records import Records, uniform_records
from ._vendor import _nmrglue, _number, _positive, _text

__all__ = ["SPINSOLVE_DATA", "read_spinsolve"]

#: Data files of a Spinsolve folder, in the order they are looked for.
SPINSOLVE_DATA = ("data.2d", "data.1d", "fid.1d")
_HEADER = struct.Struct("<8i")


def read_parameters(path):
    """``acqu.par`` as a dict (numbers as numbers, quoted text as text)."""
    ng = _nmrglue("Spinsolve")
    parameters = {}
    with open(path / "acqu.par", encoding="latin-1") as handle:
        for number, line in enumerate(handle, start=1):
            if "=" not in line:
                continue
            try:
                name, value = ng.spinsolve.parse_spinsolve_par_line(line)
            except (ValueError, IndexError) as exc:
                raise ValueError(
                    f"{path}/acqu.par, line {number}: cannot read {line.strip()!r} "
                    f"({exc})."
                ) from None
            parameters[name] = value
    return parameters


def _points(path, data_file):
    """The complex points of ``data_file`` as (rows, columns)."""
    raw = (path / data_file).read_bytes()
    if len(raw) < _HEADER.size:
        raise ValueError(f"{path / data_file} is too short to hold its header.")
    _, _, _, _, x, y, z, q = _HEADER.unpack_from(raw)
    rows = max(y, 1) * max(z, 1) * max(q, 1)
    if x <= 0 or min(y, z, q) < 0 or x * rows > (len(raw) - _HEADER.size) // 8:
        raise ValueError(
            f"{path / data_file} states {x} x {max(y, 1)} x {max(z, 1)} x {max(q, 1)}"
            f" points, but holds {len(raw)} bytes: truncated, or not a Spinsolve "
            "data file."
        )
    values = np.frombuffer(raw, dtype="<f4", offset=_HEADER.size)
    n = x * rows
    for axis_length in (0, x, n):  # no x axis, one, or one per row
        if values.size == axis_length + 2 * n:
            points = values[axis_length:]
            break
    else:
        raise ValueError(
            f"{path / data_file} holds {values.size} float32 values after its "
            f"header; {n} complex points need {2 * n}, plus an x axis of {x} or "
            f"{n}."
        )
    points = points[0::2].astype(np.float64) + 1j * points[1::2]
    return points.reshape(rows, x)


def read_spinsolve(path, *, echo_time=None):
    """Read a Spinsolve folder as records.

    The dwell time is ``dwellTime`` (us) of ``acqu.par``, else
    ``1000 / bandwidth`` (kHz). A T2 experiment states ``echoTime`` (us) and
    ``nrEchoes``: its ``tau`` is half the echo time; one point per echo makes
    a decay, several points per echo (or the rows of ``data.2d``) make one
    record per echo labelled by its echo time.
    """
    parameters = read_parameters(path)
    data_file = next(f for f in SPINSOLVE_DATA if (path / f).is_file())
    rows = _points(path, data_file)
    dwell = _positive(parameters.get("dwellTime"))
    if dwell is None:
        bandwidth = _positive(parameters.get("bandwidth"))
        if bandwidth is None:
            raise ValueError(
                f"{path}/acqu.par states neither dwellTime (us) nor bandwidth (kHz), "
                "so the dwell time is unknown."
            )
        dwell = 1e3 / bandwidth
    if echo_time is None:
        echo_time = _positive(parameters.get("echoTime"))
    elif _positive(echo_time) is None:
        raise ValueError(f"echo_time must be a positive time (us); got {echo_time!r}.")
    else:
        echo_time = float(echo_time)
    n_echoes = int(_number(parameters.get("nrEchoes")) or 0)
    metadata = {
        "dwell_time": dwell,
        "tau": echo_time / 2 if echo_time else None,
        "dead_time": _number(parameters.get("acqDelay")),
        "spectrometer_frequency": _positive(parameters.get("b1Freq")),
        "n_scans": int(_number(parameters.get("nrScans")) or 0) or None,
        "nucleus": _text(parameters.get("rxChannel")),
        "pulse_program": _text(parameters.get("experiment")),
        "echo_time": echo_time,
        "n_echoes": n_echoes or None,
        "data_file": data_file,
    }
    if rows.shape[0] == 1 and echo_time and n_echoes > 1:
        trace = rows[0]
        if trace.size == n_echoes:
            times = echo_time * np.arange(1, n_echoes + 1, dtype=np.float64)
            return Records(
                times[None, :], trace[None, :], metadata, "record", np.zeros(1), "decay"
            )
        if trace.size % n_echoes == 0:
            rows = trace.reshape(n_echoes, -1)
        else:
            warnings.warn(
                f"{path}/{data_file}: {trace.size} points are not {n_echoes} echoes "
                "(nrEchoes) of equal length; reading one record.",
                UserWarning,
                stacklevel=4,
            )
    if rows.shape[0] > 1 and echo_time and rows.shape[0] == n_echoes:
        numbers = np.arange(1, n_echoes + 1, dtype=np.float64)
        return uniform_records(rows, dwell, metadata, "echo_time", numbers * echo_time)
    return uniform_records(rows, dwell, metadata)
