"""Every bad input a new user is likely to try, sent to the public entry points.

Each case must raise a ValueError or TypeError whose message names the
parameter (or option, or file) at fault, and must do so before any simulation
starts: the backends are replaced by functions that fail the test if called.
Command-line cases must exit with status 2 and a one-line message naming the
option, leaving nothing behind.
"""

import math

import numpy as np
import pandas as pd
import pytest

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer
from sknmr.datasets import make_echoes
from sknmr.prior import sample_prior

pytestmark = pytest.mark.usefixtures("no_simulation")


ONE = {"kernel": "gaussian", "length": 3.0, "alpha_xy": 0.05, "alpha_z": 0.0}


def tiny(**kwargs):
    settings = {"lattice_size": 4, "tau": 1.0, "backend": "numpy"}
    return EchoSimulator(**{**settings, **kwargs})


def table(**changes):
    return {**ONE, **changes}


# (id, call, regular expression the message must match: the parameter's name)
CASES = [
    # -- EchoSimulator settings ------------------------------------------------
    ("lattice_size=1", lambda: tiny(lattice_size=1).simulate(ONE), "lattice_size"),
    ("lattice_size=2.5", lambda: tiny(lattice_size=2.5).simulate(ONE), "lattice_size"),
    (
        "lattice_size=10**6",
        lambda: tiny(lattice_size=10**6).simulate(ONE),
        "lattice_size",
    ),
    ("dt=0", lambda: tiny(dt=0.0).simulate(ONE), "dt"),
    ("dt=-1", lambda: tiny(dt=-1.0).simulate(ONE), "dt"),
    ("dt=nan", lambda: tiny(dt=math.nan).simulate(ONE), "dt"),
    ("dt>=tau", lambda: tiny(dt=2.0).simulate(ONE), "dt must be smaller than tau"),
    (
        "dt=1e-7 tau=10 (3e8 samples each)",
        lambda: tiny(dt=1e-7, tau=10.0).simulate({k: [v] * 3 for k, v in ONE.items()}),
        "tau / dt",
    ),
    ("tau=inf", lambda: tiny(tau=math.inf).simulate(ONE), "tau"),
    ("tau='100'", lambda: tiny(tau="100").simulate(ONE), "tau"),
    ("linewidth=0", lambda: tiny(linewidth=0.0).simulate(ONE), "linewidth"),
    ("linewidth=inf", lambda: tiny(linewidth=math.inf).simulate(ONE), "linewidth"),
    ("cutoff=-1", lambda: tiny(cutoff=-1.0).simulate(ONE), "cutoff"),
    ("pulse_angle=0", lambda: tiny(pulse_angle=0.0).simulate(ONE), "pulse_angle"),
    ("pulse_angle=270", lambda: tiny(pulse_angle=270.0).simulate(ONE), "pulse_angle"),
    ("refocus_axis='z'", lambda: tiny(refocus_axis="z").simulate(ONE), "refocus_axis"),
    (
        "dephasing_rate=-1",
        lambda: tiny(dephasing_rate=-1.0).simulate(ONE),
        "dephasing_rate",
    ),
    ("output='phase'", lambda: tiny(output="phase").simulate(ONE), "output"),
    ("backend='gpu'", lambda: tiny(backend="gpu").simulate(ONE), "backend"),
    ("dtype='float16'", lambda: tiny(dtype="float16").simulate(ONE), "dtype"),
    ("batch_size=0", lambda: tiny(batch_size=0).simulate(ONE), "batch_size"),
    ("n_jobs=0", lambda: tiny(n_jobs=0).simulate(ONE), "n_jobs"),
    ("n_jobs=-1000", lambda: tiny(n_jobs=-1000).simulate(ONE), "n_jobs"),
    ("n_jobs=1.5", lambda: tiny(n_jobs=1.5).simulate(ONE), "n_jobs"),
    ("random_state=-1", lambda: tiny(random_state=-1).simulate(ONE), "random_state"),
    ("random_state='0'", lambda: tiny(random_state="0").simulate(ONE), "random_state"),
    (
        "random_state=2**40",
        lambda: tiny(random_state=2**40).simulate(ONE),
        "random_state",
    ),
    ("verbose=-1", lambda: tiny(verbose=-1).simulate(ONE), "verbose"),
    # -- parameter tables ------------------------------------------------------
    ("params=list", lambda: tiny().simulate([ONE]), "params"),
    (
        "params missing column",
        lambda: tiny().simulate({k: v for k, v in ONE.items() if k != "alpha_z"}),
        "alpha_z",
    ),
    ("params extra column", lambda: tiny().simulate(table(W=0.1)), "extra"),
    ("params 0 rows", lambda: tiny().simulate({k: [] for k in ONE}), "no echo"),
    (
        "params unequal columns",
        lambda: tiny().simulate({**{k: [v] for k, v in ONE.items()}, "length": [1, 2]}),
        "equal length",
    ),
    ("kernel='cubic'", lambda: tiny().simulate(table(kernel="cubic")), "kernel"),
    ("kernel=0 in a mapping", lambda: tiny().simulate(table(kernel=0)), "kernel"),
    ("length='2.0'", lambda: tiny().simulate(table(length="2.0")), "length"),
    ("length=nan", lambda: tiny().simulate(table(length=math.nan)), "length"),
    ("length=0 gaussian", lambda: tiny().simulate(table(length=0.0)), "length|xi"),
    (
        "length=-1 power",
        lambda: tiny().simulate(table(kernel="power", length=-1.0)),
        "length|p",
    ),
    ("alpha_xy=True", lambda: tiny().simulate(table(alpha_xy=True)), "alpha_xy"),
    ("alpha_xy=-0.1", lambda: tiny().simulate(table(alpha_xy=-0.1)), "alpha_xy"),
    ("alpha_xy=0.1+1j", lambda: tiny().simulate(table(alpha_xy=0.1 + 1j)), "alpha_xy"),
    (
        "alpha_xy=1e300 (NaN echo)",
        lambda: tiny().simulate(table(alpha_xy=1e300)),
        "alpha_xy.*usable range",
    ),
    ("alpha_z=inf", lambda: tiny().simulate(table(alpha_z=math.inf)), "alpha_z"),
    ("alpha_z=None", lambda: tiny().simulate(table(alpha_z=None)), "alpha_z"),
    (
        "echo_ids wrong length",
        lambda: tiny().simulate(ONE, echo_ids=[0, 1]),
        "echo_ids",
    ),
    ("echo_ids negative", lambda: tiny().simulate(ONE, echo_ids=[-1]), "echo_ids"),
    ("echo_ids float", lambda: tiny().simulate(ONE, echo_ids=[0.5]), "echo_ids"),
    # -- transform / fit --------------------------------------------------------
    ("transform 3 columns", lambda: tiny().transform(np.zeros((2, 3))), "4 columns"),
    (
        "transform kernel code 7",
        lambda: tiny().transform(np.array([[7, 3.0, 0.05, 0.0]])),
        "kernel",
    ),
    (
        "transform nan",
        lambda: tiny().transform(np.array([[0, math.nan, 0.05, 0]])),
        "NaN|length",
    ),
    (
        "fit frame extra column",
        lambda: tiny().fit(pd.DataFrame([table(W=0.1)])),
        "extra columns",
    ),
    (
        "fit frame kernel code 5",
        lambda: tiny().fit(pd.DataFrame([table(kernel=5)])),
        "kernel",
    ),
    # -- sample -----------------------------------------------------------------
    ("sample(0)", lambda: tiny().sample(0), "n_samples"),
    ("sample(True)", lambda: tiny().sample(True), "n_samples"),
    ("sample(2.5)", lambda: tiny().sample(2.5), "n_samples"),
    ("sample(10**9)", lambda: EchoSimulator().sample(10**9), "number of echoes"),
    (
        "sample random_state=-1",
        lambda: tiny().sample(3, random_state=-1),
        "random_state",
    ),
    (
        "sample random_state='a'",
        lambda: tiny().sample(3, random_state="a"),
        "random_state",
    ),
    (
        "sample kernels=('cubic',)",
        lambda: tiny().sample(3, kernels=("cubic",)),
        "kernels",
    ),
    ("sample unknown prior setting", lambda: tiny().sample(3, alpha=(0, 1)), "alpha"),
    ("sample W=(0.2, 0.2)", lambda: tiny().sample(3, W=(0.2, 0.2)), "W"),
    # -- the prior --------------------------------------------------------------
    ("sample_prior n=0", lambda: sample_prior(0), "n_samples"),
    ("sample_prior n=True", lambda: sample_prior(True), "n_samples"),
    ("sample_prior kernels=()", lambda: sample_prior(3, ()), "kernels"),
    ("sample_prior kernels=('cubic',)", lambda: sample_prior(3, ("cubic",)), "kernels"),
    (
        "sample_prior kernels repeat",
        lambda: sample_prior(3, ("power", "power")),
        "kernels",
    ),
    (
        "sample_prior W=(0.5, 0.6) unreachable",
        lambda: sample_prior(3, W=(0.5, 0.6)),
        "W",
    ),
    (
        "sample_prior W=(0.2, 0.2)",
        lambda: sample_prior(3, W=(0.2, 0.2)),
        "W must be a window with low < high",
    ),
    ("sample_prior W=(0.3, 0.1)", lambda: sample_prior(3, W=(0.3, 0.1)), "W"),
    ("sample_prior W=0.2", lambda: sample_prior(3, W=0.2), "W"),
    ("sample_prior W=('a', 'b')", lambda: sample_prior(3, W=("a", "b")), "W"),
    (
        "sample_prior alpha_xy=(0.2, 0.1)",
        lambda: sample_prior(3, alpha_xy=(0.2, 0.1)),
        "alpha_xy",
    ),
    (
        "sample_prior alpha_z=(-0.1, 0.1)",
        lambda: sample_prior(3, alpha_z=(-0.1, 0.1)),
        "alpha_z",
    ),
    (
        "sample_prior alpha_z=(0, inf)",
        lambda: sample_prior(3, alpha_z=(0, math.inf)),
        "alpha_z",
    ),
    (
        "sample_prior lengths gaussian (0, 1)",
        lambda: sample_prior(3, lengths={"gaussian": (0.0, 1.0)}),
        "lengths",
    ),
    (
        "sample_prior lengths cubic",
        lambda: sample_prior(3, lengths={"cubic": (1.0, 2.0)}),
        "lengths",
    ),
    ("sample_prior lengths=[1, 2]", lambda: sample_prior(3, lengths=[1, 2]), "lengths"),
    (
        "sample_prior lattice_size=1",
        lambda: sample_prior(3, lattice_size=1),
        "lattice_size",
    ),
    (
        "sample_prior random_state=-1",
        lambda: sample_prior(3, random_state=-1),
        "random_state",
    ),
    ("sample_prior n=10**12", lambda: sample_prior(10**12), "n_samples"),
    # -- make_echoes --------------------------------------------------------------
    (
        "make_echoes n_per_kernel=0",
        lambda: make_echoes(0, simulator=tiny()),
        "n_per_kernel",
    ),
    (
        "make_echoes n_per_kernel=True",
        lambda: make_echoes(True, simulator=tiny()),
        "n_per_kernel",
    ),
    (
        "make_echoes n_per_kernel=2.0",
        lambda: make_echoes(2.0, simulator=tiny()),
        "n_per_kernel",
    ),
    (
        "make_echoes n_samples=0",
        lambda: make_echoes(n_samples=0, simulator=tiny()),
        "n_samples",
    ),
    (
        "make_echoes both counts",
        lambda: make_echoes(2, n_samples=6, simulator=tiny()),
        "at most one",
    ),
    ("make_echoes 10**8 per kernel", lambda: make_echoes(10**8), "n_per_kernel"),
    (
        "make_echoes kernels='cubic'",
        lambda: make_echoes(1, kernels="cubic", simulator=tiny()),
        "kernels",
    ),
    ("make_echoes simulator=dict", lambda: make_echoes(1, simulator={}), "simulator"),
    (
        "make_echoes bad simulator setting",
        lambda: make_echoes(1, simulator=tiny(lattice_size=1)),
        "lattice_size. parameter of EchoSimulator",
    ),
    (
        "make_echoes W=(0.2, 0.2)",
        lambda: make_echoes(1, simulator=tiny(), W=(0.2, 0.2)),
        "W",
    ),
    (
        "make_echoes alpha_xy=(1, 0)",
        lambda: make_echoes(1, simulator=tiny(), alpha_xy=(1, 0)),
        "alpha_xy",
    ),
    (
        "make_echoes lengths={'power': (-1, 1)}",
        lambda: make_echoes(1, simulator=tiny(), lengths={"power": (-1, 1)}),
        "lengths",
    ),
    (
        "make_echoes random_state=-1",
        lambda: make_echoes(1, simulator=tiny(), random_state=-1),
        "random_state",
    ),
    (
        "make_echoes n_jobs=0",
        lambda: make_echoes(1, simulator=tiny(), n_jobs=0),
        "n_jobs",
    ),
    (
        "make_echoes n_jobs=-1000",
        lambda: make_echoes(1, simulator=tiny(), n_jobs=-1000),
        "n_jobs",
    ),
    (
        "make_echoes chunk_size=0",
        lambda: make_echoes(1, simulator=tiny(), chunk_size=0),
        "chunk_size",
    ),
    (
        "make_echoes memory=3",
        lambda: make_echoes(1, simulator=tiny(), memory=3),
        "memory",
    ),
    (
        "make_echoes memory=unwritable",
        lambda: make_echoes(1, simulator=tiny(), memory="/proc/sknmr_cache"),
        "memory",
    ),
    (
        "make_echoes verbose=-1",
        lambda: make_echoes(1, simulator=tiny(), verbose=-1),
        "verbose",
    ),
    (
        "make_echoes return_X_y='yes'",
        lambda: make_echoes(1, simulator=tiny(), return_X_y="yes"),
        "return_X_y",
    ),
    # -- featurizers ----------------------------------------------------------------
    (
        "EchoWindow center=nan",
        lambda: EchoWindow(center=math.nan).fit(np.zeros((2, 1884))),
        "center",
    ),
    (
        "EchoWindow center=inf",
        lambda: EchoWindow(center=math.inf).fit(np.zeros((2, 1884))),
        "center",
    ),
    (
        "EchoWindow half_width=0",
        lambda: EchoWindow(half_width=0.0).fit(np.zeros((2, 1884))),
        "half_width",
    ),
    (
        "EchoWindow outside the series",
        lambda: EchoWindow(center=500.0).fit(np.zeros((2, 1884))),
        "center",
    ),
    (
        "EchoWindow dt and times",
        lambda: EchoWindow(dt=0.1, times=np.arange(10.0)).fit(np.zeros((2, 10))),
        "dt or times",
    ),
    (
        "EchoWindow times wrong length",
        lambda: EchoWindow(times=np.arange(5.0)).fit(np.zeros((2, 10))),
        "times",
    ),
    ("EchoWindow 1-D X", lambda: EchoWindow().fit(np.zeros(1884)), "2D|2-D|X"),
    (
        "PolynomialSectionFeaturizer sections=(0,)",
        lambda: PolynomialSectionFeaturizer(sections=(0,)).fit(np.zeros((2, 40))),
        "sections",
    ),
    (
        "PolynomialSectionFeaturizer sections too many",
        lambda: PolynomialSectionFeaturizer(sections=(50,)).fit(np.zeros((2, 40))),
        "sections",
    ),
    (
        "PolynomialSectionFeaturizer degree=-1",
        lambda: PolynomialSectionFeaturizer(degree=-1).fit(np.zeros((2, 40))),
        "degree",
    ),
]


