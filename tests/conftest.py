"""Fixtures shared by the tables of bad inputs."""

import re

import pytest

from sknmr._backends import numba_backend, numpy_backend


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if any backend starts simulating."""

    def never(*args, **kwargs):
        raise AssertionError("a simulation started before the bad input was refused")

    monkeypatch.setattr(numpy_backend, "simulate", never)
    monkeypatch.setattr(numba_backend, "simulate", never)


@pytest.fixture
def refused_command_line(tmp_path, capsys):
    """A check that the command line refuses ``argv`` as a usage error.

    ``"{tmp}"`` in ``argv`` stands for ``tmp_path``. The command must exit
    with status 2 and one line (no traceback) matching ``match``, and leave
    ``tmp_path`` as it found it.
    """

    def check(argv, match):
        from sknmr.cli import main

        before = sorted(p.name for p in tmp_path.iterdir())
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "Traceback" not in err
        assert re.search(match, err), err
        assert sorted(p.name for p in tmp_path.iterdir()) == before

    return check
