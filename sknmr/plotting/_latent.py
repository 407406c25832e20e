"""LatentSpaceDisplay: a 2-D embedding as a scatter."""

from numbers import Integral

import numpy as np

from ._common import _axes, _category_colours, _check_2d, _colour_values, _opaque


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
