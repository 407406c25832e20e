"""FeatureImportanceDisplay: a feature ranking over time."""

from numbers import Integral

import numpy as np

from ..utils._importances import feature_importances
from ._common import (
    _ORDER_COLOURS,
    _axes,
)


def _find_featurizer(obj):
    """The last step of ``obj`` (or ``obj``) that describes its output features:
    one with ``feature_spans_`` (polynomial) or ``times_`` (a window)."""
    steps = [step for _, step in getattr(obj, "steps", [])] or [obj]
    for step in reversed(steps):
        if hasattr(step, "feature_spans_") or hasattr(step, "times_"):
            return step
    return None


class FeatureImportanceDisplay:
    """A feature ranking: polynomial features over their time spans, or pointwise.

    With ``spans`` and ``powers`` (from a fitted
    :class:`~sknmr.PolynomialSectionFeaturizer`) the ``top_k`` most
    important features are drawn as horizontal bars, most important on top,
    each covering its section's time span and coloured by its coefficient
    order (the paper's Fig. 4(f)). Otherwise every importance is a bar at its
    sample time (or index), the ``top_k`` highlighted (Fig. 4(e)).

    Parameters
    ----------
    importances : array-like of shape (n_features,)
    feature_names : array-like of str, default=None
        None: ``x0, x1, ...``.
    times : array-like of shape (n_features,), default=None
        Time (us) of each pointwise feature; None plots against the index.
    spans : array-like of shape (n_features, 2), default=None
        First and last time (us) of each polynomial feature's section.
    powers : array-like of int of shape (n_features,), default=None
        Coefficient order of each polynomial feature (needed with ``spans``).
    top_k : int, default=10
        Features ranked (polynomial) or highlighted (pointwise).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    bars_ : matplotlib BarContainer
    top_features_ : ndarray of int
        Indices of the ``top_k`` features, most important first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sknmr import PolynomialSectionFeaturizer
    >>> from sknmr.plotting import FeatureImportanceDisplay
    >>> poly = PolynomialSectionFeaturizer(dt=0.5).fit(np.zeros((1, 100)))
    >>> importances = np.linspace(1, 2, 76)
    >>> display = FeatureImportanceDisplay(
    ...     importances, feature_names=poly.get_feature_names_out(),
    ...     spans=poly.feature_spans_, powers=poly.features_["power"], top_k=3).plot()
    >>> display.top_features_.tolist(), len(display.bars_)
    ([75, 74, 73], 3)
    >>> [t.get_text() for t in display.ax_.get_yticklabels()][0]
    'n10_s9_c3'
    """

    def __init__(
        self,
        importances,
        *,
        feature_names=None,
        times=None,
        spans=None,
        powers=None,
        top_k=10,
    ):
        self.importances = importances
        self.feature_names = feature_names
        self.times = times
        self.spans = spans
        self.powers = powers
        self.top_k = top_k

    def _check(self):
        importances = np.asarray(self.importances, dtype=float)
        if importances.ndim != 1 or importances.size == 0:
            raise ValueError(
                f"importances must be a non-empty 1-D array; got shape "
                f"{importances.shape}."
            )
        n = importances.size
        if not isinstance(self.top_k, Integral) or self.top_k < 1:
            raise ValueError(f"top_k must be a positive int; got {self.top_k!r}.")
        names = (
            np.array([f"x{i}" for i in range(n)], dtype=object)
            if self.feature_names is None
            else np.asarray(self.feature_names, dtype=object)
        )
        if names.shape != (n,):
            raise ValueError(
                f"feature_names must hold {n} names (one per importance); got "
                f"shape {names.shape}."
            )
        if (self.spans is None) != (self.powers is None):
            raise ValueError("Give spans and powers together (polynomial features).")
        return importances, names

    def plot(self, ax=None, *, colour=None, highlight="tab:orange", **kwargs):
        """Draw the ranking.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        colour : colour, default=None
            Pointwise bars' colour (``"tab:blue"`` by default); polynomial
            bars are coloured by coefficient order.
        highlight : colour, default="tab:orange"
            Colour of the ``top_k`` pointwise bars.
        **kwargs : dict
            Passed to ``ax.barh`` (polynomial) or ``ax.bar`` (pointwise).

        Returns
        -------
        display : FeatureImportanceDisplay
        """
        importances, names = self._check()
        n = importances.size
        order = np.argsort(-importances, kind="stable")
        top = order[: min(self.top_k, n)]
        ax, fig = _axes(ax)
        if self.spans is not None:
            spans = np.asarray(self.spans, dtype=float)
            powers = np.asarray(self.powers)
            if spans.shape != (n, 2) or powers.shape != (n,):
                raise ValueError(
                    f"spans must have shape ({n}, 2) and powers ({n},); got "
                    f"{spans.shape} and {powers.shape}."
                )
            rank = np.arange(top.size)
            powers = powers.astype(int)
            colours = [_ORDER_COLOURS[p % len(_ORDER_COLOURS)] for p in powers[top]]
            widths = spans[top, 1] - spans[top, 0]
            bars = ax.barh(
                rank, widths, left=spans[top, 0], color=colours, height=0.7, **kwargs
            )
            ax.set_yticks(rank, [str(names[i]) for i in top])
            ax.invert_yaxis()  # most important on top
            ax.set_xlabel("t (us)")
            ax.set_ylabel("feature (most important on top)")
            from matplotlib.patches import Patch

            present = sorted(set(powers[top]))
            ax.legend(
                handles=[
                    Patch(color=_ORDER_COLOURS[p % len(_ORDER_COLOURS)], label=f"c{p}")
                    for p in present
                ],
                title="order",
                loc="best",
            )
        else:
            if self.times is None:
                x, xlabel = np.arange(n, dtype=float), "feature index"
            else:
                x, xlabel = np.asarray(self.times, dtype=float), "t (us)"
                if x.shape != (n,):
                    raise ValueError(
                        f"times must hold one time per feature: shape ({n},); got "
                        f"shape {x.shape}."
                    )
            width = float(np.min(np.diff(np.sort(x)))) if n > 1 else 1.0
            colours = np.full(n, colour or "tab:blue", dtype=object)
            colours[top] = highlight
            bars = ax.bar(x, importances, width=width, color=list(colours), **kwargs)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("importance")
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(color=highlight, label=f"top {top.size}")])
        self.bars_, self.top_features_ = bars, top
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        featurizer=None,
        times=None,
        feature_names=None,
        top_k=10,
        ax=None,
        **kwargs,
    ):
        """Rank the features of a fitted model.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            Its ``feature_importances_`` (else the absolute ``coef_``, the
            norm over classes of a 2-d one), or those of its last pipeline
            step, give the importances.
        featurizer : fitted transformer, default=None
            What made the model's input features. With ``feature_spans_``
            (a :class:`~sknmr.PolynomialSectionFeaturizer`) the ranking is
            drawn over the section spans; with ``times_`` (a fitted
            :class:`~sknmr.EchoWindow`) pointwise importances are drawn at
            those times. A pipeline is searched for such a step (the last
            one). None: searched for in ``estimator`` when it is a pipeline.
        times : array-like of shape (n_features,), default=None
            Time of each pointwise feature (overrides the featurizer's).
        feature_names : array-like of str, default=None
            None: the featurizer's ``get_feature_names_out()`` if any.
        top_k : int, default=10
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FeatureImportanceDisplay
        """
        try:
            importances = feature_importances(estimator)
        except ValueError as exc:
            raise ValueError(
                f"{exc} Pass the importances to FeatureImportanceDisplay "
                "directly instead."
            ) from exc
        found = _find_featurizer(featurizer if featurizer is not None else estimator)
        if featurizer is not None and found is None:
            raise ValueError(
                "featurizer must be fitted and have feature_spans_ (a "
                "PolynomialSectionFeaturizer) or times_ (an EchoWindow), or be a "
                f"pipeline with such a step; got {type(featurizer).__name__}."
            )
        spans = powers = None
        n_out = None
        if found is not None:
            if hasattr(found, "feature_spans_"):
                spans = found.feature_spans_
                powers = np.asarray(found.features_["power"])
                n_out = len(spans)
            else:
                times = found.times_ if times is None else times
                n_out = len(found.times_)
            if feature_names is None and hasattr(found, "get_feature_names_out"):
                feature_names = found.get_feature_names_out()
        if n_out is not None and n_out != importances.size:
            raise ValueError(
                f"The featurizer gives {n_out} features but the model has "
                f"{importances.size} importances; pass the featurizer whose output "
                "the model was fitted on."
            )
        display = cls(
            importances,
            feature_names=feature_names,
            times=times,
            spans=spans,
            powers=powers,
            top_k=top_k,
        )
        return display.plot(ax=ax, **kwargs)
