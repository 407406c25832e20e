"""Parameter tables: checked, and put in the simulator's terms.

A table (a DataFrame or a mapping of equal-length columns; a mapping of
scalars is one echo) holds one echo a row: ``kernel``, ``length``, the
couplings, and optionally ``t1``, ``t2``, ``linewidth`` and the kernels'
extra parameters. Every distinct kernel setting is checked before any echo
is simulated. The scikit-learn transformer API's arrays (kernel codes in the
first column) are read here too.
"""

from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

from ..kernels import KERNELS, available_kernels, kernel_parameters, kernel_stats
from ..kernels._catalogue import check_length
from ..prior import PARAM_COLUMNS
from .settings import check_relaxation_times, relaxation_times

#: Optional per-echo columns of a parameter table (besides kernel extras):
#: T1 and T2 (us) overriding the simulator's.
RELAXATION_COLUMNS = ("t1", "t2")
#: Optional per-echo column of a parameter table: the full width at half
#: maximum (MHz) of the echo's offsets, overriding the simulator's ``linewidth``.
LINE_COLUMNS = ("linewidth",)
# The columns of a checked parameter table before the kernel extras.
BASE_COLUMNS = (
    "kernel",
    "length",
    "alpha_x",
    "alpha_y",
    "alpha_z",
    *RELAXATION_COLUMNS,
    *LINE_COLUMNS,
)
#: Largest coupling (MHz) accepted: far beyond any material, and small enough
#: that every backend's fields and rotation angles stay finite.
MAX_COUPLING = 1e6


def row_extras(row, names):
    """The kernel extras a table row sets (its NaN entries keep the defaults)."""
    return {
        name: float(row[name])
        for name in names
        if name in row.index and not np.isnan(row[name])
    }


def kernel_settings(table):
    """Distinct ``(kernel, length, extras)`` of a checked parameter table."""
    names = [c for c in table.columns if c not in BASE_COLUMNS]
    seen = set()
    for row in table.drop_duplicates(["kernel", "length", *names]).itertuples(
        index=False
    ):
        row = pd.Series(row._asdict())
        kw = row_extras(row, names)
        key = (row["kernel"], float(row["length"]), tuple(sorted(kw.items())))
        if key not in seen:
            seen.add(key)
            yield row["kernel"], float(row["length"]), kw


def real_column(values, name, allow_nan=False):
    """A parameter column as float64, refusing text, booleans and complex numbers."""
    array = np.asarray(values)
    if array.dtype.kind == "O" and all(
        isinstance(v, Real) and not isinstance(v, (bool, np.bool_)) for v in array.flat
    ):
        array = array.astype(np.float64)
    if array.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in array.flat):
        raise ValueError(f"{name} must hold real numbers; got text.")
    if array.dtype.kind not in "iuf":
        kind = {
            "b": "booleans",
            "c": "complex numbers",
            "U": "text",
            "S": "text",
            "O": "objects",
        }.get(array.dtype.kind, f"dtype {array.dtype}")
        raise ValueError(f"{name} must hold real numbers; got {kind}.")
    col = array.astype(np.float64)
    if allow_nan and not np.any(np.isinf(col)):
        return col
    if not np.all(np.isfinite(col)):
        raise ValueError(f"{name} must be finite; got {col[~np.isfinite(col)][:3]}.")
    return col


def _as_frame(params):
    """The table as a DataFrame, its columns named once each."""
    if isinstance(params, pd.DataFrame):
        table = params
    elif isinstance(params, Mapping):
        values = dict(params)
        if values and all(np.ndim(v) == 0 for v in values.values()):
            values = {k: [v] for k, v in values.items()}
        try:
            table = pd.DataFrame(values)
        except ValueError as exc:
            raise ValueError(
                f"params columns must be arrays of equal length: {exc}"
            ) from None
    else:
        raise TypeError(
            "params must be a pandas DataFrame or a mapping of equal-length "
            f"arrays with columns {PARAM_COLUMNS}; got {type(params).__name__}."
        )
    columns = [str(c) for c in table.columns]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(
            f"params has the column(s) {repeated} more than once; each "
            "parameter must be one column."
        )
    return table, columns


