"""The command line's ``infer``: training, one echo, several, reading options."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest

import sknmr.inference._workflow as workflow
from sknmr import EchoSimulator
from sknmr.cli import main
from sknmr.io import MeasuredEcho, write_echo

TRAIN = ["--lattice-size", "6", "--n-per-kernel", "20", "--tau", "10", "-q"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A model trained by ``sknmr infer --train`` on 60 echoes of 6 x 6."""
    path = tmp_path_factory.mktemp("model") / "model.skops"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few calibration echoes: expected
        assert main(["infer", "--train", "--model", str(path), *TRAIN]) == 0
    return path


def write_simulated_echo(path, seed, **params):
    sim = EchoSimulator(lattice_size=6, tau=10.0, output="complex", random_state=seed)
    material = {"kernel": "power", "length": 2.0, "alpha_xy": 0.05, "alpha_z": 0.03}
    echo = sim.simulate({**material, **params})[0]
    write_echo(MeasuredEcho(sim.times, echo), path, format="text")
    return path


@pytest.mark.slow
def test_infer_trains_then_reads_a_measured_echo(tmp_path, capsys, model_path):
    model = model_path
    assert model.exists()
    # A second training refuses to overwrite without --overwrite.
    with pytest.raises(SystemExit) as info:
        main(["infer", "--train", "--model", str(model), *TRAIN])
    assert info.value.code == 2
    assert "--overwrite" in capsys.readouterr().err

    path = write_simulated_echo(tmp_path / "echo.csv", seed=3)
    out_dir = tmp_path / "out"
    assert (
        main(["infer", str(path), "--model", str(model), "--output", str(out_dir)]) == 0
    )
    printed = capsys.readouterr().out
    for name in ("W", "L", "alpha_xy", "alpha_z", "p_power", "ood"):
        assert name in printed
    assert "file" not in printed  # one echo: a row per quantity, no file column
    table = pd.read_csv(out_dir / "inference.csv")
    assert table.shape[0] == 1 and {"W", "W_lower", "W_upper"} <= set(table)
    assert "file" not in table
    assert (out_dir / "inference.png").stat().st_size > 0


@pytest.mark.parametrize(
    "argv, match",
    [
        (["infer", "--model", "{tmp}/m.joblib"], "argument echo"),
        (["infer", "{tmp}/e.csv", "--model", "{tmp}/missing.joblib"], "--model"),
        (["infer", "{tmp}/e.csv", "--model", "{tmp}/not_a_model.joblib"], "--model"),
        (["infer", "--train", "{tmp}/e.csv", "--model", "{tmp}/m.joblib"], "--train"),
        (
            ["infer", "{tmp}/e.csv", "--model", "{tmp}/m.joblib", "--format", "x"],
            "argument --format: invalid choice: 'x'",
        ),
        (
            ["infer", "--train", "--model", "{tmp}/m.joblib", "--confidence", "1.5"],
            "--confidence",
        ),
        (
            ["infer", "--train", "--model", "{tmp}/m.joblib", "--lattice-size", "1"],
            "--lattice-size",
        ),
    ],
)
def test_infer_bad_arguments(tmp_path, capsys, argv, match):
    (tmp_path / "e.csv").write_text("0,1\n1,2\n")
    (tmp_path / "not_a_model.joblib").write_bytes(b"nothing")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and match in err, err


