"""The paper's study: its analyses, each a small function of arrays, and its report.

Rao et al., "Learning electronic spin correlations from NMR spin echoes",
Phys. Rev. Research 5, 043098 (2023), with sknmr's estimators:

- features (:func:`prepare_features`): every echo min-max scaled to [0, 1]
  over its full series, the scaled samples of the area of interest
  ``2 tau +- tau/3`` ("pointwise") and that window's section polynomials;
- classification (:func:`classification_models`,
  :func:`classification_table`, :func:`table_i`): Table I, power vs
  non-power F1 of seven standard classifiers, each in an imbalanced-learn
  pipeline (:func:`make_oversampled_pipeline`) so that the minority class is
  oversampled inside training folds only; :func:`classification_analysis`:
  the random forest's confusion matrix (:func:`row_normalized_confusion`),
  the power class's "false-positive rate"
  (:func:`power_false_positive_rate`) with and without W screening
  (:class:`~sknmr.WScreenedClassifier`), Fig. 4(b-c) and Appendix C5;
- regression (:func:`regression_table`, :func:`regression_analysis`):
  Fig. 5(e), out-of-bag and test R^2 of random forests for
  :data:`REGRESSION_TARGETS` on all kernels and on the
  :func:`power_subsets`;
- unsupervised (:func:`vae_analysis`, :func:`latent_orderings`,
  :func:`pca_kmeans_analysis`, :func:`elbow_point`): the order of W, L and
  the kernel along a :class:`~sknmr.BetaVAE`'s latent axes (Fig. 3), PCA and
  the K-means elbow (Fig. 6);
- :func:`reproduce`: all of it on a simulated dataset (:data:`PRESETS`),
  with every figure, written to a report folder beside the paper's numbers
  (:data:`PAPER`). The command line runs it as ``sknmr reproduce``.

The successive feature elimination of Fig. 4(a) is
:func:`sknmr.selection.successive_elimination`. Importing this module loads
scikit-learn and imbalanced-learn, not torch (loaded by :func:`vae_analysis`)
nor matplotlib (loaded when a figure is drawn).

Examples
--------
>>> from sklearn.datasets import make_classification
>>> from sknmr.study import classification_table
>>> X, y = make_classification(n_samples=90, n_features=5, weights=[0.67],
...                            random_state=0)
>>> table = classification_table(X, y, cv=3, random_state=0)
>>> table.columns.tolist()
['f1', 'f1_std', 'paper_f1']
"""

from .._paper import PAPER_RESULTS as PAPER
from .._paper import PAPER_TABLE_I
from ._classification import (
    classification_analysis,
    classification_models,
    classification_table,
    make_oversampled_pipeline,
    power_false_positive_rate,
    row_normalized_confusion,
    table_i,
)
from ._features import prepare_features
from ._presets import PRESETS
from ._regression import (
    REGRESSION_TARGETS,
    power_subsets,
    regression_analysis,
    regression_table,
)
from ._reproduce import reproduce
from ._unsupervised import (
    elbow_point,
    latent_orderings,
    pca_kmeans_analysis,
    vae_analysis,
)

__all__ = [
    "PAPER",
    "PAPER_TABLE_I",
    "PRESETS",
    "REGRESSION_TARGETS",
    "classification_analysis",
    "classification_models",
    "classification_table",
    "elbow_point",
    "latent_orderings",
    "make_oversampled_pipeline",
    "pca_kmeans_analysis",
    "power_false_positive_rate",
    "power_subsets",
    "prepare_features",
    "regression_analysis",
    "regression_table",
    "reproduce",
    "row_normalized_confusion",
    "table_i",
    "vae_analysis",
]
