"""read_echo and write_echo: the formats, guessed from the path, and their options."""

import contextlib
import errno
import inspect
import math
import os
import tempfile
from pathlib import Path

from ._echo import METADATA_KEYS, MeasuredEcho, uniform_step
from ._numpy import read_numpy, save_npy, save_npz
from ._text import format_text, read_text
from ._vendor import read_bruker, read_tecmag, read_varian

__all__ = ["FORMATS", "guess_format", "read_echo", "write_echo"]

_READERS = {
    "text": read_text,
    "numpy": read_numpy,
    "bruker": read_bruker,
    "varian": read_varian,
    "tecmag": read_tecmag,
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
}
_WRITE_FORMATS = ("text", "numpy")
# Options every format takes (see read_echo).
_COMMON_OPTIONS = ("time_offset", "tau", "dead_time")


def _vendor_folder(path):
    """``(format, folder)`` if ``path`` is, or is a file of, a vendor folder."""
    folder = path if path.is_dir() else path.parent
    if path.is_file() and path.name not in ("fid", "ser", "acqus", "procpar"):
        return None
    has = {name: (folder / name).is_file() for name in ("acqus", "procpar")}
    data = {name: (folder / name).is_file() for name in ("fid", "ser")}
    if has["acqus"] and (data["fid"] or data["ser"]):
        return "bruker", folder
    if has["procpar"] and data["fid"]:
        return "varian", folder
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
            "ser) nor a Varian/Agilent one (procpar with fid); it holds: "
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
    if format in ("bruker", "varian"):
        vendor = _vendor_folder(path)
        if vendor is None or vendor[0] != format:
            need = "acqus with fid or ser" if format == "bruker" else "procpar and fid"
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
        or a Tecmag ``.tnt`` file.
    format : {"text", "numpy", "bruker", "varian", "tecmag"} or None, \
            default=None
        None guesses it from the path (:func:`guess_format`).
    **options
        For every format: ``time_offset`` (us, added to the times, e.g. to
        count them from the first pulse rather than from the start of
        acquisition), ``tau`` and ``dead_time`` (us, set or override the
        metadata). Per format:

        - text: ``time_unit`` ("us", "ms", "s" or "ns"; default "us"),
          ``delimiter`` (default: guessed, comma, tab or whitespace),
          ``columns`` (indices of the time, real [and imaginary] columns;
          default: 2 or 3 columns in that order);
        - numpy: ``dwell_time`` (required for a 1-D signal) and
          ``time_unit``;
        - bruker: ``tau_delay`` (which delay is tau: ``"D6"`` or 6),
          ``digital_filter`` (default True: remove the group delay),
          ``row`` (the trace of a 2-D ``ser``);
        - varian: ``tau_param`` (procpar name of tau), ``row``;
        - tecmag: ``row``.

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
        lengths, times not increasing); the message names the file.
    ImportError
        A spectrometer format without nmrglue (``pip install "sknmr[io]"``).
    TypeError
        An option the format does not take.

    Warns
    -----
    UserWarning
        A 2-D acquisition (Bruker ``ser``, arrayed Varian or Tecmag data)
        when ``row`` is not given: the first trace is read.

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
    path = Path(os.fspath(path))
    if format is None:
        format, location = guess_format(path)
    else:
        location = _location(path, format)
    allowed = _reader_options(format)
    unknown = sorted(set(options) - set(allowed) - set(_COMMON_OPTIONS))
    if unknown:
        raise TypeError(
            f"read_echo got option(s) {', '.join(map(repr, unknown))} that format "
            f"{format!r} does not take; its options are: "
            f"{', '.join(allowed + list(_COMMON_OPTIONS))}."
        )
    common = {key: options.pop(key) for key in _COMMON_OPTIONS if key in options}
    times, signal, stated = _READERS[format](location, **options)
    metadata = dict.fromkeys(METADATA_KEYS)
    metadata.update(stated)
    metadata["format"] = format
    metadata["source"] = str(path)
    if "time_offset" in common:
        times = times + _time_option("time_offset", common["time_offset"])
    for key in ("tau", "dead_time"):
        if common.get(key) is not None:
            metadata[key] = _time_option(key, common[key], minimum=0)
    if metadata["dwell_time"] is None:
        metadata["dwell_time"] = uniform_step(times)
    try:
        return MeasuredEcho(times, signal, metadata)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


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
