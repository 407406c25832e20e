"""
===========================================
Fig. 7: multiscale polynomial featurization
===========================================

:class:`~sknmr.PolynomialSectionFeaturizer` cuts the area of interest into
4, 5 and 10 equal sections and fits a cubic ``c0 + c1 x + c2 x^2 + c3 x^3``
in each, with ``x = t - t_c`` centred on the section. The 4 x (4 + 5 + 10) =
76 coefficients replace the 419 samples as features. This example draws
the fits over one echo, and checks that ``c0`` and ``c1`` are the level
and slope at each section's centre.
"""

# %%
# One echo's area of interest
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer, curve_scaler
from sknmr.datasets import get_data_home, make_echoes

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)

# An echo of medium W: a clear echo with some ringing.
index = int(np.argmin(np.abs(echoes.target["W"].to_numpy() - 0.15)))
print(echoes.target.iloc[index])
window = EchoWindow()
curve = make_pipeline(curve_scaler(), window).fit_transform(echoes.data)[index]
t = window.times_

# %%
# The featurizer
# --------------
# Fitting only reads the number of samples and their times (here the
# window's, given explicitly: a numpy array carries no feature names to read
# them from); ``transform`` is one matrix product. ``features_`` describes
# each coefficient.
poly = PolynomialSectionFeaturizer(sections=(4, 5, 10), times=t).fit(curve[None, :])
coefficients = poly.transform(curve[None, :])[0]
features = poly.features_.assign(value=coefficients)
print(features.head(8).round(4).to_string())


# %%
# The fits, section by section
# ----------------------------
def fitted_curve(n_sections):
    """The piecewise cubic of the split into ``n_sections``, on the sample times."""
    fit = np.full_like(curve, np.nan)
    rows = features[features["n_sections"] == n_sections]
    for _, section in rows.groupby("section"):
        start, stop = section["start_index"].iloc[0], section["stop_index"].iloc[0]
        x = t[start:stop] - section["center"].iloc[0]
        c = section.sort_values("power")["value"].to_numpy()
        fit[start:stop] = np.polynomial.polynomial.polyval(x, c)
    return fit


fig, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True)
axes[0].plot(t, curve, color="k")
axes[0].set_title("the area of interest of an echo scaled to [0, 1]")
for ax, n_sections in zip(axes[1:], poly.sections, strict=True):
    ax.plot(t, curve, color="0.6", linewidth=3, label="echo")
    ax.plot(t, fitted_curve(n_sections), "r--", label="cubic fits")
    edges = features.loc[features["n_sections"] == n_sections, "start"].unique()
    for edge in edges[1:]:
        ax.axvline(edge, color="0.3", linewidth=0.8, linestyle=":")
    ax.set_title(f"{n_sections} sections")
axes[1].legend(loc="upper right")
axes[-1].set_xlabel("t (us)")
fig.tight_layout()

# %%
# What the coefficients mean
# --------------------------
# ``c0`` is the fitted level at the section's centre and ``c1`` the slope
# there (per us). For the ten-section split, compare with the curve itself.
ten = features[features["n_sections"] == 10].pivot(index="section", columns="power",
                                                    values="value")
centers = features[features["n_sections"] == 10].groupby("section")["center"].first()
level_at_center = np.interp(centers, t, curve)
print(pd.DataFrame({"t_c (us)": centers.to_numpy(), "c0": ten[0].to_numpy(),
                    "curve at t_c": level_at_center}).round(3).to_string(index=False))
plt.show()
