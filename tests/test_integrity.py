"""Nothing forged, nothing lost: registered kernels, the chunk cache, model files.

Each table lists what an unlucky (or hostile) user may do; every case must end
in a clear error or in the correct result, never in a silently wrong one.
"""

import glob
import json
import os
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest

from sknmr import EchoSimulator
from sknmr.datasets import make_echoes
from sknmr.kernels import available_kernels, register_kernel, unregister_kernel

T = {"kernel": "k", "length": 2.0, "alpha_xy": 0.05, "alpha_z": 0.02}


def sim(**kwargs):
    return EchoSimulator(
        **{
            "lattice_size": 6,
            "tau": 2.0,
            "backend": "numpy",
            "random_state": 0,
            **kwargs,
        }
    )


def decay(dx, dy, length):
    return np.exp(-np.hypot(dx, dy) / length)


@pytest.fixture
def registered():
    """Unregister the kernel "k" after the test."""
    yield
    unregister_kernel("k")


# -- registered kernels ------------------------------------------------------
RESERVED = [
    "kernel",
    "length",
    "alpha_x",
    "alpha_y",
    "alpha_xy",
    "alpha_z",
    "t1",
    "t2",
    "linewidth",
    "W",
    "L",
    "power",
    "dx",
    "s_wave",
]


@pytest.mark.parametrize("name", RESERVED)
def test_table_column_names_are_reserved(name):
    def f(dx, dy, length, **kw):
        return decay(dx, dy, length)

    with pytest.raises(ValueError, match=f"Parameter name '{name}' of kernel 'k'"):
        register_kernel("k", f, parameters={name: 1.0})
    assert "k" not in available_kernels()


def test_kernel_reading_a_global_is_evaluated_again(registered):
    scale = {"value": 1.0}  # a mutable closure value, as a global would be
    register_kernel("k", lambda dx, dy, length: decay(dx, dy, length * scale["value"]))
    first = sim().simulate(T)
    scale["value"] = 0.2
    changed = sim().simulate(T)
    register_kernel(
        "k", lambda dx, dy, length: decay(dx, dy, 0.2 * length), overwrite=True
    )
    np.testing.assert_array_equal(changed, sim().simulate(T))
    assert np.abs(first - changed).max() > 1e-5


def test_failing_kernel_is_named(registered):
    def broken(dx, dy, length):
        raise KeyError("q")

    register_kernel("k", broken)
    with pytest.raises(ValueError, match=r"registered kernel 'k' failed at length=2.0"):
        sim().simulate(T)


def test_dataset_cache_follows_a_kernels_values(tmp_path, registered):
    scale = {"value": 1.0}
    register_kernel("k", lambda dx, dy, length: decay(dx, dy, length * scale["value"]))
    kwargs = dict(
        simulator=sim(lattice_size=4, tau=1.0),
        kernels=("k",),
        lengths={"k": (1.0, 3.0)},
        random_state=0,
        memory=tmp_path,
    )
    first = make_echoes(2, **kwargs)
    scale["value"] = 0.3
    changed = make_echoes(2, **kwargs)
    assert np.abs(first.data - changed.data).max() > 1e-5
    np.testing.assert_array_equal(
        changed.data, make_echoes(2, **{**kwargs, "memory": None}).data
    )


# -- the chunk cache -----------------------------------------------------------
def make(tmp_path):
    return make_echoes(
        2,
        simulator=sim(lattice_size=4, tau=1.0),
        kernels=("gaussian", "power"),
        chunk_size=2,
        random_state=0,
        memory=tmp_path,
    )


def chunk_files(tmp_path):
    folder = os.path.join(tmp_path, "sknmr_chunks")
    arrays = sorted(glob.glob(os.path.join(folder, "*.npy")))
    return arrays, [a[:-4] + ".json" for a in arrays]


def flip_a_byte(arrays, sidecars):
    with open(arrays[0], "r+b") as f:
        f.seek(-3, os.SEEK_END)
        byte = f.read(1)
        f.seek(-3, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0x10]))


