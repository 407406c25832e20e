"""JCAMP-DX files (``.dx``, ``.jdx``): time-domain traces, every record.

A file holds blocks (``##TITLE=`` ... ``##END=``), nested in a LINK block
when there are several (``##BLOCKS=``, each with its ``##BLOCK_ID=``). A
block's data are an ``##XYDATA=`` table, or ``##NTUPLES`` pages each with
one ``##DATA TABLE=`` (``(X++(R..R))`` then ``(X++(I..I))`` for a complex
FID; one such pair per value of the page variable, e.g. ``T1=...``, for the
records of an nD NMR FID). The structure is read here; the numbers of each
table (AFFN or the compressed ASDF forms) are decoded by nmrglue, whose own
``jcampdx.read`` returns only the first block and, of NTUPLES, only the
first real and imaginary pages.
"""

import re
import warnings

import numpy as np

from ._records import Records
from ._vendor import _nmrglue, _number, _positive, _text

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
# "(X++(Y..Y))", "(T2++(R..R))": the abscissa's and the ordinate's symbols
_TABLE = re.compile(r"\(\s*([^\s+()]+)\s*\+\+\s*\(\s*([^\s.()]+)\s*\.\.")


def _label(text):
    """A label as the standard compares them: upper case, no space - / _."""
    return re.sub(r"[\s\-/_]", "", text).upper()


class _Block:
    def __init__(self, parent):
        self.parent = parent
        self.ldrs = []  # (label, value) in file order
        self.children = []

    def get(self, *labels):
        """The first value of the first of ``labels`` stated here or above."""
        block = self
        while block is not None:
            for label in labels:
                for key, value in block.ldrs:
                    if key == label and value.strip():
                        return value.strip()
            block = block.parent
        return None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def _blocks(path):
    """The file's top-level blocks (``##TITLE=`` opens one, ``##END=`` closes)."""
    roots, stack, current = [], [], None
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            line = line.split("$$", 1)[0].rstrip()  # $$ starts a comment
            if line.lstrip().startswith("##"):
                label, _, value = line.lstrip()[2:].partition("=")
                label = _label(label)
                current = None
                if label == "TITLE":
                    block = _Block(stack[-1] if stack else None)
                    (stack[-1].children if stack else roots).append(block)
                    stack.append(block)
                elif label == "END":
                    if stack:
                        stack.pop()
                    continue
                if stack:
                    current = [label, value]
                    stack[-1].ldrs.append(current)
            elif current is not None and line.strip():
                current[1] += "\n" + line
    return roots


def _split(value):
    return [part.strip() for part in (value or "").split(",")]


def _column(value, symbols, symbol):
    """The entry of a per-variable list (``UNITS=``, ``FIRST=``) for ``symbol``."""
    values = _split(value)
    if symbol in symbols and symbols.index(symbol) < len(values):
        return values[symbols.index(symbol)] or None
    return None


def _decode(ng, table, path, where):
    """The numbers of one ``(X++(Y..Y))`` table, decoded by nmrglue."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = ng.jcampdx.getdataarray({"XYDATA": [table.strip()]})
        except (ValueError, IndexError, AttributeError, TypeError):
            values = None
    if values is None or np.ndim(values) != 1 or np.size(values) == 0:
        raise ValueError(f"{path}: the data table of {where} could not be decoded.")
    return np.asarray(values, dtype=np.float64)


class _Table:
    """One data table: its ordinate's symbol, abscissa, points, page value."""

    def __init__(self, symbol, imaginary, times, values, unit, page):
        self.symbol = symbol
        self.imaginary = imaginary
        self.times = times
        self.values = values
        self.unit = unit
        self.page = page  # (symbol, text) or None


def _times(first, last, n, unit, path, where):
    first, last = _number(first), _number(last)
    if first is None or last is None or (n > 1 and last <= first):
        raise ValueError(
            f"{path} states no increasing first and last x for {where}, so its "
            "times are unknown."
        )
    return np.linspace(first, last, n) * _X_UNITS[unit]


def _check_count(stated, n, path, where):
    stated = _number(stated)
    if stated is not None and int(stated) != n:
        raise ValueError(
            f"{path} states {int(stated)} points for {where} but holds {n} "
            "(truncated?)."
        )


def _unit(text):
    return (text or "").upper().replace(" ", "")


