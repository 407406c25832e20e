import numpy as np
import pytest

from sknmr.kernels import (
    coupling_targets,
    kernel_on_lattice,
    kernel_spectrum,
    kernel_stats,
    lattice_distances,
)


@pytest.mark.parametrize(
    "xi, kappa, L",
    # the reference README's values for the published curves (100x100 lattice)
    [
        (5.0, 77.5398, 4.4853),
        (11.18033989, 391.6991, 9.9330),
        (25.0, 1944.1259, 21.8300),
    ],
)
def test_gaussian_kappa_and_length_scale_match_reference(xi, kappa, L):
    k, ell = kernel_stats("gaussian", xi, 100)
    assert k == pytest.approx(kappa, abs=1e-4)
    assert ell == pytest.approx(L, abs=1e-4)


def test_minimum_image_distances_are_periodic_and_symmetric():
    r = lattice_distances(6)
    assert (
        r[0, 0] == 0
        and r[0, 3] == 3
        and r[0, 5] == 1
        and r[5, 5] == pytest.approx(np.sqrt(2))
    )
    np.testing.assert_array_equal(r, r.T)


@pytest.mark.parametrize(
    "kernel, length", [("gaussian", 3.0), ("power", 1.5), ("rkky", 13.0)]
)
def test_normalised_kernel_sums_to_one_and_excludes_self(kernel, length):
    k = kernel_on_lattice(kernel, length, 20)
    assert k[0, 0] == 0.0
    assert k.sum() == pytest.approx(1.0)
    spec = kernel_spectrum(kernel, length, 20)
    np.testing.assert_allclose(np.fft.fft2(k).imag, 0.0, atol=1e-12)
    np.testing.assert_allclose(spec, np.fft.fft2(k).real)


def test_kernel_forms():
    r = lattice_distances(10)
    raw = kernel_on_lattice("rkky", 4.0, 10, normalize=False)
    x = 2 * r[0, 1] / 4.0
    assert raw[0, 1] == pytest.approx((x * np.cos(x) - np.sin(x)) / x**4)
    assert kernel_on_lattice("power", 2.0, 10, normalize=False)[1, 1] == pytest.approx(
        0.5
    )
    assert kernel_on_lattice("gaussian", 2.0, 10, normalize=False)[
        0, 2
    ] == pytest.approx(np.exp(-1))


def test_length_scale_grows_with_range():
    assert kernel_stats("gaussian", 8, 50)[1] < kernel_stats("gaussian", 16, 50)[1]
    assert kernel_stats("power", 3, 50)[1] < kernel_stats("power", 1, 50)[1]


def test_targets():
    t = coupling_targets(
        {
            "kernel": ["rkky", "power"],
            "length": [13.0, 1.0],
            "alpha_xy": [0.05, 0.02],
            "alpha_z": [0.01, 0.03],
        },
        lattice_size=30,
    )
    np.testing.assert_allclose(t["W"], [0.11, 0.07])
    assert t["power"].tolist() == [0, 1]
    assert t["L"][0] == pytest.approx(kernel_stats("rkky", 13.0, 30)[1])


@pytest.mark.parametrize(
    "args, error, match",
    [
        (("cubic", 1.0, 10), ValueError, "kernel must be one of"),
        (("gaussian", 0.0, 10), ValueError, "must be > 0"),
        (("power", -1.0, 10), ValueError, "must be >= 0"),
        (("rkky", np.inf, 10), ValueError, "finite"),
        (("gaussian", 1.0, 1), ValueError, "lattice_size"),
        (("gaussian", 1.0, 2.5), TypeError, "lattice_size"),
    ],
)
def test_bad_kernel_arguments(args, error, match):
    with pytest.raises(error, match=match):
        kernel_on_lattice(*args)
