"""Tests of save_echoes and load_echoes (malformed files, symlinks,
permissions) and of the data home (get_data_home, clear_data_home)."""

import json
import os
import stat
import zipfile

import numpy as np
import pandas as pd
import pytest

from sknmr import EchoSimulator
from sknmr.datasets import (
    clear_data_home,
    get_data_home,
    load_echoes,
    make_echoes,
    save_echoes,
)


@pytest.fixture(scope="module")
def bunch():
    """Three echoes (one per kernel) on a 4 x 4 lattice."""
    return make_echoes(
        1, simulator=EchoSimulator(lattice_size=4, tau=1.0), random_state=0
    )


@pytest.fixture(scope="module")
def entries(bunch, tmp_path_factory):
    """The arrays of a good file, by entry name."""
    path = save_echoes(bunch, tmp_path_factory.mktemp("good") / "echoes.npz")
    with np.load(path) as file:
        return {name: file[name] for name in file.files}


def write(path, arrays):
    np.savez(path, **arrays)
    return path


def changed(entries, **arrays):
    """The good entries with some replaced (a value of None removes the entry)."""
    out = dict(entries)
    for name, value in arrays.items():
        if value is None:
            del out[name]
        else:
            out[name] = value
    return out


def assert_refused(path, match):
    with pytest.raises(ValueError, match=match) as error:
        load_echoes(path)
    message = str(error.value)
    assert repr(str(path)) in message  # the file is named
    assert "allow_pickle" not in message  # numpy's advice is not passed on
    return message


# -- inconsistent content ------------------------------------------------------
def test_good_file_loads(bunch, entries, tmp_path):
    again = load_echoes(write(tmp_path / "same.npz", entries))
    np.testing.assert_array_equal(again.data, bunch.data)
    pd.testing.assert_frame_equal(again.target, bunch.target)


def test_data_of_another_length_than_the_target(entries, tmp_path):
    n = len(entries["data"])
    longer = {
        name: np.concatenate([values, values[:1]])
        for name, values in entries.items()
        if name.startswith("target__")
    }
    path = write(tmp_path / "x.npz", changed(entries, **longer))
    assert_refused(
        path, rf"target column 'kernel' must have shape \({n},\).*\({n + 1},\)"
    )


@pytest.mark.parametrize(
    "name, match",
    [
        ("times", r"times must be of shape \(\d+,\), one per column of data"),
        ("feature_names", r"feature_names must be of shape \(\d+,\), one per column"),
        ("echo_ids", r"echo_ids must be of shape \(3,\), one per row of data"),
    ],
)
def test_arrays_of_the_wrong_length(entries, tmp_path, name, match):
    path = write(tmp_path / "x.npz", changed(entries, **{name: entries[name][:-1]}))
    assert_refused(path, match)


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"data": np.zeros(18)}, r"data must be 2-d .*got shape \(18,\)"),
        ({"data": np.zeros((3, 18), dtype=int)}, "data must hold real or complex"),
        ({"times": np.zeros((1, 18))}, "times must be of shape"),
        ({"echo_ids": np.zeros(3)}, "echo_ids has dtype float64, not integers"),
        ({"feature_names": np.arange(18)}, "feature_names has dtype .*not strings"),
        ({"DESCR": np.array(["a", "b"])}, "DESCR must be a single string"),
        ({"target_columns": np.array(["kernel", "kernel"])}, "repeats a name"),
        ({"target_columns": np.array("kernel")}, "target_columns must be a 1-d"),
        ({"settings": np.asarray("{not json")}, "settings are not valid JSON"),
        ({"settings": np.asarray(json.dumps([1, 2]))}, "must be a JSON object"),
    ],
)
def test_malformed_arrays(entries, tmp_path, arrays, match):
    path = write(tmp_path / "x.npz", changed(entries, **arrays))
    assert_refused(path, match)


@pytest.mark.parametrize("name", ["data", "times", "echo_ids", "settings", "DESCR"])
def test_missing_entry(entries, tmp_path, name):
    path = write(tmp_path / "x.npz", changed(entries, **{name: None}))
    assert_refused(path, rf"lacks the entries \['{name}'\]")


def test_missing_target_entry(entries, tmp_path):
    path = write(tmp_path / "x.npz", changed(entries, target__W=None))
    assert_refused(path, r"lacks the target entries \['target__W'\]")


@pytest.mark.parametrize(
    "format_, match",
    [
        (None, "not a file written by save_echoes: it has no 'format' entry"),
        (np.asarray("sknmr.echoes.npz/99"), "its format is 'sknmr.echoes.npz/99'"),
        (np.zeros(2), "its format is"),
    ],
)
def test_format_entry(entries, tmp_path, format_, match):
    path = write(tmp_path / "x.npz", changed(entries, format=format_))
    assert_refused(path, match)


# -- unreadable files ------------------------------------------------------------
def test_pickled_entry(entries, tmp_path):
    pickled = np.array([{"a": 1}, None], dtype=object)
    path = write(tmp_path / "x.npz", changed(entries, data=pickled))
    assert_refused(path, "entry 'data' cannot be read .*pickles")


def test_damaged_entry(entries, tmp_path):
    path = tmp_path / "x.npz"
    write(path, changed(entries, data=None))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("data.npy", b"not an npy header at all")
    assert_refused(path, "damaged .*entry 'data' cannot be read")


