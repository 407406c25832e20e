"""The prior over interaction parameters, and the one sampler that draws from it.

The paper's prior: per kernel type, ``alpha_xy`` and ``alpha_z`` uniform in
[0.01, 0.1] MHz and the length parameter uniform in its range (``xi`` in
[8, 32], ``p`` in [1, 3], ``gamma`` in [13, 52]); a draw is kept only if
``W = 2 alpha_xy + alpha_z`` lies in [0.1, 0.3] MHz, else redrawn.

Every draw of sknmr goes through :func:`draw_params`: echo ``j`` of the kernel
with code ``k`` (0 gaussian, 1 power, 2 rkky) draws its parameters from its
own stream, ``SeedSequence(seed, spawn_key=(2, k, j))``, and its echo id is
``k * ECHO_ID_STRIDE + j``. So :func:`sample_prior`,
:meth:`sknmr.EchoSimulator.sample` and :func:`sknmr.datasets.make_echoes` give
the same materials for the same seed, whatever the batch, chunk or job count.

Examples
--------
>>> from sknmr.prior import sample_prior
>>> table = sample_prior(6, random_state=0)
>>> list(table.columns)
['kernel', 'length', 'alpha_xy', 'alpha_z', 'W', 'L', 'power']
>>> table["kernel"].tolist()
['gaussian', 'gaussian', 'power', 'power', 'rkky', 'rkky']
>>> bool(table["W"].between(0.1, 0.3).all())
True
"""

import math
from numbers import Integral

import numpy as np
import pandas as pd

from ._paper import PAPER_PRIOR
from .kernels import KERNELS, coupling_targets
from .utils._random import check_seed
from .utils._resources import check_fits_in_memory

__all__ = [
    "ECHO_ID_STRIDE",
    "PAPER_PRIOR",
    "PARAM_COLUMNS",
    "TARGET_COLUMNS",
    "add_targets",
    "check_prior",
    "draw_params",
    "draw_table",
    "prior_echo_ids",
    "sample_prior",
    "split_counts",
]

#: The paper's prior: ``alpha_xy`` and ``alpha_z`` ranges (MHz), each kernel's
#: length-parameter range (``"length"``), and the window of ``W`` (MHz) a draw
#: must land in.
PAPER_PRIOR = PAPER_PRIOR
#: The columns that define one echo.
PARAM_COLUMNS = ("kernel", "length", "alpha_xy", "alpha_z")
#: The derived learning targets added to a parameter table.
TARGET_COLUMNS = ("W", "L", "power")
#: Echo ids of kernel code ``k`` are ``k * ECHO_ID_STRIDE + j``.
ECHO_ID_STRIDE = 10**9

_PRIOR_STREAM = 2  # first spawn_key entry of the per-echo prior streams
_MAX_ROUNDS = 1000
_MIN_ACCEPTANCE = 1e-6
_BYTES_PER_ROW = 200  # a parameter table's row with its targets, generously


def _check_range(name, bounds, lower=None):
    if isinstance(bounds, (str, bytes)) or np.ndim(bounds) != 1 or len(bounds) != 2:
        raise ValueError(
            f"{name} must be a (low, high) pair of numbers; got {bounds!r}."
        )
    for b in bounds:
        if isinstance(b, (bool, np.bool_, str, bytes)) or not isinstance(
            b, (Integral, float, np.floating)
        ):
            raise TypeError(
                f"{name} must be a (low, high) pair of real numbers; got {bounds!r}."
            )
    lo, hi = (float(b) for b in bounds)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ValueError(
            f"{name} must be a finite range with low <= high; got {bounds!r}."
        )
    if lower is not None and lo < lower:
        raise ValueError(f"{name} must lie in [{lower}, inf); got {bounds!r}.")
    return lo, hi


def _acceptance(axy, az, w):
    """Probability that ``2 a + b`` (a, b uniform) falls in the W window."""
    # Exact enough to refuse hopeless windows: a fine grid over alpha_xy.
    a = np.linspace(axy[0], axy[1], 2001)
    lo = np.clip(w[0] - 2 * a, az[0], az[1])
    hi = np.clip(w[1] - 2 * a, az[0], az[1])
    if az[1] == az[0]:
        inside = (2 * a + az[0] >= w[0]) & (2 * a + az[0] <= w[1])
        return float(inside.mean())
    return float(np.mean((hi - lo) / (az[1] - az[0])))


def split_counts(n_samples, kernels):
    """Split ``n_samples`` over ``kernels``, the first ones taking the remainder.

    Examples
    --------
    >>> split_counts(10, ("gaussian", "power", "rkky"))
    [4, 3, 3]
    """
    base, extra = divmod(n_samples, len(kernels))
    return [base + (i < extra) for i in range(len(kernels))]


