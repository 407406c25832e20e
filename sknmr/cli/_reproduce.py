"""``sknmr reproduce``: the paper's analyses, written to a report folder."""

from .._presets import PRESETS
from ..kernels import KERNELS
from ..simulator import EchoSimulator
from ._options import add_cache_option, add_seed_option
from ._parser import (
    add_library_option,
    default_of,
    format_default,
    n_jobs,
    option_error,
    positive_float,
    positive_int,
)

#: :data:`sknmr.study.ABLATIONS`, spelled out so that building the parser does not
#: import the study (and imbalanced-learn); tests/test_cli.py checks they agree.
ABLATIONS = ("oversampling", "screening", "linewidth", "lattice")


def add_reproduce(subparsers):
    """Register ``sknmr reproduce``."""
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
    quick, full = PRESETS["reproduce"]["quick"], PRESETS["reproduce"]["full"]
    which.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help=f"{len(KERNELS) * quick['n_per_kernel']} echoes on a "
        f"{quick['lattice_size']}x{quick['lattice_size']} lattice, minutes on 2 "
        "cores (default)",
    )
    which.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help=f"the paper's {len(KERNELS) * full['n_per_kernel']} echoes on "
        f"{full['lattice_size']}x{full['lattice_size']} (GPU, or an hour+ of CPU)",
    )
    parser.set_defaults(preset="quick")
    add_library_option(
        parser,
        "--output",
        parameter="output_dir",
        default="sknmr_report",
        help="report folder (default sknmr_report)",
    )
    add_cache_option(
        parser,
        help="folder caching simulated chunks, so an interrupted run resumes "
        "(default: no cache)",
    )
    parser.add_argument(
        "--n-jobs",
        type=n_jobs,
        default=None,
        help="parallel simulation chunks and forest cores (default 1, -1 all cores)",
    )
    add_seed_option(parser)
    linewidth = format_default(default_of(EchoSimulator, "linewidth"))
    parser.add_argument(
        "--linewidth",
        type=positive_float,
        default=None,
        help=f"offset linewidth in MHz (default: the simulator's {linewidth})",
    )
    parser.add_argument(
        "--ablations",
        nargs="+",
        choices=ABLATIONS,
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
        f"and the preset's, {quick['lattice_size'] // 2} {quick['lattice_size']} "
        "with --quick); the first is the linewidth ablation's lattice (default "
        "the preset's)",
    )
    parser.add_argument(
        "--ablation-n-per-kernel",
        type=positive_int,
        default=None,
        metavar="N",
        help="echoes per kernel of the linewidth and lattice ablations' datasets "
        "(default: the preset's)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=lambda args: run_reproduce(args, parser=parser))
    return parser


def run_reproduce(args, *, parser):
    """Check the arguments with the library's checks, then run the study."""
    from ..study import reproduce
    from ..study._reproduce import _check_arguments

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
        option_error(parser, exc)
    reproduce(args.output, args.preset, **kwargs)
    return 0
