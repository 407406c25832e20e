"""The torch backend against the numpy reference, its batching, its device."""

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.sequences import Pulse, PulseSequence, cpmg, hahn_echo, stimulated_echo

torch = pytest.importorskip("torch")

KERNEL_ROWS = {
    "kernel": ["gaussian", "power", "rkky", "uniform", "gaussian", "power"],
    "length": [3.0, 2.0, 13.0, 2.0, 2.5, 1.5],
    "alpha_x": [0.05, 0.04, 0.03, 0.06, 0.05, 0.02],
    "alpha_y": [0.03, 0.05, 0.02, 0.01, 0.05, 0.04],
    "alpha_z": [0.02, 0.0, 0.05, 0.03, 0.04, 0.06],
    "t1": [50.0, np.nan, 80.0, np.nan, np.nan, 40.0],
    "t2": [30.0, 20.0, np.nan, np.nan, np.nan, 60.0],
    # a stretched gaussian, a p- and d-wave (complex spectrum), staggered
    "exponent": [np.nan, np.nan, np.nan, np.nan, 1.3, np.nan],
    "p_wave": [np.nan, 0.4, np.nan, np.nan, np.nan, np.nan],
    "d_wave": [np.nan, np.nan, np.nan, 0.3, np.nan, np.nan],
    "staggered": [np.nan, np.nan, np.nan, np.nan, 1.0, np.nan],
}
SEQUENCES = {
    "hahn": None,
    "hahn_x": hahn_echo(1.0, angle=60.0, refocus_phase="x", duration=3.0),
    "cpmg": cpmg(0.8, n_echoes=2),
    "stimulated": stimulated_echo(0.8, mixing_time=0.5),
    "step0_odd_phases": PulseSequence(
        [Pulse(0.0, 120.0, 45.0), Pulse(0.1, 30.0, "y"), Pulse(1.0, 200.0, "-y")], 2.5
    ),
}
ONE_ECHO = {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.1, "alpha_z": 0.0}
TOLERANCE = {"float64": 1e-12, "float32": 2e-5}


def run(backend, sequence=None, dtype="float64", output="complex", **settings):
    kw = {"lattice_size": 8, "dt": 0.1, "random_state": 3, "output": output}
    if sequence is None:
        kw["tau"] = 1.0
    return EchoSimulator(
        backend=backend, sequence=sequence, dtype=dtype, **kw, **settings
    ).simulate(KERNEL_ROWS)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sequence", list(SEQUENCES))
@pytest.mark.parametrize("output", ["complex", "z"])
def test_agrees_with_numpy_reference(sequence, dtype, output):
    ref = run("numpy", SEQUENCES[sequence], dtype, output)
    got = run("torch", SEQUENCES[sequence], dtype, output)
    assert got.dtype == ref.dtype
    assert np.abs(got - ref).max() <= TOLERANCE[dtype]
    assert np.abs(ref).max() > 1e-2  # a signal, not zeros


def test_magnitude_output_and_simulator_relaxation():
    kw = {"t1": 30.0, "t2": 12.0, "output": "magnitude"}
    ref = run("numpy", **kw)
    got = run("torch", **kw)
    assert np.abs(got - ref).max() <= 1e-12


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bit_identical_whatever_the_batch_size_and_threads(dtype):
    full = run("torch", SEQUENCES["cpmg"], dtype)
    for batch_size in (1, 2, 4):
        alone = run("torch", SEQUENCES["cpmg"], dtype, batch_size=batch_size)
        np.testing.assert_array_equal(alone, full)
    np.testing.assert_array_equal(run("torch", SEQUENCES["cpmg"], dtype), full)
    np.testing.assert_array_equal(
        run("torch", SEQUENCES["cpmg"], dtype, n_jobs=2), full
    )


def test_threads_restored():
    before = torch.get_num_threads()
    run("torch", n_jobs=1)
    assert torch.get_num_threads() == before


def test_device_cpu_is_the_default():
    np.testing.assert_array_equal(run("torch", device="cpu"), run("torch"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_missing_device_refused_before_work():
    sim = EchoSimulator(backend="torch", device="cuda", lattice_size=4, tau=1.0)
    with pytest.raises(ValueError, match="device='cuda' is not available"):
        sim.simulate(
            {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.1, "alpha_z": 0.0}
        )


@pytest.mark.parametrize("device", ["gpu0", "cuda:x", 3])
def test_bad_device_refused(device):
    sim = EchoSimulator(backend="torch", device=device, lattice_size=4, tau=1.0)
    with pytest.raises(ValueError, match="device"):
        sim.simulate(ONE_ECHO)


def test_device_needs_the_torch_backend():
    sim = EchoSimulator(backend="numpy", device="cpu", lattice_size=4, tau=1.0)
    with pytest.raises(ValueError, match="backend='torch'"):
        sim.simulate(ONE_ECHO)


def test_auto_never_picks_torch():
    from sknmr._backends import available_backends, resolve

    assert available_backends()[-1] == "torch"
    assert resolve("auto").name != "torch"


def test_device_in_the_dataset_cache_key():
    from sknmr.datasets._echoes import _simulation_key

    def key(**kw):
        return _simulation_key(EchoSimulator(lattice_size=4, tau=1.0, **kw), 0)

    assert key(backend="torch")["settings"]["device"] == "cpu"
    assert key(backend="torch", device="cpu") == key(backend="torch")
    assert "device" not in key(backend="numpy")["settings"]
