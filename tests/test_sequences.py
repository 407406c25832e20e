"""Tests of sknmr.sequences: pulses, sequences, factories and the time grid."""

import dataclasses
import math

import joblib
import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr._physics import REFOCUS_AXES, pulse_matrix
from sknmr.sequences import (
    Pulse,
    PulseSequence,
    SequenceGrid,
    cpmg,
    hahn_echo,
    stimulated_echo,
)


def _summary(seq):
    return [(p.time, p.angle, p.phase) for p in seq]


# --- factories ----------------------------------------------------------------


def test_hahn_echo_defaults():
    seq = hahn_echo()
    assert _summary(seq) == [(0.0, 90.0, "x"), (100.0, 180.0, "y")]
    assert seq.echo_times == (200.0,)
    assert seq.duration == 300.0
    assert len(seq) == 2


def test_hahn_echo_refocus_angle_defaults_to_twice_angle():
    seq = hahn_echo(10.0, angle=35.0)
    assert [p.angle for p in seq] == [35.0, 70.0]
    seq = hahn_echo(10.0, angle=35.0, refocus_angle=180.0, refocus_phase="-x")
    assert _summary(seq) == [(0.0, 35.0, "x"), (10.0, 180.0, "-x")]


def test_hahn_echo_duration_and_numeric_phase():
    seq = hahn_echo(10.0, refocus_phase=45, duration=25)
    assert seq.duration == 25.0
    assert seq.pulses[1].phase == 45.0
    assert seq.echo_times == (20.0,)


def test_cpmg():
    seq = cpmg(10.0, 4)
    assert _summary(seq) == [
        (0.0, 90.0, "x"),
        (10.0, 180.0, "y"),
        (30.0, 180.0, "y"),
        (50.0, 180.0, "y"),
        (70.0, 180.0, "y"),
    ]
    assert seq.echo_times == (20.0, 40.0, 60.0, 80.0)
    assert seq.duration == 90.0
    one = cpmg(3.0, 1, angle=45.0, refocus_angle=90.0, refocus_phase="x")
    assert _summary(one) == [(0.0, 45.0, "x"), (3.0, 90.0, "x")]
    assert one.echo_times == (6.0,)
    assert one.duration == 9.0


def test_stimulated_echo():
    seq = stimulated_echo(10.0, 50.0, angle=60.0)
    assert _summary(seq) == [(0.0, 60.0, "x"), (10.0, 60.0, "x"), (60.0, 60.0, "x")]
    assert seq.echo_times == (70.0,)
    assert seq.duration == 80.0
    assert stimulated_echo(10.0, 50.0, duration=100.0).duration == 100.0


def test_default_echo_chain_matches_factories():
    for seq in (hahn_echo(7.0), cpmg(2.5, 5)):
        assert PulseSequence(seq.pulses, seq.duration) == seq
    # Pulses at 0, 10 and 15: the echo of 20 is mirrored to 10, before the
    # third pulse, so only 20 is kept; a fourth pulse at 40 mirrors 10 to 70.
    pulses = [Pulse(0, 90), Pulse(10, 180), Pulse(15, 180), Pulse(40, 180)]
    assert PulseSequence(pulses, 100.0).echo_times == (20.0, 70.0)
    assert PulseSequence(pulses, 70.0).echo_times == (20.0,)
    assert PulseSequence([Pulse(5.0, 90.0)], 10.0).echo_times == ()


def test_explicit_echo_times_are_sorted_floats():
    seq = PulseSequence([Pulse(0, 90)], 10, echo_times=[7, 3.5])
    assert seq.echo_times == (3.5, 7.0)
    assert all(type(t) is float for t in seq.echo_times)
    assert PulseSequence([Pulse(0, 90)], 10, echo_times=()).echo_times == ()


# --- equality, hashing, immutability, repr -----------------------------------------


