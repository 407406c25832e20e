"""JCAMP-DX files (``.dx``, ``.jdx``): a time-domain trace, read by nmrglue."""

import warnings

import numpy as np

from ._records import single
from ._vendor import _READ_ERRORS, _nmrglue, _number, _positive, _text

__all__ = ["read_jcampdx"]

_X_UNITS = {
    "SECONDS": 1e6,
    "S": 1e6,
    "SEC": 1e6,
    "MILLISECONDS": 1e3,
    "MS": 1e3,
    "MICROSECONDS": 1.0,
    "US": 1.0,
    "MICROSEC": 1.0,
}


def _first(dic, *names):
    for name in names:
        values = dic.get(name)
        if values:
            return str(values[0]).split(",")[0].strip()
    return None


def read_jcampdx(path):
    """Read a JCAMP-DX time-domain trace as one record.

    ``##XYDATA`` (real) or ``##NTUPLES`` with real and imaginary pages;
    times from ``FIRSTX``/``LASTX`` (or the first entries of ``FIRST``/
    ``LAST``) in ``XUNITS`` (seconds, milliseconds or microseconds).
    A spectrum (x in Hz or ppm) is refused.
    """
    ng = _nmrglue("JCAMP-DX")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dic, data = ng.jcampdx.read(str(path))
    except _READ_ERRORS as exc:
        raise ValueError(
            f"{path} could not be read as JCAMP-DX (truncated, damaged or another "
            f"format?): {type(exc).__name__}: {exc}"
        ) from None
    if isinstance(data, (list, tuple)) and len(data) == 2:
        signal = np.asarray(data[0], float) + 1j * np.asarray(data[1], float)
    else:
        signal = np.asarray(data, dtype=np.complex128)
    if signal.ndim != 1 or signal.size == 0:
        raise ValueError(f"{path} holds no JCAMP-DX data points.")
    unit = (_first(dic, "XUNITS", "UNITS") or "").upper().replace(" ", "")
    if unit not in _X_UNITS:
        raise ValueError(
            f"{path}: x is in {unit or 'no stated unit'!r}; a time-domain trace "
            f"needs XUNITS in {sorted(set(_X_UNITS))} (a spectrum cannot be read "
            "as an echo)."
        )
    first = _number(_first(dic, "FIRSTX", "FIRST"))
    last = _number(_first(dic, "LASTX", "LAST"))
    if first is None or last is None or (signal.size > 1 and last <= first):
        raise ValueError(
            f"{path} states no increasing FIRSTX/LASTX, so its times are unknown."
        )
    stated = _number(_first(dic, "NPOINTS", "VARDIM"))
    if stated is not None and int(stated) != signal.size:
        raise ValueError(
            f"{path} states NPOINTS={int(stated)} but holds {signal.size} points "
            "(truncated?)."
        )
    times = np.linspace(first, last, signal.size) * _X_UNITS[unit]
    dwell = float(times[1] - times[0]) if signal.size > 1 else None
    metadata = {
        "dwell_time": dwell,
        "tau": None,
        "dead_time": None,
        "spectrometer_frequency": _positive(_first(dic, ".OBSERVEFREQUENCY", "$SFO1")),
        "n_scans": None,
        "nucleus": _text(_first(dic, ".OBSERVENUCLEUS")),
        "title": _text(_first(dic, "TITLE")),
        "data_type": _text(_first(dic, "DATATYPE", "DATA TYPE")),
    }
    return single(times, signal, metadata)