@pytest.mark.parametrize(
    "call, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_clearly_before_any_work(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# -- files ------------------------------------------------------------------------
def _bad_files(folder):
    """Files load_echoes must refuse, each with the words its message must hold."""
    import zipfile

    from sknmr.datasets import save_echoes

    good = folder / "good.npz"
    data = make_echoes(1, simulator=tiny(), random_state=0)
    # make_echoes ran the (patched) backend: it is only used here, for a file.
    save_echoes(data, good)
    with np.load(good) as f:
        arrays = {k: f[k] for k in f.files}
    files = {}

    def variant(name, **changes):
        path = folder / f"{name}.npz"
        content = {**arrays, **changes}
        np.savez(path, **{k: v for k, v in content.items() if v is not None})
        files[name] = path

    variant("data 1-D", data=arrays["data"][0])
    variant("times too short", times=arrays["times"][:-1])
    variant("feature_names too short", feature_names=arrays["feature_names"][:-1])
    variant("echo_ids too long", echo_ids=np.r_[arrays["echo_ids"], 7])
    variant("data missing", data=None)
    truncated = folder / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    files["truncated"] = truncated
    foreign = folder / "foreign.npz"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    files["foreign"] = foreign
    pickled = folder / "pickled.npz"
    np.savez(pickled, data=np.array([{"a": 1}], dtype=object))
    files["pickled"] = pickled
    empty_zip = folder / "empty.npz"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    files["empty zip"] = empty_zip
    return files


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    import sknmr._backends.numpy_backend as backend

    # A module fixture runs outside the autouse patch: simulate for real here.
    assert backend.simulate.__name__ == "simulate"
    return _bad_files(tmp_path_factory.mktemp("files"))


FILE_CASES = [
    "data 1-D",
    "times too short",
    "feature_names too short",
    "echo_ids too long",
    "data missing",
    "truncated",
    "foreign",
    "pickled",
    "empty zip",
]


@pytest.mark.parametrize("name", FILE_CASES)
def test_bad_file_is_refused_naming_the_file(bad_files, name):
    from sknmr.datasets import load_echoes

    path = bad_files[name]
    with pytest.raises(ValueError) as info:
        load_echoes(path)
    message = str(info.value)
    assert str(path) in message or path.name in message
    assert "allow_pickle" not in message


def test_missing_file_is_named(tmp_path):
    from sknmr.datasets import load_echoes

    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_echoes(tmp_path / "nowhere.npz")


# -- estimators -------------------------------------------------------------------
def _screening_2d_w():
    from sknmr import WScreenedClassifier

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.r_[np.zeros(20), np.ones(20)].astype(int)
    WScreenedClassifier().fit(X, y, w=np.full((40, 2), 0.2))


def _vae_outside_unit_interval():
    from sknmr import BetaVAE

    BetaVAE(max_epochs=1).fit(np.full((8, 5), 1.5, dtype=np.float32))


ESTIMATOR_CASES = [
    ("WScreenedClassifier 2-D w", _screening_2d_w, r"\bw\b.*shape"),
    ("BetaVAE values above 1", _vae_outside_unit_interval, r"\[0, 1\].*1\.5"),
]


@pytest.mark.parametrize(
    "call, match", [c[1:] for c in ESTIMATOR_CASES], ids=[c[0] for c in ESTIMATOR_CASES]
)
def test_bad_estimator_input_is_refused_clearly(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# -- reproduce() ------------------------------------------------------------------
def _reproduce(tmp_path, **kwargs):
    from sknmr.study import reproduce

    return lambda: reproduce(tmp_path / "report", **kwargs)


REPRODUCE_CASES = [
    ("preset='medium'", {"preset": "medium"}, "preset"),
    ("preset={'lattice': 8}", {"preset": {"lattice": 8}}, "lattice"),
    ("n_jobs=0", {"n_jobs": 0}, "n_jobs"),
    ("random_state=-1", {"random_state": -1}, "random_state"),
    ("random_state=1.5", {"random_state": 1.5}, "random_state"),
    ("linewidth=inf", {"linewidth": math.inf}, "linewidth"),
    ("linewidth=-1", {"linewidth": -1.0}, "linewidth"),
    ("memory=unwritable", {"memory": "/proc/sknmr_cache"}, "memory"),
    ("data=missing file", {"data": "/nonexistent/echoes.npz"}, "data"),
    ("data=list", {"data": [1, 2]}, "data"),
]


@pytest.mark.parametrize(
    "kwargs, match",
    [c[1:] for c in REPRODUCE_CASES],
    ids=[c[0] for c in REPRODUCE_CASES],
)
def test_bad_reproduce_arguments_leave_nothing_behind(tmp_path, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _reproduce(tmp_path, **kwargs)()
    assert not (tmp_path / "report").exists()


# -- the command line ---------------------------------------------------------------
SIM = ["simulate", "-n", "1", "--lattice-size", "4", "--tau", "1", "--backend", "numpy"]

CLI_CASES = [
    ("simulate no -o", [*SIM], "-o/--output|--output"),
    ("simulate -o ''", [*SIM, "-o", ""], "--output"),
    ("simulate -o folder", [*SIM, "-o", "{tmp}"], "--output"),
    ("simulate -o missing folder", [*SIM, "-o", "{tmp}/no/such/x.npz"], "--output"),
    ("simulate -o existing", [*SIM, "-o", "{tmp}/existing.npz"], "--overwrite"),
    ("simulate -n 0", ["simulate", "-o", "{tmp}/a.npz", "-n", "0"], "--n-per-kernel"),
    ("simulate -n x", ["simulate", "-o", "{tmp}/a.npz", "-n", "x"], "--n-per-kernel"),
    (
        "simulate --n-samples -3",
        ["simulate", "-o", "{tmp}/a.npz", "--n-samples", "-3"],
        "--n-samples",
    ),
    (
        "simulate --lattice-size 1",
        [*SIM[:3], "-o", "{tmp}/a.npz", "--lattice-size", "1"],
        "--lattice-size",
    ),
    ("simulate --tau 0", ["simulate", "-o", "{tmp}/a.npz", "--tau", "0"], "--tau"),
    ("simulate --dt nan", ["simulate", "-o", "{tmp}/a.npz", "--dt", "nan"], "--dt"),
    ("simulate --dt > --tau", [*SIM, "-o", "{tmp}/a.npz", "--dt", "5"], "--dt"),
    (
        "simulate --linewidth inf",
        ["simulate", "-o", "{tmp}/a.npz", "--linewidth", "inf"],
        "--linewidth",
    ),
    (
        "simulate --kernels cubic",
        ["simulate", "-o", "{tmp}/a.npz", "--kernels", "cubic"],
        "--kernels",
    ),
    (
        "simulate --backend gpu",
        ["simulate", "-o", "{tmp}/a.npz", "--backend", "gpu"],
        "--backend",
    ),
    (
        "simulate --dtype float16",
        ["simulate", "-o", "{tmp}/a.npz", "--dtype", "float16"],
        "--dtype",
    ),
    (
        "simulate --threads 0",
        [*SIM, "-o", "{tmp}/a.npz", "--threads", "0"],
        "--threads",
    ),
    ("simulate --n-jobs 0", [*SIM, "-o", "{tmp}/a.npz", "--n-jobs", "0"], "--n-jobs"),
    (
        "simulate --n-jobs -100",
        [*SIM, "-o", "{tmp}/a.npz", "--n-jobs", "-100"],
        "--n-jobs",
    ),
    ("simulate --seed -1", [*SIM, "-o", "{tmp}/a.npz", "--seed", "-1"], "--seed"),
    (
        "simulate --chunk-size 0",
        [*SIM, "-o", "{tmp}/a.npz", "--chunk-size", "0"],
        "--chunk-size",
    ),
    (
        "simulate --cache unwritable",
        [*SIM, "-o", "{tmp}/a.npz", "--cache", "/proc/sknmr_cache"],
        "--cache",
    ),
    (
        "simulate -n and --n-samples",
        [*SIM, "-o", "{tmp}/a.npz", "--n-samples", "3"],
        "--n-samples|--n-per-kernel",
    ),
    (
        "reproduce --n-jobs 0",
        ["reproduce", "--output", "{tmp}/r", "--n-jobs", "0"],
        "--n-jobs",
    ),
    (
        "reproduce --linewidth inf",
        ["reproduce", "--output", "{tmp}/r", "--linewidth", "inf"],
        "--linewidth",
    ),
    (
        "reproduce --seed -1",
        ["reproduce", "--output", "{tmp}/r", "--seed", "-1"],
        "--seed",
    ),
    (
        "reproduce --cache unwritable",
        ["reproduce", "--output", "{tmp}/r", "--cache", "/proc/sknmr_cache"],
        "--cache",
    ),
    (
        "reproduce --output unwritable",
        ["reproduce", "--output", "/proc/sknmr_r"],
        "--output",
    ),
    ("reproduce --quick --full", ["reproduce", "--quick", "--full"], "--full|--quick"),
    ("unknown command", ["simulatee"], "simulatee|invalid choice"),
]


@pytest.mark.parametrize(
    "argv, match", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_bad_command_line_is_one_line_exit_2(
    tmp_path, refused_command_line, argv, match
):
    (tmp_path / "existing.npz").write_bytes(b"")
    refused_command_line(argv, match)