def test_equal_sequences_compare_and_hash_equal():
    a, b = cpmg(10.0, 3), cpmg(10, 3)
    assert a == b and a is not b
    assert hash(a) == hash(b)
    assert joblib.hash(a) == joblib.hash(b)
    assert {a: "cached"}[b] == "cached"
    # Built by hand in another order, with ints: the same sequence.
    c = PulseSequence(list(reversed(a.pulses)), 70, echo_times=[60, 20, 40])
    assert c == a and hash(c) == hash(a) and joblib.hash(c) == joblib.hash(a)
    assert joblib.hash(a) == joblib.hash(a)


def test_different_sequences_differ():
    base = hahn_echo(10.0)
    others = [
        hahn_echo(11.0),
        hahn_echo(10.0, angle=45.0),
        hahn_echo(10.0, refocus_phase="x"),
        hahn_echo(10.0, duration=40.0),
        PulseSequence(base.pulses, base.duration, echo_times=(21.0,)),
        cpmg(10.0, 1, refocus_angle=170.0),
    ]
    for other in others:
        assert other != base
        assert joblib.hash(other) != joblib.hash(base)
    assert len({base, *others}) == len(others) + 1
    # cpmg(10, 1) differs from hahn_echo(10) only in its duration.
    assert cpmg(10.0, 1, duration=30.0) == base


def test_pulses_equal_and_hash():
    assert Pulse(1, 2, "y") == Pulse(1.0, 2.0, "y")
    assert hash(Pulse(1, 2, 90)) == hash(Pulse(1.0, 2.0, 90.0))
    assert Pulse(-0.0, 90) == Pulse(0.0, 90)
    assert joblib.hash(Pulse(-0.0, 90)) == joblib.hash(Pulse(0.0, 90))
    assert Pulse(1, 2, "y") != Pulse(1, 2, "x")
    # Stored as given: a name and its number are different pulses...
    assert Pulse(0, 90, "y") != Pulse(0, 90, 90.0)
    # ...with the same rotation.
    assert np.array_equal(Pulse(0, 90, "y").rotation(), Pulse(0, 90, 90.0).rotation())


def test_immutability():
    pulse = Pulse(0.0, 90.0)
    seq = hahn_echo(10.0)
    with pytest.raises(AttributeError):
        pulse.angle = 45.0
    with pytest.raises(AttributeError):
        seq.duration = 50.0
    with pytest.raises(AttributeError):
        seq.pulses = ()
    assert isinstance(seq.pulses, tuple) and isinstance(seq.echo_times, tuple)
    # rotation() returns a fresh array each time.
    rotation = pulse.rotation()
    rotation[:] = 0.0
    assert np.array_equal(pulse.rotation(), pulse_matrix(REFOCUS_AXES["x"], 90.0))


def test_pulses_sorted_by_time_and_iteration():
    pulses = [Pulse(30.0, 180.0), Pulse(0.0, 90.0), Pulse(10.0, 180.0, "y")]
    seq = PulseSequence(pulses, 40.0)
    assert [p.time for p in seq.pulses] == [0.0, 10.0, 30.0]
    assert list(seq) == list(seq.pulses)
    assert len(seq) == 3
    assert PulseSequence(tuple(pulses), 40.0) == seq
    assert PulseSequence(iter(pulses), 40.0) == seq


def test_repr():
    assert repr(Pulse(100, 180, "y")) == "Pulse(time=100.0, angle=180.0, phase='y')"
    assert repr(Pulse(1, 2, 45)) == "Pulse(time=1.0, angle=2.0, phase=45.0)"
    seq = hahn_echo(10.0)
    assert repr(seq) == (
        "PulseSequence(pulses=(Pulse(time=0.0, angle=90.0, phase='x'), "
        "Pulse(time=10.0, angle=180.0, phase='y')), duration=30.0, "
        "echo_times=(20.0,))"
    )
    namespace = {"Pulse": Pulse, "PulseSequence": PulseSequence}
    assert eval(repr(seq), namespace) == seq
    assert eval(repr(Pulse(1, 2, 45)), namespace) == Pulse(1, 2, 45)