def swap_arrays(arrays, sidecars):
    tmp = arrays[0] + ".x"
    os.replace(arrays[0], tmp)
    os.replace(arrays[1], arrays[0])
    os.replace(tmp, arrays[1])


def swap_chunks(arrays, sidecars):
    swap_arrays(arrays, sidecars)
    swap_arrays(sidecars, arrays)


def one_row(arrays, sidecars):
    # a (1, n) array with a sidecar forged to match it
    row = np.load(arrays[0])[:1]
    np.save(arrays[0], row)
    meta = json.load(open(sidecars[0]))
    meta["shape"] = [1, row.shape[1]]
    json.dump(meta, open(sidecars[0], "w"))


def planted_pickle(arrays, sidecars):
    class Boom:
        def __reduce__(self):
            return (os.system, ("touch planted",))

    np.save(arrays[0], np.array([Boom()], dtype=object), allow_pickle=True)


def pickle_file(arrays, sidecars):
    with open(arrays[0], "wb") as f:
        pickle.dump(np.zeros(3), f)


def empty(arrays, sidecars):
    open(arrays[0], "wb").close()


def garbled_sidecar(arrays, sidecars):
    with open(sidecars[0], "w") as f:
        f.write("{not json")


DAMAGE = {
    "flipped byte": flip_a_byte,
    "two arrays swapped": swap_arrays,
    "two chunks swapped": swap_chunks,
    "a (1, n) array": one_row,
    "a planted pickle": planted_pickle,
    "a pickle file": pickle_file,
    "an empty file": empty,
    "a garbled sidecar": garbled_sidecar,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_chunks_are_simulated_again(tmp_path, damage, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = make(tmp_path / "cache")
    damage(*chunk_files(tmp_path / "cache"))
    with pytest.warns(RuntimeWarning, match="damaged"):
        again = make(tmp_path / "cache")
    np.testing.assert_array_equal(first.data, again.data)
    assert not os.path.exists(tmp_path / "planted")
    # and the chunk was stored again, whole
    np.testing.assert_array_equal(first.data, make(tmp_path / "cache").data)


def test_deleted_chunk_is_simulated_again_silently(tmp_path, recwarn):
    first = make(tmp_path)
    arrays, sidecars = chunk_files(tmp_path)
    os.remove(sidecars[1])
    np.testing.assert_array_equal(first.data, make(tmp_path).data)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# -- model files -----------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    from quantile_forest import ExtraTreesQuantileRegressor
    from sklearn.ensemble import RandomForestClassifier

    from sknmr.inference import train_model

    # small forests: the skops format writes each tree's nodes as JSON
    return train_model(
        sim(lattice_size=4, tau=3.0),
        regressor=ExtraTreesQuantileRegressor(n_estimators=5),
        classifier=RandomForestClassifier(n_estimators=5),
        n_per_kernel=20,
        confidence=0.8,
        ood_false_alarm=0.2,
    )


@pytest.fixture(scope="module")
def echo():
    one = {"kernel": "gaussian", "length": 3.0, "alpha_xy": 0.05, "alpha_z": 0.05}
    return sim(lattice_size=4, tau=3.0, random_state=1).simulate(one)


class Planted:
    """A pickle that creates the file ``planted`` when loaded (a harmless attack)."""

    def __reduce__(self):
        return (open, ("planted", "w"))


@pytest.mark.slow
def test_model_round_trip_without_pickle(tmp_path, model, echo):
    from sknmr.inference import load_model, save_model

    path = tmp_path / "model.skops"
    save_model(model, path)
    import zipfile

    assert zipfile.is_zipfile(path)  # the skops format, not a pickle
    loaded = load_model(path)
    pd.testing.assert_frame_equal(loaded.predict(echo), model.predict(echo))
    pd.testing.assert_series_equal(
        loaded.calibration_coverage_, model.calibration_coverage_
    )


def test_pickled_model_needs_trust(tmp_path, model, monkeypatch):
    from sknmr.inference import load_model

    monkeypatch.chdir(tmp_path)
    joblib.dump(Planted(), "evil.joblib")
    with pytest.raises(ValueError, match="trusted=True"):
        load_model("evil.joblib")
    assert not os.path.exists("planted")
    joblib.dump(model, "legacy.joblib")
    with pytest.raises(ValueError, match="trusted=True"):
        load_model("legacy.joblib")
    with pytest.warns(UserWarning, match="does not record the sknmr version"):
        assert load_model("legacy.joblib", trusted=True).targets_ == model.targets_


def test_model_of_another_version_warns(tmp_path, model, monkeypatch):
    from sknmr.inference import _persist, load_model, save_model

    monkeypatch.setattr(_persist, "MODEL_REVISION", -1)
    save_model(model, tmp_path / "old.skops")
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"model revision -1"):
        load_model(tmp_path / "old.skops")


def test_untrusted_types_are_refused(tmp_path, model):
    import skops.io as sio

    from sknmr.inference import load_model

    path = tmp_path / "odd.skops"
    sio.dump({"format": "x", "model": os.path.join}, path)  # an unexpected type
    with pytest.raises(ValueError, match="trusted=True"):
        load_model(path)


def test_save_model_failures_leave_nothing(tmp_path, model, monkeypatch):
    from sknmr.inference import save_model

    with pytest.raises(OSError, match="no such folder"):
        save_model(model, tmp_path / "missing" / "m.skops")
    with pytest.raises(OSError, match="folder"):
        save_model(model, tmp_path)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_model(model, tmp_path / "m.skops")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "where, match",
    [
        ("{tmp}/missing/m.skops", "no such folder"),
        ("{tmp}", "folder"),
        ("{tmp}/ro/m.skops", "Cannot write the model"),
    ],
    ids=["missing folder", "a folder", "read-only folder"],
)
def test_cli_model_path_checked_before_training(tmp_path, monkeypatch, where, match):
    from sknmr import cli
    from sknmr.inference import _workflow

    def never(*args, **kwargs):
        raise AssertionError("trained before checking --model")

    monkeypatch.setattr(_workflow, "train_model", never)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.access(ro, os.W_OK) and where.startswith("{tmp}/ro"):
        # root writes anywhere: make the write fail the way a read-only mount does
        import tempfile

        def refused(*args, **kwargs):
            raise PermissionError(13, "Read-only file system")

        monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    path = where.format(tmp=tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["infer", "--train", "--model", path, "--overwrite", "-q"])
    assert exit_info.value.code == 2


