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

from numbers import Integral

import numpy as np

from .utils._importances import feature_importances

__all__ = ["EchoDisplay", "FeatureImportanceDisplay", "LatentSpaceDisplay"]

#: Colours of the polynomial coefficient orders c0, c1, c2, c3, ... (Fig. 4(f)).
_ORDER_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def _axes(ax):
    """``(ax, figure)``: the given axes, or those of a new figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax, ax.figure


def _colour_values(c, n, categorical):
    """Split a colouring ``c`` of ``n`` items into values or categories.

    Returns ``(values, categories)``: float values for a colormap (categories
    None), or integer codes into the list ``categories``. Strings, booleans
    and objects are categories unless ``categorical`` is False; numbers are
    values unless ``categorical`` is True.
    """
    if c is None:
        return None, None
    c = np.asarray(c)
    if c.ndim != 1 or c.shape[0] != n:
        raise ValueError(
            f"c must hold one value per item: shape ({n},); got shape {c.shape}."
        )
    numeric = c.dtype.kind in "iuf"
    if categorical is None:
        categorical = not numeric
    if not categorical:
        if not numeric:
            raise ValueError(f"categorical=False needs numeric c; got dtype {c.dtype}.")
        return c.astype(float), None
    categories, codes = np.unique(c, return_inverse=True)
    return codes, [str(v) for v in categories]


def _opaque(colorbar):
    """Draw a colorbar without its mappable's transparency (readable colours)."""
    if getattr(colorbar, "solids", None) is not None:
        colorbar.solids.set_alpha(1.0)
    return colorbar


