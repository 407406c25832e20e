"""make_echoes: the paper's dataset of simulated spin echoes, in cached chunks.

How the work is laid out, and why:

* Echo ``j`` of kernel ``k`` (``k`` the kernel's code,
  :func:`sknmr.prior.kernel_code`: 0 gaussian, 1 power, 2 rkky, another
  kernel ``3 + crc32(name) % 997``) has its parameters drawn by rejection
  from a generator seeded by ``SeedSequence(seed, spawn_key=(s, k, j))``,
  ``s`` the prior's couplings stream (relaxation times and kernel
  parameters, when the prior draws them, come from streams of their own:
  see :mod:`sknmr.prior`), and its offsets from the simulator with
  ``random_state=seed`` and echo id ``k * 10**9 + j``. So an echo depends
  only on ``(seed, kernel, j)``, the prior and the simulator's settings:
  never on ``n_jobs``, ``chunk_size``, how many echoes are asked for or
  which other kernels are.
* The echoes of each kernel are cut into chunks of ``chunk_size``
  (:mod:`._simulate`). A chunk is one call of its ``simulate_chunk``, run
  through :class:`joblib.Parallel` (so
  ``joblib.parallel_config(backend="dask")`` sends it to a Dask cluster)
  and cached in the ``memory`` folder (:mod:`._chunks`: plain ``.npy``
  arrays with a JSON sidecar, never pickles, each checked before it is
  served). The cache key is exactly what fixes the result: the chunk's
  parameter arrays (every drawn column: couplings, relaxation times, kernel
  parameters), echo ids, seed and the simulator's result-relevant settings
  (see :func:`_simulation_key`), plus, for a registered kernel, its
  definition (:func:`sknmr.kernels.kernel_token`) and a digest of its values
  on the lattice at the chunk's lengths (a function reading a global that
  changed makes new chunks). Each file is written to a temporary name and
  renamed into place, so an interrupted chunk leaves nothing that reads as
  done.
* This module checks make_echoes' arguments, keys each experiment's
  simulations (:func:`_simulation_key`) and records the settings; the Bunch
  and its description in words are made by :mod:`._describe`.
"""

import json
import os
import tempfile
import time
from collections.abc import Mapping
from numbers import Integral

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, validate_params

from .. import __version__
from .._paper import PAPER_N_PER_KERNEL, PAPER_PRIOR
from .._physics import MODEL_REVISION
from .._timegrid import DEFAULT_TAU
from ..kernels import KERNELS
from ..prior import (
    ECHO_ID_STRIDE,
    add_targets,
    check_count,
    check_kernels,
    check_prior,
    draw_table,
    split_counts,
)
from ..sequences import PulseSequence
from ..simulator import EchoSimulator
from ..utils._random import check_seed
from ..utils._resources import check_fits_in_memory, check_n_jobs
from ._chunks import ChunkStore
from ._describe import BLOCK_SEPARATOR, _assemble, _describe
from ._simulate import plan_chunks, simulate_chunks

__all__ = ["make_echoes"]

#: Echo ids of kernel code ``k`` are ``k * ID_STRIDE + j``.
ID_STRIDE = ECHO_ID_STRIDE
#: Default chunk size on the CPU (about a minute of work at the paper's size).
DEFAULT_CHUNK_SIZE = 100

#: The default simulator: the paper's settings, single precision.
DEFAULT_SIMULATOR = EchoSimulator(dtype="float32")


# -- validation -------------------------------------------------------------
def _check_counts(n_per_kernel, n_samples, kernels):
    """Echoes per kernel, from exactly one of ``n_per_kernel`` and ``n_samples``."""
    if n_per_kernel is not None and n_samples is not None:
        raise ValueError(
            "Give at most one of n_per_kernel and n_samples; got "
            f"n_per_kernel={n_per_kernel!r} and n_samples={n_samples!r}."
        )
    if n_samples is not None:
        counts = split_counts(check_count(n_samples, "n_samples"), kernels)
    else:
        n = (
            PAPER_N_PER_KERNEL
            if n_per_kernel is None
            else check_count(n_per_kernel, "n_per_kernel")
        )
        counts = [n] * len(kernels)
    if max(counts) >= ID_STRIDE:
        raise ValueError(
            f"At most {ID_STRIDE - 1} echoes per kernel; got {max(counts)}."
        )
    return dict(zip(kernels, counts, strict=True))