def test_cli_refuses_a_pickled_model(tmp_path, monkeypatch, capsys):
    from sknmr import cli

    monkeypatch.chdir(tmp_path)
    joblib.dump(Planted(), "evil.joblib")
    (tmp_path / "e.csv").write_text("0,1,0\n1,0.5,0\n")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["infer", "e.csv", "--model", "evil.joblib"])
    assert exit_info.value.code == 2
    assert "--trust-model" in capsys.readouterr().err
    assert not os.path.exists("planted")


# -- inputs read by name ---------------------------------------------------------
def test_table_with_a_repeated_column():
    table = pd.DataFrame(
        [[2.0, 0.05, 0.02, 0.03]], columns=["length", "alpha_xy", "alpha_z", "alpha_z"]
    )
    table.insert(0, "kernel", "gaussian")
    with pytest.raises(ValueError, match=r"params has the column\(s\) \['alpha_z'\]"):
        sim().simulate(table)


def _frame(echoes, times):
    from sknmr._timegrid import time_names

    return pd.DataFrame(echoes, columns=time_names(times, prefix="absM", dt=0.001))


def test_predict_reads_columns_by_time(model, echo):
    times = np.asarray(model.times_)
    expected = model.predict(echo)
    frame = _frame(echo, times)
    pd.testing.assert_frame_equal(model.predict(frame[frame.columns[::-1]]), expected)
    # another dt (or tau) with the same number of samples: refused
    with pytest.raises(ValueError, match="another grid"):
        model.predict(_frame(echo, times * 1.5))


