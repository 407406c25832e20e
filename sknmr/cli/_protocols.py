"""``sknmr protocols``: which experiment tells what, protocols scored."""

from .._presets import PRESETS
from ..kernels import KERNELS
from ._checks import check_folder
from ._options import add_cache_option, add_seed_option
from ._parser import n_jobs


def _materials(preset):
    settings = PRESETS["protocols"][preset]
    side = settings["lattice_size"]
    return f"{len(KERNELS) * settings['n_per_kernel']} materials on {side}x{side}"


def add_protocols(subparsers):
    """Register ``sknmr protocols``."""
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
        help=f"{_materials('quick')}, minutes on 2 cores (default)",
    )
    which.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help=f"{_materials('full')} (hours of CPU, minutes on a GPU)",
    )
    parser.set_defaults(preset="quick")
    parser.add_argument("--output", default="sknmr_protocols", help="report folder")
    add_cache_option(parser, help="folder caching chunks")
    parser.add_argument(
        "--n-jobs",
        type=n_jobs,
        default=None,
        help="parallel simulation chunks and forest cores (default 1, -1 all cores)",
    )
    add_seed_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=lambda args: run_protocols(args, parser=parser))
    return parser


def run_protocols(args, *, parser):
    """Check the folders, then run the protocol study."""
    from ..study import run_protocols

    # The report folder and the cache, before hours of simulation.
    check_folder(parser, args.output, "--output")
    check_folder(parser, args.cache, "--cache")
    run_protocols(
        args.output,
        args.preset,
        memory=args.cache,
        n_jobs=args.n_jobs,
        random_state=args.seed,
        verbose=not args.quiet,
    )
    return 0
