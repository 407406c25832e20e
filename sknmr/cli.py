"""The ``sknmr`` command line (also ``python -m sknmr``).

Subcommands:

* ``simulate``: draw echoes from the paper's prior and write them, with their
  times, parameters and generation settings, to one ``.npz`` file
  (:func:`sknmr.datasets.make_echoes` then :func:`sknmr.datasets.save_echoes`);
* ``reproduce``: the paper's analyses side by side with its numbers, written
  to a report folder (:func:`sknmr.study.reproduce`);
* ``infer``: a measured echo's W, L, couplings and p(power) with intervals
  and an out-of-distribution flag (:class:`sknmr.inference.EchoInference`),
  or ``--train`` a model for one's own settings;
* ``decay``: fit an echo decay model to one or many measured decays
  (:func:`sknmr.decay.fit_decay`), one table row per file.
* ``fit``: a measured echo fitted with the physics itself, one kernel class
  or several compared (:func:`sknmr.fitting.fit_echo`), with intervals that
  count the noise and the lattice's disorder.

Each subcommand is an ``_add_<name>(subparsers)`` function that registers its
parser and sets ``func``, called with the parsed arguments, and is listed in
``_SUBCOMMANDS``. This module holds every parser of the package: the library
has no argparse of its own.

Every usage error is one line, ``sknmr <command>: error: argument <option>:
<what is wrong>``, with exit status 2, reported before any work is done and
before anything is written. The library's own checks name its parameters;
``_OPTIONS`` maps them back to the options that set them. Ctrl-C ends a run
with one line and exit status 130: the simulated chunks cached so far (with
``--cache``) are read back by the next run.
"""

import argparse
import os
import re
import signal
import sys
import tempfile
import threading
import time

import numpy as np

from ._backends import BACKENDS, DTYPES
from ._paper import PAPER_N_PER_KERNEL, PAPER_PRIOR
from .kernels import KERNELS
from .utils._files import check_writable
from .utils._random import MAX_SEED
from .utils._resources import check_n_jobs

__all__ = ["build_parser", "main"]

#: Exit status of a run ended by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: Exit status of a run ended by SIGTERM (128 + SIGTERM), as shells report it.
EXIT_TERMINATED = 128 + signal.SIGTERM

#: Longest estimated simulation run that starts without ``--force``, in hours.
MAX_RUN_HOURS = 24.0

#: Library parameter -> the option that sets it, per subcommand.
_OPTIONS = {
    "simulate": {
        "n_per_kernel": "-n/--n-per-kernel",
        "n_samples": "--n-samples",
        "kernels": "--kernels",
        "random_state": "--seed",
        "lattice_size": "--lattice-size",
        "tau": "--tau",
        "dt": "--dt",
        "linewidth": "--linewidth",
        "backend": "--backend",
        "dtype": "--dtype",
        "n_jobs": "-j/--n-jobs",
        "chunk_size": "--chunk-size",
        "memory": "--cache",
    },
    "infer": {
        "lattice_size": "--lattice-size",
        "n_per_kernel": "--n-per-kernel",
        "tau": "--tau",
        "dt": "--dt",
        "linewidth": "--linewidth",
        "memory": "--cache",
        "confidence": "--confidence",
        "n_jobs": "--n-jobs",
    },
    "fit": {
        "lattice_size": "--lattice-size",
        "tau": "--tau",
        "dt": "--dt",
        "linewidth": "--linewidth",
        "confidence": "--confidence",
        "parameters": "--parameters",
        "length": "--parameters/--fixed",
        "kernel": "--kernels",
        "kernels": "--kernels",
        "fixed": "--fixed",
        "detection": "--detection",
    },
    "reproduce": {
        "output_dir": "--output",
        "memory": "--cache",
        "n_jobs": "--n-jobs",
        "random_state": "--seed",
        "linewidth": "--linewidth",
        "ablations": "--ablations",
        "ablation_lattice_sizes": "--ablation-lattice-sizes",
        "ablation_n_per_kernel": "--ablation-n-per-kernel",
    },
}
#: :data:`sknmr.study.ABLATIONS`, spelled out so that building the parser does not
#: import the study (and imbalanced-learn); tests/test_cli.py checks they agree.
_ABLATIONS = ("oversampling", "screening", "linewidth", "lattice")
# The simulator's n_jobs is its threads per chunk.
_SIMULATOR_OPTIONS = {**_OPTIONS["simulate"], "n_jobs": "--threads"}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# -- argument types ----------------------------------------------------------
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


