"""Keep a generated dataset in one ``.npz`` file, settings included.

The file holds plain arrays only (no pickles): the echoes, times, feature
names, echo ids, one array per target column, and the generation settings as
a JSON string, so a dataset made on a GPU machine or a cluster loads anywhere
with numpy alone.
"""

import json
import os
import tempfile

import numpy as np
import pandas as pd

from ._echoes import _assemble

__all__ = ["load_echoes", "save_echoes"]

_FORMAT = "sknmr.echoes.npz/1"
_TARGET_PREFIX = "target__"


def save_echoes(bunch, path, *, compress=False):
    """Write a dataset from :func:`make_echoes` to one ``.npz`` file, atomically.

    The file is written to a temporary name in the same folder and renamed
    into place, so ``path`` never holds a partial file.

    Parameters
    ----------
    bunch : Bunch
        As returned by :func:`make_echoes` (not ``return_X_y``).
    path : str or path-like
        The file to write (used as given: no suffix is added).
    compress : bool, default=False
        Use ``numpy.savez_compressed`` (smaller, slower; echoes compress
        little).

    Returns
    -------
    path : str
        The file written.

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
    target = bunch.target
    arrays = {
        "format": np.asarray(_FORMAT),
        "data": np.asarray(bunch.data),
        "times": np.asarray(bunch.times, dtype=np.float64),
        "feature_names": np.asarray(bunch.feature_names, dtype=str),
        "echo_ids": np.asarray(bunch.echo_ids, dtype=np.int64),
        "target_columns": np.asarray(list(target.columns), dtype=str),
        "settings": np.asarray(json.dumps(bunch.settings)),
        "DESCR": np.asarray(bunch.DESCR),
    }
    for column in target.columns:
        values = target[column].to_numpy()
        if values.dtype == object or not np.issubdtype(values.dtype, np.number):
            values = values.astype(str)
        arrays[_TARGET_PREFIX + column] = values
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as file:
            (np.savez_compressed if compress else np.savez)(file, **arrays)
        # mkstemp makes the file private; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def load_echoes(path, *, as_frame=None, return_X_y=False):
    """Read a dataset written by :func:`save_echoes`.

    Parameters
    ----------
    path : str or path-like
    as_frame : bool, default=None
        As in :func:`make_echoes`; None keeps the choice made when the
        dataset was generated.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or (data, target)
        The same as :func:`make_echoes` returned.
    """
    with np.load(os.fspath(path), allow_pickle=False) as file:
        if "format" not in file.files or str(file["format"]) != _FORMAT:
            raise ValueError(
                f"{os.fspath(path)!r} is not a file written by save_echoes."
            )
        settings = json.loads(str(file["settings"]))
        columns = [str(c) for c in file["target_columns"]]
        target = pd.DataFrame({c: file[_TARGET_PREFIX + c] for c in columns})
        if as_frame is None:
            as_frame = settings.get("as_frame", False)
        return _assemble(
            file["data"],
            target,
            file["times"],
            [str(name) for name in file["feature_names"]],
            file["echo_ids"],
            settings,
            str(file["DESCR"]),
            bool(as_frame),
            return_X_y,
        )
