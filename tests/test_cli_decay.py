"""The command line's ``decay`` command."""

import numpy as np
import pandas as pd
import pytest

from sknmr.cli import main


def _decay_file(path, t2):
    t = np.arange(1, 31) * 20.0
    rng = np.random.default_rng(0)
    y = np.exp(-t / t2) + rng.normal(0, 0.005, t.size)
    path.write_text("".join(f"{a},{b}\n" for a, b in zip(t, y, strict=True)))
    return path


def test_decay_command_fits_a_folder_and_reports_bad_files(tmp_path, capsys):
    folder = tmp_path / "runs"
    folder.mkdir()
    _decay_file(folder / "a.csv", 200.0)
    _decay_file(folder / "b.csv", 400.0)
    (folder / "broken.csv").write_text("0,1\n1,x\n")
    out = tmp_path / "t2.csv"
    argv = ["decay", str(folder), "--n-bootstrap", "30", "-o", str(out), "-q"]
    assert main(argv) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert table["file"].str.endswith(("a.csv", "b.csv", "broken.csv")).all()
    good = table[table["error"] == ""]
    np.testing.assert_allclose(good["T2"].astype(float), [200.0, 400.0], rtol=0.05)
    assert {"T2_low", "T2_high", "amplitude", "n_echoes"} <= set(table)
    bad = table[table["file"].str.endswith("broken.csv")]["error"].iloc[0]
    assert "broken.csv, line 2" in bad
    assert "broken.csv" in capsys.readouterr().out


def test_decay_command_model_and_bad_arguments(tmp_path, capsys):
    path = _decay_file(tmp_path / "a.csv", 300.0)
    argv = ["decay", str(path), "--model", "stretched", "--n-bootstrap", "20", "-q"]
    assert main([*argv, "--drop-first", "2"]) == 0
    printed = capsys.readouterr().out
    assert "beta" in printed and "stretched" in printed
    for bad, match in [
        (["--model", "lorentz"], "--model"),
        (["--confidence", "2"], "--confidence"),
        (["--n-bootstrap", "5"], "--n-bootstrap"),
        (["--drop-first", "-1"], "--drop-first"),
    ]:
        with pytest.raises(SystemExit) as info:
            main(["decay", str(path), *bad])
        assert info.value.code == 2
        assert match in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["decay", str(tmp_path / "missing.csv")])
    assert "no such file" in capsys.readouterr().err


def test_decay_command_all_files_failing_exits_1(tmp_path):
    (tmp_path / "x.csv").write_text("nothing\n")
    assert main(["decay", str(tmp_path / "x.csv"), "-q"]) == 1
