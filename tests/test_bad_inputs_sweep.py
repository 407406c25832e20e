"""A sweep of the newer surfaces as a new (and an unlucky) user would try them.

Sequences, relaxation, user kernels, lattices, readers and writers, the
resampler, the inference estimator, decay fits, physics fits and designs, the
study functions and the command line: every case that should end in an error
must raise a ValueError or TypeError (FileNotFoundError for a missing file)
whose message names the parameter, option or file at fault, before any
simulation starts. The cases that should work are checked for the right result
in the tests beside the modules; here they only must not raise.
"""

import math

import numpy as np
import pandas as pd
import pytest

from sknmr import EchoInference, EchoSimulator
from sknmr.decay import fit_decay
from sknmr.design import fisher_information, optimize_sequence
from sknmr.fitting import fit_echo
from sknmr.io import (
    EchoDecay,
    EchoResampler,
    MeasuredEcho,
    read_decay,
    read_echo,
    read_series,
    write_echo,
)
from sknmr.kernels import register_kernel, unregister_kernel
from sknmr.lattices import Lattice
from sknmr.sequences import Pulse, PulseSequence, cpmg, hahn_echo, stimulated_echo
from sknmr.study import (
    core_metrics,
    elbow_point,
    pca_kmeans_analysis,
    prepare_features,
    protocol_study,
    run_protocols,
)

ONE = {"kernel": "gaussian", "length": 3.0, "alpha_xy": 0.05, "alpha_z": 0.0}


pytestmark = pytest.mark.usefixtures("no_simulation")


def tiny(**kwargs):
    settings = {"lattice_size": 4, "tau": 1.0, "backend": "numpy"}
    return EchoSimulator(**{**settings, **kwargs})


def table(**changes):
    return {**ONE, **changes}


def decay(n=12, **metadata):
    times = np.arange(1, n + 1) * 2.0
    return EchoDecay(times, np.exp(-times / 10.0), metadata)


def echo(n=50):
    times = np.arange(n) * 0.1
    return MeasuredEcho(times, np.exp(-((times - 2.0) ** 2)), {})


@pytest.fixture
def files(tmp_path):
    """A folder of small files to read."""
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "words.txt").write_text("time signal\nabc def\nghi jkl\n")
    (tmp_path / "one.txt").write_text("1.0\n")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    np.savez(tmp_path / "nokeys.npz", whatever=np.arange(3))
    (tmp_path / "folder").mkdir()
    return tmp_path


X10 = np.zeros((1, 10))
_RNG = np.random.default_rng(0)
TRAIN = (
    _RNG.random((12, 20)),
    pd.DataFrame(
        {
            "W": _RNG.random(12),
            "L": _RNG.random(12),
            "alpha_xy": _RNG.random(12),
            "alpha_z": _RNG.random(12),
            "power": np.arange(12) % 2,
        }
    ),
)