def check_table(params, relaxation, lattice):
    """Validate a parameter table; return it in the simulator's terms.

    Parameters
    ----------
    params : DataFrame or mapping
        The table, as :meth:`~sknmr.EchoSimulator.simulate` takes it.
    relaxation : tuple of float
        The simulator's own ``(T1, T2)`` (us, inf when off), for the rows
        without theirs.
    lattice : callable or None
        Returns the simulator's :class:`~sknmr.lattices.Lattice`; called only
        when a kernel setting must be built on it to be checked. None leaves
        the kernel settings to :func:`check_kernel_settings`.

    Returns
    -------
    table : DataFrame
        The columns ``kernel, length, alpha_x, alpha_y, alpha_z, t1, t2,
        linewidth`` (NaN: the simulator's) and one column per kernel extra
        that the table sets (NaN: the kernel's default).
    """
    table, columns = _as_frame(params)
    couplings = ["alpha_x", "alpha_y"] if "alpha_xy" not in columns else []
    if "alpha_xy" in columns and ({"alpha_x", "alpha_y"} & set(columns)):
        raise ValueError(
            "params sets alpha_xy (both in-plane couplings) and alpha_x/alpha_y; "
            "give either alpha_xy or both alpha_x and alpha_y."
        )
    required = ["kernel", "length", *(couplings or ["alpha_xy"]), "alpha_z"]
    missing = [c for c in required if c not in columns]
    if len(table) == 0 and not missing:
        raise ValueError("params holds no echo (0 rows).")
    kernels = table["kernel"].to_numpy() if "kernel" in columns else np.array([])
    known = available_kernels()
    names = {k for k in kernels if isinstance(k, str) and k in known}
    extras = {e for k in names for e in kernel_parameters(k)}
    optional = set(RELAXATION_COLUMNS) | set(LINE_COLUMNS) | extras
    extra = [c for c in columns if c not in required and c not in optional]
    if missing or extra:
        raise ValueError(
            f"params must have the columns {PARAM_COLUMNS} (alpha_xy may be "
            "replaced by alpha_x and alpha_y), optionally t1, t2, linewidth and "
            "the kernels' extra parameters; missing "
            f"{missing}, extra columns {extra}. "
            "(Drop derived targets with table[list(sknmr.prior.PARAM_COLUMNS)].)"
        )
    if len(table) == 0:
        raise ValueError("params holds no echo (0 rows).")
    bad = sorted(
        {
            repr(getattr(k, "item", lambda k=k: k)())
            for k in kernels
            if not isinstance(k, str)
        }
        | {k for k in kernels if isinstance(k, str) and k not in known}
    )
    if bad:
        raise ValueError(f"kernel must be one of {known} (names); got {bad[:5]}.")
    out = {"kernel": kernels.astype(str)}
    out["length"] = real_column(table["length"], "length")
    for name in [*(couplings or ["alpha_xy"]), "alpha_z"]:
        col = out[name] = real_column(table[name], name)
        if np.any(col < 0):
            raise ValueError(f"{name} must be >= 0 (MHz); got {col[col < 0][:3]}.")
        if np.any(col > MAX_COUPLING):
            raise ValueError(
                f"{name} must lie in the usable range [0, {MAX_COUPLING:g}] "
                f"MHz; got {col[col > MAX_COUPLING][:3]}."
            )
    if not couplings:
        out["alpha_x"] = out["alpha_y"] = out.pop("alpha_xy")
    for name in RELAXATION_COLUMNS:
        col = np.full(len(table), np.nan)
        if name in columns:
            col = real_column(table[name], name, allow_nan=True)
            if np.any(col <= 0):
                raise ValueError(
                    f"{name} must be > 0 (us), or NaN for the simulator's; got "
                    f"{col[col <= 0][:3]}."
                )
        out[name] = col
    check_relaxation_times(
        *relaxation_times(pd.DataFrame(out), relaxation), "an echo's"
    )
    col = np.full(len(table), np.nan)
    if "linewidth" in columns:
        col = real_column(table["linewidth"], "linewidth", allow_nan=True)
        if np.any(col <= 0):
            raise ValueError(
                "linewidth must be > 0 (MHz, the full width at half maximum), "
                f"or NaN for the simulator's; got {col[col <= 0][:3]}."
            )
    out["linewidth"] = col
    for name in sorted(extras & set(columns)):
        col = out[name] = real_column(table[name], name, allow_nan=True)
        takes = np.array([name in kernel_parameters(k) for k in out["kernel"]])
        wrong = ~takes & ~np.isnan(col)
        if np.any(wrong):
            kernel = out["kernel"][wrong][0]
            raise ValueError(
                f"{name} is not a parameter of the {kernel} kernel (it takes "
                f"{sorted(kernel_parameters(kernel))}); leave it NaN on that "
                "kernel's rows."
            )
    frame = pd.DataFrame(out)
    if lattice is not None:
        check_kernel_settings(frame, lattice)
    return frame


