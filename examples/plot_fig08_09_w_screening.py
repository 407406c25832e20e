"""
==============================================
Figs. 8 and 9: classification with W screening
==============================================

The paper's best power vs non-power classifier first estimates the
interaction weight W, then lets a random forest trained on that W range
([0.1, 0.17], [0.17, 0.23], [0.23, 0.3] MHz) decide. It halves the
power-class error ("false-positive rate") from above 0.4 to about 0.2 and
reaches F1 0.9 (Figs. 8-9, Appendix C5).

:class:`~sknmr.WScreenedClassifier` does it as one estimator: it predicts W
with a regressor, so each held-out echo goes to the classifier of its
*predicted* bin, as it must for a real measurement. This example compares
it with an unscreened forest on the same held-out echoes, and draws the
per-bin confusion matrices and feature importances for pointwise (Fig. 8)
and polynomial (Fig. 9) features. Quick size: 600 echoes on a 32 x 32
lattice, so about 50 test echoes per bin: expect noisy numbers.
"""

# %%
# The dataset and the features
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import ConfusionMatrixDisplay, f1_score
from sklearn.model_selection import train_test_split

from sknmr import (
    EchoSimulator,
    EchoWindow,
    PolynomialSectionFeaturizer,
    WScreenedClassifier,
    curve_scaler,
)
from sknmr.datasets import get_data_home, make_echoes
from sknmr.plotting import FeatureImportanceDisplay
from sknmr.study import power_false_positive_rate

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)
targets = echoes.target
y, w = targets["power"].to_numpy(), targets["W"].to_numpy()

window = EchoWindow().fit(echoes.data)
pt = window.transform(curve_scaler().fit_transform(echoes.data))
poly = PolynomialSectionFeaturizer(times=window.times_).fit(pt)
pf = poly.transform(pt)
train, test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y,
                               random_state=0)


def forest():
    return make_pipeline(RandomOverSampler(random_state=0),
                         RandomForestClassifier(n_estimators=100, random_state=0,
                                                n_jobs=2))


# %%
# Unscreened and screened models
# ------------------------------
# ``w`` is passed to ``fit`` only: it is the true W of the *training* echoes.
# ``bin_assignment="oof"`` (the default) bins each training echo by its
# out-of-fold *predicted* W, so each bin's forest learns from the echoes the
# regressor will send it.
models = {}
for name, X in [("PT", pt), ("PF", pf)]:
    plain = forest().fit(X[train], y[train])
    screened = WScreenedClassifier(
        regressor=RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2),
        classifier=forest(),
        random_state=0,
    ).fit(X[train], y[train], w=w[train])
    models[name] = screened
    for label, model in [("unscreened", plain), ("W-screened", screened)]:
        y_pred = model.predict(X[test])
        print(f"{name} {label:>10}: F1 {f1_score(y[test], y_pred):.3f}, power "
              f"false-positive rate {power_false_positive_rate(y[test], y_pred):.3f}")
    r2 = 1 - np.mean((screened.predict_w(X[test]) - w[test]) ** 2) / np.var(w[test])
    print(f"{name} W regression on the test echoes: R^2 {r2:.3f}")

# %%
# Per-bin confusion matrices and importances
# ------------------------------------------
# Each test echo is routed by its predicted W (``predict_bin``); each panel
# is the confusion matrix of one bin's classifier on the echoes routed to
# it, rows normalised. Below it, that classifier's top features.
def per_bin_figure(name, X, fig_title):
    model = models[name]
    edges = model.bin_edges_
    bins = model.predict_bin(X[test])
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5),
                             gridspec_kw={"height_ratios": [1, 1.3]})
    for k in range(3):
        mask = bins == k
        ax = axes[0, k]
        if mask.any():
            ConfusionMatrixDisplay.from_predictions(
                y[test][mask], model.classifiers_[k].predict(X[test][mask]),
                labels=[0, 1], normalize="true", display_labels=["NP", "P"], ax=ax,
                colorbar=False)
        ax.set_title(f"predicted W in [{edges[k]:.2f}, {edges[k + 1]:.2f}): "
                     f"{mask.sum()} echoes")
        featurizer = poly if name == "PF" else window
        FeatureImportanceDisplay.from_estimator(
            model.classifiers_[k], featurizer=featurizer, ax=axes[1, k])
    fig.suptitle(fig_title)
    fig.tight_layout()


per_bin_figure("PT", pt, "Fig. 8: W-screened classification, pointwise features")
per_bin_figure("PF", pf, "Fig. 9: W-screened classification, polynomial features")
plt.show()
