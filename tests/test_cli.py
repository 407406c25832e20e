"""The sknmr command line."""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import pytest

import sknmr.datasets
import sknmr.study
from sknmr import EchoSimulator
from sknmr.cli import build_parser, main
from sknmr.cli._parser import option_error
from sknmr.datasets import load_echoes, make_echoes

TINY = ["--lattice-size", "8", "--tau", "2", "--backend", "numpy"]


def test_simulate_writes_the_dataset(tmp_path, capsys):
    path = tmp_path / "echoes.npz"
    assert main(["simulate", "-o", str(path), "-n", "2", "--seed", "3", *TINY]) == 0
    out = capsys.readouterr().out
    n_times = EchoSimulator(lattice_size=8, tau=2.0).n_times
    assert f"wrote 6 echoes of {n_times} samples to {path}" in out
    bunch = load_echoes(path)
    expected = make_echoes(
        2,
        simulator=EchoSimulator(
            lattice_size=8, tau=2.0, backend="numpy", dtype="float32"
        ),
        random_state=3,
    )
    np.testing.assert_array_equal(bunch.data, expected.data)
    pd.testing.assert_frame_equal(bunch.target, expected.target)
    np.testing.assert_array_equal(bunch.times, expected.times)
    assert bunch.settings["seed"] == 3
    assert bunch.settings["simulation"] == expected.settings["simulation"]


def test_simulate_options(tmp_path, capsys):
    path = tmp_path / "echoes.npz"
    cache = tmp_path / "cache"
    argv = [
        "simulate",
        "--output",
        str(path),
        "--n-samples",
        "5",
        "--kernels",
        "power",
        "rkky",
        "--lattice-size",
        "8",
        "--tau",
        "3",
        "--dt",
        "0.2",
        "--linewidth",
        "0.1",
        "--backend",
        "numba",
        "--threads",
        "1",
        "--n-jobs",
        "1",
        "--chunk-size",
        "2",
        "--cache",
        str(cache),
        "--compress",
        "--quiet",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""  # --quiet: no summary and no bar
    bunch = load_echoes(path)
    assert bunch.target["kernel"].tolist() == ["power"] * 3 + ["rkky"] * 2
    experiment = bunch.experiment
    assert (
        experiment.lattice_size,
        experiment.tau,
        experiment.dt,
        experiment.linewidth,
    ) == (8, 3.0, 0.2, 0.1)
    assert bunch.settings["simulation"]["backend"] == "numba"
    assert bunch.settings["chunk_size"] == 2
    assert bunch.data.shape == (5, EchoSimulator(tau=3.0, dt=0.2).n_times)
    assert any(files for _, _, files in os.walk(cache))  # chunks were cached
    # a second run reads the cache and writes the same file content
    again = tmp_path / "again.npz"
    assert main([*argv[:2], str(again), *argv[3:]]) == 0
    np.testing.assert_array_equal(load_echoes(again).data, bunch.data)


@pytest.mark.parametrize("lattice", ["triangular", "cubic"])
def test_simulate_lattice(tmp_path, lattice):
    from sknmr.lattices import Lattice

    path = tmp_path / "echoes.npz"
    argv = ["simulate", "-o", str(path), "-n", "1", "-q", "--lattice", lattice]
    assert main([*argv, "--lattice-size", "4", "--tau", "2", "--backend", "numpy"]) == 0
    bunch = load_echoes(path)
    assert bunch.experiment.lattice == Lattice.from_name(lattice, 4)
    simulator = EchoSimulator(
        lattice_size=4, lattice=lattice, tau=2.0, backend="numpy", dtype="float32"
    )
    expected = make_echoes(1, simulator=simulator, random_state=0)
    np.testing.assert_array_equal(bunch.data, expected.data)


def test_lattice_choices_are_the_librarys(tmp_path, capsys, monkeypatch):
    from sknmr.lattices import LATTICE_NAMES

    monkeypatch.chdir(tmp_path)
    for command in ("simulate", "infer", "fit"):
        (action,) = [
            a for a in subparser(command)._actions if "--lattice" in a.option_strings
        ]
        assert tuple(action.choices) == LATTICE_NAMES
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "-o", "x.npz", "--lattice", "hexagonal"])
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert "argument --lattice: invalid choice: 'hexagonal'" in err
    assert all(repr(name) in err for name in LATTICE_NAMES)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--parameters", "alpha_xy"],
            "argument --parameters: length is neither fitted nor fixed; add it to "
            "--parameters or give --fixed length=VALUE",
        ),
        (["--confidence", "1.5"], "argument --confidence: must be in (0, 1)"),
        (["--kernels", "yukawa"], "argument --kernels: must be one of"),
        (["--kernels", "yukawa", "power"], "argument --kernels: must be one of"),
        (["--fixed", "beta=3"], "argument --fixed: takes values of"),
        (["--lattice-size", "1"], "argument --lattice-size: must be an int"),
        (["--dt", "50"], "argument --dt: must be smaller than tau"),
        (["--model", "missing.skops"], "argument --model"),
    ],
)
def test_fit_errors_name_the_option(tmp_path, capsys, monkeypatch, options, message):
    # The library's checks, reported with the options, before any fit or file.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.csv").write_text("0,1\n0.5,0.9\n1,0.8\n1.5,0.7\n2,0.6\n")
    with pytest.raises(SystemExit) as exc:
        main(["fit", "e.csv", "--tau", "2", "-q", *options])
    assert exc.value.code == 2
    assert message in one_line_error(capsys)
    assert os.listdir(tmp_path) == ["e.csv"]


