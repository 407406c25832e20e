"""``sknmr infer``: measured echoes read by a model trained on simulations, or
``--train`` such a model."""

import os

from .._presets import PRESETS
from ..kernels import KERNELS
from ._batch import check_paths, expand_paths, print_table, run_batch
from ._checks import MAX_RUN_HOURS, check_folder, check_run
from ._options import (
    LibraryDefault,
    add_cache_option,
    add_confidence_option,
    add_format_option,
    add_seed_option,
    add_simulator_option,
)
from ._parser import (
    finite_float,
    n_jobs,
    option_error,
    positive_float,
    positive_int,
)


def add_infer(subparsers):
    """Register ``sknmr infer``."""
    parser = subparsers.add_parser(
        "infer",
        help="W, L, the couplings and p(power) of measured echoes, with intervals",
        description=(
            "Read a measured echo (text/CSV, NumPy, or a Bruker, Varian/Agilent or "
            "Tecmag file), predict W, L, alpha_xy and alpha_z with intervals, the "
            "probability of a power-law kernel and an out-of-distribution flag "
            "with a model trained on simulated echoes, print the table and write "
            "it with a figure into --output. An echo flagged out of distribution "
            "(ood) says which check fired (ood_reason); every column of the "
            "model's table is printed and written. Several files, or a folder of "
            "them, give one table with a row per file (a folder of each echo's "
            "figure in --output); a file that cannot be read gets its error in "
            "its row and the others go on, and the exit status is 1 if any "
            "failed. With --train, simulate a training set for the given settings "
            "and save a model to --model instead."
        ),
    )
    parser.add_argument(
        "echo",
        nargs="*",
        help="the measured echo files or folders (an experiment's folder, or a "
        "folder of echo files)",
    )
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
    add_format_option(parser)
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
    quick, default = PRESETS["training"]["quick"], PRESETS["training"]["default"]
    train.add_argument(
        "--quick",
        action="store_true",
        help=f"a first try: {quick['lattice_size']} cells a side, "
        f"{quick['n_per_kernel']} echoes per kernel (default "
        f"{default['lattice_size']}, {default['n_per_kernel']})",
    )
    add_simulator_option(
        train,
        "lattice_size",
        default=None,
        help=f"cells along each vector of the lattice (default "
        f"{default['lattice_size']}, {quick['lattice_size']} with --quick)",
    )
    add_simulator_option(train, "lattice")
    train.add_argument(
        "--n-per-kernel",
        type=positive_int,
        default=None,
        help=f"training echoes per kernel (default {default['n_per_kernel']}, "
        f"{quick['n_per_kernel']} with --quick)",
    )
    add_simulator_option(
        train,
        "tau",
        default=None,
        help="tau in us: of the training simulations (default {simulator}) or, "
        "reading an echo, the echo's own tau (overrides what its file states)",
    )
    add_simulator_option(train, "dt")
    add_simulator_option(
        train,
        "linewidth",
        nargs="+",
        metavar="MHZ",
        help="offset linewidth in MHz (default {default}); two values LOW HIGH "
        "train with the linewidth free, drawn log-uniformly in that range, and "
        "predict it with an interval",
    )
    add_confidence_option(
        train,
        LibraryDefault("sknmr.inference", "EchoInference", "confidence"),
        "coverage of the intervals",
    )
    train.add_argument(
        "--snr",
        type=positive_float,
        default=None,
        help="train on echoes with noise at this signal-to-noise ratio (default: "
        "clean)",
    )
    add_seed_option(train)
    add_cache_option(
        train,
        help="folder caching simulated chunks (plain arrays, checked on reading; "
        "share it only with writers you trust)",
    )
    train.add_argument("--n-jobs", type=n_jobs, default=None)
    train.add_argument("--overwrite", action="store_true", help="replace --model")
    train.add_argument(
        "--force",
        action="store_true",
        help=f"start a training estimated to take more than {MAX_RUN_HOURS:g} hours",
    )
    from ..io import EchoResampler

    def resampler_choices(name):  # the resampler's own options
        (options,) = [
            c.options
            for c in EchoResampler._parameter_constraints[name]
            if hasattr(c, "options")
        ]
        return tuple(sorted(options))

    reading = parser.add_argument_group("reading the echo")
    reading.add_argument(
        "--time-offset",
        type=finite_float,
        default=None,
        metavar="US",
        help="added to the echo's times (us), e.g. to count them from the first "
        "pulse rather than from the start of acquisition",
    )
    reading.add_argument(
        "--align",
        choices=resampler_choices("align"),
        default=None,
        help="'peak' moves the echo top onto the model's 2 tau (default: none)",
    )
    reading.add_argument(
        "--normalize",
        choices=resampler_choices("normalize"),
        default=None,
        help="scale the echo on the model's grid by its first or largest sample",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print less")
    parser.set_defaults(func=lambda args: run_infer(args, parser=parser))
    return parser


def run_infer(args, *, parser):
    """Train a model (``--train``), or read one echo or several."""
    if args.train:
        return _train(args, parser)
    if not args.echo:
        parser.error("argument echo: give the measured echo to read (or --train)")
    from ..inference._workflow import load_model

    check_paths(parser, args.echo, "echo")
    check_folder(parser, args.output, "--output")
    try:
        model = load_model(args.model, trusted=args.trust_model)
    except (OSError, ValueError) as exc:
        parser.error(f"argument --model: {exc}")
    options = _read_options(args, model, parser)
    files = expand_paths(args.echo)
    if files == args.echo and len(files) == 1:
        return _infer_one(files[0], model, options, args, parser)
    return _infer_many(files, model, options, args)


def _read_options(args, model, parser):
    """The options of infer_file: reading (tau, time offset) and resampling."""
    options = {"format": args.format}
    if args.time_offset is not None:
        options["time_offset"] = args.time_offset
    if args.tau is not None:
        options["tau"] = args.tau
    resampler = {}
    if args.align == "peak":
        experiment = getattr(model, "experiment_", None)
        if experiment is None or not experiment.sequence.echo_times:
            parser.error("argument --align: the model states no echo to align onto")
        resampler.update(align="peak", echo_time=float(experiment.echo_times[0]))
    if args.normalize is not None:
        resampler["normalize"] = args.normalize
    options["resampler"] = resampler or None
    return options


def _ood_reason(row):
    """The check that flagged an echo, where the model's table says it."""
    reason = row.get("ood_reason", "")
    return reason if isinstance(reason, str) else ""


def _infer_one(path, model, options, args, parser):
    """One echo: its table as rows ``quantity: estimate, lower, upper``."""
    from ..inference._workflow import infer_file, summary

    try:
        table, files = infer_file(path, model, output_dir=args.output, **options)
    except (OSError, ValueError, TypeError) as exc:
        parser.error(f"argument echo: {exc}")
    print(summary(table).to_string())
    if table["ood"].iloc[0]:
        from ..inference import ood_advice

        reason = _ood_reason(table.iloc[0])
        print(
            "WARNING: this echo lies outside what the training simulations cover "
            f"(ood_score > 1{'; ' + reason if reason else ''}): do not trust the "
            "estimates."
        )
        if reason:
            print("Check first:\n" + ood_advice(reason))
    if not args.quiet:
        print("wrote " + ", ".join(files))
    return 0


def _infer_many(files, model, options, args):
    """Several echoes: one table, a row per file; exit status 1 if any failed.

    Each echo's figure (and its own table) goes into a folder of ``--output``
    named after the file; the whole table into ``--output``/inference.csv.
    """
    from ..inference._workflow import infer_file

    folders = _figure_folders(files)

    def infer_one(path):
        out = os.path.join(args.output, folders[path])
        table, _ = infer_file(path, model, output_dir=out, **options)
        return table.iloc[0].to_dict()

    table = run_batch(files, infer_one, quiet=args.quiet)
    print_table(table)
    flagged = table[table["ood"].eq(True)]  # a failed row's is NaN
    if len(flagged):
        which = ", ".join(
            f"{row['file']}" + (f" ({_ood_reason(row)})" if _ood_reason(row) else "")
            for _, row in flagged.iterrows()
        )
        print(
            f"WARNING: {len(flagged)} of {len(table)} echoes lie outside what the "
            f"training simulations cover (ood_score > 1): do not trust their "
            f"estimates: {which}"
        )
    os.makedirs(args.output, exist_ok=True)
    csv = os.path.join(args.output, "inference.csv")
    table.to_csv(csv, index=False)
    failed = int((table["error"] != "").sum())
    if not args.quiet:
        print(f"wrote {csv}")
    if failed:
        print(f"{failed} of {len(table)} files failed: see the error column")
    return 1 if failed else 0


def _figure_folders(files):
    """A folder name per file, its base name (numbered after the first use)."""
    folders, used = {}, set()
    for path in files:
        base = os.path.basename(os.path.normpath(path)) or "echo"
        name, count = base, 1
        while name in used or name == "inference.csv":
            count += 1
            name = f"{base}-{count}"
        used.add(name)
        folders[path] = name
    return folders


def _train(args, parser):
    """Simulate a training set for the options' settings and save the model."""
    if args.echo:
        parser.error("argument --train: takes no echo file (it writes --model)")
    if os.path.lexists(args.model) and not args.overwrite:
        parser.error(
            f"argument --model: {args.model!r} exists; pass --overwrite to replace it"
        )
    from ..utils._files import check_writable

    try:  # before the training, not after it
        check_writable(args.model, "the model")
    except OSError as exc:
        parser.error(f"argument --model: {exc}")
    from ..datasets._echoes import DEFAULT_SIMULATOR
    from ..inference import save_model
    from ..inference._workflow import train_model
    from ..simulator import EchoSimulator

    if len(args.linewidth) > 2:
        parser.error(
            "argument --linewidth: expected one width or a range LOW HIGH (MHz); "
            f"got {len(args.linewidth)} values"
        )
    free = args.linewidth if len(args.linewidth) == 2 else None
    sizes = PRESETS["training"]["quick" if args.quick else "default"]
    simulator_params = {
        "lattice_size": args.lattice_size or sizes["lattice_size"],
        "lattice": args.lattice,
        "dt": args.dt,
        "dtype": DEFAULT_SIMULATOR.dtype,
    }
    if args.tau is not None:  # left out, the simulator's
        simulator_params["tau"] = args.tau
    if free is None:  # a free linewidth is drawn per echo
        simulator_params["linewidth"] = args.linewidth[0]
    try:
        simulator = EchoSimulator(**simulator_params)
        _ = simulator.n_times
    except ValueError as exc:
        option_error(parser, exc, scope="EchoSimulator")
    n_per_kernel = args.n_per_kernel or sizes["n_per_kernel"]
    check_run(
        parser,
        simulator,
        n_per_kernel * len(KERNELS),
        n_jobs=args.n_jobs,
        force=args.force,
        count_option="--n-per-kernel",
    )
    check_folder(parser, args.cache, "--cache")
    params = {}  # EchoInference's, its defaults where no option is given
    if args.confidence is not None:
        params["confidence"] = args.confidence
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
        option_error(parser, exc)
    try:
        save_model(model, args.model)
    except OSError as exc:
        parser.error(f"argument --model: cannot write the model: {exc}")
    print(f"wrote {args.model}")
    return 0