def test_phase_degrees():
    assert Pulse(0, 90, "x").phase_degrees == 0.0
    assert Pulse(0, 90, "y").phase_degrees == 90.0
    assert Pulse(0, 90, "-x").phase_degrees == 180.0
    assert Pulse(0, 90, "-y").phase_degrees == 270.0
    assert Pulse(0, 90, 450).phase_degrees == 90.0
    assert Pulse(0, 90, -90).phase_degrees == 270.0
    assert Pulse(0, 90, 360).phase_degrees == 0.0
    assert Pulse(0, 90, -1e-20).phase_degrees == 0.0  # not 360.0
    assert Pulse(0, 90, 720.5).phase_degrees == 0.5
    assert isinstance(Pulse(0, 90, np.int64(90)).phase, float)


# --- validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"time": -1.0, "angle": 90.0}, ValueError, "time must be"),
        ({"time": math.nan, "angle": 90.0}, ValueError, "time must be .*got nan"),
        ({"time": math.inf, "angle": 90.0}, ValueError, "time must be"),
        ({"time": "0", "angle": 90.0}, TypeError, "time must be"),
        ({"time": True, "angle": 90.0}, TypeError, "time must be .*bool"),
        ({"time": 0.0, "angle": -90.0}, ValueError, r"angle must be .*>= 0"),
        ({"time": 0.0, "angle": True}, TypeError, "angle must be .*bool"),
        ({"time": 0.0, "angle": math.nan}, ValueError, "angle must be"),
        ({"time": 0.0, "angle": None}, TypeError, "angle must be"),
        ({"time": 0.0, "angle": 90, "phase": "z"}, ValueError, "phase must be"),
        ({"time": 0.0, "angle": 90, "phase": "+x"}, ValueError, "phase must be"),
        ({"time": 0.0, "angle": 90, "phase": False}, TypeError, "phase must be"),
        ({"time": 0.0, "angle": 90, "phase": math.inf}, ValueError, "phase must be"),
        ({"time": 0.0, "angle": 90, "phase": None}, TypeError, "phase must be"),
    ],
)
def test_pulse_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        Pulse(**kwargs)


def test_phase_error_message_lists_names():
    message = (
        "phase must be a number of degrees or one of 'x', 'y', '-x', '-y'; got 'z'."
    )
    with pytest.raises(ValueError) as info:
        Pulse(0.0, 90.0, "z")
    assert str(info.value) == message


def test_angles_beyond_180_and_zero_are_allowed():
    assert Pulse(0.0, 450.0).angle == 450.0
    assert Pulse(0.0, 0.0).angle == 0.0


def test_sequence_validation():
    good = Pulse(0.0, 90.0)
    with pytest.raises(ValueError, match="non-empty"):
        PulseSequence([], 10.0)
    with pytest.raises(TypeError, match="Pulse instances"):
        PulseSequence(good, 10.0)
    with pytest.raises(TypeError, match="Pulse instances"):
        PulseSequence(None, 10.0)
    with pytest.raises(TypeError, match="item 1 is tuple"):
        PulseSequence([good, (5.0, 180.0)], 10.0)
    with pytest.raises(ValueError, match="duration must be"):
        PulseSequence([good], 0.0)
    with pytest.raises(ValueError, match="duration must be"):
        PulseSequence([good], math.nan)
    with pytest.raises(TypeError, match="duration must be"):
        PulseSequence([good], True)
    with pytest.raises(ValueError, match=r"inside the duration.*Pulse\(time=10.0"):
        PulseSequence([good, Pulse(10.0, 180.0)], 10.0)
    with pytest.raises(ValueError, match=r"inside the duration.*Pulse\(time=12.0"):
        PulseSequence([good, Pulse(12.0, 180.0)], 10.0)
    with pytest.raises(ValueError, match="two pulses at time 5.0 us"):
        PulseSequence([good, Pulse(5.0, 180.0), Pulse(5.0, 90.0, "y")], 10.0)
    with pytest.raises(ValueError, match="echo_times must lie inside"):
        PulseSequence([good], 10.0, echo_times=(10.0,))
    with pytest.raises(ValueError, match="echo time must be"):
        PulseSequence([good], 10.0, echo_times=(-1.0,))
    with pytest.raises(ValueError, match="distinct"):
        PulseSequence([good], 10.0, echo_times=(2.0, 2.0))
    with pytest.raises(TypeError, match="echo_times must be a sequence"):
        PulseSequence([good], 10.0, echo_times=5.0)


