"""The sknmr command line: ``sknmr simulate`` (issue 3)."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sknmr import EchoSimulator
from sknmr.cli import main
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
        "--cache-dir",
        str(cache),
        "--compress",
        "--quiet",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""  # --quiet: no summary and no bar
    bunch = load_echoes(path)
    assert bunch.target["kernel"].tolist() == ["power"] * 3 + ["rkky"] * 2
    sim = bunch.settings["simulation"]["settings"]
    assert (sim["lattice_size"], sim["tau"], sim["dt"], sim["linewidth"]) == (
        8,
        3.0,
        0.2,
        0.1,
    )
    assert sim["backend"] == "numba"
    assert bunch.settings["chunk_size"] == 2
    assert bunch.data.shape == (5, EchoSimulator(tau=3.0, dt=0.2).n_times)
    assert any(files for _, _, files in os.walk(cache))  # chunks were cached
    # a second run reads the cache and writes the same file content
    again = tmp_path / "again.npz"
    assert main([*argv[:2], str(again), *argv[3:]]) == 0
    np.testing.assert_array_equal(load_echoes(again).data, bunch.data)


def test_progress_bar_unless_quiet(tmp_path, capfd):
    main(["simulate", "-o", str(tmp_path / "a.npz"), "-n", "1", *TINY])
    assert "make_echoes" in capfd.readouterr().err
    main(["simulate", "-o", str(tmp_path / "b.npz"), "-n", "1", "-q", *TINY])
    assert capfd.readouterr().err == ""


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
            "dt must be smaller than tau",
        ),
        (["simulate", "-o", "x.npz", "--n-jobs", "0"], "n_jobs"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_usage(tmp_path, capsys, argv, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.npz")


def test_unwritable_cache_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        main(
            [
                "simulate",
                "-o",
                str(tmp_path / "x.npz"),
                "-n",
                "1",
                "--cache-dir",
                str(blocker / "cache"),
                *TINY,
            ]
        )
    assert "memory must be a folder that can be written" in capsys.readouterr().err


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
