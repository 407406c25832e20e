"""The numba backend's FFT and echoes per transform, measured once per machine.

Every test here turns the measurement on (the suite runs with it off, see
conftest.py) with the record in a temporary cache folder.
"""

import json
import os

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr._backends import _tuning, available_backends
from sknmr.datasets._echoes import _simulation_key

pytestmark = pytest.mark.skipif(
    "numba" not in available_backends(), reason="numba is not installed"
)

TABLE = {
    "kernel": ["gaussian", "power", "rkky", "gaussian", "uniform"],
    "length": [2.0, 1.5, 3.0, 1.2, 2.0],
    "alpha_x": [0.3, 0.05, 0.0, 0.2, 0.1],
    "alpha_y": [0.05, 0.25, 0.2, 0.2, 0.1],
    "alpha_z": [0.1, 0.0, 0.15, 0.05, 0.2],
}


@pytest.fixture
def nb():
    from sknmr._backends import numba_backend

    return numba_backend


@pytest.fixture(autouse=True)
def tuning_on(tmp_path, monkeypatch, nb):
    """Measurement on, the record under tmp_path, nothing remembered before."""
    monkeypatch.setenv("SKNMR_NUMBA_TUNING", "on")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(nb, "FFT_METHOD", "auto")
    _tuning.forget()
    yield
    _tuning.forget()


@pytest.fixture
def fake_timing(monkeypatch, nb):
    """Replace the timing by a fixed answer per (dtype, shape); count calls."""
    calls = []
    answers = {}

    def time_steps(dtype, shape, candidates, default, budget=0.3):
        assert default in candidates
        calls.append((np.dtype(dtype).name, tuple(shape), tuple(candidates)))
        choice = answers.get((np.dtype(dtype).name, tuple(shape)), candidates[0])
        assert choice in candidates
        return choice, {c: 1.0 if c == choice else 2.0 for c in candidates}

    monkeypatch.setattr(nb, "_time_steps", time_steps)
    return calls, answers


def _record():
    with open(_tuning.cache_file()) as f:
        return json.load(f)


def test_real_measurement_is_stored_and_read_back(nb):
    """A real measurement (a tiny lattice): its answer is among the candidates,
    stored with its key, and read back by a fresh process (memory dropped)."""
    method, size = nb.tuned("float64", (6, 5))
    assert method in ("torch", "scipy") and size in nb.ECHOES_PER_TRANSFORM
    (record_key, entry), *others = _record()["entries"].items()
    assert not others
    assert entry["choice"] == f"{method} {size}"
    seconds = entry["seconds"]
    assert set(seconds) == {
        f"{m} {g}" for m in ("torch", "scipy") for g in nb.ECHOES_PER_TRANSFORM
    }
    fastest = min(seconds, key=seconds.get)
    assert entry["choice"] in (fastest, "torch 8")  # the default unless beaten
    assert seconds[entry["choice"]] <= seconds[fastest] / (1 - nb._MARGIN)
    fields = json.loads(record_key)
    assert fields["dtype"] == "float64" and fields["shape"] == [6, 5]
    for name in ("cpu", "cpu_count", "numpy", "scipy", "torch", "numba", "sknmr"):
        assert fields[name] == _tuning.machine()[name]
    _tuning.forget()
    # a measurement now would fail: the stored answer must be used
    nb_time = nb._time_steps
    try:
        nb._time_steps = None
        assert nb.tuned("float64", (6, 5)) == (method, size)
    finally:
        nb._time_steps = nb_time


@pytest.mark.parametrize(
    "times, expected",
    [
        ({"torch 4": 1.0, "torch 8": 1.0, "scipy 4": 1.0, "scipy 8": 1.0}, "torch 8"),
        ({"torch 4": 2.0, "torch 8": 1.0, "scipy 4": 0.98, "scipy 8": 2.0}, "torch 8"),
        ({"torch 4": 2.0, "torch 8": 1.0, "scipy 4": 0.9, "scipy 8": 2.0}, "scipy 4"),
        ({"torch 4": 2.0, "torch 8": 1.0, "scipy 4": 2.0, "scipy 8": 1.8}, "torch 8"),
    ],
)
def test_the_default_is_kept_unless_clearly_beaten(nb, monkeypatch, times, expected):
    """Times per step of the group (4 or 8 echoes) as the timing gives them;
    compared per echo, the fixed default kept within the margin."""
    monkeypatch.setattr(
        _tuning,
        "fastest",
        lambda steps, **kw: {c: times[c] * int(c.split()[1]) for c in steps},
    )
    assert nb.tuned("float64", (6, 6)) == tuple(
        int(v) if v.isdigit() else v for v in expected.split()
    )
    (entry,) = _record()["entries"].values()
    assert entry["seconds"] == times


