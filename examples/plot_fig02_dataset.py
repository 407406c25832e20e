"""
=============================
Fig. 2: the spin-echo dataset
=============================

The paper's overview of its data: every echo with the area of interest
around ``t = 2 tau`` (a), the three interaction kernels (b), one echo per
kernel over the whole series (c) and inside the area of interest (d), and
the echoes in the frequency domain (e).

The dataset here is the gallery's quick one: 200 echoes per kernel on a
32 x 32 lattice (the paper: 5000 per kernel on 100 x 100), simulated once
and cached in ``$SKNMR_DATA_HOME`` (default ``~/sknmr_data``).
"""

# %%
# Simulate (or load) the dataset
# ------------------------------
# :func:`~sknmr.datasets.make_echoes` draws the paper's prior and simulates
# each echo; with ``memory`` the chunks are cached, so the other examples of
# the gallery read them back instead of simulating again.
import matplotlib.pyplot as plt
import numpy as np

from sknmr import EchoSimulator, EchoWindow
from sknmr.datasets import get_data_home, make_echoes
from sknmr.kernels import kernel_on_lattice, kernel_stats, lattice_distances
from sknmr.plotting import EchoDisplay

data_home = get_data_home()
simulator = EchoSimulator(lattice_size=32)
echoes = make_echoes(200, simulator=simulator, random_state=0, memory=data_home)
X, targets, times = echoes.data, echoes.target, echoes.times
print(X.shape)
print(targets.groupby("kernel")[["W", "L"]].describe().round(3).T)

# %%
# (a) All echoes, coloured by the interaction weight W
# ----------------------------------------------------
# :class:`~sknmr.EchoWindow` keeps the area of interest ``2 tau +- tau/3``;
# :class:`~sknmr.plotting.EchoDisplay` shades it.

window = EchoWindow().fit(X)
print(f"area of interest: {window.times_[0]:.1f} to {window.times_[-1]:.1f} us, "
      f"{window.times_.size} samples")
display = EchoDisplay.from_dataset(echoes, c="W", area=window)
display.ax_.set_title("(a) all echoes")

# %%
# With the paper's 80 kHz default linewidth (see the user guide's linewidth
# section) the magnetization decays within tens of microseconds after the
# first pulse (the free-induction decay), rings after the refocusing pulse
# at ``tau = 100`` us and refocuses into an echo at ``2 tau``; the larger W,
# the weaker the echo.
#
# (b) The three kernels
# ---------------------
# The unnormalised kernels ``|K(r)|`` over the minimum-image distance on the
# lattice, with the paper's parameters of similar length scale.

n = simulator.lattice_size
r = lattice_distances(n).ravel()
order = np.argsort(r)[1:]  # skip r = 0, the excluded self term
fig, ax = plt.subplots()
for kernel, length, label in [
    ("gaussian", 8.0, r"Gaussian, $\xi$ = 8"),
    ("power", 1.47, "power, p = 1.47"),
    ("rkky", 13.0, r"RKKY, $\gamma$ = 13"),
]:
    K = np.abs(kernel_on_lattice(kernel, length, n, normalize=False).ravel())
    _, L = kernel_stats(kernel, length, n)
    ax.plot(r[order], K[order], label=f"{label} (L = {L:.1f})")
ax.set_yscale("log")
ax.set_ylim(1e-6, 2)
ax.set_xlabel("r (lattice constants)")
ax.set_ylabel("|K(r)|")
ax.set_title("(b) kernels")
ax.legend()

# %%
# (c, d) One echo per kernel, at similar W
# -----------------------------------------
# The same coupling for the three kernels: ``alpha_xy = 0.08``,
# ``alpha_z = 0.04`` MHz (W = 0.2 MHz). The complex output gives both the
# magnitude and, in (e), the spectrum.
params = {
    "kernel": ["gaussian", "power", "rkky"],
    "length": [8.0, 1.47, 13.0],
    "alpha_xy": [0.08] * 3,
    "alpha_z": [0.04] * 3,
}
M = EchoSimulator(lattice_size=n, output="complex", random_state=0).simulate(params)
absM = np.abs(M)

fig, (ax_c, ax_d) = plt.subplots(1, 2, figsize=(10, 4))
EchoDisplay(absM, times, c=params["kernel"], c_label="kernel").plot(
    ax=ax_c, linewidth=1.2)
EchoDisplay(window.transform(absM), window.times_, c=params["kernel"],
            c_label="kernel").plot(ax=ax_d, linewidth=1.2)
ax_c.set_title("(c) full series")
ax_d.set_title("(d) area of interest")

# %%
# (e) The echoes in the frequency domain
# --------------------------------------
# The spectrum of the complex echo ``M(t)`` in the area of interest,
# relative to the resonance (the rotating frame's zero); zero padding to
# 2048 points only interpolates the spectrum.
echo_part = M[:, window.window_]
spectrum = np.abs(np.fft.fftshift(np.fft.fft(echo_part, n=2048, axis=1), axes=1))
freqs = np.fft.fftshift(np.fft.fftfreq(2048, d=simulator.dt)) * 1e3  # kHz
fig, ax = plt.subplots()
for kernel, row in zip(params["kernel"], spectrum, strict=True):
    ax.plot(freqs, row / row.max(), label=kernel)
ax.set_xlim(-300, 300)
ax.set_xlabel("frequency offset (kHz)")
ax.set_ylabel("|FFT M| (normalised)")
ax.set_title("(e) frequency domain")
ax.legend()
plt.show()
