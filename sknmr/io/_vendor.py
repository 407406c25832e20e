"""Spectrometer formats, read through nmrglue: Bruker, Varian/Agilent, Tecmag.

nmrglue is imported here only, when such a file is read, so sknmr imports
without it (it is the ``io`` extra).
"""

import importlib
import re
import struct
import warnings

import numpy as np

__all__ = ["read_bruker", "read_tecmag", "read_varian"]

# What nmrglue raises on a damaged or foreign file.
_READ_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    AssertionError,
    TypeError,
    EOFError,
    struct.error,
)


def _nmrglue(what):
    try:
        return importlib.import_module("nmrglue")
    except ImportError as exc:
        raise ImportError(
            f"Reading {what} files needs nmrglue, which sknmr's 'io' extra "
            'installs: pip install "sknmr[io]" (or pip install nmrglue).'
        ) from exc


def _read(what, path, reader, *args, **kwargs):
    """Call an nmrglue reader, turning its errors into one naming the file."""
    try:
        with warnings.catch_warnings():
            # A 1-D Bruker fid without the 1024-byte padding of the spectrometer
            # reads fine; nmrglue only warns that it cannot guess a 2-D shape.
            warnings.filterwarnings(
                "ignore", message=r".*cannot be shaped into", category=UserWarning
            )
            return reader(*args, **kwargs)
    except _READ_ERRORS as exc:
        raise ValueError(
            f"{path} could not be read as {what} data (truncated, damaged or "
            f"another format?): {type(exc).__name__}: {exc}"
        ) from None


def _first_row(data, row, path):
    """A 1-D trace of ``data``: row ``row`` of a 2-D (or higher) acquisition."""
    data = np.asarray(data)
    if data.ndim == 0 or data.size == 0:
        raise ValueError(f"{path} holds no data points.")
    if data.ndim == 1:
        if row not in (None, 0):
            raise ValueError(f"{path} holds a single trace; row={row} does not exist.")
        return data
    rows = data.reshape(-1, data.shape[-1])
    if row is None:
        warnings.warn(
            f"{path} holds a {data.ndim}-D acquisition of shape {data.shape}; "
            f"reading its first trace of {data.shape[-1]} points (pass row=k to "
            "read another).",
            UserWarning,
            stacklevel=4,
        )
        row = 0
    if not 0 <= int(row) < rows.shape[0]:
        raise ValueError(
            f"row={row} is out of range: {path} holds {rows.shape[0]} traces."
        )
    return rows[int(row)]


