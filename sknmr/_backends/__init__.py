"""Simulation backends.

Each backend is a module with ``name``, ``is_available()`` and
``simulate(batch, progress=None) -> (mxy, mz)`` taking an
:class:`~sknmr._physics.EchoBatch` and returning the complex transverse
magnetisation and ``<I^z>`` of every echo at every sample. All implement the
same model (SPEC section 1); ``numpy`` is the readable reference.
"""

import importlib

BACKENDS = ("numpy", "numba", "cuda")
_MODULES = {
    "numpy": "sknmr._backends.numpy_backend",
    "numba": "sknmr._backends.numba_backend",
    "cuda": "sknmr._backends.cuda_backend",
}
# "auto" tries these in order.
_PREFERENCE = ("cuda", "numba", "numpy")


def _load(name):
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available_backends():
    """Names of the backends usable on this machine, fastest first.

    Examples
    --------
    >>> "numpy" in available_backends()
    True
    """
    names = []
    for name in _PREFERENCE:
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
        }.get(name, "")
        reason = getattr(module, "unavailable_reason", None)
        detail = f" ({reason()})" if reason is not None and reason() else ""
        raise ValueError(
            f"backend={name!r} is not available on this machine. {hint}{detail}"
        )
    return module