def _n_jobs(text):
    """An argparse ``type`` for workers: a positive int or -1 .. -(cores)."""
    try:
        return check_n_jobs(int(text))
    except ValueError:
        cores = os.cpu_count() or 1
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, or -1 .. -{cores} to count from all "
            f"{cores} cores (-1 all, -2 all but one), got {text!r}"
        ) from None


def _seed(text):
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


# -- errors --------------------------------------------------------------------
def _option_error(parser, exc, options):
    """Report a library ValueError/TypeError about a parameter as a usage error.

    The parameter the message is about (scikit-learn's "The 'x' parameter of
    f ..." or a message that starts with it) is replaced by the option that
    sets it. An error about no known parameter is not a usage error: it is
    raised again.
    """
    message = " ".join(str(exc).split())
    match = re.match(r"The '(\w+)' parameter of \S+ (.*)", message) or re.match(
        r"(\w+) (.*)", message
    )
    if match is None or match.group(1) not in options:
        raise exc
    parser.error(f"argument {options[match.group(1)]}: {match.group(2)}")


def _check_output_file(parser, path, overwrite):
    """Fail now, not after the simulation, if ``path`` cannot be written."""

    def error(message):
        parser.error(f"argument -o/--output: {message}")

    if not path.strip():
        error("expected a file name, got an empty one")
    if os.path.isdir(path):
        error(f"{path!r} is a folder; give the name of the .npz file to write")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        problem = "is not a folder" if os.path.exists(folder) else "does not exist"
        error(f"cannot write {path!r}: {folder!r} {problem}")
    if os.path.lexists(path) and not overwrite:
        error(f"{path!r} exists; pass --overwrite to replace it")
    try:  # a real write: os.access says yes to root on read-only mounts
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        error(f"cannot write into folder {folder!r}: {exc.strerror or exc}")


def _check_folder(parser, path, option):
    """Fail now, not after the work, if ``path`` cannot be (made) a folder.

    The nearest existing folder on the way must take a new file: a folder
    made later under it can then be written too.
    """
    if path is None:
        return
    if not path.strip():
        parser.error(f"argument {option}: expected a folder name, got an empty one")
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        parser.error(
            f"argument {option}: must be a folder that can be written; "
            f"{existing!r} is a file"
        )
    try:
        check_writable(os.path.join(existing, ".sknmr-check"), f"into {existing!r}")
    except OSError as exc:
        parser.error(
            f"argument {option}: must be a folder that can be written; "
            f"{exc.strerror or exc}"
        )


def _memory_option(simulator, count_option):
    """The option that makes a run too big: the samples per echo or the count."""
    from .simulator import EchoSimulator

    if simulator.n_times > EchoSimulator(tau=simulator.tau).n_times:
        return "--dt"
    if simulator.tau > 100.0:
        return "--tau"
    return count_option


def _check_run(parser, simulator, n_echoes, *, n_jobs, force, count_option):
    """Refuse, before any work, a run that cannot fit in memory or takes too long.

    ``n_echoes`` echoes of ``simulator`` in ``n_jobs`` processes; the limit of
    :data:`MAX_RUN_HOURS` on the simulator's own time estimate is lifted by
    ``--force``.
    """
    import warnings

    from joblib import effective_n_jobs

    from .utils._resources import check_fits_in_memory

    n_sites, n_times = simulator.experiment.lattice.n_sites, simulator.n_times
    try:  # one echo's lattice state and samples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the long-run warning: refused below
            simulator.check_workload(1)
    except (ValueError, MemoryError) as exc:
        option = "--lattice-size" if 64 * n_sites > 4 * n_times else "--dt"
        parser.error(f"argument {option}: {exc}")
    itemsize = simulator.resolve_backend().dtype.itemsize
    try:  # the whole dataset, as make_echoes counts it
        check_fits_in_memory(
            n_echoes * (n_times * itemsize + 200),
            f"A dataset of {n_echoes} echoes of {n_times} samples",
            "the number of echoes, or tau / dt (the samples per echo)",
        )
    except (ValueError, MemoryError) as exc:
        parser.error(f"argument {_memory_option(simulator, count_option)}: {exc}")
    workers = max(1, min(effective_n_jobs(n_jobs), n_echoes))
    hours = simulator.estimate_seconds(n_echoes) / workers / 3600
    if hours > MAX_RUN_HOURS and not force:
        option = (
            "--lattice-size"
            if simulator.lattice_size > 100
            else _memory_option(simulator, count_option)
        )
        parser.error(
            f"argument {option}: simulating {n_echoes} echoes of {n_times} samples "
            f"on {n_sites} nuclei would take about {hours:.3g} hours, more than the "
            f"limit of {MAX_RUN_HOURS:g} hours; make the run smaller, or pass "
            "--force to start it anyway"
        )


