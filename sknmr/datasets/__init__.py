"""Datasets: the paper's simulated spin echoes.

:func:`make_echoes` draws parameters from the prior and simulates their
echoes in cached, resumable chunks (through :class:`joblib.Parallel`, so a
Dask cluster can run them); :func:`save_echoes` and :func:`load_echoes` keep a
generated dataset in one ``.npz`` file.
"""

from ._echoes import make_echoes
from ._io import load_echoes, save_echoes

__all__ = ["load_echoes", "make_echoes", "save_echoes"]
