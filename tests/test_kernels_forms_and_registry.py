"""The generalised kernels: uniform, stretched gaussian, angular and staggered
weights, registered kernels, and the paper's three kernels unchanged."""

import pickle

import numpy as np
import pytest

from sknmr.kernels import (
    KERNELS,
    available_kernels,
    coupling_targets,
    kernel_on_lattice,
    kernel_parameters,
    kernel_spectrum,
    kernel_stats,
    kernel_token,
    register_kernel,
    registered_kernels,
    unregister_kernel,
)


@pytest.fixture(autouse=True)
def _clean_registry():
    """Leave no kernel registered by a test behind."""
    before = set(available_kernels())
    yield
    for name in set(available_kernels()) - before:
        unregister_kernel(name)


def exponential(dx, dy, length, shift=0.0):
    return np.exp(-np.hypot(dx, dy) / length) + shift


def lopsided(dx, dy, length):
    """A kernel that is not even under d -> -d."""
    return np.exp(-np.hypot(dx, dy) / length) * (1.0 + 0.3 * np.sin(dx + 2 * dy))


def inverse_distance(dx, dy, length):
    return np.hypot(dx, dy) ** -length  # inf at the origin: excluded


def todays_kernel(kernel, length, n):
    """The paper's kernels as the module computed them before generalising."""
    offsets = np.arange(n)
    d = np.minimum(offsets, n - offsets).astype(np.float64)
    r = np.hypot(d[:, None], d[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "gaussian":
            k = np.exp(-((r / length) ** 2))
        elif kernel == "power":
            k = r ** (-float(length))
        else:
            x = 2.0 * r / length
            k = (x * np.cos(x) - np.sin(x)) / x**4
    k[0, 0] = 0.0
    return r, k


def displacements(n):
    d = np.array([a if a <= n // 2 else a - n for a in range(n)], dtype=float)
    return d[:, None] + 0 * d[None, :], 0 * d[:, None] + d[None, :]


def assert_identical(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


# -- the paper's kernels, bit for bit ------------------------------------------
PAPER_CASES = [
    (kernel, length, n)
    for kernel, lengths in [
        ("gaussian", (0.7, 5.0, 11.18033989)),
        ("power", (0.0, 1.0, 2.0, 3.0)),
        ("rkky", (4.0, 13.0, 52.0)),
    ]
    for length in lengths
    for n in (2, 5, 6, 7, 30)
]
DEFAULT_EXTRAS = {"s_wave": 1.0, "p_wave": 0.0, "d_wave": 0.0, "staggered": 0}


@pytest.mark.parametrize("kernel, length, n", PAPER_CASES)
def test_paper_kernels_are_unchanged_bit_for_bit(kernel, length, n):
    r, k = todays_kernel(kernel, length, n)
    khat = k / k.sum()
    spec = np.fft.fft2(khat).real
    kappa = float(k.sum())
    stats = (kappa, float((r * k).sum() / kappa))
    own = {"exponent": 2.0} if kernel == "gaussian" else {}
    for extras in ({}, DEFAULT_EXTRAS, {**DEFAULT_EXTRAS, **own}):
        assert_identical(kernel_on_lattice(kernel, length, n, False, **extras), k)
        assert_identical(kernel_on_lattice(kernel, length, n, **extras), khat)
        got = kernel_spectrum(kernel, length, n, **extras)
        assert_identical(got, spec)
        assert not got.flags.writeable
        assert kernel_stats(kernel, length, n, **extras) == stats


@pytest.mark.parametrize(
    "kernel, length, kappa, L",
    [("gaussian", 5.0, 77.5398, 4.4853), ("power", 2.0, None, 12.516)],
)
def test_paper_reference_values(kernel, length, kappa, L):
    k, ell = kernel_stats(kernel, length, 100)
    if kappa is not None:
        assert k == pytest.approx(kappa, abs=1e-4)
    assert ell == pytest.approx(L, abs=1e-3)


def test_exponent_two_is_the_default_exactly():
    for n in (6, 7, 100):
        for fn in (kernel_on_lattice, kernel_spectrum, kernel_stats):
            base = fn("gaussian", 5.0, n)
            assert_identical(fn("gaussian", 5.0, n, exponent=2), base)
            assert_identical(fn("gaussian", 5.0, n, exponent=2.0), base)


def test_default_extras_are_the_default_exactly():
    register_kernel("exp", exponential, parameters={"shift": 0.0})
    cases = [("gaussian", 3), ("power", 2), ("rkky", 13), ("uniform", 2.5), ("exp", 2)]
    for kernel, length in cases:
        for fn in (kernel_on_lattice, kernel_spectrum, kernel_stats):
            assert_identical(
                fn(kernel, length, 7, **DEFAULT_EXTRAS), fn(kernel, length, 7)
            )


# -- the new forms -------------------------------------------------------------
def test_stretched_gaussian_values():
    r = todays_kernel("gaussian", 1.0, 12)[0]
    for q in (0.5, 1.0, 3.0):
        k = kernel_on_lattice("gaussian", 4.0, 12, normalize=False, exponent=q)
        expected = np.exp(-((r / 4.0) ** q))
        expected[0, 0] = 0.0
        np.testing.assert_allclose(k, expected, rtol=1e-15)


@pytest.mark.parametrize("radius", [1.0, 1.5, np.sqrt(2), 2.9, 100.0])
def test_uniform_kernel(radius):
    r = todays_kernel("gaussian", 1.0, 9)[0]
    k = kernel_on_lattice("uniform", radius, 9, normalize=False)
    expected = ((r > 0) & (r <= radius)).astype(float)
    assert_identical(k, expected)
    kappa, L = kernel_stats("uniform", radius, 9)
    assert kappa == expected.sum()
    assert L == pytest.approx((r * expected).sum() / expected.sum())
    assert kernel_spectrum("uniform", radius, 9).dtype == np.float64


def test_angular_weights_follow_the_minimum_image_angle():
    n, s, p, d = 7, 0.7, 0.5, 0.2
    base = kernel_on_lattice("gaussian", 3.0, n, normalize=False)
    k = kernel_on_lattice(
        "gaussian", 3.0, n, normalize=False, s_wave=s, p_wave=p, d_wave=d
    )
    dx, dy = displacements(n)
    theta = np.arctan2(dy, dx)
    expected = base * (s + p * np.cos(theta) + d * np.cos(2 * theta))
    np.testing.assert_allclose(k, expected, rtol=1e-14, atol=1e-300)
    # theta from the x axis, which runs along axis 0: (1, 0), (0, 1), (-1, 0)
    assert k[1, 0] == pytest.approx(base[1, 0] * (s + p + d))
    assert k[0, 1] == pytest.approx(base[0, 1] * (s - d))
    assert k[n - 1, 0] == pytest.approx(base[n - 1, 0] * (s - p + d))


def test_even_lattice_tie_is_resolved_to_plus_half():
    n = 6
    base = kernel_on_lattice("power", 1.0, n, normalize=False)
    k = kernel_on_lattice("power", 1.0, n, normalize=False, p_wave=1.0)
    # the site (3, 1) has dx = +3 (not -3): cos(theta) = 3 / sqrt(10)
    assert k[3, 1] == pytest.approx(base[3, 1] * (1 + 3 / np.sqrt(10)))
    assert k[3, 0] == pytest.approx(2 * base[3, 0])


def test_staggered_sign_and_odd_lattice_frustration():
    even = kernel_on_lattice("uniform", 10.0, 6, normalize=False, staggered=1)
    a = np.arange(6)
    expected = (-1.0) ** (a[:, None] + a[None, :])
    expected[0, 0] = 0.0
    assert_identical(even, expected)  # a checkerboard of the site indices
    odd = kernel_on_lattice("uniform", 10.0, 5, normalize=False, staggered=1)
    # dx = 2 and dx = -2 are neighbours across the seam, with the same sign
    assert odd[1, 0] == -1 and odd[2, 0] == 1 and odd[3, 0] == 1 and odd[4, 0] == -1
    assert kernel_spectrum("gaussian", 2.0, 5, staggered=1).dtype == np.float64


def test_sign_changing_kernels_have_their_own_stats():
    kappa, L = kernel_stats("uniform", 3.0, 20, staggered=1)
    k = kernel_on_lattice("uniform", 3.0, 20, normalize=False, staggered=1)
    assert kappa == k.sum() < 0
    r = todays_kernel("gaussian", 1.0, 20)[0]
    assert L == pytest.approx((r * k).sum() / k.sum())


def test_pure_p_wave_cannot_be_normalised():
    with pytest.raises(ValueError, match="cannot be normalised.*s_wave"):
        kernel_on_lattice("gaussian", 3.0, 7, s_wave=0.0, p_wave=1.0)
    with pytest.raises(ValueError, match="cannot be normalised"):
        kernel_spectrum("power", 2.0, 101, s_wave=0.0, p_wave=1.0)
    with pytest.raises(ValueError, match="s_wave=0, p_wave=1"):
        kernel_stats("rkky", 13.0, 21, s_wave=0.0, p_wave=1.0)


# -- the spectrum gives the mean field of the direct lattice sum ---------------
CONFIGS = [
    ("gaussian", 2.0, {}),
    ("gaussian", 2.0, {"exponent": 1.0}),
    ("gaussian", 2.0, {"exponent": 3.0}),
    ("power", 1.5, {"p_wave": 0.5, "s_wave": 1.0}),
    ("rkky", 4.0, {"d_wave": 0.6}),
    ("gaussian", 1.5, {"staggered": 1}),
    ("power", 2.0, {"s_wave": 0.8, "p_wave": -0.4, "d_wave": 0.3, "staggered": 1}),
    ("uniform", 1.5, {}),
    ("uniform", 2.0, {"p_wave": 0.3}),
    ("exp", 1.5, {}),
    ("exp", 1.5, {"shift": 0.2, "p_wave": 0.2}),
    ("lopsided", 2.0, {}),
]
ODD = {3, 6, 8, 10, 11}  # the configs that are not even under d -> -d


def _register_test_kernels():
    register_kernel("exp", exponential, parameters={"shift": 0.0})
    register_kernel("lopsided", lopsided)


@pytest.mark.parametrize("n", [5, 6, 7])
@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_fft_mean_field_equals_direct_lattice_sum(index, n):
    _register_test_kernels()
    kernel, length, extras = CONFIGS[index]
    khat = kernel_on_lattice(kernel, length, n, **extras)
    spec = kernel_spectrum(kernel, length, n, **extras)
    assert spec.dtype == (np.complex128 if index in ODD else np.float64)
    assert not spec.flags.writeable
    s = np.random.default_rng(index * 10 + n).normal(size=(n, n))
    w = np.zeros((n, n))
    for i1 in range(n):
        for i2 in range(n):
            for j1 in range(n):
                for j2 in range(n):
                    w[i1, i2] += khat[(j1 - i1) % n, (j2 - i2) % n] * s[j1, j2]
    fft = np.fft.ifft2(spec * np.fft.fft2(s))
    np.testing.assert_allclose(fft.real, w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fft.imag, 0.0, rtol=0, atol=1e-12)


def test_odd_kernels_are_detected_from_the_lattice_values():
    # on a 2x2 lattice every site is its own mirror image: even after all
    assert kernel_spectrum("power", 1.0, 2, p_wave=1.0).dtype == np.float64
    assert kernel_spectrum("power", 1.0, 3, p_wave=1.0).dtype == np.complex128


# -- the parameter catalogue and errors ------------------------------------------
def test_available_kernels_and_their_parameters():
    assert available_kernels() == (*KERNELS, "uniform")
    assert KERNELS == ("gaussian", "power", "rkky")  # the paper's, codes 0, 1, 2
    assert kernel_parameters("gaussian") == {"exponent": 2.0, **DEFAULT_EXTRAS}
    assert kernel_parameters("uniform") == DEFAULT_EXTRAS
    register_kernel("exp", exponential, parameters={"shift": 1})
    assert available_kernels()[-1] == "exp"
    assert kernel_parameters("exp") == {"shift": 1.0, **DEFAULT_EXTRAS}


@pytest.mark.parametrize(
    "args, extras, error, match",
    [
        (("cubic", 1.0, 10), {}, ValueError, "kernel must be one of.*uniform"),
        ((3, 1.0, 10), {}, ValueError, "kernel must be one of"),
        (("power", 1.0, 10), {"exponent": 2.0}, TypeError, "'power'.*s_wave"),
        (("gaussian", 1.0, 10), {"spin": 1.0}, TypeError, "'gaussian'.*exponent"),
        (("uniform", 0.9, 10), {}, ValueError, "radius.*>= 1"),
        (("uniform", np.nan, 10), {}, ValueError, "radius.*finite"),
        (("gaussian", 1.0, 10), {"exponent": 0.0}, ValueError, "exponent.*> 0"),
        (("gaussian", 1.0, 10), {"exponent": -1.0}, ValueError, "exponent.*> 0"),
        (("gaussian", 1.0, 10), {"staggered": 0.5}, ValueError, "staggered.*0 or 1"),
        (("rkky", 9.0, 10), {"staggered": 2}, ValueError, "staggered.*0 or 1"),
        (("rkky", 9.0, 10), {"d_wave": np.inf}, ValueError, "d_wave.*finite"),
        (("rkky", 9.0, 10), {"p_wave": "x"}, ValueError, "p_wave.*real"),
    ],
)
def test_clear_errors(args, extras, error, match):
    for fn in (kernel_on_lattice, kernel_stats, kernel_spectrum):
        with pytest.raises(error, match=match):
            fn(*args, **extras)


# -- registered kernels ----------------------------------------------------------
def test_registered_kernel_works_everywhere():
    register_kernel("exp", exponential, length_name="lambda", parameters={"shift": 0.0})
    dx, dy = displacements(8)
    raw = exponential(dx, dy, 2.0, shift=0.1)
    raw[0, 0] = 0.0
    k = kernel_on_lattice("exp", 2.0, 8, normalize=False, shift=0.1)
    np.testing.assert_array_equal(k, raw)
    np.testing.assert_allclose(kernel_on_lattice("exp", 2.0, 8, shift=0.1), k / k.sum())
    kappa, L = kernel_stats("exp", 2.0, 8, shift=0.1)
    r = todays_kernel("gaussian", 1.0, 8)[0]
    assert kappa == pytest.approx(raw.sum())
    assert L == pytest.approx((r * raw).sum() / raw.sum())
    spec = kernel_spectrum("exp", 2.0, 8, shift=0.1)
    np.testing.assert_allclose(spec, np.fft.fft2(k / k.sum()).real, atol=1e-15)
    targets = coupling_targets(
        {
            "kernel": ["exp"],
            "length": [2.0],
            "shift": [0.1],
            "alpha_xy": [0.05],
            "alpha_z": [0.01],
        },
        lattice_size=8,
    )
    assert targets["L"][0] == pytest.approx(L) and targets["power"][0] == 0
    with pytest.raises(ValueError, match="lambda"):
        kernel_on_lattice("exp", np.inf, 8)
    with pytest.raises(TypeError, match="'exp'.*shift"):
        kernel_on_lattice("exp", 2.0, 8, exponent=1.0)


def test_registered_kernel_self_term_is_excluded():
    register_kernel("inv", inverse_distance, power=True)
    np.testing.assert_allclose(
        kernel_on_lattice("inv", 2.0, 10), kernel_on_lattice("power", 2.0, 10)
    )


@pytest.mark.parametrize(
    "function, match",
    [
        (lambda dx, dy, length: np.ones(3), r"shape \(3,\).*\(6, 6\)"),
        (lambda dx, dy, length: dx + 1j * dy, "real numbers.*complex"),
        (lambda dx, dy, length: np.full(dx.shape, "a"), "real numbers"),
        (lambda dx, dy, length: 1.0 / (dx - 1), "non-finite.*dx=1, dy=0"),
        (lambda dx, dy, length: None, "shape"),
    ],
)
def test_registered_kernel_bad_outputs_are_refused_at_first_use(function, match):
    register_kernel("faulty", function)  # accepted: checked when used
    for fn in (kernel_on_lattice, kernel_stats, kernel_spectrum):
        with pytest.raises(ValueError, match="'faulty'.*" + match):
            fn("faulty", 1.0, 6)


def test_registered_kernel_output_is_copied():
    cache = {}

    def cached(dx, dy, length):
        return cache.setdefault(dx.shape, np.ones(dx.shape))

    register_kernel("cached", cached)
    kernel_on_lattice("cached", 1.0, 4)
    assert cache[(4, 4)][0, 0] == 1.0  # not zeroed in place


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("gaussian", exponential), {}, ValueError, "built-in"),
        (("uniform", exponential), {"overwrite": True}, ValueError, "built-in"),
        (("", exponential), {}, ValueError, "non-empty"),
        ((1, exponential), {}, TypeError, "'name' parameter of register_kernel"),
        (("k", 3.0), {}, TypeError, "callable"),
        (("k", exponential), {"length_name": ""}, ValueError, "length_name"),
        (("k", exponential), {"parameters": [1]}, TypeError, "'parameters'.*Mapping"),
        (("k", exponential), {"parameters": {"s_wave": 1}}, ValueError, "s_wave"),
        (("k", exponential), {"parameters": {"length": 1}}, ValueError, "identifier"),
        (("k", exponential), {"parameters": {"a b": 1}}, ValueError, "identifier"),
        (("k", exponential), {"parameters": {"a": np.nan}}, ValueError, "finite"),
        (("k", exponential), {"power": "yes"}, TypeError, "power"),
        (("k", exponential), {"length_name": 3}, TypeError, "'length_name'"),
        (("k", exponential), {"overwrite": "yes"}, TypeError, "'overwrite'"),
    ],
)
def test_register_kernel_validates(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        register_kernel(*args, **kwargs)
    assert available_kernels() == ("gaussian", "power", "rkky", "uniform")


def test_register_twice_needs_overwrite_and_unregister():
    register_kernel("exp", exponential)
    with pytest.raises(ValueError, match="already registered.*overwrite=True"):
        register_kernel("exp", lopsided)
    unregister_kernel("exp")
    assert "exp" not in available_kernels()
    with pytest.raises(ValueError, match="kernel must be one of"):
        kernel_spectrum("exp", 1.0, 6)
    with pytest.raises(ValueError, match="No kernel named 'exp'"):
        unregister_kernel("exp")
    with pytest.raises(ValueError, match="built-in"):
        unregister_kernel("gaussian")


def test_overwriting_clears_the_caches():
    register_kernel("k", exponential)
    table = {"kernel": ["k"], "length": [2.0], "alpha_xy": [0.05], "alpha_z": [0.0]}
    spec = kernel_spectrum("k", 2.0, 8)
    L = coupling_targets(table, 8)["L"][0]
    token = kernel_token("k")
    register_kernel("k", lopsided, overwrite=True)
    assert kernel_token("k") != token
    new = kernel_spectrum("k", 2.0, 8)
    assert new.dtype == np.complex128 and not np.allclose(new, spec)
    assert coupling_targets(table, 8)["L"][0] != L
    register_kernel("k", exponential, overwrite=True)
    assert kernel_token("k") == token
    assert_identical(kernel_spectrum("k", 2.0, 8), spec)
    unregister_kernel("k")
    register_kernel("k", lambda dx, dy, length: np.exp(-np.abs(dx) - np.abs(dy)))
    assert not np.allclose(kernel_spectrum("k", 2.0, 8), spec)


def test_kernel_token_follows_the_definition():
    def make(scale):
        return lambda dx, dy, length: np.exp(-np.hypot(dx, dy) / (scale * length))

    assert kernel_token("gaussian") == "gaussian"
    register_kernel("k", make(1.0))
    one = kernel_token("k")
    hash(one)
    assert pickle.loads(pickle.dumps(one)) == one
    register_kernel("k", make(1.0), overwrite=True)  # the same definition
    assert kernel_token("k") == one
    register_kernel("k", make(2.0), overwrite=True)  # a captured value changed
    assert kernel_token("k") != one
    register_kernel("k", make(1.0), parameters={"a": 1.0}, overwrite=True)
    assert kernel_token("k") != one
    register_kernel("k", make(1.0), power=True, overwrite=True)
    assert kernel_token("k") != one
    with pytest.raises(ValueError, match="kernel must be one of"):
        kernel_token("nope")


def test_registered_kernels_records_register_again():
    register_kernel("exp", exponential, length_name="lambda", parameters={"s": 1})
    register_kernel("inv", inverse_distance, power=True)
    records = registered_kernels()
    assert list(records) == ["exp", "inv"]
    assert records["exp"].parameters == {"s": 1.0} and records["inv"].power
    records["exp"].parameters["s"] = 5.0  # a copy: the registry is unchanged
    assert kernel_parameters("exp")["s"] == 1.0
    tokens = {name: kernel_token(name) for name in records}
    for name in records:
        unregister_kernel(name)
    assert registered_kernels() == {}
    for record in records.values():
        register_kernel(**record._asdict())
    assert kernel_token("inv") == tokens["inv"]
    assert kernel_token("exp") != tokens["exp"]  # its default was changed above


# -- targets ---------------------------------------------------------------------
def test_coupling_targets_anisotropic_extras_and_registered_power():
    register_kernel("inv", inverse_distance, power=True)
    table = {
        "kernel": ["gaussian", "gaussian", "power", "inv", "uniform"],
        "length": [3.0, 3.0, 2.0, 2.0, 2.0],
        "exponent": [np.nan, 1.0, 7.0, np.nan, np.nan],  # ignored for power
        "d_wave": [0.0, np.nan, 0.5, np.nan, np.nan],
        "staggered": [np.nan, np.nan, np.nan, np.nan, 1.0],
        "alpha_x": [0.01, 0.02, 0.03, 0.04, 0.05],
        "alpha_y": [0.05, 0.04, 0.03, 0.02, 0.01],
        "alpha_xy": [9.0] * 5,  # alpha_x and alpha_y take precedence
        "alpha_z": [0.1, 0.2, 0.3, 0.4, 0.5],
    }
    t = coupling_targets(table, lattice_size=12)
    np.testing.assert_allclose(t["W"], [0.16, 0.26, 0.36, 0.46, 0.56])
    assert t["power"].tolist() == [0, 0, 1, 1, 0]
    expected = [
        kernel_stats("gaussian", 3.0, 12)[1],
        kernel_stats("gaussian", 3.0, 12, exponent=1.0)[1],
        kernel_stats("power", 2.0, 12, d_wave=0.5)[1],
        kernel_stats("power", 2.0, 12)[1],
        kernel_stats("uniform", 2.0, 12, staggered=1)[1],
    ]
    np.testing.assert_allclose(t["L"], expected, rtol=1e-12)
    assert t["L"][0] == expected[0]


def test_coupling_targets_pandas_and_paper_formula():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(
        {
            "kernel": ["rkky", "power"],
            "length": [13.0, 1.0],
            "alpha_xy": [0.05, 0.02],
            "alpha_z": [0.01, 0.03],
            "s_wave": [np.nan, 2.0],
        }
    )
    t = coupling_targets(table, lattice_size=30)
    assert_identical(t["W"], 2.0 * table["alpha_xy"].to_numpy() + [0.01, 0.03])
    assert t["L"][0] == kernel_stats("rkky", 13.0, 30)[1]
    # s_wave alone scales K, which the normalisation undoes
    assert t["L"][1] == pytest.approx(kernel_stats("power", 1.0, 30)[1], rel=1e-14)


def test_coupling_targets_needs_alpha_columns():
    with pytest.raises(ValueError, match="alpha_xy.*alpha_x and alpha_y"):
        coupling_targets(
            {"kernel": ["power"], "length": [1.0], "alpha_x": [0.1], "alpha_z": [0.1]}
        )
    with pytest.raises(ValueError, match="kernel must be one of"):
        coupling_targets(
            {"kernel": ["cubic"], "length": [1.0], "alpha_xy": [0.1], "alpha_z": [0.1]}
        )