class _DeprecatedAlias(argparse.Action):
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


# -- simulate --------------------------------------------------------------------
def _add_simulate(subparsers):
    low, high = PAPER_PRIOR["W"]
    parser = subparsers.add_parser(
        "simulate",
        help="simulate echoes drawn from the paper's prior into a .npz file",
        description=(
            "Draw interaction parameters from the paper's prior (the kernel's "
            "length parameter, alpha_xy and alpha_z uniform, W = 2 alpha_xy + "
            f"alpha_z in [{low}, {high}] MHz), simulate their spin echoes and "
            "write echoes, times, parameters and the generation settings to one "
            ".npz file (read it back with sknmr.datasets.load_echoes). Without "
            "--n-per-kernel or --n-samples, the paper's "
            f"{PAPER_N_PER_KERNEL} echoes per kernel are made."
        ),
    )
    parser.add_argument("-o", "--output", required=True, help="the .npz file to write")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output if it exists"
    )
    count = parser.add_mutually_exclusive_group()
    count.add_argument(
        "-n",
        "--n-per-kernel",
        type=_positive_int,
        help=f"echoes per kernel (default {PAPER_N_PER_KERNEL}, the paper's)",
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
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
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
        choices=("auto", *BACKENDS),
        default="auto",
        help="simulation backend (default auto: the fastest available)",
    )
    physics.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default="float32",
        help="floating type of the dynamics (default float32, as make_echoes)",
    )
    physics.add_argument(
        "--threads",
        type=_n_jobs,
        default=None,
        help="threads per chunk for the numba backend (default 1, -1 all cores)",
    )
    work = parser.add_argument_group("work")
    work.add_argument(
        "-j",
        "--n-jobs",
        type=_n_jobs,
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
        "--cache",
        default=None,
        metavar="FOLDER",
        help="folder caching finished chunks, so an interrupted run resumes "
        "(default: no cache); plain arrays checked on reading, but share it only "
        "with writers you trust",
    )
    work.add_argument(  # the former name of --cache
        "--cache-dir",
        dest="cache",
        action=_DeprecatedAlias,
        replacement="--cache",
        help=argparse.SUPPRESS,
    )
    work.add_argument("--compress", action="store_true", help="compress the .npz file")
    work.add_argument(
        "--force",
        action="store_true",
        help=f"start a run estimated to take more than {MAX_RUN_HOURS:g} hours",
    )
    work.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=lambda args: _run_simulate(args, parser=parser))
    return parser


def _run_simulate(args, *, parser):
    from .datasets import make_echoes, save_echoes
    from .simulator import EchoSimulator

    started = time.perf_counter()
    _check_output_file(parser, args.output, args.overwrite)
    _check_folder(parser, args.cache, "--cache")
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
        _ = simulator.n_times  # the property checks the settings
    except ValueError as exc:
        _option_error(parser, exc, _SIMULATOR_OPTIONS)
    if args.n_samples is not None:
        n_echoes, count_option = args.n_samples, "--n-samples"
    else:
        per_kernel = args.n_per_kernel or PAPER_N_PER_KERNEL
        n_echoes, count_option = per_kernel * len(args.kernels), "-n/--n-per-kernel"
    _check_run(
        parser,
        simulator,
        n_echoes,
        n_jobs=args.n_jobs,
        force=args.force,
        count_option=count_option,
    )
    try:
        bunch = make_echoes(
            args.n_per_kernel,
            n_samples=args.n_samples,
            kernels=tuple(args.kernels),
            simulator=simulator,
            random_state=args.seed,
            memory=args.cache,
            n_jobs=args.n_jobs,
            chunk_size=args.chunk_size,
            verbose=0 if args.quiet else 1,
        )
    except ValueError as exc:
        _option_error(parser, exc, _OPTIONS["simulate"])
    path = save_echoes(bunch, args.output, compress=args.compress)
    if not args.quiet:
        n, n_times = bunch.data.shape
        print(
            f"wrote {n} echoes of {n_times} samples to {path} "
            f"(seed {bunch.settings['seed']}, backend "
            f"{bunch.settings['simulation']['backend']}, "
            f"{time.perf_counter() - started:.1f} s)"
        )
    return 0


