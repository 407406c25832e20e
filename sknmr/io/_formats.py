"""read_echo and write_echo: the formats, guessed from the path, and their options."""

import contextlib
import errno
import functools
import inspect
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ._echo import METADATA_KEYS, MeasuredEcho, uniform_step
from ._jcampdx import read_jcampdx
from ._numpy import read_numpy, save_npy, save_npz
from ._records import single
from ._spinsolve import SPINSOLVE_DATA, read_spinsolve
from ._text import TIME_KEYS, format_text, parse_time, read_text
from ._vendor import read_bruker, read_tecmag, read_varian

__all__ = ["FORMATS", "guess_format", "read_echo", "read_records", "write_echo"]


def _one_record(reader):
    """A reader of one trace made to return :class:`Records`."""

    @functools.wraps(reader)
    def read(path, **options):
        return single(*reader(path, **options))

    return read


_READERS = {
    "text": _one_record(read_text),
    "numpy": _one_record(read_numpy),
    "bruker": read_bruker,
    "varian": read_varian,
    "tecmag": read_tecmag,
    "spinsolve": read_spinsolve,
    "jcampdx": read_jcampdx,
}
#: Formats :func:`read_echo` reads.
FORMATS = tuple(_READERS)
_SUFFIXES = {
    ".txt": "text",
    ".csv": "text",
    ".dat": "text",
    ".tsv": "text",
    ".npy": "numpy",
    ".npz": "numpy",
    ".tnt": "tecmag",
    ".dx": "jcampdx",
    ".jdx": "jcampdx",
}
_FOLDER_FORMATS = ("bruker", "varian", "spinsolve")
_WRITE_FORMATS = ("text", "numpy")
# Options every format takes (see read_echo).
_COMMON_OPTIONS = ("time_offset", "tau", "dead_time")
_FOLDER_FILES = ("fid", "ser", "acqus", "procpar", "acqu.par", *SPINSOLVE_DATA)


def _vendor_folder(path):
    """``(format, folder)`` if ``path`` is, or is a file of, a vendor folder."""
    folder = path if path.is_dir() else path.parent
    if path.is_file() and path.name not in _FOLDER_FILES:
        return None
    has = {name: (folder / name).is_file() for name in ("acqus", "procpar", "acqu.par")}
    data = {name: (folder / name).is_file() for name in ("fid", "ser")}
    if has["acqus"] and (data["fid"] or data["ser"]):
        return "bruker", folder
    if has["procpar"] and data["fid"]:
        return "varian", folder
    if has["acqu.par"] and any((folder / f).is_file() for f in SPINSOLVE_DATA):
        return "spinsolve", folder
    return None


