"""The simulator's general model: pulse sequences, anisotropic couplings, relaxation.

Closed forms at zero coupling, conservation laws and symmetries, and the
backends against the numpy reference on small lattices.
"""

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr._backends import available_backends
from sknmr.sequences import Pulse, PulseSequence, cpmg, hahn_echo, stimulated_echo

DT = 0.1
TAU = 2.0
BACKENDS = [b for b in ("numpy", "numba", "torch") if b in available_backends()]


def one_echo(**columns):
    row = {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.0, "alpha_z": 0.0}
    row.update(columns)
    return {k: [v] for k, v in row.items()}


def simulate(params=None, output="complex", **settings):
    settings = {
        "lattice_size": 6,
        "dt": DT,
        "random_state": 0,
        "backend": "numpy",
        "output": output,
        **settings,
    }
    return EchoSimulator(**settings).simulate(params or one_echo())[0]


def step_of(time):
    return int(round(time / DT))


# -- closed forms without coupling -------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_cpmg_refocuses_every_echo_without_coupling(backend):
    sequence = cpmg(TAU, n_echoes=4)
    m = simulate(sequence=sequence, backend=backend)
    for echo in sequence.echo_times:
        assert abs(m[step_of(echo)]) == pytest.approx(0.5, abs=1e-5)
    # between echoes the offsets dephase the spins
    assert abs(m[step_of(3 * TAU)]) < 0.4


