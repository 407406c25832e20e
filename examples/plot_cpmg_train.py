"""
=====================================================
A CPMG train: refocusing, relaxation and the coupling
=====================================================

The Carr-Purcell-Meiboom-Gill (CPMG) sequence follows a 90 degree pulse
about x at ``t = 0`` with 180 degree pulses about y at ``tau, 3 tau, 5 tau,
...``; each refocuses the spins dephased by their offsets, so echoes form at
``2 tau, 4 tau, 6 tau, ...``. Whatever the echoes lose from one to the next
is what the refocusing pulses cannot undo:

* for independent spins without relaxation, nothing: every echo comes back
  to ``|M(0)| = 0.5``;
* with transverse relaxation ``T2``, the echo heights follow
  ``0.5 exp(-t / T2)``, which is how T2 is measured;
* with the electron-mediated coupling, the spins also turn in the mean field
  of their neighbours, which the pulses do not refocus, and the echoes decay
  even without relaxation;
* with imperfect refocusing pulses, the phase of those pulses matters: the
  Meiboom-Gill choice (about y, parallel to the magnetization after the 90
  degree pulse about x) keeps the echoes, the original Carr-Purcell one
  (about x) accumulates the pulse error.

Each train here has 8 echoes with ``tau = 20`` us on a 24 x 24 lattice
(a Gaussian kernel with ``xi = 4`` where coupled).
"""

# %%
# One train, four materials
# -------------------------
# :func:`~sknmr.sequences.cpmg` builds the sequence, and one table holds the
# cases: the per-echo column ``t2`` (us) gives relaxation to one row only
# (NaN keeps the simulator's, here none). ``tau`` is put on the simulator's
# time grid so that the echoes fall exactly on samples.
import matplotlib.pyplot as plt
import numpy as np

from sknmr import EchoSimulator
from sknmr.sequences import cpmg

dt = EchoSimulator().dt  # the default time step (us)
tau = round(20.0 / dt) * dt  # about 20 us, on the grid
n_echoes = 8
T2 = 150.0

labels = [
    "no coupling, no relaxation",
    f"no coupling, T2 = {T2:g} us",
    "XY coupling, W = 0.1 MHz",
    "XY coupling, W = 0.2 MHz",
    "Ising coupling, W = 0.2 MHz",
]
table = {
    "kernel": ["gaussian"] * 5,
    "length": [4.0] * 5,
    "alpha_xy": [0.0, 0.0, 0.05, 0.1, 0.0],
    "alpha_z": [0.0, 0.0, 0.0, 0.0, 0.2],
    "t2": [np.nan, T2, np.nan, np.nan, np.nan],
}
sim = EchoSimulator(lattice_size=24, sequence=cpmg(tau, n_echoes), random_state=0)
echoes = sim.simulate(table)
times, echo_times, pulse_times = sim.times, sim.echo_times, sim.pulse_times
echo_steps = np.rint(echo_times / sim.dt).astype(int)
heights = echoes[:, echo_steps]

print("echo times (us):", np.round(echo_times, 1))
for label, row in zip(labels, heights, strict=True):
    print(f"{label:28s}", np.round(row, 3))
print(f"{'0.5 exp(-t / T2)':28s}", np.round(0.5 * np.exp(-echo_times / T2), 3))

# %%
# The traces
# ----------
# ``|M(t)|`` of the first four rows, with the refocusing pulses (dotted
# lines) and the echo heights (dots). Between pulses the magnetization
# dephases within a few microseconds (an 80 kHz line) and comes back at each
# echo.
colours = ["0.2", "C0", "C1", "C3", "C2"]
fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True, sharey=True)
for k, ax in enumerate(axes):
    ax.plot(times, echoes[k], color=colours[k], lw=0.8)
    ax.plot(echo_times, heights[k], "o", color=colours[k], ms=4)
    for t in pulse_times[1:]:
        ax.axvline(t, color="0.6", ls=":", lw=0.8)
    ax.set_ylabel(r"$|M(t)|$")
    ax.set_title(labels[k], fontsize=10, loc="left")
axes[1].plot(times, 0.5 * np.exp(-times / T2), "k--", lw=1, label=r"$0.5\,e^{-t/T_2}$")
axes[1].legend(loc="upper right")
axes[-1].set_xlabel("t (us)")
fig.tight_layout()
plt.show()

