"""Tests of the ``cuda`` backend without a GPU.

* The kernels run under numba's CUDA simulator and are compared with the
  numpy reference for the same offsets. ``NUMBA_ENABLE_CUDASIM`` must be set
  before numba is imported, and this process has imported it already, so the
  simulator runs in one subprocess whose results every test reads.
* The kernels are compiled (typed and lowered, short of PTX) for a real GPU,
  which the simulator, running them as Python, never does.
* Without a GPU, asking for ``backend="cuda"`` gives a clear error, and
  ``backend="auto"`` never picks the simulator by accident.
"""

import json
import os
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import sknmr._backends as backends_module
import sknmr.datasets._echoes as echoes_module
from sknmr import EchoSimulator
from sknmr._backends import cuda_backend, get_backend
from sknmr._physics import REFOCUS_AXES, EchoBatch, pulse_matrix

_SIMULATOR_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import pandas as pd

    # The simulator runs each CUDA thread as a Python thread and polls them;
    # a short GIL switch interval keeps syncthreads() from idling 5 ms a time.
    sys.setswitchinterval(1e-4)

    from sknmr import EchoSimulator
    from sknmr._backends import cuda_backend as cb, get_backend

    results = {"auto": get_backend("auto").name}
    mixed = pd.DataFrame({"kernel": ["gaussian", "power", "rkky"],
                          "length": [1.5, 3.0, 2.0],
                          "alpha_xy": [0.05, 0.1, 0.08],
                          "alpha_z": [0.0, 0.05, 0.02]})
    no_z = pd.DataFrame({"kernel": ["power", "gaussian"], "length": [2.5, 1.2],
                         "alpha_xy": [0.1, 0.06], "alpha_z": [0.0, 0.0]})

    def compare(name, params, method="dft", **settings):
        cb.FFT_METHOD = method
        settings = dict(tau=1.0, dt=0.25, random_state=7, **settings)
        got = EchoSimulator(backend="cuda", **settings).simulate(params)
        want = EchoSimulator(backend="numpy", **settings).simulate(params)
        assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
        results[name] = float(np.max(np.abs(got - want)))
        return got

    # direct DFTs, alpha_z = 0 and != 0 in one batch, refocus y, dephasing
    compare("dft_float64_complex", mixed, lattice_size=6, refocus_axis="y",
            dephasing_rate=0.2, output="complex", dtype="float64", batch_size=3)
    # odd lattice, no z coupling in the batch (z convolution skipped), x axis
    first = compare("dft_float64_z_no_coupling", no_z, lattice_size=5,
                    refocus_axis="x", pulse_angle=60.0, output="z",
                    dtype="float64")
    again = EchoSimulator(backend="cuda", lattice_size=5, tau=1.0, dt=0.25,
                          random_state=7, refocus_axis="x", pulse_angle=60.0,
                          output="z", dtype="float64").simulate(no_z)
    results["repeat_bit_identical"] = bool(np.array_equal(first, again))
    # float32, batches of 2 and 1, the -x axis
    compare("dft_float32_magnitude", mixed, lattice_size=6, refocus_axis="-x",
            dephasing_rate=0.1, output="magnitude", dtype="float32", batch_size=2)
    # the cuFFT path's logic, with torch's CPU FFTs on the simulated memory
    compare("torch_float64_complex", mixed, method="torch", lattice_size=5,
            refocus_axis="y", dephasing_rate=0.1, output="complex",
            dtype="float64", batch_size=3)
    compare("torch_float32_z", mixed, method="torch", lattice_size=6,
            refocus_axis="-y", output="z", dtype="float32", batch_size=3)

    # The general model: a CPMG train with a pulse at 30 degrees, alpha_x !=
    # alpha_y, T1 and T2 per echo, a p-wave kernel (complex spectrum).
    from sknmr.sequences import cpmg
    general = pd.DataFrame({"kernel": ["gaussian", "power"], "length": [1.5, 2.0],
                            "alpha_x": [0.3, 0.05], "alpha_y": [0.05, 0.2],
                            "alpha_z": [0.1, 0.0], "t1": [3.0, float("nan")],
                            "t2": [2.0, 4.0], "p_wave": [0.5, float("nan")]})
    for method in ("dft", "torch"):
        cb.FFT_METHOD = method
        settings = dict(lattice_size=5, dt=0.25, random_state=7, output="complex",
                        dtype="float64", batch_size=2,
                        sequence=cpmg(0.5, 2, angle=75.0, refocus_angle=160.0,
                                      refocus_phase=30.0))
        got = EchoSimulator(backend="cuda", **settings).simulate(general)
        want = EchoSimulator(backend="numpy", **settings).simulate(general)
        results[method + "_float64_general"] = float(np.max(np.abs(got - want)))

    # make_echoes runs the backend unchanged: same echoes as with numpy.
    from sknmr.datasets import make_echoes
    def dataset(backend):
        simulator = EchoSimulator(backend=backend, lattice_size=4, tau=0.5,
                                  dt=0.25, dtype="float64")
        return make_echoes(n_per_kernel=2, kernels=["power", "rkky"],
                           simulator=simulator, random_state=5, chunk_size=3)
    on_gpu, on_cpu = dataset("cuda"), dataset("numpy")
    assert on_gpu.settings["simulation"]["backend"] == "cuda"
    results["make_echoes"] = float(np.max(np.abs(on_gpu.data - on_cpu.data)))

    # The convolutions alone, with an even spectrum that is not symmetric
    # under transposing the lattice (isotropic kernels are, and would hide
    # a mix-up of rows and columns).
    rng = np.random.default_rng(0)
    n_echoes, n = 2, 5
    flip = (-np.arange(n)) % n
    g = rng.normal(size=(n_echoes, n, n))
    spectra = g + g[:, flip][:, :, flip]
    sxy = rng.normal(size=(n_echoes, n, n, 2))
    sz = rng.normal(size=(n_echoes, n, n))
    want_xy = np.fft.ifft2(np.fft.fft2(sxy[..., 0] + 1j * sxy[..., 1]) * spectra)
    want_z = np.fft.ifft2(np.fft.fft2(sz) * spectra).real
    stream = cb.cuda.default_stream()
    for name, convolution in [("dft", cb._DFTConvolution),
                              ("torch", cb._TorchConvolution)]:
        conv = convolution(cb.cuda.to_device(sxy), cb.cuda.to_device(sz),
                           cb.cuda.to_device(spectra), True, stream)
        conv()
        wxy, wz = conv.wxy.copy_to_host(), conv.wz.copy_to_host()
        results["conv_" + name] = float(max(
            np.max(np.abs(wxy[..., 0] + 1j * wxy[..., 1] - want_xy)),
            np.max(np.abs(wz - want_z))))
    print(json.dumps(results))
    """
)


needs_numba_cuda = pytest.mark.skipif(
    cuda_backend.cuda is None, reason="numba-cuda is not installed"
)


# sitecustomize.py there serialises the simulator's shared-array allocation
# (numba-cuda's simulator races on it; see the file)
_SIMULATOR_FIX = os.path.join(os.path.dirname(__file__), "_cudasim")


def _simulator_env(allow):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKNMR_CUDA")}
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_SIMULATOR_FIX, env.get("PYTHONPATH")) if p
    )
    if allow:
        env["SKNMR_CUDA_SIMULATOR"] = "1"
    return env


def _run_python(code, env):
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# Tolerance of each case of _SIMULATOR_SCRIPT (see the test below).
_TOLERANCES = {
    "dft_float64_complex": 1e-10,
    "dft_float64_z_no_coupling": 1e-10,
    "dft_float32_magnitude": 2e-5,
    "torch_float64_complex": 1e-10,
    "torch_float32_z": 2e-5,
    "dft_float64_general": 1e-10,
    "torch_float64_general": 1e-10,
    "conv_dft": 1e-10,
    "conv_torch": 1e-10,
    "make_echoes": 1e-10,
}


@pytest.fixture(scope="module")
def simulated():
    # Once in about ten runs on a loaded 2-core machine, numba's CUDA simulator
    # (one Python thread per CUDA thread) gave one case a mismatch of ~0.1
    # (seen for dft_float32_magnitude; never reproduced in isolation, and never
    # twice in a row). The script is then run once more: a real defect fails
    # both runs. The first run's failures are kept in the results.
    results = _run_python(_SIMULATOR_SCRIPT, _simulator_env(allow=True))
    failed = sorted(k for k, tol in _TOLERANCES.items() if not results[k] < tol)
    if results["repeat_bit_identical"] is not True:  # the same glitch, seen once
        failed.append("repeat_bit_identical")
    if failed:
        results = _run_python(_SIMULATOR_SCRIPT, _simulator_env(allow=True))
        results["failed_on_first_run"] = failed
    return results


@needs_numba_cuda
@pytest.mark.parametrize("case, tolerance", list(_TOLERANCES.items()))
@pytest.mark.slow
def test_simulated_kernels_match_numpy(simulated, case, tolerance):
    assert simulated[case] < tolerance, simulated


@needs_numba_cuda
def test_simulated_runs_are_bit_identical(simulated):
    assert simulated["repeat_bit_identical"] is True


@needs_numba_cuda
def test_explicitly_allowed_simulator_is_the_auto_choice(simulated):
    assert simulated["auto"] == "cuda"


_FIRST_SAMPLE_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import pandas as pd

    sys.setswitchinterval(1e-4)

    from sknmr import EchoSimulator
    from sknmr._backends import cuda_backend as cb

    # Fill every new device array with the largest float, as uninitialised
    # memory may hold: a sample read before it is written then overflows in
    # the cast to float32 (a RuntimeWarning) or shows in the echo.
    allocate = cb.cuda.device_array

    def poisoned(*args, **kwargs):
        array = allocate(*args, **kwargs)
        array._ary[...] = np.finfo(array.dtype).max  # the simulator's host copy
        return array

    cb.cuda.device_array = poisoned
    cb.FFT_METHOD = "dft"
    params = pd.DataFrame({"kernel": ["gaussian", "power"], "length": [1.5, 2.0],
                           "alpha_xy": [0.05, 0.1], "alpha_z": [0.0, 0.02]})
    results = {}
    for output, dtype in [("complex", "float32"), ("z", "float32"),
                          ("complex", "float64")]:
        settings = dict(lattice_size=4, tau=0.5, dt=0.25, random_state=3,
                        refocus_axis="y", output=output, dtype=dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = EchoSimulator(backend="cuda", **settings).simulate(params)
        want = EchoSimulator(backend="numpy", **settings).simulate(params)
        results[f"{output}_{dtype}"] = {
            "runtime_warnings": [str(w.message) for w in caught
                                 if issubclass(w.category, RuntimeWarning)],
            "sample0_error": float(np.max(np.abs(got[:, 0] - want[:, 0]))),
            "error": float(np.max(np.abs(got - want))),
        }
    print(json.dumps(results))
    """
)


