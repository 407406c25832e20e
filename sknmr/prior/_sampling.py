"""The prior's checks and its one sampler (see :mod:`sknmr.prior`)."""

import math
import zlib
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._paper import PAPER_PRIOR
from ..kernels import KERNELS, available_kernels, coupling_targets, kernel_parameters
from ..utils._random import PriorStream

__all__ = [
    "ECHO_ID_STRIDE",
    "PAPER_PRIOR",
    "PARAM_COLUMNS",
    "PRIOR_SETTINGS",
    "TARGET_COLUMNS",
    "add_targets",
    "check_count",
    "check_kernels",
    "draw_extras",
    "draw_params",
    "draw_table",
    "kernel_code",
    "prior_echo_ids",
    "split_counts",
]

#: The paper's prior: ``alpha_xy`` and ``alpha_z`` ranges (MHz), each kernel's
#: length-parameter range (``"length"``), and the window of ``W`` (MHz) a draw
#: must land in.
PAPER_PRIOR = PAPER_PRIOR
#: The columns that define one echo of the paper's prior.
PARAM_COLUMNS = ("kernel", "length", "alpha_xy", "alpha_z")
#: The derived learning targets added to a parameter table.
TARGET_COLUMNS = ("W", "L", "power")
#: Echo ids of kernel code ``k`` are ``k * ECHO_ID_STRIDE + j``.
ECHO_ID_STRIDE = 10**9
#: Every keyword range :func:`check_prior` (and so :func:`sample_prior`,
#: :meth:`sknmr.EchoSimulator.sample` and :func:`sknmr.datasets.make_echoes`)
#: accepts.
PRIOR_SETTINGS = (
    "alpha_xy",
    "alpha_z",
    "lengths",
    "W",
    "alpha_x",
    "alpha_y",
    "t1",
    "t2",
    "kernel_params",
    "linewidth",
)

_CODE_OFFSET = 3  # codes of kernels beyond the paper's: 3 + crc32(name) % 997
_CODE_MODULUS = 997
_MAX_ROUNDS = 1000
_MIN_ACCEPTANCE = 1e-6


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


def _acceptance_anisotropic(ax, ay, az, w):
    """Probability that ``a + b + c`` (uniforms) falls in the W window.

    A fine grid over ``(a, b)`` with the ``c`` direction integrated exactly:
    accurate to about 1e-3 relative, enough to size the rejection blocks and
    refuse hopeless windows.
    """
    s = (
        np.linspace(ax[0], ax[1], 801)[:, None] + np.linspace(ay[0], ay[1], 801)
    ).ravel()
    if az[1] == az[0]:
        return float(((s + az[0] >= w[0]) & (s + az[0] <= w[1])).mean())
    lo = np.clip(w[0] - s, az[0], az[1])
    hi = np.clip(w[1] - s, az[0], az[1])
    return float(np.mean((hi - lo) / (az[1] - az[0])))


def _relaxation_acceptance(t1, t2):
    """Probability that ``t2 <= 2 t1`` for ``t1``, ``t2`` uniform in their ranges."""
    bound = 2 * np.linspace(t1[0], t1[1], 2001)
    if t2[1] == t2[0]:
        return float((t2[0] <= bound).mean())
    return float(np.mean(np.clip((bound - t2[0]) / (t2[1] - t2[0]), 0.0, 1.0)))


def split_counts(n_samples, kernels):
    """Split ``n_samples`` over ``kernels``, the first ones taking the remainder.

    Examples
    --------
    >>> split_counts(10, ("gaussian", "power", "rkky"))
    [4, 3, 3]
    """
    base, extra = divmod(n_samples, len(kernels))
    return [base + (i < extra) for i in range(len(kernels))]


