"""Keep a generated dataset in one ``.npz`` file, settings included.

The file holds plain arrays only (no pickles): the echoes, times, feature
names, echo ids, one array per target column, and the generation settings as
a JSON string, so a dataset made on a GPU machine or a cluster loads anywhere
with numpy alone. :func:`load_echoes` checks every entry (presence, type and
shape) before building the dataset, so a truncated, foreign or inconsistent
file is refused with a message that names the file and what is wrong.
"""

import json
import os
import secrets
import stat
import zipfile
import zlib

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

from ._describe import _assemble

__all__ = ["load_echoes", "save_echoes"]

_FORMAT = "sknmr.echoes.npz/1"
_TARGET_PREFIX = "target__"
#: Entries of every file, besides one ``target__<column>`` per target column.
_ENTRIES = (
    "format",
    "data",
    "times",
    "feature_names",
    "echo_ids",
    "target_columns",
    "settings",
    "DESCR",
)
#: What numpy, zipfile and zlib raise on reading a damaged or foreign file.
_READ_ERRORS = (ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
#: The dtype kinds allowed for an entry, in words.
_KIND_WORDS = {"iuf": "numbers", "U": "strings", "iu": "integers"}


def _check_arrays(arrays):
    """The first inconsistency among a dataset's arrays, in words (None if none).

    ``arrays`` maps the file's entry names to arrays; every entry of
    ``_ENTRIES`` and every target column is present.
    """
    data = arrays["data"]
    if data.ndim != 2:
        return (
            f"data must be 2-d (one row per echo, one column per time); "
            f"got shape {data.shape}"
        )
    if data.dtype.kind not in "fc":
        return f"data must hold real or complex floats; got dtype {data.dtype}"
    n_samples, n_times = data.shape
    expected = {
        "times": (n_times, "one per column of data", "iuf"),
        "feature_names": (n_times, "one per column of data", "U"),
        "echo_ids": (n_samples, "one per row of data", "iu"),
        "target_columns": (None, "", "U"),
    }
    for name, (length, meaning, kinds) in expected.items():
        values = arrays[name]
        if values.ndim != 1 or (length is not None and values.shape[0] != length):
            wanted = "1-d" if length is None else f"of shape ({length},), {meaning}"
            return f"{name} must be {wanted}; got shape {values.shape}"
        if values.dtype.kind not in kinds:
            return f"{name} has dtype {values.dtype}, not {_KIND_WORDS[kinds]}"
    columns = arrays["target_columns"].tolist()
    if len(set(columns)) != len(columns):
        return f"target_columns repeats a name: {columns}"
    for column in columns:
        values = arrays[_TARGET_PREFIX + column]
        if values.shape != (n_samples,):
            return (
                f"target column {column!r} must have shape ({n_samples},), one "
                f"value per row of data; got shape {values.shape}"
            )
        if values.dtype.kind not in "biufU":
            return (
                f"target column {column!r} has dtype {values.dtype}, not numbers "
                "or strings"
            )
    for name in ("format", "settings", "DESCR"):
        values = arrays[name]
        if values.shape != () or values.dtype.kind != "U":
            return (
                f"{name} must be a single string; got shape {values.shape}, "
                f"dtype {values.dtype}"
            )
    return None


def _create_temporary(folder, name):
    """A new file ``folder/.name.<random>.tmp``, opened for writing.

    Created with mode ``0o666`` so the umask applies as to any new file (no
    process-wide umask change, which would race with other threads).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file in {folder!r}.")


@validate_params(
    {
        "bunch": "no_validation",
        "path": [str, os.PathLike],
        "compress": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def save_echoes(bunch, path, *, compress=False):
    """Write a dataset from :func:`make_echoes` to one ``.npz`` file, atomically.

    The file is written to a temporary name in the folder of the file it
    replaces and renamed onto it, so that file never holds a partial
    dataset. When ``path`` is a symbolic link, the link is kept and its
    target is written (the temporary file goes in the target's folder). An
    existing file keeps its permission bits; a new one gets the usual ones
    (``0o666`` less the umask).

    Parameters
    ----------
    bunch : Bunch
        As returned by :func:`make_echoes` or :func:`load_echoes` (not
        ``return_X_y``).
    path : str or path-like
        The file to write (used as given: no suffix is added).
    compress : bool, default=False
        Use ``numpy.savez_compressed`` (smaller, slower; echoes compress
        little).

    Returns
    -------
    path : str
        ``path`` as given.

    Raises
    ------
    TypeError
        If ``bunch`` lacks an entry of :func:`make_echoes`' Bunch.
    ValueError
        If its arrays disagree in shape (e.g. ``times`` of another length
        than the rows of ``data``), so that :func:`load_echoes` would refuse
        the file.

    See Also
    --------
    load_echoes : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr import EchoSimulator
    >>> from sknmr.datasets import load_echoes, make_echoes, save_echoes
    >>> echoes = make_echoes(1, simulator=EchoSimulator(lattice_size=8, tau=2.0),
    ...                      random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_echoes(echoes, os.path.join(folder, "echoes.npz"))
    ...     again = load_echoes(path)
    >>> bool((again.data == echoes.data).all()), again.settings["seed"]
    (True, 0)
    """
    required = (
        "data",
        "target",
        "times",
        "feature_names",
        "echo_ids",
        "settings",
        "DESCR",
    )
    missing = [name for name in required if name not in getattr(bunch, "keys", dict)()]
    if missing:
        raise TypeError(
            "bunch must be a Bunch returned by make_echoes or load_echoes; "
            f"it lacks {missing}."
        )
    target = bunch["target"]
    arrays = {
        "format": np.asarray(_FORMAT),
        "data": np.asarray(bunch["data"]),
        "times": np.asarray(bunch["times"], dtype=np.float64),
        "feature_names": np.asarray(bunch["feature_names"], dtype=str),
        "echo_ids": np.asarray(bunch["echo_ids"], dtype=np.int64),
        "target_columns": np.asarray(list(target.columns), dtype=str),
        "settings": np.asarray(json.dumps(bunch["settings"])),
        "DESCR": np.asarray(bunch["DESCR"]),
    }
    for column in target.columns:
        values = target[column].to_numpy()
        if values.dtype == object or not np.issubdtype(values.dtype, np.number):
            values = values.astype(str)
        arrays[_TARGET_PREFIX + column] = values
    problem = _check_arrays(arrays)
    if problem is not None:
        raise ValueError(
            f"bunch is not a consistent dataset: {problem}. save_echoes writes "
            "the Bunch of make_echoes or load_echoes as they return it."
        )

    path = os.fspath(path)
    # Write what the path points to: a symbolic link stays a link.
    destination = os.path.realpath(path)
    folder = os.path.dirname(destination)
    try:
        mode = stat.S_IMODE(os.stat(destination).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: the umask decides, as for any new file
    fd, temporary = _create_temporary(folder, os.path.basename(destination))
    try:
        with os.fdopen(fd, "wb") as file:
            (np.savez_compressed if compress else np.savez)(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, destination)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def _read_all(file, path, names):
    """The arrays ``names`` of an open ``.npz``, errors reworded with the path."""
    arrays = {}
    for name in names:
        try:
            arrays[name] = file[name]
        except _READ_ERRORS as exc:
            reason = (
                "it holds Python objects (pickles), which save_echoes never writes"
                if "allow_pickle" in str(exc)
                else f"{type(exc).__name__}: {exc}"
            )
            raise ValueError(
                f"{path!r} is damaged or not a file written by save_echoes: its "
                f"entry {name!r} cannot be read ({reason})."
            ) from exc
        if not isinstance(arrays[name], np.ndarray):  # numpy gives raw bytes
            raise ValueError(
                f"{path!r} is damaged or not a file written by save_echoes: its "
                f"entry {name!r} cannot be read (it is not a .npy array)."
            )
    return arrays


@validate_params(
    {
        "path": [str, os.PathLike],
        "as_frame": ["boolean", None],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_echoes(path, *, as_frame=None, return_X_y=False):
    """Read a dataset written by :func:`save_echoes`.

    Every entry of the file is checked before the dataset is built: a file
    that is missing entries, holds pickles, or whose arrays disagree in
    shape (e.g. a target of another length than the echoes) is refused.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    as_frame : bool, default=None
        As in :func:`make_echoes`; None keeps the choice made when the
        dataset was generated.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or (data, target)
        The same as :func:`make_echoes` returned.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable ``.npz`` archive written by
        :func:`save_echoes`, or its content is incomplete or inconsistent;
        the message names the file and the problem.

    See Also
    --------
    save_echoes : Write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknmr.datasets import load_echoes
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "other.npz")
    ...     np.savez(path, data=np.zeros((2, 3)))
    ...     load_echoes(path)
    Traceback (most recent call last):
        ...
    ValueError: '...other.npz' is not a file written by save_echoes: ...
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_echoes: there is no file {path!r}.")
    if os.path.isdir(path):
        raise ValueError(
            f"{path!r} is a folder; load_echoes reads a .npz file written by "
            "save_echoes."
        )
    try:
        file = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{path!r} is not a file written by save_echoes: it is a damaged or "
            f"truncated zip archive ({exc})."
        ) from exc
    except (ValueError, EOFError) as exc:  # numpy: neither .npz nor .npy
        raise ValueError(
            f"{path!r} is not a file written by save_echoes: it is empty or "
            "not a .npz archive."
        ) from exc
    if not isinstance(file, np.lib.npyio.NpzFile):  # a .npy file: one array
        raise ValueError(
            f"{path!r} is not a file written by save_echoes: it holds a single "
            "array (.npy), not a .npz archive."
        )
    with file:
        if "format" not in file.files:
            raise ValueError(
                f"{path!r} is not a file written by save_echoes: it has no "
                f"'format' entry (expected {_FORMAT!r})."
            )
        found = _read_all(file, path, ["format"])["format"]
        if found.shape != () or found.dtype.kind != "U" or str(found) != _FORMAT:
            raise ValueError(
                f"{path!r} is not a file written by save_echoes: its format is "
                f"{found.tolist()!r}; this version of sknmr reads {_FORMAT!r}."
            )
        missing = [name for name in _ENTRIES if name not in file.files]
        if missing:
            raise ValueError(
                f"{path!r} lacks the entries {missing} that save_echoes writes; "
                "the file is incomplete or was not written by save_echoes."
            )
        arrays = _read_all(file, path, _ENTRIES)
        columns = arrays["target_columns"]
        if columns.ndim != 1 or columns.dtype.kind != "U":
            raise ValueError(
                f"{path!r} is damaged: target_columns must be a 1-d array of "
                f"strings; got shape {columns.shape}, dtype {columns.dtype}."
            )
        keys = [_TARGET_PREFIX + str(column) for column in columns]
        missing = [key for key in keys if key not in file.files]
        if missing:
            raise ValueError(
                f"{path!r} lacks the target entries {missing} that its "
                "target_columns name; the file is incomplete."
            )
        arrays.update(_read_all(file, path, keys))

    problem = _check_arrays(arrays)
    if problem is not None:
        raise ValueError(f"{path!r} is not a consistent dataset: {problem}.")
    try:
        settings = json.loads(str(arrays["settings"]))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path!r} is damaged: its settings are not valid JSON ({exc})."
        ) from exc
    if not isinstance(settings, dict):
        raise ValueError(
            f"{path!r} is damaged: its settings must be a JSON object; got "
            f"{type(settings).__name__}."
        )
    columns = [str(c) for c in arrays["target_columns"]]
    target = pd.DataFrame({c: arrays[_TARGET_PREFIX + c] for c in columns})
    if as_frame is None:
        as_frame = settings.get("as_frame", False)
    return _assemble(
        arrays["data"],
        target,
        arrays["times"],
        [str(name) for name in arrays["feature_names"]],
        arrays["echo_ids"],
        settings,
        str(arrays["DESCR"]),
        bool(as_frame),
        return_X_y,
    )
