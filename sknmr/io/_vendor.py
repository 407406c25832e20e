"""Spectrometer formats, read through nmrglue: Bruker, Varian/Agilent, Tecmag.

nmrglue is imported here only, when such a file is read, so sknmr imports
without it (it is the ``io`` extra). Every reader returns all the records of
its file (:class:`Records`); sizes stated in a header are checked against the
file's size before anything is allocated.
"""

import importlib
import os
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from ._records import Records, uniform_records

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
    ZeroDivisionError,
    MemoryError,
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


def _file_size(path):
    return os.path.getsize(path)


def _list_values(path, name, count, default_unit):
    """The first ``count`` values (us, or plain numbers) of a Bruker list file."""
    factors = {"u": 1.0, "m": 1e3, "s": 1e6, "": default_unit}
    values = []
    with open(path, encoding="latin-1") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            match = re.fullmatch(r"([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*([umsUMS]?)", line)
            if match is None:
                raise ValueError(
                    f"{path}, line {number}: {line!r} is not a {name} entry (a "
                    "number, optionally followed by u, m or s)."
                )
            values.append(float(match.group(1)) * factors[match.group(2).lower()])
    if len(values) < count:
        raise ValueError(
            f"{path} lists {len(values)} values but the experiment holds {count} "
            f"records; every record needs its {name} entry."
        )
    return np.asarray(values[:count])


# Bruker lists: (file, axis name, unit factor of a plain number to us or None).
_BRUKER_LISTS = (
    ("vdlist", "delay", 1e6),
    ("vclist", "loop_count", 1.0),
    ("vplist", "pulse_length", 1.0),
)


