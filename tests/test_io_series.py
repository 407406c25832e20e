"""read_series, MeasuredSeries, read_decay and EchoDecay on real-layout files.

Bruker and Varian/Agilent files come from nmrglue's writers; Tecmag,
Spinsolve and JCAMP-DX files are written to their documented layouts
(``_spectrometer_files``).
"""

import os
import pickle
import sys

import numpy as np
import pytest

from sknmr.io import (
    EchoDecay,
    MeasuredEcho,
    MeasuredSeries,
    read_decay,
    read_echo,
    read_series,
)

ng = pytest.importorskip("nmrglue")
sys.path.insert(0, os.path.dirname(__file__))
from _spectrometer_files import (  # noqa: E402
    gaussian_echo,
    jcampdx_spectrum_block,
    write_bruker,
    write_jcampdx,
    write_jcampdx_2d,
    write_jcampdx_link,
    write_spinsolve,
    write_tnt,
)


def _windows(n_records, n, dwell, decay=None):
    t = np.arange(n) * dwell
    heights = np.ones(n_records) if decay is None else decay
    return np.array([h * gaussian_echo(t, t[n // 2], phase=0.4) for h in heights])


def _write_varian_arrayed(folder, rows, dwell_us, name, values):
    rows = np.asarray(rows, np.complex64)
    udic = ng.fileiobase.create_blank_udic(2)
    udic[1].update(size=rows.shape[1], complex=True)
    udic[0].update(size=rows.shape[0], complex=False)
    dic = ng.varian.create_dic(udic)
    params = {"sw": [repr(1e6 / dwell_us)], "sfrq": ["100.2"], "array": [name]}
    params[name] = [repr(v) for v in values]
    for key, value in params.items():
        dic["procpar"][key] = ng.varian.create_pdic_param(key, value)
    os.makedirs(folder, exist_ok=True)
    ng.varian.write(str(folder), dic, rows, overwrite=True)
    return folder


# -- Bruker -------------------------------------------------------------------
@pytest.mark.parametrize("pad", [True, False])
def test_bruker_ser_with_a_vdlist(tmp_path, pad):
    # 50 int32 pairs: rows are not 1024-byte blocks (nmrglue alone cannot shape them)
    rows = 1e4 * _windows(4, 50, 0.5)
    folder = write_bruker(tmp_path / "vd", rows, 0.5, pad=pad, isfloat=False)
    (folder / "vdlist").write_text("10u\n0.02m\n3e-5\n40u\n")
    series = read_series(folder)
    assert len(series) == 4 and series.signal.shape == (4, 50)
    assert series.axis_name == "delay" and series.metadata["axis_list"] == "vdlist"
    np.testing.assert_allclose(series.axis_values, [10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(series.times[2], np.arange(50) * 0.5)
    assert series.metadata["dwell_time"] == pytest.approx(0.5)
    np.testing.assert_allclose(series.signal, rows, atol=1.0)  # int32 on disk
    echo = series[3]
    assert isinstance(echo, MeasuredEcho) and echo.metadata["delay"] == 40.0
    # Hahn echoes at each delay: the echo time is twice the delay
    decay = EchoDecay.from_series(series)
    np.testing.assert_allclose(decay.times, [20.0, 40.0, 60.0, 80.0])


def test_bruker_lists_shorter_than_the_records_are_refused(tmp_path):
    folder = write_bruker(tmp_path / "vd", _windows(3, 64, 1.0), 1.0, pad=False)
    (folder / "vdlist").write_text("1m\n2m\n")
    with pytest.raises(ValueError, match="vdlist lists 2 values.*3 records"):
        read_series(folder)
    (folder / "vdlist").unlink()
    (folder / "vclist").write_text("1\n2\n4\n")
    series = read_series(folder)
    assert series.axis_name == "loop_count"
    np.testing.assert_allclose(series.axis_values, [1, 2, 4])
    with pytest.raises(ValueError, match="axis_list"):
        read_series(folder, axis_list="vplist")


def test_bruker_ser_of_a_size_no_layout_fits(tmp_path):
    folder = write_bruker(tmp_path / "odd", _windows(3, 64, 1.0), 1.0, pad=False)
    ser = folder / "ser"
    ser.write_bytes(ser.read_bytes() + b"\0" * 100)
    with pytest.raises(ValueError, match="ser holds .* bytes, which is not 3 records"):
        read_series(folder)


def test_bruker_ser_digital_filter_is_removed_from_every_record(tmp_path):
    n, delay = 256, 20
    true = np.vstack(
        [gaussian_echo(np.arange(n, dtype=float), c, width=6.0) for c in (60.0, 80.0)]
    )
    raw = np.zeros_like(true)
    raw[:, delay:] = true[:, :-delay]
    acqus = {"DECIM": 16, "DSPFVS": 20, "GRPDLY": float(delay)}
    series = read_series(write_bruker(tmp_path / "f", raw, 1.0, acqus=acqus))
    assert series.metadata["digital_filter_removed"] is True
    assert np.argmax(np.abs(series.signal), axis=1).tolist() == [60, 80]


# -- Varian / Agilent ------------------------------------------------------------
def test_varian_arrayed_tau(tmp_path):
    rows = _windows(3, 32, 0.25)
    folder = _write_varian_arrayed(
        tmp_path / "t.fid", rows, 0.25, "tau", [1e-5, 2e-5, 4e-5]
    )
    series = read_series(folder)
    assert len(series) == 3 and series.signal.shape == (3, 32)
    assert series.axis_name == "tau"
    np.testing.assert_allclose(series.axis_values, [10.0, 20.0, 40.0])
    assert series.metadata["dwell_time"] == pytest.approx(0.25)
    np.testing.assert_allclose(series.signal, rows, atol=1e-6)
    with pytest.raises(ValueError, match="3 records.*read_series"):
        read_echo(folder)


def test_varian_array_values_shorter_than_the_records(tmp_path):
    folder = _write_varian_arrayed(
        tmp_path / "s.fid", _windows(3, 16, 1.0), 1.0, "d2", [1e-5, 2e-5]
    )
    with pytest.raises(ValueError, match="2 values of the arrayed parameter 'd2'"):
        read_series(folder)


# -- Tecmag ------------------------------------------------------------------------
def test_tecmag_echo_windows(tmp_path):
    windows = _windows(5, 16, 0.2, decay=np.exp(-np.arange(1, 6) / 3))
    path = write_tnt(tmp_path / "cpmg.tnt", windows.reshape(1, -1), 0.2, acq_points=16)
    series = read_series(path)
    assert len(series) == 5 and series.signal.shape == (5, 16)
    assert series.axis_name == "echo"
    np.testing.assert_allclose(series.axis_values, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(series.times[4], np.arange(16) * 0.2, rtol=1e-6)
    np.testing.assert_allclose(series.signal, windows, atol=1e-6)
    timed = read_series(path, echo_time=100.0)
    assert timed.axis_name == "echo_time"
    np.testing.assert_allclose(timed.axis_values, [100, 200, 300, 400, 500])
    decay = read_decay(path, echo_time=100.0)
    np.testing.assert_allclose(decay.times, [100, 200, 300, 400, 500])
    np.testing.assert_allclose(
        decay.amplitudes.real, np.exp(-np.arange(1, 6) / 3), rtol=1e-5
    )
    with pytest.raises(ValueError, match="5 records.*read_series"):
        read_echo(path)


def test_tecmag_one_point_per_echo_is_a_decay(tmp_path):
    amplitudes = np.exp(-np.arange(1, 9) / 4.0)
    path = write_tnt(tmp_path / "t2.tnt", amplitudes[None, :], 1.0, acq_points=1)
    with pytest.raises(ValueError, match="echo decay.*read_decay"):
        read_echo(path)
    decay = read_decay(path, echo_time=50.0)
    assert len(decay) == 8
    np.testing.assert_allclose(decay.times, 50.0 * np.arange(1, 9))


def test_tecmag_two_dimensional_and_axis_override(tmp_path):
    rows = _windows(3, 16, 1.0)
    path = write_tnt(tmp_path / "two.tnt", rows, 1.0)
    series = read_series(path)
    assert series.axis_name == "record" and len(series) == 3
    override = read_series(path, axis_name="delay", axis_values=[5.0, 10.0, 20.0])
    assert override.axis_name == "delay" and override[2].metadata["delay"] == 20.0
    with pytest.raises(ValueError, match="one value per record"):
        read_series(path, axis_values=[1.0])


# -- Spinsolve ---------------------------------------------------------------
@pytest.mark.parametrize("axis", ["none", "one", "each"])
def test_spinsolve_data_2d(tmp_path, axis):
    heights = np.exp(-np.arange(1, 7) * 400.0 / 1500.0)
    rows = _windows(6, 20, 2.0, decay=heights)
    folder = write_spinsolve(
        tmp_path / axis, rows, 2.0, axis=axis, echoTime=400, nrEchoes=6
    )
    series = read_series(folder)
    assert len(series) == 6 and series.signal.shape == (6, 20)
    assert series.metadata["format"] == "spinsolve"
    assert series.metadata["dwell_time"] == pytest.approx(2.0)
    assert series.metadata["tau"] == 200.0 and series.metadata["echo_time"] == 400.0
    assert series.axis_name == "echo_time"
    np.testing.assert_allclose(series.axis_values, 400.0 * np.arange(1, 7))
    np.testing.assert_allclose(series.signal, rows, atol=1e-6)
    decay = read_decay(folder, method="integral")
    ratio = decay.amplitudes.real / heights
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)


def test_spinsolve_t2_one_point_per_echo(tmp_path):
    amplitudes = 3.0 * np.exp(-np.arange(1, 33) * 200.0 / 2000.0) * np.exp(0.7j)
    folder = write_spinsolve(
        tmp_path / "t2", amplitudes, 100.0, echoTime=200, nrEchoes=32, dwellTime=100
    )
    decay = read_decay(folder)
    assert len(decay) == 32 and decay.metadata["format"] == "spinsolve"
    np.testing.assert_allclose(decay.times, 200.0 * np.arange(1, 33))
    np.testing.assert_allclose(decay.amplitudes, amplitudes, rtol=1e-6)
    np.testing.assert_allclose(decay.phased(), np.abs(amplitudes), rtol=1e-6)
    with pytest.raises(ValueError, match="echo decay.*read_decay"):
        read_echo(folder)
    with pytest.raises(ValueError, match="echo decay.*read_decay"):
        read_series(folder)


def test_spinsolve_windows_in_data_1d_and_a_truncated_file(tmp_path):
    rows = _windows(4, 10, 1.0)
    folder = write_spinsolve(
        tmp_path / "w", rows.reshape(1, -1), 1.0, echoTime=100, nrEchoes=4
    )
    series = read_series(folder)
    assert series.signal.shape == (4, 10)
    np.testing.assert_allclose(series.axis_values, [100, 200, 300, 400])
    data = folder / "data.1d"
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(ValueError, match="data.1d states 40 .* points.*truncated"):
        read_series(folder)


def test_spinsolve_without_a_dwell_time(tmp_path):
    folder = write_spinsolve(tmp_path / "x", np.ones(8), 1.0)
    par = folder / "acqu.par"
    par.write_text(par.read_text().replace("bandwidth", "other"))
    with pytest.raises(ValueError, match="dwellTime.*bandwidth"):
        read_echo(folder)


# -- JCAMP-DX ---------------------------------------------------------------
@pytest.mark.parametrize("ntuples", [False, True])
def test_jcampdx_echo_and_series(tmp_path, ntuples):
    t = np.arange(40) * 0.5
    signal = gaussian_echo(t, 10.0, phase=0.5)
    if not ntuples:
        signal = signal.real
    path = write_jcampdx(tmp_path / "echo.jdx", t * 1e-6, signal, ntuples=ntuples)
    echo = read_echo(path)
    np.testing.assert_allclose(echo.times, t, atol=1e-9)
    np.testing.assert_allclose(echo.signal, signal)
    assert echo.metadata["format"] == "jcampdx"
    assert echo.metadata["dwell_time"] == pytest.approx(0.5)
    series = read_series(path)
    assert len(series) == 1 and series.signal.shape == (1, 40)


@pytest.mark.parametrize("with_spectrum", [False, True])
def test_jcampdx_link_file_gives_every_block(tmp_path, with_spectrum):
    t = np.arange(30) * 0.5
    rows = _windows(3, 30, 0.5, decay=[1.0, 0.7, 0.4])
    # nmrglue's read returns one block (a spectrum before any FID); all FIDs here
    extra = [jcampdx_spectrum_block(16, 10)] if with_spectrum else None
    path = write_jcampdx_link(
        tmp_path / "link.dx", t * 1e-6, rows, block_ids=[3, 5, 9], extra=extra
    )
    series = read_series(path)
    assert len(series) == 3 and series.signal.shape == (3, 30)
    assert series.axis_name == "block" and series.axis_values.tolist() == [3, 5, 9]
    assert series.metadata["dwell_time"] == pytest.approx(0.5)
    assert series.metadata["blocks"] == 3
    np.testing.assert_allclose(series.times, np.tile(t, (3, 1)), atol=1e-9)
    np.testing.assert_allclose(series.signal, rows)
    with pytest.raises(ValueError, match=r"3 records \(block 3, 5, 9\).*read_series"):
        read_echo(path)
    echo = read_echo(path, record=1)
    assert echo.metadata["block"] == 5.0 and echo.dwell_time == pytest.approx(0.5)
    np.testing.assert_allclose(echo.signal, rows[1])


@pytest.mark.parametrize("form, factor", [("AFFN", 1.0), ("SQZ", 0.5)])
def test_jcampdx_2d_fid_gives_a_record_per_t1(tmp_path, form, factor):
    t = np.arange(25) * 0.4
    rows = 1e3 * _windows(4, 25, 0.4, decay=[1.0, 0.8, 0.6, 0.4])
    t1 = np.array([0.0, 1e-4, 2e-4, 4e-4])  # s
    path = write_jcampdx_2d(
        tmp_path / "ser.jdx", t * 1e-6, rows, t1, form=form, factor=factor
    )
    series = read_series(path)
    assert series.signal.shape == (4, 25)
    assert series.axis_name == "time1"
    np.testing.assert_allclose(series.axis_values, [0.0, 100.0, 200.0, 400.0])
    assert series.metadata["dwell_time"] == pytest.approx(0.4)
    np.testing.assert_allclose(series.times[3], t, atol=1e-9)
    if form == "AFFN":
        expected = rows
    else:  # the squeezed form holds integers times FACTOR
        expected = factor * (
            np.rint(rows.real / factor) + 1j * np.rint(rows.imag / factor)
        )
    np.testing.assert_allclose(series.signal, expected)
    with pytest.raises(ValueError, match="4 records.*time1.*read_series"):
        read_echo(path)
    assert read_echo(path, record=-1).metadata["time1"] == pytest.approx(400.0)


def test_jcampdx_records_that_do_not_fit(tmp_path):
    t = np.arange(20) * 0.5
    rows = _windows(2, 20, 0.5)
    path = write_jcampdx_2d(tmp_path / "a.jdx", t * 1e-6, rows, [0.0, 1e-4])
    text = path.read_text()
    # the imaginary page of the second record labelled by another T1
    pages = text.split("##PAGE= T1=0.0001\n")
    assert len(pages) == 3
    bad = tmp_path / "b.jdx"
    bad.write_text(
        pages[0] + "##PAGE= T1=0.0001\n" + pages[1] + "##PAGE= T1=0.0002\n" + pages[2]
    )
    with pytest.raises(ValueError, match="pairs the real page '0.0001'.*'0.0002'"):
        read_series(bad)
    # an imaginary page left out
    cut = text[: text.rindex("##PAGE=")] + "##END NTUPLES= nD NMR FID\n##END=\n"
    (tmp_path / "c.jdx").write_text(cut)
    with pytest.raises(ValueError, match="2 real and 1 imaginary"):
        read_series(tmp_path / "c.jdx")
    # blocks of different lengths
    long = write_jcampdx_link(tmp_path / "d.dx", t * 1e-6, rows)
    short = write_jcampdx_link(tmp_path / "e.dx", t[:10] * 1e-6, rows[:, :10])
    blocks = (
        long.read_text().rsplit("##END=", 1)[0]
        + short.read_text().split("##BLOCKS= 2\n", 1)[1]
    )
    (tmp_path / "f.dx").write_text(blocks)
    with pytest.raises(ValueError, match="records of 10, 20 points"):
        read_series(tmp_path / "f.dx")


def test_jcampdx_xydata_real_and_imaginary_tables(tmp_path):
    t = np.arange(12) * 0.5
    signal = gaussian_echo(t, 3.0, phase=0.9)
    lines = ["##TITLE= fid", "##JCAMP-DX= 4.24", "##DATA TYPE= NMR FID"]
    lines += ["##XUNITS= MICROSECONDS", "##FIRSTX= 0", "##LASTX= 5.5"]
    lines += ["##NPOINTS= 12", "##YFACTOR= 2"]
    for symbol, part in (("R", signal.real), ("I", signal.imag)):
        lines.append(f"##XYDATA= (X++({symbol}..{symbol}))")
        lines += [f"{k} {float(v) / 2!r}" for k, v in enumerate(part)]
    (tmp_path / "fid.jdx").write_text("\n".join(lines + ["##END="]) + "\n")
    echo = read_echo(tmp_path / "fid.jdx")
    np.testing.assert_allclose(echo.signal, signal)
    np.testing.assert_allclose(echo.times, t)


def test_jcampdx_decay_and_a_spectrum(tmp_path):
    t = np.arange(1, 21) * 1e-4
    path = write_jcampdx(tmp_path / "t2.dx", t, np.exp(-t / 1e-3))
    decay = read_decay(path)
    np.testing.assert_allclose(decay.times, t * 1e6)
    spectrum = write_jcampdx(tmp_path / "s.dx", t, np.ones(20), xunits="HZ")
    with pytest.raises(ValueError, match="s.dx: x is in 'HZ'"):
        read_echo(spectrum)


# -- MeasuredSeries, EchoDecay --------------------------------------------------
def test_measured_series_behaves_like_a_sequence():
    t = np.tile(np.arange(6) * 0.5, (4, 1))
    series = MeasuredSeries(t, np.arange(24).reshape(4, 6), "delay", [1, 2, 3, 4])
    assert len(series) == 4 and [e.metadata["record"] for e in series] == [0, 1, 2, 3]
    assert series[-1].metadata["delay"] == 4.0
    part = series[1:3]
    assert isinstance(part, MeasuredSeries) and part.axis_values.tolist() == [2, 3]
    back = pickle.loads(pickle.dumps(series))
    np.testing.assert_array_equal(back.signal, series.signal)
    assert not back.signal.flags.writeable
    with pytest.raises(IndexError, match="record 4"):
        series[4]
    with pytest.raises(ValueError, match="one shape"):
        MeasuredSeries(t, np.ones((3, 6)))
    assert repr(series) == "MeasuredSeries(4 records of 6 samples, delay=1..4)"


def test_from_series_needs_echo_times():
    t = np.tile(np.arange(5.0), (2, 1))
    series = MeasuredSeries(t, np.ones((2, 5)))
    with pytest.raises(ValueError, match="echo_times"):
        EchoDecay.from_series(series)
    decay = EchoDecay.from_series(series, echo_times=[10.0, 20.0])
    np.testing.assert_allclose(decay.amplitudes, 1.0)
    with pytest.raises(ValueError, match="method"):
        EchoDecay.from_series(series, method="peak", echo_times=[10.0, 20.0])


def test_text_decay_with_one_or_two_columns(tmp_path):
    path = tmp_path / "t2.csv"
    path.write_text("0.1,1.0\n0.2,0.5\n0.3,0.25\n")
    decay = read_decay(path, time_unit="ms")
    np.testing.assert_allclose(decay.times, [100, 200, 300])
    complex_path = tmp_path / "t2c.txt"
    complex_path.write_text("100 1.0+1.0j\n200 0.5+0.5j\n300 0.25+0.25j\n")
    decay = read_decay(complex_path)
    np.testing.assert_allclose(decay.phased(), np.sqrt(2) * np.array([1, 0.5, 0.25]))


def test_a_single_vendor_echo_is_not_a_decay(tmp_path):
    folder = write_bruker(tmp_path / "one", gaussian_echo(np.arange(64.0), 30), 1.0)
    with pytest.raises(ValueError, match="one echo, not a decay.*read_echo"):
        read_decay(folder)