def kernel_code(kernel):
    """The numeric code of a kernel, for its echo ids and prior streams.

    The paper's kernels keep their position in :data:`~sknmr.kernels.KERNELS`
    (0 gaussian, 1 power, 2 rkky). Any other kernel's code is
    ``3 + zlib.crc32(name.encode("utf-8")) % 997``: fixed by its name alone,
    never by the order kernels were registered in.

    Examples
    --------
    >>> kernel_code("power"), kernel_code("uniform")
    (1, 493)
    """
    if kernel in KERNELS:
        return KERNELS.index(kernel)
    return _CODE_OFFSET + zlib.crc32(kernel.encode("utf-8")) % _CODE_MODULUS


def check_kernels(kernels):
    """Validate a sequence of kernel names and return it as a tuple.

    Names come from :func:`sknmr.kernels.available_kernels`; two kernels
    whose :func:`kernel_code` collide cannot be drawn together.
    """
    known = available_kernels()
    if isinstance(kernels, str):
        kernels = (kernels,)
    try:
        kernels = tuple(kernels)
    except TypeError:
        raise TypeError(
            f"kernels must be a sequence of names from {known}; got {kernels!r}."
        ) from None
    if not kernels:
        raise ValueError(f"kernels must name at least one of {known}.")
    unknown = [k for k in kernels if not isinstance(k, str) or k not in known]
    if unknown:
        raise ValueError(f"kernels must be drawn from {known}; got unknown {unknown}.")
    if len(set(kernels)) != len(kernels):
        raise ValueError(f"kernels must not repeat; got {kernels}.")
    codes = {}
    for k in kernels:
        other = codes.setdefault(kernel_code(k), k)
        if other != k:
            raise ValueError(
                f"kernels {other!r} and {k!r} share the kernel code {kernel_code(k)} "
                "(3 + crc32(name) % 997), so their echo ids and prior streams would "
                "coincide; register one of them under another name."
            )
    return kernels


def check_count(value, name):
    """A positive int count (bools and floats refused), as a plain ``int``."""
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}.")
    return int(value)


def _check_lengths(kernels, lengths):
    ranges = dict(PAPER_PRIOR["length"])
    if lengths is not None:
        if not isinstance(lengths, dict):
            raise TypeError(
                "lengths must be a dict mapping kernel names to (low, high) ranges; "
                f"got {type(lengths).__name__}."
            )
        unknown = set(lengths) - set(available_kernels())
        if unknown:
            raise ValueError(
                f"lengths has unknown kernels {sorted(map(str, unknown))}; use "
                f"{available_kernels()}."
            )
        ranges.update(lengths)
    missing = [k for k in kernels if k not in ranges]
    if missing:
        raise ValueError(
            f"lengths must give the range of the {missing[0]!r} kernel's length "
            f"parameter: only the paper's kernels {KERNELS} have a default range; "
            f"e.g. lengths={{{missing[0]!r}: (low, high)}}."
        )
    ranges = {k: _check_range(f"lengths[{k!r}]", ranges[k]) for k in kernels}
    for k, (lo, _) in ranges.items():
        if k == "uniform" and lo < 1:
            raise ValueError(
                "lengths['uniform'] (the radius) must be at least 1, the "
                f"nearest-neighbour distance; got {ranges[k]}."
            )
        if k in KERNELS and (lo < 0 or (k != "power" and lo == 0)):
            raise ValueError(
                f"lengths[{k!r}] must be positive{' or zero' if k == 'power' else ''}; "
                f"got {ranges[k]}."
            )
    return ranges


def _check_relaxation(t1, t2):
    """The t1/t2 ranges (us) as a dict of the given ones."""
    out = {}
    for name, value in (("t1", t1), ("t2", t2)):
        if value is None:
            continue
        lo, hi = _check_range(name, value)
        if lo <= 0:
            raise ValueError(
                f"{name} must be a range of times > 0 (us); got {value!r}."
            )
        out[name] = (lo, hi)
    if len(out) == 2:
        if out["t2"][0] > 2 * out["t1"][1]:
            raise ValueError(
                f"t2 in {list(out['t2'])} and t1 in {list(out['t1'])} never satisfy "
                "t2 <= 2 t1 (a spin-1/2 ensemble's T2 is at most twice its T1); "
                "lower t2 or raise t1."
            )
        acceptance = _relaxation_acceptance(out["t1"], out["t2"])
        if acceptance < _MIN_ACCEPTANCE:
            raise ValueError(
                f"t2 in {list(out['t2'])} and t1 in {list(out['t1'])} satisfy "
                f"t2 <= 2 t1 for about {acceptance:.2g} of the draws (at least "
                f"{_MIN_ACCEPTANCE:g} needed); lower t2 or raise t1."
            )
    return out