def test_fit_lattice(tmp_path, monkeypatch):
    import sknmr.fitting
    from sknmr.lattices import Lattice

    seen = []

    def fit_file(path, simulator, **kwargs):
        seen.append(simulator)
        raise KeyboardInterrupt  # stands for the fit

    monkeypatch.setattr(sknmr.fitting, "fit_file", fit_file)
    echo = tmp_path / "echo.csv"
    echo.write_text("0,1\n1,2\n")
    argv = ["fit", str(echo), "--lattice", "cubic", "--lattice-size", "4", "-q"]
    assert main(argv) == 130
    assert seen[0].experiment.lattice == Lattice.cubic(4)


def test_progress_bar_unless_quiet(tmp_path, capfd):
    main(["simulate", "-o", str(tmp_path / "a.npz"), "-n", "1", *TINY])
    assert "make_echoes" in capfd.readouterr().err
    main(["simulate", "-o", str(tmp_path / "b.npz"), "-n", "1", "-q", *TINY])
    assert capfd.readouterr().err == ""


def subparser(command):
    """The parser of ``sknmr <command>``."""
    (subparsers,) = [
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ]
    return subparsers.choices[command]


def one_line_error(capsys):
    """The stderr of a usage error: one line, no traceback."""
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "required"),
        (["simulate"], "-o/--output"),
        (["simulate", "-o", "x.npz", "-n", "0"], "positive integer"),
        (["simulate", "-o", "x.npz", "-n", "2", "--n-samples", "6"], "not allowed"),
        (["simulate", "-o", "x.npz", "--kernels", "yukawa"], "invalid choice"),
        (["simulate", "-o", "x.npz", "--tau", "-1"], "positive number"),
        (["simulate", "-o", "x.npz", "--backend", "gpu"], "invalid choice"),
        (["simulate", "-o", "x.npz", "--kernels", "power", "power"], "repeat"),
        (
            [
                "simulate",
                "-o",
                "x.npz",
                "--lattice-size",
                "8",
                "--tau",
                "2",
                "--dt",
                "5",
            ],
            "argument --dt: must be smaller than tau",
        ),
        (["simulate", "-o", "x.npz", "--n-jobs", "0"], "argument -j/--n-jobs"),
        (["simulate", "-o", "x.npz", "-j", "-100000"], "argument -j/--n-jobs"),
        (["simulate", "-o", "x.npz", "--threads", "0"], "argument --threads"),
        (
            ["simulate", "-o", "x.npz", "--lattice-size", "1", "--tau", "2"],
            "argument --lattice-size: must be an int in the range [2, inf)",
        ),
        (["simulate", "-o", "x.npz", "--seed", "-1"], "argument --seed"),
        (["simulate", "-o", "", "-n", "1"], "argument -o/--output"),
        (["reproduce", "--n-jobs", "0"], "argument --n-jobs"),
        (["reproduce", "--n-jobs", "-100000"], "argument --n-jobs"),
        (["reproduce", "--linewidth", "inf"], "argument --linewidth"),
        (["reproduce", "--seed", "-1"], "argument --seed"),
        (["reproduce", "--quick", "--full"], "not allowed"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_usage(tmp_path, capsys, argv, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert message in err
    # The library's parameter names are mapped to the options.
    assert "n_jobs" not in err and "make_echoes" not in err
    assert os.listdir(tmp_path) == []  # nothing written, no report folder


def test_unwritable_cache_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "simulate",
                "-o",
                str(tmp_path / "x.npz"),
                "-n",
                "1",
                "--cache",
                str(blocker / "cache"),
                *TINY,
            ]
        )
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert "argument --cache: must be a folder that can be written" in err