@needs_numba_cuda
def test_first_sample_is_written_on_the_device():
    """Sample 0 of the device result is written, never read uninitialised.

    The result array is poisoned with huge values when allocated: an
    unwritten sample 0 made the cast to float32 overflow (a RuntimeWarning)
    before being patched on the host.
    """
    results = _run_python(_FIRST_SAMPLE_SCRIPT, _simulator_env(allow=True))
    for case, result in results.items():
        assert result["runtime_warnings"] == [], (case, result)
        tolerance = 1e-6 if case.endswith("float32") else 1e-14
        assert result["sample0_error"] <= tolerance, (case, result)
        assert result["error"] < (2e-5 if case.endswith("float32") else 1e-10)


@needs_numba_cuda
def test_auto_never_picks_the_simulator_unasked():
    code = textwrap.dedent(
        """
        import json
        from sknmr._backends import available_backends, get_backend
        from sknmr._backends import cuda_backend
        try:
            get_backend("cuda")
            error = None
        except ValueError as exc:
            error = str(exc)
        print(json.dumps({"available": available_backends(), "error": error,
                          "reason": cuda_backend.unavailable_reason()}))
        """
    )
    result = _run_python(code, _simulator_env(allow=False))
    assert "cuda" not in result["available"]
    assert "not available" in result["error"]
    assert "SKNMR_CUDA_SIMULATOR=1" in result["reason"]


