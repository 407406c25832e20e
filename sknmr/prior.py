"""The paper's prior over interaction parameters (SPEC section 2).

Per kernel type, ``alpha_xy`` and ``alpha_z`` are uniform in [0.01, 0.1] MHz
and the length parameter uniform in its range (``xi`` in [8, 32], ``p`` in
[1, 3], ``gamma`` in [13, 52]); a draw is kept only if
``W = 2 alpha_xy + alpha_z`` lies in [0.1, 0.3] MHz, else redrawn.

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

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .kernels import KERNELS, coupling_targets

__all__ = [
    "PAPER_PRIOR",
    "PARAM_COLUMNS",
    "TARGET_COLUMNS",
    "sample_prior",
    "split_counts",
]

#: The columns that define one echo.
PARAM_COLUMNS = ("kernel", "length", "alpha_xy", "alpha_z")
#: The derived learning targets added to a parameter table.
TARGET_COLUMNS = ("W", "L", "power")

#: The paper's ranges: couplings (MHz), each kernel's length, and the W window.
PAPER_PRIOR = {
    "alpha_xy": (0.01, 0.1),
    "alpha_z": (0.01, 0.1),
    "length": {"gaussian": (8.0, 32.0), "power": (1.0, 3.0), "rkky": (13.0, 52.0)},
    "W": (0.1, 0.3),
}

_MAX_ROUNDS = 1000
_MIN_ACCEPTANCE = 1e-6


def as_generator(random_state):
    """A ``numpy.random.Generator`` from an int, None, RandomState or Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def _check_range(name, bounds, lower=None):
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a (low, high) pair of numbers; got {bounds!r}."
        ) from None
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
    kernels = tuple(kernels)
    if not kernels:
        raise ValueError(f"kernels must name at least one of {KERNELS}.")
    unknown = [k for k in kernels if k not in KERNELS]
    if unknown:
        raise ValueError(
            f"kernels must be drawn from {KERNELS}; got unknown {unknown}."
        )
    if len(set(kernels)) != len(kernels):
        raise ValueError(f"kernels must not repeat; got {kernels}.")
    return kernels


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
    """Draw interaction parameters from the paper's prior.

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
        Seed of the draw.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``kernel, length, alpha_xy, alpha_z, W, L, power``.
    """
    if (
        not isinstance(n_samples, Integral)
        or isinstance(n_samples, bool)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    kernels = check_kernels(kernels)
    axy = _check_range("alpha_xy", alpha_xy, lower=0.0)
    az = _check_range("alpha_z", alpha_z, lower=0.0)
    w = _check_range("W", W)
    ranges = dict(PAPER_PRIOR["length"])
    if lengths is not None:
        unknown = set(lengths) - set(KERNELS)
        if unknown:
            raise ValueError(
                f"lengths has unknown kernels {sorted(unknown)}; use {KERNELS}."
            )
        ranges.update(lengths)
    ranges = {k: _check_range(f"lengths[{k!r}]", ranges[k]) for k in kernels}
    for k, (lo, _) in ranges.items():
        if lo < 0 or (k != "power" and lo == 0):
            raise ValueError(
                f"lengths[{k!r}] must be positive{' or zero' if k == 'power' else ''}; "
                f"got {ranges[k]}."
            )
    acceptance = _acceptance(axy, az, w)
    if acceptance < _MIN_ACCEPTANCE:
        raise ValueError(
            f"The W window {w} cannot be reached with alpha_xy in {axy} and alpha_z in "
            f"{az}: W = 2 alpha_xy + alpha_z spans [{2 * axy[0] + az[0]:g}, "
            f"{2 * axy[1] + az[1]:g}]."
        )

    rng = as_generator(random_state)
    frames = []
    for kernel, count in zip(kernels, split_counts(n_samples, kernels), strict=True):
        if count == 0:
            continue
        accepted = []
        n_accepted = 0
        for _ in range(_MAX_ROUNDS):
            m = max(16, int(1.2 * (count - n_accepted) / acceptance))
            draw = np.column_stack(
                [
                    rng.uniform(*ranges[kernel], m),
                    rng.uniform(*axy, m),
                    rng.uniform(*az, m),
                ]
            )
            wdraw = 2 * draw[:, 1] + draw[:, 2]
            keep = draw[(wdraw >= w[0]) & (wdraw <= w[1])]
            accepted.append(keep)
            n_accepted += len(keep)
            if n_accepted >= count:
                break
        else:  # pragma: no cover - the acceptance check above prevents it
            raise RuntimeError("Rejection sampling did not converge.")
        values = np.concatenate(accepted)[:count]
        frames.append(
            pd.DataFrame(
                {
                    "kernel": kernel,
                    "length": values[:, 0],
                    "alpha_xy": values[:, 1],
                    "alpha_z": values[:, 2],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return add_targets(table, lattice_size)


def add_targets(table, lattice_size=100):
    """Return ``table`` with the derived targets ``W``, ``L`` and ``power`` added."""
    table = table.copy()
    for name, values in coupling_targets(table, lattice_size).items():
        table[name] = values
    return table