def test_each_dtype_and_shape_is_measured_once(nb, fake_timing):
    calls, answers = fake_timing
    answers[("float32", (12, 12))] = "scipy 8"
    assert nb.tuned("float32", (12, 12)) == ("scipy", 8)
    assert nb.fft_method("float32", (12, 12)) == "scipy"
    assert nb.tuned("float64", (12, 12)) == ("torch", 4)
    assert nb.tuned(np.float32, (4, 3, 2)) == ("torch", 4)
    assert [c[:2] for c in calls] == [
        ("float32", (12, 12)),
        ("float64", (12, 12)),
        ("float32", (4, 3, 2)),
    ]
    _tuning.forget()  # another process: reads the record, measures nothing
    assert nb.tuned("float32", (12, 12)) == ("scipy", 8)
    assert len(calls) == 3
    assert len(_record()["entries"]) == 3


def test_other_versions_are_measured_again(nb, fake_timing, monkeypatch):
    calls, _ = fake_timing
    nb.tuned("float64", (8, 8))
    machine = _tuning.machine()
    _tuning.forget()
    monkeypatch.setattr(_tuning, "_MACHINE", {**machine, "torch": "0.0"})
    nb.tuned("float64", (8, 8))
    assert len(calls) == 2
    assert len(_record()["entries"]) == 2


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"format": 1, "entries": []}',
        "",
    ],
)
def test_corrupt_record_is_ignored_and_rewritten(nb, fake_timing, content):
    calls, answers = fake_timing
    os.makedirs(os.path.dirname(_tuning.cache_file()))
    with open(_tuning.cache_file(), "w") as f:
        f.write(content)
    answers[("float64", (8, 8))] = "scipy 8"
    assert nb.tuned("float64", (8, 8)) == ("scipy", 8)
    assert len(calls) == 1
    (entry,) = _record()["entries"].values()
    assert entry["choice"] == "scipy 8"


def test_stored_answer_that_is_no_candidate_is_measured_again(nb, fake_timing):
    calls, answers = fake_timing
    nb.tuned("float64", (8, 8))
    record = _record()
    (record_key,) = record["entries"]
    record["entries"][record_key]["choice"] = "fftw 4"
    with open(_tuning.cache_file(), "w") as f:
        json.dump(record, f)
    _tuning.forget()
    answers[("float64", (8, 8))] = "scipy 4"
    assert nb.tuned("float64", (8, 8)) == ("scipy", 4)
    assert len(calls) == 2
    assert _record()["entries"][record_key]["choice"] == "scipy 4"


def test_first_stored_answer_wins(nb, monkeypatch):
    """Another process that stored its answer while this one measured: this
    one adopts it, so that every process on the machine agrees."""

    def time_steps(dtype, shape, candidates, default, budget=0.3):
        question = {
            "backend": "numba",
            "what": "FFT and echoes per transform",
            "fft": "auto",
            "dtype": np.dtype(dtype).name,
            "shape": list(shape),
        }
        entry = {"choice": "scipy 8", "seconds": {}, "measured": "earlier"}
        _tuning._store(_tuning.cache_file(), _tuning.key(question), entry)
        return "torch 4", {"torch 4": 1.0}

    monkeypatch.setattr(nb, "_time_steps", time_steps)
    assert nb.tuned("float64", (8, 8)) == ("scipy", 8)
    (entry,) = _record()["entries"].values()
    assert entry["measured"] == "earlier"


