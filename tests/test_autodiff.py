"""sknmr.autodiff: forward agreement, gradients against finite differences."""

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.kernels import kernel_spectrum, register_kernel, unregister_kernel
from sknmr.lattices import Lattice
from sknmr.sequences import Pulse, PulseSequence, cpmg, stimulated_echo

torch = pytest.importorskip("torch")
from sknmr.autodiff import (  # noqa: E402
    DifferentiableSequence,
    kernel_half_spectrum,
    plan_segments,
    simulate,
)

F64 = torch.float64
ROWS = {
    "kernel": ["gaussian", "power", "rkky", "uniform"],
    "length": [3.0, 2.0, 13.0, 2.0],
    "alpha_x": [0.05, 0.04, 0.03, 0.06],
    "alpha_y": [0.03, 0.05, 0.02, 0.01],
    "alpha_z": [0.02, 0.0, 0.05, 0.03],
    "t1": [50.0, 60.0, 80.0, 70.0],
    "t2": [30.0, 20.0, 100.0, 40.0],
}


def sim(**kw):
    settings = {"lattice_size": 6, "dt": 0.1, "random_state": 1}
    if kw.get("sequence") is None:
        settings["tau"] = 0.6
    return EchoSimulator(**{**settings, **kw})


def tensors(rows, grad=()):
    return {
        k: v if k == "kernel" else torch.tensor(v, dtype=F64, requires_grad=k in grad)
        for k, v in rows.items()
    }


@pytest.mark.parametrize("output", ["complex", "magnitude", "z"])
@pytest.mark.parametrize(
    "sequence", [None, cpmg(0.4, 2), stimulated_echo(0.3, mixing_time=0.3)]
)
def test_forward_agrees_with_numpy_backend(output, sequence):
    kw = {"output": output, "lattice_size": 8}
    if sequence is not None:
        kw["sequence"] = sequence
    ref = sim(backend="numpy", **kw).simulate(ROWS)
    got = simulate(sim(**kw), tensors(ROWS))
    assert got.shape == ref.shape
    assert np.abs(got.numpy() - ref).max() <= 1e-12


def test_forward_float32_and_simulator_relaxation():
    rows = {k: v for k, v in ROWS.items() if k not in ("t1", "t2")}
    kw = {"dtype": "float32", "t1": 40.0, "t2": 25.0, "output": "complex"}
    ref = sim(backend="numpy", **kw).simulate(rows)
    got = simulate(sim(**kw), tensors(rows))
    assert got.dtype == torch.complex64
    assert np.abs(got.numpy() - ref).max() <= 2e-5


@pytest.mark.parametrize(
    "kernel,length,extras",
    [
        ("gaussian", 2.0, {}),
        ("gaussian", 2.0, {"exponent": 1.3}),
        ("power", 1.7, {"p_wave": 0.4, "d_wave": 0.2}),
        ("rkky", 9.0, {"staggered": 1}),
        ("uniform", 2.0, {"d_wave": 0.5}),
    ],
)
def test_torch_kernels_agree_with_numpy(kernel, length, extras):
    length_t = torch.tensor(length, dtype=F64, requires_grad=kernel != "uniform")
    half = kernel_half_spectrum(kernel, length_t, 9, **extras)
    ref = kernel_spectrum(kernel, length, 9, **extras)[:, :5]
    assert half.is_complex() == np.iscomplexobj(ref)
    assert np.abs(half.detach().numpy() - ref).max() <= 1e-14


def fd_check(settings, rows, name, index=0, sequence=None, h=1e-5):
    """d(sum w * echo)/d(rows[name][index]) by autograd and by central FD."""
    weights = None

    def loss(value, grad):
        nonlocal weights
        params = {
            k: (v if k == "kernel" else torch.tensor(v, dtype=F64))
            for k, v in rows.items()
        }
        col = params[name].clone()
        x = torch.tensor(value, dtype=F64, requires_grad=grad)
        params[name] = torch.cat([col[:index], x[None], col[index + 1 :]])
        echo = simulate(sim(**settings), params, sequence)
        echo = torch.view_as_real(echo) if echo.is_complex() else echo
        if weights is None:
            weights = torch.linspace(-1, 1, echo.numel(), dtype=F64).reshape(echo.shape)
        return (weights * echo).sum(), x

    value = float(rows[name][index])
    out, x = loss(value, True)
    out.backward()
    step = h * max(abs(value), 1e-2)
    fd = (loss(value + step, False)[0] - loss(value - step, False)[0]) / (2 * step)
    return float(x.grad), float(fd)


