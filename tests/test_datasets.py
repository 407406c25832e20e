"""make_echoes: the dataset of simulated echoes, cached in chunks."""

import glob
import json
import os
import shutil

import joblib
import numpy as np
import pandas as pd
import pytest

from sknmr import EchoSimulator
from sknmr.datasets import load_echoes, make_echoes, save_echoes
from sknmr.kernels import KERNELS
from sknmr.prior import PARAM_COLUMNS

TARGETS = ["kernel", "length", "alpha_xy", "alpha_z", "W", "L", "power"]


def tiny(**kwargs):
    params = dict(lattice_size=8, tau=2.0, backend="numpy")
    params.update(kwargs)
    return EchoSimulator(**params)


def make(n=3, **kwargs):
    kwargs.setdefault("simulator", tiny())
    kwargs.setdefault("random_state", 0)
    return make_echoes(n, **kwargs)


@pytest.fixture
def count_simulations(monkeypatch):
    """Count EchoSimulator.simulate calls (one per chunk) made in this process."""
    calls = []
    original = EchoSimulator.simulate

    def counting(self, params, *, echo_ids=None):
        calls.append(np.asarray(echo_ids).copy())
        return original(self, params, echo_ids=echo_ids)

    monkeypatch.setattr(EchoSimulator, "simulate", counting)
    return calls


def assert_same(a, b):
    np.testing.assert_array_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.target, b.target)
    np.testing.assert_array_equal(a.echo_ids, b.echo_ids)


# -- contents ------------------------------------------------------------------
def test_bunch_contents():
    sim = tiny()
    bunch = make(4, simulator=sim, random_state=7)
    assert bunch.data.shape == (12, sim.n_times)
    assert bunch.data.dtype == np.float64
    assert list(bunch.target.columns) == TARGETS == bunch.target_names
    assert bunch.target["kernel"].tolist() == [k for k in KERNELS for _ in range(4)]
    assert bunch.frame is None
    np.testing.assert_array_equal(bunch.times, sim.times)
    np.testing.assert_array_equal(bunch.feature_names, sim.get_feature_names_out())
    t = bunch.target
    assert t["W"].between(0.1, 0.3).all()
    np.testing.assert_allclose(t["W"], 2 * t["alpha_xy"] + t["alpha_z"])
    assert (
        t["alpha_xy"].between(0.01, 0.1).all() and t["alpha_z"].between(0.01, 0.1).all()
    )
    for kernel, (lo, hi) in {
        "gaussian": (8, 32),
        "power": (1, 3),
        "rkky": (13, 52),
    }.items():
        assert t.loc[t["kernel"] == kernel, "length"].between(lo, hi).all()
    assert t["power"].tolist() == [int(k == "power") for k in t["kernel"]]
    assert len(set(t["length"])) == 12  # really drawn, not repeated
    # every echo starts at |M| = 1/2 after the 90 degree pulse
    np.testing.assert_allclose(bunch.data[:, 0], 0.5, atol=1e-12)
    # DESCR says how they were made
    for text in (
        "Seed: 7",
        "gaussian: 4",
        "power: 4",
        "rkky: 4",
        "lattice=Lattice.square(8)",
        "tau=2.0",
        "[0.1, 0.3]",
    ):
        assert text in bunch.DESCR
    assert bunch.settings["seed"] == 7
    assert bunch.settings["counts"] == {"gaussian": 4, "power": 4, "rkky": 4}
    json.dumps(bunch.settings)


def test_echoes_are_the_simulators():
    """Each row is the simulator's echo of that row's parameters and echo id."""
    sim = tiny()
    bunch = make(2, simulator=sim, random_state=3)
    again = sim.set_params(random_state=3).simulate(
        bunch.target[list(PARAM_COLUMNS)], echo_ids=bunch.echo_ids
    )
    np.testing.assert_array_equal(again, bunch.data)
    assert bunch.echo_ids.tolist() == [0, 1, 10**9, 10**9 + 1, 2 * 10**9, 2 * 10**9 + 1]


def test_counts_total_and_per_kernel():
    bunch = make_echoes(
        n_samples=7, kernels=("power", "rkky"), simulator=tiny(), random_state=0
    )
    assert bunch.target["kernel"].tolist() == ["power"] * 4 + ["rkky"] * 3
    assert bunch.settings["counts"] == {"power": 4, "rkky": 3}
    with pytest.raises(ValueError, match="at most one of n_per_kernel and n_samples"):
        make_echoes(3, n_samples=9, simulator=tiny())