def _bruker_layout(path, acqus, acqu2s, binary):
    """``(n_records, points_per_record_on_disk)`` after checking the file's size."""
    td = _integer(acqus.get("TD"))
    if not td or td <= 0:
        raise ValueError(f"{path}/acqus states no number of points TD; got {td!r}.")
    itemsize = 8 if acqus.get("DTYPA") == 2 else 4
    row_bytes = td * itemsize
    padded = -(-row_bytes // 1024) * 1024
    size = _file_size(binary)
    if binary.name == "fid":
        if size < row_bytes:
            raise ValueError(
                f"{binary} holds {size} bytes, but acqus states TD={td} points of "
                f"{itemsize} bytes ({row_bytes} bytes): the file is truncated or TD "
                "is wrong; refusing to read it short."
            )
        return 1, (padded if size >= padded else row_bytes) // itemsize
    rows = _integer((acqu2s or {}).get("TD")) or 0
    if rows <= 0:
        raise ValueError(f"{path}: a ser file but acqu2s states no TD (records).")
    for per_row in (padded, row_bytes):
        if size == rows * per_row:
            return rows, per_row // itemsize
    for per_row in (padded, row_bytes):
        if size % per_row == 0 and 0 < size // per_row < rows:
            warnings.warn(
                f"{binary} holds {size // per_row} of the {rows} records acqu2s "
                "states (the acquisition stopped early?); reading those.",
                UserWarning,
                stacklevel=5,
            )
            return size // per_row, per_row // itemsize
    raise ValueError(
        f"{binary} holds {size} bytes, which is not {rows} records (acqu2s TD) of "
        f"TD={td} points of {itemsize} bytes, padded to 1024 bytes ({rows * padded}) "
        f"or not ({rows * row_bytes}): truncated, or the parameters do not match."
    )


def read_bruker(path, *, tau_delay=None, digital_filter=True, axis_list=None):
    """Read a Bruker experiment folder (``fid`` or a 2-D ``ser``) as records.

    The dwell time is ``1 / SW_h`` for complex data (``AQ_mod`` 1 or 3) and
    ``1 / (2 SW_h)`` for real data; points past ``TD`` (the file's padding to
    1024 bytes) are dropped; the digital filter's group delay is removed by
    ``nmrglue.bruker.remove_digital_filter`` when ``acqus`` states a filter
    (``DECIM`` and ``DSPFVS``, unless ``DECIM`` is 1 or ``GRPDLY`` is 0, as
    older consoles and nmrglue's writer leave them). ``tau`` is the delay
    ``D[tau_delay]`` when ``tau_delay`` is given (a Bruker file does not say
    which delay is tau); every non-zero delay is listed in
    ``metadata["delays"]`` (us). ``dead_time`` is ``DE``. The records of a
    ``ser`` are labelled by ``vdlist`` (delays, us), ``vclist`` (counts) or
    ``vplist`` (pulse lengths, us), the first present (or ``axis_list``).
    """
    ng = _nmrglue("Bruker")
    path = Path(path)
    binary = path / ("fid" if (path / "fid").is_file() else "ser")
    acqus = _read("Bruker", path, ng.bruker.read_jcamp, str(path / "acqus"))
    acqu2s = None
    if (path / "acqu2s").is_file():
        acqu2s = _read("Bruker", path, ng.bruker.read_jcamp, str(path / "acqu2s"))
    sw = _positive(acqus.get("SW_h"))
    if sw is None:
        raise ValueError(
            f"{path}/acqus states no spectral width SW_h (Hz), so the dwell time "
            f"is unknown; got SW_h={acqus.get('SW_h')!r}."
        )
    n_rows, on_disk = _bruker_layout(path, acqus, acqu2s, binary)
    shape = (on_disk // 2,) if binary.name == "fid" else (n_rows, on_disk // 2)
    dic, data = _read(
        "Bruker",
        path,
        ng.bruker.read,
        str(path),
        bin_file=binary.name,
        shape=shape,
        cplex=True,
        read_pulseprogram=False,
    )
    complex_data = acqus.get("AQ_mod", 3) in (1, 3)
    dwell = 1e6 / sw if complex_data else 1e6 / (2 * sw)
    rows = np.atleast_2d(np.asarray(data))
    td = _integer(acqus.get("TD"))
    n_points = td // 2 if complex_data else td
    if 0 < n_points < rows.shape[-1]:
        rows = rows[:, :n_points]
    removed = False
    group_delay = _number(acqus.get("GRPDLY"))
    has_filter = "DECIM" in acqus and "DSPFVS" in acqus
    no_filter = _number(acqus.get("DECIM")) == 1 or group_delay == 0
    if digital_filter and has_filter and not no_filter:
        try:
            rows = np.atleast_2d(ng.bruker.remove_digital_filter(dic, rows))
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
    axis_name, axis_values = "record", None
    if rows.shape[0] > 1:
        lists = _BRUKER_LISTS
        if axis_list is not None:
            lists = [entry for entry in _BRUKER_LISTS if entry[0] == axis_list]
            if not lists or not (path / axis_list).is_file():
                raise ValueError(
                    f"axis_list must name a list file of {path} among "
                    f"{[entry[0] for entry in _BRUKER_LISTS]}; got {axis_list!r}."
                )
        for name, axis, factor in lists:
            if (path / name).is_file():
                axis_values = _list_values(path / name, name, rows.shape[0], factor)
                axis_name = axis
                metadata["axis_list"] = name
                break
    return uniform_records(rows, dwell, metadata, axis_name, axis_values)


# -- Varian / Agilent ----------------------------------------------------------
_VARIAN_HEADER = struct.Struct(">6i2hi")
# procpar parameters stated in us (pulse widths); other times are in s
_VARIAN_US = {"pw", "p1", "p2", "pw90", "rof1", "rof2", "alfa"}


def _procpar_value(procpar, name):
    entry = procpar.get(name)
    if not isinstance(entry, dict):
        return None
    values = entry.get("values") or []
    return values[0] if values else None


def _check_varian_header(path):
    fid = path / "fid"
    size = _file_size(fid)
    with open(fid, "rb") as handle:
        head = handle.read(_VARIAN_HEADER.size)
    if len(head) < _VARIAN_HEADER.size:
        raise ValueError(f"{fid} is too short to hold a Varian file header.")
    nblocks, ntraces, n_points, ebytes, tbytes, bbytes, _, _, nbheaders = (
        _VARIAN_HEADER.unpack(head)
    )
    if min(nblocks, ntraces, n_points, ebytes, tbytes, bbytes) <= 0 or ebytes not in (
        2,
        4,
    ):
        raise ValueError(
            f"{fid}: its header states nblocks={nblocks}, ntraces={ntraces}, "
            f"np={n_points}, ebytes={ebytes}: not a readable Varian/Agilent fid."
        )
    need = _VARIAN_HEADER.size + nblocks * (
        nbheaders * 28 + ntraces * n_points * ebytes
    )
    if tbytes != n_points * ebytes or size < need:
        raise ValueError(
            f"{fid} holds {size} bytes, but its header states nblocks={nblocks} "
            f"blocks of {ntraces} traces of np={n_points} values of {ebytes} bytes "
            f"({need} bytes): the file is truncated or its header is damaged."
        )


def _procpar_time(name, value):
    number = _number(value)
    if number is None:
        return None
    return number if name in _VARIAN_US else number * 1e6


def read_varian(path, *, tau_param=None):
    """Read a Varian/Agilent folder as records (one per block of an array).

    The dwell time is ``1 / sw``; ``tau`` is the procpar parameter
    ``tau_param`` if given, else ``tau``, else a non-zero ``d2`` (s, read in
    us); ``dead_time`` is ``rof2 + alfa`` (us) when stated. An arrayed
    experiment (procpar ``array``) labels its records by the arrayed
    parameter's values (delays in s are read in us).
    """
    ng = _nmrglue("Varian/Agilent")
    path = Path(path)
    _check_varian_header(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*cannot be shaped into")
        dic, data = _read("Varian/Agilent", path, ng.varian.read, str(path))
    procpar = dic.get("procpar") or {}
    sw = _positive(_procpar_value(procpar, "sw"))
    if sw is None:
        raise ValueError(
            f"{path}/procpar states no spectral width sw (Hz), so the dwell time is "
            "unknown."
        )
    dwell = 1e6 / sw
    data = np.asarray(data)
    if data.size == 0:
        raise ValueError(f"{path} holds no data points.")
    rows = data.reshape(-1, data.shape[-1])
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
    axis_name, axis_values = "record", None
    arrayed = _text(_procpar_value(procpar, "array"))
    if rows.shape[0] > 1 and arrayed:
        name = arrayed.split(",")[0].strip("() ")
        entry = procpar.get(name)
        values = entry.get("values") if isinstance(entry, dict) else None
        if not values:
            raise ValueError(
                f"{path}/procpar arrays {name!r} but states no values for it."
            )
        if len(values) < rows.shape[0]:
            raise ValueError(
                f"{path}/procpar lists {len(values)} values of the arrayed parameter "
                f"{name!r} but the fid holds {rows.shape[0]} records."
            )
        times = [_procpar_time(name, v) for v in values[: rows.shape[0]]]
        if any(t is None for t in times):
            raise ValueError(
                f"{path}/procpar: the arrayed parameter {name!r} is not numeric."
            )
        axis_name, axis_values = name, np.asarray(times)
    return uniform_records(rows, dwell, metadata, axis_name, axis_values)


# -- Tecmag ------------------------------------------------------------------
def read_tecmag(path, *, echo_time=None):
    """Read a Tecmag ``.tnt`` file as records.

    The dwell time is the header's ``dwell`` (s) of the first dimension (else
    ``1 / sw``). A .tnt header states neither tau nor the dead time (they
    live in the pulse sequence): both are None unless given. Traces of a 2-D
    acquisition are records; a trace of ``npts`` points acquired in windows
    of ``acq_points`` (one per echo of a train) is split into its windows,
    labelled by echo number (or ``echo_time`` times it, us, when given).
    """
    ng = _nmrglue("Tecmag")
    dic, data = _read("Tecmag .tnt", path, ng.tecmag.read, str(path))
    data = np.array(data)  # a copy: let go of nmrglue's memory map
    if data.size == 0:
        raise ValueError(f"{path} holds no data points.")
    # (points, traces...) in Fortran order: one trace per row, file order
    rows = data.reshape(data.shape[0], -1, order="F").T
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
    window = _integer(dic.get("acq_points")) or rows.shape[1]
    if 0 < window < rows.shape[1] and rows.shape[1] % window == 0:
        n_windows = rows.shape[1] // window
        rows = rows.reshape(-1, window)
        numbers = np.tile(np.arange(1, n_windows + 1, dtype=np.float64), len(rows))
        numbers = numbers[: len(rows)]
        metadata["acq_points"] = window
        if echo_time is not None:
            echo_time = _positive(echo_time)
            if echo_time is None:
                raise ValueError("echo_time must be a positive time (us).")
            metadata["echo_time"] = echo_time
        if window == 1:  # one point per echo: a decay, whose times are needed
            if echo_time is None:
                raise ValueError(
                    f"{path} holds an echo decay (one point per echo, acq_points=1) "
                    "whose echo time the header does not state; read it with "
                    "read_decay(path, echo_time=...) (us)."
                )
            times = echo_time * np.arange(1, rows.shape[0] + 1, dtype=np.float64)
            return Records(times[None, :], rows[:, 0][None, :], metadata, kind="decay")
        if echo_time is not None:
            return uniform_records(
                rows, dwell, metadata, "echo_time", numbers * echo_time
            )
        return uniform_records(rows, dwell, metadata, "echo", numbers)
    return uniform_records(rows, dwell, metadata)
