"""Datasets of several experiments on the same samples: make_echoes(sequences=...)."""

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.datasets import load_echoes, make_echoes, save_echoes
from sknmr.prior import PARAM_COLUMNS
from sknmr.sequences import cpmg, hahn_echo

SIM = EchoSimulator(lattice_size=6, dt=0.1, tau=2.0, backend="numpy")
SEQUENCES = {
    "hahn90": None,
    "hahn45": {"sequence": hahn_echo(2.0, angle=45.0), "output": "complex"},
    "cpmg": cpmg(1.0, 2),
}


@pytest.fixture(scope="module")
def bunch():
    return make_echoes(2, simulator=SIM, random_state=0, sequences=SEQUENCES)


def test_shapes_names_and_blocks(bunch):
    widths = {"hahn90": SIM.n_times, "hahn45": 60, "cpmg": 50}
    assert bunch.data.shape == (6, sum(widths.values()))
    assert np.iscomplexobj(bunch.data)  # one experiment records M(t)
    start = 0
    for name, width in widths.items():
        block = bunch.blocks[name]
        assert (block.start, block.stop) == (start, start + width)
        names = bunch.feature_names[block]
        assert all(n.startswith(f"{name}__") for n in names)
        assert bunch.times[block][0] == 0.0 and len(bunch.times[block]) == width
        start += width
    assert bunch.feature_names[bunch.blocks["hahn45"]][1] == "hahn45__M_t=0.100us"
    assert "measured by 3 experiments" in " ".join(bunch.DESCR.split())
    # magnitude blocks are real numbers stored in the complex array
    assert np.all(bunch.data[:, bunch.blocks["cpmg"]].imag == 0)


def test_every_experiment_measures_the_same_samples(bunch):
    """Each block equals the experiment simulated alone with the same echo ids."""
    table = bunch.target[list(PARAM_COLUMNS)]
    seed = bunch.settings["seed"]
    for name, value in SEQUENCES.items():
        settings = value if isinstance(value, dict) else {"sequence": value}
        sim = SIM.set_params(random_state=seed)
        if settings["sequence"] is not None:
            sim = EchoSimulator(
                lattice_size=6, dt=0.1, backend="numpy", random_state=seed
            ).set_params(**settings)
        alone = sim.simulate(table, echo_ids=bunch.echo_ids)
        np.testing.assert_array_equal(bunch.data[:, bunch.blocks[name]], alone)


def test_one_experiment_does_not_depend_on_the_others(bunch):
    fewer = make_echoes(
        2, simulator=SIM, random_state=0, sequences={"cpmg": SEQUENCES["cpmg"]}
    )
    np.testing.assert_array_equal(fewer.data, bunch.data[:, bunch.blocks["cpmg"]].real)
    single = make_echoes(2, simulator=SIM, random_state=0)
    np.testing.assert_array_equal(
        single.data, bunch.data[:, bunch.blocks["hahn90"]].real
    )


def test_jobs_and_chunks_do_not_change_the_data(bunch):
    other = make_echoes(
        2, simulator=SIM, random_state=0, sequences=SEQUENCES, n_jobs=2, chunk_size=1
    )
    np.testing.assert_array_equal(other.data, bunch.data)


def test_cached_experiments_are_read_back(tmp_path, monkeypatch):
    first = make_echoes(
        2, simulator=SIM, random_state=0, sequences=SEQUENCES, memory=tmp_path
    )

    def never(*args, **kwargs):
        raise AssertionError("simulated again instead of read from the cache")

    monkeypatch.setattr(EchoSimulator, "simulate", never)
    again = make_echoes(
        2,
        simulator=SIM,
        random_state=0,
        sequences={"cpmg": SEQUENCES["cpmg"], "hahn90": None},
        memory=tmp_path,
    )
    np.testing.assert_array_equal(
        again.data[:, again.blocks["cpmg"]], first.data[:, first.blocks["cpmg"]].real
    )
    with pytest.raises(AssertionError, match="simulated again"):
        make_echoes(
            2,
            simulator=SIM,
            random_state=0,
            sequences={"new": cpmg(1.0, 3)},
            memory=tmp_path,
        )


def test_save_and_load_keep_the_blocks(bunch, tmp_path):
    path = tmp_path / "multi.npz"
    save_echoes(bunch, path)
    loaded = load_echoes(path)
    np.testing.assert_array_equal(loaded.data, bunch.data)
    assert loaded.blocks == bunch.blocks
    assert list(loaded.feature_names) == list(bunch.feature_names)


@pytest.mark.parametrize(
    "sequences, error, match",
    [
        ({}, TypeError, "non-empty mapping"),
        ([("a", None)], TypeError, "sequences"),
        ({"": None}, ValueError, "non-empty strings"),
        ({"a__b": None}, ValueError, "without '__'"),
        ({1: None}, ValueError, "non-empty strings"),
        ({"a": "cpmg"}, TypeError, "PulseSequence, None or a dict"),
        ({"a": {"sequence": "cpmg"}}, TypeError, "must be a PulseSequence or None"),
        ({"a": {"dt": 0.2}}, ValueError, "time grid"),
        ({"a": {"output": "phase"}}, ValueError, "sequences\\['a'\\]"),
        ({"a": hahn_echo(0.05)}, ValueError, "sequences\\['a'\\]"),
    ],
)
def test_bad_sequences_are_refused_before_any_work(sequences, error, match):
    with pytest.raises(error, match=match):
        make_echoes(2, simulator=SIM, random_state=0, sequences=sequences)
