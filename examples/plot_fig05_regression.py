"""
=======================================================
Fig. 5: predicting W, L and the couplings by regression
=======================================================

The paper's prior by kernel (a-d) and the out-of-bag and test R^2 of random
forests that predict W, L, alpha_xy and alpha_z from the echo (e), trained
on all kernels (C), on the power-law echoes only (P) and on the others (NP),
with pointwise (PT) or polynomial (PF) features.

The paper: alpha_xy and W predicted well (R^2 about 0.9 and 0.8), alpha_z
poorly (the pulse sequence leaves almost no magnetization along z for it to
act on), and L well for power-law echoes only (above 0.8). Quick size here:
600 echoes on a 32 x 32 lattice, a single random split.
"""

# %%
# The dataset
# -----------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer, curve_scaler
from sknmr.datasets import get_data_home, make_echoes
from sknmr.study import REGRESSION_TARGETS, regression_table

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)
X, targets = echoes.data, echoes.target

# %%
# (a-d) The parameters of the dataset, by kernel
# ----------------------------------------------
# alpha_xy, alpha_z and W are uniform-ish by construction (the W window cuts
# the corners of the alpha square); L depends on how each kernel's length
# parameter enters it, so its distribution differs by kernel. On this small
# lattice L is shorter than on the paper's 100 x 100 one.
fig, axes = plt.subplots(1, 4, figsize=(15, 3.5))
for ax, column in zip(axes, ["alpha_xy", "alpha_z", "W", "L"], strict=True):
    for kernel, group in targets.groupby("kernel"):
        ax.hist(group[column], bins=20, histtype="step", linewidth=1.5, label=kernel)
    ax.set_xlabel(column + (" (MHz)" if column != "L" else " (lattice constants)"))
axes[0].set_ylabel("echoes")
axes[0].legend()
fig.suptitle("(a-d) parameter distributions")
fig.tight_layout()

# %%
# (e) R^2 of random forests
# -------------------------
# :func:`sknmr.study.regression_table` fits one forest per target and subset
# (all, power, non-power) on 75 % of the echoes and reports its out-of-bag
# R^2 and its R^2 on the held-out 25 %.
pt = make_pipeline(curve_scaler(), EchoWindow()).fit_transform(X)
pf = PolynomialSectionFeaturizer().fit_transform(pt)
forest = RandomForestRegressor(n_estimators=100, oob_score=True, random_state=0,
                               n_jobs=2)
tables = {
    name: regression_table(features, targets, regressor=forest, random_state=0)
    for name, features in [("PT", pt), ("PF", pf)]
}
table = pd.concat(tables, names=["features"])
print(table.round(3))

# %%
# One panel per subset; bars per target, for out-of-bag and test R^2.
subsets = {"all": "C: all kernels", "power": "P: power law",
           "non-power": "NP: non-power"}
fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
bar_width = 0.2
x = np.arange(len(REGRESSION_TARGETS))
for ax, (subset, title) in zip(axes, subsets.items(), strict=True):
    for k, (name, score) in enumerate(
        [("PT", "oob_r2"), ("PT", "test_r2"), ("PF", "oob_r2"), ("PF", "test_r2")]
    ):
        values = [table.loc[(name, subset, target), score]
                  for target in REGRESSION_TARGETS]
        ax.bar(x + (k - 1.5) * bar_width, values, bar_width,
               label=f"{name} {score.split('_')[0].upper()}")
    ax.set_xticks(x, REGRESSION_TARGETS)
    ax.axhline(0, color="k", linewidth=0.8)
    ax.set_title(title)
axes[0].set_ylabel("R^2")
axes[0].set_ylim(-0.3, 1)
axes[-1].legend(loc="lower right")
fig.suptitle("(e) regression scores")
fig.tight_layout()
plt.show()
