"""Spectrometer files for the tests, written to each vendor's layout.

Bruker and Varian/Agilent folders are written with nmrglue's own writers;
nmrglue has no Tecmag, Spinsolve or JCAMP-DX writer, so those are built here
with the layout its readers expect (``nmrglue.tecmag``'s dtypes; the
little-endian ``data.1d`` layout of ``nmrglue.spinsolve.read``; JCAMP-DX
``##XYDATA=(X++(Y..Y))`` and ``##NTUPLES`` pages).
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
