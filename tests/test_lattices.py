"""Lattices other than the square one: geometry, kernels, echoes on every backend.

The echoes are checked against an oracle written without FFTs: the mean field
is the direct sum ``w_i = sum_j Khat(r_j - r_i) <I_j>`` over real-space
displacements (found by a search over periodic images of the site positions,
not by :meth:`Lattice.displacements`), and the echo is stepped with it in
plain numpy.
"""

import itertools
import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import sknmr._backends.numba_backend as numba_backend
from sknmr import EchoSimulator
from sknmr._backends import cuda_backend, numpy_backend
from sknmr._physics import EchoBatch, draw_offsets, echo_rng
from sknmr.datasets._echoes import _simulation_key
from sknmr.kernels import (
    coupling_targets,
    kernel_on_lattice,
    kernel_spectrum,
    kernel_stats,
    lattice_distances,
    register_kernel,
    unregister_kernel,
)
from sknmr.lattices import LATTICE_NAMES, Lattice, resolve_lattice
from sknmr.prior import add_targets, sample_prior

# -- the lattices of the oracle tests -----------------------------------------
# Generic vectors and odd cell counts leave no two periodic images equally
# near, so angular weights and staggered signs are unambiguous there; the
# triangular and layered lattices have such ties and are checked with
# isotropic kernels.
OBLIQUE = Lattice([[1.0, 0.0], [0.37, 1.21]], (5, 7))
RECTANGULAR = Lattice.rectangular(5, 7, 1.3)
TRIANGULAR = Lattice.triangular(6)
SKEWED_3D = Lattice(
    [[1.0, 0.0, 0.0], [0.29, 1.07, 0.05], [0.13, -0.21, 1.31]], (3, 5, 3)
)
TETRAGONAL = Lattice.tetragonal(4, 3, c=1.7)

ANISOTROPIC_ROWS = [
    ("gaussian", 1.5, {}),
    ("gaussian", 1.2, {"exponent": 1.3, "d_wave": 0.4}),
    ("power", 2.5, {"p_wave": 0.3}),
    ("rkky", 4.0, {"staggered": 1}),
    ("uniform", 1.6, {"d_wave": -0.5, "staggered": 1}),
    ("tilted", 1.1, {"tilt": 0.3}),
]
ISOTROPIC_ROWS = [
    ("gaussian", 1.5, {}),
    ("power", 2.5, {}),
    ("rkky", 4.0, {}),
    ("uniform", 1.6, {}),
    ("tilted", 1.1, {"tilt": 0.0}),
]


def _tilted(dx, dy, length, tilt=0.0, dz=None):
    """A registered kernel, odd for tilt != 0 (a complex spectrum)."""
    r2 = dx**2 + dy**2 + (0.0 if dz is None else dz**2)
    return np.exp(-np.sqrt(r2) / length) * (1.0 + tilt * np.tanh(dx))


@pytest.fixture(autouse=True)
def tilted_kernel():
    register_kernel("tilted", _tilted, parameters={"tilt": 0.0}, overwrite=True)
    yield
    unregister_kernel("tilted")


# -- the oracle ----------------------------------------------------------------
def _images(lattice):
    """Nearest-image displacement and cell offset between every pair of sites.

    Built from site positions: ``r_j - r_i`` plus every lattice translation
    ``sum_k s_k n_k a_k`` with ``s_k`` in -2..2, keeping the shortest. Also
    reports whether any pair has two images equally near (within 1e-9).
    """
    vectors = np.asarray(lattice.vectors)
    cells = np.array(list(itertools.product(*map(range, lattice.shape))))
    positions = cells @ vectors
    n_sites = len(cells)
    best = np.full((n_sites, n_sites), np.inf)
    second = np.full((n_sites, n_sites), np.inf)
    disp = np.zeros((n_sites, n_sites, lattice.ndim))
    offs = np.zeros((n_sites, n_sites, lattice.ndim), dtype=int)
    for shift in itertools.product(range(-2, 3), repeat=lattice.ndim):
        translation = np.asarray(shift) * np.asarray(lattice.shape)
        o = cells[None, :, :] - cells[:, None, :] + translation
        d = positions[None, :, :] - positions[:, None, :] + translation @ vectors
        r = np.linalg.norm(d, axis=-1)
        closer = r < best
        second = np.where(closer, best, np.minimum(second, r))
        best = np.where(closer, r, best)
        disp[closer], offs[closer] = d[closer], o[closer]
    off_diagonal = ~np.eye(n_sites, dtype=bool)
    ties = bool(np.any(second[off_diagonal] - best[off_diagonal] < 1e-9))
    return disp, offs, ties