@pytest.mark.parametrize(
    "factory, kwargs, error, match",
    [
        (hahn_echo, {"tau": 0.0}, ValueError, "tau must be"),
        (hahn_echo, {"tau": -5.0}, ValueError, "tau must be"),
        (hahn_echo, {"tau": math.nan}, ValueError, "tau must be"),
        (hahn_echo, {"tau": "100"}, TypeError, "tau must be"),
        (hahn_echo, {"angle": -1.0}, ValueError, "angle must be"),
        (hahn_echo, {"refocus_angle": -1.0}, ValueError, "refocus_angle must be"),
        (hahn_echo, {"refocus_phase": "z"}, ValueError, "refocus_phase must be"),
        (hahn_echo, {"duration": 200.0}, ValueError, "duration must exceed"),
        (hahn_echo, {"duration": -1.0}, ValueError, "duration must be"),
        (cpmg, {"tau": 0.0, "n_echoes": 2}, ValueError, "tau must be"),
        (cpmg, {"tau": 1.0, "n_echoes": 0}, ValueError, "n_echoes must be"),
        (cpmg, {"tau": 1.0, "n_echoes": 2.0}, TypeError, "n_echoes must be"),
        (cpmg, {"tau": 1.0, "n_echoes": True}, TypeError, "n_echoes must be"),
        (cpmg, {"tau": 1.0, "n_echoes": 2, "duration": 4.0}, ValueError, "duration"),
        (cpmg, {"tau": 1.0, "n_echoes": 2, "refocus_phase": 1j}, TypeError, "phase"),
        (stimulated_echo, {"tau": 0.0, "mixing_time": 1.0}, ValueError, "tau must"),
        (stimulated_echo, {"tau": 1.0, "mixing_time": 0.0}, ValueError, "mixing_time"),
        (stimulated_echo, {"tau": 1.0, "mixing_time": -2.0}, ValueError, "mixing_time"),
        (stimulated_echo, {"tau": 1.0, "mixing_time": None}, TypeError, "mixing_time"),
        (
            stimulated_echo,
            {"tau": 1.0, "mixing_time": 1.0, "angle": -5},
            ValueError,
            "angle",
        ),
    ],
)
def test_factory_validation(factory, kwargs, error, match):
    with pytest.raises(error, match=match):
        factory(**kwargs)


# --- grid ---------------------------------------------------------------------


def test_grid_hahn():
    grid = hahn_echo(10.0).grid(0.1)
    assert isinstance(grid, SequenceGrid)
    assert grid.n_times == 300
    assert grid.pulse_steps == (0, 100)
    assert grid.pulse_times == (0.0, 100 * 0.1)
    assert grid.echo_steps == (200,)
    assert grid.echo_times == (200 * 0.1,)
    assert len(grid.rotations) == 2
    assert np.array_equal(grid.rotations[0], pulse_matrix(REFOCUS_AXES["x"], 90.0))
    assert np.array_equal(grid.rotations[1], pulse_matrix(REFOCUS_AXES["y"], 180.0))
    assert grid._fields == (
        "n_times",
        "pulse_steps",
        "pulse_times",
        "rotations",
        "echo_steps",
        "echo_times",
    )


def test_grid_matches_simulator_rounding():
    dt = 1 / (2 * np.pi)
    n_tau = int(round(100.0 / dt))  # 628
    # Steps round like the simulator's tau: round(time / dt).
    grid = hahn_echo(100.0).grid(dt)
    assert grid.pulse_steps == (0, n_tau)
    assert grid.pulse_times == (0.0, n_tau * dt)
    # The echo falls where pulses on steps 0 and n_tau refocus: 2 n_tau = 1256,
    # one step from round(200 / dt) = 1257.
    assert grid.echo_steps == (2 * n_tau,) == (int(round(200.0 / dt)) - 1,)
    # The default duration 3 tau mirrors the refocusing pulse about the echo:
    # it ends on the mirrored step 3 n_tau (the simulator's 1884 samples), not
    # on round(300 / dt) = 1885, so hahn_echo(100.0) is the default experiment.
    assert grid.n_times == 3 * n_tau == 1884 == int(round(300.0 / dt)) - 1
    # Any other duration is rounded: 250 us is 1571 samples.
    assert hahn_echo(100.0, duration=250.0).grid(dt).n_times == 1571
    tau = n_tau * dt
    grid = hahn_echo(tau, duration=3 * tau).grid(dt)
    assert grid.n_times == 3 * n_tau
    assert grid.pulse_steps == (0, n_tau)
    assert grid.echo_steps == (2 * n_tau,)