# %%
# Echo heights
# ------------
# Without coupling and relaxation the train refocuses completely: every echo
# is 0.5. With ``T2`` alone the echoes lie on ``0.5 exp(-t / T2)``. The XY
# coupling lowers the first echo already and keeps lowering the train
# although there is no relaxation: a 180 degree pulse about y reverses
# ``I^z``, and with it the sign of the offset term ``nu_i I^z``, which is
# why the offsets refocus; but it reverses ``I^x`` and its mean field
# ``w^x`` together, so the coupling term ``alpha_x w^x I^x`` (and likewise
# ``alpha_y w^y I^y``) keeps its sign and is not undone. The decay is no
# exponential: at W = 0.1 MHz the second echo is higher than the first and
# the heights come down in pairs; at W = 0.2 MHz the train drops faster at
# first and then levels off near 0.2. The traces also show signal between
# the echoes, just before every other refocusing pulse (near 100, 180 and
# 260 us), which independent spins never give. The Ising coupling leaves
# every echo at 0.5, exactly like uncoupled spins: after a 90 degree pulse
# and perfect 180 degree pulses ``<I^z>`` stays zero, so ``alpha_z`` has
# nothing to act on (a sweep of the pulse angle reveals it).
fig, ax = plt.subplots(figsize=(8, 4.5))
fine = np.linspace(0, times[-1], 200)
ax.plot(fine, 0.5 * np.exp(-fine / T2), "k--", lw=1, label=r"$0.5\,e^{-t/T_2}$")
for k, label in enumerate(labels[:4]):
    ax.plot(echo_times, heights[k], "o-", color=colours[k], label=label)
ax.plot(
    echo_times, heights[4], "s", mfc="none", ms=9, color=colours[4], label=labels[4]
)
ax.set_xlabel("echo time (us)")
ax.set_ylabel("echo height")
ax.set_xlim(0, times[-1])
ax.set_ylim(0, 0.55)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

# %%
# Why the Meiboom-Gill phase matters
# ----------------------------------
# Real refocusing pulses are never exactly 180 degrees. With 160 degree
# pulses, uncoupled spins and no relaxation, compare refocusing about y
# (CPMG) with refocusing about x (Carr-Purcell, CP). ``output="complex"``
# gives ``M = <I^x> + i <I^y>``, whose sign at the echoes shows what each
# train does to the magnetization.
phases = {"y (CPMG)": "y", "x (CP)": "x"}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for colour, (name, phase) in zip(["C0", "C3"], phases.items(), strict=True):
    train = cpmg(tau, n_echoes, refocus_angle=160.0, refocus_phase=phase)
    m = EchoSimulator(
        lattice_size=24, sequence=train, output="complex", random_state=0
    ).simulate({"kernel": "gaussian", "length": 4.0, "alpha_xy": 0.0, "alpha_z": 0.0})
    m = m[0]
    axes[0].plot(times, np.abs(m), color=colour, lw=0.8, label=f"refocus about {name}")
    axes[1].plot(echo_times, m[echo_steps].imag, "o-", color=colour, label=name)
    print(
        f"160 degree pulses about {name:9s} <I^y> at the echoes:",
        np.round(m[echo_steps].imag, 3),
    )
for t in pulse_times[1:]:
    axes[0].axvline(t, color="0.6", ls=":", lw=0.8)
axes[0].set_xlabel("t (us)")
axes[0].set_ylabel(r"$|M(t)|$")
axes[0].legend(loc="upper right", fontsize=8)
axes[1].axhline(0, color="0.6", lw=0.8)
axes[1].set_xlabel("echo time (us)")
axes[1].set_ylabel(r"$\langle I^y \rangle$ at the echo")
axes[1].legend(fontsize=8)
fig.suptitle("160 degree refocusing pulses")
fig.tight_layout()
plt.show()

# %%
# About y, the magnetization refocuses along the axis of the pulses, where
# a pulse error does not move it, and the errors on the dephased components
# undo each other from one pulse to the next: the odd echoes lose a little
# (0.485), the even ones come back to almost 0.5, and the train does not
# decay. About
# x, the pulse error adds up from echo to echo: ``<I^y>`` alternates in sign
# (each pulse inverts it) and its size shrinks through zero within eight
# echoes. A CP train with imperfect pulses therefore fakes a fast decay that
# has nothing to do with ``T2`` or the coupling; the Meiboom-Gill phase is
# what makes CPMG echo heights a measurement of them.
