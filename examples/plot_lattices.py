"""
=====================================================
Square, triangular and layered lattices at equal W, L
=====================================================

The lattice of nuclei is a setting of the simulator
(``EchoSimulator(lattice=...)``, :mod:`sknmr.lattices`). This example puts
the same coupling on three lattices of about a thousand nuclei each (square
32 x 32, triangular 32 x 32 and four square 16 x 16 layers at spacing 1.5),
with a Gaussian kernel whose length ``xi`` is chosen on each lattice so that
the learning targets agree: the same ``W = 2 alpha_xy + alpha_z`` and the
same length scale ``L = sum_j r_j Khat(r_j)``.

The top row draws each lattice around one nucleus, coloured by the
normalised kernel ``Khat`` it feels from its neighbours; the bottom panel
shows the echoes, each averaged over 8 disorder draws.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import brentq

from sknmr import EchoSimulator
from sknmr.kernels import kernel_on_lattice, kernel_stats
from sknmr.lattices import Lattice

L_TARGET = 2.5  # the common length scale
alpha_xy, alpha_z = 0.08, 0.04  # W = 0.2 MHz on every lattice
lattices = {
    "square 32 x 32": Lattice.square(32),
    "triangular 32 x 32": Lattice.triangular(32),
    "4 layers 16 x 16, c = 1.5": Lattice.tetragonal(16, 4, c=1.5),
}


def xi_for(lattice):
    """The Gaussian length giving L = L_TARGET on this lattice."""
    return brentq(lambda xi: kernel_stats("gaussian", xi, lattice)[1] - L_TARGET, 1, 8)


fig = plt.figure(figsize=(12, 7.5))
grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.1])
echo_ax = fig.add_subplot(grid[1, :])
n_draws = 8
for column, (name, lattice) in enumerate(lattices.items()):
    xi = xi_for(lattice)
    # the lattice around nucleus 0 (its first layer), coloured by Khat
    K = kernel_on_lattice("gaussian", xi, lattice)
    d = lattice.displacements()
    if lattice.ndim == 3:
        K, d = K[..., 0], d[..., 0, :2]
    near = np.hypot(d[..., 0], d[..., 1]) <= 5.5
    ax = fig.add_subplot(grid[0, column])
    dots = ax.scatter(
        d[..., 0][near], d[..., 1][near], c=K[near], s=60, cmap="viridis", vmin=0
    )
    ax.plot(0, 0, "r*", markersize=12)
    ax.set(title=f"{name}\nxi = {xi:.2f}", aspect="equal", xticks=[], yticks=[])
    fig.colorbar(dots, ax=ax, shrink=0.8, label="Khat (layer 0)")

    sim = EchoSimulator(lattice=lattice, tau=40.0, random_state=0)
    params = {
        "kernel": ["gaussian"] * n_draws,
        "length": [xi] * n_draws,
        "alpha_xy": [alpha_xy] * n_draws,
        "alpha_z": [alpha_z] * n_draws,
    }
    echo = sim.simulate(params).mean(axis=0)
    kappa, L = kernel_stats("gaussian", xi, lattice)
    echo_ax.plot(sim.times, echo, label=f"{name} (L = {L:.2f}, kappa = {kappa:.1f})")
    print(f"{name:26s} xi = {xi:.3f}  |M(2 tau)| = {echo[2 * sim.n_tau]:.4f}")

echo_ax.set(
    xlabel="t (us)",
    ylabel="|M(t)|",
    title=f"Echoes at W = {2 * alpha_xy + alpha_z:.2f} MHz and L = {L_TARGET}",
)
echo_ax.legend()
fig.tight_layout()
plt.show()