def _calls(files):
    """(id, callable, exception types, regular expression) for every error case."""
    f = files
    VE = (ValueError, TypeError)
    return [
        # -- pulses and sequences ------------------------------------------------
        ("Pulse time=-1", lambda: Pulse(-1.0, 90.0), VE, "time"),
        ("Pulse time=nan", lambda: Pulse(math.nan, 90.0), VE, "time"),
        ("Pulse time='1'", lambda: Pulse("1", 90.0), VE, "time"),
        ("Pulse angle=inf", lambda: Pulse(0.0, math.inf), VE, "angle"),
        ("Pulse angle=None", lambda: Pulse(0.0, None), VE, "angle"),
        ("Pulse phase='w'", lambda: Pulse(0.0, 90.0, "w"), VE, "phase"),
        ("Pulse phase=None", lambda: Pulse(0.0, 90.0, None), VE, "phase"),
        ("Pulse phase=nan", lambda: Pulse(0.0, 90.0, math.nan), VE, "phase"),
        ("PulseSequence no pulses", lambda: PulseSequence((), 10.0), VE, "pulses"),
        (
            "PulseSequence pulses of tuples",
            lambda: PulseSequence(((0.0, 90.0),), 10.0),
            VE,
            "pulses",
        ),
        (
            "PulseSequence duration before the last pulse",
            lambda: PulseSequence((Pulse(0, 90), Pulse(5, 180)), 4.0),
            VE,
            "duration",
        ),
        (
            "PulseSequence duration=nan",
            lambda: PulseSequence((Pulse(0, 90),), math.nan),
            VE,
            "duration",
        ),
        (
            "PulseSequence echo before the first pulse",
            lambda: PulseSequence((Pulse(1, 90), Pulse(2, 180)), 5.0, (0.5,)),
            VE,
            "echo_times",
        ),
        (
            "PulseSequence echo after the duration",
            lambda: PulseSequence((Pulse(0, 90), Pulse(2, 180)), 5.0, (6.0,)),
            VE,
            "echo_times",
        ),
        (
            "PulseSequence echo_times='4'",
            lambda: PulseSequence((Pulse(0, 90), Pulse(2, 180)), 5.0, "4"),
            VE,
            "echo_times",
        ),
        ("cpmg tau=0", lambda: cpmg(0.0, 4), VE, "tau"),
        ("cpmg n_echoes=0", lambda: cpmg(1.0, 0), VE, "n_echoes"),
        ("cpmg n_echoes=2.5", lambda: cpmg(1.0, 2.5), VE, "n_echoes"),
        ("cpmg n_echoes='4'", lambda: cpmg(1.0, "4"), VE, "n_echoes"),
        (
            "cpmg refocus_phase='q'",
            lambda: cpmg(1.0, 2, refocus_phase="q"),
            VE,
            "phase",
        ),
        ("hahn_echo tau=-1", lambda: hahn_echo(-1.0), VE, "tau"),
        ("hahn_echo angle=nan", lambda: hahn_echo(1.0, angle=math.nan), VE, "angle"),
        (
            "hahn_echo duration shorter than the echo",
            lambda: hahn_echo(2.0, duration=3.0),
            VE,
            "duration",
        ),
        ("stimulated mixing=-1", lambda: stimulated_echo(1.0, -1.0), VE, "mixing_time"),
        ("stimulated tau=0", lambda: stimulated_echo(0.0, 1.0), VE, "tau"),
        ("grid dt=0", lambda: hahn_echo(1.0).grid(0.0), VE, "dt"),
        ("grid dt=nan", lambda: hahn_echo(1.0).grid(math.nan), VE, "dt"),
        ("grid dt='0.1'", lambda: hahn_echo(1.0).grid("0.1"), VE, "dt"),
        ("grid dt above tau", lambda: hahn_echo(1.0).grid(5.0), VE, "dt"),
        (
            "simulator sequence='hahn'",
            lambda: tiny(sequence="hahn").simulate(ONE),
            VE,
            "sequence",
        ),
        # -- relaxation ------------------------------------------------------------
        ("t1=-1", lambda: tiny(t1=-1.0).simulate(ONE), VE, "t1"),
        ("t2=0", lambda: tiny(t2=0.0).simulate(ONE), VE, "t2"),
        ("t1=nan", lambda: tiny(t1=math.nan).simulate(ONE), VE, "t1"),
        ("t2='10'", lambda: tiny(t2="10").simulate(ONE), VE, "t2"),
        ("t2 above 2 t1", lambda: tiny(t1=1.0, t2=5.0).simulate(ONE), VE, "t2"),
        ("table t1=-1", lambda: tiny().simulate(table(t1=-1.0)), VE, "t1"),
        ("table t2='a'", lambda: tiny().simulate(table(t2="a")), VE, "t2"),
        (
            "table linewidth=-1",
            lambda: tiny().simulate(table(linewidth=-1.0)),
            VE,
            "linewidth",
        ),
        (
            "dephasing_rate=nan",
            lambda: tiny(dephasing_rate=math.nan).simulate(ONE),
            VE,
            "dephasing_rate",
        ),
        (
            "line_shape='voigt'",
            lambda: tiny(line_shape="voigt").simulate(ONE),
            VE,
            "line_shape",
        ),
        # -- user kernels -----------------------------------------------------------
        ("register name=3", lambda: register_kernel(3, lambda r: r), VE, "name"),
        ("register name=''", lambda: register_kernel("", lambda r: r), VE, "name"),
        (
            "register a built-in",
            lambda: register_kernel("gaussian", lambda r: r),
            VE,
            "gaussian",
        ),
        ("register function=3", lambda: register_kernel("k_sweep", 3), VE, "function"),
        (
            "register parameters not a mapping",
            lambda: register_kernel("k_sweep", lambda r: r, parameters=["a"]),
            VE,
            "parameters",
        ),
        (
            "register parameter default 'a'",
            lambda: register_kernel("k_sweep", lambda r: r, parameters={"a": "x"}),
            VE,
            "a",
        ),
        (
            "register reserved parameter 'W'",
            lambda: register_kernel("k_sweep", lambda r: r, parameters={"W": 1.0}),
            VE,
            "W",
        ),
        ("unregister unknown", lambda: unregister_kernel("k_never"), VE, "k_never"),
        # -- lattices ----------------------------------------------------------------
        ("Lattice collinear", lambda: Lattice([[1, 0], [2, 0]], (4, 4)), VE, "vectors"),
        (
            "Lattice shape too short",
            lambda: Lattice([[1, 0], [0, 1]], (4,)),
            VE,
            "shape",
        ),
        ("Lattice shape 0", lambda: Lattice([[1, 0], [0, 1]], (0, 4)), VE, "shape"),
        ("Lattice shape 2.5", lambda: Lattice([[1, 0], [0, 1]], (2.5, 4)), VE, "shape"),
        (
            "Lattice vectors nan",
            lambda: Lattice([[1, math.nan], [0, 1]], (4, 4)),
            VE,
            "vectors",
        ),
        ("Lattice 4 vectors", lambda: Lattice(np.eye(4), (2, 2, 2, 2)), VE, "vectors"),
        ("Lattice.from_name('hex')", lambda: Lattice.from_name("hex", 4), VE, "hex"),
        ("Lattice.tetragonal c=0", lambda: Lattice.tetragonal(4, 2, 0.0), VE, "c"),
        (
            "Lattice.rectangular ratio=-1",
            lambda: Lattice.rectangular(4, 4, -1.0),
            VE,
            "ratio",
        ),
        (
            "simulator lattice='hex'",
            lambda: tiny(lattice="hex").simulate(ONE),
            VE,
            "lattice",
        ),
        ("simulator lattice=3", lambda: tiny(lattice=3).simulate(ONE), VE, "lattice"),
        # -- readers and writers -------------------------------------------------------
        (
            "read_echo missing file",
            lambda: read_echo(f / "none.txt"),
            (FileNotFoundError,),
            "none.txt",
        ),
        ("read_echo empty file", lambda: read_echo(f / "empty.txt"), VE, "empty.txt"),
        ("read_echo words", lambda: read_echo(f / "words.txt"), VE, "words.txt"),
        ("read_echo one sample", lambda: read_echo(f / "one.txt"), VE, "one.txt"),
        (
            "read_echo pickled npy",
            lambda: read_echo(f / "objects.npy"),
            VE,
            "objects.npy",
        ),
        (
            "read_echo npz without keys",
            lambda: read_echo(f / "nokeys.npz"),
            VE,
            "nokeys.npz",
        ),
        (
            "read_echo format='abc'",
            lambda: read_echo(f / "one.txt", format="abc"),
            VE,
            "format",
        ),
        ("read_echo an empty folder", lambda: read_echo(f / "folder"), VE, "folder"),
        (
            "read_series empty file",
            lambda: read_series(f / "empty.txt"),
            VE,
            "empty.txt",
        ),
        ("read_decay words", lambda: read_decay(f / "words.txt"), VE, "words.txt"),
        (
            "read_decay method='x'",
            lambda: read_decay(f / "one.txt", method="x"),
            VE,
            "method",
        ),
        (
            "write_echo into a missing folder",
            lambda: write_echo(echo(), f / "missing" / "e.txt"),
            (ValueError, OSError),
            "missing",
        ),
        (
            "write_echo format='abc'",
            lambda: write_echo(echo(), f / "e.abc"),
            VE,
            "format|abc",
        ),
        (
            "write_echo not an echo",
            lambda: write_echo([1, 2, 3], f / "e.txt"),
            VE,
            "echo",
        ),
        (
            "MeasuredEcho times of another length",
            lambda: MeasuredEcho(np.arange(3.0), np.arange(4.0)),
            VE,
            "times|signal",
        ),
        (
            "MeasuredEcho unsorted times",
            lambda: MeasuredEcho(np.array([0.0, 2.0, 1.0]), np.arange(3.0)),
            VE,
            "times",
        ),
        (
            "EchoDecay nan amplitude",
            lambda: EchoDecay(np.arange(1.0, 4.0), np.array([1.0, math.nan, 0.5])),
            VE,
            "amplitudes",
        ),
        # -- the resampler -------------------------------------------------------------
        ("EchoResampler dt=0", lambda: EchoResampler(dt=0.0).fit(X10), VE, "dt"),
        (
            "EchoResampler n_times=0",
            lambda: EchoResampler(dt=0.1, n_times=0).fit(X10),
            VE,
            "n_times",
        ),
        (
            "EchoResampler n_times=2.5",
            lambda: EchoResampler(dt=0.1, n_times=2.5).fit(X10),
            VE,
            "n_times",
        ),
        (
            "EchoResampler align='top'",
            lambda: EchoResampler(dt=0.1, n_times=10, align="top").fit(X10),
            VE,
            "align",
        ),
        (
            "EchoResampler phase='x'",
            lambda: EchoResampler(dt=0.1, n_times=10, phase="x").fit(X10),
            VE,
            "phase",
        ),
        (
            "EchoResampler output='bad'",
            lambda: EchoResampler(dt=0.1, n_times=10, output="bad").fit(X10),
            VE,
            "output",
        ),
        (
            "EchoResampler missing='drop'",
            lambda: EchoResampler(dt=0.1, n_times=10, missing="drop").fit(X10),
            VE,
            "missing",
        ),
        (
            "EchoResampler normalize='max'",
            lambda: EchoResampler(dt=0.1, n_times=10, normalize="max").fit(X10),
            VE,
            "normalize",
        ),
        (
            "EchoResampler times with nan",
            lambda: EchoResampler(times=[0.0, math.nan, 0.2]).fit(X10),
            VE,
            "times",
        ),
        (
            "EchoResampler unsorted times",
            lambda: EchoResampler(times=[0.0, 0.2, 0.1]).fit(X10),
            VE,
            "times",
        ),
        (
            "EchoResampler dead_time=-1",
            lambda: EchoResampler(dt=0.1, n_times=10, dead_time=-1.0).fit(X10),
            VE,
            "dead_time",
        ),
        (
            "EchoResampler echo_time=-1",
            lambda: EchoResampler(dt=0.1, n_times=10, echo_time=-1.0).fit(X10),
            VE,
            "echo_time",
        ),
        (
            "EchoResampler search_window=-1",
            lambda: EchoResampler(dt=0.1, n_times=10, search_window=-1.0).fit(X10),
            VE,
            "search_window",
        ),
        # -- the inference estimator (refused before any training) --------------------
        (
            "EchoInference targets=('nope',)",
            lambda: EchoInference(targets=("nope",)).fit(*TRAIN),
            VE,
            "targets|nope",
        ),
        (
            "EchoInference targets=()",
            lambda: EchoInference(targets=()).fit(*TRAIN),
            VE,
            "targets",
        ),
        (
            "EchoInference confidence=0",
            lambda: EchoInference(confidence=0).fit(None),
            VE,
            "confidence",
        ),
        (
            "EchoInference confidence=1.5",
            lambda: EchoInference(confidence=1.5).fit(None),
            VE,
            "confidence",
        ),
        (
            "EchoInference confidence='0.9'",
            lambda: EchoInference(confidence="0.9").fit(None),
            VE,
            "confidence",
        ),
        (
            "EchoInference interval_method='x'",
            lambda: EchoInference(interval_method="x").fit(None),
            VE,
            "interval_method",
        ),
        (
            "EchoInference conformity_score='x'",
            lambda: EchoInference(conformity_score="x").fit(None),
            VE,
            "conformity_score",
        ),
        (
            "EchoInference fit(None)",
            lambda: EchoInference().fit(None),
            VE,
            "Bunch|X|echoes",
        ),
        (
            "EchoInference fit({})",
            lambda: EchoInference().fit({}),
            VE,
            "Bunch|X|echoes",
        ),
        (
            "EchoInference predict before fit",
            lambda: EchoInference().predict(np.zeros((1, 10))),
            VE,
            "fit",
        ),
        # -- decay fits ---------------------------------------------------------
        ("fit_decay model='nope'", lambda: fit_decay(decay(), "nope"), VE, "model"),
        (
            "fit_decay n_bootstrap=0",
            lambda: fit_decay(decay(), n_bootstrap=0),
            VE,
            "n_bootstrap",
        ),
        (
            "fit_decay n_bootstrap=2.5",
            lambda: fit_decay(decay(), n_bootstrap=2.5),
            VE,
            "n_bootstrap",
        ),
        (
            "fit_decay confidence=1",
            lambda: fit_decay(decay(), confidence=1.0),
            VE,
            "confidence",
        ),
        (
            "fit_decay drop_first=20",
            lambda: fit_decay(decay(), drop_first=20),
            VE,
            "drop_first",
        ),
        (
            "fit_decay drop_first=-1",
            lambda: fit_decay(decay(), drop_first=-1),
            VE,
            "drop_first",
        ),
        ("fit_decay two points", lambda: fit_decay(decay(2)), VE, "echoes"),
        (
            "fit_decay biexponential on four points",
            lambda: fit_decay(decay(4), "biexponential"),
            VE,
            "echoes",
        ),
        ("fit_decay a list", lambda: fit_decay([1.0, 0.5, 0.25]), VE, "decay"),
        # -- physics fits and designs --------------------------------------------------
        (
            "fit_echo parameters=('nope',)",
            lambda: fit_echo(np.zeros(20), tiny(), parameters=("nope",)),
            VE,
            "parameters|nope",
        ),
        (
            "fit_echo kernel='nope'",
            lambda: fit_echo(np.zeros(20), tiny(), "nope"),
            VE,
            "kernel",
        ),
        (
            "fit_echo echo on another grid",
            lambda: fit_echo(np.zeros(7), tiny()),
            VE,
            "echo|samples|grid",
        ),
        (
            "fit_echo confidence=0",
            lambda: fit_echo(np.zeros(20), tiny(), confidence=0.0),
            VE,
            "confidence",
        ),
        (
            "fit_echo detection='x'",
            lambda: fit_echo(np.zeros(20), tiny(), detection="x"),
            VE,
            "detection",
        ),
        (
            "fisher_information of the kernel class",
            lambda: fisher_information(tiny(), ONE, parameters=("kernel",)),
            VE,
            "parameters|kernel",
        ),
        (
            "optimize_sequence n_pulses=0",
            lambda: optimize_sequence(tiny(), n_pulses=0),
            VE,
            "n_pulses",
        ),
        (
            "optimize_sequence limits that allow no sequence",
            lambda: optimize_sequence(tiny(), n_pulses=3, duration=1.0, min_delay=2.0),
            VE,
            "min_delay|duration",
        ),
        (
            "optimize_sequence angle_range reversed",
            lambda: optimize_sequence(tiny(), angle_range=(270.0, 10.0)),
            VE,
            "angle_range",
        ),
        # -- the study functions ------------------------------------------------------
        ("prepare_features(None)", lambda: prepare_features(None), VE, "dataset"),
        ("prepare_features({})", lambda: prepare_features({}), VE, "dataset"),
        ("core_metrics(None)", lambda: core_metrics(None), VE, "dataset"),
        ("elbow_point([], [])", lambda: elbow_point([], []), VE, "ks|sse"),
        (
            "elbow_point unequal",
            lambda: elbow_point([1, 2, 3], [1.0, 2.0]),
            VE,
            "ks|sse",
        ),
        (
            "pca_kmeans_analysis max_clusters=0",
            lambda: pca_kmeans_analysis(
                np.zeros((10, 3)), pd.DataFrame({"W": np.arange(10.0)}), max_clusters=0
            ),
            VE,
            "max_clusters",
        ),
        ("protocol_study(None)", lambda: protocol_study(None), VE, "data"),
        (
            "run_protocols preset='nope'",
            lambda: run_protocols(f / "out_p", preset="nope"),
            VE,
            "preset",
        ),
        ("run_protocols cv=1", lambda: run_protocols(f / "out_cv", cv=1), VE, "cv"),
        (
            "run_protocols output is a file",
            lambda: run_protocols(f / "one.txt"),
            VE,
            "output|one.txt",
        ),
    ]


