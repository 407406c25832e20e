"""EchoDisplay: echo curves over time."""

from numbers import Integral

import numpy as np

from ._common import _axes, _category_colours, _check_2d, _colour_values, _opaque


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
