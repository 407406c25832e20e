"""Fisher information, Cramer-Rao bounds and the sequence search on tiny lattices."""

import numpy as np
import pytest

from sknmr import EchoSimulator
from sknmr.design import expected_bounds, fisher_information, optimize_sequence
from sknmr.fitting import fit_echo
from sknmr.sequences import hahn_echo
from sknmr.utils._random import derive_seed

SEED = 0
MODEL_SEED = derive_seed(SEED, 0)
MATERIAL = {"kernel": "power", "length": 2.0, "alpha_xy": 0.08, "alpha_z": 0.05}


def _quad_sim(angle=45.0, lattice_size=6):
    return EchoSimulator(
        lattice_size=lattice_size,
        sequence=hahn_echo(3.0, angle=angle),
        random_state=MODEL_SEED,
        output="complex",
    )


@pytest.mark.slow
def test_cramer_rao_bounds_match_the_spread_of_fits():
    """Fits of one lattice's echo under repeated noise scatter as the bound says."""
    sim = _quad_sim()
    noise = 0.01
    params = ["alpha_xy", "alpha_z"]
    info = fisher_information(
        sim,
        MATERIAL,
        parameters=params,
        noise=noise,
        detection="quadrature",
        random_state=SEED,
    )
    clean = sim.simulate(MATERIAL)[0]
    rng = np.random.default_rng(0)
    estimates = []
    for _ in range(40):
        noisy = clean + noise * (
            rng.standard_normal(clean.size) + 1j * rng.standard_normal(clean.size)
        )
        fit = fit_echo(
            noisy,
            sim,
            kernel="power",
            parameters=params,
            fixed={"length": 2.0},
            init={"alpha_xy": 0.08, "alpha_z": 0.05},
            detection="quadrature",
            noise=noise,
            disorder_draws=0,
            random_state=SEED,
            max_iter=10,
        )
        estimates.append(fit.params[params].to_numpy())
    spread = np.std(estimates, axis=0, ddof=1)
    ratio = spread / info.bounds[params].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.3), ratio


def test_information_adds_over_experiments_and_detection_orders_it():
    sims = [_quad_sim(90.0), _quad_sim(45.0)]
    params = ["alpha_xy", "alpha_z"]
    kw = dict(parameters=params, noise=0.01, random_state=SEED)
    one = [fisher_information(s, MATERIAL, detection="quadrature", **kw) for s in sims]
    both = fisher_information(sims, MATERIAL, detection="quadrature", **kw)
    np.testing.assert_allclose(
        both.matrix.to_numpy(), one[0].matrix.to_numpy() + one[1].matrix.to_numpy()
    )
    blind = fisher_information(sims[1], MATERIAL, detection="phase-blind", **kw)
    # not knowing the receiver's phase can only cost information
    assert np.all(blind.bounds >= one[1].bounds * (1 - 1e-9))
    magnitude = fisher_information(
        EchoSimulator(lattice_size=6, tau=3.0), MATERIAL, detection="magnitude", **kw
    )
    # |M| of the 90-180 echo hardly sees alpha_z; the 45 degree echo in quadrature does
    assert magnitude.relative_bounds["alpha_z"] > 10 * one[1].relative_bounds["alpha_z"]
    assert np.isfinite(both.log_det)


def test_fisher_information_bad_input():
    sim = _quad_sim()
    with pytest.raises(ValueError, match="gives no value"):
        fisher_information(sim, {"kernel": "power", "length": 2.0}, ["alpha_xy"])
    with pytest.raises(ValueError, match="parameters must be distinct names"):
        fisher_information(sim, {**MATERIAL, "alpha_q": 1.0}, ["alpha_q"])
    with pytest.raises(ValueError, match="noise must be a positive"):
        fisher_information(sim, MATERIAL, ["alpha_xy"], noise=0.0)
    with pytest.raises(ValueError, match="kernel"):
        fisher_information(sim, {"length": 2.0, "alpha_xy": 0.1}, ["alpha_xy"])


def test_optimized_sequence_beats_its_random_start():
    sim = EchoSimulator(lattice_size=4, tau=2.0)
    design = optimize_sequence(
        sim,
        ["alpha_xy", "alpha_z"],
        target="alpha_z",
        duration=6.0,
        n_materials=2,
        kernels=["power"],
        detection="quadrature",
        n_candidates=4,
        n_rounds=1,
        random_state=0,
    )
    random_best = design.history.query("stage == 'random'")["score"].max()
    assert design.score >= random_best
    assert design.score == design.history["score"].max()
    assert len(design.sequence) == 2 and design.sequence.pulses[0].time == 0.0
    table = expected_bounds(
        design.simulator,
        ["alpha_xy", "alpha_z"],
        materials=design.materials,
        detection="quadrature",
        random_state=0,
    )
    # the design's score is the mean log relative bound of the target
    assert -np.mean(np.log(table["alpha_z_bound"])) == pytest.approx(
        design.score, rel=1e-4
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_pulses": 5, "duration": 1.0, "min_delay": 0.5}, "No sequence fits"),
        ({"n_pulses": 0}, "n_pulses must be"),
        ({"target": "length", "parameters": ["alpha_xy"]}, "target must be one of"),
        ({"angle_range": (90, 10)}, "angle_range must be"),
        ({"duration": -1.0}, "duration must be"),
    ],
)
def test_optimize_sequence_refuses_impossible_limits(kwargs, message):
    sim = EchoSimulator(lattice_size=4, tau=2.0)
    with pytest.raises(ValueError, match=message):
        optimize_sequence(sim, **kwargs)