def test_resampler_sorts_named_columns():
    from sknmr.io import EchoResampler

    s = sim()
    frame = pd.DataFrame(
        s.simulate({**T, "kernel": "gaussian"}), columns=s.get_feature_names_out()
    )
    shuffled = frame[np.random.default_rng(0).permutation(frame.columns)]
    np.testing.assert_array_equal(
        EchoResampler(dt=s.dt / 2).fit_transform(shuffled),
        EchoResampler(dt=s.dt / 2).fit_transform(frame),
    )


@pytest.mark.parametrize(
    "settings, match",
    [({"n_times": 10**10}, "reduce n_times"), ({"dt": 1e-9}, "raise dt")],
    ids=["n_times=1e10", "dt=1e-9"],
)
def test_resampler_grid_is_bounded(settings, match):
    from sknmr.io import EchoResampler

    echo = np.ones((1, 2000))
    with pytest.raises(ValueError, match=match):
        EchoResampler(**settings, source_times=np.arange(2000.0)).fit_transform(echo)


# -- EchoInference settings, refused before fitting ------------------------------------
@pytest.fixture(scope="module")
def data():
    return make_echoes(10, simulator=sim(lattice_size=4, tau=3.0), random_state=0)


@pytest.fixture
def no_fit(monkeypatch):
    from quantile_forest import ExtraTreesQuantileRegressor

    def never(*args, **kwargs):
        raise AssertionError("fitted before the bad setting was refused")

    monkeypatch.setattr(ExtraTreesQuantileRegressor, "fit", never)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"augment": {"copies": 10**9}}, r"augment\['copies'\]"),
        ({"interval_method": "conformal", "confidence": 1 - 1e-9}, "confidence="),
        ({"interval_method": "conformal", "confidence": 1e-9}, "confidence="),
        ({"calibration_size": 0.999}, "calibration_size=0.999"),
        ({"calibration_size": 30}, "calibration_size=30"),
        ({"classifier": "regressor"}, "regressor has a bad setting"),
    ],
    ids=[
        "copies",
        "confidence 1-1e-9",
        "confidence 1e-9",
        "cal 0.999",
        "cal 30",
        "n_estimators=0",
    ],
)
def test_inference_settings_refused_up_front(data, no_fit, params, match):
    from quantile_forest import ExtraTreesQuantileRegressor

    from sknmr import EchoInference

    if params.get("classifier") == "regressor":
        params = {"regressor": ExtraTreesQuantileRegressor(n_estimators=0)}
    with pytest.raises(ValueError, match=match):
        EchoInference(**params).fit(data)


def test_inference_of_a_multi_sequence_dataset(no_fit):
    from sknmr import EchoInference
    from sknmr.sequences import hahn_echo

    s = sim(lattice_size=4, tau=3.0)
    data = make_echoes(
        1, simulator=s, random_state=0, sequences={"a": None, "b": hahn_echo(3.0, 45.0)}
    )
    with pytest.raises(ValueError, match=r"data.blocks\[name\]"):
        EchoInference().fit(data)


@pytest.mark.slow
def test_confidence_as_a_numpy_float(data):
    from sknmr import EchoInference

    fitted = EchoInference(confidence=np.float32(0.8), ood_false_alarm=0.2).fit(data)
    assert fitted.predict(data.data[:2])["W_lower"].notna().all()


# -- pulse sequences: echo matching by sorted search -----------------------------
def _scan_steps(echo_times, pulse_times, pulse_steps, dt):
    """The former quadratic / cubic scan, as the reference."""
    from sknmr._echo_steps import mirrors as _mirrors
    from sknmr._timegrid import n_steps

    def first(echo, times, steps, tol):
        match = np.flatnonzero(np.abs(np.asarray(times) - echo) <= tol)
        return int(np.asarray(steps)[match[0]]) if match.size else None

    def stimulated(points):
        points = np.asarray(points)
        a, b, c = np.meshgrid(*(np.arange(points.size),) * 3, indexing="ij")
        keep = (a < b) & (b < c)
        return points[c[keep]] + points[b[keep]] - points[a[keep]]

    tol = 1e-9 * max(1.0, *map(abs, pulse_times), *map(abs, echo_times))
    out = []
    for echo in echo_times:
        step = first(echo, _mirrors(pulse_times), _mirrors(pulse_steps), tol)
        if step is None:
            step = first(echo, stimulated(pulse_times), stimulated(pulse_steps), tol)
        out.append(n_steps(echo, dt) if step is None else step)
    return tuple(out)


