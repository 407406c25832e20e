"""
=====================================================
The derivative of an echo with respect to a coupling
=====================================================

With the disorder of the lattice fixed by ``random_state``, an echo is a
smooth function of the material's parameters. :func:`sknmr.autodiff.simulate`
runs the simulator's model in torch, so ``torch.autograd`` gives the
derivative of every sample of the echo with respect to any input given as a
tensor. Here, ``d|M(t)| / d alpha_z`` of a Hahn echo on a 16 x 16 lattice,
against the echo itself, and checked at a few times against a central
finite difference.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.autograd.forward_ad as fwAD

from sknmr import EchoSimulator
from sknmr.autodiff import simulate

sim = EchoSimulator(lattice_size=16, tau=12.0, random_state=0)
params = {"kernel": "gaussian", "length": 4.0, "alpha_xy": 0.06, "alpha_z": 0.05}

# The derivative of every sample with respect to one input is one pass of
# forward-mode differentiation (a dual number: the value and its tangent).
with fwAD.dual_level():
    alpha_z = fwAD.make_dual(
        torch.tensor(0.05, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    )
    echo, derivative = fwAD.unpack_dual(simulate(sim, {**params, "alpha_z": alpha_z}))
echo, derivative = echo[0].numpy(), derivative[0].numpy()

# Reverse mode (``.backward()``) gives the derivative of one number, an echo
# top say, with respect to every input at once.
tensors = {
    name: torch.tensor(params[name], dtype=torch.float64, requires_grad=True)
    for name in ("length", "alpha_xy", "alpha_z")
}
top = simulate(sim, {"kernel": "gaussian", **tensors})[0, 2 * sim.n_tau]
top.backward()
for name, value in tensors.items():
    print(f"d|M(2 tau)| / d{name} = {float(value.grad):+.4f}")

# a finite-difference check at a few samples
h = 1e-6
with torch.no_grad():
    plus = simulate(sim, {**params, "alpha_z": 0.05 + h})[0].numpy()
    minus = simulate(sim, {**params, "alpha_z": 0.05 - h})[0].numpy()
fd = (plus - minus) / (2 * h)
print(f"max |autograd - finite difference|: {np.abs(derivative - fd).max():.1e}")

t = sim.times
fig, (upper, lower) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
upper.plot(t, echo)
upper.set_ylabel("|M(t)|")
lower.plot(t, derivative, label="forward-mode autodiff")
lower.plot(t[::10], fd[::10], "o", ms=3, label="finite difference")
lower.set_ylabel(r"$\partial |M(t)| / \partial \alpha_z$ (1/MHz)")
lower.set_xlabel("t (us)")
lower.legend()
for ax in (upper, lower):
    ax.axvline(2 * sim.n_tau * sim.dt, color="0.7", lw=0.8)
fig.tight_layout()
plt.show()
