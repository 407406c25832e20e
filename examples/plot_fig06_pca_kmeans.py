"""
==================================
Fig. 6: PCA and K-means clustering
==================================

The linear baseline of the paper's unsupervised study (Appendix B): the
first two principal components of the (per-curve scaled) echoes show no
clear ordering by W, L or kernel (a-c); the K-means scree plot flattens
after K = 3 (d); and K = 2 clusters split low from high W (e).

Plain scikit-learn on sknmr's data: :func:`~sknmr.curve_scaler` then
:class:`~sklearn.decomposition.PCA` or :class:`~sklearn.cluster.KMeans`.
Quick size: 600 echoes on a 32 x 32 lattice.
"""

# %%
# The dataset
# -----------
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, curve_scaler
from sknmr.datasets import get_data_home, make_echoes
from sknmr.plotting import EchoDisplay, LatentSpaceDisplay

data_home = get_data_home()
echoes = make_echoes(200, simulator=EchoSimulator(lattice_size=32), random_state=0,
                     memory=data_home)
X, targets, times = echoes.data, echoes.target, echoes.times
X_scaled = curve_scaler().fit_transform(X)

# %%
# (a-c) Two principal components
# ------------------------------
pca = make_pipeline(curve_scaler(), PCA(n_components=2)).fit(X)
print("explained variance ratio:", pca[-1].explained_variance_ratio_.round(3))
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
columns = [("W", "W (MHz)"), ("L", "L"), ("kernel", "kernel")]
for ax, (column, label) in zip(axes, columns, strict=True):
    LatentSpaceDisplay.from_estimator(
        pca, X, c=targets[column].to_numpy(), c_label=label, ax=ax,
        axis_labels=("PC1", "PC2"))
fig.suptitle("(a-c) PCA of the full echoes")
fig.tight_layout()

# %%
# The paper saw no pattern here. How much of W the components carry can
# be measured rather than eyeballed: their rank correlation with W.
P = pca.transform(X)
for k in range(2):
    rho = spearmanr(P[:, k], targets["W"]).statistic
    print(f"PC{k + 1}: Spearman rho with W {rho:+.2f}")

# %%
# (d) The K-means scree plot
# --------------------------
ks = np.arange(1, 9)
sse = [KMeans(k, n_init=10, random_state=0).fit(X_scaled).inertia_ for k in ks]
fig, ax = plt.subplots()
ax.plot(ks, sse, marker="o")
ax.set_xlabel("number of clusters K")
ax.set_ylabel("sum of squared errors")
ax.set_title("(d) K-means scree plot")

# %%
# (e) Two clusters: low and high W
# --------------------------------
labels = KMeans(2, n_init=10, random_state=0).fit_predict(X_scaled)
for cluster in range(2):
    w = targets["W"][labels == cluster]
    print(f"cluster {cluster}: {w.size} echoes, "
          f"W = {w.mean():.3f} +- {w.std():.3f} MHz")
display = EchoDisplay(X, times, c=np.array([f"cluster {k}" for k in labels]),
                      c_label="K-means, K = 2").plot(max_curves=300)
display.ax_.set_title("(e) the two clusters")
plt.show()