@pytest.mark.parametrize("seed", range(5))
def test_echo_matching_as_the_scan(seed):
    from sknmr._echo_steps import grid_echo_steps as _grid_echo_steps
    from sknmr._timegrid import n_steps

    rng = np.random.default_rng(seed)
    dt = 0.37
    times = np.sort(rng.choice(np.arange(1, 60), size=9, replace=False) * 1.1)
    times = [0.0, *times.tolist(), *times[:2].tolist()]  # repeated times too
    steps = [n_steps(t, dt) for t in times]
    stimulated = [times[c] + times[b] - times[a] for a, b, c in [(0, 2, 5), (1, 3, 4)]]
    echoes = [2 * times[1] - times[0], *stimulated, 1000.3, times[4] + 0.05]
    assert _grid_echo_steps(echoes, times, steps, dt) == _scan_steps(
        echoes, times, steps, dt
    )


def test_long_cpmg_train_and_many_pulses_are_fast():
    from sknmr.sequences import Pulse, PulseSequence, cpmg

    grid = cpmg(1.0, 10000).grid(0.1)  # about 10 s with the former scan
    assert len(grid.echo_steps) == 10000
    pulses = [Pulse(0.0, 90.0, "x")] + [Pulse(2.0 + i, 180.0, "y") for i in range(999)]
    off_chain = PulseSequence(pulses, echo_times=(1500.25,), duration=2000.0)
    assert off_chain.grid(0.1).echo_steps == (15002,)  # rounded: no pulse combination


@pytest.mark.parametrize("tau", [1e300, 1e20])
def test_huge_tau_is_refused(tau, capsys):
    from sknmr import cli

    with pytest.raises(ValueError, match="tau must be at most"):
        sim(tau=tau).simulate({**T, "kernel": "gaussian"})
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["simulate", "--tau", str(tau), "-o", "never.npz", "-n", "1"])
    assert exit_info.value.code == 2
    assert "argument --tau: must be at most" in capsys.readouterr().err


@pytest.mark.parametrize("existing", [True, False], ids=["old file", "no file"])
def test_save_echoes_full_disk_leaves_the_old_file_or_nothing(
    tmp_path, monkeypatch, existing
):
    from sknmr.datasets import save_echoes

    echoes = make_echoes(
        1, simulator=EchoSimulator(lattice_size=4, tau=2.0), random_state=0
    )
    path = tmp_path / "echoes.npz"
    if existing:
        path.write_bytes(b"old")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_echoes(echoes, path)
    assert os.listdir(tmp_path) == (["echoes.npz"] if existing else [])
    if existing:
        assert path.read_bytes() == b"old"


@pytest.mark.parametrize(
    "output, message",
    [
        ("{tmp}", "is a folder"),
        ("{tmp}/missing/x.npz", "does not exist"),
        ("/proc/x.npz", "cannot write into folder"),
    ],
    ids=["a folder", "missing folder", "read-only folder"],
)
def test_cli_simulate_output_checked_before_the_simulation(
    tmp_path, monkeypatch, capsys, output, message
):
    import sknmr.datasets
    from sknmr import cli

    def never(*args, **kwargs):
        raise AssertionError("simulated before checking -o")

    monkeypatch.setattr(sknmr.datasets, "make_echoes", never)
    argv = ["simulate", "-o", output.format(tmp=tmp_path), "-n", "1"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--lattice-size", "8", "--tau", "2"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument -o/--output" in err and message in err
    assert os.listdir(tmp_path) == []
