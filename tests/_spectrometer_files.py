"""Spectrometer files for the tests, written to each vendor's layout.

Bruker and Varian/Agilent folders are written with nmrglue's own writers;
nmrglue has no Tecmag, Spinsolve or JCAMP-DX writer, so those are built here
with the layout its readers expect (``nmrglue.tecmag``'s dtypes; the
little-endian ``data.1d`` layout of ``nmrglue.spinsolve.read``; JCAMP-DX
``##XYDATA=(X++(Y..Y))`` and ``##NTUPLES`` pages, LINK files of several
blocks and the nD NMR FID of one real and one imaginary page per value of
the indirect time ``T1``, in AFFN or the squeezed ASDF form).
"""

import os
import struct

import nmrglue as ng
import numpy as np


def gaussian_echo(times, center, width=2.0, phase=0.0):
    return np.exp(-(((times - center) / width) ** 2)) * np.exp(1j * phase)


def write_bruker(folder, signal, dwell_us, *, acqus=None, isfloat=True, pad=True):
    """A Bruker experiment folder written by nmrglue (1-D fid or 2-D ser)."""
    signal = np.atleast_2d(signal)
    n_rows, n = signal.shape
    if pad:  # like the spectrometer: each trace padded to 1024 bytes
        per_block = 1024 // (8 if isfloat else 4) // 2
        size = -(-n // per_block) * per_block
        padded = np.zeros((n_rows, size), dtype=np.complex128)
        padded[:, :n] = signal
        signal = padded
    ndim = 1 if n_rows == 1 else 2
    udic = ng.fileiobase.create_blank_udic(ndim)
    udic[ndim - 1].update(size=signal.shape[1], complex=True)
    if ndim == 2:
        udic[0].update(size=n_rows, complex=False)
    dic = ng.bruker.create_dic(udic)
    dic["acqus"].update(
        {
            "SW_h": 1e6 / dwell_us,
            "TD": 2 * n,
            "DTYPA": 2 if isfloat else 0,
            "D": [0.0] * 32,
            "DE": 6.5,
            "NS": 16,
            "SFO1": 100.2,
            "NUC1": "1H",
            "PULPROG": "hahnecho",
        }
    )
    dic["acqus"].update(acqus or {})
    os.makedirs(folder, exist_ok=True)
    data = signal[0] if ndim == 1 else signal
    ng.bruker.write(str(folder), dic, data, write_prog=False, overwrite=True)
    return folder


def write_varian(folder, signal, dwell_us, **params):
    """A Varian/Agilent experiment folder written by nmrglue."""
    udic = ng.fileiobase.create_blank_udic(1)
    udic[0].update(size=len(signal), complex=True)
    dic = ng.varian.create_dic(udic)
    values = {"sw": repr(1e6 / dwell_us), "sfrq": "100.2", "nt": "16"}
    values.update({key: str(value) for key, value in params.items()})
    for name, value in values.items():
        dic["procpar"][name] = ng.varian.create_pdic_param(name, [value])
    os.makedirs(folder, exist_ok=True)
    ng.varian.write(str(folder), dic, np.asarray(signal, np.complex64), overwrite=True)
    return folder


def write_tnt(path, signal, dwell_us, *, scans=16, frequency=100.2, acq_points=None):
    """A minimal Tecmag .tnt file: magic, then TMAG, DATA and TMG2 sections.

    ``signal`` is one trace or several (rows); the layout is the one
    ``nmrglue.tecmag.read`` parses (tag, bool, length, then the payload).
    """
    traces = np.atleast_2d(np.asarray(signal, dtype=np.complex64))
    n_traces, n = traces.shape
    tmag = np.zeros((), dtype=ng.tecmag.TNTTMAG)
    tmag["npts"] = tmag["actual_npts"] = [n, n_traces, 1, 1]
    tmag["acq_points"] = n if acq_points is None else acq_points
    tmag["scans"] = tmag["actual_scans"] = scans
    tmag["dwell"][0] = dwell_us * 1e-6
    tmag["sw"][0] = 1e6 / dwell_us
    tmag["ob_freq"][0] = frequency
    tmag["nuclei"][0] = b"1H"
    tmag["sequence"] = b"hahn_echo"
    tmg2 = np.zeros((), dtype=ng.tecmag.TNTTMG2)

    def section(tag, payload):
        header = np.array((tag, 1, len(payload)), dtype=ng.tecmag.TNTTLV)
        return header.tobytes() + payload

    with open(path, "wb") as handle:
        handle.write(b"TNT1.005")
        handle.write(section(b"TMAG", tmag.tobytes()))
        handle.write(section(b"DATA", traces.astype("<c8").tobytes()))
        handle.write(section(b"TMG2", tmg2.tobytes()))
    return path


def write_spinsolve(folder, rows, dwell_us, *, axis="one", data_file=None, **params):
    """A Spinsolve folder: ``acqu.par`` and ``data.1d`` (one row) or ``data.2d``.

    ``axis`` writes the x axis before the points: ``"one"`` (as ``data.1d``
    does), ``"none"`` or ``"each"`` (one per row).
    """
    rows = np.atleast_2d(np.asarray(rows, dtype=np.complex128))
    n_rows, n = rows.shape
    os.makedirs(folder, exist_ok=True)
    values = {
        "bandwidth": 1e3 / dwell_us,
        "b1Freq": 43.5,
        "nrScans": 4,
        "rxChannel": '"1H"',
        "experiment": '"T2"',
    }
    values.update(params)
    with open(os.path.join(folder, "acqu.par"), "w") as handle:
        for key, value in values.items():
            handle.write(f"{key:<24}= {value}\n")
    data_file = data_file or ("data.1d" if n_rows == 1 else "data.2d")
    header = struct.pack("<8i", 0x4D524B54, 1, 1, 3, n, n_rows, 1, 1)
    x_axis = (np.arange(n) * dwell_us).astype("<f4")
    axes = {"none": [], "one": [x_axis], "each": [x_axis] * n_rows}[axis]
    points = np.empty(2 * rows.size, dtype="<f4")
    points[0::2] = rows.real.ravel()
    points[1::2] = rows.imag.ravel()
    with open(os.path.join(folder, data_file), "wb") as handle:
        handle.write(header)
        for a in axes:
            handle.write(a.tobytes())
        handle.write(points.tobytes())
    return folder


def write_jcampdx(path, times_s, signal, *, xunits="SECONDS", ntuples=None):
    """A JCAMP-DX FID: XYDATA (real) or NTUPLES pages (real, imaginary)."""
    signal = np.asarray(signal)
    n = signal.size
    if ntuples is None:
        ntuples = np.iscomplexobj(signal)
    first, last = float(times_s[0]), float(times_s[-1])
    lines = ["##TITLE= echo", "##JCAMP-DX= 5.01", "##DATA TYPE= NMR FID"]
    lines += ["##.OBSERVE FREQUENCY= 100.2", "##.OBSERVE NUCLEUS= ^1H"]
    step = (last - first) / (n - 1)
    if ntuples:
        lines += [
            "##DATA CLASS= NTUPLES",
            "##NTUPLES= NMR FID",
            "##VAR_NAME= TIME, FID/REAL, FID/IMAG, PAGE NUMBER",
            "##SYMBOL= X, R, I, N",
            "##VAR_TYPE= INDEPENDENT, DEPENDENT, DEPENDENT, PAGE",
            "##VAR_FORM= AFFN, AFFN, AFFN, AFFN",
            f"##VAR_DIM= {n}, {n}, {n}, 2",
            f"##UNITS= {xunits}, ARBITRARY UNITS, ARBITRARY UNITS, ",
            f"##FIRST= {first!r}, 0, 0, 1",
            f"##LAST= {last!r}, 0, 0, 2",
            "##FACTOR= 1, 1, 1, 1",
        ]
        for symbol, part in (("R", signal.real), ("I", signal.imag)):
            lines += [f"##PAGE= N={1 if symbol == 'R' else 2}"]
            lines += [f"##DATA TABLE= (X++({symbol}..{symbol})), XYDATA"]
            lines += [f"{k} {float(v)!r}" for k, v in enumerate(part)]
        lines += ["##END NTUPLES= NMR FID"]
    else:
        lines += [
            "##DATA CLASS= XYDATA",
            f"##XUNITS= {xunits}",
            "##YUNITS= ARBITRARY UNITS",
            f"##FIRSTX= {first!r}",
            f"##LASTX= {last!r}",
            f"##DELTAX= {step!r}",
            "##XFACTOR= 1",
            "##YFACTOR= 1",
            f"##NPOINTS= {n}",
            "##XYDATA= (X++(Y..Y))",
        ]
        lines += [
            f"{first + k * step!r} {float(v)!r}" for k, v in enumerate(signal.real)
        ]
    lines += ["##END="]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _jcampdx_header(title, data_type="NMR FID", block_id=None):
    lines = [f"##TITLE= {title}", "##JCAMP-DX= 5.01", f"##DATA TYPE= {data_type}"]
    if block_id is not None:
        lines.append(f"##BLOCK_ID= {block_id}")
    return lines + ["##.OBSERVE FREQUENCY= 100.2", "##.OBSERVE NUCLEUS= ^1H"]


def _squeezed(values):
    """Integers in the SQZ form of ASDF: the leading digit (and sign) as a letter."""
    out = []
    for v in values:
        digits = str(abs(int(v)))
        lead = "@ABCDEFGHI"[int(digits[0])] if v >= 0 else "@abcdefghi"[int(digits[0])]
        out.append(lead + digits[1:])
    return "".join(out)


def _ntuples_block(
    title, times_s, rows, *, page_values=None, form="AFFN", factor=1.0, block_id=None
):
    """An NTUPLES block: a real and an imaginary page per row.

    ``page_values`` None writes the 1-D layout (page counter ``N``); else a
    2-D FID whose pages are labelled by the indirect time ``T1`` (s).
    """
    rows = np.atleast_2d(rows)
    n = rows.shape[1]
    first, last = float(times_s[0]), float(times_s[-1])
    lines = _jcampdx_header(title, block_id=block_id) + ["##DATA CLASS= NTUPLES"]
    if page_values is None:
        x, name = "X", "NMR FID"
        lines += [
            f"##NTUPLES= {name}",
            "##VAR_NAME= TIME, FID/REAL, FID/IMAG, PAGE NUMBER",
            "##SYMBOL= X, R, I, N",
            "##VAR_TYPE= INDEPENDENT, DEPENDENT, DEPENDENT, PAGE",
            f"##VAR_FORM= AFFN, {form}, {form}, AFFN",
            f"##VAR_DIM= {n}, {n}, {n}, 2",
            "##UNITS= SECONDS, ARBITRARY UNITS, ARBITRARY UNITS, ",
            f"##FIRST= {first!r}, 0, 0, 1",
            f"##LAST= {last!r}, 0, 0, 2",
            f"##FACTOR= 1, {factor!r}, {factor!r}, 1",
        ]
    else:
        x, name = "T2", "nD NMR FID"
        lines += [
            "##NUM DIM= 2",
            f"##NTUPLES= {name}",
            "##VAR_NAME= TIME1, TIME2, FID/REAL, FID/IMAG",
            "##SYMBOL= T1, T2, R, I",
            "##VAR_TYPE= INDEPENDENT, INDEPENDENT, DEPENDENT, DEPENDENT",
            f"##VAR_FORM= AFFN, AFFN, {form}, {form}",
            f"##VAR_DIM= {len(rows)}, {n}, {n}, {n}",
            "##UNITS= SECONDS, SECONDS, ARBITRARY UNITS, ARBITRARY UNITS",
            f"##FIRST= {float(page_values[0])!r}, {first!r}, , ",
            f"##LAST= {float(page_values[-1])!r}, {last!r}, , ",
            f"##FACTOR= 1, 1, {factor!r}, {factor!r}",
        ]
    for k, row in enumerate(rows):
        for symbol, part in (("R", row.real), ("I", row.imag)):
            if page_values is None:
                lines.append(f"##PAGE= N={1 if symbol == 'R' else 2}")
            else:
                lines.append(f"##PAGE= T1={float(page_values[k])!r}")
            lines.append(f"##NPOINTS= {n}")
            lines.append(f"##DATA TABLE= ({x}++({symbol}..{symbol})), XYDATA")
            scaled = part / factor
            if form == "AFFN":
                lines += [f"{j} {float(v)!r}" for j, v in enumerate(scaled)]
            else:  # ten squeezed integers a line, each line led by its x index
                ints = np.rint(scaled).astype(int)
                lines += [f"{j} {_squeezed(ints[j : j + 10])}" for j in range(0, n, 10)]
    lines.append(f"##END NTUPLES= {name}")
    return lines + ["##END="]


def write_jcampdx_link(path, times_s, rows, *, block_ids=None, extra=None):
    """A LINK file of one NTUPLES FID block per row (``##BLOCK_ID`` 1, 2, ...).

    ``extra`` is a list of further blocks (their lines) put after them, e.g.
    a spectrum.
    """
    rows = np.atleast_2d(rows)
    ids = block_ids or list(range(1, len(rows) + 1))
    blocks = [
        _ntuples_block(f"record {i}", times_s, row, block_id=i)
        for i, row in zip(ids, rows, strict=True)
    ] + list(extra or [])
    lines = [
        "##TITLE= echo series",
        "##JCAMP-DX= 5.01",
        "##DATA TYPE= LINK",
        f"##BLOCKS= {len(blocks)}",
    ]
    for block in blocks:
        lines += block
    lines.append("##END=")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def jcampdx_spectrum_block(n, block_id):
    """The lines of a spectrum block (x in Hz), for a LINK file."""
    lines = _jcampdx_header("spectrum", "NMR SPECTRUM", block_id)
    lines += [
        "##XUNITS= HZ",
        "##YUNITS= ARBITRARY UNITS",
        "##FIRSTX= 1000.0",
        "##LASTX= 0.0",
        f"##NPOINTS= {n}",
        "##XYDATA= (X++(Y..Y))",
    ]
    lines += [f"{1000.0 - k * 1000.0 / (n - 1)!r} 1.0" for k in range(n)]
    return lines + ["##END="]


def write_jcampdx_2d(path, times_s, rows, page_values_s, *, form="AFFN", factor=1.0):
    """An nD NMR FID: a real and an imaginary page for each value of T1 (s)."""
    lines = _ntuples_block(
        "2-D echo series",
        times_s,
        rows,
        page_values=page_values_s,
        form=form,
        factor=factor,
    )
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