def test_truncated_archive(bunch, tmp_path):
    good = save_echoes(bunch, tmp_path / "good.npz")
    content = open(good, "rb").read()
    path = tmp_path / "truncated.npz"
    path.write_bytes(content[: len(content) // 2])
    assert_refused(path, "damaged or truncated zip archive")


@pytest.mark.parametrize("content", [b"", b"hello, world\n" * 10])
def test_not_an_archive(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    assert_refused(path, "not a file written by save_echoes: it is empty or not a .npz")


def test_single_array_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((3, 4)))
    assert_refused(path, r"holds a single array \(\.npy\)")


def test_missing_file_and_folder(tmp_path):
    missing = tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_echoes(missing)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(missing)
    with pytest.raises(FileNotFoundError, match="dangling.npz"):
        load_echoes(dangling)
    with pytest.raises(ValueError, match="is a folder"):
        load_echoes(tmp_path)


def test_bad_arguments_are_named(bunch, tmp_path):
    with pytest.raises(TypeError, match="'path' parameter of load_echoes"):
        load_echoes(3)
    with pytest.raises(ValueError, match="'as_frame' parameter of load_echoes"):
        load_echoes(tmp_path / "x.npz", as_frame="yes")
    with pytest.raises(ValueError, match="'compress' parameter of save_echoes"):
        save_echoes(bunch, tmp_path / "x.npz", compress="yes")


def test_save_refuses_an_inconsistent_bunch(bunch, tmp_path):
    broken = bunch.copy()
    broken["times"] = bunch.times[:-1]
    with pytest.raises(ValueError, match="bunch is not a consistent dataset: times"):
        save_echoes(broken, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# -- symbolic links and permissions ------------------------------------------------
def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_save_through_a_symlink_writes_its_target(bunch, tmp_path):
    (tmp_path / "links").mkdir()
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "echoes.npz"
    link = tmp_path / "links" / "echoes.npz"
    target.write_bytes(b"old content")
    os.chmod(target, 0o640)
    link.symlink_to(target)
    assert save_echoes(bunch, link) == str(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(load_echoes(target).data, bunch.data)
    assert mode(target) == 0o640  # the permission bits are kept
    # The temporary file went to the target's folder and is gone.
    assert os.listdir(tmp_path / "store") == ["echoes.npz"]
    assert os.listdir(tmp_path / "links") == ["echoes.npz"]


def test_save_through_a_relative_and_dangling_symlink(bunch, tmp_path):
    link = tmp_path / "link.npz"
    link.symlink_to("real.npz")  # relative, and the target does not exist yet
    save_echoes(bunch, link)
    assert link.is_symlink()
    assert (tmp_path / "real.npz").is_file()
    np.testing.assert_array_equal(load_echoes(link).data, bunch.data)


def test_failed_save_through_a_symlink_leaves_the_target(bunch, tmp_path, monkeypatch):
    target = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    save_echoes(bunch, target)
    before = target.read_bytes()
    link.symlink_to(target)

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(OSError, match="disk full"):
        save_echoes(bunch, link)
    assert target.read_bytes() == before and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real.npz"]


@pytest.mark.parametrize("bits", [0o600, 0o644, 0o660])
def test_overwrite_keeps_the_permission_bits(bunch, tmp_path, bits):
    path = tmp_path / "echoes.npz"
    path.write_bytes(b"old")
    os.chmod(path, bits)
    save_echoes(bunch, path, compress=True)
    assert mode(path) == bits
    np.testing.assert_array_equal(load_echoes(path).data, bunch.data)


def test_new_file_gets_the_umask_permissions(bunch, tmp_path):
    umask = os.umask(0o027)
    try:
        save_echoes(bunch, tmp_path / "echoes.npz")
    finally:
        os.umask(umask)
    assert mode(tmp_path / "echoes.npz") == 0o640


# -- the data home -------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh home folder, and no SKNMR_DATA_HOME."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SKNMR_DATA_HOME", raising=False)
    return tmp_path


def test_get_data_home_default_and_tilde(home):
    folder = get_data_home()
    assert isinstance(folder, str) and folder == str(home / "sknmr_data")
    assert os.path.isdir(folder)
    assert get_data_home("~/elsewhere/deep") == str(home / "elsewhere" / "deep")
    assert os.path.isdir(home / "elsewhere" / "deep")


def test_get_data_home_argument_then_environment(home, monkeypatch):
    monkeypatch.setenv("SKNMR_DATA_HOME", "~/from_env")
    assert get_data_home() == str(home / "from_env")
    given = get_data_home(home / "given")  # path-like, and it wins
    assert given == str(home / "given") and isinstance(given, str)
    monkeypatch.setenv("SKNMR_DATA_HOME", "")  # empty: as if unset
    assert get_data_home() == str(home / "sknmr_data")


def test_get_data_home_errors(home):
    (home / "a_file").write_text("not a folder")
    with pytest.raises(ValueError, match="data_home must be a folder.*a_file"):
        get_data_home(home / "a_file")
    with pytest.raises(TypeError, match="'data_home' parameter of get_data_home"):
        get_data_home(3)


def test_clear_data_home(home, monkeypatch):
    folder = get_data_home(home / "cache")
    (home / "cache" / "chunk.pkl").write_bytes(b"x")
    clear_data_home(folder)
    assert not os.path.exists(folder)
    monkeypatch.setenv("SKNMR_DATA_HOME", str(home / "env_cache"))
    get_data_home()
    clear_data_home()
    assert not os.path.exists(home / "env_cache")
    assert os.path.isdir(home)