@pytest.mark.parametrize("backend", BACKENDS)
def test_stimulated_echo_has_half_the_initial_amplitude(backend):
    """A finite lattice does not average the other pathways (FIDs, the Hahn
    echoes of pulse pairs) away, so they are cancelled exactly by a four-step
    cycle of the second pulse's phase: averaging ``M exp(-i phi_2)`` keeps
    only the signal that turns with that phase as ``exp(+i phi_2)``, the one
    stored along z between the second and third pulses."""
    mixing = 1.5
    (echo,) = stimulated_echo(TAU, mixing_time=mixing).echo_times
    cycled = 0
    for phase in (0.0, 90.0, 180.0, 270.0):
        sequence = PulseSequence(
            [Pulse(0.0, 90.0), Pulse(TAU, 90.0, phase), Pulse(TAU + mixing, 90.0)],
            duration=3 * TAU + mixing,
        )
        m = simulate(sequence=sequence, backend=backend, lattice_size=8)
        cycled = cycled + m * np.exp(-1j * np.deg2rad(phase)) / 4
    assert abs(cycled[step_of(echo)]) == pytest.approx(0.25, abs=1e-5)
    # the factory's pulses are the first of those sequences
    assert stimulated_echo(TAU, mixing_time=mixing).pulses == (
        Pulse(0.0, 90.0),
        Pulse(TAU, 90.0),
        Pulse(TAU + mixing, 90.0),
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_hahn_echo_with_t2_decays_exactly(backend):
    t2 = 7.0
    m = simulate(t2=t2, backend=backend, tau=TAU)
    n_tau = step_of(TAU)
    expected = 0.5 * np.exp(-2 * n_tau * DT / t2)
    assert abs(m[2 * n_tau]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_t1_recovers_the_polarisation_after_a_90_degree_pulse(backend):
    t1 = 3.0
    sequence = PulseSequence([Pulse(0.0, 90.0)], duration=5.0)
    iz = simulate(sequence=sequence, t1=t1, output="z", backend=backend)
    t = np.arange(len(iz)) * DT
    np.testing.assert_allclose(iz, 0.5 * (1 - np.exp(-t / t1)), atol=1e-12)


def test_per_echo_relaxation_columns_override_the_simulators():
    params = one_echo(t2=7.0)
    params["t1"] = [np.nan]  # NaN keeps the simulator's (none)
    per_echo = simulate(params, tau=TAU, t2=50.0)
    assert per_echo == pytest.approx(simulate(tau=TAU, t2=7.0), abs=0)


# -- conservation and bounds ---------------------------------------------------
def test_the_unitary_part_keeps_every_spin_length():
    from sknmr._backends import numpy_backend

    rng = np.random.default_rng(0)
    spins = rng.normal(size=(3, 5, 5))
    field = rng.normal(size=(3, 5, 5))
    rotated = numpy_backend.rotate(spins, field, 0.7)
    np.testing.assert_allclose(
        (rotated**2).sum(axis=0), (spins**2).sum(axis=0), rtol=1e-13
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_with_relaxation_no_spin_grows_beyond_one_half(backend, monkeypatch):
    """Record every nucleus' length through a coupled run with T1 and T2."""
    from sknmr._backends import numpy_backend

    lengths = []
    relax = numpy_backend.relax

    def recording(spins, *args):
        out = relax(spins, *args)
        lengths.append(np.sqrt((out**2).sum(axis=0)).max())
        return out

    monkeypatch.setattr(numpy_backend, "relax", recording)
    params = one_echo(alpha_xy=0.4, alpha_z=0.3, kernel="power", length=1.0)
    simulate(params, tau=TAU, t1=2.0, t2=1.5, backend="numpy")
    assert lengths and max(lengths) <= 0.5 + 1e-12
    # and the lattice magnetisation of every backend stays within the ball
    m = simulate(params, tau=TAU, t1=2.0, t2=1.5, backend=backend)
    iz = simulate(params, tau=TAU, t1=2.0, t2=1.5, backend=backend, output="z")
    assert np.all(np.abs(m) ** 2 + iz**2 <= 0.25 + 1e-12)


# -- pulses --------------------------------------------------------------------
def test_hahn_echo_with_twice_the_angle_equals_the_default():
    default = simulate(one_echo(alpha_xy=0.2, alpha_z=0.1), tau=TAU, pulse_angle=60.0)
    sequence = hahn_echo(TAU, angle=60.0, refocus_angle=120.0)
    explicit = simulate(one_echo(alpha_xy=0.2, alpha_z=0.1), sequence=sequence)
    assert explicit.shape == default.shape
    np.testing.assert_array_equal(explicit, default)


def test_default_simulator_equals_its_hahn_sequence_off_grid():
    """tau off the grid: the default puts the pulse at round(tau/dt) dt."""
    tau = 2.04  # 20.4 steps
    default = EchoSimulator(lattice_size=6, dt=DT, tau=tau, random_state=0)
    on_grid = EchoSimulator(
        lattice_size=6,
        dt=DT,
        random_state=0,
        sequence=hahn_echo(default.n_tau * DT, duration=3 * default.n_tau * DT),
    )
    params = one_echo(alpha_xy=0.2)
    np.testing.assert_array_equal(default.simulate(params), on_grid.simulate(params))
    np.testing.assert_allclose(default.pulse_times, [0.0, 2.0])
    assert default.n_times == 3 * default.n_tau == 60


def test_a_pulse_of_450_degrees_is_one_of_90():
    params = one_echo(alpha_xy=0.2, alpha_z=0.1)
    m90 = simulate(params, sequence=hahn_echo(TAU, angle=90.0, refocus_angle=180.0))
    m450 = simulate(params, sequence=hahn_echo(TAU, angle=450.0, refocus_angle=180.0))
    np.testing.assert_allclose(m450, m90, atol=1e-12)


def test_a_pulse_of_angle_zero_changes_nothing():
    params = one_echo(alpha_xy=0.2, alpha_z=0.1)
    base = PulseSequence([Pulse(0.0, 90.0), Pulse(TAU, 180.0, "y")], 3 * TAU)
    with_zero = PulseSequence(
        [Pulse(0.0, 90.0), Pulse(1.0, 0.0, "x"), Pulse(TAU, 180.0, "y")], 3 * TAU
    )
    np.testing.assert_array_equal(
        simulate(params, sequence=with_zero), simulate(params, sequence=base)
    )


def test_without_a_pulse_at_zero_nothing_precesses():
    sequence = PulseSequence([Pulse(1.0, 90.0)], duration=2.0)
    m = simulate(one_echo(alpha_xy=0.2), sequence=sequence)
    assert np.all(m[: step_of(1.0)] == 0)
    assert abs(m[step_of(1.0)]) == pytest.approx(0.5)


def test_sequence_and_hahn_parameters_cannot_both_be_set():
    with pytest.raises(ValueError, match="sequence replaces the Hahn-echo"):
        simulate(sequence=hahn_echo(TAU), tau=3.0)
    with pytest.raises(ValueError, match="dephasing_rate and t2"):
        simulate(t2=3.0, dephasing_rate=0.1)
    with pytest.raises(ValueError, match="t2 must be at most 2 \\* t1"):
        simulate(t1=1.0, t2=3.0)
    with pytest.raises(ValueError, match="t2 must be at most 2 \\* t1"):
        simulate(one_echo(t2=3.0), t1=1.0)


def test_times_and_feature_names_follow_the_sequence():
    sim = EchoSimulator(dt=DT, sequence=cpmg(TAU, n_echoes=2))
    assert sim.n_times == step_of(5 * TAU)
    np.testing.assert_allclose(sim.times, np.arange(sim.n_times) * DT)
    np.testing.assert_allclose(sim.echo_times, [2 * TAU, 4 * TAU])
    np.testing.assert_allclose(sim.pulse_times, [0.0, TAU, 3 * TAU])
    assert len(sim.get_feature_names_out()) == sim.n_times


# -- anisotropic couplings -----------------------------------------------------
ANISOTROPIC = {
    "kernel": ["gaussian", "power", "rkky"],
    "length": [2.0, 1.5, 3.0],
    "alpha_x": [0.3, 0.05, 0.0],
    "alpha_y": [0.05, 0.25, 0.2],
    "alpha_z": [0.1, 0.0, 0.15],
}


def test_alpha_xy_is_alpha_x_equal_to_alpha_y():
    a = simulate(one_echo(alpha_xy=0.2, alpha_z=0.1), tau=TAU)
    params = one_echo(alpha_z=0.1)
    del params["alpha_xy"]
    b = simulate({**params, "alpha_x": [0.2], "alpha_y": [0.2]}, tau=TAU)
    np.testing.assert_array_equal(a, b)


def test_swapping_alpha_x_and_alpha_y_is_a_quarter_turn_of_the_experiment():
    """H is equivariant under a 90 degree turn about z that swaps x and y: with
    alpha_x and alpha_y swapped and every pulse phase advanced by 90 degrees,
    M(t) turns by 90 degrees, M' = i M (same offsets, same seed)."""
    table = {k: v[:2] for k, v in ANISOTROPIC.items()}
    swapped = {**table, "alpha_x": table["alpha_y"], "alpha_y": table["alpha_x"]}
    sequence = hahn_echo(TAU, angle=70.0, refocus_angle=150.0, refocus_phase="y")
    turned = PulseSequence(
        [Pulse(0.0, 70.0, "y"), Pulse(TAU, 150.0, "-x")], sequence.duration
    )
    sim = EchoSimulator(lattice_size=6, dt=DT, random_state=1, output="complex")
    m = sim.set_params(sequence=sequence).simulate(table)
    m_turned = sim.set_params(sequence=turned).simulate(swapped)
    np.testing.assert_allclose(m_turned, 1j * m, atol=1e-12)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 2e-4)])