def _positive(value):
    """``value`` as a positive float, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _integer(value):
    number = _number(value)
    return int(number) if number is not None else None


def _text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.split(b"\x00", 1)[0].decode("latin-1")
    value = str(value).strip().strip("<>").strip()
    return value or None


# -- Bruker ------------------------------------------------------------------
def _bruker_delay_index(tau_delay, path):
    if isinstance(tau_delay, str):
        match = re.fullmatch(r"[dD]\[?(\d+)\]?", tau_delay.strip())
        if match is None:
            raise ValueError(
                f"tau_delay must name a Bruker delay such as 'D6' or give its index "
                f"6; got {tau_delay!r}."
            )
        return int(match.group(1))
    if isinstance(tau_delay, (int, np.integer)) and not isinstance(tau_delay, bool):
        return int(tau_delay)
    raise ValueError(
        f"tau_delay must name a Bruker delay such as 'D6' or give its index 6; got "
        f"{tau_delay!r}."
    )


def read_bruker(path, *, tau_delay=None, digital_filter=True, row=None):
    """Read a Bruker experiment folder; returns ``(times_us, signal, metadata)``.

    The dwell time is ``1 / SW_h`` for complex data (``AQ_mod`` 1 or 3) and
    ``1 / (2 SW_h)`` for real data; points past ``TD`` (the file's padding to
    1024 bytes) are dropped; the digital filter's group delay is removed by
    ``nmrglue.bruker.remove_digital_filter`` when ``acqus`` has ``DECIM`` and
    ``DSPFVS``. ``tau`` is the delay ``D[tau_delay]`` when ``tau_delay`` is
    given (a Bruker file does not say which delay is tau); every non-zero
    delay is listed in ``metadata["delays"]`` (us). ``dead_time`` is ``DE``.
    """
    ng = _nmrglue("Bruker")
    dic, data = _read(
        "Bruker", path, ng.bruker.read, str(path), read_pulseprogram=False
    )
    acqus = dic.get("acqus")
    if not acqus:
        raise ValueError(f"{path}: no acqus parameters could be read.")
    sw = _positive(acqus.get("SW_h"))
    if sw is None:
        raise ValueError(
            f"{path}/acqus states no spectral width SW_h (Hz), so the dwell time "
            f"is unknown; got SW_h={acqus.get('SW_h')!r}."
        )
    complex_data = acqus.get("AQ_mod", 3) in (1, 3)
    dwell = 1e6 / sw if complex_data else 1e6 / (2 * sw)
    trace = _first_row(data, row, path)
    td = _integer(acqus.get("TD"))
    if td:
        n_points = td // 2 if complex_data else td
        if 0 < n_points < trace.shape[-1]:
            trace = trace[:n_points]
    removed = False
    group_delay = _number(acqus.get("GRPDLY"))
    if digital_filter and "DECIM" in acqus and "DSPFVS" in acqus:
        try:
            trace = ng.bruker.remove_digital_filter(dic, trace)
        except (ValueError, KeyError) as exc:
            raise ValueError(
                f"{path}: the digital filter could not be removed ({exc}); pass "
                "digital_filter=False to read the raw points."
            ) from None
        removed = True
    delays = acqus.get("D")
    delays = list(delays) if isinstance(delays, (list, tuple, np.ndarray)) else []
    tau = None
    if tau_delay is not None:
        index = _bruker_delay_index(tau_delay, path)
        if not 0 <= index < len(delays) or _number(delays[index]) is None:
            raise ValueError(
                f"tau_delay={tau_delay!r}: {path}/acqus has no delay D[{index}] "
                f"(it lists {len(delays)} delays)."
            )
        tau = _number(delays[index]) * 1e6
    metadata = {
        "dwell_time": dwell,
        "tau": tau,
        "dead_time": _number(acqus.get("DE")),
        "spectrometer_frequency": _positive(acqus.get("SFO1")),
        "n_scans": _integer(acqus.get("NS")),
        "nucleus": _text(acqus.get("NUC1")),
        "pulse_program": _text(acqus.get("PULPROG")),
        "spectral_width": sw * 1e-6,
        "delays": {
            f"D{k}": float(v) * 1e6
            for k, v in enumerate(delays)
            if _number(v) is not None and float(v) != 0
        },
        "group_delay": group_delay,
        "digital_filter_removed": removed,
    }
    times = np.arange(trace.shape[-1]) * dwell
    return times, np.asarray(trace, dtype=np.complex128), metadata


# -- Varian / Agilent ----------------------------------------------------------
def _procpar_value(procpar, name):
    entry = procpar.get(name)
    if not isinstance(entry, dict):
        return None
    values = entry.get("values") or []
    return values[0] if values else None


def read_varian(path, *, tau_param=None, row=None):
    """Read a Varian/Agilent folder; returns ``(times_us, signal, metadata)``.

    The dwell time is ``1 / sw``; ``tau`` is the procpar parameter
    ``tau_param`` if given, else ``tau``, else a non-zero ``d2`` (s, read in
    us); ``dead_time`` is ``rof2 + alfa`` (us) when stated.
    """
    ng = _nmrglue("Varian/Agilent")
    dic, data = _read("Varian/Agilent", path, ng.varian.read, str(path))
    procpar = dic.get("procpar") or {}
    sw = _positive(_procpar_value(procpar, "sw"))
    if sw is None:
        raise ValueError(
            f"{path}/procpar states no spectral width sw (Hz), so the dwell time is "
            "unknown."
        )
    dwell = 1e6 / sw
    trace = _first_row(data, row, path)
    if tau_param is not None:
        if _number(_procpar_value(procpar, tau_param)) is None:
            raise ValueError(
                f"tau_param={tau_param!r}: {path}/procpar has no numeric parameter "
                f"{tau_param!r}."
            )
        tau = _number(_procpar_value(procpar, tau_param)) * 1e6
    else:
        tau = None
        for name in ("tau", "d2"):
            value = _number(_procpar_value(procpar, name))
            if value:
                tau = value * 1e6
                break
    rof2 = _number(_procpar_value(procpar, "rof2"))
    alfa = _number(_procpar_value(procpar, "alfa"))
    dead_time = None if rof2 is None and alfa is None else (rof2 or 0.0) + (alfa or 0.0)
    completed = _integer(_procpar_value(procpar, "ct"))
    sfrq = _positive(_procpar_value(procpar, "sfrq"))
    metadata = {
        "dwell_time": dwell,
        "tau": tau,
        "dead_time": dead_time,
        "spectrometer_frequency": sfrq,
        "n_scans": completed or _integer(_procpar_value(procpar, "nt")),
        "nucleus": _text(_procpar_value(procpar, "tn")),
        "pulse_program": _text(_procpar_value(procpar, "seqfil")),
        "spectral_width": sw * 1e-6,
    }
    times = np.arange(trace.shape[-1]) * dwell
    return times, np.asarray(trace, dtype=np.complex128), metadata


# -- Tecmag ------------------------------------------------------------------
def read_tecmag(path, *, row=None):
    """Read a Tecmag ``.tnt`` file; returns ``(times_us, signal, metadata)``.

    The dwell time is the header's ``dwell`` (s) of the first dimension (else
    ``1 / sw``). A .tnt header states neither tau nor the dead time (they
    live in the pulse sequence): both are None unless given to
    :func:`read_echo`.
    """
    ng = _nmrglue("Tecmag")
    dic, data = _read("Tecmag .tnt", path, ng.tecmag.read, str(path))
    data = np.array(data)  # a copy: let go of nmrglue's memory map
    if data.ndim > 1:
        # (points, traces...) in Fortran order: one trace per row, file order
        rows = data.reshape(data.shape[0], -1, order="F").T
        data = rows[0] if rows.shape[0] == 1 else rows
    trace = _first_row(data, row, path)
    dwell = _positive(np.atleast_1d(dic.get("dwell", [0.0]))[0])
    if dwell is None:
        sw = _positive(np.atleast_1d(dic.get("sw", [0.0]))[0])
        if sw is None:
            raise ValueError(
                f"{path}: the header states neither a dwell time nor a spectral "
                "width, so the time axis is unknown."
            )
        dwell = 1.0 / sw
    dwell *= 1e6
    nuclei = np.atleast_1d(dic.get("nuclei", [b""]))
    metadata = {
        "dwell_time": dwell,
        "tau": None,
        "dead_time": None,
        "spectrometer_frequency": _positive(np.atleast_1d(dic.get("ob_freq", [0]))[0]),
        "n_scans": _integer(dic.get("actual_scans")),
        "nucleus": _text(nuclei[0]),
        "pulse_program": _text(dic.get("sequence")),
        "date": _text(dic.get("date")),
    }
    times = np.arange(trace.shape[-1]) * dwell
    return times, np.asarray(trace, dtype=np.complex128), metadata