def test_default_count_is_the_papers():
    # Validation fails before any work, yet after the default count is set.
    with pytest.raises(ValueError, match="W window"):
        make_echoes(simulator=tiny(), W=(5.0, 6.0))
    from sknmr.datasets._echoes import _check_counts

    assert _check_counts(None, None, KERNELS) == dict.fromkeys(KERNELS, 5000)


def test_echo_depends_only_on_seed_kernel_and_index():
    full = make(5)
    fewer = make(3)
    alone = make(5, kernels="power")
    reordered = make(5, kernels=("rkky", "gaussian", "power"))
    rows = full.target["kernel"] == "power"
    np.testing.assert_array_equal(alone.data, full.data[rows.to_numpy()])
    for kernel in KERNELS:
        f = (full.target["kernel"] == kernel).to_numpy()
        s = (fewer.target["kernel"] == kernel).to_numpy()
        r = (reordered.target["kernel"] == kernel).to_numpy()
        np.testing.assert_array_equal(fewer.data[s], full.data[f][:3])
        np.testing.assert_array_equal(reordered.data[r], full.data[f])
    other_seed = make(5, random_state=1)
    assert not np.allclose(other_seed.data, full.data)


def test_per_echo_draws_follow_the_prior():
    """The per-echo streams give the prior's law: compare with plain rejection (KS)."""
    from scipy.stats import ks_2samp

    from sknmr.prior import check_prior, draw_params

    prior, acceptance = check_prior(("power",))
    ours = draw_params(0, "power", np.arange(3000), prior, acceptance)
    # Plain rejection from one stream: uniform draws, keep those in the window.
    rng = np.random.default_rng(1)
    cand = rng.uniform([1.0, 0.01, 0.01], [3.0, 0.1, 0.1], size=(20000, 3))
    w_cand = 2 * cand[:, 1] + cand[:, 2]
    theirs = cand[(w_cand >= 0.1) & (w_cand <= 0.3)][:3000]
    for column, name in enumerate(("length", "alpha_xy", "alpha_z")):
        assert ks_2samp(ours[:, column], theirs[:, column]).pvalue > 1e-3, name
    w = 2 * ours[:, 1] + ours[:, 2]
    assert w.min() >= 0.1 and w.max() <= 0.3
    # an echo's draw does not depend on which others are drawn with it
    np.testing.assert_array_equal(
        draw_params(0, "power", np.array([7, 2999]), prior, acceptance),
        ours[[7, 2999]],
    )


def test_one_prior_sampler_serves_sample_prior_sample_and_make_echoes():
    """The same seed gives the same materials, and echoes, in all three."""
    from sknmr.prior import sample_prior

    sim = tiny()
    echoes, table = sim.sample(5, random_state=3)
    data = make_echoes(n_samples=5, simulator=sim, random_state=3)
    pd.testing.assert_frame_equal(table, data.target)
    np.testing.assert_array_equal(echoes, data.data)
    pd.testing.assert_frame_equal(
        sample_prior(5, random_state=3, lattice_size=sim.lattice_size), table
    )


def test_random_state_none_uses_the_simulators():
    a = make(2, simulator=tiny(random_state=5), random_state=None)
    b = make(2, random_state=5)
    assert_same(a, b)
    assert a.settings["seed"] == 5
    fresh = make(1, simulator=tiny(), random_state=None)
    assert isinstance(fresh.settings["seed"], int)


# -- determinism ---------------------------------------------------------------
@pytest.mark.parametrize(
    "n_jobs, chunk_size", [(1, 1), (1, 2), (2, 1), (2, 3), (None, 100), (-1, 4)]
)
def test_same_echoes_whatever_n_jobs_and_chunk_size(n_jobs, chunk_size):
    reference = make(5, n_jobs=1, chunk_size=5)
    assert_same(make(5, n_jobs=n_jobs, chunk_size=chunk_size), reference)


@pytest.mark.slow
def test_numba_backend_matches_across_jobs_and_chunks():
    sim = tiny(backend="numba")
    a = make(3, simulator=sim, n_jobs=1, chunk_size=3)
    b = make(3, simulator=sim.set_params(batch_size=1), n_jobs=2, chunk_size=2)
    assert_same(a, b)
    np.testing.assert_allclose(a.data, make(3).data, atol=1e-10)