# -- reproduce -------------------------------------------------------------------
def _add_reproduce(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="run the paper's analyses and write a report folder",
        description=(
            "Simulate the paper's dataset (or read it from --cache), run its "
            "analyses (Table I, W screening, regression, VAE, PCA/K-means) and "
            "write report.md, results.json and figures into --output."
        ),
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help="1500 echoes on a 32x32 lattice, minutes on 2 cores (default)",
    )
    which.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help=f"the paper's {len(KERNELS) * PAPER_N_PER_KERNEL} echoes on 100x100 "
        "(GPU, or an hour+ of CPU)",
    )
    parser.set_defaults(preset="quick")
    parser.add_argument(
        "--output", default="sknmr_report", help="report folder (default sknmr_report)"
    )
    parser.add_argument(
        "--cache",
        default=None,
        metavar="FOLDER",
        help="folder caching simulated chunks, so an interrupted run resumes "
        "(default: no cache)",
    )
    parser.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        help="parallel simulation chunks and forest cores (default 1, -1 all cores)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--linewidth",
        type=_positive_float,
        default=None,
        help="offset linewidth in MHz (default: the simulator's 0.08)",
    )
    parser.add_argument(
        "--ablations",
        nargs="+",
        choices=_ABLATIONS,
        default=None,
        help="also measure each difference from the paper by switching one "
        "setting, a row each in the report: oversampling (before the split vs "
        "inside training folds), screening (training bins by true vs "
        "out-of-fold W, scored routed by predicted W vs per true-W range), "
        "linewidth (the paper's 0.008 MHz vs 0.08: one more simulated dataset), "
        "lattice (one simulated dataset per --ablation-lattice-sizes)",
    )
    parser.add_argument(
        "--ablation-lattice-sizes",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="lattice sides of the lattice ablation (default: half the preset's "
        "and the preset's, 16 32 with --quick); the first is the linewidth "
        "ablation's lattice (default the preset's)",
    )
    parser.add_argument(
        "--ablation-n-per-kernel",
        type=_positive_int,
        default=None,
        metavar="N",
        help="echoes per kernel of the linewidth and lattice ablations' datasets "
        "(default: the preset's)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=lambda args: _run_reproduce(args, parser=parser))
    return parser


def _run_reproduce(args, *, parser):
    from .study import reproduce
    from .study._reproduce import _check_arguments

    kwargs = {
        "memory": args.cache,
        "n_jobs": args.n_jobs,
        "random_state": args.seed,
        "verbose": not args.quiet,
        "linewidth": args.linewidth,
    }
    # The ablation options are passed only when given: left out, the library's
    # defaults apply.
    for name in ("ablations", "ablation_lattice_sizes", "ablation_n_per_kernel"):
        if getattr(args, name) is not None:
            kwargs[name] = getattr(args, name)
    try:  # the library's checks, mapped to options, before anything is written
        _check_arguments(args.output, args.preset, **kwargs)
    except (TypeError, ValueError) as exc:
        _option_error(parser, exc, _OPTIONS["reproduce"])
    reproduce(args.output, args.preset, **kwargs)
    return 0


# -- infer --------------------------------------------------------------------
def _add_infer(subparsers):
    parser = subparsers.add_parser(
        "infer",
        help="W, L, the couplings and p(power) of a measured echo, with intervals",
        description=(
            "Read a measured echo (text/CSV, NumPy, or a Bruker, Varian/Agilent or "
            "Tecmag file), predict W, L, alpha_xy and alpha_z with intervals, the "
            "probability of a power-law kernel and an out-of-distribution flag "
            "with a model trained on simulated echoes, print the table and write "
            "it with a figure into --output. With --train, simulate a training set "
            "for the given settings and save a model to --model instead."
        ),
    )
    parser.add_argument("echo", nargs="?", help="the measured echo file or folder")
    parser.add_argument(
        "--model",
        required=True,
        help="the model file (.skops, written by --train) to read, or to write",
    )
    parser.add_argument(
        "--trust-model",
        action="store_true",
        help="also read a joblib/pickle model file, or one with types sknmr does "
        "not trust by default: loading it runs code its writer chose, so only "
        "for files you trust",
    )
    parser.add_argument(
        "--format",
        default=None,
        help="the echo's format (text, numpy, bruker, varian, tecmag; default: "
        "guessed from the path)",
    )
    parser.add_argument(
        "--output",
        default="sknmr_inference",
        help="folder for inference.csv and inference.png (default sknmr_inference)",
    )
    train = parser.add_argument_group("training (--train)")
    train.add_argument(
        "--train",
        action="store_true",
        help="simulate a training set and save a model to --model",
    )
    train.add_argument(
        "--quick",
        action="store_true",
        help="a first try: 16x16 lattice, 100 echoes per kernel (default 32x32, 500)",
    )
    train.add_argument("--lattice-size", type=_positive_int, default=None)
    train.add_argument("--n-per-kernel", type=_positive_int, default=None)
    train.add_argument(
        "--tau",
        type=_positive_float,
        default=None,
        help="tau in us: of the training simulations (default 100) or, reading an "
        "echo, the echo's own tau (overrides what its file states)",
    )
    train.add_argument(
        "--dt",
        type=_positive_float,
        default=1 / (2 * np.pi),
        help="time step in us (default 1/(2 pi))",
    )
    train.add_argument(
        "--linewidth",
        type=_positive_float,
        nargs="+",
        default=[0.08],
        metavar="MHZ",
        help="offset linewidth in MHz (default 0.08); two values LOW HIGH train "
        "with the linewidth free, drawn log-uniformly in that range, and predict "
        "it with an interval",
    )
    train.add_argument(
        "--confidence",
        type=_positive_float,
        default=0.9,
        help="coverage of the intervals, in (0, 1) (default 0.9)",
    )
    train.add_argument(
        "--snr",
        type=_positive_float,
        default=None,
        help="train on echoes with noise at this signal-to-noise ratio (default: "
        "clean)",
    )
    train.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    train.add_argument(
        "--cache",
        default=None,
        metavar="FOLDER",
        help="folder caching simulated chunks (plain arrays, checked on reading; "
        "share it only with writers you trust)",
    )
    train.add_argument("--n-jobs", type=_n_jobs, default=None)
    train.add_argument("--overwrite", action="store_true", help="replace --model")
    train.add_argument(
        "--force",
        action="store_true",
        help=f"start a training estimated to take more than {MAX_RUN_HOURS:g} hours",
    )
    reading = parser.add_argument_group("reading the echo")
    reading.add_argument(
        "--time-offset",
        type=float,
        default=None,
        metavar="US",
        help="added to the echo's times (us), e.g. to count them from the first "
        "pulse rather than from the start of acquisition",
    )
    reading.add_argument(
        "--align",
        choices=("none", "peak"),
        default=None,
        help="'peak' moves the echo top onto the model's 2 tau (default: none)",
    )
    reading.add_argument(
        "--normalize",
        choices=("first", "max"),
        default=None,
        help="scale the echo on the model's grid by its first or largest sample",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print less")
    parser.set_defaults(func=lambda args: _run_infer(args, parser=parser))
    return parser


def _run_infer(args, *, parser):
    if args.train:
        if args.echo is not None:
            parser.error("argument --train: takes no echo file (it writes --model)")
        if not 0 < args.confidence < 1:
            parser.error(
                f"argument --confidence: expected a number in (0, 1), got "
                f"{args.confidence}"
            )
        if os.path.lexists(args.model) and not args.overwrite:
            parser.error(
                f"argument --model: {args.model!r} exists; pass --overwrite "
                "to replace it"
            )
        from .utils._files import check_writable

        try:  # before the training, not after it
            check_writable(args.model, "the model")
        except OSError as exc:
            parser.error(f"argument --model: {exc}")
        from .inference import save_model
        from .inference._workflow import TRAINING_PRESETS, train_model
        from .simulator import EchoSimulator

        if len(args.linewidth) > 2:
            parser.error(
                "argument --linewidth: expected one width or a range LOW HIGH (MHz); "
                f"got {len(args.linewidth)} values"
            )
        free = args.linewidth if len(args.linewidth) == 2 else None
        sizes = TRAINING_PRESETS["quick" if args.quick else "default"]
        try:
            simulator = EchoSimulator(
                lattice_size=args.lattice_size or sizes["lattice_size"],
                tau=100.0 if args.tau is None else args.tau,
                dt=args.dt,
                linewidth=args.linewidth[0] if free is None else 0.08,
                dtype="float32",
            )
            _ = simulator.n_times
        except ValueError as exc:
            _option_error(parser, exc, _OPTIONS["infer"])
        n_per_kernel = args.n_per_kernel or sizes["n_per_kernel"]
        _check_run(
            parser,
            simulator,
            n_per_kernel * len(KERNELS),
            n_jobs=args.n_jobs,
            force=args.force,
            count_option="--n-per-kernel",
        )
        _check_folder(parser, args.cache, "--cache")
        params = {"confidence": args.confidence}
        if args.snr is not None:
            params["augment"] = {"snr": args.snr}
        try:
            model = train_model(
                simulator,
                n_per_kernel=n_per_kernel,
                linewidth=None if free is None else tuple(free),
                random_state=args.seed,
                memory=args.cache,
                n_jobs=args.n_jobs,
                verbose=0 if args.quiet else 1,
                **params,
            )
        except ValueError as exc:
            _option_error(parser, exc, _OPTIONS["infer"])
        try:
            save_model(model, args.model)
        except OSError as exc:
            parser.error(f"argument --model: cannot write the model: {exc}")
        print(f"wrote {args.model}")
        return 0

    if args.echo is None:
        parser.error("argument echo: give the measured echo to read (or --train)")
    from .inference._workflow import infer_file, load_model, summary

    try:
        model = load_model(args.model, trusted=args.trust_model)
    except (OSError, ValueError) as exc:
        parser.error(f"argument --model: {exc}")
    read_options = {}
    if args.time_offset is not None:
        read_options["time_offset"] = args.time_offset
    if args.tau is not None:
        read_options["tau"] = args.tau
    resampler = {}
    if args.align == "peak":
        experiment = getattr(model, "experiment_", None)
        if experiment is None or not experiment.sequence.echo_times:
            parser.error("argument --align: the model states no echo to align onto")
        resampler.update(align="peak", echo_time=float(experiment.echo_times[0]))
    if args.normalize is not None:
        resampler["normalize"] = args.normalize
    try:
        table, files = infer_file(
            args.echo,
            model,
            format=args.format,
            output_dir=args.output,
            resampler=resampler or None,
            **read_options,
        )
    except (OSError, ValueError, TypeError) as exc:
        parser.error(f"argument echo: {exc}")
    print(summary(table).to_string())
    if table["ood"].iloc[0]:
        print(
            "WARNING: this echo lies outside what the training simulations cover "
            "(ood_score > 1): do not trust the estimates."
        )
    if not args.quiet:
        print("wrote " + ", ".join(files))
    return 0


# -- decay --------------------------------------------------------------------
_DECAY_MODELS = ("exponential", "stretched", "biexponential", "gaussian_exponential")


def _add_decay(subparsers):
    parser = subparsers.add_parser(
        "decay",
        help="fit an echo decay (T2, stretched, bi-exponential, Gaussian x "
        "exponential) to measured decays, one row per file",
        description=(
            "Read echo decays (a Spinsolve T2 folder, a text export of echo time and "
            "amplitude, Tecmag or Bruker echo windows, ...) and fit a decay model "
            "to each, with bootstrap intervals. Several files, or a folder of them, "
            "give one table with a row per file; a file that cannot be read or "
            "fitted gets its error in its row and the others go on."
        ),
    )
    parser.add_argument("files", nargs="+", help="decay files or folders of them")
    parser.add_argument(
        "--model",
        choices=_DECAY_MODELS,
        default="exponential",
        help="the decay model (default exponential)",
    )
    parser.add_argument("--format", default=None, help="the files' format (guessed)")
    parser.add_argument(
        "--drop-first",
        type=_positive_int_or_zero,
        default=0,
        help="echoes left out at the start (default 0)",
    )
    parser.add_argument(
        "--method",
        choices=("top", "integral"),
        default="top",
        help="how an echo window becomes an amplitude (default top)",
    )
    parser.add_argument(
        "--echo-time",
        type=_positive_float,
        default=None,
        metavar="US",
        help="echo time (us) of echo windows whose file does not state it",
    )
    parser.add_argument(
        "--time-unit",
        choices=("ns", "us", "ms", "s"),
        default=None,
        help="time unit of text and NumPy files (default us)",
    )
    parser.add_argument(
        "--n-bootstrap",
        type=_positive_int,
        default=300,
        help="bootstrap samples (default 300)",
    )
    parser.add_argument(
        "--confidence",
        type=_positive_float,
        default=0.9,
        help="level of the intervals, in (0, 1) (default 0.9)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", default=None, help="write the table (CSV)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=lambda args: _run_decay(args, parser=parser))
    return parser


def _positive_int_or_zero(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _decay_files(paths):
    """The files to fit: each path, or the entries of a folder that is no experiment."""
    from .io import guess_format

    files = []
    for path in paths:
        if os.path.isdir(path):
            try:
                guess_format(path)
                files.append(path)
                continue
            except ValueError:
                pass
            entries = sorted(e for e in os.listdir(path) if not e.startswith("."))
            files.extend(os.path.join(path, entry) for entry in entries)
        else:
            files.append(path)
    return files


def _run_decay(args, *, parser):
    import pandas as pd

    from ._progress import progress_bar
    from .decay import fit_decay
    from .io import read_decay

    if not 0 < args.confidence < 1:
        parser.error(
            f"argument --confidence: expected a number in (0, 1), got {args.confidence}"
        )
    if args.n_bootstrap < 20:
        parser.error(f"argument --n-bootstrap: expected >= 20, got {args.n_bootstrap}")
    missing = [path for path in args.files if not os.path.exists(path)]
    if missing:
        parser.error(f"argument files: no such file or folder: {missing[0]}")
    files = _decay_files(args.files)
    rows = []
    with progress_bar(len(files), "file", enabled=not args.quiet) as bar:
        for path in files:
            row = {"file": path, "model": args.model}
            try:
                decay = _read_one_decay(read_decay, path, args)
                fit = fit_decay(
                    decay,
                    args.model,
                    drop_first=args.drop_first,
                    n_bootstrap=args.n_bootstrap,
                    confidence=args.confidence,
                    random_state=args.seed,
                )
                row["n_echoes"] = fit.times.size
                for name, value in fit.params.items():
                    low, high = fit.intervals[name]
                    row.update({name: value, f"{name}_low": low, f"{name}_high": high})
                row["error"] = ""
            except (OSError, ValueError, TypeError, ImportError) as exc:
                row["error"] = str(exc)
            rows.append(row)
            bar.update()
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.to_string(index=False))
    if args.output is not None:
        table.to_csv(args.output, index=False)
        if not args.quiet:
            print(f"wrote {args.output}")
    failed = int((table["error"] != "").sum())
    return 1 if failed == len(table) else 0


def _read_one_decay(read_decay, path, args):
    """One decay, with the options that the file's format takes."""
    from .io import guess_format

    format = args.format or guess_format(path)[0]
    options = {"method": args.method}
    if args.time_unit is not None and format in ("text", "numpy"):
        options["time_unit"] = args.time_unit
    if args.echo_time is not None:
        if format in ("tecmag", "spinsolve"):
            options["echo_time"] = args.echo_time
    return read_decay(path, format=format, **options)


#: Subcommands, in the order ``--help`` lists them.
# -- protocols ----------------------------------------------------------------
def _add_protocols(subparsers):
    parser = subparsers.add_parser(
        "protocols",
        help="which experiment tells what: score measurement protocols",
        description=(
            "Simulate several experiments (Hahn echoes at several angles and two "
            "taus, a CPMG train) on the same materials, score protocols (sets of "
            "experiments, read as |M|, in quadrature or phase-blind) by "
            "cross-validated R^2 of W, L and the couplings and F1 of the kernel "
            "class, and write protocols.csv, protocols.json, protocols.png and "
            "report.md into --output."
        ),
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help="600 materials on 32x32, minutes on 2 cores (default)",
    )
    which.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="3000 materials on 64x64 (hours of CPU, minutes on a GPU)",
    )
    parser.set_defaults(preset="quick")
    parser.add_argument("--output", default="sknmr_protocols", help="report folder")
    parser.add_argument(
        "--cache", default=None, metavar="FOLDER", help="folder caching chunks"
    )
    parser.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        help="parallel simulation chunks and forest cores (default 1, -1 all cores)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=lambda args: _run_protocols(args, parser=parser))
    return parser


def _run_protocols(args, *, parser):
    from .study import run_protocols

    # The report folder and the cache, before hours of simulation.
    _check_folder(parser, args.output, "--output")
    _check_folder(parser, args.cache, "--cache")
    run_protocols(
        args.output,
        args.preset,
        memory=args.cache,
        n_jobs=args.n_jobs,
        random_state=args.seed,
        verbose=not args.quiet,
    )
    return 0


# -- fit ----------------------------------------------------------------------
def _add_fit(subparsers):
    parser = subparsers.add_parser(
        "fit",
        help="fit the physics to a measured echo: parameters with intervals",
        description=(
            "Read a measured echo, fit the simulator's echo to it (the couplings "
            "and the kernel's length, by least squares with the receiver's gain "
            "solved for), print the table of estimates with intervals that count "
            "the noise and the finite lattice's disorder, and write it with a "
            "figure into --output. Several --kernels are compared (a probability "
            "per class)."
        ),
    )
    parser.add_argument("echo", help="the measured echo file or folder")
    parser.add_argument(
        "--format",
        default=None,
        help="the echo's format (text, numpy, bruker, varian, tecmag; default: "
        "guessed from the path)",
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        default=list(KERNELS),
        help="kernel classes to fit and compare (default: all three)",
    )
    parser.add_argument(
        "--parameters",
        nargs="+",
        default=["length", "alpha_xy", "alpha_z"],
        help="what is fitted (default: length alpha_xy alpha_z)",
    )
    parser.add_argument(
        "--fixed",
        nargs="+",
        type=_name_value,
        default=[],
        metavar="NAME=VALUE",
        help="values of parameters not fitted, e.g. length=2 alpha_z=0.05",
    )
    parser.add_argument(
        "--detection",
        choices=["magnitude", "quadrature", "phase-blind"],
        default="magnitude",
        help="how the echo is read (default magnitude)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="an EchoInference model file (sknmr infer --train) to start from",
    )
    parser.add_argument(
        "--lattice-size", type=_positive_int, default=16, help="default 16"
    )
    parser.add_argument(
        "--tau", type=_positive_float, default=100.0, help="tau in us (default 100)"
    )
    parser.add_argument(
        "--dt",
        type=_positive_float,
        default=1 / (2 * np.pi),
        help="time step in us (default 1/(2 pi))",
    )
    parser.add_argument(
        "--linewidth",
        type=_positive_float,
        default=0.08,
        help="offset linewidth in MHz (default 0.08)",
    )
    parser.add_argument(
        "--confidence",
        type=_positive_float,
        default=0.9,
        help="probability content of the intervals, in (0, 1) (default 0.9)",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--output",
        default="sknmr_fit",
        help="folder for fit.csv and fit.png (default sknmr_fit)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print less")
    parser.set_defaults(func=lambda args: _run_fit(args, parser=parser))
    return parser


def _name_value(text):
    """An argparse ``type`` for ``NAME=VALUE`` with a number as the value."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not name or number is None:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}")
    return name, number


def _run_fit(args, *, parser):
    from .simulator import EchoSimulator

    if not 0 < args.confidence < 1:
        parser.error(
            f"argument --confidence: expected a number in (0, 1), got {args.confidence}"
        )
    try:
        simulator = EchoSimulator(
            lattice_size=args.lattice_size,
            tau=args.tau,
            dt=args.dt,
            linewidth=args.linewidth,
        )
        _ = simulator.n_times
    except ValueError as exc:
        _option_error(parser, exc, _OPTIONS["fit"])
    init = None
    if args.model is not None:
        from .inference import load_model

        try:
            init = load_model(args.model)
        except (OSError, ValueError) as exc:
            parser.error(f"argument --model: {exc}")
    from .fitting import fit_file

    try:
        table, files = fit_file(
            args.echo,
            simulator,
            kernels=args.kernels,
            format=args.format,
            output_dir=args.output,
            parameters=args.parameters,
            fixed=dict(args.fixed),
            detection=args.detection,
            confidence=args.confidence,
            init=init,
            random_state=args.seed,
        )
    except (OSError, ValueError, TypeError) as exc:
        try:
            _option_error(parser, exc, _OPTIONS["fit"])
        except (OSError, ValueError, TypeError):
            parser.error(f"argument echo: {exc}")
    print(table.set_index("kernel").T.to_string())
    if not args.quiet:
        print("wrote " + ", ".join(files))
    return 0


_SUBCOMMANDS = (
    _add_simulate,
    _add_reproduce,
    _add_infer,
    _add_decay,
    _add_protocols,
    _add_fit,
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
    from . import __version__

    parser = _Parser(
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
