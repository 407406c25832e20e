"""The experiment record: one description of what a simulator simulates."""

import json

import numpy as np
import pytest

from sknmr import EchoSimulator, Experiment
from sknmr.datasets import make_echoes
from sknmr.experiment import legacy_experiment
from sknmr.lattices import Lattice
from sknmr.sequences import cpmg, hahn_echo, stimulated_echo


def test_default_is_the_hahn_echo_of_tau_one_grid():
    """EchoSimulator() and EchoSimulator(sequence=hahn_echo(100.0)) are one
    experiment: the same 1884 samples, the same record, the same key."""
    default = EchoSimulator()
    explicit = EchoSimulator(sequence=hahn_echo(100.0))
    assert default.n_times == explicit.n_times == 1884
    assert default.experiment == explicit.experiment
    assert default.experiment.key() == explicit.experiment.key()
    np.testing.assert_array_equal(default.times, explicit.times)
    assert default.experiment.echo_steps == (1256,)


@pytest.mark.parametrize("tau", [1.0, 2.37, 10.03, 55.5])
@pytest.mark.parametrize("dt", [0.1, 1 / (2 * np.pi), 0.37])
def test_hahn_sequence_samples_as_the_default_off_grid(tau, dt):
    a = EchoSimulator(lattice_size=4, tau=tau, dt=dt).experiment
    b = EchoSimulator(lattice_size=4, dt=dt, sequence=hahn_echo(tau)).experiment
    assert a == b
    n_tau = round(tau / dt)
    assert a.n_times == 3 * n_tau
    assert a.grid.pulse_steps == (0, n_tau)


def test_default_echoes_are_unchanged_by_the_record():
    """The echoes of a Hahn sequence equal the default simulator's, bit for bit."""
    params = {"kernel": "gaussian", "length": 3.0, "alpha_xy": 0.05, "alpha_z": 0.02}
    a = EchoSimulator(lattice_size=6, tau=2.3, backend="numpy", random_state=0)
    b = EchoSimulator(
        lattice_size=6, sequence=hahn_echo(2.3), backend="numpy", random_state=0
    )
    np.testing.assert_array_equal(a.simulate(params), b.simulate(params))


@pytest.mark.parametrize(
    "sequence",
    [hahn_echo(3.0, 45.0), cpmg(2.0, 3), stimulated_echo(1.0, 2.0)],
    ids=["hahn45", "cpmg", "stimulated"],
)
def test_round_trip_and_from_experiment(sequence):
    sim = EchoSimulator(
        lattice_size=5, dt=0.1, sequence=sequence, output="complex", t1=40.0, t2=30.0
    )
    experiment = sim.experiment
    values = json.loads(json.dumps(experiment.to_dict()))  # JSON-safe
    again = Experiment.from_dict(values)
    assert again == experiment
    assert again.key() == experiment.key()
    assert hash(again) == hash(experiment)
    rebuilt = EchoSimulator.from_experiment(experiment, backend="numpy")
    assert rebuilt.experiment == experiment
    assert rebuilt.backend == "numpy"
    # the echo window sits on the first echo, +- a third of its own tau
    center, half = experiment.echo_window
    assert center == pytest.approx(experiment.echo_times[0])
    assert half == pytest.approx(experiment.tau / 3)


def test_the_key_changes_with_every_setting():
    base = EchoSimulator(lattice_size=5, tau=2.0)
    keys = {base.experiment.key()}
    for change in (
        {"lattice_size": 6},
        {"lattice": "triangular"},
        {"tau": 2.5},
        {"dt": 0.1},
        {"linewidth": 0.1},
        {"cutoff": 0.3},
        {"pulse_angle": 45.0},
        {"refocus_axis": "x"},
        {"output": "complex"},
        {"t1": 50.0},
        {"t2": 50.0},
        {"dephasing_rate": 0.01},
    ):
        settings = {"lattice_size": 5, "tau": 2.0, **change}
        keys.add(EchoSimulator(**settings).experiment.key())
    assert len(keys) == 13
    # numerical settings are not part of the experiment
    numerics = EchoSimulator(
        lattice_size=5, tau=2.0, backend="numpy", batch_size=3, n_jobs=2, verbose=1
    )
    assert numerics.experiment == base.experiment


