"""The unsupervised analyses: BetaVAE latent axes (Fig. 3), PCA and K-means (Fig. 6).

torch is imported inside :func:`vae_analysis` only, so importing
:mod:`sknmr.study` does not load it.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..kernels import KERNELS

__all__ = [
    "elbow_point",
    "latent_orderings",
    "pca_kmeans_analysis",
    "vae_analysis",
]

# Thresholds the report uses to put words on numbers (stated in the report).
_ORDERED_RHO = 0.8  # |Spearman rho| for "W ordered along an axis"
_SPLIT_AUC = 0.8  # AUC of W between the K = 2 clusters for "splits low/high W"


def _spearman(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def latent_orderings(Z, targets, columns=("W", "L", "kernel")):
    """Spearman correlation of each embedding axis with each target.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_axes)
    targets : pandas.DataFrame
        ``kernel`` is compared through its code (0 gaussian, 1 power, 2 rkky).
    columns : sequence of str, default=("W", "L", "kernel")

    Returns
    -------
    table : pandas.DataFrame
        Rows ``axis 1, axis 2, ...``, one column per target; NaN where an
        axis or target is constant.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sknmr.study import latent_orderings
    >>> targets = pd.DataFrame({"W": [0.1, 0.2, 0.3, 0.25],
    ...                         "kernel": ["gaussian", "power", "rkky", "power"]})
    >>> Z = np.array([[0, 3], [1, 2], [2, 1], [1.5, 0]])
    >>> latent_orderings(Z, targets, columns=("W", "kernel")).round(2)
              W  kernel
    axis 1  1.0    0.95
    axis 2 -0.8   -0.63
    """
    Z = np.asarray(Z, dtype=float)
    values = {}
    for column in columns:
        v = targets[column]
        if column == "kernel":
            v = v.map({k: i for i, k in enumerate(KERNELS)})
        values[column] = np.asarray(v, dtype=float)
    return pd.DataFrame(
        {
            column: [_spearman(Z[:, a], v) for a in range(Z.shape[1])]
            for column, v in values.items()
        },
        index=[f"axis {a + 1}" for a in range(Z.shape[1])],
    )


def _device(device):
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class _torch_threads:
    """Set torch's CPU threads inside a ``with`` block (None: leave them)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)
        return False


def vae_analysis(
    X, targets, *, vae_params=None, device="cpu", threads=None, random_state=0
):
    """Fit a :class:`~sknmr.BetaVAE` and order the targets along its latent axes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Curves in [0, 1].
    targets : pandas.DataFrame
    vae_params : dict, default=None
        BetaVAE parameters (the paper's defaults otherwise).
    device : str, default="cpu"
        ``"auto"`` picks CUDA when torch sees it.
    threads : int, default=None
        torch CPU threads while training (restored after); None leaves them.
    random_state : int, default=0

    Returns
    -------
    result : Bunch
        ``model``, ``embedding`` (latent means), ``orderings`` (the
        :func:`latent_orderings` table), ``w_axis`` (0-based axis most
        correlated with W), ``w_rho`` (its Spearman rho) and ``n_epochs``.
    """
    from ..vae import BetaVAE  # torch: loaded on first use only

    params = dict(vae_params or {})
    params.setdefault("random_state", random_state)
    with _torch_threads(threads):
        model = BetaVAE(**params, device=_device(device)).fit(X)
        Z = model.transform(X)
    orderings = latent_orderings(Z, targets)
    rho = orderings["W"].to_numpy()
    w_axis = int(np.nanargmax(np.abs(rho))) if np.isfinite(rho).any() else 0
    return Bunch(
        model=model,
        embedding=Z,
        orderings=orderings,
        w_axis=w_axis,
        w_rho=float(rho[w_axis]),
        n_epochs=int(model.n_epochs_),
    )


@validate_params(
    {"ks": ["array-like"], "sse": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def elbow_point(ks, sse):
    """The elbow of a decreasing SSE curve: the point farthest below its chord.

    Both axes are scaled to [0, 1]; the elbow is the K whose point lies
    farthest below the straight line from the first point to the last (the
    "kneedle" rule).

    Parameters
    ----------
    ks : array-like of int
    sse : array-like of float

    Returns
    -------
    k : int

    Examples
    --------
    >>> from sknmr.study import elbow_point
    >>> elbow_point([1, 2, 3, 4, 5, 6], [100, 40, 15, 12, 10, 9])
    3
    """
    ks = np.asarray(ks, dtype=float)
    sse = np.asarray(sse, dtype=float)
    if ks.ndim != 1 or ks.size == 0 or sse.shape != ks.shape:
        raise ValueError(
            "ks and sse must be non-empty 1-d sequences of the same length; got "
            f"{ks.shape[0] if ks.ndim else ks.size} ks and "
            f"{sse.shape[0] if sse.ndim else sse.size} sse."
        )
    if ks.size < 3 or np.ptp(sse) == 0:
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (sse - sse[-1]) / (sse[0] - sse[-1])
    return int(ks[np.argmax((1 - x) - y)])


@validate_params(
    {
        "X": ["array-like"],
        "targets": [pd.DataFrame],
        "max_clusters": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def pca_kmeans_analysis(X, targets, *, max_clusters=8, random_state=0):
    """PCA with two components and the K-means elbow (Fig. 6).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The scaled echoes.
    targets : pandas.DataFrame
    max_clusters : int, default=8
        K-means is run for K = 1 .. max_clusters (10 initialisations each).
    random_state : int, default=0

    Returns
    -------
    result : Bunch
        ``pca`` (fitted), ``embedding``, ``explained_variance_ratio``,
        ``orderings`` (Spearman rho of each principal component with W, L,
        kernel), ``ks``, ``sse``, ``elbow``, ``k2_labels``, ``k2_mean_w``
        (mean W per cluster), ``k2_auc`` (how well W separates the two
        clusters, 0.5 to 1) and ``k2_splits_w`` (``k2_auc >= 0.8``).
    """
    X = np.asarray(X, dtype=float)
    pca = PCA(n_components=2, random_state=random_state).fit(X)
    Z = pca.transform(X)
    ks = list(range(1, min(max_clusters, X.shape[0]) + 1))
    sse, labels2 = [], None
    for k in ks:
        model = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(X)
        sse.append(float(model.inertia_))
        if k == 2:
            labels2 = model.labels_
    result = Bunch(
        pca=pca,
        embedding=Z,
        explained_variance_ratio=pca.explained_variance_ratio_.tolist(),
        orderings=latent_orderings(Z, targets),
        ks=ks,
        sse=sse,
        elbow=elbow_point(ks, sse),
        k2_labels=labels2,
        k2_mean_w=None,
        k2_auc=float("nan"),
        k2_splits_w=False,
    )
    if labels2 is not None and np.unique(labels2).size == 2:
        w = targets["W"].to_numpy(dtype=float)
        result.k2_mean_w = [float(w[labels2 == c].mean()) for c in (0, 1)]
        auc = roc_auc_score(labels2, w)
        result.k2_auc = float(max(auc, 1 - auc))
        result.k2_splits_w = bool(result.k2_auc >= _SPLIT_AUC)
    return result