def _direct_kernel(kernel, length, disp, offs, lattice, extras):
    """K at real-space displacements, written from the kernels' definitions."""
    extras = dict(extras)
    r = np.linalg.norm(disp, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "gaussian":
            k = np.exp(-((r / length) ** extras.pop("exponent", 2.0)))
        elif kernel == "power":
            k = r ** (-length)
        elif kernel == "rkky":
            x = 2 * r / length
            k = (x * np.cos(x) - np.sin(x)) / x**4
        elif kernel == "uniform":
            k = (r <= length).astype(float)
        else:
            dz = disp[..., 2] if lattice.ndim == 3 else None
            k = _tilted(disp[..., 0], disp[..., 1], length, extras.pop("tilt"), dz)
    # angle from a_1 in the plane of a_1 and a_2
    a1, a2 = (np.asarray(a, dtype=float) for a in lattice.vectors[:2])
    e1 = a1 / np.linalg.norm(a1)
    e2 = a2 - (a2 @ e1) * e1
    e2 /= np.linalg.norm(e2)
    theta = np.arctan2(disp @ e2, disp @ e1)
    k = k * (
        extras.pop("s_wave", 1.0)
        + extras.pop("p_wave", 0.0) * np.cos(theta)
        + extras.pop("d_wave", 0.0) * np.cos(2 * theta)
    )
    if extras.pop("staggered", 0):
        k = k * (-1.0) ** offs.sum(axis=-1)
    assert not extras
    np.fill_diagonal(k, 0.0)
    return k


def _direct_khat(kernel, length, lattice, extras, images):
    disp, offs, _ = images
    k = _direct_kernel(kernel, length, disp, offs, lattice, extras)
    return k / k[0].sum()  # every row sums to kappa


def _rotation(axis, angle):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    cross = np.array(
        [[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]
    )
    return c * np.eye(3) + s * cross + (1 - c) * np.outer(axis, axis)


def _direct_echo(khat, offsets, alphas, dt, n_tau):
    """The Hahn echo (90 about x, then 180 about y at tau), by direct sums."""
    ax, ay, az = alphas
    spins = np.tile([0.0, 0.0, 0.5], (len(offsets), 1))
    # U = exp(+i theta n.sigma / 2) turns the Bloch vector by -theta about n
    spins = spins @ _rotation([1, 0, 0], -np.pi / 2).T
    refocus = _rotation([0, 1, 0], -np.pi)
    m = [spins[:, 0].mean() + 1j * spins[:, 1].mean()]
    for k in range(1, 3 * n_tau):
        w = khat @ spins  # w_i = sum_j Khat(r_j - r_i) <I_j>
        field = np.stack([-ax * w[:, 0], -ay * w[:, 1], -(offsets + az * w[:, 2])], 1)
        norm = np.linalg.norm(field, axis=1)
        u = field / np.where(norm > 0, norm, 1.0)[:, None]
        angle = 2 * np.pi * norm * dt  # d<I>/dt = 2 pi B x <I>
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        along = (u * spins).sum(axis=1, keepdims=True)
        spins = spins * c + np.cross(u, spins) * s + u * along * (1 - c)
        if k == n_tau:
            spins = spins @ refocus.T
        m.append(spins[:, 0].mean() + 1j * spins[:, 1].mean())
    return np.array(m)


def _table(rows):
    columns = {
        "kernel": [k for k, _, _ in rows],
        "length": [length for _, length, _ in rows],
        "alpha_x": 0.35 + 0.05 * np.arange(len(rows)),
        "alpha_y": 0.25 + 0.03 * np.arange(len(rows)),
        "alpha_z": 0.2 + 0.02 * np.arange(len(rows)),
    }
    for name in sorted({name for _, _, extras in rows for name in extras}):
        columns[name] = [extras.get(name, np.nan) for _, _, extras in rows]
    return pd.DataFrame(columns)


CASES = {
    "oblique": (OBLIQUE, ANISOTROPIC_ROWS),
    "rectangular": (RECTANGULAR, ANISOTROPIC_ROWS),
    "triangular": (TRIANGULAR, ISOTROPIC_ROWS),
    "skewed_3d": (SKEWED_3D, ANISOTROPIC_ROWS),
    "tetragonal": (TETRAGONAL, ISOTROPIC_ROWS),
}


@pytest.fixture(scope="module")
def images():
    return {name: _images(lattice) for name, (lattice, _) in CASES.items()}


def test_oracle_lattices_have_the_intended_ties(images):
    # anisotropic kernels only where no two images are equally near
    for name, (_, rows) in CASES.items():
        assert images[name][2] == (rows is ISOTROPIC_ROWS), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_local_fields_match_the_direct_sum(case, images):
    lattice, rows = CASES[case]
    rng = np.random.default_rng(1)
    spins = rng.normal(size=(3, *lattice.shape))
    for kernel, length, extras in rows:
        khat = _direct_khat(kernel, length, lattice, extras, images[case])
        want = (khat @ spins.reshape(3, -1).T).T.reshape(spins.shape)
        spectrum = kernel_spectrum(kernel, length, lattice, **extras)
        got = numpy_backend.mean_field(spins, spectrum)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=kernel)
        # the kernel itself: row 0 of the direct matrix, cell by cell
        K = kernel_on_lattice(kernel, length, lattice, **extras)
        np.testing.assert_allclose(
            K.ravel(), khat[0], rtol=0, atol=1e-14, err_msg=kernel
        )


# tiny lattices on purpose: the kernels reach round them, which the direct sum
# over images checks
@pytest.mark.filterwarnings("ignore::sknmr.lattices.LatticeRangeWarning")
@pytest.mark.parametrize("fft", ["scipy", "torch"])
@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_echoes_match_the_direct_sum(case, backend, fft, images, monkeypatch):
    if backend in ("numpy", "torch") and fft == "torch":
        pytest.skip(f"the {backend} backend has one FFT; the numba one has two")
    monkeypatch.setattr(numba_backend, "FFT_METHOD", fft)
    lattice, rows = CASES[case]
    table = _table(rows)
    sim = EchoSimulator(
        lattice=lattice,
        tau=1.0,
        dt=0.1,
        linewidth=0.5,
        cutoff=1.0,
        output="complex",
        backend=backend,
        dtype="float64",
        batch_size=4,
        random_state=11,
    )
    got = sim.simulate(table)
    for i, (kernel, length, extras) in enumerate(rows):
        khat = _direct_khat(kernel, length, lattice, extras, images[case])
        offsets = draw_offsets(echo_rng(11, i), lattice.shape, 0.5, 1.0).ravel()
        alphas = table.loc[i, ["alpha_x", "alpha_y", "alpha_z"]].to_numpy(float)
        want = _direct_echo(khat, offsets, alphas, 0.1, sim.n_tau)
        np.testing.assert_allclose(got[i], want, rtol=0, atol=1e-10, err_msg=kernel)
    # the couplings matter: the echo is not the one of free precession
    free = _direct_echo(np.zeros_like(khat), offsets, alphas, 0.1, sim.n_tau)
    assert np.max(np.abs(got[-1] - free)) > 1e-3


# -- Lattice --------------------------------------------------------------------
def test_lattice_value_semantics():
    a, b = Lattice.triangular(8), Lattice.triangular(8)
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != Lattice.triangular(9) and a != Lattice.square(8)
    assert len({a, b, Lattice.square(8)}) == 2
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.shape = (2, 2)
    record = json.loads(json.dumps(a.to_dict()))
    assert Lattice.from_dict(record) == a
    assert eval(repr(a), {"Lattice": Lattice}) == a
    assert (a.ndim, a.n_sites) == (2, 64)
    cubic = Lattice.cubic(3)
    assert (cubic.ndim, cubic.shape, cubic.n_sites) == (3, (3, 3, 3), 27)
    layers = Lattice.tetragonal(5, 2, c=4.0)
    assert layers.shape == (5, 5, 2) and layers.vectors[2] == (0.0, 0.0, 4.0)
    assert Lattice.rectangular(3, 4, 2.0).vectors == ((1.0, 0.0), (0.0, 2.0))
    for name in LATTICE_NAMES:
        assert Lattice.from_name(name, 4) == getattr(Lattice, name)(4)
    assert resolve_lattice(None, 6) == Lattice.square(6)
    assert resolve_lattice("cubic", 3) == cubic
    assert resolve_lattice(a, 100) is a


@pytest.mark.parametrize(
    "vectors, shape, error, match",
    [
        ([[1, 0], [2, 0]], (4, 4), ValueError, "collinear"),
        ([[1, 0, 0], [0, 1, 0], [1, 1, 0]], (3, 3, 3), ValueError, "coplanar"),
        ([[1, 0], [0, 0]], (4, 4), ValueError, "non-zero"),
        ([[1, 0], [0, 1]], (4, 4, 4), ValueError, "one entry per lattice vector"),
        ([[1, 0], [0, 1]], (4,), ValueError, "one entry per lattice vector"),
        ([[1, 0], [0, 1]], 4, TypeError, "sequence of 2 integers"),
        ([[1, 0], [0, 1]], (4, 1), ValueError, "integers >= 2"),
        ([[1, 0], [0, 1]], (4, 2.5), ValueError, "integers >= 2"),
        ([[1, 0, 0], [0, 1, 0]], (4, 4), ValueError, "3 vectors of 3"),
        ([[1, 0], [0, np.nan]], (4, 4), ValueError, "finite"),
        ("square", (4, 4), TypeError, "vectors must be"),
    ],
)
def test_bad_lattices_are_refused(vectors, shape, error, match):
    with pytest.raises(error, match=match):
        Lattice(vectors, shape)


def test_bad_names_and_sizes_are_refused():
    with pytest.raises(ValueError, match="'name' parameter of Lattice.from_name"):
        Lattice.from_name("honeycomb", 4)
    with pytest.raises(ValueError, match="ratio must be"):
        Lattice.rectangular(4, 4, 0.0)
    with pytest.raises(ValueError, match="c must be"):
        Lattice.tetragonal(4, 2, c=-1.0)
    with pytest.raises(ValueError, match="exactly the keys"):
        Lattice.from_dict({"vectors": [[1, 0], [0, 1]]})
    with pytest.raises(TypeError, match="'lattice' parameter of resolve_lattice"):
        resolve_lattice(3.5, 4)


@pytest.mark.parametrize(
    "lattice",
    [
        Lattice.square(6),
        Lattice.square(7),
        Lattice.triangular(6),
        Lattice.triangular(7),
        Lattice([[1.0, 0.0], [-0.45, 0.9]], (6, 5)),
        Lattice([[1.0, 0.0, 0.0], [0.5, 0.9, 0.0], [0.4, 0.3, 0.8]], (4, 3, 5)),
    ],
)
def test_displacements_reach_the_nearest_image(lattice):
    d, m = lattice.displacements(), lattice.cell_offsets()
    assert d.shape == (*lattice.shape, lattice.ndim)
    assert not d[(0,) * lattice.ndim].any()
    vectors = np.asarray(lattice.vectors)
    np.testing.assert_allclose(m @ vectors, d, atol=1e-14)
    # each is an image of its cell, and none of a wider search is shorter
    cells = np.stack(np.meshgrid(*map(np.arange, lattice.shape), indexing="ij"), -1)
    assert np.all((m - cells) % np.asarray(lattice.shape) == 0)
    shortest = np.full(lattice.shape, np.inf)
    for shift in itertools.product(range(-2, 3), repeat=lattice.ndim):
        image = (cells + np.asarray(shift) * lattice.shape) @ vectors
        shortest = np.minimum(shortest, np.linalg.norm(image, axis=-1))
    np.testing.assert_allclose(lattice.distances(), shortest, rtol=1e-12)


def test_square_lattice_displacements_follow_the_minimum_image_convention():
    d = Lattice.square(6).displacements()
    np.testing.assert_array_equal(d[:, 0, 0], [0, 1, 2, 3, -2, -1])
    np.testing.assert_array_equal(d[0, :, 1], [0, 1, 2, 3, -2, -1])
    np.testing.assert_array_equal(
        lattice_distances(Lattice.square(6)), lattice_distances(6)
    )


def test_skewed_cell_is_not_a_wrap_in_indices():
    # cell (3, 3) of the 6 x 6 triangular lattice: the wrapped indices (3, 3)
    # are at distance sqrt(27), its image (3, -3) at 3
    lattice = Lattice.triangular(6)
    wrapped = np.array([3, 3]) @ np.asarray(lattice.vectors)
    assert np.hypot(*wrapped) == pytest.approx(math.sqrt(27))
    assert lattice.distances()[3, 3] == pytest.approx(3.0)
    np.testing.assert_array_equal(lattice.cell_offsets()[3, 3], [3, -3])
    assert lattice.distances()[2, 3] == pytest.approx(math.sqrt(7))


# -- kernels on lattices --------------------------------------------------------
@pytest.mark.parametrize("n", [7, 12])
@pytest.mark.parametrize(
    "kernel, length, extras",
    [
        ("gaussian", 3.0, {}),
        ("gaussian", 2.0, {"exponent": 1.5, "p_wave": 0.4}),
        ("power", 2.0, {"d_wave": 0.3}),
        ("rkky", 13.0, {"staggered": 1}),
        ("uniform", 2.0, {"p_wave": 0.4, "staggered": 1}),
        ("tilted", 2.0, {"tilt": 0.5}),
    ],
)
def test_square_lattice_is_bit_identical_to_lattice_size(n, kernel, length, extras):
    square = Lattice.square(n)
    for function in (kernel_on_lattice, kernel_spectrum):
        a = function(kernel, length, n, **extras)
        b = function(kernel, length, square, **extras)
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert kernel_stats(kernel, length, n, **extras) == kernel_stats(
        kernel, length, square, **extras
    )


def test_square_lattice_echoes_are_bit_identical(monkeypatch):
    # (the staggered d-wave uniform kernel cancels on the square lattice)
    table = _table([*ANISOTROPIC_ROWS[:4], ANISOTROPIC_ROWS[5]])
    for backend, dtype, fft in [
        ("numpy", "float64", "scipy"),
        ("numba", "float64", "torch"),
        ("numba", "float32", "scipy"),
    ]:
        monkeypatch.setattr(numba_backend, "FFT_METHOD", fft)
        settings = dict(
            lattice_size=7, tau=1.0, dt=0.25, output="complex", random_state=2
        )
        settings.update(backend=backend, dtype=dtype)
        plain = EchoSimulator(**settings).simulate(table)
        named = EchoSimulator(lattice="square", **settings).simulate(table)
        given = EchoSimulator(**{**settings, "lattice_size": 3})
        given.set_params(lattice=Lattice.square(7))
        assert np.array_equal(plain, named), backend
        assert np.array_equal(plain, given.simulate(table)), backend
    targets = coupling_targets(table, 7)
    on_square = coupling_targets(table, Lattice.square(7))
    assert all(np.array_equal(targets[k], on_square[k]) for k in targets)


def test_triangular_nearest_neighbour_kernel_has_six_equal_neighbours():
    for n in (6, 7, 10):
        K = kernel_on_lattice("uniform", 1.0, Lattice.triangular(n))
        assert np.count_nonzero(K) == 6
        np.testing.assert_allclose(K[K != 0], 1 / 6, rtol=0, atol=1e-15)
        kappa, L = kernel_stats("uniform", 1.0, Lattice.triangular(n))
        assert kappa == 6 and L == pytest.approx(1.0)
    # the square lattice has 4, the simple cubic 6, the tetragonal one 4 + 2
    assert np.count_nonzero(kernel_on_lattice("uniform", 1.0, 6)) == 4
    assert kernel_stats("uniform", 1.0, Lattice.cubic(4))[0] == 6
    assert kernel_stats("uniform", 1.3, Lattice.tetragonal(5, 4, c=1.2))[0] == 6
    assert kernel_stats("uniform", 1.1, Lattice.tetragonal(5, 4, c=1.2))[0] == 4


def test_kernel_arrays_have_the_lattice_shape():
    lattice = Lattice.tetragonal(4, 3, c=2.0)
    K = kernel_on_lattice("gaussian", 2.0, lattice, p_wave=0.3)
    assert K.shape == (4, 4, 3) and K[0, 0, 0] == 0 and K.sum() == pytest.approx(1)
    spectrum = kernel_spectrum("gaussian", 2.0, lattice)
    assert spectrum.shape == (4, 4, 3) and spectrum.dtype == np.float64
    assert spectrum[0, 0, 0] == pytest.approx(1.0)
    assert kernel_spectrum("gaussian", 2.0, lattice, p_wave=0.3).dtype == complex
    assert kernel_spectrum("gaussian", 2.0, lattice) is kernel_spectrum(
        "gaussian", 2.0, Lattice.tetragonal(4, 3, c=2.0)
    )  # cached by value
    large = Lattice.cubic(52)  # 140 608 nuclei: computed afresh, the same values
    first, second = (kernel_spectrum("gaussian", 2.0, large) for _ in range(2))
    assert first is not second and np.array_equal(first, second)


def test_angular_weights_are_measured_from_the_first_vector():
    # on a square lattice turned by 30 degrees, a p-wave kernel is the one of
    # the unturned lattice
    angle = np.deg2rad(30)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    turned = Lattice((turn @ np.eye(2)).T, (7, 7))
    for extras in ({"p_wave": 0.5}, {"d_wave": 0.7}):
        np.testing.assert_allclose(
            kernel_on_lattice("power", 2.0, turned, **extras),
            kernel_on_lattice("power", 2.0, 7, **extras),
            rtol=0,
            atol=1e-14,
        )
    # straight above in another layer there is no in-plane angle: s_wave only
    layers = Lattice.tetragonal(4, 3, c=1.0)
    raw = kernel_on_lattice("uniform", 1.0, layers, normalize=False, p_wave=0.5)
    assert raw[0, 0, 1] == 1.0 and raw[1, 0, 0] == 1.5 and raw[3, 0, 0] == 0.5


def test_registered_kernels_get_dz_on_3d_lattices_only():
    seen = {}

    def planar(dx, dy, length):
        seen["planar"] = dx.shape
        return np.exp(-np.hypot(dx, dy) / length)

    register_kernel("planar", planar)
    try:
        kernel_on_lattice("planar", 1.0, Lattice.triangular(5))
        assert seen["planar"] == (5, 5)
        with pytest.raises(ValueError, match="takes no dz argument"):
            kernel_on_lattice("planar", 1.0, Lattice.cubic(3))
    finally:
        unregister_kernel("planar")
    K = kernel_on_lattice("tilted", 1.0, Lattice.cubic(3), normalize=False)
    assert K[0, 0, 1] == pytest.approx(math.exp(-1.0))


def test_kernels_that_cancel_name_the_lattice():
    with pytest.raises(ValueError, match="3x4x5 lattice; it cannot be normalised"):
        kernel_stats(
            "uniform",
            1.0,
            Lattice([[1, 0, 0], [0, 1, 0], [0, 0, 1]], (3, 4, 5)),
            s_wave=0.0,
            p_wave=1.0,
        )
    with pytest.raises(TypeError, match="'lattice_size'.*sknmr.lattices.Lattice"):
        kernel_stats("gaussian", 1.0, "triangular")


# -- physics on lattices --------------------------------------------------------
@pytest.mark.parametrize(
    "kernel, length, atol",
    [("gaussian", 1.5, 1e-12), ("uniform", 1.5, 1e-12), ("power", 3.0, 1e-6)],
)
def test_widely_spaced_layers_give_the_square_lattice_echoes(kernel, length, atol):
    # layers 1000 apart: each is a square lattice with its own offsets
    n, seed = 6, 4
    params = {
        "kernel": [kernel],
        "length": [length],
        "alpha_xy": [0.3],
        "alpha_z": [0.2],
    }
    settings = dict(tau=1.0, dt=0.1, linewidth=0.5, cutoff=1.0, output="complex")
    layered = EchoSimulator(
        lattice=Lattice.tetragonal(n, 2, c=1000.0),
        backend="numpy",
        random_state=seed,
        **settings,
    ).simulate(params)[0]
    offsets = draw_offsets(echo_rng(seed, 0), (n, n, 2), 0.5, 1.0)
    square = EchoSimulator(lattice_size=n, backend="numpy", **settings)
    spectrum = kernel_spectrum(kernel, length, n)
    grid = square.experiment.grid
    echoes = []
    for layer in range(2):
        batch = EchoBatch(
            spectra=spectrum[None],
            offsets=offsets[None, :, :, layer],
            alpha_x=np.array([0.3]),
            alpha_y=np.array([0.3]),
            alpha_z=np.array([0.2]),
            dt=0.1,
            n_times=grid.n_times,
            pulses=tuple(zip(grid.pulse_steps, grid.rotations, strict=True)),
            transverse_decay=np.ones(1),
            longitudinal_decay=np.ones(1),
            dtype=np.dtype(np.float64),
        )
        echoes.append(numpy_backend.simulate(batch)[0][0])
    np.testing.assert_allclose(layered, np.mean(echoes, axis=0), rtol=0, atol=atol)


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_rotating_the_lattice_leaves_the_echo_unchanged(backend):
    params = {
        "kernel": ["gaussian", "power"],
        "length": [1.4, 2.5],
        "alpha_xy": [0.3, 0.25],
        "alpha_z": [0.2, 0.1],
        "p_wave": [0.4, np.nan],
        "d_wave": [0.3, -0.6],
        "staggered": [1, 0],
    }
    settings = dict(
        tau=1.0,
        dt=0.1,
        linewidth=0.5,
        cutoff=1.0,
        output="complex",
        backend=backend,
        dtype="float64",
        random_state=5,
    )
    for lattice, rotation in [
        (OBLIQUE, _rotation([0, 0, 1], 0.7)[:2, :2]),
        (SKEWED_3D, _rotation([0.3, -0.5, 0.8], 1.1)),
    ]:
        turned = Lattice(np.asarray(lattice.vectors) @ rotation.T, lattice.shape)
        assert turned != lattice
        before = EchoSimulator(lattice=lattice, **settings).simulate(params)
        after = EchoSimulator(lattice=turned, **settings).simulate(params)
        np.testing.assert_allclose(after, before, rtol=0, atol=1e-10)


# -- the simulator, the prior, the datasets' keys --------------------------------
def test_simulator_lattice_parameter():
    sim = EchoSimulator(lattice="triangular", lattice_size=6, tau=1.0, dt=0.25)
    assert sim.get_params()["lattice"] == "triangular"
    assert clone(sim).lattice == "triangular"
    given = EchoSimulator(lattice=Lattice.triangular(5))
    assert clone(given).lattice == Lattice.triangular(5)
    assert "Lattice(vectors=" in repr(given)
    echoes, table = sim.set_params(random_state=0).sample(3)
    want = coupling_targets(table, Lattice.triangular(6))["L"]
    np.testing.assert_array_equal(table["L"], want)
    assert not np.array_equal(table["L"], coupling_targets(table, 6)["L"])
    cubic = EchoSimulator(lattice=Lattice.cubic(3), tau=1.0, dt=0.25, random_state=0)
    assert cubic.simulate(
        {"kernel": "gaussian", "length": 1.0, "alpha_xy": 0.1, "alpha_z": 0.1}
    ).shape == (1, 12)
    assert pickle.loads(pickle.dumps(cubic)).lattice == Lattice.cubic(3)


def test_simulator_refuses_bad_lattices_before_any_work():
    params = {"kernel": "gaussian", "length": 1.0, "alpha_xy": 0.1, "alpha_z": 0.1}
    with pytest.raises(ValueError, match="'lattice' parameter"):
        EchoSimulator(lattice="honeycomb").simulate(params)
    with pytest.raises(ValueError, match="'lattice' parameter"):
        EchoSimulator(lattice=[[1, 0], [0, 1]]).simulate(params)
    # the memory check counts sites: 300^3 nuclei, not 300 x 300
    huge = EchoSimulator(lattice=Lattice.cubic(300), tau=1.0, dt=0.5)
    with pytest.raises(ValueError, match="300 x 300 x 300 lattice"):
        huge.simulate({**params, "kernel": ["gaussian"] * 64})
    # a registered 2-D kernel on a 3-D lattice: refused when the table is checked
    register_kernel("planar", lambda dx, dy, length: np.exp(-np.hypot(dx, dy)))
    try:
        with pytest.raises(ValueError, match="takes no dz argument"):
            EchoSimulator(lattice="cubic", lattice_size=3, tau=1.0).simulate(
                {**params, "kernel": "planar"}
            )
    finally:
        unregister_kernel("planar")


def test_prior_targets_on_a_lattice():
    lattice = Lattice.triangular(8)
    table = sample_prior(4, lattice_size=lattice, random_state=0)
    np.testing.assert_array_equal(table["L"], coupling_targets(table, lattice)["L"])
    again = add_targets(table.drop(columns=["W", "L", "power"]), lattice)
    pd.testing.assert_frame_equal(again, table)


def test_dataset_keys_hold_the_lattice():
    plain = _simulation_key(EchoSimulator(lattice_size=8), 0)
    assert plain["experiment"]["lattice"] == Lattice.square(8).to_dict()
    key = _simulation_key(EchoSimulator(lattice=Lattice.triangular(8)), 0)
    assert key["experiment"]["lattice"] == Lattice.triangular(8).to_dict()
    assert key != plain
    json.dumps(key)


def test_cuda_backend_refuses_what_it_cannot_simulate():
    cuda_backend.check_lattice_shape((6, 6))
    cuda_backend.check_lattice_shape((4, 6))
    with pytest.raises(ValueError, match="2-D lattices only"):
        cuda_backend.check_lattice_shape((4, 4, 4))


_CUDA_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    sys.setswitchinterval(1e-4)
    from sknmr import EchoSimulator
    from sknmr._backends import cuda_backend as cb
    from sknmr.lattices import Lattice
    params = {"kernel": ["gaussian", "power"], "length": [1.5, 2.5],
              "alpha_xy": [0.3, 0.2], "alpha_z": [0.2, 0.1],
              "p_wave": [0.4, float("nan")]}
    results = {}
    lattices = {"triangular": Lattice.triangular(5),
                "rectangular": Lattice.rectangular(4, 6, 1.3),
                "oblique": Lattice([[1.0, 0.0], [0.37, 1.21]], (5, 3))}
    for method in ("dft", "torch"):
        cb.FFT_METHOD = method
        for name, lattice in lattices.items():
            settings = dict(lattice=lattice, tau=1.0, dt=0.25, random_state=3,
                            output="complex", dtype="float64")
            got = EchoSimulator(backend="cuda", **settings).simulate(params)
            want = EchoSimulator(backend="numpy", **settings).simulate(params)
            results[f"{method}_{name}"] = float(np.max(np.abs(got - want)))
    try:
        EchoSimulator(backend="cuda", lattice="cubic", lattice_size=3,
                      tau=1.0).simulate(params)
    except ValueError as exc:
        results["refused"] = str(exc)
    print(json.dumps(results))
    """
)


@pytest.mark.slow  # ~30-60 s: numba's CUDA simulator in a fresh process
@pytest.mark.skipif(cuda_backend.cuda is None, reason="numba-cuda is not installed")
def test_cuda_backend_on_2d_lattices_under_the_simulator():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKNMR_CUDA")}
    fix = os.path.join(os.path.dirname(__file__), "_cudasim")
    env.update(NUMBA_ENABLE_CUDASIM="1", SKNMR_CUDA_SIMULATOR="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (fix, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", _CUDA_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    errors = {k: v for k, v in results.items() if k != "refused"}
    assert len(errors) == 6 and max(errors.values()) < 1e-10, errors
    assert "2-D lattices only" in results["refused"]


# the prior's xi on a 5 x 5 lattice, simulated again from the table on purpose
@pytest.mark.filterwarnings("ignore::sknmr.lattices.LatticeRangeWarning")
def test_make_echoes_on_a_lattice():
    from sknmr.datasets import make_echoes

    lattice = Lattice.triangular(5)
    sim = EchoSimulator(lattice=lattice, tau=1.0, dt=0.25, backend="numpy")
    data = make_echoes(2, kernels=["gaussian", "power"], simulator=sim, random_state=3)
    target = pd.DataFrame(data.target, columns=data.target_names)
    L = coupling_targets(target, lattice)["L"]
    np.testing.assert_array_equal(target["L"].to_numpy(float), L)
    assert data.experiment.lattice == lattice
    params = target[["kernel", "length", "alpha_xy", "alpha_z"]]
    echoes = sim.set_params(random_state=3).simulate(params, echo_ids=data.echo_ids)
    np.testing.assert_array_equal(data.data, echoes)


@pytest.mark.parametrize(
    "lattice, half",
    [
        (Lattice.square(8), 4.0),
        (Lattice.triangular(6), 3.0),
        (Lattice.rectangular(8, 4, 1.5), 3.0),
        (Lattice.tetragonal(8, 2, c=3.0), 3.0),
        (Lattice.cubic(4), 2.0),
    ],
)
def test_kernels_longer_than_half_the_lattice_warn(lattice, half):
    from sknmr._simulation.lattice_range import half_extent
    from sknmr.lattices import LatticeRangeWarning

    assert half_extent(lattice) == pytest.approx(half)
    sim = EchoSimulator(lattice=lattice, tau=0.5, backend="numpy", random_state=0)
    fits = {"kernel": "gaussian", "length": half, "alpha_xy": 0.05, "alpha_z": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", LatticeRangeWarning)
        sim.simulate(fits)  # exactly half: no image within the range
    with pytest.warns(LatticeRangeWarning, match=f"xi={half + 1:g}.*\\({half:g}\\)"):
        sim.simulate(fits | {"length": half + 1})