def _check_linewidth(linewidth):
    """The linewidth range (MHz, > 0) as a dict, empty when not given."""
    if linewidth is None:
        return {}
    lo, hi = _check_range("linewidth", linewidth)
    if lo <= 0:
        raise ValueError(
            "linewidth must be a range of full widths > 0 (MHz), drawn "
            f"log-uniformly; got {linewidth!r}."
        )
    return {"linewidth": (lo, hi)}


def _check_kernel_params(kernels, kernel_params):
    """The kernel-parameter ranges, in a fixed order; ``staggered``: a probability."""
    if kernel_params is None:
        return {}
    if not isinstance(kernel_params, Mapping):
        raise TypeError(
            "kernel_params must be a dict mapping kernel parameter names to "
            f"(low, high) ranges; got {type(kernel_params).__name__}."
        )
    taken_by = {}  # parameter -> the drawn kernels that take it, in a fixed order
    for k in kernels:
        for name in kernel_parameters(k):
            taken_by.setdefault(name, []).append(k)
    anywhere = {name for k in available_kernels() for name in kernel_parameters(k)}
    for name in kernel_params:
        if not isinstance(name, str):
            raise TypeError(
                f"kernel_params keys must be parameter names (str); got {name!r}."
            )
        if name not in anywhere:
            raise ValueError(
                f"kernel_params has the unknown parameter {name!r}; the kernels "
                f"take {sorted(anywhere)}."
            )
        if name not in taken_by:
            raise ValueError(
                f"kernel_params[{name!r}] is a parameter of none of the kernels "
                f"{kernels}; they take {list(taken_by)}."
            )
    checked = {}
    for name, takers in taken_by.items():
        if name not in kernel_params:
            continue
        value = kernel_params[name]
        if name == "staggered":
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
                raise TypeError(
                    "kernel_params['staggered'] is the probability that an echo's "
                    "kernel is staggered (staggered is 0 or 1, not a range): a "
                    f"number in [0, 1]; got {value!r}."
                )
            if not 0 <= value <= 1:
                raise ValueError(
                    "kernel_params['staggered'] is the probability that an echo's "
                    f"kernel is staggered, a number in [0, 1]; got {value!r}."
                )
            checked[name] = float(value)
            continue
        lo, hi = _check_range(f"kernel_params[{name!r}]", value)
        if name == "exponent" and "gaussian" in takers and lo <= 0:
            raise ValueError(
                "kernel_params['exponent'] (the gaussian's exponent) must be a range "
                f"of numbers > 0; got {value!r}."
            )
        checked[name] = (lo, hi)
    return checked


