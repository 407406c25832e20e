"""Datasets: the paper's simulated spin echoes.

:func:`make_echoes` draws parameters from the prior and simulates their
echoes in cached, resumable chunks (through :class:`joblib.Parallel`, so a
Dask cluster can run them); :func:`save_echoes` and :func:`load_echoes` keep a
generated dataset in one ``.npz`` file; :func:`get_data_home` is the folder
where simulated echoes are cached by default (``$SKNMR_DATA_HOME``, else
``~/sknmr_data``), and :func:`clear_data_home` empties it.
"""

from ._echoes import make_echoes
from ._home import clear_data_home, get_data_home
from ._io import load_echoes, save_echoes

__all__ = [
    "clear_data_home",
    "get_data_home",
    "load_echoes",
    "make_echoes",
    "save_echoes",
]