def _xydata_tables(ng, block, path, where):
    unit = _unit(block.get("XUNITS"))
    tables = []
    for label, value in block.ldrs:
        if label != "XYDATA":
            continue
        header = value.strip().split("\n", 1)[0]
        match = _TABLE.search(header)
        symbol = match.group(2).upper() if match else "Y"
        values = _decode(ng, value, path, where)
        factor = _number(block.get("YFACTOR"))
        values = values * (1.0 if factor is None else factor)
        times = None
        if unit in _X_UNITS:
            _check_count(block.get("NPOINTS"), values.size, path, where)
            times = _times(
                block.get("FIRSTX"), block.get("LASTX"), values.size, unit, path, where
            )
        tables.append(_Table(symbol, symbol == "I", times, values, unit, None))
    return tables


def _ntuples_tables(ng, block, path, where):
    head, pages, page = {}, [], None
    for label, value in block.ldrs:
        if label == "PAGE":
            page = {"PAGE": value.strip()}
            pages.append(page)
        elif page is None:
            head.setdefault(label, value)
        else:
            page.setdefault(label, value)
    symbols = [s.upper() for s in _split(head.get("SYMBOL"))]
    tables = []
    for number, page in enumerate(pages, start=1):
        if "DATATABLE" not in page:
            continue
        header = page["DATATABLE"].strip().split("\n", 1)[0]
        match = _TABLE.search(header)
        if match is None:
            raise ValueError(
                f"{path}: page {number} of {where} is a {header.split(',')[0]!r} "
                "table; only (X++(Y..Y)) tables of equally spaced points are read."
            )
        x_symbol, y_symbol = match.group(1).upper(), match.group(2).upper()

        def attribute(name, symbol, page=page):  # a page's own values first
            return _column(page.get(name, head.get(name)), symbols, symbol)

        unit = _unit(attribute("UNITS", x_symbol) or block.get("XUNITS"))
        values = _decode(ng, page["DATATABLE"], path, f"{where}, page {number}")
        factor = _number(attribute("FACTOR", y_symbol))
        values = values * (1.0 if factor is None else factor)
        times = None
        if unit in _X_UNITS:
            stated = page.get("NPOINTS") or attribute("VARDIM", y_symbol)
            _check_count(stated, values.size, path, f"{where}, page {number}")
            times = _times(
                attribute("FIRST", x_symbol),
                attribute("LAST", x_symbol),
                values.size,
                unit,
                path,
                f"{where}, page {number}",
            )
        name = (_column(head.get("VARNAME"), symbols, y_symbol) or "").upper()
        imaginary = y_symbol == "I" or "IMAG" in name
        variable, _, text = page["PAGE"].partition("=")
        page_value = (variable.strip().upper(), text.strip()) if text else None
        tables.append(_Table(y_symbol, imaginary, times, values, unit, page_value))
    # what the page variable is: an independent one (T1 of a 2-D FID) labels
    # the records; a page counter (N) only numbers the tables
    axis = None
    variables = {t.page[0] for t in tables if t.page is not None}
    if len(variables) == 1:
        variable = variables.pop()
        kind = _column(head.get("VARTYPE"), symbols, variable) or ""
        if kind.upper() == "INDEPENDENT":
            label = _column(head.get("VARNAME"), symbols, variable) or variable
            unit = _unit(_column(head.get("UNITS"), symbols, variable))
            axis = (re.sub(r"\W+", "_", label.lower()).strip("_"), unit)
    return tables, axis


def _pair(tables, path, where, axis):
    """Records of a block: the k-th real table with the k-th imaginary one."""
    real = [t for t in tables if not t.imaginary]
    imaginary = [t for t in tables if t.imaginary]
    if imaginary and len(imaginary) != len(real):
        raise ValueError(
            f"{path}: {where} holds {len(real)} real and {len(imaginary)} imaginary "
            "tables, which do not pair into complex records."
        )
    records = []
    for k, re_table in enumerate(real):
        signal = re_table.values.astype(np.complex128)
        if imaginary:
            im_table = imaginary[k]
            if im_table.values.size != re_table.values.size or (
                re_table.times is not None
                and not np.allclose(im_table.times, re_table.times)
            ):
                raise ValueError(
                    f"{path}: the real and imaginary tables of record {k} of {where} "
                    "do not share their times."
                )
            if axis is not None and im_table.page != re_table.page:
                raise ValueError(
                    f"{path}: record {k} of {where} pairs the real page "
                    f"{re_table.page[1]!r} with the imaginary page "
                    f"{im_table.page[1]!r}."
                )
            signal = signal + 1j * im_table.values
        value = None
        if axis is not None:
            value = _number(re_table.page[1])
            if value is None:
                raise ValueError(
                    f"{path}: page {re_table.page[0]}={re_table.page[1]!r} of {where} "
                    "is not a number."
                )
            value *= _X_UNITS.get(axis[1], 1.0)
        records.append((re_table, signal, value))
    return records


