"""The ``sknmr`` command line (also ``python -m sknmr``).

Subcommands:

* ``simulate``: draw echoes from the paper's prior and write them, with their
  times, parameters and generation settings, to one ``.npz`` file
  (:func:`sknmr.datasets.make_echoes` then :func:`sknmr.datasets.save_echoes`);
* ``reproduce``: the paper's analyses side by side with its numbers, written
  to a report folder (:func:`sknmr.study.reproduce`);
* ``infer``: measured echoes' W, L, couplings and p(power) with intervals
  and an out-of-distribution flag (:class:`sknmr.inference.EchoInference`),
  one table row per file, or ``--train`` a model for one's own settings;
* ``decay``: fit an echo decay model to one or many measured decays
  (:func:`sknmr.decay.fit_decay`), one table row per file;
* ``protocols``: which experiment tells what (:func:`sknmr.study.run_protocols`);
* ``fit``: a measured echo fitted with the physics itself, one kernel class
  or several compared (:func:`sknmr.fitting.fit_echo`), with intervals that
  count the noise and the lattice's disorder.

Each subcommand is a private module with an ``add_<name>(subparsers)``
function that registers its parser and sets ``func``, called with the parsed
arguments. This package holds every parser of sknmr: the library has no
argparse of its own.

Every usage error is one line, ``sknmr <command>: error: argument <option>:
<what is wrong>``, with exit status 2, reported before any work is done and
before anything is written. The library's own checks name its parameters;
each option knows the parameter it sets (its ``dest``, or the one declared
beside it), so that their errors name the option. Defaults that restate the
library's are read from it. Ctrl-C ends a run with one line and exit status
130: the simulated chunks cached so far (with ``--cache``) are read back by
the next run.
"""

from ._checks import MAX_RUN_HOURS
from ._main import EXIT_INTERRUPTED, EXIT_TERMINATED, build_parser, main

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "MAX_RUN_HOURS",
    "build_parser",
    "main",
]
