"""Echoes simulated a batch at a time.

Each batch is an :class:`~sknmr._physics.EchoBatch`: the kernel spectra of
its rows, their offsets drawn with the simulator's line shape (each echo's
from its own stream, so an echo never depends on the batching), the
couplings and the relaxation over one step, handed to the backend.
"""

import joblib
import numpy as np

from .._physics import EchoBatch, draw_offsets, echo_rng
from .._progress import progress_bar
from ..kernels import kernel_spectrum
from .settings import step_decays
from .table import BASE_COLUMNS, row_extras


def echo_widths(table, linewidth):
    """Each echo's linewidth: the table's, else the simulator's, untouched."""
    return [
        linewidth if np.isnan(w) else float(w) for w in table["linewidth"].to_numpy()
    ]


def draw_batch_offsets(seed, ids, widths, shape, cutoff, line_shape):
    """The offsets of a batch of echoes, each from its own stream."""
    return np.stack(
        [
            draw_offsets(echo_rng(seed, i), shape, width, cutoff, line_shape)
            for i, width in zip(ids, widths, strict=True)
        ]
    )


def simulate_batches(simulator, table, seed, ids, resolved, experiment):
    """The echoes of a checked table, in the simulator's ``output``.

    Parameters
    ----------
    simulator : EchoSimulator
        Its settings (checked) give the line, relaxation, threads and device.
    table : DataFrame
        A table checked by :func:`~sknmr._simulation.table.check_table`.
    seed : int
        The offsets' seed.
    ids : ndarray of int
        Each echo's identity, which seeds its offsets.
    resolved : Resolved
        The backend module, dtype and batch size.
    experiment : Experiment
        The lattice and time grid.
    """
    backend, dtype, batch_size = resolved.module, resolved.dtype, resolved.batch_size
    n_jobs = joblib.effective_n_jobs(simulator.n_jobs)
    lattice = experiment.lattice
    grid = experiment.grid
    pulses = tuple(zip(grid.pulse_steps, grid.rotations, strict=True))
    n_echoes, n_times = len(table), grid.n_times
    extras = [c for c in table.columns if c not in BASE_COLUMNS]
    transverse, longitudinal = step_decays(table, simulator)
    widths = echo_widths(table, simulator.linewidth)

    mxy = np.empty((n_echoes, n_times), dtype=np.result_type(dtype, np.complex64))
    mz = np.empty((n_echoes, n_times), dtype=dtype)
    with progress_bar(n_echoes, "echoes", enabled=simulator.verbose > 0) as bar:
        for start in range(0, n_echoes, batch_size):
            rows = slice(start, min(start + batch_size, n_echoes))
            part = table.iloc[rows]
            spectra = [
                kernel_spectrum(
                    row["kernel"], row["length"], lattice, **row_extras(row, extras)
                )
                for _, row in part.iterrows()
            ]
            batch = EchoBatch(
                spectra=np.stack(spectra),
                offsets=draw_batch_offsets(
                    seed,
                    ids[rows],
                    widths[rows],
                    lattice.shape,
                    simulator.cutoff,
                    simulator.line_shape,
                ),
                alpha_x=part["alpha_x"].to_numpy(np.float64),
                alpha_y=part["alpha_y"].to_numpy(np.float64),
                alpha_z=part["alpha_z"].to_numpy(np.float64),
                dt=float(simulator.dt),
                n_times=n_times,
                pulses=pulses,
                transverse_decay=transverse[rows],
                longitudinal_decay=longitudinal[rows],
                dtype=dtype,
                n_jobs=n_jobs,
                device=simulator.device,
            )
            mxy[rows], mz[rows] = backend.simulate(batch)
            bar.update(rows.stop - rows.start)
    if simulator.output == "magnitude":
        return np.abs(mxy)
    if simulator.output == "complex":
        return mxy
    return mz