def test_module_attributes():
    assert cuda_backend.name == "cuda"
    assert cuda_backend.default_dtype == np.float32
    assert isinstance(cuda_backend.default_batch_size, int)
    assert cuda_backend.default_batch_size >= 1
    assert isinstance(cuda_backend.is_available(), bool)


def _tiny_batch():
    return EchoBatch(
        spectra=np.ones((1, 4, 4)),
        offsets=np.zeros((1, 4, 4)),
        alpha_x=np.array([0.1]),
        alpha_y=np.array([0.1]),
        alpha_z=np.array([0.0]),
        dt=0.25,
        n_times=6,
        pulses=(
            (0, pulse_matrix(REFOCUS_AXES["x"], 90.0)),
            (2, pulse_matrix(REFOCUS_AXES["y"], 180.0)),
        ),
        transverse_decay=np.array([1.0]),
        longitudinal_decay=np.array([1.0]),
        dtype=np.dtype(np.float32),
    )


@pytest.mark.skipif(
    cuda_backend.is_available(), reason="a GPU is visible to numba-cuda"
)
def test_without_gpu_cuda_backend_gives_a_clear_error():
    with pytest.raises(ValueError, match="backend='cuda' is not available"):
        get_backend("cuda")
    simulator = EchoSimulator(backend="cuda", lattice_size=4, tau=1.0, dt=0.25)
    params = pd.DataFrame(
        {"kernel": ["gaussian"], "length": [1.0], "alpha_xy": [0.1], "alpha_z": [0.0]}
    )
    with pytest.raises(ValueError, match="not available"):
        simulator.simulate(params)
    with pytest.raises(RuntimeError, match="cannot run: .*GPU"):
        cuda_backend.simulate(_tiny_batch())