CASE_IDS = [case[0] for case in _calls(__import__("pathlib").Path("."))]


@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
def test_bad_input_gets_a_clear_error(files, index):
    name, call, errors, match = _calls(files)[index]
    with pytest.raises(errors, match=match):
        call()


# -- the command line: exit status 2, one line naming the option, nothing left ----
ECHO = "{tmp}/echo.txt"
MODEL = "{tmp}/model.skops"
PRESENT = "{tmp}/present.skops"  # a file, not read before the options are checked
CLI_CASES = [
    ("infer without --model", ["infer", ECHO], "--model"),
    (
        "infer --model missing",
        ["infer", ECHO, "--model", "{tmp}/none.skops"],
        "--model|none.skops",
    ),
    (
        "infer --train --confidence 2",
        ["infer", "--train", "--model", MODEL, "--confidence", "2"],
        "--confidence",
    ),
    (
        "infer --train --confidence 1e-9",
        ["infer", "--train", "--model", MODEL, "--confidence", "1e-9"],
        "--confidence",
    ),
    (
        "infer --train --lattice hex",
        ["infer", "--train", "--model", MODEL, "--lattice", "hex"],
        "--lattice",
    ),
    (
        "infer --train --n-per-kernel 0",
        ["infer", "--train", "--model", MODEL, "--n-per-kernel", "0"],
        "--n-per-kernel",
    ),
    (
        "infer --train --linewidth reversed",
        ["infer", "--train", "--model", MODEL, "--linewidth", "0.2", "0.02"],
        "--linewidth",
    ),
    (
        "infer --train --dt 0",
        ["infer", "--train", "--model", MODEL, "--dt", "0"],
        "--dt",
    ),
    (
        "infer --train --snr -1",
        ["infer", "--train", "--model", MODEL, "--snr", "-1"],
        "--snr",
    ),
    (
        "infer --align top",
        ["infer", ECHO, "--model", MODEL, "--align", "top"],
        "--align",
    ),
    (
        "infer --normalize mean",
        ["infer", ECHO, "--model", MODEL, "--normalize", "mean"],
        "--normalize",
    ),
    (
        "infer --time-offset nan",
        ["infer", ECHO, "--model", PRESENT, "--time-offset", "nan"],
        "--time-offset",
    ),
    (
        "infer --format abc",
        ["infer", ECHO, "--model", MODEL, "--format", "abc"],
        "--format",
    ),
    (
        "infer --output unwritable",
        ["infer", ECHO, "--model", PRESENT, "--output", "/proc/sknmr_out"],
        "--output",
    ),
    (
        "protocols --n-jobs 0",
        ["protocols", "--output", "{tmp}/p", "--n-jobs", "0"],
        "--n-jobs",
    ),
    (
        "protocols --seed -1",
        ["protocols", "--output", "{tmp}/p", "--seed", "-1"],
        "--seed",
    ),
    (
        "protocols --output unwritable",
        ["protocols", "--output", "/proc/sknmr_p"],
        "--output",
    ),
    (
        "protocols --cache unwritable",
        ["protocols", "--output", "{tmp}/p", "--cache", "/proc/sknmr_c"],
        "--cache",
    ),
    ("protocols --quick --full", ["protocols", "--quick", "--full"], "--quick|--full"),
    ("fit --kernels cubic", ["fit", ECHO, "--kernels", "cubic"], "--kernels"),
    ("fit --parameters nope", ["fit", ECHO, "--parameters", "nope"], "--parameters"),
    ("fit --fixed without a value", ["fit", ECHO, "--fixed", "length"], "--fixed"),
    ("fit --fixed length=abc", ["fit", ECHO, "--fixed", "length=abc"], "--fixed"),
    ("fit --detection x", ["fit", ECHO, "--detection", "x"], "--detection"),
    ("fit --confidence 0", ["fit", ECHO, "--confidence", "0"], "--confidence"),
    ("fit --lattice-size 1", ["fit", ECHO, "--lattice-size", "1"], "--lattice-size"),
    ("fit --tau 0", ["fit", ECHO, "--tau", "0"], "--tau"),
    ("fit --lattice hex", ["fit", ECHO, "--lattice", "hex"], "--lattice"),
    ("fit --interval exact", ["fit", ECHO, "--interval", "exact"], "--interval"),
    ("decay --model nope", ["decay", ECHO, "--model", "nope"], "--model"),
    ("decay --drop-first -1", ["decay", ECHO, "--drop-first", "-1"], "--drop-first"),
    ("decay --method x", ["decay", ECHO, "--method", "x"], "--method"),
    ("decay --time-unit min", ["decay", ECHO, "--time-unit", "min"], "--time-unit"),
    ("decay --n-bootstrap 5", ["decay", ECHO, "--n-bootstrap", "5"], "--n-bootstrap"),
    ("decay --confidence 1", ["decay", ECHO, "--confidence", "1"], "--confidence"),
    ("decay --echo-time -1", ["decay", ECHO, "--echo-time", "-1"], "--echo-time"),
]


@pytest.mark.parametrize(
    "argv, match", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_bad_command_line_is_one_line_exit_2(
    tmp_path, refused_command_line, argv, match
):
    times = np.arange(40) * 0.5
    np.savetxt(tmp_path / "echo.txt", np.c_[times, np.exp(-((times - 8.0) ** 2))])
    (tmp_path / "present.skops").write_bytes(b"not read")
    refused_command_line(argv, match)
