"""The ``sknmr`` command line (also ``python -m sknmr``).

Subcommands:

* ``reproduce``: the paper's analyses side by side with its numbers, written
  to a report folder (:func:`sknmr.reproduce.reproduce`);
* ``simulate``: draw echoes from the paper's prior and write them, with their
  times, parameters and generation settings, to one ``.npz`` file
  (:func:`sknmr.datasets.make_echoes` then :func:`sknmr.datasets.save_echoes`).

Each subcommand is an ``_add_<name>(subparsers)`` function that registers its
parser and sets ``func``, called with the parsed arguments, and is listed in
``_SUBCOMMANDS``.
"""

import argparse
import functools
import sys
import time

import numpy as np

__all__ = ["build_parser", "main"]


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


_positive_int = _positive(int, "a positive integer")
_positive_float = _positive(float, "a positive number")


def _add_simulate(subparsers):
    from .kernels import KERNELS

    parser = subparsers.add_parser(
        "simulate",
        help="simulate echoes drawn from the paper's prior into a .npz file",
        description=(
            "Draw interaction parameters from the paper's prior (SPEC section 2), "
            "simulate their spin echoes and write echoes, times, parameters and the "
            "generation settings to one .npz file (read it back with "
            "sknmr.datasets.load_echoes). Without --n-per-kernel or --n-samples, "
            "the paper's 5000 echoes per kernel are made."
        ),
    )
    parser.add_argument("-o", "--output", required=True, help="the .npz file to write")
    count = parser.add_mutually_exclusive_group()
    count.add_argument(
        "-n",
        "--n-per-kernel",
        type=_positive_int,
        help="echoes per kernel (default 5000)",
    )
    count.add_argument(
        "--n-samples", type=_positive_int, help="echoes in all, split over the kernels"
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        choices=KERNELS,
        default=list(KERNELS),
        help="kernels to simulate (default: all three)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    physics = parser.add_argument_group("simulator settings")
    physics.add_argument(
        "--lattice-size",
        type=_positive_int,
        default=100,
        help="side of the square lattice (default 100)",
    )
    physics.add_argument(
        "--tau",
        type=_positive_float,
        default=100.0,
        help="delay of the refocusing pulse in us (default 100)",
    )
    physics.add_argument(
        "--dt",
        type=_positive_float,
        default=1 / (2 * np.pi),
        help="time step in us (default 1/(2 pi))",
    )
    physics.add_argument(
        "--linewidth",
        type=_positive_float,
        default=0.08,
        help="Lorentzian FWHM of the offsets in MHz (default 0.08)",
    )
    physics.add_argument(
        "--backend",
        choices=("auto", "numpy", "numba", "cuda"),
        default="auto",
        help="simulation backend (default auto: the fastest available)",
    )
    physics.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="floating type of the dynamics (default float32, as make_echoes)",
    )
    physics.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per chunk for the numba backend (default 1, -1 all cores)",
    )
    work = parser.add_argument_group("work")
    work.add_argument(
        "-j",
        "--n-jobs",
        type=int,
        default=None,
        help="chunks simulated at once, in separate processes "
        "(default 1, -1 all cores)",
    )
    work.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=None,
        help="echoes per chunk, the unit of caching and resuming (default 100)",
    )
    work.add_argument(
        "--cache-dir",
        default=None,
        help="folder caching finished chunks, so an interrupted run resumes "
        "(default: no cache)",
    )
    work.add_argument("--compress", action="store_true", help="compress the .npz file")
    work.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=functools.partial(_run_simulate, parser=parser))
    return parser


def _run_simulate(args, *, parser):
    from .datasets import make_echoes, save_echoes
    from .simulator import EchoSimulator

    started = time.perf_counter()
    try:
        simulator = EchoSimulator(
            lattice_size=args.lattice_size,
            tau=args.tau,
            dt=args.dt,
            linewidth=args.linewidth,
            backend=args.backend,
            dtype=args.dtype,
            n_jobs=args.threads,
        )
        bunch = make_echoes(
            args.n_per_kernel,
            n_samples=args.n_samples,
            kernels=tuple(args.kernels),
            simulator=simulator,
            random_state=args.seed,
            memory=args.cache_dir,
            n_jobs=args.n_jobs,
            chunk_size=args.chunk_size,
            verbose=0 if args.quiet else 1,
        )
    except ValueError as exc:  # bad settings: report them like argparse does
        parser.error(str(exc))
    path = save_echoes(bunch, args.output, compress=args.compress)
    if not args.quiet:
        n, n_times = bunch.data.shape
        print(
            f"wrote {n} echoes of {n_times} samples to {path} "
            f"(seed {bunch.settings['seed']}, backend "
            f"{bunch.settings['simulation']['settings']['backend']}, "
            f"{time.perf_counter() - started:.1f} s)"
        )
    return 0


#: Subcommands, in the order ``--help`` lists them.
def _add_reproduce(subparsers):
    from .reproduce import add_parser

    return add_parser(subparsers)


_SUBCOMMANDS = (_add_simulate, _add_reproduce)


def build_parser():
    """The ``sknmr`` argument parser, one subparser per subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sknmr",
        description="Learning electronic spin correlations from NMR spin echoes.",
    )
    parser.add_argument("--version", action="version", version=f"sknmr {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv=None):
    """Run the ``sknmr`` command line; returns the exit status.

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
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