def check_kernels(kernels):
    """Validate a sequence of kernel names and return it as a tuple."""
    if isinstance(kernels, str):
        kernels = (kernels,)
    try:
        kernels = tuple(kernels)
    except TypeError:
        raise TypeError(
            f"kernels must be a sequence of names from {KERNELS}; got {kernels!r}."
        ) from None
    if not kernels:
        raise ValueError(f"kernels must name at least one of {KERNELS}.")
    unknown = [k for k in kernels if not isinstance(k, str) or k not in KERNELS]
    if unknown:
        raise ValueError(
            f"kernels must be drawn from {KERNELS}; got unknown {unknown}."
        )
    if len(set(kernels)) != len(kernels):
        raise ValueError(f"kernels must not repeat; got {kernels}.")
    return kernels


def check_count(value, name):
    """A positive int count (bools and floats refused), as a plain ``int``."""
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}.")
    return int(value)


def check_prior(
    kernels=KERNELS,
    *,
    alpha_xy=PAPER_PRIOR["alpha_xy"],
    alpha_z=PAPER_PRIOR["alpha_z"],
    lengths=None,
    W=PAPER_PRIOR["W"],
):
    """Validate prior ranges; return them as plain lists, and the W acceptance.

    Returns
    -------
    prior : dict
        ``alpha_xy``, ``alpha_z``, ``W`` as ``[low, high]`` and ``lengths``
        mapping each of ``kernels`` to its ``[low, high]`` (JSON-able).
    acceptance : float
        The fraction of uniform draws whose ``W`` lands in the window.
    """
    kernels = check_kernels(kernels)
    axy = _check_range("alpha_xy", alpha_xy, lower=0.0)
    az = _check_range("alpha_z", alpha_z, lower=0.0)
    w = _check_range("W", W)
    ranges = dict(PAPER_PRIOR["length"])
    if lengths is not None:
        if not isinstance(lengths, dict):
            raise TypeError(
                "lengths must be a dict mapping kernel names to (low, high) ranges; "
                f"got {type(lengths).__name__}."
            )
        unknown = set(lengths) - set(KERNELS)
        if unknown:
            raise ValueError(
                f"lengths has unknown kernels {sorted(map(str, unknown))}; use "
                f"{KERNELS}."
            )
        ranges.update(lengths)
    ranges = {k: _check_range(f"lengths[{k!r}]", ranges[k]) for k in kernels}
    for k, (lo, _) in ranges.items():
        if lo < 0 or (k != "power" and lo == 0):
            raise ValueError(
                f"lengths[{k!r}] must be positive{' or zero' if k == 'power' else ''}; "
                f"got {ranges[k]}."
            )
    w_min, w_max = 2 * axy[0] + az[0], 2 * axy[1] + az[1]
    if w[0] == w[1]:
        raise ValueError(
            f"W must be a window with low < high; got {W!r}: a continuous draw lands "
            "on one exact value with probability 0. To fix W, give a narrow window "
            "such as (0.199, 0.201)."
        )
    if w[1] < w_min or w[0] > w_max:
        raise ValueError(
            f"The W window {w} cannot be reached with alpha_xy in {axy} and alpha_z "
            f"in {az}: W = 2 alpha_xy + alpha_z spans [{w_min:g}, {w_max:g}]."
        )
    acceptance = _acceptance(axy, az, w)
    if acceptance < _MIN_ACCEPTANCE:
        raise ValueError(
            f"The W window {w} is too narrow for alpha_xy in {axy} and alpha_z in "
            f"{az}: about {acceptance:.2g} of the draws land in it (at least "
            f"{_MIN_ACCEPTANCE:g} needed); widen W or narrow the couplings' ranges."
        )
    prior = {
        "alpha_xy": list(axy),
        "alpha_z": list(az),
        "lengths": {k: list(v) for k, v in ranges.items()},
        "W": list(w),
    }
    return prior, acceptance


def draw_params(seed, kernel, indices, prior, acceptance):
    """Parameters ``(length, alpha_xy, alpha_z)`` of echoes ``indices`` of a kernel.

    Each echo draws blocks of uniform candidates from its own stream,
    ``SeedSequence(seed, spawn_key=(2, code, j))``, and keeps the first whose
    ``W = 2 alpha_xy + alpha_z`` falls in the window, so its parameters depend
    on nothing but the seed, the kernel, its index and the prior.

    Parameters
    ----------
    seed : int
    kernel : str
    indices : array-like of int
        The echoes' indices within the kernel.
    prior, acceptance
        From :func:`check_prior`.

    Returns
    -------
    values : ndarray of shape (len(indices), 3)
    """
    code = KERNELS.index(kernel)
    length_range = prior["lengths"][kernel]
    low = np.array([length_range[0], prior["alpha_xy"][0], prior["alpha_z"][0]])
    span = np.array([length_range[1], prior["alpha_xy"][1], prior["alpha_z"][1]]) - low
    w_lo, w_hi = prior["W"]
    # About 8 accepted draws per block: one round nearly always suffices, and
    # check_prior has refused windows too narrow for this to end.
    block = int(min(2**20, max(8, math.ceil(8 / acceptance))))
    indices = np.asarray(indices)
    out = np.empty((len(indices), 3))
    for row, j in enumerate(indices):
        rng = np.random.default_rng(
            np.random.SeedSequence(int(seed), spawn_key=(_PRIOR_STREAM, code, int(j)))
        )
        for _ in range(_MAX_ROUNDS):
            draw = low + span * rng.random((block, 3))
            w = 2 * draw[:, 1] + draw[:, 2]
            hits = np.flatnonzero((w >= w_lo) & (w <= w_hi))
            if hits.size:
                out[row] = draw[hits[0]]
                break
        else:  # pragma: no cover - the acceptance check makes this vanishingly rare
            raise RuntimeError(f"Rejection sampling did not converge for echo {j}.")
    return out