GRAD_CASES = [
    (
        "alpha_x",
        {
            "kernel": ["power"],
            "length": [2.0],
            "alpha_x": [0.3],
            "alpha_y": [0.2],
            "alpha_z": [0.1],
        },
    ),
    (
        "alpha_y",
        {
            "kernel": ["power"],
            "length": [2.0],
            "alpha_x": [0.3],
            "alpha_y": [0.2],
            "alpha_z": [0.1],
        },
    ),
    (
        "alpha_xy",
        {"kernel": ["rkky"], "length": [7.0], "alpha_xy": [0.3], "alpha_z": [0.1]},
    ),
    (
        "alpha_z",
        {"kernel": ["gaussian"], "length": [2.0], "alpha_xy": [0.3], "alpha_z": [0.2]},
    ),
    (
        "length",
        {"kernel": ["gaussian"], "length": [1.5], "alpha_xy": [0.3], "alpha_z": [0.2]},
    ),
    (
        "length",
        {"kernel": ["power"], "length": [1.5], "alpha_xy": [0.3], "alpha_z": [0.2]},
    ),
    (
        "length",
        {"kernel": ["rkky"], "length": [5.0], "alpha_xy": [0.3], "alpha_z": [0.2]},
    ),
    (
        "exponent",
        {
            "kernel": ["gaussian"],
            "length": [1.5],
            "exponent": [1.4],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        },
    ),
    (
        "p_wave",
        {
            "kernel": ["power"],
            "length": [1.5],
            "p_wave": [0.4],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        },
    ),
    (
        "d_wave",
        {
            "kernel": ["gaussian"],
            "length": [1.5],
            "d_wave": [0.3],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        },
    ),
    (
        "s_wave",
        {
            "kernel": ["gaussian"],
            "length": [1.5],
            "s_wave": [0.8],
            "p_wave": [0.3],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        },
    ),
    (
        "t1",
        {
            "kernel": ["gaussian"],
            "length": [2.0],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
            "t1": [3.0],
        },
    ),
    (
        "t2",
        {
            "kernel": ["gaussian"],
            "length": [2.0],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
            "t1": [3.0],
            "t2": [2.0],
        },
    ),
    (
        "linewidth",
        {
            "kernel": ["gaussian"],
            "length": [2.0],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
            "linewidth": [0.5],
        },
    ),
]


@pytest.mark.parametrize("output", ["complex", "magnitude", "z"])
@pytest.mark.parametrize(
    "name,rows", GRAD_CASES, ids=[f"{n}-{r['kernel'][0]}" for n, r in GRAD_CASES]
)
def test_gradients_match_finite_differences(name, rows, output):
    grad, fd = fd_check({"output": output, "pulse_angle": 70.0}, rows, name)
    assert grad == pytest.approx(fd, rel=1e-6, abs=1e-9 * max(1.0, abs(fd)))
    assert abs(fd) > 1e-6  # the echo depends on it


@pytest.mark.parametrize("which", ["angles", "phases"])
def test_pulse_angle_and_phase_gradients(which):
    sequence = PulseSequence([Pulse(0.0, 80.0, 10.0), Pulse(0.6, 150.0, 100.0)], 1.6)
    base = {"angles": [80.0, 150.0], "phases": [10.0, 100.0]}
    rows = tensors(
        {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.3, "alpha_z": 0.2}
    )

    def loss(values):
        seq = DifferentiableSequence(sequence, **{which: values})
        echo = simulate(sim(output="complex"), rows, seq)
        return (
            torch.view_as_real(echo)
            * torch.linspace(-1, 1, echo.numel() * 2, dtype=F64).reshape(*echo.shape, 2)
        ).sum()

    x = torch.tensor(base[which], dtype=F64, requires_grad=True)
    loss(x).backward()
    for i in range(2):
        e = torch.zeros(2, dtype=F64)
        e[i] = 1e-4
        fd = (
            loss(torch.tensor(base[which], dtype=F64) + e)
            - loss(torch.tensor(base[which], dtype=F64) - e)
        ) / 2e-4
        assert float(x.grad[i]) == pytest.approx(float(fd), rel=1e-6)