def test_fft_method_is_checked(monkeypatch):
    monkeypatch.setattr(cuda_backend, "FFT_METHOD", "cufft")
    with pytest.raises(
        ValueError, match=r"FFT_METHOD must be one of \('auto', 'torch', 'dft'\)"
    ):
        cuda_backend._fft_method()


def test_auto_fft_without_cuda_torch_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setattr(cuda_backend, "FFT_METHOD", "auto")
    monkeypatch.setattr(cuda_backend, "_SIMULATOR", False)
    monkeypatch.setattr(cuda_backend, "_torch_cuda", lambda: None)
    cuda_backend._warn_no_cufft.cache_clear()
    with pytest.warns(RuntimeWarning, match="no CUDA build of torch"):
        assert cuda_backend._fft_method() == "dft"
    monkeypatch.setattr(cuda_backend, "FFT_METHOD", "dft")  # asked for: no warning
    cuda_backend._warn_no_cufft.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cuda_backend._fft_method() == "dft"


@needs_numba_cuda
def test_kernels_compile_for_a_gpu_in_float32():
    """Type and lower every kernel for sm_90 as a float32 run would launch them.

    Only the magnetisation sums may be float64: a float literal slipping into
    the per-spin arithmetic would silently make float32 runs compute in
    float64 (slow on most GPUs) and still pass the simulator tests.
    """
    try:
        from numba.cuda import types
        from numba.cuda.compiler import compile_cuda
    except ImportError as exc:  # pragma: no cover - depends on numba-cuda's layout
        pytest.skip(f"numba-cuda has no compile_cuda to type kernels with ({exc})")

    f32, f64, flag = types.float32, types.float64, types.boolean

    def arr(dtype, ndim):
        return types.Array(dtype, ndim, "C")

    kernels = {
        "_update": (
            arr(f32, 4),
            arr(f32, 3),
            arr(f32, 4),
            arr(f32, 3),
            arr(f32, 3),
            arr(f32, 1),  # alpha_x
            arr(f32, 1),  # alpha_y
            arr(f32, 1),  # alpha_z
            f32,
            arr(f32, 1),  # transverse decay
            arr(f32, 1),  # longitudinal decay
            f32,
            f32,
            arr(f32, 2),
            flag,
            arr(f64, 3),
        ),
        "_finalize": (arr(f64, 3), arr(f64, 3), types.int64, f64),
        "_first_sample": (arr(f64, 3), f64, f64, f64),
        "_dft_pack": (arr(f32, 4), arr(f32, 3), arr(f32, 4), flag),
        "_dft_pass": (
            arr(f32, 4),
            arr(f32, 4),
            arr(f32, 2),
            flag,
            arr(f32, 3),
            arr(f32, 3),  # imaginary part of the spectra
            flag,
            f32,
        ),
        "_dft_unpack_z": (arr(f32, 4), arr(f32, 3)),
    }
    allowed_f64 = {
        "_update": {"acc_x", "acc_y", "acc_z"},
        "_finalize": {"scale", "sx", "sy", "sz"},
        "_first_sample": {"x", "y", "z"},
    }
    for name, signature in kernels.items():
        kernel = getattr(cuda_backend, name)
        result = compile_cuda(kernel.py_func, types.void, signature, cc=(9, 0))
        float64_vars = {
            var.removeprefix("arg.").split(".")[0]
            for var, typ in result.type_annotation.typemap.items()
            if typ == f64 and not var.startswith("$")
        }
        assert float64_vars <= allowed_f64.get(name, set()), (name, float64_vars)


