"""
===================================================
An echo decay: a measurement beside the simulations
===================================================

An echo decay is the amplitude of successive echoes against the echo time:
Hahn echoes at several ``tau``, or the tops of a CPMG train. Relaxation
alone makes it exponential, ``exp(-t / T2)``; the indirect nuclear coupling
of correlated-electron NMR adds to it, in the usual form
``A exp(-t / T2L - (t / T2G) ** 2)``. Here a "measured" decay (simulated tops
with noise, written as the two-column text export of a spectrometer's T2
software) is read with :func:`~sknmr.io.read_decay`, fitted with
:func:`~sknmr.decay.fit_decay` (bootstrap intervals), and set beside the
decays of simulated materials, whose tops
:meth:`~sknmr.io.EchoDecay.from_echoes` takes from simulated Hahn echoes.
"""

# %%
# Simulated Hahn echoes at ten tau
# --------------------------------
# Three materials on a 16 x 16 lattice, all with ``T2 = 400`` us: no
# coupling, and the XY and Ising couplings at two strengths. Each ``tau``
# needs its own simulator (its grid ends after the echo); ``tau`` is put on
# the time grid so that the echo falls on a sample.
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from sknmr import EchoSimulator
from sknmr.decay import fit_decay
from sknmr.io import EchoDecay, read_decay

dt = EchoSimulator().dt
taus = np.round(np.arange(5.0, 85.0, 8.0) / dt) * dt
couplings = [0.0, 0.02, 0.05]
labels = [f"alpha_xy = alpha_z = {a:g} MHz" for a in couplings]
table = {
    "kernel": ["gaussian"] * 3,
    "length": [3.0] * 3,
    "alpha_xy": couplings,
    "alpha_z": couplings,
    "t2": [400.0] * 3,
}
traces, grids = [], []
for tau in taus:
    sim = EchoSimulator(lattice_size=16, tau=tau, random_state=0)
    traces.append(sim.simulate(table))
    grids.append(sim.times)
simulated = [
    EchoDecay.from_echoes([rows[k] for rows in traces], grids, 2 * taus)
    for k in range(len(couplings))
]

# %%
# A "measured" decay
# ------------------
# The most coupled material's tops with noise, exported as text: echo time
# in ms and the amplitude. Reading it back gives the echo times in us.
rng = np.random.default_rng(1)
tops = simulated[2].magnitude + rng.normal(0, 0.004, len(simulated[2]))
path = os.path.join(tempfile.mkdtemp(), "t2_export.csv")
with open(path, "w") as handle:
    handle.write("echo_time_ms,amplitude\n")
    for t, a in zip(simulated[2].times / 1e3, tops, strict=True):
        handle.write(f"{t:.6f},{a:.6f}\n")
measured = read_decay(path, time_unit="ms")
print(measured)

# %%
# Fits
# ----
# The exponential model, with 90 % bootstrap intervals (residual
# bootstrap); the stretched one tells whether the decay is exponential at
# all (``beta = 1``).
exponential = fit_decay(measured, "exponential", n_bootstrap=100, random_state=0)
stretched = fit_decay(measured, "stretched", n_bootstrap=100, random_state=0)
print(exponential)
print(stretched)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
exponential.plot(axes[0])
stretched.plot(axes[1])
axes[0].set_title("exponential")
axes[1].set_title("stretched exponential")
fig.tight_layout()

# %%
# Beside the simulated materials
# ------------------------------
# The same model fitted to each simulated decay: the coupling shortens the
# decay well below the 400 us of relaxation alone, and the measured ``T2``
# lies with the material it came from.
fig, ax = plt.subplots(figsize=(6, 4))
for label, decay in zip(labels, simulated, strict=True):
    fit = fit_decay(decay, "exponential", n_bootstrap=20, random_state=0)
    ax.plot(
        decay.times,
        decay.magnitude,
        "-",
        label=f"{label}: T2 {fit.params['T2']:.3g} us",
    )
low, high = exponential.intervals["T2"]
ax.plot(
    measured.times,
    measured.phased(),
    "ko",
    ms=3,
    label=f"measured: T2 {exponential.params['T2']:.3g} [{low:.3g}, {high:.3g}] us",
)
ax.set_xlabel("echo time (us)")
ax.set_ylabel("echo amplitude")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