def test_grid_rounds_times_and_types():
    seq = PulseSequence(
        [Pulse(0.04, 90.0), Pulse(1.26, 180.0)], 5.0, echo_times=(2.44,)
    )
    grid = seq.grid(0.1)
    assert grid.n_times == 50
    assert grid.pulse_steps == (0, 13)
    assert grid.pulse_times == (0.0, 13 * 0.1)
    assert grid.echo_steps == (24,)
    assert all(type(s) is int for s in grid.pulse_steps + grid.echo_steps)
    assert type(grid.n_times) is int


def test_grid_two_pulses_on_one_step():
    seq = PulseSequence(
        [Pulse(0.0, 90.0), Pulse(99.95, 90.0), Pulse(100.0, 180.0)], 300.0
    )
    with pytest.raises(
        ValueError, match=r"99.95 us and 100.0 us both fall on step 629"
    ):
        seq.grid(0.159)
    assert seq.grid(0.01).pulse_steps == (0, 9995, 10000)


def test_grid_pulse_after_last_sample():
    seq = PulseSequence([Pulse(0.0, 90.0), Pulse(9.97, 180.0)], 10.0, echo_times=())
    with pytest.raises(ValueError, match=r"9.97 us falls on step 10 .*n_times=10"):
        seq.grid(1.0)
    assert seq.grid(0.01).pulse_steps == (0, 997)
    echo_late = PulseSequence([Pulse(0.0, 90.0)], 10.0, echo_times=(9.8,))
    with pytest.raises(ValueError, match="echo at 9.8 us falls on step 10"):
        echo_late.grid(1.0)


@pytest.mark.parametrize(
    "dt, error",
    [
        (0.0, ValueError),
        (-0.1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (True, TypeError),
        ("0.1", TypeError),
    ],
)
def test_grid_bad_dt(dt, error):
    with pytest.raises(error, match="dt must be"):
        hahn_echo(10.0).grid(dt)


def test_grid_too_few_samples():
    seq = PulseSequence([Pulse(0.0, 90.0)], 10.0, echo_times=())
    with pytest.raises(ValueError, match="leaves 1 sample"):
        seq.grid(8.0)  # round(10 / 8) = 1
    assert seq.grid(5.0).n_times == 2


# --- rotations ----------------------------------------------------------------


@pytest.mark.parametrize(
    "phase, name",
    [
        ("y", "y"),
        (90, "y"),
        (90.0, "y"),
        (450, "y"),
        (-270, "y"),
        ("x", "x"),
        (0, "x"),
        (360, "x"),
        ("-x", "-x"),
        (180, "-x"),
        (-180, "-x"),
        ("-y", "-y"),
        (270, "-y"),
        (-90, "-y"),
    ],
)
@pytest.mark.parametrize("angle", [90.0, 180.0, 37.5])
def test_quarter_phases_are_bit_exact(phase, name, angle):
    pulse = Pulse(0.0, angle, phase)
    assert pulse.axis == REFOCUS_AXES[name]
    rotation = pulse.rotation()
    assert rotation.dtype == np.float64 and rotation.shape == (3, 3)
    assert np.array_equal(rotation, pulse_matrix(REFOCUS_AXES[name], angle))


def test_angle_450_equals_90():
    for phase in ("x", "y", 45.0):
        np.testing.assert_allclose(
            Pulse(0, 450, phase).rotation(), Pulse(0, 90, phase).rotation(), atol=1e-12
        )


def test_angle_zero_is_identity():
    for phase in ("x", "-y", 123.0):
        np.testing.assert_allclose(Pulse(0, 0, phase).rotation(), np.eye(3), atol=0)


@pytest.mark.parametrize("phase", ["x", "y", 45.0, 200.0, -33.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 180.0, 271.0])
def test_rotation_is_proper_orthogonal(phase, angle):
    r = Pulse(0.0, angle, phase).rotation()
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)