def guess_format(path):
    """The format of ``path`` and the file or folder to read.

    Parameters
    ----------
    path : str or path-like
        A file, or a Bruker or Varian/Agilent experiment folder (or its
        ``fid``/``ser``/``acqus``/``procpar`` file).

    Returns
    -------
    format : str
        One of :data:`FORMATS`.
    location : pathlib.Path
        The file, or the experiment folder.

    Examples
    --------
    >>> from sknmr.io import guess_format
    >>> guess_format("run1/echo.csv")  # doctest: +SKIP
    ('text', PosixPath('run1/echo.csv'))
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such echo file or folder", str(path))
    vendor = _vendor_folder(path)
    if vendor is not None:
        return vendor
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise ValueError(
            f"{path} is a folder but neither a Bruker experiment (acqus with fid or "
            "ser), a Varian/Agilent one (procpar with fid) nor a Spinsolve one "
            "(acqu.par with data.1d or data.2d); it holds: "
            f"{shown or 'nothing'}."
        )
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix], path
    raise ValueError(
        f"Cannot tell the format of {path} from its name (suffix {suffix!r}). "
        f"Known: {', '.join(f'{s} ({f})' for s, f in _SUFFIXES.items())}, Bruker "
        "and Varian/Agilent folders; or pass format= one of "
        f"{', '.join(map(repr, FORMATS))}."
    )


def _location(path, format):
    """The file or folder to read for an explicitly named format."""
    if format not in _READERS:
        raise ValueError(
            f"format must be None or one of {', '.join(map(repr, FORMATS))}; got "
            f"{format!r}."
        )
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such echo file or folder", str(path))
    if format in _FOLDER_FORMATS:
        vendor = _vendor_folder(path)
        if vendor is None or vendor[0] != format:
            need = {
                "bruker": "acqus with fid or ser",
                "varian": "procpar and fid",
                "spinsolve": "acqu.par with data.1d or data.2d",
            }[format]
            raise ValueError(
                f"{path} is not a {format.capitalize()} experiment folder (it needs "
                f"{need})."
            )
        return vendor[1]
    if path.is_dir():
        raise ValueError(f"{path} is a folder; format={format!r} reads a file.")
    return path


def _reader_options(format):
    reader = _READERS[format]
    return [
        name
        for name, p in inspect.signature(reader).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def _time_option(name, value, minimum=None):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{name} must be a finite time (us){bound}; got {value!r}.")
    return number


def read_echo(path, format=None, **options):
    """Read a measured spin echo from a file or a spectrometer's folder.

    Parameters
    ----------
    path : str or path-like
        A text file (``.txt``, ``.csv``, ``.dat``, ``.tsv``), a NumPy file
        (``.npy``, ``.npz``), a Bruker experiment folder (``acqus`` and
        ``fid`` or ``ser``), a Varian/Agilent one (``procpar`` and ``fid``),
        a Spinsolve one (``acqu.par`` and ``data.1d``), a Tecmag ``.tnt``
        file or a JCAMP-DX ``.dx``/``.jdx`` file.
    format : {"text", "numpy", "bruker", "varian", "tecmag", "spinsolve", \
            "jcampdx"} or None, default=None
        None guesses it from the path (:func:`guess_format`).
    **options
        For every format: ``time_offset`` (us, added to the times, e.g. to
        count them from the first pulse rather than from the start of
        acquisition), ``tau`` and ``dead_time`` (us, set or override the
        metadata), ``record`` (or its older name ``row``: which record of a
        file of several to read). Per format:

        - text: ``time_unit`` ("us", "ms", "s" or "ns"; default "us"),
          ``delimiter`` (default: guessed, comma, tab or whitespace),
          ``columns`` (indices of the time, real [and imaginary] columns;
          default: 2 or 3 columns in that order); a signal column may hold
          complex numbers (``1.0+2.0j``);
        - numpy: ``dwell_time`` (required for a 1-D signal) and
          ``time_unit``;
        - bruker: ``tau_delay`` (which delay is tau: ``"D6"`` or 6),
          ``digital_filter`` (default True: remove the group delay when
          ``acqus`` states a filter), ``axis_list`` (``"vdlist"``,
          ``"vclist"`` or ``"vplist"``);
        - varian: ``tau_param`` (procpar name of tau);
        - tecmag, spinsolve: ``echo_time`` (us, labels echo windows);
        - jcampdx: none.

        Where the file states it, ``metadata["tau"]`` is the echo's time
        reference: Bruker ``D[tau_delay]``, Varian ``tau`` or ``d2``,
        Spinsolve half of ``echoTime``; ``dead_time`` is Bruker ``DE``,
        Varian ``rof2 + alfa``, Spinsolve ``acqDelay``.

    Returns
    -------
    echo : MeasuredEcho
        Times in us from the start of acquisition (plus ``time_offset``);
        metadata with :data:`METADATA_KEYS` (None where the file does not
        state them) and what else the file states.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        An unknown format, or a file that is empty, truncated, of another
        format, or whose content is wrong (columns, text among numbers,
        lengths, times not increasing, header sizes the file cannot hold);
        the message names the file. A file of several records (a Bruker
        ``ser``, arrayed Varian data, Tecmag echo windows, Spinsolve
        ``data.2d``) without ``record``: the message names
        :func:`read_series`. A file of one amplitude per echo: the message
        names :func:`read_decay`.
    ImportError
        A spectrometer format without nmrglue (``pip install "sknmr[io]"``).
    TypeError
        An option the format does not take.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknmr.io import read_echo
    >>> path = os.path.join(tempfile.mkdtemp(), "echo.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("# tau = 5 us\\ntime_ms,re,im\\n0,1,0\\n0.001,0.5,0.5\\n")
    >>> echo = read_echo(path, time_unit="ms")
    >>> echo.times, echo.signal
    (array([0., 1.]), array([1. +0.j , 0.5+0.5j]))
    >>> echo.metadata["tau"], echo.metadata["dwell_time"], echo.metadata["format"]
    (5.0, 1.0, 'text')
    """
    extra = ("record", "row")
    records = read_records(path, format, "read_echo", extra=extra, **options)
    picked = [options[key] for key in extra if options.get(key) is not None]
    if len(picked) == 2 and picked[0] != picked[1]:
        raise ValueError(f"record={picked[0]!r} and row={picked[1]!r} disagree.")
    n_records = records.signal.shape[0]
    if records.kind == "decay":
        raise ValueError(
            f"{path} holds an echo decay ({records.signal.shape[1]} echo amplitudes, "
            "one per echo), not a sampled echo; read it with read_decay."
        )
    if picked:
        record = picked[0]
        if isinstance(record, bool) or not isinstance(record, (int, np.integer)):
            raise TypeError(f"record must be an integer; got {record!r}.")
        if not -n_records <= record < n_records:
            raise ValueError(
                f"record={record} (row) is out of range: {path} holds {n_records} "
                "records."
            )
    elif n_records > 1:
        raise ValueError(
            f"{path} holds {n_records} records ({records.axis_name} "
            f"{_show(records.axis_values)}), not one echo: read them all with "
            "read_series, or pick one with read_echo(..., record=k)."
        )
    else:
        record = 0
    metadata = dict(records.metadata)
    if n_records > 1:
        metadata["record"] = int(record) % n_records
        metadata[records.axis_name] = float(records.axis_values[record])
    try:
        return MeasuredEcho(records.times[record], records.signal[record], metadata)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _show(values, limit=4):
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def read_records(path, format=None, caller="read_series", extra=(), **options):
    """All records of ``path`` with their metadata completed (a :class:`Records`).

    What :func:`read_echo`, :func:`read_series` and :func:`read_decay` share:
    the format, its options (``extra`` are the caller's own, not passed to
    the reader), the common options and the metadata every reader fills in.
    """
    path = Path(os.fspath(path))
    if format is None:
        format, location = guess_format(path)
    else:
        location = _location(path, format)
    allowed = _reader_options(format)
    unknown = sorted(set(options) - set(allowed) - set(_COMMON_OPTIONS) - set(extra))
    if unknown:
        raise TypeError(
            f"{caller} got option(s) {', '.join(map(repr, unknown))} that format "
            f"{format!r} does not take; its options are: "
            f"{', '.join(allowed + list(_COMMON_OPTIONS) + list(extra))}."
        )
    options = {key: value for key, value in options.items() if key not in extra}
    common = {key: options.pop(key) for key in _COMMON_OPTIONS if key in options}
    records = _READERS[format](location, **options)
    metadata = dict.fromkeys(METADATA_KEYS)
    metadata.update(records.metadata)
    metadata["format"] = format
    metadata["source"] = str(path)
    for key in TIME_KEYS:
        if metadata.get(key) is not None:
            metadata[key] = parse_time(metadata[key], f"{key!r}", where=path)
    times = records.times
    if "time_offset" in common:
        times = times + _time_option("time_offset", common["time_offset"])
    for key in ("tau", "dead_time"):
        if common.get(key) is not None:
            metadata[key] = _time_option(key, common[key], minimum=0)
    if metadata["dwell_time"] is None and records.kind == "echo":
        # shared by every record, or left to each echo's own spacing
        steps = [uniform_step(row) for row in times]
        if all(
            step is not None and math.isclose(step, steps[0], rel_tol=1e-9)
            for step in steps
        ):
            metadata["dwell_time"] = steps[0]
    axis_values = records.axis_values
    if axis_values is None:
        axis_values = np.arange(times.shape[0], dtype=np.float64)
    return records._replace(times=times, metadata=metadata, axis_values=axis_values)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path, write):
    """Write through ``write(handle)`` to a temporary file, then rename it."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "Cannot write the echo: no such folder", str(folder)
        )
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_echo(echo, path, format=None):
    """Write a measured echo as text or NumPy, atomically.

    The file is written beside ``path`` under a temporary name and renamed,
    so a reader never sees half a file. :func:`read_echo` reads it back
    with the same times, signal and scalar metadata (``format`` and
    ``source`` are set anew).

    Parameters
    ----------
    echo : MeasuredEcho
    path : str or path-like
        ``.txt``/``.dat`` (space-separated), ``.csv`` (comma), ``.tsv``
        (tab): text with ``# key = value`` metadata comments and columns
        ``time_us, real, imag``; ``.npz``: arrays ``times`` and ``signal``
        plus scalar metadata; ``.npy``: an ``(n, 3)`` table (time, real,
        imaginary) without metadata.
    format : {"text", "numpy"} or None, default=None
        None guesses it from the suffix of ``path``.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.io import MeasuredEcho, read_echo, write_echo
    >>> echo = MeasuredEcho([0.0, 0.5, 1.0], [1, 0.5j, 0], {"tau": 2.0})
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("echo.csv", "echo.npz"):
    ...     back = read_echo(write_echo(echo, os.path.join(folder, name)))
    ...     print(name, back.signal.tolist(), back.metadata["tau"])
    echo.csv [(1+0j), 0.5j, 0j] 2.0
    echo.npz [(1+0j), 0.5j, 0j] 2.0
    """
    if not isinstance(echo, MeasuredEcho):
        raise TypeError(f"write_echo writes a MeasuredEcho; got {type(echo).__name__}.")
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    if format is None:
        format = _SUFFIXES.get(suffix)
        if format not in _WRITE_FORMATS:
            raise ValueError(
                f"Cannot tell which format to write {path} in from its suffix "
                f"{suffix!r}; use .txt, .csv, .dat, .tsv, .npy or .npz, or pass "
                "format='text' or 'numpy'."
            )
    elif format not in _WRITE_FORMATS:
        raise ValueError(
            f"write_echo writes format 'text' or 'numpy'; got {format!r} "
            "(spectrometer formats are read only)."
        )
    if format == "text":
        delimiter = {".csv": ",", ".tsv": "\t", ".txt": " ", ".dat": " "}.get(
            suffix, ","
        )
        data = format_text(echo, delimiter).encode("utf-8")
        _atomic_write(path, lambda handle: handle.write(data))
    elif suffix == ".npy":
        _atomic_write(path, lambda handle: save_npy(echo, handle))
    else:
        _atomic_write(path, lambda handle: save_npz(echo, handle))
    return path
