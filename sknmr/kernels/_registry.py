"""Kernels of your own: registering, unregistering and identifying them."""

import functools
import keyword
import math
import types
from collections.abc import Mapping
from numbers import Real

import joblib
from sklearn.utils._param_validation import validate_params

from ._catalogue import (
    _COMMON_PARAMETERS,
    _OWN_PARAMETERS,
    _REGISTRY,
    _RESERVED_NAMES,
    RegisteredKernel,
    _check_kernel,
)
from ._lattice_sums import _SPECTRA, _builtin_length_scale, _builtin_spectrum


def _fingerprint(obj, seen=frozenset()):
    """A picklable description of a callable's definition, for kernel_token.

    Functions are described by their code (bytecode, names, constants,
    nested code), defaults and closure values, so redefining a function
    under the same name changes it; other objects by ``joblib.hash``. The
    values of globals a function reads are not part of it.
    """
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:  # a recursive closure
            return ("recursion", obj.__qualname__)
        seen = seen | {id(obj)}
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(_fingerprint(cell.cell_contents, seen))
            except ValueError:  # an empty cell
                cells.append(("empty cell",))
        return (
            "function",
            obj.__module__,
            obj.__qualname__,
            _fingerprint(obj.__code__, seen),
            _fingerprint(obj.__defaults__, seen),
            _fingerprint(sorted((obj.__kwdefaults__ or {}).items()), seen),
            tuple(cells),
        )
    if isinstance(obj, types.CodeType):
        return (
            "code",
            obj.co_code,
            obj.co_names,
            obj.co_varnames,
            _fingerprint(obj.co_consts, seen),
        )
    if isinstance(obj, functools.partial):
        return (
            "partial",
            _fingerprint(obj.func, seen),
            _fingerprint(obj.args, seen),
            _fingerprint(sorted(obj.keywords.items()), seen),
        )
    if isinstance(obj, tuple | list):
        return tuple(_fingerprint(item, seen) for item in obj)
    return joblib.hash(obj)


def _check_parameter_defaults(name, parameters):
    if parameters is None:
        return {}
    checked = {}
    for key, default in parameters.items():
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or keyword.iskeyword(key)
            or key in _RESERVED_NAMES
            or key in _COMMON_PARAMETERS
        ):
            reserved = sorted(_RESERVED_NAMES | set(_COMMON_PARAMETERS))
            raise ValueError(
                f"Parameter name {key!r} of kernel {name!r} must be a Python "
                f"identifier other than {reserved} (the names of the kernel "
                "function's arguments, of the parameter and target table columns "
                "and of the common kernel parameters)."
            )
        if not isinstance(default, Real) or not math.isfinite(default):
            raise ValueError(
                f"The default of parameter {key!r} of kernel {name!r} must be a "
                f"finite real number; got {default!r}."
            )
        checked[key] = float(default)
    return checked


def _clear_caches():
    _builtin_spectrum.cache_clear()
    _SPECTRA.clear()
    _builtin_length_scale.cache_clear()