def _resolve(
    kernels,
    *,
    alpha_xy,
    alpha_z,
    lengths,
    W,
    alpha_x,
    alpha_y,
    t1,
    t2,
    kernel_params,
    linewidth=None,
):
    """Validate the prior's ranges; ``(ranges, acceptance)`` (see :class:`Prior`)."""
    kernels = check_kernels(kernels)
    anisotropic = alpha_x is not None or alpha_y is not None
    if anisotropic:
        if alpha_x is None or alpha_y is None:
            given = "alpha_x" if alpha_y is None else "alpha_y"
            raise ValueError(
                "alpha_x and alpha_y must be given together (the in-plane "
                f"couplings drawn separately); got only {given}."
            )
        if alpha_xy is not None:
            raise ValueError(
                "Give either alpha_xy or both alpha_x and alpha_y, not both; got "
                f"alpha_xy={alpha_xy!r}, alpha_x={alpha_x!r}, alpha_y={alpha_y!r}."
            )
        in_plane = {
            "alpha_x": _check_range("alpha_x", alpha_x, lower=0.0),
            "alpha_y": _check_range("alpha_y", alpha_y, lower=0.0),
        }
    else:
        if alpha_xy is None:
            alpha_xy = PAPER_PRIOR["alpha_xy"]
        in_plane = {"alpha_xy": _check_range("alpha_xy", alpha_xy, lower=0.0)}
    az = _check_range("alpha_z", alpha_z, lower=0.0)
    w = _check_range("W", W)
    ranges = _check_lengths(kernels, lengths)
    if anisotropic:
        ax, ay = in_plane["alpha_x"], in_plane["alpha_y"]
        w_min, w_max = ax[0] + ay[0] + az[0], ax[1] + ay[1] + az[1]
        couplings = f"alpha_x in {ax}, alpha_y in {ay} and alpha_z in {az}"
        formula = "W = alpha_x + alpha_y + alpha_z"
    else:
        axy = in_plane["alpha_xy"]
        w_min, w_max = 2 * axy[0] + az[0], 2 * axy[1] + az[1]
        couplings = f"alpha_xy in {axy} and alpha_z in {az}"
        formula = "W = 2 alpha_xy + alpha_z"
    if w[0] == w[1]:
        raise ValueError(
            f"W must be a window with low < high; got {W!r}: a continuous draw lands "
            "on one exact value with probability 0. To fix W, give a narrow window "
            "such as (0.199, 0.201)."
        )
    if w[1] < w_min or w[0] > w_max:
        raise ValueError(
            f"The W window {w} cannot be reached with {couplings}: {formula} spans "
            f"[{w_min:g}, {w_max:g}]."
        )
    if anisotropic:
        acceptance = _acceptance_anisotropic(ax, ay, az, w)
    else:
        acceptance = _acceptance(axy, az, w)
    if acceptance < _MIN_ACCEPTANCE:
        raise ValueError(
            f"The W window {w} is too narrow for {couplings}: about "
            f"{acceptance:.2g} of the draws land in it (at least "
            f"{_MIN_ACCEPTANCE:g} needed); widen W or narrow the couplings' ranges."
        )
    relaxation = _check_relaxation(t1, t2)
    line = _check_linewidth(linewidth)
    extras = _check_kernel_params(kernels, kernel_params)
    prior = {
        **{name: list(bounds) for name, bounds in in_plane.items()},
        "alpha_z": list(az),
        "lengths": {k: list(v) for k, v in ranges.items()},
        "W": list(w),
        **{name: list(bounds) for name, bounds in relaxation.items()},
        **{name: list(bounds) for name, bounds in line.items()},
    }
    if extras:
        prior["kernel_params"] = {
            name: value if name == "staggered" else list(value)
            for name, value in extras.items()
        }
    return prior, acceptance


def _stream(seed, *key):
    return np.random.default_rng(
        np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))
    )


def draw_params(seed, kernel, indices, prior, acceptance):
    """The length and couplings of echoes ``indices`` of a kernel.

    Each echo draws blocks of uniform candidates from its own stream,
    ``SeedSequence(seed, spawn_key=(2, code, j))`` with ``code =``
    :func:`kernel_code`, and keeps the first whose ``W`` falls in the window,
    so its parameters depend on nothing but the seed, the kernel, its index
    and the prior.

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
    values : ndarray of shape (len(indices), 3) or (len(indices), 4)
        Columns ``length, alpha_xy, alpha_z``, or ``length, alpha_x,
        alpha_y, alpha_z`` when the prior has ``alpha_x`` and ``alpha_y``.
    """
    code = kernel_code(kernel)
    anisotropic = "alpha_x" in prior
    in_plane = ("alpha_x", "alpha_y") if anisotropic else ("alpha_xy",)
    bounds = [prior["lengths"][kernel], *(prior[c] for c in in_plane), prior["alpha_z"]]
    width = len(bounds)
    low = np.array([b[0] for b in bounds])
    span = np.array([b[1] for b in bounds]) - low
    w_lo, w_hi = prior["W"]
    # About 8 accepted draws per block: one round nearly always suffices, and
    # check_prior has refused windows too narrow for this to end.
    block = int(min(2**20, max(8, math.ceil(8 / acceptance))))
    indices = np.asarray(indices)
    out = np.empty((len(indices), width))
    for row, j in enumerate(indices):
        rng = _stream(seed, PriorStream.COUPLINGS, code, j)
        for _ in range(_MAX_ROUNDS):
            draw = low + span * rng.random((block, width))
            if anisotropic:  # the sum in the order coupling_targets takes it
                w = draw[:, 1] + draw[:, 2] + draw[:, 3]
            else:
                w = 2 * draw[:, 1] + draw[:, 2]
            hits = np.flatnonzero((w >= w_lo) & (w <= w_hi))
            if hits.size:
                out[row] = draw[hits[0]]
                break
        else:  # pragma: no cover - the acceptance check makes this vanishingly rare
            raise RuntimeError(f"Rejection sampling did not converge for echo {j}.")
    return out


