"""Echoes as NumPy files: ``.npy`` tables or signals, ``.npz`` archives."""

import io
import math
import os
import zipfile

import numpy as np

from ._text import TIME_KEYS, parse_time, time_factor

__all__ = ["read_numpy", "save_npy", "save_npz"]

# Errors NumPy raises on a file that is not (or no longer) what it should be.
_LOAD_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError)


def _scalar(value):
    """A 0-d array as a Python scalar, or None if it is not one."""
    if value.ndim != 0 or value.dtype.kind not in "biufcUS":
        return None
    item = value.item()
    return item.decode() if isinstance(item, bytes) else item


def _numeric(array, what, path):
    if array.dtype.kind not in "iufc":
        raise ValueError(f"{path}: {what} must hold numbers; got dtype {array.dtype}.")


def _from_dwell(signal, dwell_time, factor, path, where):
    if dwell_time is None:
        raise ValueError(
            f"{path} holds a signal without times ({where}); pass the sampling "
            "interval: read_echo(path, dwell_time=...) in time_unit."
        )
    try:
        dwell = float(dwell_time)
    except (TypeError, ValueError):
        dwell = float("nan")
    if not dwell > 0 or not np.isfinite(dwell):
        raise ValueError(f"dwell_time must be a positive time; got {dwell_time!r}.")
    return np.arange(signal.shape[0]) * dwell * factor, dwell * factor


def _check_header(handle, available, where):
    """Refuse an array whose header states more data than ``available`` bytes."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            return  # a newer header: np.load checks it
    except ValueError:
        return  # not a .npy header: np.load says so
    need = math.prod(shape) * dtype.itemsize
    if need > available - handle.tell():
        raise ValueError(
            f"{where}: its header states an array of shape {shape} ({dtype}, {need} "
            f"bytes), but the file holds {available} bytes: truncated or damaged."
        )


def _check_sizes(path):
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".npy"):
                        with archive.open(info) as member:
                            _check_header(
                                member, info.file_size, f"{path}[{info.filename}]"
                            )
        except (zipfile.BadZipFile, OSError, EOFError):
            return  # np.load reports the damage
        return
    with open(path, "rb") as handle:
        _check_header(handle, os.path.getsize(path), str(path))


def read_numpy(path, *, dwell_time=None, time_unit="us"):
    """Read a ``.npy``/``.npz`` echo; returns ``(times_us, signal, metadata)``.

    ``.npy``: an ``(n, 2)`` or ``(n, 3)`` real table (time, real[, imaginary])
    or a 1-D signal (real or complex) sampled every ``dwell_time``.
    ``.npz``: arrays ``times`` and ``signal`` (or ``signal`` and a scalar
    ``dwell_time``); other scalar entries become metadata. Times and
    ``dwell_time`` are in ``time_unit``; metadata times are in us.
    """
    factor = time_factor(time_unit, path)
    _check_sizes(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except _LOAD_ERRORS as exc:
        raise ValueError(
            f"{path} is not a readable NumPy .npy/.npz file (truncated or another "
            f"format?): {exc}"
        ) from None
    metadata = {}
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            try:
                contents = {key: loaded[key] for key in loaded.files}
            except _LOAD_ERRORS as exc:
                raise ValueError(
                    f"{path} is a damaged .npz archive (truncated?): {exc}"
                ) from None
        if "signal" not in contents:
            raise ValueError(
                f"{path} has no array 'signal' (it holds {sorted(contents)}); an "
                "echo .npz holds 'times' and 'signal'."
            )
        signal = np.asarray(contents.pop("signal"))
        _numeric(signal, "'signal'", path)
        if signal.ndim != 1:
            raise ValueError(
                f"{path}: 'signal' must be one-dimensional; got shape {signal.shape}."
            )
        for key, value in contents.items():
            if key != "times":
                scalar = _scalar(value)
                if scalar is not None and key in TIME_KEYS:
                    scalar = parse_time(scalar, f"{key!r}", where=path)
                if scalar is not None:
                    metadata[key] = scalar
        if "times" in contents:
            times = np.asarray(contents["times"])
            _numeric(times, "'times'", path)
            if times.ndim != 1 or times.shape != signal.shape:
                raise ValueError(
                    f"{path}: 'times' and 'signal' must be 1-D of the same length; "
                    f"got shapes {times.shape} and {signal.shape}."
                )
            if times.dtype.kind == "c":
                raise ValueError(f"{path}: 'times' must be real numbers.")
            times = times.astype(np.float64) * factor
        else:
            dwell = dwell_time if dwell_time is not None else None
            if dwell is None and metadata.get("dwell_time") is not None:
                # a stored dwell_time is in us, like all stored metadata
                dwell, factor = metadata["dwell_time"], 1.0
            times, metadata["dwell_time"] = _from_dwell(
                signal, dwell, factor, path, "no 'times' array"
            )
        return times, signal.astype(np.complex128), metadata
    array = np.asarray(loaded)
    _numeric(array, "the array", path)
    if array.ndim == 1:
        times, metadata["dwell_time"] = _from_dwell(
            array, dwell_time, factor, path, "a 1-D array"
        )
        return times, array.astype(np.complex128), metadata
    if array.ndim == 2 and array.shape[1] in (2, 3):
        if array.dtype.kind == "c":
            raise ValueError(
                f"{path}: a table of shape {array.shape} must be real (time, real, "
                "imaginary); got complex numbers."
            )
        table = array.astype(np.float64)
        signal = table[:, 1].astype(np.complex128)
        if array.shape[1] == 3:
            signal = signal + 1j * table[:, 2]
        return table[:, 0] * factor, signal, metadata
    raise ValueError(
        f"{path} holds an array of shape {array.shape}; expected (n, 2) or (n, 3) "
        "(time, real[, imaginary]) or a 1-D signal with dwell_time."
    )


def save_npz(echo, handle):
    """Write ``echo`` as an ``.npz`` archive to an open binary file."""
    extra = {}
    for key, value in echo.metadata.items():
        if key in ("times", "signal", "format", "source") or value is None:
            continue
        if isinstance(value, (bool, int, float, complex, str, np.generic)):
            extra[key] = np.asarray(value)
    buffer = io.BytesIO()
    np.savez(buffer, times=echo.times, signal=echo.signal, **extra)
    handle.write(buffer.getvalue())


def save_npy(echo, handle):
    """Write ``echo`` as an ``(n, 3)`` ``.npy`` table (time, real, imaginary)."""
    table = np.column_stack([echo.times, echo.signal.real, echo.signal.imag])
    np.save(handle, table, allow_pickle=False)
