"""The parser every subcommand shares: one-line errors, argument types, and
library options.

A library option is an option that sets a parameter of the library. One whose
``dest`` is the parameter's name needs nothing more; one spelled otherwise
(``--seed`` sets ``random_state``) is added with :func:`add_library_option`,
which records the parameter next to the option. :func:`option_error` reads
these from the parser itself, so that a library error about a parameter is
reported as a usage error naming the option that set it.
"""

import argparse
import inspect
import math
import os
import re
import sys

import numpy as np

from ..utils._random import MAX_SEED
from ..utils._resources import check_n_jobs

__all__ = [
    "DeprecatedAlias",
    "Parser",
    "add_library_option",
    "default_of",
    "format_default",
    "library_options",
    "n_jobs",
    "name_value",
    "option_error",
    "positive_float",
    "positive_int",
    "positive_int_or_zero",
    "seed",
]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# -- defaults ------------------------------------------------------------------
def default_of(function, parameter):
    """The default of ``function``'s (or a class's ``__init__``'s) ``parameter``.

    Options that restate a library default read it here, so that the two
    cannot drift apart.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> default_of(EchoSimulator, "tau")
    100.0
    """
    return inspect.signature(function).parameters[parameter].default


def format_default(value):
    """A default as ``--help`` shows it: ``1/(2 pi)`` for the paper's time step.

    Examples
    --------
    >>> format_default(0.08), format_default(1 / (2 * np.pi)), format_default(16)
    ('0.08', '1/(2 pi)', '16')
    """
    if isinstance(value, float) and math.isclose(value, 1 / (2 * np.pi)):
        return "1/(2 pi)"
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- argument types ------------------------------------------------------------
def _positive(convert, what):
    """An argparse ``type``: ``convert(text)``, which must be finite and > 0."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not np.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    parse.__name__ = convert.__name__  # argparse names the type in some errors
    return parse


positive_int = _positive(int, "a positive integer")
positive_float = _positive(float, "a positive number")


def finite_float(text):
    """An argparse ``type``: a finite number (of either sign)."""
    try:
        value = float(text)
    except ValueError:
        value = np.nan
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int_or_zero(text):
    """An argparse ``type``: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def n_jobs(text):
    """An argparse ``type`` for workers: a positive int or -1 .. -(cores)."""
    try:
        return check_n_jobs(int(text))
    except ValueError:
        cores = os.cpu_count() or 1
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, or -1 .. -{cores} to count from all "
            f"{cores} cores (-1 all, -2 all but one), got {text!r}"
        ) from None


def seed(text):
    """An argparse ``type`` for seeds: an int in ``[0, MAX_SEED]``."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected an integer in [0, {MAX_SEED}], got {text!r}"
        )
    return value


def name_value(text):
    """An argparse ``type`` for ``NAME=VALUE`` with a number as the value."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not name or number is None:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}")
    return name, number


class DeprecatedAlias(argparse.Action):
    """Store like ``--<replacement>``, with a warning on stderr."""

    def __init__(self, *args, replacement, **kwargs):
        self.replacement = replacement
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(
            f"{parser.prog}: warning: {option_string} is deprecated; use "
            f"{self.replacement}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


# -- library options and their errors --------------------------------------------
def add_library_option(container, *flags, parameter, scope=None, **kwargs):
    """Add an option that sets a library parameter named otherwise than its dest.

    Parameters
    ----------
    container : argparse.ArgumentParser or argument group
    *flags : str
        The option's flags, e.g. ``"--seed"``.
    parameter : str or tuple of str
        The library parameter(s) the option sets, as the library's errors
        name them.
    scope : str or None, default=None
        The function or class (as scikit-learn's messages name it, e.g.
        ``"EchoSimulator"``) whose parameter it is, where another option sets
        a parameter of the same name elsewhere; None: any.
    **kwargs
        Passed to ``add_argument``.

    Returns
    -------
    action : argparse.Action

    Examples
    --------
    >>> parser = Parser(prog="demo")
    >>> _ = add_library_option(parser, "--seed", parameter="random_state", default=0)
    >>> _ = parser.add_argument("--tau", type=float)
    >>> library_options(parser)
    {'random_state': '--seed', 'tau': '--tau'}
    """
    action = container.add_argument(*flags, **kwargs)
    action.library_parameters = (
        (parameter,) if isinstance(parameter, str) else tuple(parameter)
    )
    action.library_scope = scope
    return action


def library_options(parser, scope=None):
    """Library parameter -> the option (as argparse names it) that sets it.

    Every option sets the parameter named like its ``dest``, unless it was
    added with :func:`add_library_option`; an option scoped to ``scope``
    takes precedence over an unscoped one, and one scoped elsewhere is left
    out.
    """
    options, scoped = {}, {}
    for action in parser._actions:
        hidden = action.help == argparse.SUPPRESS
        if not action.option_strings or hidden or action.default == argparse.SUPPRESS:
            continue  # positionals, deprecated aliases, --help and --version
        own = getattr(action, "library_scope", None)
        if own is not None and own != scope:
            continue
        target = options if own is None else scoped
        for name in getattr(action, "library_parameters", (action.dest,)):
            target.setdefault(name, "/".join(action.option_strings))
    return {**options, **scoped}


def option_error(parser, exc, scope=None):
    """Report a library ValueError/TypeError about a parameter as a usage error.

    The parameter the message is about (scikit-learn's "The 'x' parameter of
    f ..." or a message that starts with it) is replaced by the option of
    ``parser`` that sets it (:func:`library_options`, for ``scope`` or else
    the function scikit-learn's message names). An error about no parameter
    an option sets is not a usage error: it is raised again.
    """
    message = " ".join(str(exc).split())
    match = re.match(r"The '(\w+)' parameter of (\S+) (.*)", message)
    if match is not None:
        name, caller, rest = match.groups()
    else:
        # "name must ..." or "name=value needs ...": the message keeps its value
        match = re.match(r"(\w+)(=\S*)? (.*)", message)
        if match is None:
            raise exc
        name, value, rest = match.groups()
        rest, caller = (message if value else rest), None
    options = library_options(parser, scope or caller)
    if name not in options:
        raise exc
    parser.error(f"argument {options[name]}: {rest}")
