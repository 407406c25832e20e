"""make_echoes' chunked simulation: the chunks, their cache keys, and the loop.

The rows of a drawn table (grouped kernel by kernel) are cut into chunks of
``chunk_size`` echoes of one kernel (:func:`plan_chunks`). Each chunk of each
experiment is read from the cache when it is there, else simulated by
:func:`simulate_chunk` through :class:`joblib.Parallel` and stored
(:func:`simulate_chunks`). A chunk's key (:func:`~._chunks.chunk_digest`) is
the experiment's simulation key, its echo ids and parameter arrays and, for
a registered kernel, the kernel's definition and a digest of its values on
the lattice (:func:`kernel_values_digest`).
"""

import warnings

import joblib
import numpy as np

from .._progress import progress_bar
from ..kernels import (
    kernel_on_lattice,
    kernel_parameters,
    kernel_token,
    register_kernel,
    registered_kernels,
)
from ..lattices import LatticeRangeWarning
from ..utils._workers import end_with_parent
from ._chunks import chunk_digest

__all__ = [
    "COUPLING_COLUMNS",
    "SAMPLE_COLUMNS",
    "kernel_values_digest",
    "plan_chunks",
    "simulate_chunk",
    "simulate_chunks",
]

#: The columns of a drawn table that every kernel's chunk passes on.
COUPLING_COLUMNS = ("length", "alpha_xy", "alpha_x", "alpha_y", "alpha_z")
#: The drawn per-echo columns that every kernel takes (the sample's, not the
#: kernel's): relaxation times and the linewidth.
SAMPLE_COLUMNS = ("t1", "t2", "linewidth")


def simulate_chunk(simulator, echo_ids, params, records=None, store=None, name=None):
    """Simulate one chunk (in a worker), and store it under ``name`` in ``store``.

    A worker process has no registry of its own: ``records`` brings the
    definitions of registered kernels, registered here first.
    """
    end_with_parent()  # a worker of a killed process ends instead of waiting
    for kernel, (record, token) in (records or {}).items():
        if kernel not in registered_kernels() or kernel_token(kernel) != token:
            register_kernel(**record._asdict(), overwrite=True)
    with warnings.catch_warnings():
        # a dataset's kernels are drawn from its prior, whatever the lattice
        warnings.simplefilter("ignore", LatticeRangeWarning)
        echoes = simulator.simulate(params, echo_ids=echo_ids)
    if store is not None:
        store.save(name, echoes)
    return echoes


def kernel_values_digest(kernel, params, lattice_size):
    """A digest of a registered kernel's values at each row's length and parameters."""
    extras = [c for c in params if c in kernel_parameters(kernel)]
    settings = sorted(
        {
            (
                float(params["length"][i]),
                tuple(
                    (c, float(params[c][i]))
                    for c in extras
                    if not np.isnan(params[c][i])
                ),
            )
            for i in range(len(params["kernel"]))
        }
    )
    return joblib.hash(
        [
            kernel_on_lattice(kernel, length, lattice_size, normalize=False, **dict(kw))
            for length, kw in settings
        ]
    )


def plan_chunks(counts, params_table, echo_ids, chunk_size, lattice_size, keyed):
    """The chunks of a drawn table: ``(rows, echo_ids, params, records, extra_key)``.

    ``counts`` gives the echoes of each kernel, in the table's order (it is
    grouped kernel by kernel). ``params`` holds the kernel and every drawn
    column the chunk's kernel takes; ``records`` the definition of a
    registered kernel (for the workers), else None; ``extra_key`` what a
    registered kernel adds to the chunk's cache key (only when ``keyed``,
    that is when there is a cache: the digest costs the kernel's values).
    """
    # Every drawn column goes to the simulator and so into the chunk's key
    # (by default length, alpha_xy, alpha_z: the key sknmr has always used).
    columns = {c: params_table[c].to_numpy() for c in params_table.columns[1:]}
    registered = registered_kernels()
    chunks = []
    first = 0  # the kernel's first row: the table is grouped kernel by kernel
    for kernel, count in counts.items():
        # Only the extras this kernel takes (the others are NaN on its rows).
        takes = kernel_parameters(kernel)
        names = [
            c
            for c in columns
            if c in COUPLING_COLUMNS or c in SAMPLE_COLUMNS or c in takes
        ]
        records = None
        if kernel in registered:
            records = {kernel: (registered[kernel], kernel_token(kernel))}
        for start in range(first, first + count, chunk_size):
            rows = slice(start, min(start + chunk_size, first + count))
            # Fresh copies: joblib's hash of an array includes its strides.
            params = {
                "kernel": np.full(rows.stop - rows.start, kernel),
                **{c: columns[c][rows].copy() for c in names},
            }
            extra_key = {}
            if records is not None and keyed:
                # the key holds the registered kernel's definition and values
                extra_key = {
                    "kernel_token": records[kernel][1],
                    "kernel_values": kernel_values_digest(kernel, params, lattice_size),
                }
            chunks.append((rows, echo_ids[rows].copy(), params, records, extra_key))
        first += count
    return chunks


def simulate_chunks(
    chunks, workers, keys, widths, dtypes, *, store=None, n_jobs=None, verbose=0
):
    """Every chunk of every experiment, read from ``store`` or simulated.

    ``workers``, ``keys``, ``widths`` and ``dtypes`` give, per experiment
    name and in the order of its columns, the simulator that runs its chunks,
    its simulation key, its number of samples and its dtype. Returns the
    echoes, the experiments side by side.
    """
    n_total = sum(len(chunk_ids) for _, chunk_ids, *_ in chunks)
    # each experiment's chunks, experiment after experiment; its columns
    offsets = np.cumsum([0, *widths.values()])
    spans = {
        name: slice(int(offsets[i]), int(offsets[i + 1]))
        for i, name in enumerate(workers)
    }
    data = np.empty((n_total, int(offsets[-1])), dtype=np.result_type(*dtypes.values()))
    with progress_bar(
        n_total * len(workers), "echoes", enabled=verbose > 0, desc="make_echoes"
    ) as bar:
        # Chunks already in the cache are read (and checked) here; the others
        # are simulated by the workers, which store them.
        missing = []
        for name in workers:
            for rows, chunk_ids, params, records, extra_key in chunks:
                digest = None
                if store is not None:
                    digest = chunk_digest(
                        {**keys[name], **extra_key}, chunk_ids, params
                    )
                    echoes = store.load(
                        digest, (len(chunk_ids), widths[name]), dtypes[name]
                    )
                    if echoes is not None:
                        data[rows, spans[name]] = echoes
                        bar.update(len(echoes))
                        continue
                missing.append((name, rows, chunk_ids, params, records, digest))
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(simulate_chunk)(
                workers[name], chunk_ids, params, records, store, digest
            )
            for name, _, chunk_ids, params, records, digest in missing
        )
        for (name, rows, *_), echoes in zip(missing, results, strict=True):
            data[rows, spans[name]] = echoes
            bar.update(len(echoes))
    return data