def test_infer_reading_options_reach_the_api(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    calls = []

    class Model:
        experiment_ = EchoSimulator(tau=10.0, dt=0.5).experiment

    def infer_file(path, model, **kwargs):
        calls.append(kwargs)
        return pd.DataFrame({"ood": [False], "W": [0.2]}), []

    monkeypatch.setattr(workflow, "load_model", lambda path, **kw: Model())
    monkeypatch.setattr(workflow, "infer_file", infer_file)
    monkeypatch.setattr(workflow, "summary", lambda table: table)
    echo = tmp_path / "e.csv"
    echo.write_text("0,1\n1,2\n")
    base = ["infer", str(echo), "--model", "m.joblib", "-q"]
    assert main(base) == 0
    assert calls[-1]["resampler"] is None and "tau" not in calls[-1]
    argv = [*base, "--tau", "12", "--time-offset", "-3.5"]
    assert main([*argv, "--align", "peak", "--normalize", "max"]) == 0
    kwargs = calls[-1]
    assert kwargs["tau"] == 12.0 and kwargs["time_offset"] == -3.5
    assert kwargs["resampler"] == {
        "align": "peak",
        "echo_time": 20.0,
        "normalize": "max",
    }


def test_infer_file_passes_resampler_settings():
    seen = {}

    class Resampler:
        def fit_transform(self, echoes):
            return np.ones((len(echoes), 3))

    class Model:
        def make_resampler(self, **params):
            seen.update(params)
            return Resampler()

        def predict(self, X):
            seen["X"] = X
            return pd.DataFrame({"W": [0.1]})

    echo = MeasuredEcho([0.0, 1.0], [1.0, 0.5])

    def read(path, format=None, **options):
        seen["read"] = options
        return echo

    original = workflow.read_echo
    workflow.read_echo = read
    try:
        table, files = workflow.infer_file(
            "e.csv", Model(), resampler={"normalize": "first"}, time_offset=2.0
        )
    finally:
        workflow.read_echo = original
    assert seen["normalize"] == "first" and seen["X"].shape == (1, 3)
    assert seen["read"] == {"time_offset": 2.0} and files == []


# -- several echoes ----------------------------------------------------------------
def test_infer_several_files_and_folders(tmp_path, capfd, model_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    write_simulated_echo(runs / "a.csv", seed=1)
    write_simulated_echo(runs / "b.csv", seed=2, alpha_xy=0.08)
    (runs / "broken.csv").write_text("0,1\n1,x\n")
    (runs / ".hidden").write_text("left out")
    other = write_simulated_echo(tmp_path / "c.csv", seed=4)
    out = tmp_path / "out"
    argv = ["infer", str(runs), str(other), "--model", str(model_path)]
    # A file that cannot be read: its error in its row, the others read, status 1.
    assert main([*argv, "--output", str(out)]) == 1
    captured = capfd.readouterr()
    assert "4/4" in captured.err  # the progress bar counts the files
    assert "broken.csv, line 2" in captured.out
    assert "1 of 4 files failed" in captured.out
    table = pd.read_csv(out / "inference.csv", keep_default_na=False)
    assert table.columns[0] == "file" and table.columns[-1] == "error"
    assert [os.path.basename(f) for f in table["file"]] == [
        "a.csv",
        "b.csv",
        "broken.csv",
        "c.csv",
    ]
    failed = table["error"] != ""
    assert failed.tolist() == [False, False, True, False]
    assert np.isfinite(table.loc[~failed, "W"].astype(float)).all()
    # every column of the model's table, in its order, between file and error
    single = pd.read_csv(out / "a.csv" / "inference.csv")
    assert list(table.columns[1:-1]) == list(single.columns)
    for name in ("a.csv", "b.csv", "c.csv"):  # each echo's own figure
        assert (out / name / "inference.png").stat().st_size > 0
    assert not (out / "broken.csv").exists()
    # Every file read: status 0; -q: no bar.
    good = ["infer", str(runs / "a.csv"), str(other), "--model", str(model_path)]
    assert main([*good, "--output", str(tmp_path / "good"), "-q"]) == 0
    assert capfd.readouterr().err == ""


def test_infer_folder_of_one_file_is_a_batch(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.csv").write_text("0,1\n1,2\n")
    fake_model(monkeypatch, pd.DataFrame({"W": [0.2], "ood": [False]}))
    assert main(["infer", "runs", "--model", "m.skops", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "file" in printed and os.path.join("runs", "a.csv") in printed


def test_infer_missing_file_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("0,1\n1,2\n")
    with pytest.raises(SystemExit) as info:
        main(["infer", "a.csv", "missing.csv", "--model", "m.skops"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument echo: no such file or folder: missing.csv" in err
    assert os.listdir(tmp_path) == ["a.csv"]


# -- the library's table, whole ------------------------------------------------------
def fake_model(monkeypatch, table):
    """``infer`` with a model whose table is ``table`` for every echo."""

    def infer_file(path, model, output_dir=None, **kwargs):
        if "broken" in str(path):
            raise ValueError(f"cannot read {path}")
        return table.copy(), []

    monkeypatch.setattr(workflow, "load_model", lambda path, **kw: object())
    monkeypatch.setattr(workflow, "infer_file", infer_file)


FLAGGED = pd.DataFrame(
    {
        "W": [0.2],
        "W_lower": [0.1],
        "W_upper": [0.3],
        "ood_score": [3.5],
        "ood": [True],
        "ood_reason": ["echo top (late span)"],
        "a_new_column": [7.25],
    }
)


def test_infer_prints_every_column_and_the_check_that_fired(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    fake_model(monkeypatch, FLAGGED)
    for name in ("a.csv", "b.csv", "broken.csv"):
        (tmp_path / name).write_text("0,1\n1,2\n")
    assert main(["infer", "a.csv", "--model", "m.skops", "-q"]) == 0
    printed = capsys.readouterr().out
    for text in ("ood_reason", "a_new_column", "7.25"):
        assert text in printed
    warning = [line for line in printed.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "echo top (late span)" in warning[0]
    assert "Check first:\necho top (late span): " in printed

    argv = ["infer", "a.csv", "b.csv", "broken.csv", "--model", "m.skops", "-q"]
    assert main([*argv, "--output", "out"]) == 1
    printed = capsys.readouterr().out
    assert "a_new_column" in printed and "cannot read broken.csv" in printed
    warning = [line for line in printed.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "2 of 3 echoes" in warning[0]
    assert "a.csv (echo top (late span))" in warning[0]
    table = pd.read_csv(tmp_path / "out" / "inference.csv", keep_default_na=False)
    assert list(table.columns) == ["file", *FLAGGED.columns, "error"]
    assert table["ood_reason"].tolist()[:2] == ["echo top (late span)"] * 2


def test_infer_help_says_flagged_echoes_name_the_check(capsys):
    with pytest.raises(SystemExit) as info:
        main(["infer", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "says which check fired (ood_reason)" in text
    assert "Several files, or a folder of them, give one table" in text


# -- --lattice -----------------------------------------------------------------------
def test_infer_train_lattice(tmp_path, monkeypatch, capsys):
    from sknmr.lattices import Lattice

    monkeypatch.chdir(tmp_path)
    seen = []

    def train_model(simulator, **kwargs):
        seen.append(simulator)
        raise KeyboardInterrupt  # stands for the training

    monkeypatch.setattr(workflow, "train_model", train_model)
    argv = ["infer", "--train", "--model", "m.skops", "--lattice-size", "6", "-q"]
    assert main([*argv, "--lattice", "triangular"]) == 130
    assert seen[0].experiment.lattice == Lattice.triangular(6)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main([*argv, "--lattice", "honeycomb"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "argument --lattice: invalid choice: 'honeycomb'" in err
    assert os.listdir(tmp_path) == []