def test_fixed_sequence_tensors_reproduce_the_sequence():
    sequence = PulseSequence([Pulse(0.0, 80.0, 10.0), Pulse(0.6, 150.0, "y")], 1.6)
    rows = tensors(
        {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.3, "alpha_z": 0.2}
    )
    ref = simulate(sim(output="complex"), rows, sequence)
    got = simulate(
        sim(output="complex"),
        rows,
        DifferentiableSequence(
            sequence,
            torch.tensor([80.0, 150.0], dtype=F64),
            torch.tensor([10.0, 90.0], dtype=F64),
        ),
    )
    assert np.abs((got - ref).numpy()).max() <= 1e-12


def test_registered_kernel_gradient_through_torch_function():
    def exponential(dx, dy, length):
        # numpy arrays from the simulator, tensors from autodiff's gradient
        xp = torch if isinstance(dx, torch.Tensor) else np
        return xp.exp(-xp.hypot(dx, dy) / length)

    register_kernel("exp_torch_test", exponential)
    try:
        rows = {
            "kernel": ["exp_torch_test"],
            "length": [1.5],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        }
        grad, fd = fd_check({}, rows, "length")
        assert grad == pytest.approx(fd, rel=1e-6)
        ref = sim(backend="numpy", output="complex").simulate(rows)
        got = simulate(sim(output="complex"), tensors(rows, grad=("length",)))
        assert np.abs(got.detach().numpy() - ref).max() <= 1e-12
    finally:
        unregister_kernel("exp_torch_test")


def test_registered_numpy_kernel_refuses_length_gradient():
    register_kernel(
        "exp_numpy_test", lambda dx, dy, length: np.exp(-np.hypot(dx, dy) / length)
    )
    try:
        rows = {
            "kernel": ["exp_numpy_test"],
            "length": [1.5],
            "alpha_xy": [0.3],
            "alpha_z": [0.2],
        }
        # without grad on its length, numpy evaluates it
        ref = sim(backend="numpy").simulate(rows)
        got = simulate(sim(), tensors(rows, grad=("alpha_z",)))
        assert np.abs(got.detach().numpy() - ref).max() <= 1e-12
        with pytest.raises(ValueError, match="exp_numpy_test.*torch"):
            simulate(sim(), tensors(rows, grad=("length",)))
    finally:
        unregister_kernel("exp_numpy_test")


def test_checkpointed_gradient_equals_plain():
    rows = {
        "kernel": ["gaussian", "rkky"],
        "length": [2.0, 6.0],
        "alpha_xy": [0.3, 0.2],
        "alpha_z": [0.2, 0.1],
    }
    grads = []
    for segment in (None, 4, 1000):
        params = tensors(rows, grad=("alpha_xy", "alpha_z", "length"))
        simulate(sim(output="magnitude"), params, segment=segment).sum().backward()
        grads.append(
            torch.cat([params[k].grad for k in ("alpha_xy", "alpha_z", "length")])
        )
    np.testing.assert_allclose(
        grads[1].numpy(), grads[0].numpy(), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        grads[2].numpy(), grads[0].numpy(), rtol=1e-12, atol=1e-15
    )


def test_plan_segments():
    assert plan_segments(1, 8, 50, np.float64) is None
    segment = plan_segments(4, 100, 1884, np.float64)
    assert 1 <= segment < 1884
    with pytest.raises(ValueError, match="needs about .* segments of"):
        plan_segments(10**6, 1000, 10**5, np.float64)


def test_graph_size_estimate():
    """The per-step graph estimate holds what the backward pass keeps."""
    from sknmr.autodiff import _simulate as autodiff

    saved = {}  # storage -> bytes: a step's new spins are the next one's input

    def pack(t):
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    n = 8
    s = sim(lattice_size=n, t1=50.0, output="complex")
    params = tensors(
        {
            "kernel": "gaussian",
            "length": 2.0,
            "alpha_xy": 0.05,
            "alpha_z": 0.05,
            "linewidth": 0.1,
        },
        grad=("alpha_z", "linewidth", "length"),
    )
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        simulate(s, params)
    per_spin_step = sum(saved.values()) / (s.n_times - 1) / (n * n * 8)
    assert 0.5 * autodiff._SAVED_VALUES_PER_SPIN_STEP <= per_spin_step
    assert per_spin_step <= 1.1 * autodiff._SAVED_VALUES_PER_SPIN_STEP


# -- bad input ---------------------------------------------------------------
GOOD = {"kernel": "gaussian", "length": 2.0, "alpha_xy": 0.1, "alpha_z": 0.05}


