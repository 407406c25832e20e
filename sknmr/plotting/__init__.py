"""Display objects for the paper's figures, in the style of scikit-learn's.

Like :class:`sklearn.metrics.ConfusionMatrixDisplay`, each class holds the
data of one kind of figure; ``plot(ax=None, ...)`` draws it (on a new figure
when ``ax`` is None) and returns the display with ``ax_`` and ``figure_``
set, and class methods build the data from fitted estimators:

- :class:`EchoDisplay`: echo curves over time, optionally coloured by a
  target such as W (with a colorbar) or by a category (with a legend), with
  an optional shaded area of interest (the paper's Fig. 2(a), 3(b), 6(e)).
- :class:`LatentSpaceDisplay`: a 2-D embedding (a :class:`~sknmr.BetaVAE`'s
  latent means, a PCA) as a scatter coloured by a target (Figs. 3(a), 6(a-c)).
- :class:`FeatureImportanceDisplay`: a feature ranking. With a
  :class:`~sknmr.PolynomialSectionFeaturizer`, each of the top features is a
  horizontal bar over its section's time span coloured by its coefficient
  order (Fig. 4(f)); otherwise a bar chart of pointwise importances over time
  (Fig. 4(e), 10(a-c)).

matplotlib is imported inside the ``plot`` methods only, so ``import sknmr``
stays light.
"""

from ._echo import EchoDisplay
from ._importance import FeatureImportanceDisplay
from ._latent import LatentSpaceDisplay

__all__ = ["EchoDisplay", "FeatureImportanceDisplay", "LatentSpaceDisplay"]
