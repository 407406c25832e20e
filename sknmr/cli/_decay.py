"""``sknmr decay``: a decay model fitted to measured echo decays, a row per file."""

from ._batch import check_paths, expand_paths, print_table, run_batch
from ._options import add_confidence_option, add_format_option, add_seed_option
from ._parser import default_of, positive_float, positive_int, positive_int_or_zero


def add_decay(subparsers):
    """Register ``sknmr decay``."""
    from ..decay import MODELS, fit_decay
    from ..io import read_decay
    from ..io._decay import _METHODS
    from ..io._text import TIME_UNITS, read_text

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
        choices=tuple(MODELS),
        default=default_of(fit_decay, "model"),
        help="the decay model (default %(default)s)",
    )
    add_format_option(parser, "the files'")
    parser.add_argument(
        "--drop-first",
        type=positive_int_or_zero,
        default=default_of(fit_decay, "drop_first"),
        help="echoes left out at the start (default %(default)s)",
    )
    parser.add_argument(
        "--method",
        choices=_METHODS,
        default=default_of(read_decay, "method"),
        help="how an echo window becomes an amplitude (default %(default)s)",
    )
    parser.add_argument(
        "--echo-time",
        type=positive_float,
        default=None,
        metavar="US",
        help="echo time (us) of echo windows whose file does not state it",
    )
    parser.add_argument(  # left out, the readers' default
        "--time-unit",
        choices=tuple(TIME_UNITS),
        default=None,
        help="time unit of text and NumPy files (default "
        f"{default_of(read_text, 'time_unit')})",
    )
    parser.add_argument(
        "--n-bootstrap",
        type=positive_int,
        default=default_of(fit_decay, "n_bootstrap"),
        help="bootstrap samples (default %(default)s)",
    )
    add_confidence_option(parser, fit_decay, "level of the intervals")
    add_seed_option(parser)
    parser.add_argument("-o", "--output", default=None, help="write the table (CSV)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=lambda args: run_decay(args, parser=parser))
    return parser


def run_decay(args, *, parser):
    """Fit each file; the exit status is 1 when every file failed."""
    from ..decay import fit_decay
    from ..io import read_decay

    # Checked once here: in the loop, a bad option would fail every row.
    if not 0 < args.confidence < 1:
        parser.error(
            f"argument --confidence: expected a number in (0, 1), got {args.confidence}"
        )
    if args.n_bootstrap < 20:
        parser.error(f"argument --n-bootstrap: expected >= 20, got {args.n_bootstrap}")
    check_paths(parser, args.files, "files")

    def fit_one(path):
        decay = _read_one_decay(read_decay, path, args)
        fit = fit_decay(
            decay,
            args.model,
            drop_first=args.drop_first,
            n_bootstrap=args.n_bootstrap,
            confidence=args.confidence,
            random_state=args.seed,
        )
        row = {"n_echoes": fit.times.size}
        for name, value in fit.params.items():
            low, high = fit.intervals[name]
            row.update({name: value, f"{name}_low": low, f"{name}_high": high})
        return row

    files = expand_paths(args.files)
    table = run_batch(files, fit_one, quiet=args.quiet, leading={"model": args.model})
    print_table(table)
    if args.output is not None:
        table.to_csv(args.output, index=False)
        if not args.quiet:
            print(f"wrote {args.output}")
    failed = int((table["error"] != "").sum())
    return 1 if failed == len(table) else 0


def _read_one_decay(read_decay, path, args):
    """One decay, with the options that the file's format takes."""
    from ..io import guess_format

    format = args.format or guess_format(path)[0]
    options = {"method": args.method}
    if args.time_unit is not None and format in ("text", "numpy"):
        options["time_unit"] = args.time_unit
    if args.echo_time is not None:
        if format in ("tecmag", "spinsolve"):
            options["echo_time"] = args.echo_time
    return read_decay(path, format=format, **options)