def read_jcampdx(path):
    """Read every time-domain record of a JCAMP-DX file.

    Each block (every block of a LINK file) with a time axis (``XUNITS``,
    or the ``UNITS`` of the table's abscissa, in seconds, milliseconds or
    microseconds) gives its records: ``##XYDATA`` (one, real, or a real and
    an imaginary table) or ``##NTUPLES`` pages, real and imaginary tables
    paired in order. Times come from ``FIRSTX``/``LASTX`` (``FIRST``/
    ``LAST`` of the abscissa, a page's own values first), amplitudes are
    scaled by ``YFACTOR`` (``FACTOR``). Records are labelled by the page
    variable when it is an independent one (``T1`` of an nD NMR FID,
    converted to us when it is a time), else by ``BLOCK_ID`` (axis
    ``"block"``) when each block holds one record, else by their index.
    Blocks of a spectrum (x in Hz or ppm) are left out; a file of nothing
    else is refused.
    """
    ng = _nmrglue("JCAMP-DX")
    try:
        roots = _blocks(path)
    except (OSError, UnicodeError) as exc:
        raise ValueError(
            f"{path} could not be read as JCAMP-DX: {type(exc).__name__}: {exc}"
        ) from None
    blocks = [b for root in roots for b in root.walk()]
    found, other_units = [], []
    for number, block in enumerate(blocks, start=1):
        where = f"block {number}"
        if block.get("BLOCKID") is not None:
            where = f"block {block.get('BLOCKID')}"
        labels = {label for label, _ in block.ldrs}
        ntuples = "DATATABLE" in labels
        if ntuples:
            tables, axis = _ntuples_tables(ng, block, path, where)
        elif "XYDATA" in labels:
            tables, axis = _xydata_tables(ng, block, path, where), None
        else:
            continue  # a LINK block, a structure, no data
        if not tables:
            continue
        if any(t.times is None for t in tables):
            other_units.append(tables[0].unit)
            continue
        found.append((block, _pair(tables, path, where, axis), axis))
    if not found:
        if other_units:
            unit = other_units[0]
            raise ValueError(
                f"{path}: x is in {unit or 'no stated unit'!r}; a time-domain trace "
                f"needs XUNITS in {sorted(set(_X_UNITS))} (a spectrum cannot be "
                "read as an echo)."
            )
        raise ValueError(f"{path} holds no JCAMP-DX data points.")
    records = [record for _, block_records, _ in found for record in block_records]
    sizes = sorted({signal.size for _, signal, _ in records})
    if len(sizes) > 1:
        raise ValueError(
            f"{path} holds records of {', '.join(map(str, sizes))} points; a series "
            "needs records of one length."
        )
    times = np.array([table.times for table, _, _ in records])
    signal = np.array([s for _, s, _ in records])
    steps = {round(float(t[1] - t[0]), 9) for t in times} if sizes[0] > 1 else set()
    first = found[0][0]
    metadata = {
        "dwell_time": float(times[0][1] - times[0][0]) if len(steps) == 1 else None,
        "tau": None,
        "dead_time": None,
        "spectrometer_frequency": _positive(
            (first.get(".OBSERVEFREQUENCY", "$SFO1") or "").split(",")[0]
        ),
        "n_scans": None,
        "nucleus": _text(first.get(".OBSERVENUCLEUS")),
        "title": _text(first.get("TITLE")),
        "data_type": _text(first.get("DATATYPE")),
    }
    axis_name, axis_values = "record", None
    axes = {axis for _, _, axis in found}
    if len(found) == 1 and found[0][2] is not None:
        axis_name = found[0][2][0]
        axis_values = np.array([value for _, _, value in records])
    elif len(found) > 1 and all(len(r) == 1 for _, r, _ in found):
        ids = [_number(block.get("BLOCKID")) for block, _, _ in found]
        if all(i is not None for i in ids) and len(set(ids)) == len(ids):
            axis_name, axis_values = "block", np.array(ids, dtype=np.float64)
    elif len(axes) == 1 and None not in axes:
        axis_name = next(iter(axes))[0]
        axis_values = np.array([value for _, _, value in records])
    if len(found) > 1:
        metadata["blocks"] = len(found)
    return Records(times, signal, metadata, axis_name, axis_values)