def _check_memory(memory):
    """The cache folder of ``memory`` (or None), after checking it can be written."""
    if memory is None:
        return None
    location = memory
    try:
        if isinstance(memory, (str, os.PathLike)):
            memory = joblib.Memory(os.path.expanduser(os.fspath(memory)), verbose=0)
        location = getattr(memory, "location", None)
        if location is None:  # Memory(location=None) caches nothing
            return None
        location = os.fspath(location)
        os.makedirs(location, exist_ok=True)
        # A real write: os.access says yes to root on read-only mounts.
        with tempfile.TemporaryFile(dir=location):
            pass
    except OSError as exc:
        raise ValueError(
            f"memory must be a folder that can be written; {os.fspath(location)!r} "
            f"cannot: {exc}"
        ) from None
    return location


def _check_relaxation_with(simulator, prior):
    """Refuse a t1 (t2) range that breaks ``t2 <= 2 t1`` with the simulator's t2 (t1).

    With both ranges the prior redraws bad pairs; with one, the other time
    is the simulator's for every echo.
    """
    if "t1" in prior and "t2" not in prior:
        t2 = simulator.experiment.transverse_time
        if np.isfinite(t2) and t2 > 2 * prior["t1"][0]:
            raise ValueError(
                f"t1 in {prior['t1']} us reaches below half the simulator's T2 "
                f"({t2:g} us), but t2 <= 2 t1 must hold for every echo; raise t1's "
                "low end, or give a t2 range too (pairs are then redrawn)."
            )
    if "t2" in prior and "t1" not in prior:
        t1 = simulator.experiment.longitudinal_time
        if prior["t2"][1] > 2 * t1:
            raise ValueError(
                f"t2 in {prior['t2']} us reaches above twice the simulator's T1 "
                f"({t1:g} us), but t2 <= 2 t1 must hold for every echo; lower t2's "
                "high end, or give a t1 range too (pairs are then redrawn)."
            )


def _seed_from(random_state, simulator):
    """An integer seed: make_echoes' random_state, else the simulator's, else fresh."""
    state = simulator.random_state if random_state is None else random_state
    return check_seed(state, "random_state")


# -- simulation ---------------------------------------------------------------
def _simulation_key(simulator, seed):
    """What decides a chunk's echoes besides its parameters, as a JSON-able dict.

    The experiment record (:attr:`EchoSimulator.experiment`), the seed, the
    model revision, and the backend and dtype, resolved ("auto" becomes the
    backend picked on this machine): backends agree only to floating-point
    tolerance, and a cache hit must return exactly what a fresh run would.
    ``batch_size``, ``n_jobs`` and ``verbose`` do not change results and are
    left out. For the same reason the torch backend's ``device`` is kept, by
    its canonical name (None and "cpu" are one device, "cuda" the current
    GPU's "cuda:<index>"); the other backends have none.
    """
    resolved = simulator.resolve_backend()
    key = {
        "experiment": simulator.experiment.to_dict(),
        "backend": resolved.name,
        "dtype": resolved.dtype.name,
        "seed": seed,
        "model_revision": MODEL_REVISION,
    }
    if resolved.name == "torch":
        key["device"] = resolved.module.device_name(simulator.device)
    fft = getattr(resolved.module, "fft_method", None)
    if fft is not None:
        # another FFT rounds differently: its echoes are cached apart (the
        # numba backend's may be chosen per lattice shape and dtype)
        method = fft(resolved.dtype, simulator.experiment.lattice.shape)
        if method != "scipy":
            key["fft"] = method
    numerics = getattr(resolved.module, "NUMERICS_REVISION", None)
    if numerics is not None:
        # the backend's arithmetic changed the echoes' rounding (not the model)
        key["numerics"] = numerics
    return key


def _chunk_size(chunk_size, simulator):
    if chunk_size is not None:
        return check_count(chunk_size, "chunk_size")
    return max(DEFAULT_CHUNK_SIZE, simulator.resolve_backend().batch_size)


# What a multi-sequence entry may set besides the sequence.
_BLOCK_SETTINGS = ("sequence", "output")


