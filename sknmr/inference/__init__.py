"""EchoInference: a measured echo's couplings, with intervals and an OOD flag.

:class:`EchoInference` is trained on simulated echoes
(:func:`sknmr.datasets.make_echoes`) and predicts, for each echo, W, L and
the couplings with intervals of measured coverage, the probability that the
kernel is a power law, and whether the echo is out of the simulations'
distribution, with the checks that say so (:func:`ood_advice`: what to check
first). See the user guide, "Interpreting a measured echo".
"""

from ._estimator import EchoInference
from ._ood import OOD_ADVICE, ood_advice
from ._persist import TRUSTED_TYPES, load_model, save_model
from ._workflow import echoes_at_estimate, infer_file, summary, train_model

__all__ = [
    "OOD_ADVICE",
    "TRUSTED_TYPES",
    "EchoInference",
    "echoes_at_estimate",
    "infer_file",
    "load_model",
    "ood_advice",
    "save_model",
    "summary",
    "train_model",
]