@pytest.mark.parametrize(
    "change,error,match",
    [
        ({"kernel": torch.tensor([1.0])}, TypeError, "kernel is a name"),
        ({"kernel": "nope"}, ValueError, "kernel must be one of"),
        ({"wibble": 1.0}, ValueError, "unknown column"),
        ({"alpha_z": torch.tensor([1, 2])}, TypeError, "floating-point"),
        ({"alpha_z": torch.zeros(2, 2, dtype=F64)}, ValueError, "shape"),
        (
            {"alpha_z": torch.zeros(3, dtype=F64), "length": torch.ones(2, dtype=F64)},
            ValueError,
            "different lengths",
        ),
        ({"alpha_z": -0.1}, ValueError, "alpha_z must lie"),
        (
            {"exponent": 1.0, "kernel": "power"},
            ValueError,
            "unknown column",
        ),
        ({"alpha_x": 0.1}, ValueError, "either alpha_xy"),
        ({"t1": 1.0, "t2": 5.0}, ValueError, "t2 must be at most"),
        ({"length": -1.0}, ValueError, "length"),
        (
            {
                "kernel": "uniform",
                "length": torch.tensor(2.0, dtype=F64, requires_grad=True),
            },
            ValueError,
            "step in its radius",
        ),
        (
            {"staggered": torch.tensor(1.0, dtype=F64, requires_grad=True)},
            ValueError,
            "staggered",
        ),
    ],
)
def test_bad_input_refused(change, error, match):
    with pytest.raises(error, match=match):
        simulate(sim(), {**GOOD, **change})


def test_bad_sequence_tensors_refused():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        simulate(sim(), GOOD, DifferentiableSequence(angles=torch.ones(3, dtype=F64)))
    with pytest.raises(TypeError, match="sequence must be"):
        simulate(sim(), GOOD, "hahn")
    with pytest.raises(TypeError, match="EchoSimulator"):
        simulate(object(), GOOD)


@pytest.mark.parametrize(
    "lattice",
    [
        Lattice.triangular(5),
        Lattice.rectangular(4, 5, 1.3),
        Lattice.tetragonal(4, 3, c=1.5),
        Lattice.cubic(3),
    ],
    ids=["triangular", "rectangular", "tetragonal", "cubic"],
)
@pytest.mark.parametrize("line_shape", ["lorentzian", "gaussian"])
def test_forward_agrees_on_any_lattice(lattice, line_shape):
    rows = {**ROWS, "p_wave": [0.3, 0.0, 0.0, 0.2]}
    kw = {"lattice": lattice, "output": "complex", "line_shape": line_shape}
    ref = sim(backend="numpy", **kw).simulate(rows)
    got = simulate(sim(**kw), tensors(rows))
    assert np.abs(got.numpy() - ref).max() <= 1e-12


LATTICE_GRADS = [
    ("triangular", "length", {"kernel": ["gaussian"], "length": [1.5]}),
    ("triangular", "length", {"kernel": ["power"], "length": [1.5]}),
    ("triangular", "d_wave", {"kernel": ["gaussian"], "d_wave": [0.3]}),
    ("triangular", "linewidth", {"kernel": ["gaussian"], "linewidth": [0.5]}),
    ("tetragonal", "length", {"kernel": ["gaussian"], "length": [1.5]}),
    ("tetragonal", "alpha_z", {"kernel": ["gaussian"]}),
]


@pytest.mark.parametrize(
    "lattice,name,row", LATTICE_GRADS, ids=[f"{a}-{b}" for a, b, _ in LATTICE_GRADS]
)
def test_gradients_on_other_lattices(lattice, name, row):
    lattice = {
        "triangular": Lattice.triangular(5),
        "tetragonal": Lattice.tetragonal(4, 3, c=1.5),
    }[lattice]
    rows = {"length": [1.5], "alpha_xy": [0.3], "alpha_z": [0.2], **row}
    settings = {"lattice": lattice, "output": "complex", "pulse_angle": 70.0}
    if name == "linewidth":
        settings["line_shape"] = "gaussian"  # the normal law's inverse CDF
    grad, fd = fd_check(settings, rows, name)
    assert grad == pytest.approx(fd, rel=1e-6)
    assert abs(fd) > 1e-4  # the echo depends on it


def test_plan_segments_on_a_lattice():
    # as many nuclei as the 100 x 100 square lattice: the same plan
    rectangular = Lattice.rectangular(50, 200, 2.0)
    segment = plan_segments(4, rectangular, 1884, np.float64)
    assert segment == plan_segments(4, 100, 1884, np.float64) is not None
    with pytest.raises(ValueError, match="200 x 200 x 200 lattice"):
        plan_segments(10**3, Lattice.cubic(200), 10**5, np.float64)
