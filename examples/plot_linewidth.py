"""
========================================
The linewidth question: 8 kHz or 80 kHz?
========================================

The paper states that the nuclear offsets were drawn from a Lorentzian of
8 kHz full width at half maximum. With the original simulator's units that
puts every W of the prior (0.1 to 0.3 MHz) far above the linewidth: the
interactions then lock the spins together, there is no free-induction
decay, and the *strongest* couplings give the cleanest echoes. The paper
describes the opposite: a rapid free-induction decay, clean echoes near
W = 0.1 and dephased ones near W = 0.3. A linewidth of 80 kHz reproduces
that description, which is why it is sknmr's default
(``EchoSimulator(linewidth=0.08)``; the paper's stated value is
``linewidth=0.008``).

This example simulates the same three couplings at both linewidths (a
Gaussian kernel with xi = 8 on a 32 x 32 lattice).
"""

import matplotlib.pyplot as plt
import numpy as np

from sknmr import EchoSimulator
from sknmr.plotting import EchoDisplay

W = np.array([0.1, 0.2, 0.3])
alpha_z = 0.02
params = {
    "kernel": ["gaussian"] * 3,
    "length": [8.0] * 3,
    "alpha_xy": (W - alpha_z) / 2,  # W = 2 alpha_xy + alpha_z
    "alpha_z": [alpha_z] * 3,
}

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, linewidth in zip(axes, [0.008, 0.08], strict=True):
    sim = EchoSimulator(lattice_size=32, linewidth=linewidth, random_state=0)
    echoes = sim.simulate(params)
    EchoDisplay(echoes, sim.times, c=W, c_label="W (MHz)").plot(ax=ax, linewidth=1.2)
    ax.set_title(f"linewidth = {linewidth * 1e3:g} kHz FWHM")
    n_tau = sim.n_tau
    for w, echo in zip(W, echoes, strict=True):
        print(f"linewidth {linewidth:5.3f} MHz, W = {w:.1f}: "
              f"min |M|/|M(0)| before tau {echo[:n_tau].min() / echo[0]:.2f}, "
              f"echo |M(2 tau)|/|M(0)| {echo[2 * n_tau] / echo[0]:.2f}")
fig.tight_layout()
plt.show()

# %%
# At 8 kHz the magnetization hardly decays before ``tau`` and the echo grows
# with W; at 80 kHz it decays fully at W = 0.1 and refocuses into a clean
# echo, while at W = 0.3 the echo is nearly gone, as in the paper's
# Figs. 2 and 3.
