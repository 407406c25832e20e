"""
=============================================
From a spectrometer file to W, L and p(power)
=============================================

What a physicist does with sknmr after measuring a spin echo: read the file,
ask a model trained on simulated echoes for the interaction weight ``W``, the
length scale ``L``, the couplings and the probability of a power-law kernel,
each with an interval, and check that the echo looks like the simulations.

There is no spectrometer here, so the "measurement" is a simulated echo with
receiver noise, written as a Bruker experiment folder with nmrglue; with a
real measurement, start at :func:`~sknmr.io.read_echo`. The model is trained
on the gallery's quick dataset (200 echoes per kernel on a 32 x 32 lattice),
far smaller than one would use for a real measurement: its intervals are
correspondingly wide (see the user guide, "Interpreting a measured echo",
for their measured coverage).
"""

# %%
# A "measured" echo in a Bruker folder
# ------------------------------------
# A power-law coupling (``p = 2``) with ``alpha_xy = 0.05`` and
# ``alpha_z = 0.03`` MHz, so ``W = 0.13`` MHz, recorded in quadrature at a
# signal-to-noise ratio of about 50.
import os
import tempfile

import matplotlib.pyplot as plt
import nmrglue as ng
import numpy as np

from sknmr import EchoInference, EchoSimulator
from sknmr.datasets import get_data_home, make_echoes
from sknmr.inference import echoes_at_estimate, summary
from sknmr.io import read_echo

simulator = EchoSimulator(lattice_size=32)
truth = {"kernel": "power", "length": 2.0, "alpha_xy": 0.05, "alpha_z": 0.03}
signal = simulator.set_params(output="complex", random_state=7).simulate(truth)[0]
rng = np.random.default_rng(0)
noise = 0.5 / 50 * (rng.normal(size=signal.size) + 1j * rng.normal(size=signal.size))
signal = signal + noise

folder = os.path.join(tempfile.mkdtemp(), "1")
udic = ng.fileiobase.create_blank_udic(1)
udic[0].update(size=signal.size, complex=True)
dic = ng.bruker.create_dic(udic)
dwell_us = float(simulator.dt)
dic["acqus"].update(
    {"SW_h": 1e6 / dwell_us, "TD": 2 * signal.size, "DTYPA": 2, "D": [0.0] * 32}
)
os.makedirs(folder)
ng.bruker.write(folder, dic, signal, write_prog=False, overwrite=True)

# %%
# Read it
# -------
# :func:`~sknmr.io.read_echo` guesses the format from the folder and returns a
# :class:`~sknmr.io.MeasuredEcho`: times in microseconds, the complex signal
# and what the file states.
echo = read_echo(folder)
print(echo)
print({k: echo.metadata[k] for k in ("format", "dwell_time", "tau", "n_scans")})

# %%
# A model for this experiment
# ---------------------------
# :class:`~sknmr.EchoInference` learns from echoes simulated with the same
# time grid (``tau`` above all); the gallery's cached dataset is reused.
# ``augment`` adds receiver noise to the training echoes only, since the
# measurement is noisy.
simulator.set_params(output="magnitude", random_state=None)
data = make_echoes(200, simulator=simulator, random_state=0, memory=get_data_home())
model = EchoInference(
    augment={"snr": (20, 200)}, ood_false_alarm=0.05, random_state=0
).fit(data)

# %%
# The table
# ---------
# One line per quantity: the estimate and the interval meant to hold the
# truth 90% of the time; ``p_power`` is the probability of a power-law
# kernel; ``ood`` says whether the echo lies outside what the simulations
# cover (then nothing else should be trusted).
table = model.predict(echo)
print(summary(table).to_string())
print("truth: W = 0.13, alpha_xy = 0.05, alpha_z = 0.03, power law")

# %%
# The measured echo beside echoes simulated at the estimate
# ---------------------------------------------------------
# The estimate's echo should follow the measurement; the echoes at the ends
# of the intervals show how much the data constrain the couplings.
measured = model.make_resampler(normalize="first").fit_transform([echo])[0] * 0.5
times, simulated = echoes_at_estimate(model, table)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(times, measured, color="black", lw=1, label="measured |M|")
for name, style in (("lower", ":"), ("estimate", "-"), ("upper", "--")):
    if name in simulated:
        ax.plot(times, simulated[name], style, label=f"simulated at the {name}")
ax.set(xlabel="t (us)", ylabel="|M(t)|", title="sknmr infer, in Python")
ax.legend()
plt.show()
