"""Designing experiments by what they can tell.

:func:`fisher_information` gives the Fisher information of one or several
experiments at a material and the Cramer-Rao bounds it implies;
:func:`expected_bounds` those bounds over materials of the prior; and
:func:`optimize_sequence` searches pulse angles, phases and delays for the
experiment that tells most about chosen parameters. See the user guide,
"Fitting and designing experiments".
"""

from ._fisher import FisherInformation, fisher_information
from ._optimize import SequenceDesign, expected_bounds, optimize_sequence

__all__ = [
    "FisherInformation",
    "SequenceDesign",
    "expected_bounds",
    "fisher_information",
    "optimize_sequence",
]