@validate_params(
    {
        "name": [str],
        "function": [callable],
        "length_name": [str],
        "parameters": [Mapping, None],
        "power": ["boolean"],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def register_kernel(
    name,
    function,
    *,
    length_name="length",
    parameters=None,
    power=False,
    overwrite=False,
):
    """Add a kernel of your own, usable wherever a built-in kernel is.

    Parameters
    ----------
    name : str
        The kernel's name; not a built-in one.
    function : callable
        ``function(dx, dy, length, **parameters) -> K``: called with float
        arrays ``dx`` and ``dy`` of shape ``(n, n)``, the minimum-image
        displacements of every site from site ``(0, 0)`` (which is at index
        ``[0, 0]``; see the module's lattice conventions), the length as a
        float and the kernel's own parameters as floats. It returns the
        kernel's real values, shape ``(n, n)``. On a
        :class:`~sknmr.lattices.Lattice` ``dx`` and ``dy`` are the Cartesian
        components of the nearest-image displacements, shape
        ``lattice.shape``; on a 3-D lattice the function must also take a
        ``dz`` keyword (the third component), and is refused there otherwise,
        so a 2-D kernel keeps its signature. The self term ``[0, 0]`` is set
        to 0 whatever it returns (division warnings there are silenced); the
        other values must be finite. The output is checked on each evaluation,
        so a faulty function fails at first use, naming the kernel.
    length_name : str, default="length"
        The length parameter's name, for messages.
    parameters : mapping of str to float, optional
        The kernel's own optional parameters and their defaults. The common
        ``s_wave``, ``p_wave``, ``d_wave`` and ``staggered`` apply on top.
        Names of parameter and target table columns (``kernel``, ``length``,
        ``alpha_x``, ``alpha_y``, ``alpha_xy``, ``alpha_z``, ``t1``, ``t2``,
        ``linewidth``, ``W``, ``L``, ``power``) are refused: a table column
        of that name would set or shadow it.
    power : bool, default=False
        Whether the kernel counts as a power law for the ``power`` target of
        :func:`coupling_targets`.
    overwrite : bool, default=False
        Replace a kernel already registered under ``name``.

    Notes
    -----
    Registering (and unregistering) clears this module's caches. The registry
    lives in one process: to use registered kernels in worker processes, send
    them :func:`registered_kernels` (the function must be picklable there, a
    module-level function, or a lambda or closure with cloudpickle as joblib's
    workers use) and call ``register_kernel(**record._asdict(),
    overwrite=True)`` for each record.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.kernels import available_kernels, kernel_stats
    >>> def exponential(dx, dy, length, shift=0.0):
    ...     return np.exp(-np.hypot(dx, dy) / length) + shift
    >>> register_kernel("exponential", exponential, length_name="lambda",
    ...                 parameters={"shift": 0.0})
    >>> available_kernels()
    ('gaussian', 'power', 'rkky', 'uniform', 'exponential')
    >>> kappa, L = kernel_stats("exponential", 3.0, 50)
    >>> print(f"{kappa:.4f} {L:.4f}")
    55.5559 6.0664
    >>> unregister_kernel("exponential")
    """
    if not name:
        raise ValueError("name must be a non-empty str.")
    if name in _OWN_PARAMETERS:
        raise ValueError(
            f"{name!r} is a built-in kernel and cannot be replaced; choose "
            "another name."
        )
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"A kernel named {name!r} is already registered; pass overwrite=True "
            "to replace it."
        )
    if not length_name:
        raise ValueError(f"length_name must be a non-empty str; got {length_name!r}.")
    parameters = _check_parameter_defaults(name, parameters)
    record = RegisteredKernel(name, function, length_name, parameters, bool(power))
    try:
        digest = joblib.hash(
            (
                _fingerprint(function),
                length_name,
                sorted(parameters.items()),
                bool(power),
            )
        )
    except Exception as exc:
        raise TypeError(
            f"function of kernel {name!r} cannot be fingerprinted for "
            f"kernel_token; is it picklable? ({exc})"
        ) from exc
    _REGISTRY[name] = (record, digest)
    _clear_caches()


def unregister_kernel(name):
    """Remove a kernel added with :func:`register_kernel`.

    Parameters
    ----------
    name : str
        The registered kernel's name.

    Examples
    --------
    >>> from sknmr.kernels import available_kernels
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> unregister_kernel("flat")
    >>> "flat" in available_kernels()
    False
    """
    if name in _OWN_PARAMETERS:
        raise ValueError(f"{name!r} is a built-in kernel; it cannot be unregistered.")
    if name not in _REGISTRY:
        raise ValueError(
            f"No kernel named {name!r} is registered; registered: {list(_REGISTRY)}."
        )
    del _REGISTRY[name]
    _clear_caches()


def registered_kernels():
    """The registered kernels, to register them again elsewhere.

    Returns
    -------
    records : dict of str to RegisteredKernel
        In registration order; ``register_kernel(**record._asdict(),
        overwrite=True)`` registers a record's kernel again (in a worker
        process, say).

    Examples
    --------
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> record = registered_kernels()["flat"]
    >>> record.length_name, record.parameters, record.power
    ('length', {}, False)
    >>> unregister_kernel("flat")
    >>> registered_kernels()
    {}
    """
    return {
        name: record._replace(parameters=dict(record.parameters))
        for name, (record, _) in _REGISTRY.items()
    }


def kernel_token(kernel):
    """A hashable, picklable token identifying a kernel's definition.

    A cache keyed on it (with the length, lattice size and parameters) is
    invalidated when a registered kernel is redefined.

    Parameters
    ----------
    kernel : str
        A name from :func:`available_kernels`.

    Returns
    -------
    token : str or tuple of str
        A built-in kernel's name; for a registered kernel, its name and a
        digest of its definition (the function's code, constants, defaults and
        closure values, its length name, parameters and power flag). The
        values of globals the function reads are not part of it.

    Examples
    --------
    >>> kernel_token("gaussian")
    'gaussian'
    >>> register_kernel("flat", lambda dx, dy, length: np.ones_like(dx))
    >>> first = kernel_token("flat")
    >>> register_kernel("flat", lambda dx, dy, length: 2 * np.ones_like(dx),
    ...                 overwrite=True)
    >>> first == kernel_token("flat")
    False
    >>> unregister_kernel("flat")
    """
    _check_kernel(kernel)
    if kernel in _OWN_PARAMETERS:
        return kernel
    return (kernel, _REGISTRY[kernel][1])
