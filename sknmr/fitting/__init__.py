"""Fitting the physics itself to a measured echo.

:func:`fit_echo` fits the continuous parameters of one kernel class (the
couplings, the kernel's length and parameters, the linewidth, T2) to one
echo, or jointly to several echoes of one sample, with intervals that count
both the noise and the finite lattice's disorder. :func:`compare_kernels`
fits every kernel class and turns the fits' likelihoods into probabilities.
See the user guide, "Fitting and designing experiments".
"""

from ._compare import KernelComparison, compare_kernels
from ._data import estimate_noise
from ._fit import INTERVALS, fit_echo
from ._model import DETECTIONS, EchoModel
from ._result import EchoFit
from ._workflow import fit_file

__all__ = [
    "DETECTIONS",
    "EchoFit",
    "EchoModel",
    "INTERVALS",
    "KernelComparison",
    "compare_kernels",
    "estimate_noise",
    "fit_echo",
    "fit_file",
]
