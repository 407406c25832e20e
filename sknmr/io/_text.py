"""Echoes as text: a time column and one or two signal columns."""

import math
import re

import numpy as np

__all__ = [
    "TIME_KEYS",
    "TIME_UNITS",
    "format_text",
    "parse_time",
    "read_text",
    "time_factor",
]

#: Factor from each accepted time unit to us.
TIME_UNITS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
# Spellings of a unit in files: micro as "u", the micro sign or the Greek mu.
_UNIT_SPELLINGS = {"\u00b5s": "us", "\u03bcs": "us", "usec": "us", "sec": "s"}
#: Metadata keys that are times (us): a text value with a unit is converted.
TIME_KEYS = ("dwell_time", "tau", "dead_time", "echo_time")
_TIME_TEXT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")
_FREQUENCY_UNITS = {"hz": 1e-6, "khz": 1e-3, "mhz": 1.0}
_COMMENT = ("#", "%", ";")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][\w .-]*?)\s*[=:]\s*(.+?)\s*$")


def time_factor(time_unit, path=None):
    """The factor from ``time_unit`` to us; a clear error for an unknown unit."""
    if time_unit not in TIME_UNITS:
        where = f" for {path}" if path is not None else ""
        raise ValueError(
            f"time_unit{where} must be one of {sorted(TIME_UNITS)}; got {time_unit!r}."
        )
    return TIME_UNITS[time_unit]


def _unit(text):
    unit = text.strip().lower()
    return _UNIT_SPELLINGS.get(unit, unit)


def parse_time(value, name, where=None):
    """A time in us from a number or a text such as ``"100 us"`` or ``"1e-4 s"``.

    A plain number is in us. Units: ns, us (also µs), ms, s. Anything else is
    refused with a ValueError naming ``name`` (and the file, ``where``).
    """
    if isinstance(value, (bool, np.bool_)):
        number = math.nan
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, (str, bytes)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        match = _TIME_TEXT.match(text)
        unit = _unit(match.group(2)) if match else None
        if match and (unit in TIME_UNITS or unit == ""):
            number = float(match.group(1)) * TIME_UNITS.get(unit, 1.0)
        else:
            number = math.nan
    else:
        number = math.nan
    if not math.isfinite(number):
        place = f" in {where}" if where is not None else ""
        raise ValueError(
            f"{name}{place} must be a time: a number (us) or a number with a unit "
            f"among {sorted(TIME_UNITS)} (e.g. '100 us'); got {value!r}."
        )
    return number


def _metadata_value(text):
    """A comment's value: a number (times in us, frequencies in MHz) or text."""
    tokens = text.split()
    if not tokens:
        return text
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
        return stripped[1:-1]  # quoted: the text as written
    try:
        number = float(tokens[0])
    except ValueError:
        value = stripped.strip("'\"")
        return {"True": True, "False": False}.get(value, value)
    if len(tokens) == 1:
        if re.fullmatch(r"[-+]?\d+", tokens[0]):
            return int(tokens[0])
        return number
    unit = _unit(tokens[1]) if len(tokens) == 2 else None
    if unit in TIME_UNITS:
        return number * TIME_UNITS[unit]
    if unit in _FREQUENCY_UNITS:
        return number * _FREQUENCY_UNITS[unit]
    return text.strip()