def test_unwritable_cache_falls_back_to_the_fixed_default(
    nb, fake_timing, tmp_path, monkeypatch
):
    calls, answers = fake_timing
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # no folder can go there
    answers[("float64", (8, 8))] = "scipy 4"
    # the measurement could not be shared with other processes: not used
    assert nb.tuned("float64", (8, 8)) == ("torch", None)
    assert nb.tuned("float64", (8, 8)) == ("torch", None)
    assert len(calls) == 1  # remembered for this process


def test_forced_fft_and_measurement_off(nb, fake_timing, monkeypatch):
    calls, answers = fake_timing
    monkeypatch.setattr(nb, "FFT_METHOD", "scipy")
    answers[("float64", (8, 8))] = "scipy 8"
    assert nb.tuned("float64", (8, 8)) == ("scipy", 8)
    assert calls[0][2] == ("scipy 4", "scipy 8")  # only scipy timed
    monkeypatch.setattr(nb, "FFT_METHOD", "torch")  # another question
    answers[("float64", (8, 8))] = "torch 4"
    assert nb.tuned("float64", (8, 8)) == ("torch", 4)
    monkeypatch.setattr(nb, "FFT_METHOD", "fftw")
    with pytest.raises(ValueError, match="SKNMR_NUMBA_FFT"):
        nb.tuned("float64", (8, 8))
    # off: the fixed default, nothing measured, read or written
    for value in ("off", "0", "false", "No"):
        monkeypatch.setenv("SKNMR_NUMBA_TUNING", value)
        monkeypatch.setattr(nb, "FFT_METHOD", "auto")
        assert nb.tuned("float32", (9, 9)) == ("torch", None)
        monkeypatch.setattr(nb, "FFT_METHOD", "scipy")
        assert nb.tuned("float32", (9, 9)) == ("scipy", None)
    assert len(calls) == 2  # scipy above, torch forced on (8, 8)
    assert len(_record()["entries"]) == 2


def test_large_lattices_time_fewer_candidates(nb, fake_timing, monkeypatch):
    calls, _ = fake_timing
    monkeypatch.setattr(nb, "_TUNING_SPINS", 8 * 100)
    nb.tuned("float32", (10, 10))
    assert calls[-1][2] == ("torch 4", "torch 8", "scipy 4", "scipy 8")
    monkeypatch.setattr(nb, "_TUNING_SPINS", 10)
    nb.tuned("float32", (10, 11))
    assert calls[-1][2] == ("torch all", "scipy all")
    monkeypatch.setattr(nb, "FFT_METHOD", "scipy")
    assert nb.tuned("float32", (10, 12)) == ("scipy", None)  # nothing to time
    assert len(calls) == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cache_key_and_echoes_follow_the_choice(nb, fake_timing, monkeypatch, dtype):
    """The dataset's key names the FFT chosen for its lattice shape and dtype,
    and the echoes are those of that FFT, bit for bit, whatever the echoes
    per transform."""
    _, answers = fake_timing
    settings = dict(lattice_size=7, tau=2.0, random_state=2, dtype=dtype)
    answers[(dtype, (7, 7))] = "scipy 4"
    sim = EchoSimulator(backend="numba", batch_size=5, **settings)
    assert "fft" not in _simulation_key(sim, 0)  # scipy: the key of old
    tuned = sim.simulate(TABLE)
    monkeypatch.setattr(nb, "FFT_METHOD", "scipy")
    forced = EchoSimulator(backend="numba", batch_size=5, **settings)
    monkeypatch.setenv("SKNMR_NUMBA_TUNING", "off")  # all 5 echoes at once
    np.testing.assert_array_equal(forced.simulate(TABLE), tuned)

    monkeypatch.setenv("SKNMR_NUMBA_TUNING", "on")
    monkeypatch.setattr(nb, "FFT_METHOD", "auto")
    answers[(dtype, (5, 6))] = "torch 8"
    other = EchoSimulator(backend="numba", lattice=_rectangle(5, 6), tau=2.0)
    other.set_params(dtype=dtype)
    assert _simulation_key(other, 0)["fft"] == "torch"


def _rectangle(n1, n2):
    from sknmr.lattices import Lattice

    return Lattice([[1, 0], [0, 1]], (n1, n2))
