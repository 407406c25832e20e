"""Options several subcommands share: the simulator's settings, the seed, the
cache, the confidence.

Defaults that restate the library's are read from it (:func:`default_of`).
"""

import importlib

from .._backends import BACKENDS
from ..lattices import LATTICE_NAMES
from ..simulator import EchoSimulator
from ._parser import (
    add_library_option,
    default_of,
    format_default,
    positive_float,
    positive_int,
    seed,
)

__all__ = [
    "LibraryDefault",
    "add_cache_option",
    "add_confidence_option",
    "add_format_option",
    "add_seed_option",
    "add_simulator_option",
]

# EchoSimulator parameter -> its option's settings; "{default}" in the help is
# the default (the simulator's unless the subcommand gives its own).
_SIMULATOR_OPTIONS = {
    "lattice_size": {
        "type": positive_int,
        "help": "cells along each vector of the lattice (default {default})",
    },
    "lattice": {
        "choices": LATTICE_NAMES,
        "help": "the lattice of nuclei, with --lattice-size cells along each of "
        "its vectors (default: square)",
    },
    "tau": {
        "type": positive_float,
        "help": "delay of the refocusing pulse in us (default {default})",
    },
    "dt": {"type": positive_float, "help": "time step in us (default {default})"},
    "linewidth": {
        "type": positive_float,
        "help": "Lorentzian FWHM of the offsets in MHz (default {default})",
    },
    "backend": {
        "choices": ("auto", *BACKENDS),
        "help": "simulation backend (default {default}: the fastest available)",
    },
}


def add_simulator_option(container, parameter, **kwargs):
    """Add the option ``--<parameter>`` that sets an EchoSimulator parameter.

    Its dest is the parameter's name, its default the simulator's unless
    ``kwargs`` give one (a list of it with ``nargs="+"``); ``kwargs``
    replace the shared settings (a help that says more, ``nargs``). In the
    help, ``{default}`` is the option's default and ``{simulator}`` the
    simulator's.

    Examples
    --------
    >>> from sknmr.cli._parser import Parser
    >>> parser = Parser(prog="demo")
    >>> _ = add_simulator_option(parser, "tau")
    >>> parser.parse_args([]).tau
    100.0
    """
    simulator = default_of(EchoSimulator, parameter)
    spec = {"default": simulator, **_SIMULATOR_OPTIONS[parameter], **kwargs}
    if spec.get("nargs") == "+" and not isinstance(spec["default"], list):
        spec["default"] = [spec["default"]]
    shown = spec["default"]
    if isinstance(shown, list) and len(shown) == 1:
        shown = shown[0]
    spec["help"] = spec["help"].format(
        default=format_default(shown), simulator=format_default(simulator)
    )
    return container.add_argument("--" + parameter.replace("_", "-"), **spec)


def add_format_option(container, what="the echo's"):
    """``--format``: one of the readers' formats (default: guessed)."""
    from ..io import FORMATS

    return container.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        metavar="FORMAT",
        help=f"{what} format, one of {', '.join(FORMATS)} (default: guessed from "
        "the path)",
    )


def add_seed_option(container):
    """``--seed``: the ``random_state`` of the run (default 0, reproducible)."""
    return add_library_option(
        container,
        "--seed",
        parameter="random_state",
        type=seed,
        default=0,
        help="random seed (default 0)",
    )


def add_cache_option(container, help):
    """``--cache FOLDER``: the ``memory`` (a folder caching simulated chunks)."""
    return add_library_option(
        container,
        "--cache",
        parameter="memory",
        default=None,
        metavar="FOLDER",
        help=help,
    )


class LibraryDefault:
    """A library default read only when ``--help`` shows it.

    For a default of a module too slow to import on every run: the option's
    default is None (the library's applies), and its help names
    ``%(library_default)s``, this object set as the action's
    ``library_default``.

    Examples
    --------
    >>> str(LibraryDefault("sknmr.decay", "fit_decay", "n_bootstrap"))
    '300'
    """

    def __init__(self, module, owner, parameter):
        self.module, self.owner, self.parameter = module, owner, parameter

    def __str__(self):
        owner = getattr(importlib.import_module(self.module), self.owner)
        return format_default(default_of(owner, self.parameter))


def add_confidence_option(container, owner, help):
    """``--confidence``, with the default of ``owner``'s ``confidence``.

    ``owner`` is the function or class, or a :class:`LibraryDefault` (the
    option's default is then None: left out, the library's applies).
    """
    if isinstance(owner, LibraryDefault):
        default, shown = None, "%(library_default)s"
    else:
        default = default_of(owner, "confidence")
        shown = format_default(default)
    action = container.add_argument(
        "--confidence",
        type=positive_float,
        default=default,
        help=f"{help}, in (0, 1) (default {shown})",
    )
    if default is None:
        action.library_default = owner
    return action
