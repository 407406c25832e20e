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
- ablations (:data:`ABLATIONS`), each a difference from the paper measured
  by switching one setting, as rows of one table (:func:`ablation_row`):
  oversampling before the split vs inside training folds
  (:func:`oversampling_ablation`, :func:`oversample_before_split`), W
  screening's training bins and test routing
  (:func:`screening_ablation`), and the :func:`core_metrics` of datasets
  with another linewidth or lattice (:func:`linewidth_ablation`,
  :func:`lattice_ablation`); :func:`which_settings_reproduce` lists the
  rows that reproduce each of the paper's numbers;
- protocols (:func:`protocol_study`, :func:`run_protocols`): which
  experiments (:func:`default_experiments`, several pulse sequences on the
  same samples) and which detection (:data:`DETECTIONS`: magnitude,
  calibrated quadrature, phase-blind quadrature) tell ``W``, ``L``, the
  couplings and the kernel class; ``sknmr protocols`` on the command line;
- :func:`reproduce`: all of it on a simulated dataset (:data:`PRESETS`),
  with every figure, written to a report folder beside the paper's numbers
  (:data:`PAPER`). The command line runs it as ``sknmr reproduce``.

Every classification F1 comes in three averages: ``f1_weighted`` (each
class's F1 weighted by its support), ``f1_binary`` (the power class's F1) and
``f1_macro``. The paper does not define its F1; the first author's notebooks
compute the weighted one, which the report compares with the paper's.

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
>>> table.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
['f1_weighted', 'f1_weighted_std', 'f1_binary', 'f1_binary_std', 'f1_macro',
 'f1_macro_std', 'paper_f1']
"""

from .._paper import PAPER_RESULTS as PAPER
from .._paper import PAPER_TABLE_I
from ._ablations import (
    ABLATION_METRICS,
    ABLATIONS,
    PAPER_TARGETS,
    ablation_row,
    oversample_before_split,
    oversampling_ablation,
    screening_ablation,
    which_settings_reproduce,
)
from ._classification import (
    F1_SCORERS,
    classification_analysis,
    classification_models,
    classification_table,
    make_oversampled_pipeline,
    power_false_positive_rate,
    row_normalized_confusion,
    table_i,
)
from ._dataset_ablations import core_metrics, lattice_ablation, linewidth_ablation
from ._features import prepare_features
from ._presets import PRESETS
from ._protocols import (
    DETECTIONS,
    PROTOCOL_PRESETS,
    default_experiments,
    default_protocols,
    protocol_figure,
    protocol_study,
    run_protocols,
)
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

# The constants again, each with its description, for the API documentation
# (autodoc reads the ``#:`` comments of the module that lists them).

#: The paper's results as its text and figures state them.
PAPER = PAPER
#: Table I of the paper: power vs non-power F1 per model (average not stated).
PAPER_TABLE_I = PAPER_TABLE_I
#: The settings of the presets of :func:`reproduce`, ``"quick"`` (minutes on
#: two CPU cores: 500 echoes per kernel on 32 x 32) and ``"full"`` (the
#: paper's 5000 per kernel on 100 x 100); see the user guide.
PRESETS = PRESETS
#: The regression targets of Fig. 5(e), in the paper's order.
REGRESSION_TARGETS = REGRESSION_TARGETS
#: The F1 averages of :func:`classification_table`: column -> scikit-learn
#: scorer (weighted, binary for the power class, macro).
F1_SCORERS = F1_SCORERS
#: The sizes of :func:`run_protocols` (``sknmr protocols --quick/--full``).
PROTOCOL_PRESETS = PROTOCOL_PRESETS
#: How the protocol study reads an echo: its magnitude, in calibrated
#: quadrature, or in quadrature with an unknown receiver phase.
DETECTIONS = DETECTIONS
#: The ablations of :func:`reproduce`, in the order they run.
ABLATIONS = ABLATIONS
#: The metric columns of an ablation row (see :func:`ablation_row`).
ABLATION_METRICS = ABLATION_METRICS
#: The paper's numbers the ablation rows are compared with, each with its
#: kind of comparison and the row columns that may match it
#: (:func:`which_settings_reproduce`).
PAPER_TARGETS = PAPER_TARGETS

__all__ = [
    "ABLATIONS",
    "ABLATION_METRICS",
    "DETECTIONS",
    "PROTOCOL_PRESETS",
    "default_experiments",
    "default_protocols",
    "protocol_figure",
    "protocol_study",
    "run_protocols",
    "F1_SCORERS",
    "PAPER",
    "PAPER_TABLE_I",
    "PAPER_TARGETS",
    "PRESETS",
    "REGRESSION_TARGETS",
    "ablation_row",
    "classification_analysis",
    "classification_models",
    "classification_table",
    "core_metrics",
    "elbow_point",
    "lattice_ablation",
    "latent_orderings",
    "linewidth_ablation",
    "make_oversampled_pipeline",
    "oversample_before_split",
    "oversampling_ablation",
    "pca_kmeans_analysis",
    "power_false_positive_rate",
    "power_subsets",
    "prepare_features",
    "regression_analysis",
    "regression_table",
    "reproduce",
    "row_normalized_confusion",
    "screening_ablation",
    "table_i",
    "vae_analysis",
    "which_settings_reproduce",
]