def draw_table(seed, kernels, counts, prior, acceptance):
    """The parameter table of ``counts[i]`` echoes of each of ``kernels``, and ids.

    Rows are grouped kernel by kernel, each drawn by :func:`draw_params`;
    the ids are :func:`prior_echo_ids`. This is what :func:`sample_prior`,
    :meth:`sknmr.EchoSimulator.sample` and :func:`sknmr.datasets.make_echoes`
    draw.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``kernel, length, alpha_xy, alpha_z``.
    echo_ids : ndarray of int64
    """
    frames = []
    for kernel, count in zip(kernels, counts, strict=True):
        if count == 0:
            continue
        values = draw_params(seed, kernel, np.arange(count), prior, acceptance)
        frames.append(
            pd.DataFrame(
                {
                    "kernel": np.full(count, kernel),
                    "length": values[:, 0],
                    "alpha_xy": values[:, 1],
                    "alpha_z": values[:, 2],
                }
            )
        )
    return pd.concat(frames, ignore_index=True), prior_echo_ids(kernels, counts)


def prior_echo_ids(kernels, counts):
    """Echo ids of ``counts[i]`` echoes of each of ``kernels``, kernel by kernel.

    Examples
    --------
    >>> prior_echo_ids(("gaussian", "rkky"), (2, 1)).tolist()
    [0, 1, 2000000000]
    """
    return np.concatenate(
        [
            KERNELS.index(k) * ECHO_ID_STRIDE + np.arange(n, dtype=np.int64)
            for k, n in zip(kernels, counts, strict=True)
        ]
    )


def sample_prior(
    n_samples,
    kernels=KERNELS,
    *,
    alpha_xy=PAPER_PRIOR["alpha_xy"],
    alpha_z=PAPER_PRIOR["alpha_z"],
    lengths=None,
    W=PAPER_PRIOR["W"],
    lattice_size=100,
    random_state=None,
):
    """Draw interaction parameters from the prior (by default the paper's).

    Parameters
    ----------
    n_samples : int
        Total number of parameter sets, split evenly over ``kernels``
        (see :func:`split_counts`); rows are grouped kernel by kernel.
    kernels : sequence of {"gaussian", "power", "rkky"}, default=all three
    alpha_xy, alpha_z : (float, float), default=(0.01, 0.1)
        Uniform ranges of the couplings (MHz).
    lengths : dict, default=None
        Range of each kernel's length parameter; missing kernels take the
        paper's range (``PAPER_PRIOR["length"]``).
    W : (float, float), default=(0.1, 0.3)
        Window of ``W = 2 alpha_xy + alpha_z`` (MHz) a draw must land in.
    lattice_size : int, default=100
        Lattice on which ``L`` is computed.
    random_state : int, RandomState, Generator or None
        Seed of the draw: row ``j`` of kernel ``k`` comes from its own stream
        of this seed (see the module's description), so the same seed gives
        the same rows as :func:`sknmr.datasets.make_echoes`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``kernel, length, alpha_xy, alpha_z, W, L, power``.
    """
    n_samples = check_count(n_samples, "n_samples")
    if not isinstance(lattice_size, Integral) or lattice_size < 2:
        raise ValueError(f"lattice_size must be an int >= 2; got {lattice_size!r}.")
    prior, acceptance = check_prior(
        kernels, alpha_xy=alpha_xy, alpha_z=alpha_z, lengths=lengths, W=W
    )
    kernels = check_kernels(kernels)
    seed = check_seed(random_state)
    check_fits_in_memory(
        n_samples * _BYTES_PER_ROW, f"drawing {n_samples} parameter sets", "n_samples"
    )
    table, _ = draw_table(
        seed, kernels, split_counts(n_samples, kernels), prior, acceptance
    )
    return add_targets(table, lattice_size)


def add_targets(table, lattice_size=100):
    """Return ``table`` with the derived targets ``W``, ``L`` and ``power`` added."""
    table = table.copy()
    for name, values in coupling_targets(table, lattice_size).items():
        table[name] = values
    return table