def test_cache_dir_is_a_deprecated_alias(tmp_path, capsys):
    cache = tmp_path / "cache"
    argv = ["simulate", "-o", str(tmp_path / "a.npz"), "-n", "1", "-q", *TINY]
    assert main([*argv, "--cache-dir", str(cache)]) == 0
    assert "--cache-dir is deprecated; use --cache" in capsys.readouterr().err
    assert any(files for _, _, files in os.walk(cache))
    args = build_parser().parse_args(["simulate", "-o", "x", "--cache-dir", "c"])
    assert args.cache == "c"
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    help_text = capsys.readouterr().out
    assert "--cache FOLDER" in help_text and "--cache-dir" not in help_text


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if make_echoes is called."""

    def simulate(*args, **kwargs):
        raise AssertionError("simulated before checking the arguments")

    monkeypatch.setattr(sknmr.datasets, "make_echoes", simulate)


@pytest.mark.parametrize(
    "output, message",
    [
        ("", "expected a file name"),
        ("folder", "is a folder"),
        ("blocker/x.npz", "is not a folder"),
        ("missing/x.npz", "does not exist"),
        ("existing.npz", "exists; pass --overwrite"),
    ],
)
def test_simulate_checks_output_before_any_work(
    tmp_path, capsys, monkeypatch, no_simulation, output, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "blocker").write_text("")
    (tmp_path / "existing.npz").write_text("keep")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "-o", output, "-n", "1", *TINY])
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert "argument -o/--output" in err and message in err
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "existing.npz").read_text() == "keep"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "-o", "ro/x.npz", "-n", "1", *TINY], "argument -o/--output"),
        (["reproduce", "--output", "ro/report"], "argument --output"),
        (["reproduce", "--output", "report", "--cache", "ro/c"], "argument --cache"),
    ],
)
def test_read_only_folder(tmp_path, capsys, monkeypatch, no_simulation, argv, message):
    # os.access says yes to root on a read-only mount: the checks write (and
    # remove) a temporary file, refused here in "ro" as a read-only folder would.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ro").mkdir()
    temporary_file = tempfile.TemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if os.path.samefile(dir, tmp_path / "ro"):
            raise PermissionError(13, "Permission denied")
        return temporary_file(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert message in err and "Permission denied" in err
    assert os.listdir(tmp_path) == ["ro"] and os.listdir(tmp_path / "ro") == []


def test_simulate_overwrite(tmp_path):
    path = tmp_path / "echoes.npz"
    path.write_text("old")
    argv = ["simulate", "-o", str(path), "-n", "1", "-q", "--overwrite", *TINY]
    assert main(argv) == 0
    assert load_echoes(path).data.shape[0] == 3


@pytest.mark.parametrize(
    "options, message",
    [
        (["--output", "blocker/report"], "argument --output: must be a folder"),
        (["--output", "blocker"], "argument --output: must be a folder"),
        (["--cache", "blocker/cache"], "argument --cache: must be a folder"),
    ],
)
def test_reproduce_checks_folders_before_any_work(
    tmp_path, capsys, monkeypatch, options, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("")

    def run(*args, **kwargs):
        raise AssertionError("reproduce ran before the arguments were checked")

    monkeypatch.setattr(sknmr.study, "reproduce", run)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", *options])
    assert exc.value.code == 2
    assert message in one_line_error(capsys)
    assert os.listdir(tmp_path) == ["blocker"]  # no report or figures folder


def test_reproduce_runs_the_library(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        sknmr.study, "reproduce", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    out, cache = str(tmp_path / "out"), str(tmp_path / "cache")
    argv = ["reproduce", "--full", "--output", out, "--cache", cache, "--n-jobs", "1"]
    assert main([*argv, "--seed", "5", "--linewidth", "0.008", "-q"]) == 0
    assert calls == [
        (
            (out, "full"),
            {
                "memory": cache,
                "n_jobs": 1,
                "random_state": 5,
                "verbose": False,
                "linewidth": 0.008,
            },
        )
    ]


def test_reproduce_parser():
    parser = build_parser()
    args = parser.parse_args(["reproduce"])
    assert (
        args.preset,
        args.output,
        args.cache,
        args.n_jobs,
        args.seed,
        args.linewidth,
        args.quiet,
    ) == ("quick", "sknmr_report", None, None, 0, None, False)
    args = parser.parse_args(
        [
            "reproduce",
            "--full",
            "--output",
            "out",
            "--cache",
            "c",
            "--n-jobs",
            "2",
            "--seed",
            "5",
            "--linewidth",
            "0.008",
        ]
    )
    assert (
        args.preset,
        args.output,
        args.cache,
        args.n_jobs,
        args.seed,
        args.linewidth,
    ) == ("full", "out", "c", 2, 5, 0.008)
    assert callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["reproduce", "--quick", "--full"])


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("cache", [None, "cache"])
def test_ctrl_c_simulate(tmp_path, capsys, monkeypatch, cache):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sknmr.datasets, "make_echoes", interrupt)
    argv = ["simulate", "-o", "x.npz", "-n", "1", *TINY]
    if cache is not None:
        argv += ["--cache", cache]
    assert main(argv) == 130
    err = one_line_error(capsys)
    assert err.startswith("sknmr simulate: interrupted; ")
    if cache is None:
        assert "rerun with --cache FOLDER" in err
    else:
        assert "rerun with the same --cache cache to resume" in err
    assert not (tmp_path / "x.npz").exists()


def test_ctrl_c_reproduce(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sknmr.study, "reproduce", interrupt)
    argv = ["reproduce", "--output", str(tmp_path / "out"), "--cache", "c", "-q"]
    assert main(argv) == 130
    err = one_line_error(capsys)
    assert err.startswith("sknmr reproduce: interrupted; rerun with the same --cache c")


def test_library_errors_map_to_options(capsys):
    # The mapping is read from the parser: the option whose dest is the
    # parameter, or the one declared for it (--seed sets random_state).
    simulate = subparser("simulate")
    with pytest.raises(SystemExit):
        option_error(
            simulate,
            ValueError("The 'lattice_size' parameter of make_echoes must be x."),
        )
    assert "argument --lattice-size: must be x." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        option_error(simulate, ValueError("memory must be a folder"))
    assert "argument --cache: must be a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        option_error(simulate, ValueError("random_state must be an int"))
    assert "argument --seed: must be an int" in capsys.readouterr().err
    # n_jobs is -j/--n-jobs for make_echoes, --threads for the simulator.
    with pytest.raises(SystemExit):
        option_error(simulate, ValueError("n_jobs must be positive"))
    assert "argument -j/--n-jobs: must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        option_error(
            simulate,
            ValueError("The 'n_jobs' parameter of EchoSimulator must be an int."),
        )
    assert "argument --threads: must be an int." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        option_error(simulate, ValueError("n_jobs must be >= 1"), "EchoSimulator")
    assert "argument --threads:" in capsys.readouterr().err
    # An error about no known parameter is not a usage error.
    with pytest.raises(ValueError, match="something else"):
        option_error(simulate, ValueError("something else broke"))


def test_every_library_parameter_the_cli_passes_has_an_option():
    """The keyword arguments each subcommand gives the library are options."""
    from sknmr.cli._parser import library_options

    expected = {
        "simulate": {
            "n_per_kernel": "-n/--n-per-kernel",
            "n_samples": "--n-samples",
            "kernels": "--kernels",
            "random_state": "--seed",
            "lattice_size": "--lattice-size",
            "lattice": "--lattice",
            "tau": "--tau",
            "dt": "--dt",
            "linewidth": "--linewidth",
            "backend": "--backend",
            "dtype": "--dtype",
            "n_jobs": "-j/--n-jobs",
            "chunk_size": "--chunk-size",
            "memory": "--cache",
        },
        "infer": {
            "lattice_size": "--lattice-size",
            "lattice": "--lattice",
            "n_per_kernel": "--n-per-kernel",
            "tau": "--tau",
            "dt": "--dt",
            "linewidth": "--linewidth",
            "memory": "--cache",
            "confidence": "--confidence",
            "n_jobs": "--n-jobs",
            "random_state": "--seed",
        },
        "fit": {
            "lattice_size": "--lattice-size",
            "lattice": "--lattice",
            "confidence": "--confidence",
            "parameters": "--parameters",
            "kernel": "--kernels",
            "kernels": "--kernels",
            "fixed": "--fixed",
            "detection": "--detection",
            "init": "--model",
            "output_dir": "--output",
            "random_state": "--seed",
        },
        "reproduce": {
            "output_dir": "--output",
            "memory": "--cache",
            "n_jobs": "--n-jobs",
            "random_state": "--seed",
            "linewidth": "--linewidth",
            "ablations": "--ablations",
            "ablation_lattice_sizes": "--ablation-lattice-sizes",
            "ablation_n_per_kernel": "--ablation-n-per-kernel",
        },
        "decay": {
            "model": "--model",
            "drop_first": "--drop-first",
            "n_bootstrap": "--n-bootstrap",
            "confidence": "--confidence",
            "random_state": "--seed",
        },
        "protocols": {"memory": "--cache", "n_jobs": "--n-jobs"},
    }
    for command, options in expected.items():
        found = library_options(subparser(command))
        assert {name: found.get(name) for name in options} == options, command
    assert library_options(subparser("simulate"), "EchoSimulator")["n_jobs"] == (
        "--threads"
    )


def test_defaults_are_the_librarys():
    import inspect

    from sknmr.decay import fit_decay
    from sknmr.fitting import fit_echo

    simulator = inspect.signature(EchoSimulator).parameters
    args = subparser("simulate").parse_args(["-o", "x.npz"])
    for name in ("lattice_size", "tau", "dt", "linewidth", "backend", "lattice"):
        assert getattr(args, name) == simulator[name].default, name
    args = subparser("fit").parse_args(["echo.csv"])
    fit = inspect.signature(fit_echo).parameters
    assert args.confidence == fit["confidence"].default
    assert args.parameters == list(fit["parameters"].default)
    assert args.detection == fit["detection"].default
    assert (args.tau, args.dt) == (simulator["tau"].default, simulator["dt"].default)
    args = subparser("decay").parse_args(["a.csv"])
    decay = inspect.signature(fit_decay).parameters
    for name in ("model", "drop_first", "n_bootstrap", "confidence"):
        assert getattr(args, name) == decay[name].default, name
    args = subparser("infer").parse_args(["--train", "--model", "m"])
    assert args.linewidth == [simulator["linewidth"].default]
    assert args.confidence is None  # left out: EchoInference's applies


def test_python_dash_m(tmp_path):
    path = tmp_path / "echoes.npz"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sknmr",
            "simulate",
            "-o",
            str(path),
            "-n",
            "1",
            "-q",
            *TINY,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert load_echoes(path).data.shape == (3, EchoSimulator(tau=2.0).n_times)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("sknmr 0.")


# -- reproduce --ablations -----------------------------------------------------------
@pytest.fixture
def tiny_quick(monkeypatch):
    """``--quick`` shrunk to seconds: 20 echoes per kernel on an 8 x 8 lattice."""
    from sknmr.study import _presets

    quick = _presets.PRESETS["quick"]
    tiny = {
        **quick,
        "n_per_kernel": 20,
        "lattice_size": 8,
        "tau": 5.0,
        "backend": "numpy",
        "sections": (2, 4),
        "cv": 3,
        "n_estimators": 20,
        "vae": {**quick["vae"], "hidden_sizes": (8,), "max_epochs": 2},
        "vae_window": {**quick["vae_window"], "hidden_sizes": (8,), "max_epochs": 2},
        "max_clusters": 4,
        "max_curves": 30,
    }
    monkeypatch.setitem(_presets.PRESETS, "quick", tiny)
    return tiny


def test_cli_ablation_choices_are_the_librarys():
    from sknmr.cli._reproduce import ABLATIONS

    assert ABLATIONS == sknmr.study.ABLATIONS


@pytest.mark.slow
def test_reproduce_ablations_end_to_end(tmp_path, capsys, tiny_quick):
    import json
    import warnings

    out, cache = tmp_path / "report", tmp_path / "cache"
    argv = ["reproduce", "--output", str(out), "--cache", str(cache), "--seed", "2"]
    argv += ["--ablations", "oversampling", "lattice"]
    argv += ["--ablation-lattice-sizes", "6", "--ablation-n-per-kernel", "10"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    captured = capsys.readouterr()
    # Progress: the ablations log, their simulation shows make_echoes' bar.
    assert "[sknmr reproduce] ablation oversampling:" in captured.out
    assert "ablation lattice: simulating 30 echoes on 6x6" in captured.out
    assert "make_echoes" in captured.err
    results = json.loads((out / "results.json").read_text())
    assert results["preset"] == "quick" and results["dataset"]["n_echoes"] == 60
    block = results["ablations"]
    assert block["asked"] == ["oversampling", "lattice"]
    assert [(r["ablation"], r["setting"]) for r in block["rows"]] == [
        ("oversampling", "inside training folds (sknmr)"),
        ("oversampling", "before the split (notebooks)"),
        ("lattice", "6 x 6"),
    ]
    assert block["rows"][2]["details"]["n_echoes"] == 30
    assert len(block["reproducing"]) == 6
    text = (out / "report.md").read_text()
    assert "## Ablations" in text
    assert "| lattice | 6 x 6 |" in text
    assert "| oversampling | before the split (notebooks) |" in text
    assert "### Which setting reproduces each paper number" in text


@pytest.mark.parametrize(
    "options, message",
    [
        (["--ablations", "bagging"], "argument --ablations: invalid choice"),
        (["--ablations"], "argument --ablations: expected at least one"),
        (
            ["--ablations", "lattice", "--ablation-lattice-sizes", "8", "1"],
            "argument --ablation-lattice-sizes: must be a non-empty sequence of "
            "ints >= 2",
        ),
        (
            ["--ablations", "lattice", "--ablation-lattice-sizes", "x"],
            "argument --ablation-lattice-sizes: invalid int value",
        ),
        (
            ["--ablations", "linewidth", "--ablation-n-per-kernel", "0"],
            "argument --ablation-n-per-kernel: expected a positive integer",
        ),
        (
            ["--ablations", "screening", "--ablation-n-per-kernel", "5"],
            "argument --ablation-n-per-kernel: sets the datasets of the "
            "'linewidth' and 'lattice' ablations",
        ),
        (
            ["--ablation-lattice-sizes", "16"],
            "argument --ablation-lattice-sizes: sets the datasets",
        ),
    ],
)
def test_reproduce_bad_ablation_options(
    tmp_path, capsys, monkeypatch, no_simulation, options, message
):
    monkeypatch.chdir(tmp_path)

    def run(*args, **kwargs):
        raise AssertionError("reproduce ran before the arguments were checked")

    monkeypatch.setattr(sknmr.study, "reproduce", run)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--output", "report", *options])
    assert exc.value.code == 2
    assert message in one_line_error(capsys)
    assert os.listdir(tmp_path) == []


def test_reproduce_passes_the_ablation_options(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        sknmr.study, "reproduce", lambda *args, **kwargs: calls.append(kwargs)
    )
    out = str(tmp_path / "out")
    argv = ["reproduce", "--output", out, "-q", "--ablations", "lattice", "linewidth"]
    assert main([*argv, "--ablation-lattice-sizes", "16", "32"]) == 0
    assert main([*argv, "--ablation-n-per-kernel", "50"]) == 0
    assert calls[0]["ablations"] == ["lattice", "linewidth"]
    assert calls[0]["ablation_lattice_sizes"] == [16, 32]
    assert "ablation_n_per_kernel" not in calls[0]
    assert calls[1]["ablation_n_per_kernel"] == 50
    assert "ablation_lattice_sizes" not in calls[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["simulate", "-o", "x.npz", "-n", "1", "--dt", "1e-6"],
            "argument --dt: simulating 3 echoes of 300000000 samples",
        ),
        (
            ["simulate", "-o", "x.npz", "--dt", "1e-6"],
            "argument --dt: A dataset of 15000 echoes",
        ),
        (
            ["simulate", "-o", "x.npz", "-n", "1", "--lattice-size", "100000"],
            "argument --lattice-size: Simulating 1 echo(es)",
        ),
        (
            ["infer", "--train", "--dt", "1e-5", "--model", "m.skops"],
            "argument --dt: A dataset of 1500 echoes",
        ),
        (
            ["infer", "--train", "--dt", "3e-3", "--lattice-size", "512"]
            + ["--model", "m.skops", "--quick"],
            "argument --lattice-size: simulating 300 echoes",
        ),
        (["protocols", "--output", "blocker"], "argument --output: must be a folder"),
        (["protocols", "--output", "blocker/p"], "argument --output: must be a folder"),
        (["protocols", "--output", "/proc/x/p"], "argument --output: must be a folder"),
        (["protocols", "--cache", "/proc/x"], "argument --cache: must be a folder"),
        (["simulate", "-o", "x.npz", "--cache", "/proc/x"], "argument --cache"),
        (["reproduce", "--cache", "/proc/x"], "argument --cache"),
        (
            ["infer", "--train", "--model", "m.skops", "--cache", "/proc/x"],
            "argument --cache: must be a folder",
        ),
    ],
)
def test_refused_before_any_work(tmp_path, capsys, monkeypatch, argv, message):
    # Runs too big or too long, and folders that cannot be written: one usage
    # line, before any simulation and with nothing written.
    def never(*args, **kwargs):
        raise AssertionError("worked before checking the arguments")

    import sknmr.inference._workflow as workflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sknmr.datasets, "make_echoes", never)
    monkeypatch.setattr(workflow, "train_model", never)
    monkeypatch.setattr(sknmr.study, "run_protocols", never)
    monkeypatch.setattr(sknmr.study, "reproduce", never)
    (tmp_path / "blocker").write_text("")
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = one_line_error(capsys)
    assert message in err and "Traceback" not in err
    assert os.listdir(tmp_path) == ["blocker"]


def test_long_run_states_estimate_and_limit_and_force_lifts_it(monkeypatch, capsys):
    from sknmr import cli

    argv = ["simulate", "-o", "x.npz", "-n", "1", "--dt", "1e-6"]
    with pytest.raises(SystemExit):
        main(argv)
    err = one_line_error(capsys)
    hours = EchoSimulator(dt=1e-6).estimate_seconds(3) / 3600
    assert f"about {hours:.3g} hours" in err and "limit of 24 hours" in err
    assert "--force" in err

    def ran(*args, **kwargs):
        raise KeyboardInterrupt  # stands for the (long) simulation

    monkeypatch.setattr(sknmr.datasets, "make_echoes", ran)
    assert main([*argv, "--force", "-q"]) == cli.EXIT_INTERRUPTED


def test_estimate_seconds_is_check_workloads(monkeypatch):
    import sknmr.simulator as simulator_module

    simulator = EchoSimulator(lattice_size=8, tau=2.0, backend="numpy")
    seconds = simulator.estimate_seconds(50)
    assert seconds > 0
    assert simulator.estimate_seconds(100) > seconds
    # check_workload warns from the same estimate
    monkeypatch.setattr(simulator_module, "LONG_RUN_SECONDS", seconds * 0.99)
    with pytest.warns(UserWarning, match="will take roughly"):
        simulator.check_workload(50)
    monkeypatch.setattr(simulator_module, "LONG_RUN_SECONDS", seconds * 1.01)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulator.check_workload(50)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, status, message",
    [
        ("SIGTERM", 143, "sknmr simulate: terminated;"),
        ("SIGINT", 130, "sknmr simulate: interrupted;"),
        # a SIGKILL is not seen: the workers see their parent gone and end
        ("SIGKILL", -9, None),
    ],
)
def test_a_signal_stops_the_workers(tmp_path, name, status, message):
    psutil = pytest.importorskip("psutil", reason="psutil lists the child processes")
    import signal
    import time

    argv = [sys.executable, "-m", "sknmr", "simulate", "-o", str(tmp_path / "x.npz")]
    argv += ["-n", "200", "--chunk-size", "5", "-j", "2", "-q", "--backend", "numpy"]
    argv += ["--lattice-size", "16", "--tau", "100", "--cache", str(tmp_path / "c")]
    # This checkout's sknmr, whatever the working folder.
    root = os.path.dirname(os.path.dirname(os.path.abspath(sknmr.__file__)))
    env = {**os.environ, "PYTHONPATH": root}

    def default_sigint():  # a test run in the background ignores SIGINT
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    with open(tmp_path / "err", "w") as err:  # not a pipe: workers inherit it
        process = subprocess.Popen(
            argv, stderr=err, cwd=tmp_path, env=env, preexec_fn=default_sigint
        )
    children = []
    try:
        parent = psutil.Process(process.pid)
        started = time.monotonic()
        # the workers are at work once a first chunk is cached (from their
        # first chunk on they watch their parent)
        while time.monotonic() - started < 120 and not (
            len(children) >= 3 and list((tmp_path / "c").rglob("*.npy"))
        ):
            time.sleep(0.2)
            children = parent.children(recursive=True)
        assert len(children) >= 3, "the workers never started"
        children = parent.children(recursive=True)
        process.send_signal(getattr(signal, name))
        returned = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:  # leave nothing behind, then fail
            child.kill()
    assert returned == status
    assert alive == []
    err = (tmp_path / "err").read_text()
    if message is not None:  # a run that saw its end releases what it holds
        assert message in err
        assert "resource_tracker" not in err  # no leaked-semaphore warnings
    assert not (tmp_path / "x.npz").exists()


def test_sigterm_handler_is_restored(tmp_path, monkeypatch):
    import signal

    before = signal.getsignal(signal.SIGTERM)

    def terminated(*args, **kwargs):
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(sknmr.datasets, "make_echoes", terminated)
    argv = ["simulate", "-o", str(tmp_path / "x.npz"), "-n", "1", *TINY]
    assert main(argv) == 143
    assert signal.getsignal(signal.SIGTERM) == before
