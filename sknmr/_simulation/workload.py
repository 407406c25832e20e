"""What a simulation will cost, known before it starts: memory and time.

A run too big for memory is refused before it allocates anything; the time
estimate (:meth:`~sknmr.EchoSimulator.estimate_seconds`) lets a caller warn
about, or refuse, a run that would take days.
"""

import joblib
import numpy as np

from ..utils._resources import check_fits_in_memory, format_bytes

# Rough cost of one nucleus over one step, per thread (s), to warn before long
# work: measured at 100 x 100 in float32 (numba ~2.5e-8, numpy about 4x that).
SECONDS_PER_SPIN_STEP = {
    "numpy": 1e-7,
    "numba": 2.5e-8,
    "cuda": 1e-10,
    "torch": 1e-7,
}
# Fixed cost of one step of a batch (kernel launches, loop overhead), roughly.
SECONDS_PER_STEP = 1e-5


def bytes_per_sample(dtype):
    """Bytes held per echo and sample: complex M, <I^z> and the returned array."""
    item = np.dtype(dtype).itemsize
    return 2 * item + item + 2 * item


def lattice_words(lattice):
    """``"16 x 16"``: a lattice's cells along each vector, for messages."""
    return " x ".join(str(n) for n in lattice.shape)


def check_memory(n_echoes, experiment, resolved):
    """Refuse a run the backend cannot take, or whose arrays would not fit.

    Parameters
    ----------
    n_echoes : int
        Echoes simulated at once.
    experiment : Experiment
        Its lattice and number of samples set the size of a run.
    resolved : Resolved
        The backend, dtype and batch size (``EchoSimulator.resolve_backend``).
    """
    geometry, n_times = experiment.lattice, experiment.n_times
    check_shape = getattr(resolved.module, "check_lattice_shape", None)
    if check_shape is not None:  # a backend that takes some lattices only
        check_shape(geometry.shape)
    batch = min(resolved.batch_size, n_echoes)
    echoes = n_echoes * n_times * bytes_per_sample(resolved.dtype)
    # Per echo of a batch: kernel spectrum and offsets (float64), the state,
    # the fields and the FFT's work arrays (about 12 values per nucleus).
    lattice = batch * geometry.n_sites * (16 + 12 * resolved.dtype.itemsize)
    check_fits_in_memory(
        echoes + lattice,
        f"Simulating {n_echoes} echo(es) of {n_times} samples (3 tau / dt, or "
        f"a sequence's duration / dt) on a "
        f"{lattice_words(geometry)} lattice (echoes {format_bytes(echoes)}, "
        f"lattice state {format_bytes(lattice)})",
        "the number of echoes, tau / dt (the samples per echo), lattice_size "
        "or the lattice's shape",
    )


def estimate_seconds(n_echoes, experiment, resolved, n_jobs):
    """Rough run time (s): the measured cost of one spin step of the backend,
    times the nuclei, the time steps and the echoes, over ``n_jobs`` threads,
    plus a fixed cost per step of each batch."""
    threads = max(1, joblib.effective_n_jobs(n_jobs))
    n_batches = -(-n_echoes // resolved.batch_size)
    per_spin = SECONDS_PER_SPIN_STEP.get(resolved.name, 1e-7)
    return (experiment.n_times - 1) * (
        n_echoes * experiment.lattice.n_sites * per_spin / threads
        + n_batches * SECONDS_PER_STEP
    )
