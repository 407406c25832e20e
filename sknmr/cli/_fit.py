"""``sknmr fit``: a measured echo fitted with the physics itself."""

from ..fitting import DETECTIONS, INTERVALS, compare_kernels, fit_echo
from ._options import (
    add_confidence_option,
    add_format_option,
    add_seed_option,
    add_simulator_option,
)
from ._parser import add_library_option, default_of, name_value, option_error

#: Lattice side of ``sknmr fit`` (each fit simulates the echo many times: a
#: smaller lattice than the simulator's default).
FIT_LATTICE_SIZE = 16


def add_fit(subparsers):
    """Register ``sknmr fit``."""
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
    add_format_option(parser)
    add_library_option(  # fit_echo's kernel, when one class is fitted
        parser,
        "--kernels",
        parameter=("kernels", "kernel"),
        nargs="+",
        default=list(default_of(compare_kernels, "kernels")),
        help="kernel classes to fit and compare (default: all three)",
    )
    parameters = default_of(fit_echo, "parameters")
    parser.add_argument(
        "--parameters",
        nargs="+",
        default=list(parameters),
        help=f"what is fitted (default: {' '.join(parameters)})",
    )
    parser.add_argument(
        "--fixed",
        nargs="+",
        type=name_value,
        default=[],
        metavar="NAME=VALUE",
        help="values of parameters not fitted, e.g. length=2 alpha_z=0.05",
    )
    parser.add_argument(
        "--detection",
        choices=DETECTIONS,
        default=default_of(fit_echo, "detection"),
        help="how the echo is read (default %(default)s)",
    )
    parser.add_argument(
        "--interval",
        choices=INTERVALS,
        default=default_of(fit_echo, "interval"),
        help="how the intervals are made: from the curvature at the estimate "
        "(laplace) or by profiling the likelihood along each parameter, the "
        "others fitted again (profile; slower) (default %(default)s)",
    )
    add_library_option(
        parser,
        "--model",
        parameter="init",
        default=None,
        help="an EchoInference model file (sknmr infer --train) to start from",
    )
    add_simulator_option(parser, "lattice_size", default=FIT_LATTICE_SIZE)
    add_simulator_option(parser, "lattice")
    add_simulator_option(parser, "tau")
    add_simulator_option(parser, "dt")
    add_simulator_option(parser, "linewidth")
    add_confidence_option(parser, fit_echo, "probability content of the intervals")
    add_seed_option(parser)
    add_library_option(
        parser,
        "--output",
        parameter="output_dir",
        default="sknmr_fit",
        help="folder for fit.csv and fit.png (default sknmr_fit)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print less")
    parser.set_defaults(func=lambda args: run_fit(args, parser=parser))
    return parser


def run_fit(args, *, parser):
    """Fit the echo with each kernel class; the library checks the options."""
    from ..simulator import EchoSimulator

    fixed = dict(args.fixed)
    if "length" not in args.parameters and "length" not in fixed:
        # the library's message speaks of its arguments: say it with the options
        parser.error(
            "argument --parameters: length is neither fitted nor fixed; add it to "
            "--parameters or give --fixed length=VALUE"
        )
    try:
        simulator = EchoSimulator(
            lattice_size=args.lattice_size,
            lattice=args.lattice,
            tau=args.tau,
            dt=args.dt,
            linewidth=args.linewidth,
        )
        _ = simulator.n_times
    except ValueError as exc:
        option_error(parser, exc, scope="EchoSimulator")
    init = None
    if args.model is not None:
        from ..inference import load_model

        try:
            init = load_model(args.model)
        except (OSError, ValueError) as exc:
            parser.error(f"argument --model: {exc}")
    from ..fitting import fit_file

    try:
        table, files = fit_file(
            args.echo,
            simulator,
            kernels=args.kernels,
            format=args.format,
            output_dir=args.output,
            parameters=args.parameters,
            fixed=fixed,
            detection=args.detection,
            confidence=args.confidence,
            interval=args.interval,
            init=init,
            random_state=args.seed,
        )
    except (OSError, ValueError, TypeError) as exc:
        try:
            option_error(parser, exc)
        except (OSError, ValueError, TypeError):
            parser.error(f"argument echo: {exc}")
    print(table.set_index("kernel").T.to_string())
    if not args.quiet:
        print("wrote " + ", ".join(files))
    return 0