def _decode(path):
    """The text of ``path``: UTF-8 (a BOM dropped), else Latin-1; not binary."""
    with open(path, "rb") as handle:
        raw = handle.read()
    control = sum(raw.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if b"\x00" in raw or control > 0.01 * len(raw):
        raise ValueError(
            f"{path} is not a text file (it holds binary data); is it another "
            f"format? Pass format= one of the formats read_echo knows."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # e.g. a 'µs' written by an older program


def _key(name):
    return re.sub(r"[\s.-]+", "_", name.strip().lower())


def _split(line, delimiter):
    if delimiter is None:
        return line.split()
    return [field.strip() for field in line.split(delimiter)]


def read_text(path, *, time_unit="us", delimiter=None, columns=None):
    """Read a text echo; returns ``(times_us, signal, metadata)``.

    Lines starting with ``#``, ``%`` or ``;`` are comments; a comment
    ``key = value [unit]`` (or ``key: value``) becomes metadata, times
    converted to us and frequencies to MHz. The first other line may be a
    header of column names. Columns: time and signal, or time, real and
    imaginary parts (or those picked by ``columns``).
    """
    factor = time_factor(time_unit, path)
    text = _decode(path)
    if columns is not None:
        try:
            columns = tuple(int(c) for c in columns)
        except (TypeError, ValueError):
            columns = ()
        if len(columns) not in (2, 3) or min(columns) < 0:
            raise ValueError(
                "columns must give 2 or 3 column indices (time, signal) or (time, "
                f"real, imaginary), counted from 0; got {columns!r}."
            )
    metadata = {}
    header = None
    rows = []
    first_line = None
    n_fields = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(_COMMENT):
            match = _KEY_VALUE.match(line.lstrip("#%;"))
            if match:
                metadata[_key(match.group(1))] = _metadata_value(match.group(2))
            continue
        if delimiter is None and first_line is None:
            delimiter = "," if "," in line else ("\t" if "\t" in line else None)
            if delimiter == "\t" and not all(f.strip() for f in line.split("\t")):
                delimiter = None
        fields = _split(line, delimiter)
        values = _numbers(fields)
        if values is None:
            if first_line is None and header is None:
                header = [f.strip().strip("'\"") for f in fields]
                n_fields = len(fields)
                continue
            bad = next(f for f in fields if not _is_number(f))
            raise ValueError(
                f"{path}, line {number}: {bad!r} is not a number (line: {line[:60]!r})."
            )
        if first_line is None:
            first_line = number
            if n_fields is not None and len(values) != n_fields:
                raise ValueError(
                    f"{path}, line {number}: {len(values)} columns, but the header "
                    f"line names {n_fields}: {header}."
                )
            n_fields = len(values)
            _check_columns(path, n_fields, columns)
        elif len(values) != n_fields:
            raise ValueError(
                f"{path}, line {number}: {len(values)} columns, but line "
                f"{first_line} has {n_fields}; is the file truncated or are two "
                "tables concatenated?"
            )
        rows.append(values)
    if not rows:
        what = "is empty" if not text.strip() else "holds no rows of numbers"
        raise ValueError(f"{path} {what}: expected a time column and signal columns.")
    table = np.asarray(rows, dtype=np.complex128)
    picked = columns if columns is not None else tuple(range(n_fields))
    if np.any(table[:, picked[0]].imag != 0):
        raise ValueError(f"{path}: the time column holds complex numbers.")
    times = table[:, picked[0]].real * factor
    signal = table[:, picked[1]]
    if len(picked) == 3:
        if np.any(table[:, picked[1:]].imag != 0):
            raise ValueError(
                f"{path}: with real and imaginary columns, neither may hold complex "
                "numbers."
            )
        signal = signal.real + 1j * table[:, picked[2]].real
    if header is not None:
        metadata["columns"] = [header[i] for i in picked if i < len(header)]
    return times, signal, metadata


def _number(field):
    """``field`` as a float, or a complex such as ``1.0+2.0j`` (or ``i``)."""
    try:
        return float(field)
    except ValueError:
        pass
    text = field.strip().replace(" ", "")
    if text.endswith("i"):
        text = text[:-1] + "j"
    if "j" not in text or "nan" in text.lower() or "inf" in text.lower():
        raise ValueError(field)
    return complex(text.strip("()"))


def _numbers(fields):
    try:
        return [_number(field) for field in fields]
    except ValueError:
        return None


def _is_number(field):
    return _numbers([field]) is not None


def _check_columns(path, n_fields, columns):
    if columns is None:
        if n_fields not in (2, 3):
            raise ValueError(
                f"{path} has {n_fields} column(s); expected 2 (time, signal) or 3 "
                "(time, real, imaginary). Pick them with columns=(t, re, im)."
            )
    elif max(columns) >= n_fields:
        raise ValueError(
            f"columns={columns} picks column {max(columns)}, but {path} has only "
            f"{n_fields} (counted from 0)."
        )


def _format_value(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return '"' + str(value) + '"'  # quoted: read back as the same text


def format_text(echo, delimiter=","):
    """The text of ``echo``: metadata comments, a header and one row per sample."""
    lines = ["# sknmr measured echo; times in us"]
    for key, value in echo.metadata.items():
        if key in ("format", "source") or value is None:
            continue
        if isinstance(value, (str, bool, int, float, np.integer, np.floating)):
            text = _format_value(value)
            if "\n" in text or (isinstance(value, float) and not math.isfinite(value)):
                continue
            lines.append(f"# {key} = {text}")
    lines.append(delimiter.join(["time_us", "real", "imag"]))
    for t, s in zip(echo.times, echo.signal, strict=True):
        lines.append(delimiter.join(repr(float(v)) for v in (t, s.real, s.imag)))
    return "\n".join(lines) + "\n"