def check_kernel_settings(table, lattice):
    """Check every distinct kernel setting of a table before any simulation:
    the paper's kernels by their length, others by building them on the
    lattice (a callable returning it: called only then)."""
    for kernel, length, kw in kernel_settings(table):
        if kernel in KERNELS and not kw:
            check_length(kernel, length)
        else:
            kernel_stats(kernel, length, lattice(), **kw)


def check_echo_ids(echo_ids, n):
    """Each echo's identity for seeding its offsets: ``echo_ids`` or the row."""
    if echo_ids is None:
        return np.arange(n)
    ids = np.asarray(echo_ids)
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer) or np.any(ids < 0):
        raise ValueError(
            f"echo_ids must be {n} non-negative integers, one per echo; "
            f"got shape {ids.shape} and dtype {ids.dtype}."
        )
    return ids


# -- the scikit-learn transformer API's inputs -----------------------------
def is_named_frame(X):
    """True for a DataFrame that names the parameter columns."""
    if not isinstance(X, pd.DataFrame):
        return False
    columns = set(map(str, X.columns))
    in_plane = "alpha_xy" in columns or {"alpha_x", "alpha_y"} <= columns
    return in_plane and {"kernel", "length", "alpha_z"} <= columns


def kernel_names(codes):
    """Kernel names of codes (0 gaussian, 1 power, 2 rkky)."""
    codes = np.asarray(codes, dtype=np.float64)
    if not np.all(np.isin(codes, np.arange(len(KERNELS)))):
        raise ValueError(
            "The kernel column of X holds kernel codes and must be one of "
            f"{dict(enumerate(KERNELS))}; got {np.unique(codes)[:5]}."
        )
    return np.asarray(KERNELS)[codes.astype(int)]


def frame_columns(X):
    """The columns of a named DataFrame, ``kernel`` as names (codes read)."""
    table = {str(c): X[c] for c in X.columns}
    kernel = X["kernel"]
    if pd.api.types.is_numeric_dtype(kernel) and not pd.api.types.is_bool_dtype(kernel):
        kernel = kernel_names(kernel.to_numpy())
    table["kernel"] = np.asarray(kernel)
    return table


def array_columns(X):
    """The columns of an ``(n_echoes, 4)`` array: code, length, couplings."""
    return {
        "kernel": kernel_names(X[:, 0]),
        "length": X[:, 1],
        "alpha_xy": X[:, 2],
        "alpha_z": X[:, 3],
    }


def check_n_columns(X):
    """An array of parameters has the 4 columns of :func:`array_columns`."""
    if X.shape[1] != len(PARAM_COLUMNS):
        raise ValueError(
            f"X has n_features={X.shape[1]}, but EchoSimulator needs 4 columns "
            "(kernel code, length, alpha_xy, alpha_z)."
        )