def test_backends_agree_on_the_general_model(dtype, tol):
    if "numba" not in available_backends():
        pytest.skip("numba is not installed")
    table = dict(ANISOTROPIC)
    table["t2"] = [4.0, np.nan, 9.0]
    table["t1"] = [3.0, 5.0, np.nan]
    settings = dict(
        lattice_size=7,
        dt=DT,
        sequence=cpmg(TAU, 2, angle=75.0, refocus_angle=160.0, refocus_phase=30.0),
        random_state=3,
        output="complex",
        dtype=dtype,
    )
    reference = EchoSimulator(backend="numpy", **settings).simulate(table)
    fast = EchoSimulator(backend="numba", batch_size=2, **settings).simulate(table)
    np.testing.assert_allclose(fast, reference, atol=tol)
    iz_ref = EchoSimulator(backend="numpy", **{**settings, "output": "z"})
    iz = EchoSimulator(backend="numba", **{**settings, "output": "z"})
    np.testing.assert_allclose(iz.simulate(table), iz_ref.simulate(table), atol=tol)


def test_numba_lattice_of_several_segments():
    """The numba backend updates each flattened lattice in segments of
    ``_SEGMENT`` spins: a lattice of two segments, the second partial, keeps
    agreeing with the numpy reference (pulses, T1, T2 and the z coupling on)
    and with itself whatever the batch."""
    if "numba" not in available_backends():
        pytest.skip("numba is not installed")
    from sknmr._backends import numba_backend

    n = 23  # 529 spins
    assert numba_backend._SEGMENT < n * n < 2 * numba_backend._SEGMENT
    table = dict(ANISOTROPIC)
    table["t2"] = [4.0, np.nan, 9.0]
    table["t1"] = [3.0, 5.0, np.nan]
    settings = dict(
        lattice_size=n,
        dt=DT,
        sequence=hahn_echo(TAU, angle=80.0, refocus_angle=170.0),
        random_state=4,
        output="complex",
    )
    reference = EchoSimulator(backend="numpy", **settings).simulate(table)
    fast = EchoSimulator(backend="numba", batch_size=3, **settings).simulate(table)
    np.testing.assert_allclose(fast, reference, atol=1e-10)
    alone = EchoSimulator(backend="numba", batch_size=1, **settings).simulate(table)
    np.testing.assert_array_equal(alone, fast)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numba_fft_methods_agree_and_never_depend_on_batching(dtype, monkeypatch):
    """torch's and scipy's FFTs give the same echoes to rounding, and each gives
    bit-identical echoes whatever the batch size and thread count (an odd
    lattice, a complex spectrum, the z convolution on)."""
    if "numba" not in available_backends():
        pytest.skip("numba is not installed")
    from sknmr._backends import numba_backend

    table = {
        "kernel": ["gaussian", "power", "rkky", "gaussian", "uniform"],
        "length": [2.0, 1.5, 3.0, 1.2, 2.0],
        "alpha_x": [0.3, 0.05, 0.0, 0.2, 0.1],
        "alpha_y": [0.05, 0.25, 0.2, 0.2, 0.1],
        "alpha_z": [0.1, 0.0, 0.15, 0.05, 0.2],
        "p_wave": [0.4, np.nan, np.nan, np.nan, np.nan],
    }
    settings = dict(lattice_size=7, dt=DT, tau=TAU, random_state=2, dtype=dtype)
    runs = {}
    for method in ("scipy", "torch"):
        monkeypatch.setattr(numba_backend, "FFT_METHOD", method)
        ref = EchoSimulator(backend="numba", batch_size=5, n_jobs=1, **settings)
        runs[method] = ref.simulate(table)
        for batch_size, n_jobs in [(1, 1), (2, 2), (3, -1)]:
            sim = EchoSimulator(
                backend="numba", batch_size=batch_size, n_jobs=n_jobs, **settings
            )
            np.testing.assert_array_equal(sim.simulate(table), runs[method])
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(runs["torch"], runs["scipy"], atol=tol)


def test_numba_fft_method_is_checked(monkeypatch):
    from sknmr._backends import numba_backend

    monkeypatch.setattr(numba_backend, "FFT_METHOD", "fftw")
    with pytest.raises(ValueError, match="SKNMR_NUMBA_FFT"):
        numba_backend.fft_method()