def _extra_columns(prior):
    """The drawn columns beyond the couplings: t1, t2, linewidth, kernel parameters."""
    names = [name for name in ("t1", "t2", "linewidth") if name in prior]
    return names + list(prior.get("kernel_params", {}))


def draw_extras(seed, kernel, indices, prior):
    """Relaxation times, linewidth and kernel parameters of echoes ``indices``.

    Echo ``j`` of the kernel draws ``t1`` and ``t2`` from
    ``SeedSequence(seed, spawn_key=(3, code, j))`` (with both, redrawing pairs
    with ``t2 > 2 t1``), its ``linewidth`` log-uniformly in its range from
    ``SeedSequence(seed, spawn_key=(5, code, j))``, and each kernel parameter
    ``name`` its kernel takes
    from ``SeedSequence(seed, spawn_key=(4, code, j, zlib.crc32(name)))``:
    uniform in its range, or for ``staggered`` 1 with the given probability
    and 0 otherwise. None of these streams is that of :func:`draw_params`, so
    the couplings do not depend on which extras are drawn, nor one extra on
    another (but ``t1`` and ``t2``, drawn together).

    Parameters
    ----------
    seed : int
    kernel : str
    indices : array-like of int
    prior : dict
        From :func:`check_prior`.

    Returns
    -------
    extras : dict of str to ndarray
        ``t1``, ``t2`` and ``linewidth`` when the prior has them, and the
        prior's kernel parameters that ``kernel`` takes, in the prior's order.

    Examples
    --------
    >>> from sknmr.prior import check_prior
    >>> prior, _ = check_prior(("power",), t1=(10.0, 20.0),
    ...                        kernel_params={"d_wave": (0.0, 0.5)})
    >>> extras = draw_extras(0, "power", [0, 1], prior)
    >>> list(extras), extras["t1"].shape
    (['t1', 'd_wave'], (2,))
    """
    code = kernel_code(kernel)
    indices = np.asarray(indices)
    n = len(indices)
    extras = {}
    names = [name for name in ("t1", "t2") if name in prior]
    if names:
        low = np.array([prior[name][0] for name in names])
        span = np.array([prior[name][1] for name in names]) - low
        paired = len(names) == 2
        block = 1
        if paired:
            acceptance = _relaxation_acceptance(prior["t1"], prior["t2"])
            block = int(min(2**20, max(8, math.ceil(8 / max(acceptance, 1e-300)))))
        values = np.empty((n, len(names)))
        for row, j in enumerate(indices):
            rng = _stream(seed, PriorStream.RELAXATION, code, j)
            for _ in range(_MAX_ROUNDS):
                draw = low + span * rng.random((block, len(names)))
                hits = np.flatnonzero(draw[:, 1] <= 2 * draw[:, 0]) if paired else [0]
                if len(hits):
                    values[row] = draw[hits[0]]
                    break
            else:  # pragma: no cover - check_prior refuses hopeless ranges
                raise RuntimeError(
                    f"Rejection sampling of t1, t2 did not converge for echo {j}."
                )
        extras.update({name: values[:, i] for i, name in enumerate(names)})
    if "linewidth" in prior:
        # log-uniform: a scale, every decade of the range as likely
        low, high = np.log(prior["linewidth"])
        u = np.array(
            [_stream(seed, PriorStream.LINEWIDTH, code, j).random() for j in indices]
        )
        extras["linewidth"] = np.exp(low + (high - low) * u)
    takes = kernel_parameters(kernel)
    for name, bounds in prior.get("kernel_params", {}).items():
        if name not in takes:
            continue
        crc = zlib.crc32(name.encode("utf-8"))
        u = np.array(
            [
                _stream(seed, PriorStream.KERNEL_PARAMS, code, j, crc).random()
                for j in indices
            ]
        )
        if name == "staggered":
            extras[name] = (u < bounds).astype(np.float64)
        else:
            extras[name] = bounds[0] + (bounds[1] - bounds[0]) * u
    return extras


