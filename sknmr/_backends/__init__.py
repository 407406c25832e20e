"""Simulation backends.

Each backend is a module with ``name``, ``is_available()`` and
``simulate(batch) -> (mxy, mz)`` taking an
:class:`~sknmr._physics.EchoBatch` and returning the complex transverse
magnetisation and ``<I^z>`` of every echo at every sample. All implement the
same model (see the physics guide); ``numpy`` is the readable reference.

:func:`resolve` is the one place that turns a simulator's ``backend``,
``dtype`` and ``batch_size`` settings into what runs.
"""

import importlib
from typing import NamedTuple

import numpy as np

BACKENDS = ("numpy", "numba", "cuda", "torch")
_MODULES = {
    "numpy": "sknmr._backends.numpy_backend",
    "numba": "sknmr._backends.numba_backend",
    "cuda": "sknmr._backends.cuda_backend",
    "torch": "sknmr._backends.torch_backend",
}
# "auto" tries these in order; the torch backend (differentiable, on any
# device torch has) is never picked by "auto", only asked for by name.
_PREFERENCE = ("cuda", "numba", "numpy")
DTYPES = {"float32": np.float32, "float64": np.float64}
_DEFAULT_BATCH_SIZE = 16


class Resolved(NamedTuple):
    """What a simulator's settings resolve to on this machine."""

    module: object  #: the backend module
    name: str  #: its name ("numpy", "numba", "cuda" or "torch")
    dtype: np.dtype  #: floating type of the dynamics
    batch_size: int  #: echoes simulated together


def resolve(backend="auto", dtype=None, batch_size=None):
    """The backend module, floating type and batch size that settings mean here.

    ``backend="auto"`` picks the fastest available; ``dtype=None`` the
    backend's default (float32 on the GPU, float64 on the CPU);
    ``batch_size=None`` the backend's default.

    Examples
    --------
    >>> r = resolve("numpy")
    >>> r.name, r.dtype.name, r.batch_size
    ('numpy', 'float64', 16)
    """
    module = get_backend(backend)
    if dtype is None:
        dtype = getattr(module, "default_dtype", np.float64)
    elif dtype in DTYPES:
        dtype = DTYPES[dtype]
    else:
        raise ValueError(
            f"dtype must be one of {sorted(DTYPES)} or None; got {dtype!r}."
        )
    if batch_size is None:
        batch_size = getattr(module, "default_batch_size", None) or _DEFAULT_BATCH_SIZE
    return Resolved(module, module.name, np.dtype(dtype), int(batch_size))


def _load(name):
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available_backends():
    """Names of the backends usable on this machine, fastest first.

    The first is what ``backend="auto"`` picks; ``"torch"``, when usable,
    comes last (it is only used when asked for).

    Examples
    --------
    >>> "numpy" in available_backends()
    True
    """
    names = []
    for name in (*_PREFERENCE, *(b for b in BACKENDS if b not in _PREFERENCE)):
        module = _load(name)
        if module is not None and module.is_available():
            names.append(name)
    return names


def get_backend(name):
    """The backend module for ``name`` ("auto" picks the fastest available)."""
    if name == "auto":
        return _load(available_backends()[0])
    if name not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS}; got {name!r}.")
    module = _load(name)
    if module is None or not module.is_available():
        hint = {
            "cuda": "It needs the 'cuda' extra (pip install sknmr[cuda], or "
            "sknmr[cuda13] for a CUDA 13 driver) and an "
            "NVIDIA GPU visible to numba-cuda.",
            "numba": "It needs numba (pip install numba).",
            "torch": "It needs torch (pip install torch).",
        }.get(name, "")
        reason = getattr(module, "unavailable_reason", None)
        detail = f" ({reason()})" if reason is not None and reason() else ""
        raise ValueError(
            f"backend={name!r} is not available on this machine. {hint}{detail}"
        )
    return module
