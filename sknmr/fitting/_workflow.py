"""From a file to a table and a figure: what ``sknmr fit`` runs."""

import os

import pandas as pd

from ..io import read_echo
from ._compare import compare_kernels
from ._fit import fit_echo

__all__ = ["fit_file"]


def fit_file(
    path,
    simulator,
    kernels=("gaussian",),
    *,
    format=None,
    output_dir=None,
    read_options=None,
    **fit_params,
):
    """Read a measured echo, fit it, and write the table and a figure.

    Parameters
    ----------
    path : str or path-like
        The measured echo (any format :func:`sknmr.io.read_echo` reads).
    simulator : EchoSimulator
        The experiment's settings (grid, tau, lattice).
    kernels : sequence of str, default=("gaussian",)
        One kernel class is fitted with :func:`fit_echo`; several are
        compared with :func:`compare_kernels` (a ``probability`` column).
    format : str or None, default=None
        Passed to :func:`~sknmr.io.read_echo` (None guesses).
    output_dir : str or None, default=None
        Where to write ``fit.csv`` and ``fit.png``; None writes nothing.
    read_options : dict or None, default=None
        More options of :func:`~sknmr.io.read_echo`.
    **fit_params
        Passed to :func:`fit_echo`.

    Returns
    -------
    table : pandas.DataFrame
        One row per kernel class (see :meth:`EchoFit.table`).
    files : list of str
        What was written.
    """
    echo = read_echo(path, format=format, **(read_options or {}))
    kernels = list(kernels)
    if len(kernels) == 1:
        fits = {kernels[0]: fit_echo(echo, simulator, kernel=kernels[0], **fit_params)}
        table = fits[kernels[0]].table()
    else:
        comparison = compare_kernels(echo, simulator, kernels=kernels, **fit_params)
        fits = comparison.fits
        table = pd.concat([f.table() for f in fits.values()], ignore_index=True)
        table.insert(1, "probability", comparison.table["probability"].to_numpy())
    files = []
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        csv = os.path.join(output_dir, "fit.csv")
        table.to_csv(csv, index=False)
        files.append(csv)
        files.append(_figure(fits, os.path.join(output_dir, "fit.png")))
    return table, files


def _figure(fits, path):
    """The echo and each kernel class's fitted echo."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(fits), figsize=(5.0 * len(fits), 3.5), squeeze=False
    )
    for ax, fit in zip(axes[0], fits.values(), strict=True):
        fit.plot(ax=[ax])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
