"""A simulated echo recorded as a spectrometer would, then read by ``sknmr infer``.

The spectrometer starts acquiring a dead time after the last pulse (the pi
pulse at tau), with its own receiver gain and phase, and writes a Bruker
``fid`` (``DE`` the dead time, ``D[2]`` tau, 64-bit floats) or a
Varian/Agilent ``fid`` (``tau`` and ``rof2 + alfa`` in procpar, 32-bit
floats). Read back with the time reference on the command line, the table
must be the one ``EchoInference.predict`` gives for the echo in memory.
"""

import os
import sys

import numpy as np
import pandas as pd
import pytest
from quantile_forest import ExtraTreesQuantileRegressor
from sklearn.ensemble import RandomForestClassifier

from sknmr import EchoSimulator
from sknmr.cli import main
from sknmr.datasets import make_echoes
from sknmr.inference import EchoInference, save_model
from sknmr.io import MeasuredEcho, read_echo

pytest.importorskip("nmrglue")
sys.path.insert(0, os.path.dirname(__file__))
from _spectrometer_files import write_bruker, write_varian  # noqa: E402

TAU = 4.0  # us
SETTINGS = dict(lattice_size=6, tau=TAU, backend="numpy")
GAIN = 3.7e4 * np.exp(1j * 2.1)  # receiver gain and phase
PARAMS = {"kernel": "power", "length": 1.5, "alpha_xy": 0.06, "alpha_z": 0.02}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    sim = EchoSimulator(**SETTINGS)
    data = make_echoes(30, simulator=sim, random_state=0)
    model = EchoInference(
        simulator=sim,
        regressor=ExtraTreesQuantileRegressor(n_estimators=20),
        classifier=RandomForestClassifier(n_estimators=20),
        ood_false_alarm=0.1,
        random_state=0,
    ).fit(data.data, data.target)
    path = tmp_path_factory.mktemp("model") / "tiny.skops"
    save_model(model, path)
    return model, path


@pytest.fixture(scope="module")
def echo():
    sim = EchoSimulator(**SETTINGS, output="complex", random_state=7)
    return sim.times, sim.simulate(PARAMS)[0]


def _record(folder, times, signal, vendor, dead):
    """What the spectrometer writes: from the first sample after tau + dead."""
    start = int(np.searchsorted(times, TAU + dead))
    dead = float(times[start] - TAU)  # the console's dead time, on the sample clock
    dwell = float(times[1] - times[0])
    recorded = GAIN * signal[start:]
    if vendor == "bruker":
        delays = [0.0] * 32
        delays[2] = TAU * 1e-6
        acqus = {"DE": dead, "D": delays}
        write_bruker(folder, recorded, dwell, acqus=acqus, isfloat=True)
    else:  # rof2 + alfa is the dead time (us); tau in s
        write_varian(folder, recorded, dwell, tau=TAU * 1e-6, rof2=dead, alfa=0.0)
    return dead


def _table(model, echo, resampler):
    if resampler is None:
        return model.predict([echo])
    return model.predict(resampler.fit_transform([echo]))


@pytest.mark.slow
@pytest.mark.parametrize(
    "vendor, reference",
    [("bruker", "offset"), ("bruker", "align"), ("varian", "offset")],
)
def test_a_recorded_echo_gives_the_table_of_the_echo_in_memory(
    tmp_path, model_file, echo, vendor, reference, capsys
):
    model, path = model_file
    times, signal = echo
    dead = _record(tmp_path / vendor, times, signal, vendor, dead=1.0)
    options = {"tau_delay": 2} if vendor == "bruker" else {}
    read = read_echo(tmp_path / vendor, **options)
    # the time reference the file states
    assert read.metadata["tau"] == pytest.approx(TAU)
    assert read.metadata["dead_time"] == pytest.approx(dead)
    assert read.times[0] == 0.0 and read.dwell_time == pytest.approx(times[1])

    argv = ["infer", str(tmp_path / vendor), "--model", str(path)]
    argv += ["--tau", repr(TAU), "--normalize", "max"]
    resampler = None
    if reference == "offset":  # the file's times from the first pulse
        argv += ["--time-offset", repr(TAU + dead)]
    else:  # the echo top moved onto 2 tau, in the file as in memory
        argv += ["--align", "peak"]
        # onto the simulator's echo time (2 tau on its grid); in memory the
        # free decay after the first pulse is higher than the echo: look for
        # the top near it, as in the recorded part
        echo_time = float(model.experiment_.echo_times[0])
        resampler = model.make_resampler(
            align="peak", echo_time=echo_time, search_window=TAU / 2
        )
    out = tmp_path / "out"
    assert main(argv + ["--output", str(out), "-q"]) == 0
    capsys.readouterr()
    table = pd.read_csv(out / "inference.csv")
    # an echo no check flagged has an empty reason: an empty CSV field
    table["ood_reason"] = table["ood_reason"].fillna("")

    expected = _table(model, MeasuredEcho(times, signal), resampler)
    assert list(table.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    other = expected.columns.difference(numbers)
    pd.testing.assert_frame_equal(table[other].astype(str), expected[other].astype(str))
    got = table[numbers].to_numpy(float)
    if vendor == "varian":
        # Varian stores 32-bit floats: the same echo rounded so gives the
        # same table; the exact echo's differs only by that rounding (the
        # out-of-distribution score, a distance, moves by ~1e-5 of itself)
        rounded = (GAIN * signal).astype(np.complex64).astype(np.complex128) / GAIN
        np.testing.assert_allclose(
            got,
            _table(model, MeasuredEcho(times, rounded), resampler)[numbers],
            rtol=1e-9,
        )
        np.testing.assert_allclose(got, expected[numbers].to_numpy(float), rtol=1e-4)
    else:
        np.testing.assert_allclose(got, expected[numbers].to_numpy(float), rtol=1e-9)
