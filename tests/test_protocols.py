"""The protocol study: several experiments on the same materials, scored."""

import json

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.cli import build_parser, main
from sknmr.datasets import make_echoes
from sknmr.study import (
    DETECTIONS,
    default_experiments,
    default_protocols,
    protocol_study,
    run_protocols,
)
from sknmr.study._protocol_designs import _echo_samples
from sknmr.study._protocol_estimators import _ExperimentFeatures

TAU = 4.0


@pytest.fixture(scope="module")
def data():
    sim = EchoSimulator(lattice_size=6, tau=TAU, dtype="float32")
    return make_echoes(
        8,
        simulator=sim,
        random_state=0,
        sequences={
            name: {"sequence": sequence, "output": "complex"}
            for name, sequence in default_experiments(TAU).items()
        },
    )


def test_default_protocols_use_the_default_experiments():
    experiments = default_experiments(TAU)
    for name, protocol in default_protocols().items():
        if isinstance(protocol, dict):  # the adaptive protocol
            names = [protocol["first"], *protocol["options"]]
            detection = protocol["detection"]
        else:
            names, detection = protocol
        assert set(names) <= set(experiments), name
        assert detection in DETECTIONS
    assert list(default_protocols())[0].startswith("paper")
    assert any(isinstance(p, dict) for p in default_protocols().values())


def test_adaptive_protocol_routes_by_predicted_w(data):
    from sknmr.study._protocol_estimators import _AdaptiveProtocolRegressor

    windows = {name: np.arange(s.stop - s.start) for name, s in data.blocks.items()}
    w = data.target["W"].to_numpy()
    model = _AdaptiveProtocolRegressor(
        data.blocks,
        windows,
        "hahn90",
        ["hahn45", "cpmg"],
        bins=(0.1, 0.2, 0.3),
        n_estimators=5,
        cv=2,
    ).fit(data.data, data.target["alpha_z"], w)
    assert len(model.choices_) == 2
    assert set(model.choices_) <= {"hahn45", "cpmg"}
    assert model.predict(data.data).shape == (len(w),)


def test_echo_windows_hold_each_echo():
    experiments = default_experiments(TAU)
    dt = EchoSimulator().dt
    for name, sequence in experiments.items():
        n_times = sequence.grid(dt).n_times
        kept = _echo_samples(np.arange(n_times) * dt, sequence, dt)
        for echo in sequence.grid(dt).echo_steps:
            assert echo in kept, name
    cpmg = experiments["cpmg"]
    kept = _echo_samples(np.arange(cpmg.grid(dt).n_times) * dt, cpmg, dt)
    # four echoes, each +- a third of the pulse spacing (tau / 4)
    assert len(kept) == pytest.approx(4 * (2 * TAU / 4 / 3 / dt + 1), abs=8)


def test_phase_blind_features_ignore_the_receiver_phase(data):
    features = _ExperimentFeatures(
        data.blocks,
        {name: np.arange(s.stop - s.start) for name, s in data.blocks.items()},
        ["hahn90", "hahn45"],
        "phase-blind",
    ).fit(data.data)
    turned = data.data * np.exp(1j * np.linspace(0, 6, len(data.data)))[:, None]
    np.testing.assert_allclose(
        features.transform(turned), features.transform(data.data), atol=1e-6
    )
    calibrated = _ExperimentFeatures(
        data.blocks, features.windows, ["hahn90", "hahn45"], "quadrature"
    ).fit(data.data)
    assert not np.allclose(
        calibrated.transform(turned), calibrated.transform(data.data)
    )


def test_study_end_to_end(data):
    protocols = {
        "paper": (("hahn90",), "magnitude"),
        "pair, quadrature": (("hahn90", "hahn45"), "quadrature"),
        "pair, blind": (("hahn90", "hahn45"), "phase-blind"),
        "adaptive": {"first": "hahn90", "options": ("hahn45", "cpmg")},
    }
    table = protocol_study(data, protocols=protocols, cv=2, n_estimators=5)
    assert list(table.index) == list(protocols)
    for column in (
        "R2 W",
        "R2 L",
        "R2 alpha_xy",
        "R2 alpha_z",
        "R2 L power",
        "R2 L non-power",
        "F1 weighted",
        "F1 binary",
    ):
        assert column in table and column + "_std" in table
    assert table["n_echoes"].tolist() == [1, 2, 2, 2]
    assert np.isnan(table.loc["adaptive", "F1 weighted"])  # a regressor only
    assert np.nanmax(table[["F1 weighted", "F1 binary"]].to_numpy()) <= 1.0


def test_study_refuses_what_it_cannot_score(data):
    single = make_echoes(2, simulator=EchoSimulator(lattice_size=4, tau=2.0))
    with pytest.raises(ValueError, match="sequences"):
        protocol_study(single)
    with pytest.raises(ValueError, match="must use experiments"):
        protocol_study(data, protocols={"x": (("nope",), "magnitude")})
    with pytest.raises(ValueError, match="must use experiments"):
        protocol_study(data, protocols={"x": (("hahn90",), "phase")})


@pytest.mark.slow
def test_run_protocols_writes_its_report(tmp_path):
    out = tmp_path / "protocols"
    table = run_protocols(
        out,
        "quick",
        n_per_kernel=6,
        lattice_size=4,
        tau=2.0,
        cv=2,
        n_estimators=4,
        verbose=False,
    )
    for name in ("protocols.csv", "protocols.json", "protocols.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "protocols.json").read_text())
    assert set(summary["table"]) == set(table.index)
    assert "R2 alpha_z" in summary["best"]
    assert "Which experiment tells what" in (out / "report.md").read_text()
    with pytest.raises(ValueError, match="preset"):
        run_protocols(out, "medium")
    with pytest.raises(TypeError, match="unknown settings"):
        run_protocols(out, lattice=4)


def test_command_line():
    args = build_parser().parse_args(["protocols", "--full", "--output", "out"])
    assert (args.command, args.preset, args.output, args.seed) == (
        "protocols",
        "full",
        "out",
        0,
    )
    with pytest.raises(SystemExit):
        main(["protocols", "--quick", "--full"])
