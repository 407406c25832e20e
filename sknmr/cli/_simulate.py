"""``sknmr simulate``: echoes drawn from the paper's prior, into one .npz file."""

import argparse
import time

from .._backends import DTYPES
from .._paper import PAPER_N_PER_KERNEL, PAPER_PRIOR
from ..kernels import KERNELS
from ._checks import MAX_RUN_HOURS, check_folder, check_output_file, check_run
from ._options import add_cache_option, add_seed_option, add_simulator_option
from ._parser import (
    DeprecatedAlias,
    add_library_option,
    n_jobs,
    option_error,
    positive_int,
)


def add_simulate(subparsers):
    """Register ``sknmr simulate``."""
    from ..datasets._echoes import DEFAULT_CHUNK_SIZE, DEFAULT_SIMULATOR

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
        type=positive_int,
        help=f"echoes per kernel (default {PAPER_N_PER_KERNEL}, the paper's)",
    )
    count.add_argument(
        "--n-samples", type=positive_int, help="echoes in all, split over the kernels"
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        choices=KERNELS,
        default=list(KERNELS),
        help="kernels to simulate (default: all three)",
    )
    add_seed_option(parser)
    physics = parser.add_argument_group("simulator settings")
    add_simulator_option(physics, "lattice_size")
    add_simulator_option(physics, "lattice")
    add_simulator_option(physics, "tau")
    add_simulator_option(physics, "dt")
    add_simulator_option(physics, "linewidth")
    add_simulator_option(physics, "backend")
    physics.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default=DEFAULT_SIMULATOR.dtype,
        help=f"floating type of the dynamics (default {DEFAULT_SIMULATOR.dtype}, "
        "as make_echoes)",
    )
    add_library_option(  # -j/--n-jobs is make_echoes' n_jobs
        physics,
        "--threads",
        parameter="n_jobs",
        scope="EchoSimulator",
        type=n_jobs,
        default=None,
        help="threads per chunk for the numba backend (default 1, -1 all cores)",
    )
    work = parser.add_argument_group("work")
    work.add_argument(
        "-j",
        "--n-jobs",
        type=n_jobs,
        default=None,
        help="chunks simulated at once, in separate processes "
        "(default 1, -1 all cores)",
    )
    work.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="echoes per chunk, the unit of caching and resuming (default "
        f"{DEFAULT_CHUNK_SIZE}, or the backend's batch if larger)",
    )
    add_cache_option(
        work,
        help="folder caching finished chunks, so an interrupted run resumes "
        "(default: no cache); plain arrays checked on reading, but share it only "
        "with writers you trust",
    )
    work.add_argument(  # the former name of --cache
        "--cache-dir",
        dest="cache",
        action=DeprecatedAlias,
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
    parser.set_defaults(func=lambda args: run_simulate(args, parser=parser))
    return parser


def run_simulate(args, *, parser):
    """Check everything, simulate, write the file."""
    from ..datasets import make_echoes, save_echoes
    from ..simulator import EchoSimulator

    started = time.perf_counter()
    check_output_file(parser, args.output, args.overwrite)
    check_folder(parser, args.cache, "--cache")
    try:
        simulator = EchoSimulator(
            lattice_size=args.lattice_size,
            lattice=args.lattice,
            tau=args.tau,
            dt=args.dt,
            linewidth=args.linewidth,
            backend=args.backend,
            dtype=args.dtype,
            n_jobs=args.threads,
        )
        _ = simulator.n_times  # the property checks the settings
    except ValueError as exc:
        option_error(parser, exc, scope="EchoSimulator")
    if args.n_samples is not None:
        n_echoes, count_option = args.n_samples, "--n-samples"
    else:
        per_kernel = args.n_per_kernel or PAPER_N_PER_KERNEL
        n_echoes, count_option = per_kernel * len(args.kernels), "-n/--n-per-kernel"
    check_run(
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
        option_error(parser, exc)
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
