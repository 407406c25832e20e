"""Helpers shared by the displays: axes, colours, input checks."""

import numpy as np

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