def test_make_echoes_sizes_its_chunks_for_the_gpu(monkeypatch):
    """Default chunks are the backend's batch (512 echoes on a GPU), not 100."""
    gpu = types.SimpleNamespace(
        name="cuda", default_batch_size=512, default_dtype=np.float32
    )
    monkeypatch.setattr(backends_module, "get_backend", lambda name: gpu)
    simulator = EchoSimulator(backend="cuda")
    assert echoes_module._chunk_size(None, simulator) == 512
    assert echoes_module._chunk_size(64, simulator) == 64
    simulator.set_params(batch_size=1024)
    assert echoes_module._chunk_size(None, simulator) == 1024


@needs_numba_cuda
@pytest.mark.slow
def test_gpu_benchmark_runs_end_to_end_under_the_simulator(tmp_path):
    """benchmarks/bench_cuda.py stays ready for a GPU: every section runs."""
    here = os.path.dirname(__file__)
    script = os.path.join(here, "..", "benchmarks", "bench_cuda.py")
    report_path = tmp_path / "report.json"
    options = "--lattice-size 4 --tau 0.5 --batch-sizes 2 --agreement-echoes 2"
    options += " --step-repeats 1 --full --full-echoes 3 --allow-simulator"
    done = subprocess.run(
        [sys.executable, script, *options.split(), "--json", str(report_path)],
        env=_simulator_env(allow=True),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(report_path.read_text())
    assert report["gpu"] == "numba CUDA simulator"
    agreement = report["agreement"]
    for method in ("torch", "dft"):
        for dtype in ("float32", "float64"):
            assert agreement[f"{method}_{dtype}"]["ok"], agreement
        assert agreement[f"{method}_batch_independent"] is True
        assert report["throughput"][f"{method}_B2"]["echoes_per_s"] > 0
    assert {"torch_B2_convolution_s", "dft_B2_convolution_s", "B2_update_s"} <= set(
        report["steps"]
    )
    assert report["full"]["n_echoes"] == 3
