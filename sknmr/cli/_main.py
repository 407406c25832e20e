"""The ``sknmr`` parser with its subcommands, and the run: Ctrl-C and SIGTERM."""

import signal
import sys
import threading

from ._decay import add_decay
from ._fit import add_fit
from ._infer import add_infer
from ._parser import Parser
from ._protocols import add_protocols
from ._reproduce import add_reproduce
from ._simulate import add_simulate

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "build_parser", "main"]

#: Exit status of a run ended by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: Exit status of a run ended by SIGTERM (128 + SIGTERM), as shells report it.
EXIT_TERMINATED = 128 + signal.SIGTERM

#: Subcommands, in the order ``--help`` lists them.
SUBCOMMANDS = (
    add_simulate,
    add_reproduce,
    add_infer,
    add_decay,
    add_protocols,
    add_fit,
)


def build_parser():
    """The ``sknmr`` argument parser, one subparser per subcommand.

    Examples
    --------
    >>> from sknmr.cli import build_parser
    >>> args = build_parser().parse_args(["reproduce", "--full", "--output", "out"])
    >>> args.command, args.preset, args.output, args.seed, args.cache
    ('reproduce', 'full', 'out', 0, None)
    """
    from .. import __version__

    parser = Parser(
        prog="sknmr",
        description="Learning electronic spin correlations from NMR spin echoes.",
    )
    parser.add_argument("--version", action="version", version=f"sknmr {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv=None):
    """Run the ``sknmr`` command line; returns the exit status.

    Usage errors exit with status 2 (``SystemExit``); a run ended by Ctrl-C
    returns 130 after one line on stderr. SIGTERM (``kill``, a batch
    scheduler) ends a run the same way, with status 143: it is turned into
    Ctrl-C's ``KeyboardInterrupt``, so joblib stops its worker processes
    rather than leaving them running.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknmr.cli import main
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "echoes.npz")
    ...     main(["simulate", "-o", path, "-n", "1", "--lattice-size", "8",
    ...           "--tau", "2", "--quiet"])
    ...     os.path.exists(path)
    0
    True
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    terminated = []

    def terminate(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    # Only the main thread may set handlers (main() called from a thread may not).
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if getattr(args, "cache", None) is None:
            hint = (
                "no --cache folder was given, so nothing was kept: rerun with "
                "--cache FOLDER to make a run resumable"
            )
        else:
            hint = (
                f"rerun with the same --cache {args.cache} to resume from the "
                "chunks already simulated"
            )
        what = "terminated" if terminated else "interrupted"
        print(f"sknmr {args.command}: {what}; {hint}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