# -- output forms --------------------------------------------------------------
def test_return_X_y_and_as_frame():
    bunch = make(2)
    X, y = make(2, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    pd.testing.assert_frame_equal(y, bunch.target)
    framed = make(2, as_frame=True)
    assert isinstance(framed.data, pd.DataFrame)
    assert list(framed.data.columns) == list(bunch.feature_names)
    np.testing.assert_array_equal(framed.data.to_numpy(), bunch.data)
    assert list(framed.frame.columns) == list(bunch.feature_names) + TARGETS
    Xf, yf = make(2, as_frame=True, return_X_y=True)
    pd.testing.assert_frame_equal(Xf, framed.data)
    pd.testing.assert_frame_equal(yf, framed.target)


def test_complex_output():
    bunch = make(1, simulator=tiny(output="complex"))
    assert np.iscomplexobj(bunch.data)
    np.testing.assert_allclose(np.abs(bunch.data), make(1).data, atol=1e-12)


# -- progress ------------------------------------------------------------------
def test_progress_bar_only_when_verbose(capfd, monkeypatch):
    from contextlib import contextmanager

    from sknmr.datasets import _simulate

    bars = []
    original = _simulate.progress_bar

    @contextmanager
    def recording(total, unit, enabled=True, desc=None):
        with original(total, unit, enabled=enabled, desc=desc) as bar:
            yield bar
            bars.append((total, enabled, bar.n))

    monkeypatch.setattr(_simulate, "progress_bar", recording)
    make(2, chunk_size=1, verbose=0)
    assert capfd.readouterr().err == ""
    make(2, chunk_size=1, verbose=1)
    assert "make_echoes" in capfd.readouterr().err
    # (a disabled tqdm bar does not count)
    assert bars == [(6, False, 0), (6, True, 6)]


# -- caching -------------------------------------------------------------------
def test_cache_hit_reads_and_does_not_simulate(tmp_path, count_simulations):
    first = make(4, chunk_size=2, memory=tmp_path)
    assert len(count_simulations) == 6  # 3 kernels x 2 chunks
    second = make(4, chunk_size=2, memory=str(tmp_path))
    assert len(count_simulations) == 6
    assert_same(first, second)
    # settings that do not change echoes keep the key; a joblib.Memory works too
    third = make(
        4,
        chunk_size=2,
        memory=joblib.Memory(str(tmp_path), verbose=0),  # what a folder path means
        simulator=tiny(batch_size=1, n_jobs=2, verbose=1, random_state=123),
        n_jobs=1,
    )
    assert len(count_simulations) == 6
    assert_same(first, third)


def test_worker_processes_fill_the_cache(tmp_path, count_simulations):
    parallel = make(3, chunk_size=2, n_jobs=2, memory=tmp_path)  # loky processes
    assert count_simulations == []  # the workers simulated, not this process
    assert_same(make(3, chunk_size=2, memory=tmp_path), parallel)
    assert count_simulations == []  # ... and this call only read their chunks


def test_more_echoes_reuse_the_chunks_made(tmp_path, count_simulations):
    make(4, chunk_size=2, memory=tmp_path)
    assert len(count_simulations) == 6
    count_simulations.clear()
    bigger = make(6, chunk_size=2, memory=tmp_path)
    # only the third chunk of each kernel is new
    assert [ids.tolist() for ids in count_simulations] == [
        [4, 5],
        [10**9 + 4, 10**9 + 5],
        [2 * 10**9 + 4, 2 * 10**9 + 5],
    ]
    assert_same(bigger, make(6, chunk_size=3))


@pytest.mark.parametrize(
    "change, n_new",
    [
        ({"simulator": tiny(linewidth=0.1)}, 3),
        ({"simulator": tiny(tau=2.5)}, 3),
        ({"simulator": tiny(backend="numba")}, 3),
        ({"simulator": tiny(dtype="float32")}, 3),
        ({"random_state": 1}, 3),
        ({"W": (0.1, 0.2)}, 3),
        # only the gaussian chunk depends on the gaussian range
        ({"lengths": {"gaussian": (8.0, 9.0)}}, 1),
    ],
    ids=lambda c: next(iter(c)) if isinstance(c, dict) else str(c),
)
def test_changed_setting_makes_new_chunks(tmp_path, count_simulations, change, n_new):
    make(2, chunk_size=2, memory=tmp_path)
    count_simulations.clear()
    changed = make(2, chunk_size=2, memory=tmp_path, **change)
    assert len(count_simulations) == n_new
    kwargs = {"simulator": tiny(), "random_state": 0} | change
    assert_same(changed, make_echoes(2, chunk_size=2, **kwargs))


def test_resume_after_interruption(tmp_path, monkeypatch):
    original = EchoSimulator.simulate
    calls = []

    def crashing(self, params, *, echo_ids=None):
        if len(calls) == 4:
            raise KeyboardInterrupt  # as if the run were stopped here
        calls.append(1)
        return original(self, params, echo_ids=echo_ids)

    monkeypatch.setattr(EchoSimulator, "simulate", crashing)
    with pytest.raises(KeyboardInterrupt):
        make(6, chunk_size=2, memory=tmp_path)  # 9 chunks, stopped after 4
    done = glob.glob(os.path.join(tmp_path, "sknmr_chunks", "*.json"))
    assert len(done) == 4

    resumed = []

    def counting(self, params, *, echo_ids=None):
        resumed.append(np.asarray(echo_ids).copy())
        return original(self, params, echo_ids=echo_ids)

    monkeypatch.setattr(EchoSimulator, "simulate", counting)
    bunch = make(6, chunk_size=2, memory=tmp_path)
    assert len(resumed) == 5  # only the missing chunks
    assert resumed[0].tolist() == [10**9 + 2, 10**9 + 3]  # the 5th chunk on
    monkeypatch.setattr(EchoSimulator, "simulate", original)
    assert_same(bunch, make(6, chunk_size=6))


def test_damaged_chunk_is_simulated_again(tmp_path, count_simulations):
    """A chunk file that is not complete is never read back as a result."""
    first = make(2, chunk_size=2, memory=tmp_path)
    outputs = sorted(glob.glob(os.path.join(tmp_path, "sknmr_chunks", "*.npy")))
    assert len(outputs) == 3
    with open(outputs[0], "r+b") as f:
        f.truncate(os.path.getsize(outputs[0]) // 2)
    count_simulations.clear()
    with pytest.warns(RuntimeWarning, match="damaged"):
        second = make(2, chunk_size=2, memory=tmp_path)
    assert len(count_simulations) == 1
    assert_same(first, second)


def test_chunks_are_written_atomically(tmp_path, monkeypatch):
    """Each chunk file is written to a temporary name, then renamed."""
    moves = []
    original = os.replace

    def recording(src, dst):
        moves.append((os.fspath(src), os.fspath(dst)))
        return original(src, dst)

    monkeypatch.setattr(os, "replace", recording)
    make(1, memory=tmp_path)
    outputs = [dst for src, dst in moves if dst.endswith(".npy")]
    assert len(outputs) == 3
    # the sidecar, which commits a chunk, comes after its array
    assert [dst[:-5] for src, dst in moves if dst.endswith(".json")] == [
        dst[:-4] for dst in outputs
    ]
    assert all(
        src != dst and os.path.dirname(src) == os.path.dirname(dst)
        for src, dst in moves
    )


# -- Dask ----------------------------------------------------------------------
@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
@pytest.mark.slow
def test_dask_backend(tmp_path, processes, count_simulations):
    distributed = pytest.importorskip(
        "distributed", reason="the Dask path needs the 'dask' extra"
    )
    reference = make(3)
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=processes,
            threads_per_worker=1,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        bunch = make(3, chunk_size=1, memory=tmp_path)
    assert_same(bunch, reference)
    # the workers filled the cache: a local call now only reads
    assert len(glob.glob(os.path.join(tmp_path, "sknmr_chunks", "*.npy"))) == 9
    count_simulations.clear()
    assert_same(make(3, chunk_size=1, memory=tmp_path), reference)
    assert count_simulations == []


# -- bad input -----------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_per_kernel": 0}, ValueError, "n_per_kernel"),
        ({"n_per_kernel": -3}, ValueError, "n_per_kernel"),
        ({"n_per_kernel": 2.5}, ValueError, "n_per_kernel"),
        ({"n_per_kernel": None, "n_samples": 0}, ValueError, "n_samples"),
        ({"n_per_kernel": 2, "n_samples": 6}, ValueError, "at most one"),
        ({"n_per_kernel": 10**9}, ValueError, "echoes per kernel"),
        ({"kernels": ("gaussian", "yukawa")}, ValueError, "yukawa"),
        ({"kernels": ()}, ValueError, "at least one"),
        ({"kernels": ("power", "power")}, ValueError, "repeat"),
        ({"simulator": "numba"}, ValueError, "simulator"),
        ({"simulator": EchoSimulator(lattice_size=1)}, ValueError, "lattice_size"),
        ({"alpha_xy": (0.1, 0.01)}, ValueError, "alpha_xy"),
        ({"alpha_z": (-0.1, 0.1)}, ValueError, "alpha_z"),
        ({"alpha_xy": 0.05}, ValueError, "alpha_xy"),
        ({"W": (0.3, 0.1)}, ValueError, "W"),
        ({"W": (0.5, 0.9)}, ValueError, "W window"),
        ({"W": (0.0, 0.02)}, ValueError, "W window"),
        ({"lengths": {"gaussian": (0.0, 4.0)}}, ValueError, "lengths"),
        ({"lengths": {"yukawa": (1.0, 4.0)}}, ValueError, "unknown kernels"),
        ({"lengths": {"power": (3.0, 1.0)}}, ValueError, "lengths"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"memory": 3}, ValueError, "memory"),
        ({"return_X_y": "yes"}, ValueError, "return_X_y"),
        ({"as_frame": 1.0}, ValueError, "as_frame"),
    ],
)
def test_bad_input_fails_at_once(kwargs, error, match, count_simulations):
    args = {"n_per_kernel": 2, "simulator": tiny(), "random_state": 0} | kwargs
    with pytest.raises(error, match=match):
        make_echoes(**args)
    assert count_simulations == []


