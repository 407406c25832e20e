"""sknmr: learning electronic spin correlations from NMR spin echoes.

Every piece is a scikit-learn estimator: the :class:`EchoSimulator` that
makes echoes, featurizers that turn them into features, and models that
recover the coupling's strength and range from one echo.
"""

import importlib

__version__ = "0.1.0.dev0"

from . import kernels, prior
from .experiment import Experiment
from .kernels import KERNELS
from .simulator import EchoSimulator

# Public names whose modules import heavier dependencies (torch, imblearn)
# load on first use.
_LAZY = {
    "EchoWindow": "sknmr.window",
    "EchoSpectrum": "sknmr.spectrum",
    "PolynomialSectionFeaturizer": "sknmr.polynomial",
    "curve_scaler": "sknmr.scaling",
    "BetaVAE": "sknmr.vae",
    "WScreenedClassifier": "sknmr.screening",
    "EchoInference": "sknmr.inference",
    "datasets": "sknmr.datasets",
    "plotting": "sknmr.plotting",
    "study": "sknmr.study",
    "io": "sknmr.io",
}
_LAZY_MODULES = ("datasets", "plotting", "study", "io")

__all__ = [
    "KERNELS",
    "EchoSimulator",
    "Experiment",
    "__version__",
    "kernels",
    "prior",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name in _LAZY_MODULES else getattr(module, name)
    raise AttributeError(f"module 'sknmr' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
