import numpy as np
import pytest

from sknmr.prior import PAPER_PRIOR, sample_prior


def test_paper_prior_ranges_and_window():
    t = sample_prior(900, random_state=0, lattice_size=20)
    assert t["kernel"].value_counts().to_dict() == {
        "gaussian": 300,
        "power": 300,
        "rkky": 300,
    }
    assert (
        t["alpha_xy"].between(0.01, 0.1).all() and t["alpha_z"].between(0.01, 0.1).all()
    )
    assert t["W"].between(0.1, 0.3).all()
    np.testing.assert_allclose(t["W"], 2 * t["alpha_xy"] + t["alpha_z"])
    for kernel, (lo, hi) in PAPER_PRIOR["length"].items():
        assert t.loc[t.kernel == kernel, "length"].between(lo, hi).all()
    # rejection keeps the conditional law: W below 0.1 never survives, the
    # accepted W spread over the window
    assert t["W"].min() < 0.12 and t["W"].max() > 0.25
    assert (t["power"] == (t["kernel"] == "power")).all()


def test_seeded_and_custom_ranges():
    a = sample_prior(10, ("power",), random_state=1, lattice_size=10)
    b = sample_prior(10, ("power",), random_state=1, lattice_size=10)
    assert a.equals(b)
    c = sample_prior(
        5, ("gaussian",), lengths={"gaussian": (2.0, 3.0)}, lattice_size=10
    )
    assert c["length"].between(2.0, 3.0).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"kernels": ("cubic",)}, "unknown"),
        ({"kernels": ()}, "at least one"),
        ({"W": (0.5, 0.6)}, "cannot be reached"),
        ({"alpha_xy": (0.2, 0.1)}, "low <= high"),
        ({"alpha_z": (-0.1, 0.1)}, "alpha_z"),
        ({"lengths": {"gaussian": (0.0, 1.0)}}, "positive"),
        ({"lengths": {"cubic": (1.0, 2.0)}}, "unknown kernels"),
    ],
)
def test_bad_prior_fails_at_once(kwargs, match):
    args = {"n_samples": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        sample_prior(**args)