def _check_sequences(sequences, simulator):
    """One simulator per named experiment of ``sequences``, in order.

    A value is a :class:`~sknmr.sequences.PulseSequence`, None (the
    simulator's own experiment) or a dict setting ``sequence`` and/or
    ``output``; every experiment shares the simulator's time step and physics
    (its ``tau``, ``pulse_angle`` and ``refocus_axis`` make its own experiment,
    which a sequence replaces).
    """
    if not isinstance(sequences, Mapping) or not sequences:
        raise TypeError(
            "sequences must be a non-empty mapping of names to PulseSequence "
            "objects (None: the simulator's own experiment; or a dict with "
            f"'sequence' and/or 'output'); got {sequences!r}."
        )
    simulators = {}
    for name, value in sequences.items():
        if not isinstance(name, str) or not name or BLOCK_SEPARATOR in name:
            raise ValueError(
                "sequences' names must be non-empty strings without "
                f"{BLOCK_SEPARATOR!r} (it joins a name to the column names); "
                f"got {name!r}."
            )
        if value is None or isinstance(value, PulseSequence):
            value = {"sequence": value}
        if not isinstance(value, Mapping):
            raise TypeError(
                f"sequences[{name!r}] must be a PulseSequence, None or a dict of "
                f"{_BLOCK_SETTINGS}; got {type(value).__name__}."
            )
        other = sorted(set(value) - set(_BLOCK_SETTINGS))
        if other:
            raise ValueError(
                f"sequences[{name!r}] may set only {_BLOCK_SETTINGS}; got {other}. "
                "Every experiment of a dataset runs on the simulator's time grid "
                "(dt) and physics, so that its materials are the same samples."
            )
        if "sequence" in value and not (
            value["sequence"] is None or isinstance(value["sequence"], PulseSequence)
        ):
            raise TypeError(
                f"sequences[{name!r}]['sequence'] must be a PulseSequence or None; "
                f"got {type(value['sequence']).__name__}."
            )
        block = clone(simulator).set_params(**value)
        if block.sequence is not None:
            # the sequence replaces the simulator's own Hahn-echo settings
            block.set_params(tau=DEFAULT_TAU, pulse_angle=90.0, refocus_axis="y")
        try:
            _ = block.experiment.grid  # the settings, and the sequence on the grid
        except ValueError as exc:
            raise ValueError(f"sequences[{name!r}]: {exc}") from None
        simulators[name] = block
    return simulators


