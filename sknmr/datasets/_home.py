"""The folder where sknmr keeps simulated datasets, as scikit-learn's data home.

One folder caches the echoes that :func:`~sknmr.datasets.make_echoes`
simulates (pass it as ``memory``), so that the gallery's examples and a
user's scripts share them: ``data_home`` when given, else the environment
variable ``SKNMR_DATA_HOME``, else ``~/sknmr_data``.
"""

import os
import shutil

from sklearn.utils._param_validation import validate_params

__all__ = ["clear_data_home", "get_data_home"]

#: The environment variable naming the data home.
DATA_HOME_VARIABLE = "SKNMR_DATA_HOME"
#: The data home when neither ``data_home`` nor the variable is set.
DEFAULT_DATA_HOME = os.path.join("~", "sknmr_data")


@validate_params(
    {"data_home": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def get_data_home(data_home=None):
    """The folder of sknmr's cached datasets, created if missing.

    As :func:`sklearn.datasets.get_data_home`: the folder ``data_home`` when
    given, else the one named by the environment variable
    ``SKNMR_DATA_HOME`` (when set and not empty), else ``~/sknmr_data``. A
    leading ``~`` is expanded to the user's home folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder; None: ``$SKNMR_DATA_HOME``, else ``~/sknmr_data``.

    Returns
    -------
    data_home : str
        The folder, which exists.

    Raises
    ------
    ValueError
        If the path names something that is not a folder (e.g. a file).

    See Also
    --------
    clear_data_home : Delete the folder and everything in it.
    make_echoes : Pass ``memory=get_data_home()`` to cache its echoes there.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     home = get_data_home(os.path.join(folder, "sknmr_data"))
    ...     os.path.isdir(home), os.path.basename(home)
    (True, 'sknmr_data')
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_VARIABLE) or DEFAULT_DATA_HOME
    data_home = os.path.expanduser(os.fspath(data_home))
    if os.path.exists(data_home) and not os.path.isdir(data_home):
        raise ValueError(
            f"data_home must be a folder; {data_home!r} exists and is not one. "
            f"Pass another data_home or set {DATA_HOME_VARIABLE} to a folder."
        )
    os.makedirs(data_home, exist_ok=True)
    return data_home


@validate_params(
    {"data_home": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def clear_data_home(data_home=None):
    """Delete the data home and everything in it (cached echoes included).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder, chosen as by :func:`get_data_home`.

    Returns
    -------
    None

    See Also
    --------
    get_data_home : The folder, created if missing.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.datasets import clear_data_home, get_data_home
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     home = get_data_home(os.path.join(folder, "sknmr_data"))
    ...     clear_data_home(home)
    ...     os.path.exists(home)
    False
    """
    shutil.rmtree(get_data_home(data_home))