def test_differences_split_grid_and_physics():
    a = EchoSimulator(lattice_size=5, tau=2.0).experiment
    grid, physics = a.differences(EchoSimulator(lattice_size=7, tau=3.0).experiment)
    assert any(item.startswith("sequence=") for item in grid)
    assert any(item.startswith("n_times=") for item in grid)
    assert physics == ["lattice=Lattice.square(7) (not Lattice.square(5))"]
    assert a.differences(a) == ([], [])


def test_bunch_carries_its_experiments():
    sim = EchoSimulator(lattice_size=4, tau=2.0)
    bunch = make_echoes(1, simulator=sim, random_state=0)
    assert bunch.experiment == sim.experiment
    blocks = make_echoes(
        1,
        simulator=sim,
        sequences={"hahn": None, "cpmg": cpmg(1.0, 2)},
        random_state=0,
    )
    assert blocks.experiments["hahn"] == sim.experiment
    assert blocks.experiments["cpmg"].sequence == cpmg(1.0, 2)
    # one experiment, one grid: the default Hahn echo can sit beside its sequence
    named = make_echoes(
        1, simulator=sim, sequences={"h": hahn_echo(2.0), "own": None}, random_state=0
    )
    h, own = named.blocks["h"], named.blocks["own"]
    np.testing.assert_array_equal(named.data[:, h], named.data[:, own])


def test_legacy_settings_are_read_once():
    """Settings stored before the record (a flat dict of simulator parameters)."""
    stored = {
        "lattice_size": 8,
        "dt": 0.2,
        "tau": 3.0,
        "linewidth": 0.1,
        "cutoff": 0.25,
        "pulse_angle": 90.0,
        "refocus_axis": "y",
        "dephasing_rate": 0.0,
        "output": "magnitude",
        "backend": "numba",
        "dtype": "float32",
    }
    assert (
        legacy_experiment(stored)
        == EchoSimulator(lattice_size=8, dt=0.2, tau=3.0, linewidth=0.1).experiment
    )


@pytest.mark.parametrize(
    "values, match",
    [
        ({"format": "other"}, "format"),
        ("not a dict", "format"),
        ({**EchoSimulator(tau=2.0).experiment.to_dict(), "extra": 1}, "Unknown"),
    ],
)
def test_from_dict_refuses_what_it_does_not_describe(values, match):
    with pytest.raises(ValueError, match=match):
        Experiment.from_dict(values)


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"sequence": "hahn"}, TypeError, "sequence must be a PulseSequence"),
        ({"dt": -1.0}, ValueError, "dt must be a finite number > 0"),
        ({"dt": float("nan")}, ValueError, "dt must be"),
        ({"lattice": 4}, TypeError, "lattice must be an sknmr.lattices.Lattice"),
        ({"output": "phase"}, ValueError, "output must be one of"),
        ({"t2": 0.0}, ValueError, "t2 must be"),
        ({"dephasing_rate": -1.0}, ValueError, "dephasing_rate must be"),
    ],
)
def test_bad_fields_are_refused(change, error, match):
    fields = {
        "sequence": hahn_echo(2.0),
        "dt": 0.1,
        "lattice": Lattice.square(4),
        "linewidth": 0.08,
        "cutoff": 0.25,
        **change,
    }
    with pytest.raises(error, match=match):
        Experiment(**fields)


def test_from_experiment_takes_only_numerical_settings():
    experiment = EchoSimulator(tau=2.0).experiment
    with pytest.raises(TypeError, match="tau"):
        EchoSimulator.from_experiment(experiment, tau=3.0)
    with pytest.raises(TypeError, match="must be an sknmr.Experiment"):
        EchoSimulator.from_experiment(experiment.to_dict())
