"""
===============================================
Figs. 10-12: what the regression models look at
===============================================

Feature rankings of random forests that predict W (Fig. 10), L (Fig. 11)
and alpha_xy (Fig. 12), trained on all kernels, on the long-range
(power-law) echoes only and on the short-range (non-power) ones only. Top
row of each figure: pointwise importances over the area of interest; bottom
row: the ten most important polynomial features, each bar over its
section's time span and coloured by coefficient order.

The paper finds the samples near the echo ``2 tau`` most important in all
models, the pre-echo level and the slope and curvature at the echo for W,
and importances that change between power and non-power echoes. The paper
took the median over 10 seeds; for speed this example fits one forest per
panel, on 600 echoes of a 32 x 32 lattice.
"""

# %%
# The dataset and the features
# ----------------------------
import matplotlib.pyplot as plt
from sklearn.ensemble import RandomForestRegressor

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer, curve_scaler
from sknmr.datasets import get_data_home, make_echoes
from sknmr.plotting import FeatureImportanceDisplay
from sknmr.study import power_subsets

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)
targets = echoes.target
window = EchoWindow().fit(echoes.data)
pt = window.transform(curve_scaler().fit_transform(echoes.data))
poly = PolynomialSectionFeaturizer(times=window.times_).fit(pt)
pf = poly.transform(pt)
subsets = power_subsets(targets)  # row masks: all, power, non-power
titles = {"all": "all kernels", "power": "long range (power)",
          "non-power": "short range (non-power)"}
echo_time = echoes.times[2 * EchoSimulator().n_tau]


def ranking_figure(target, fig_title):
    fig, axes = plt.subplots(2, 3, figsize=(16, 8),
                             gridspec_kw={"height_ratios": [1, 1.3]})
    for k, (subset, mask) in enumerate(subsets.items()):
        y = targets[target].to_numpy()[mask]
        for row, (X, featurizer) in enumerate([(pt, window), (pf, poly)]):
            model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2)
            model.fit(X[mask], y)
            FeatureImportanceDisplay.from_estimator(model, featurizer=featurizer,
                                                    ax=axes[row, k])
            axes[row, k].axvline(echo_time, color="k", linestyle=":", linewidth=0.8)
        axes[0, k].set_title(f"{titles[subset]} ({mask.sum()} echoes)")
    fig.suptitle(fig_title)
    fig.tight_layout()


# %%
# Fig. 10: W
# ----------
ranking_figure("W", "Fig. 10: feature ranking for W")

# %%
# Fig. 11: L
# ----------
ranking_figure("L", "Fig. 11: feature ranking for L")

# %%
# Fig. 12: alpha_xy
# -----------------
ranking_figure("alpha_xy", "Fig. 12: feature ranking for alpha_xy = alpha_x = alpha_y")
plt.show()