@validate_params(
    {
        "n_per_kernel": [Interval(Integral, 1, None, closed="left"), None],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "kernels": [str, "array-like"],
        "simulator": [EchoSimulator, None],
        "alpha_xy": ["array-like", None],
        "alpha_z": ["array-like"],
        "lengths": [dict, None],
        "W": ["array-like"],
        "alpha_x": ["array-like", None],
        "alpha_y": ["array-like", None],
        "t1": ["array-like", None],
        "t2": ["array-like", None],
        "kernel_params": [dict, None],
        "linewidth": ["array-like", None],
        "sequences": [Mapping, None],
        "random_state": ["random_state", np.random.Generator],
        "memory": [None, str, os.PathLike, joblib.Memory],
        "n_jobs": [Integral, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_echoes(
    n_per_kernel=None,
    *,
    n_samples=None,
    kernels=KERNELS,
    simulator=None,
    alpha_xy=None,
    alpha_z=PAPER_PRIOR["alpha_z"],
    lengths=None,
    W=PAPER_PRIOR["W"],
    alpha_x=None,
    alpha_y=None,
    t1=None,
    t2=None,
    kernel_params=None,
    linewidth=None,
    sequences=None,
    random_state=None,
    memory=None,
    n_jobs=None,
    chunk_size=None,
    verbose=0,
    return_X_y=False,
    as_frame=False,
):
    """Simulate the paper's dataset: echoes drawn from the prior, in cached chunks.

    Parameters are drawn from the prior (by default the paper's: see
    :mod:`sknmr.prior`) and simulated by
    ``simulator``. The work is split into chunks run through
    :class:`joblib.Parallel` and cached one by one in ``memory``: a second
    call reads the chunks back, an interrupted call resumes where it
    stopped, and asking for more echoes reuses the chunks already made.

    Parameters
    ----------
    n_per_kernel : int, default=None
        Echoes per kernel. When neither it nor ``n_samples`` is given, 5000
        (the paper's, 15000 in all).
    n_samples : int, default=None
        Echoes in all, split over ``kernels`` as evenly as possible (the first
        kernels take the remainder). Give at most one of ``n_per_kernel`` and
        ``n_samples``.
    kernels : sequence of str, default=("gaussian", "power", "rkky")
        The kernels, in the order their rows appear: names from
        :func:`sknmr.kernels.available_kernels`. Kernels other than the
        paper's three need their range in ``lengths``; a registered kernel is
        sent to worker processes with its chunks.
    simulator : EchoSimulator, default=None
        Physical and numerical settings; None means
        ``EchoSimulator(dtype="float32")``: the paper's physics in single
        precision, which changes ``|M|`` by ~1e-7 (far below the disorder
        noise, ~1e-2) and makes the paper's 15000 echoes fit in an hour on 2
        cores. Its ``random_state`` is used only when ``random_state`` is
        None; its ``batch_size``, ``n_jobs`` (threads per chunk) and
        ``verbose`` do not change the echoes.
    alpha_xy : (float, float) or None, default=None
        Uniform range of the in-plane coupling (MHz); None means the paper's,
        (0.01, 0.1), unless ``alpha_x`` and ``alpha_y`` are given (giving it
        with them is an error).
    alpha_z : (float, float), default=(0.01, 0.1)
        Uniform range of the out-of-plane coupling (MHz).
    lengths : dict, default=None
        Range of each kernel's length parameter; the paper's kernels missing
        from it take the paper's (``xi`` in [8, 32], ``p`` in [1, 3],
        ``gamma`` in [13, 52]).
    W : (float, float), default=(0.1, 0.3)
        Window of ``W = 2 alpha_xy + alpha_z`` (``alpha_x + alpha_y +
        alpha_z``) (MHz) a draw must land in.
    alpha_x, alpha_y : (float, float) or None, default=None
        Give both to draw the in-plane couplings separately (MHz); ``target``
        then has ``alpha_x`` and ``alpha_y`` instead of ``alpha_xy``.
    t1, t2 : (float, float) or None, default=None
        Uniform ranges (us) of per-echo relaxation times, overriding the
        simulator's. With both, pairs with ``t2 > 2 t1`` are redrawn; with
        one, the simulator's other time must keep ``t2 <= 2 t1`` over the
        whole range.
    kernel_params : dict or None, default=None
        Kernel parameter name -> ``(low, high)``, drawn uniformly for the
        echoes whose kernel takes it (:func:`sknmr.kernels.kernel_parameters`)
        and NaN in ``target`` for the others; ``staggered`` takes the
        probability that an echo's kernel is staggered. See
        :func:`sknmr.prior.sample_prior`.
    linewidth : (float, float) or None, default=None
        Range (MHz, > 0) of each echo's linewidth, the full width at half
        maximum of its offsets (the sample's inhomogeneous line), drawn
        log-uniformly and overriding the simulator's ``linewidth`` (whose
        ``line_shape`` is kept); ``target`` then has a ``linewidth`` column,
        a target that :class:`~sknmr.inference.EchoInference` can learn.
    sequences : mapping of str to PulseSequence, or None, default=None
        Several experiments on the same samples: each material (one draw of
        the prior and one disorder realisation, the same offsets) gets one
        echo per entry, the simulator run with that
        :class:`~sknmr.sequences.PulseSequence` (None: the simulator's own
        experiment; a dict may also set ``output``, e.g.
        ``{"sequence": hahn_echo(100.0, 45.0), "output": "complex"}``). The
        blocks sit side by side in ``data``, in the mapping's order; column
        names are ``"<name>__<quantity>_t=<time>us"`` and ``blocks`` gives each
        name's columns. Each block is cached on its own, so a material's echoes
        do not depend on the other entries. None: one echo per material.
    random_state : int, RandomState instance or None, default=None
        Seeds the prior and the offsets. None uses the simulator's
        ``random_state``, and a fresh seed when that is None too; the seed
        used is recorded in ``settings`` and ``DESCR``.
    memory : str, path, joblib.Memory or None, default=None
        Where chunks are cached: a folder, or a ``joblib.Memory`` (its
        ``location``); None caches nothing. The folder must be writable.
        Chunks are stored as plain ``.npy`` arrays (read without pickle, so a
        file in the folder cannot run code) with a JSON sidecar holding the
        chunk's key, shape, dtype and checksum; a chunk that does not match
        them is simulated again with a warning. Still, share a cache folder
        only with writers you trust: whoever can write there decides the
        echoes you are served. The key of a chunk is its
        parameters, echo ids, the seed and the simulator's experiment
        (:attr:`EchoSimulator.experiment`); ``backend`` and ``dtype``
        are part of it (resolved, so "auto" means the backend picked on the
        calling machine), since backends agree only to rounding; for a
        registered kernel, its definition and its values on the lattice.
        Chunks are reused only for the same ``chunk_size``.
    n_jobs : int, default=None
        Chunks simulated at once by :class:`joblib.Parallel`; None defers to
        :func:`joblib.parallel_config` (one at a time by default). Under
        ``joblib.parallel_config(backend="dask")`` the chunks run on the
        Dask cluster. The echoes do not depend on it.
    chunk_size : int, default=None
        Echoes per chunk (the unit of caching, resuming and parallel work).
        None means 100, or the simulator's batch size when larger. The echoes
        do not depend on it, but cached chunks are reused only for the same
        chunk size.
    verbose : int, default=0
        Show a progress bar over echoes when positive.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Make ``data`` a DataFrame (columns ``feature_names``) and fill
        ``frame`` with data and target side by side.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray or DataFrame of shape (n_echoes, n_times)
            The echoes, kernel by kernel.
        target : DataFrame of shape (n_echoes, n_targets)
            Always a DataFrame, as its columns mix types: ``kernel``,
            ``length``, ``alpha_xy``, ``alpha_z``, ``W``, ``L``, ``power``
            (by default); ``alpha_x``, ``alpha_y`` replace ``alpha_xy`` and
            the drawn ``t1``, ``t2``, ``linewidth`` and kernel parameters come
            before ``W`` when the prior draws them.
        frame : DataFrame or None
            ``data`` and ``target`` side by side when ``as_frame``.
        times : ndarray of shape (n_times,)
            Sample times (us).
        feature_names : ndarray of str
            Names of the columns of ``data``.
        target_names : list of str
            Columns of ``target``.
        echo_ids : ndarray of int
            The simulator's echo id of each row: ``simulator.set_params(
            random_state=settings["seed"]).simulate(target[...],
            echo_ids=echo_ids)`` gives the echoes again.
        settings : dict
            How the data were made (JSON-able; kept by :func:`save_echoes`).
        experiment : Experiment
            The experiment simulated (:class:`~sknmr.Experiment`; with
            ``sequences``, the simulator's own).
        DESCR : str
            The same in words: settings, seed and counts.
        blocks : dict of str to slice
            With ``sequences`` only: the columns of ``data`` (and of
            ``times`` and ``feature_names``) of each experiment.
        experiments : dict of str to Experiment
            With ``sequences`` only: each named experiment.

    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    save_echoes, load_echoes : Keep a generated dataset in one ``.npz`` file.
    sknmr.prior.sample_prior : The prior alone.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.datasets import make_echoes
    >>> sim = EchoSimulator(lattice_size=8, tau=2.0)
    >>> echoes = make_echoes(2, simulator=sim, random_state=0)
    >>> echoes.data.shape == (6, sim.n_times)
    True
    >>> echoes.target["kernel"].tolist()
    ['gaussian', 'gaussian', 'power', 'power', 'rkky', 'rkky']
    >>> bool(echoes.target["W"].between(0.1, 0.3).all())
    True
    >>> X, y = make_echoes(n_samples=4, simulator=sim, random_state=0, return_X_y=True)
    >>> len(X), y["kernel"].tolist()
    (4, ['gaussian', 'gaussian', 'power', 'rkky'])
    >>> echoes = make_echoes(1, simulator=sim, kernels=("gaussian",),
    ...                      alpha_x=(0.01, 0.1), alpha_y=(0.0, 0.02),
    ...                      t2=(20.0, 40.0), random_state=0)
    >>> echoes.target_names
    ['kernel', 'length', 'alpha_x', 'alpha_y', 'alpha_z', 't2', 'W', 'L', 'power']
    """
    started = time.perf_counter()
    kernels = check_kernels(kernels)
    counts = _check_counts(n_per_kernel, n_samples, kernels)
    n_jobs = check_n_jobs(n_jobs)
    simulator = DEFAULT_SIMULATOR if simulator is None else simulator
    try:
        simulator.experiment  # noqa: B018 - checks every setting
    except ValueError as exc:
        # Not an InvalidParameterError: validate_params would name make_echoes.
        raise ValueError(f"simulator has a bad setting: {exc}") from None
    prior, acceptance = check_prior(
        kernels,
        alpha_xy=alpha_xy,
        alpha_z=alpha_z,
        lengths=lengths,
        W=W,
        alpha_x=alpha_x,
        alpha_y=alpha_y,
        t1=t1,
        t2=t2,
        kernel_params=kernel_params,
        linewidth=linewidth,
    )
    _check_relaxation_with(simulator, prior)
    experiments = (
        {None: simulator}
        if sequences is None
        else _check_sequences(sequences, simulator)
    )
    seed = _seed_from(random_state, simulator)
    chunk_size = _chunk_size(chunk_size, simulator)
    n_total = sum(counts.values())
    # Refuse what cannot fit before drawing anything: the dataset itself, plus
    # what one chunk needs while it is simulated.
    real = simulator.resolve_backend().dtype
    dtypes = {
        name: np.result_type(real, np.complex64) if sim.output == "complex" else real
        for name, sim in experiments.items()
    }
    widths = {name: sim.n_times for name, sim in experiments.items()}
    check_fits_in_memory(
        n_total * sum(widths[n] * dtypes[n].itemsize for n in experiments)
        + n_total * 200,
        f"A dataset of {n_total} echoes of {sum(widths.values())} samples",
        "n_per_kernel or n_samples, the simulator's tau / dt, or sequences",
    )
    for sim in experiments.values():
        sim.check_workload(min(chunk_size, n_total))
    location = _check_memory(memory)
    store = None if location is None else ChunkStore(location)
    keys = {name: _simulation_key(sim, seed) for name, sim in experiments.items()}
    # Workers get the resolved backend, so they run what the key says.
    workers = {
        name: clone(sim).set_params(
            random_state=seed, verbose=0, backend=keys[name]["backend"]
        )
        for name, sim in experiments.items()
    }

    params_table, echo_ids = draw_table(
        seed, tuple(counts), tuple(counts.values()), prior, acceptance
    )
    chunks = plan_chunks(
        counts,
        params_table,
        echo_ids,
        chunk_size,
        simulator.lattice_size,
        keyed=store is not None,
    )
    table = add_targets(params_table, simulator.experiment.lattice)
    data = simulate_chunks(
        chunks,
        workers,
        keys,
        widths,
        dtypes,
        store=store,
        n_jobs=n_jobs,
        verbose=verbose,
    )

    key = keys[None] if sequences is None else _simulation_key(simulator, seed)
    settings = {
        "format": "sknmr.datasets.make_echoes/1",
        "sknmr_version": __version__,
        "seed": seed,
        "kernels": list(kernels),
        "counts": {k: int(n) for k, n in counts.items()},
        "n_per_kernel": None if n_per_kernel is None else int(n_per_kernel),
        "n_samples": None if n_samples is None else int(n_samples),
        "prior": prior,
        "simulation": key,
        "chunk_size": chunk_size,
        "id_stride": ID_STRIDE,
        "as_frame": bool(as_frame),
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
    if sequences is None:
        times = simulator.times
        feature_names = simulator.get_feature_names_out()
    else:
        settings["sequences"] = {
            name: {"simulation": keys[name], "n_times": int(widths[name])}
            for name in experiments
        }
        times = np.concatenate([sim.times for sim in experiments.values()])
        feature_names = [
            f"{name}{BLOCK_SEPARATOR}{column}"
            for name, sim in experiments.items()
            for column in sim.get_feature_names_out()
        ]
    json.dumps(settings)  # fail here, not in save_echoes, if anything is not JSON-able
    descr = _describe(settings, data.shape[1], times)
    return _assemble(
        data,
        table,
        times,
        feature_names,
        echo_ids,
        settings,
        descr,
        as_frame,
        return_X_y,
    )