def test_ninety_x_pulse_takes_z_to_plus_y():
    # U = exp(+i theta sigma_x / 2) rotates the Bloch vector by -theta about
    # x: R_x(-90) (0, 0, 1) = (0, 1, 0), the same as pulse_matrix.
    z = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(Pulse(0, 90, "x").rotation() @ z, [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(
        pulse_matrix(REFOCUS_AXES["x"], 90.0) @ z, [0, 1, 0], atol=1e-15
    )
    # About y: R_y(-90) (0, 0, 1) = (-1, 0, 0).
    np.testing.assert_allclose(Pulse(0, 90, "y").rotation() @ z, [-1, 0, 0], atol=1e-15)
    # The refocusing 180_y flips z and x, keeps y.
    np.testing.assert_allclose(
        Pulse(0, 180, "y").rotation(), np.diag([-1.0, 1.0, -1.0]), atol=1e-15
    )


def test_phase_45_axis():
    c, s = math.cos(math.radians(45.0)), math.sin(math.radians(45.0))
    pulse = Pulse(0.0, 60.0, 45.0)
    assert pulse.axis == (c, s, 0.0)
    np.testing.assert_array_equal(pulse.rotation(), pulse_matrix((c, s, 0.0), 60.0))
    # The axis is fixed by the rotation and the rotation angle is -theta.
    r = pulse.rotation()
    np.testing.assert_allclose(r @ [c, s, 0.0], [c, s, 0.0], atol=1e-15)
    np.testing.assert_allclose(Pulse(0.0, 60.0, 405.0).rotation(), r, atol=1e-15)


def test_dataclass_fields():
    assert [f.name for f in dataclasses.fields(Pulse)] == ["time", "angle", "phase"]
    assert [f.name for f in dataclasses.fields(PulseSequence)] == [
        "pulses",
        "duration",
        "echo_times",
    ]


def test_echo_steps_follow_the_pulse_steps():
    # Pulses off the grid: 50.15 / 0.1 rounds down, so CPMG's third echo is at
    # 2 * 501 - 402 = 600, not round(60.18 / 0.1) = 602.
    seq = cpmg(10.03, 4)
    grid = seq.grid(0.1)
    assert grid.pulse_steps == (0, 100, 301, 501, 702)
    assert grid.echo_steps == (200, 402, 600, 804)
    assert [round(e / 0.1) for e in seq.echo_times] == [201, 401, 602, 802]
    # A stimulated echo at t3 + t2 - t1 of the steps.
    grid = stimulated_echo(10.03, 5.04).grid(0.1)
    assert grid.echo_steps == (grid.pulse_steps[2] + grid.pulse_steps[1],)
    # An echo time that no pulses refocus is rounded.
    other = PulseSequence([Pulse(0.0, 90.0), Pulse(1.26, 180.0)], 5.0, (3.04,))
    assert other.grid(0.1).echo_steps == (30,)


def test_the_simulated_echo_peaks_on_its_grid_step():
    # No coupling, tau off the grid: |M| peaks exactly where the grid says.
    seq = hahn_echo(10.03, duration=25.0)
    sim = EchoSimulator(
        lattice_size=4, sequence=seq, dt=0.1, linewidth=0.5, random_state=0
    )
    echo = sim.simulate(
        {"alpha_xy": 0.0, "alpha_z": 0.0, "length": 1.0, "kernel": "gaussian"}
    )[0]
    (step,) = seq.grid(0.1).echo_steps
    assert step == 200 != round(20.06 / 0.1)
    assert np.argmax(echo[150:]) + 150 == step
    np.testing.assert_allclose(sim.echo_times, (step * 0.1,))
