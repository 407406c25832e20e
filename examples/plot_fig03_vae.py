"""
======================================
Fig. 3: the latent space of a beta-VAE
======================================

A :class:`~sknmr.BetaVAE` learns a two-dimensional latent space of the
echoes without any label. The paper finds the interaction weight W ordered
along one latent axis, for the full series (a) and for the area of interest
(c), and decodes points along that axis into echoes (b, d): a clean echo at
small W, a suppressed one with ringing at large W.

Quick size: 600 echoes on a 32 x 32 lattice (the paper: 15000 on
100 x 100); which latent axis carries W, and its sign, depend on the seed.
"""

# %%
# The dataset
# -----------
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr
from sklearn.pipeline import make_pipeline

from sknmr import BetaVAE, EchoSimulator, EchoWindow, curve_scaler
from sknmr.datasets import get_data_home, make_echoes
from sknmr.plotting import EchoDisplay, LatentSpaceDisplay

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)
X, targets, times = echoes.data, echoes.target, echoes.times


# %%
# Train the two VAEs
# ------------------
# Each curve is scaled to [0, 1] over its full series first
# (:func:`~sknmr.curve_scaler`), as the Bernoulli likelihood of the sigmoid
# output needs; the window is cut after scaling, so it keeps the echo's
# height relative to ``M(0)``. The network sizes are the
# paper's: (512, 128, 16) for the full series, (128, 32, 16) for the window;
# beta = 2, early stopping after 7 epochs without improvement. To keep the
# gallery quick, training stops after 60 epochs at most, with batches of 64.
training = {"batch_size": 64, "max_epochs": 60, "random_state": 0}
full_vae = make_pipeline(curve_scaler(), BetaVAE(**training))
window_vae = make_pipeline(
    curve_scaler(), EchoWindow(), BetaVAE(hidden_sizes=(128, 32, 16), **training)
)
Z_full = full_vae.fit_transform(X)
Z_window = window_vae.fit_transform(X)
for name, model in [("full", full_vae), ("window", window_vae)]:
    vae = model[-1]
    print(f"{name}: {vae.n_epochs_} epochs, best validation reconstruction "
          f"{min(vae.history_[:, 'valid_recon']):.2f}")


# %%
# Which latent axis carries W?
# ----------------------------
# The axes have no fixed orientation: find the one whose coordinate
# correlates most with W (Spearman's rho).
def w_axis(Z):
    rho = [spearmanr(Z[:, k], targets["W"]).statistic for k in range(Z.shape[1])]
    axis = int(np.argmax(np.abs(rho)))
    return axis, rho


for name, Z in [("full", Z_full), ("window", Z_window)]:
    axis, rho = w_axis(Z)
    print(f"{name}: Spearman rho with W per axis {np.round(rho, 2)}, "
          f"W along LA{axis + 1}")


# %%
# (a, c) The latent space coloured by kernel, W and L
# ---------------------------------------------------
def latent_row(Z, title):
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    LatentSpaceDisplay(Z, c=targets["kernel"].to_numpy(), c_label="kernel").plot(
        ax=axes[0])
    LatentSpaceDisplay(Z, c=targets["W"], c_label="W (MHz)").plot(ax=axes[1])
    LatentSpaceDisplay(Z, c=targets["L"], c_label="L").plot(ax=axes[2])
    fig.suptitle(title)
    fig.tight_layout()


latent_row(Z_full, "(a) full series")
latent_row(Z_window, "(c) area of interest")

# %%
# (b, d) Echoes decoded along the W axis
# --------------------------------------
# Points ``(x, 0)`` or ``(0, x)`` with x from -2.5 to 2.5, decoded by
# :meth:`~sknmr.BetaVAE.latent_traversal`; each curve is coloured by the mean
# W of the 20 echoes whose latent coordinate lies nearest to x.
values = np.linspace(-2.5, 2.5, 11)


def traversal(model, Z, curve_times, title):
    axis, rho = w_axis(Z)
    curves = model[-1].latent_traversal(axis=axis, values=values)
    # mean W of the 20 training echoes nearest to each x along the axis
    nearest = np.argsort(np.abs(Z[:, axis][:, None] - values[None, :]), axis=0)[:20]
    mean_w = targets["W"].to_numpy()[nearest].mean(axis=0)
    display = EchoDisplay(curves, curve_times, c=mean_w,
                          c_label="mean W near x (MHz)").plot(linewidth=1.2)
    display.ax_.set_ylabel("decoded |M(t)| (scaled)")
    display.ax_.set_title(f"{title}: along LA{axis + 1}")


traversal(full_vae, Z_full, times, "(b) full series")
traversal(window_vae, Z_window, window_vae[1].times_, "(d) area of interest")
plt.show()
