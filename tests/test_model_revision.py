"""The model revision that keys cached datasets changes whenever the echoes do.

``tests/data/model_revisions/r<N>.npz`` holds small echoes of revision N
(complex M and <I^z> for every kernel, refocusing axes, another pulse angle,
dephasing). If the simulator's echoes no longer match those of the current
``MODEL_REVISION``, a cache keyed on it would serve echoes of older physics:
bump the revision and store its echoes with
``python tests/data/model_revisions/make_reference.py``.
"""

import importlib.util
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr._physics import MODEL_REVISION
from sknmr.datasets._echoes import _simulation_key

HERE = os.path.join(os.path.dirname(__file__), "data", "model_revisions")


def _maker():
    spec = importlib.util.spec_from_file_location(
        "make_reference", os.path.join(HERE, "make_reference.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_echoes_are_those_of_the_current_revision(backend):
    path = os.path.join(HERE, f"r{MODEL_REVISION}.npz")
    assert os.path.exists(path), (
        f"No reference echoes for MODEL_REVISION={MODEL_REVISION}: run "
        "python tests/data/model_revisions/make_reference.py"
    )
    m, iz = _maker().simulate(backend)
    with np.load(path) as ref:
        assert int(ref["revision"]) == MODEL_REVISION
        message = (
            "The echoes changed: bump MODEL_REVISION in sknmr/_physics.py (cached "
            "datasets are keyed on it) and store the new echoes with "
            "python tests/data/model_revisions/make_reference.py"
        )
        np.testing.assert_allclose(m, ref["M"], rtol=0, atol=1e-12, err_msg=message)
        np.testing.assert_allclose(iz, ref["Iz"], rtol=0, atol=1e-12, err_msg=message)


def test_revisions_are_numbered_without_gaps():
    stored = sorted(
        int(f[1:-4])
        for f in os.listdir(HERE)
        if f.startswith("r") and f.endswith(".npz")
    )
    assert stored == list(range(1, MODEL_REVISION + 1))


def test_cache_key_holds_the_revision_not_the_version(monkeypatch):
    import sknmr

    key = _simulation_key(EchoSimulator(lattice_size=4, tau=1.0), 0)
    assert key["model_revision"] == MODEL_REVISION
    monkeypatch.setattr(sknmr, "__version__", "99.0")
    assert _simulation_key(EchoSimulator(lattice_size=4, tau=1.0), 0) == key
    monkeypatch.setattr("sknmr.datasets._echoes.MODEL_REVISION", MODEL_REVISION + 1)
    assert _simulation_key(EchoSimulator(lattice_size=4, tau=1.0), 0) != key


# numpy picks its transcendental functions (exp, sin, cos) by the CPU's SIMD
# extensions, and the AVX-512 ones round differently in the last bit from the
# AVX2 ones the stored echoes were made with; an x86-64 machine computes them
# with the AVX2 ones when numpy is told not to use anything above X86_V3.
_ABOVE_AVX2 = (
    "X86_V4",
    "AVX512_SKX",
    "AVX512_CLX",
    "AVX512_CNL",
    "AVX512_ICL",
    "AVX512_SPR",
)


def _numpy_reference_in_a_subprocess(path):
    from numpy._core._multiarray_umath import __cpu_dispatch__

    env = dict(os.environ)
    env["NPY_DISABLE_CPU_FEATURES"] = " ".join(
        f for f in __cpu_dispatch__ if f in _ABOVE_AVX2
    )
    script = (
        "import sys, importlib.util, numpy as np\n"
        "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "M, Iz = m.simulate('numpy')\n"
        "np.savez(sys.argv[2], M=M, Iz=Iz)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, os.path.join(HERE, "make_reference.py"), path],
        check=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
    )
    with np.load(path) as made:
        return made["M"], made["Iz"]


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"),
    reason="the stored echoes were made with numpy's x86-64 AVX2 functions; other "
    "architectures round exp/sin/cos differently in the last bit (the 1e-12 check "
    "above still holds there)",
)
def test_numpy_echoes_are_bit_identical_to_the_stored_ones(tmp_path):
    """The stored echoes were made by the numpy reference: it reproduces them
    exactly (the general model leaves the default experiment's arithmetic as
    it was)."""
    m, iz = _numpy_reference_in_a_subprocess(str(tmp_path / "made.npz"))
    with np.load(os.path.join(HERE, f"r{MODEL_REVISION}.npz")) as ref:
        np.testing.assert_array_equal(m, ref["M"])
        np.testing.assert_array_equal(iz, ref["Iz"])


def test_cache_key_holds_the_backends_numerics(monkeypatch):
    """Echoes that round differently after a change of the numba backend's
    arithmetic are cached apart, though the model is the same."""
    from sknmr._backends import numba_backend

    sim = EchoSimulator(lattice_size=4, tau=1.0, backend="numba")
    key = _simulation_key(sim, 0)
    assert key["numerics"] == numba_backend.NUMERICS_REVISION
    monkeypatch.setattr(
        numba_backend, "NUMERICS_REVISION", numba_backend.NUMERICS_REVISION + 1
    )
    assert _simulation_key(sim, 0) != key
    numpy_key = _simulation_key(
        EchoSimulator(lattice_size=4, tau=1.0, backend="numpy"), 0
    )
    assert "numerics" not in numpy_key