def _category_colours(n):
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _check_2d(name, X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got shape {X.shape}.")
    return X


class EchoDisplay:
    """Echo curves over time, optionally coloured and with an area of interest.

    Parameters
    ----------
    echoes : array-like of shape (n_echoes, n_times)
        The curves, e.g. ``|M(t)|`` from :class:`~sknmr.EchoSimulator`.
    times : array-like of shape (n_times,), default=None
        Time (us) of each sample; None plots against the sample index.
    c : array-like of shape (n_echoes,), default=None
        Colours the curves: numbers through a colormap with a colorbar (e.g.
        W), strings or booleans as categories with a legend (e.g. kernel).
        None draws every curve in one colour.
    c_label : str, default=None
        Label of the colorbar or legend.
    area : (float, float) or fitted EchoWindow, default=None
        Time span (us) to shade as the area of interest; a fitted
        :class:`~sknmr.EchoWindow` gives its first and last kept times.
    categorical : bool, default=None
        Force ``c`` to be read as categories (True) or values (False); None
        decides from its dtype.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : matplotlib LineCollection
        The curves drawn.
    colorbar_ : matplotlib Colorbar or None
    legend_ : matplotlib Legend or None
    area_ : matplotlib Polygon or Rectangle or None
        The shaded area of interest.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sknmr.plotting import EchoDisplay
    >>> t = np.linspace(0, 300, 200)
    >>> W = np.array([0.1, 0.2, 0.3])
    >>> echoes = 0.5 * np.exp(-np.outer(W, np.abs(t - 200)) / 10)
    >>> display = EchoDisplay(echoes, t, c=W, c_label="W (MHz)", area=(167, 233))
    >>> display = display.plot()
    >>> len(display.lines_.get_segments()), display.colorbar_ is not None
    (3, True)
    """

    def __init__(
        self, echoes, times=None, *, c=None, c_label=None, area=None, categorical=None
    ):
        self.echoes = echoes
        self.times = times
        self.c = c
        self.c_label = c_label
        self.area = area
        self.categorical = categorical

    def _area_bounds(self):
        area = self.area
        if area is None:
            return None
        if hasattr(area, "times_"):  # a fitted EchoWindow
            return float(area.times_[0]), float(area.times_[-1])
        try:
            low, high = (float(v) for v in area)
        except (TypeError, ValueError):
            raise ValueError(
                "area must be None, a (start, stop) pair of times in us, or a "
                f"fitted EchoWindow; got {area!r}."
            ) from None
        if not low < high:
            raise ValueError(f"area must have start < stop; got {area!r}.")
        return low, high

    def plot(
        self,
        ax=None,
        *,
        cmap="viridis",
        colorbar=True,
        linewidth=0.6,
        alpha=None,
        max_curves=None,
        random_state=0,
        area_label="Area of interest",
        area_kwargs=None,
        **kwargs,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        cmap : str or Colormap, default="viridis"
            Colormap for numeric ``c``.
        colorbar : bool, default=True
            Add a colorbar (numeric ``c``) or legend (categorical ``c``).
        linewidth : float, default=0.6
        alpha : float, default=None
            Opacity of the curves; None: 1 for up to 20 curves, less for more.
        max_curves : int, default=None
            Draw at most this many curves, chosen at random (seeded by
            ``random_state``) when there are more; None draws all.
        random_state : int, RandomState instance or None, default=0
            Seeds the choice of curves for ``max_curves``.
        area_label : str, default="Area of interest"
            Legend label of the shaded area.
        area_kwargs : dict, default=None
            Passed to ``ax.axvspan`` for the area.
        **kwargs : dict
            Passed to :class:`matplotlib.collections.LineCollection`.

        Returns
        -------
        display : EchoDisplay
        """
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D
        from sklearn.utils import check_random_state

        echoes = _check_2d("echoes", self.echoes)
        n, n_times = echoes.shape
        if self.times is None:
            times, xlabel = np.arange(n_times, dtype=float), "sample"
        else:
            times, xlabel = np.asarray(self.times, dtype=float), "t (us)"
            if times.shape != (n_times,):
                raise ValueError(
                    f"times must hold one time per sample: shape ({n_times},); "
                    f"got shape {times.shape}."
                )
        values, categories = _colour_values(self.c, n, self.categorical)
        bounds = self._area_bounds()
        rows = np.arange(n)
        if max_curves is not None:
            if not isinstance(max_curves, Integral) or max_curves < 1:
                raise ValueError(
                    f"max_curves must be a positive int or None; got {max_curves!r}."
                )
            if n > max_curves:
                rng = check_random_state(random_state)
                rows = np.sort(rng.choice(n, size=max_curves, replace=False))
        if alpha is None:
            alpha = 1.0 if rows.size <= 20 else float(np.clip(40 / rows.size, 0.1, 0.6))

        ax, fig = _axes(ax)
        segments = np.stack(
            [np.broadcast_to(times, (rows.size, n_times)), echoes[rows]], axis=-1
        )
        lines = LineCollection(segments, linewidths=linewidth, alpha=alpha, **kwargs)
        self.colorbar_ = self.legend_ = self.area_ = None
        handles = []
        if values is not None and categories is None:
            lines.set_array(values[rows])
            lines.set_cmap(cmap)
        elif categories is not None:
            colours = _category_colours(len(categories))
            lines.set_color([colours[k] for k in values[rows]])
            handles = [
                Line2D([], [], color=colours[k], label=name)
                for k, name in enumerate(categories)
            ]
        ax.add_collection(lines)
        if bounds is not None:
            options = {"color": "0.5", "alpha": 0.2, "label": area_label}
            options.update(area_kwargs or {})
            self.area_ = ax.axvspan(*bounds, **options)
            handles.append(self.area_)
        ax.set_xlim(times[0], times[-1])
        if rows.size:
            low, high = np.nanmin(echoes[rows]), np.nanmax(echoes[rows])
            pad = 0.03 * (high - low) if high > low else 0.5
            ax.set_ylim(low - pad, high + pad)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("|M(t)|")
        if colorbar and values is not None and categories is None:
            self.colorbar_ = _opaque(
                fig.colorbar(lines, ax=ax, label=self.c_label or "")
            )
        if colorbar and handles:
            self.legend_ = ax.legend(
                handles=handles, title=self.c_label if categories else None
            )
        self.lines_, self.ax_, self.figure_ = lines, ax, fig
        return self

    @classmethod
    def from_dataset(
        cls, dataset, *, c=None, area=None, categorical=None, ax=None, **kwargs
    ):
        """Plot the echoes of a dataset from :func:`sknmr.datasets.make_echoes`.

        Parameters
        ----------
        dataset : Bunch
            With ``data``, ``times`` and ``target`` (as from ``make_echoes``
            or ``load_echoes``).
        c : str or array-like of shape (n_echoes,), default=None
            A column of ``dataset.target`` (e.g. ``"W"`` or ``"kernel"``) or
            the colour values themselves.
        area : (float, float) or fitted EchoWindow, default=None
            Area of interest to shade.
        categorical : bool, default=None
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : EchoDisplay
        """
        c_label = None
        if isinstance(c, str):
            if c not in dataset.target:
                raise ValueError(
                    f"c={c!r} is not a column of the dataset's target; choose "
                    f"from {list(dataset.target.columns)}."
                )
            c_label = {"W": "W (MHz)"}.get(c, c)
            c = dataset.target[c].to_numpy()
        display = cls(
            np.asarray(dataset.data),
            dataset.times,
            c=c,
            c_label=c_label,
            area=area,
            categorical=categorical,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_traversal(
        cls, vae, axis=0, values=None, *, times=None, origin=None, ax=None, **kwargs
    ):
        """Curves decoded along a latent axis of a fitted BetaVAE (Fig. 3(b), (d)).

        Parameters
        ----------
        vae : BetaVAE
            Fitted; anything with ``latent_traversal(axis, values, origin=)``.
        axis : int, default=0
            Latent axis walked along.
        values : array-like of shape (n_points,), default=None
            Coordinates along ``axis``; None: 11 points from -2.5 to 2.5.
        times : array-like of shape (n_features,), default=None
            Time (us) of each decoded sample.
        origin : array-like of shape (n_components,), default=None
            The other coordinates (0 by default).
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : EchoDisplay
            Curves coloured by their coordinate along ``axis``.
        """
        values = np.linspace(-2.5, 2.5, 11) if values is None else np.asarray(values)
        curves = vae.latent_traversal(axis=axis, values=values, origin=origin)
        display = cls(curves, times, c=values, c_label=f"LA{axis + 1}")
        return display.plot(ax=ax, **kwargs)


class LatentSpaceDisplay:
    """A 2-D embedding as a scatter plot coloured by a target.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2)
        The points, e.g. a :class:`~sknmr.BetaVAE`'s latent means.
    c : array-like of shape (n_samples,), default=None
        Colours: numbers through a colormap with a colorbar (e.g. W), strings
        or booleans as categories with a legend (e.g. kernel).
    c_label : str, default=None
        Label of the colorbar or legend.
    axis_labels : (str, str), default=None
        None: ``("LA1", "LA2")``.
    categorical : bool, default=None
        Force ``c`` to be read as categories (True) or values (False).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    scatter_ : matplotlib PathCollection
    colorbar_ : matplotlib Colorbar or None
    legend_ : matplotlib Legend or None

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sknmr.plotting import LatentSpaceDisplay
    >>> X = np.random.default_rng(0).random((30, 5))
    >>> display = LatentSpaceDisplay.from_estimator(PCA(2).fit(X), X, c=X[:, 0])
    >>> display.ax_.get_xlabel(), display.scatter_.get_offsets().shape
    ('pca0', (30, 2))
    >>> kernels = np.array(["gaussian", "power", "rkky"] * 10)
    >>> display = LatentSpaceDisplay(PCA(2).fit_transform(X), c=kernels).plot()
    >>> [text.get_text() for text in display.legend_.get_texts()]
    ['gaussian', 'power', 'rkky']
    """

    def __init__(
        self, embedding, *, c=None, c_label=None, axis_labels=None, categorical=None
    ):
        self.embedding = embedding
        self.c = c
        self.c_label = c_label
        self.axis_labels = axis_labels
        self.categorical = categorical

    def plot(self, ax=None, *, cmap="viridis", colorbar=True, s=6, alpha=0.7, **kwargs):
        """Draw the scatter plot.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        cmap : str or Colormap, default="viridis"
        colorbar : bool, default=True
            Add a colorbar (numeric ``c``) or legend (categorical ``c``).
        s : float, default=6
            Marker size.
        alpha : float, default=0.7
        **kwargs : dict
            Passed to ``ax.scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
        """
        Z = _check_2d("embedding", self.embedding)
        if Z.shape[1] != 2:
            raise ValueError(
                f"embedding must have 2 columns; got {Z.shape[1]}. Pick two "
                "(from_estimator's components does)."
            )
        values, categories = _colour_values(self.c, Z.shape[0], self.categorical)
        ax, fig = _axes(ax)
        self.colorbar_ = self.legend_ = None
        if categories is not None:
            colours = np.asarray(_category_colours(len(categories)))
            scatter = ax.scatter(
                Z[:, 0], Z[:, 1], c=colours[values], s=s, alpha=alpha, **kwargs
            )
            if colorbar:
                from matplotlib.lines import Line2D

                handles = [
                    Line2D(
                        [], [], marker="o", linestyle="", color=colours[k], label=name
                    )
                    for k, name in enumerate(categories)
                ]
                self.legend_ = ax.legend(handles=handles, title=self.c_label)
        else:
            scatter = ax.scatter(
                Z[:, 0],
                Z[:, 1],
                c=values,
                cmap=cmap if values is not None else None,
                s=s,
                alpha=alpha,
                **kwargs,
            )
            if colorbar and values is not None:
                self.colorbar_ = _opaque(
                    fig.colorbar(scatter, ax=ax, label=self.c_label or "")
                )
        labels = ("LA1", "LA2") if self.axis_labels is None else self.axis_labels
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        self.scatter_, self.ax_, self.figure_ = scatter, ax, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        transformer,
        X,
        *,
        c=None,
        c_label=None,
        components=(0, 1),
        axis_labels=None,
        categorical=None,
        ax=None,
        **kwargs,
    ):
        """Embed ``X`` with a fitted transformer and plot two of its components.

        Parameters
        ----------
        transformer : fitted transformer
            E.g. :class:`~sknmr.BetaVAE` or :class:`~sklearn.decomposition.PCA`.
        X : array-like of shape (n_samples, n_features)
        c : array-like of shape (n_samples,), default=None
        c_label : str, default=None
        components : (int, int), default=(0, 1)
            The two output columns to plot.
        axis_labels : (str, str), default=None
            None: the transformer's output feature names when it has
            ``get_feature_names_out`` (``'betavae0'``, ``'pca0'``), else
            ``LA1``, ``LA2``.
        categorical : bool, default=None
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : LatentSpaceDisplay
        """
        Z = _check_2d("transform(X)", transformer.transform(X))
        components = tuple(components)
        if len(components) != 2 or not all(
            isinstance(k, Integral) and 0 <= k < Z.shape[1] for k in components
        ):
            raise ValueError(
                f"components must be two column indices in [0, {Z.shape[1] - 1}]; "
                f"got {components!r}."
            )
        if axis_labels is None:
            try:
                names = transformer.get_feature_names_out()
                axis_labels = (str(names[components[0]]), str(names[components[1]]))
            except (AttributeError, ValueError, TypeError):
                axis_labels = tuple(f"LA{k + 1}" for k in components)
        display = cls(
            Z[:, list(components)],
            c=c,
            c_label=c_label,
            axis_labels=axis_labels,
            categorical=categorical,
        )
        return display.plot(ax=ax, **kwargs)


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