def draw_table(seed, kernels, counts, prior, acceptance):
    """The parameter table of ``counts[i]`` echoes of each of ``kernels``, and ids.

    Rows are grouped kernel by kernel, each drawn by :func:`draw_params` and
    :func:`draw_extras`; the ids are :func:`prior_echo_ids`. This is what
    :func:`sample_prior`, :meth:`sknmr.EchoSimulator.sample` and
    :func:`sknmr.datasets.make_echoes` draw.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``kernel, length, alpha_xy, alpha_z`` (``alpha_x, alpha_y``
        in place of ``alpha_xy`` when the prior has them), then ``t1``,
        ``t2``, ``linewidth`` and the kernel parameters the prior draws
        (NaN on the rows of kernels that do not take a parameter).
    echo_ids : ndarray of int64
    """
    in_plane = ("alpha_x", "alpha_y") if "alpha_x" in prior else ("alpha_xy",)
    columns = ("length", *in_plane, "alpha_z")
    extra_names = _extra_columns(prior)
    frames = []
    for kernel, count in zip(kernels, counts, strict=True):
        if count == 0:
            continue
        values = draw_params(seed, kernel, np.arange(count), prior, acceptance)
        frame = {"kernel": np.full(count, kernel)}
        frame.update({name: values[:, i] for i, name in enumerate(columns)})
        if extra_names:
            extras = draw_extras(seed, kernel, np.arange(count), prior)
            for name in extra_names:
                frame[name] = extras.get(name, np.full(count, np.nan))
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True), prior_echo_ids(kernels, counts)


def prior_echo_ids(kernels, counts):
    """Echo ids of ``counts[i]`` echoes of each of ``kernels``, kernel by kernel.

    Echo ``j`` of a kernel has the id ``kernel_code(kernel) * ECHO_ID_STRIDE
    + j`` (see :func:`kernel_code`).

    Examples
    --------
    >>> prior_echo_ids(("gaussian", "rkky"), (2, 1)).tolist()
    [0, 1, 2000000000]
    >>> prior_echo_ids(("uniform",), (1,)).tolist()
    [493000000000]
    """
    return np.concatenate(
        [
            kernel_code(k) * ECHO_ID_STRIDE + np.arange(n, dtype=np.int64)
            for k, n in zip(kernels, counts, strict=True)
        ]
    )


def add_targets(table, lattice_size=100):
    """Return ``table`` with the derived targets ``W``, ``L`` and ``power`` added.

    ``L`` is computed on ``lattice_size``: the side of the square lattice, or
    a :class:`~sknmr.lattices.Lattice`
    (:func:`sknmr.kernels.coupling_targets`).

    Examples
    --------
    >>> import pandas as pd
    >>> from sknmr.lattices import Lattice
    >>> table = pd.DataFrame({"kernel": ["uniform"], "length": [1.0],
    ...                       "alpha_xy": [0.05], "alpha_z": [0.05]})
    >>> float(add_targets(table, Lattice.triangular(8))["L"].iloc[0])
    1.0
    """
    table = table.copy()
    for name, values in coupling_targets(table, lattice_size).items():
        table[name] = values
    return table