def test_unwritable_memory_folder(tmp_path, count_simulations):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="memory must be a folder that can be written"):
        make(2, memory=blocker / "cache")
    # a Memory whose folder was replaced by a file since it was made
    memory = joblib.Memory(str(tmp_path / "cache"), verbose=0)
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").write_text("not a folder either")
    with pytest.raises(ValueError, match="memory must be a folder that can be written"):
        make(2, memory=memory)
    assert count_simulations == []


def test_memory_without_location_caches_nothing(tmp_path, count_simulations):
    make(1, memory=joblib.Memory(None, verbose=0))
    make(1, memory=joblib.Memory(None, verbose=0))
    assert len(count_simulations) == 6


# -- save / load ---------------------------------------------------------------
@pytest.mark.parametrize("as_frame", [False, True])
@pytest.mark.parametrize("compress", [False, True])
def test_save_load_round_trip(tmp_path, as_frame, compress):
    bunch = make(2, simulator=tiny(output="complex"), as_frame=as_frame)
    path = tmp_path / "echoes.npz"
    assert save_echoes(bunch, path, compress=compress) == str(path)
    assert os.listdir(tmp_path) == ["echoes.npz"]  # no temporary left behind
    again = load_echoes(path)
    assert set(again) == set(bunch)
    for name in ("data", "frame", "target"):
        if isinstance(bunch[name], pd.DataFrame):
            pd.testing.assert_frame_equal(again[name], bunch[name])
        else:
            np.testing.assert_array_equal(again[name], bunch[name])
    for name in ("times", "feature_names", "echo_ids"):
        np.testing.assert_array_equal(again[name], bunch[name])
    assert again.target_names == bunch.target_names
    assert again.settings == bunch.settings
    assert again.DESCR == bunch.DESCR
    X, y = load_echoes(path, as_frame=False, return_X_y=True)
    np.testing.assert_array_equal(X, np.asarray(bunch.data))
    pd.testing.assert_frame_equal(y, bunch.target)


def test_save_overwrites_atomically(tmp_path, monkeypatch):
    path = tmp_path / "echoes.npz"
    save_echoes(make(1), path)
    before = path.read_bytes()

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(OSError, match="disk full"):
        save_echoes(make(2), path)
    assert path.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path) == ["echoes.npz"]


def test_save_and_load_bad_input(tmp_path):
    with pytest.raises(TypeError, match="make_echoes"):
        save_echoes(make(1, return_X_y=True), tmp_path / "x.npz")
    other = tmp_path / "other.npz"
    np.savez(other, data=np.zeros(3))
    with pytest.raises(ValueError, match="not a file written by save_echoes"):
        load_echoes(other)
