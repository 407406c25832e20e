"""PolynomialSectionFeaturizer: multiscale polynomial features of an echo.

The paper (Rao et al. 2023, section II.B and appendix C.4, Fig. 7) cuts the
area of interest into ``n`` equal sections for each ``n`` in (4, 5, 10) and
fits ``M(x) ~ c_0 + c_1 x + c_2 x^2 + c_3 x^3`` in each, with ``x = t - t_c``
centred on the section; the 4 x (4 + 5 + 10) = 76 coefficients are the
features. Their meaning is local: ``c_0`` the level at the section's centre,
``c_1`` its slope, ``c_2`` half its curvature, ``c_3`` the rest.

A least-squares fit is linear in the data: the coefficients of one section
are ``pinv(V) @ y`` with ``V`` the section's Vandermonde matrix. All these
pseudo-inverses are assembled at fit time into one matrix ``projection_`` of
shape (n_features, n_coefficients), so transforming a whole dataset is a
single matrix product, with no loop over echoes or sections.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._timegrid import DEFAULT_DT, sample_times

__all__ = ["PolynomialSectionFeaturizer", "section_edges"]


def section_edges(n_features, n_sections):
    """Boundaries of ``n_sections`` near-equal sections of ``n_features`` samples.

    As :func:`numpy.array_split`: when ``n_features`` is not a multiple of
    ``n_sections``, the first ``n_features % n_sections`` sections hold one
    sample more than the others.

    Parameters
    ----------
    n_features : int
    n_sections : int

    Returns
    -------
    edges : ndarray of shape (n_sections + 1,)
        Section ``s`` is ``[edges[s], edges[s + 1])``.

    Examples
    --------
    >>> section_edges(419, 4)
    array([  0, 105, 210, 315, 419])
    """
    base, extra = divmod(n_features, n_sections)
    sizes = np.full(n_sections, base)
    sizes[:extra] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _fit_matrix(x, degree):
    """``P`` with ``P @ y`` the least-squares coefficients of ``sum_k c_k x^k``.

    The Vandermonde matrix is built on ``x`` scaled to [-1, 1], which keeps it
    well conditioned whatever the time unit, then the scale is put back.
    """
    scale = float(np.max(np.abs(x)))
    scale = scale if scale > 0 else 1.0
    powers = np.arange(degree + 1)
    vandermonde = (x / scale)[:, None] ** powers
    return np.linalg.pinv(vandermonde) / scale ** powers[:, None]


class PolynomialSectionFeaturizer(TransformerMixin, BaseEstimator):
    """Coefficients of polynomial fits in equal sections of each series.

    For each ``n`` in ``sections`` the series is cut into ``n`` sections of
    (near) equal length and a polynomial of degree ``degree`` is fitted by
    least squares in each, ``sum_k c_k (t - t_c)^k``, with ``t_c`` the middle
    of the section (half-way between its first and last sample) and times in
    us. The coefficients ``c_0 .. c_degree`` of every section are the
    features: ``(degree + 1) * sum(sections)``, 76 by default. When the
    length is not a multiple of ``n`` the sections are those of
    :func:`numpy.array_split` (the first ``n_features % n`` sections are one
    sample longer; see :func:`section_edges`).

    Feature ``'n4_s2_c1'`` is the coefficient ``c_1`` of section 2 (counted
    from 0) of the split into 4 sections.

    Sample times come from ``times`` if given, otherwise ``t_k = t_0 + k dt``
    (the simulator's grid; ``t_0`` read from feature names such as
    ``'absM_t=166.635us'`` when every input name carries one, else 0), as for
    :class:`~sknmr.EchoWindow`. ``t_0`` only moves :attr:`feature_spans_`:
    the coefficients depend on the spacing alone.

    Parameters
    ----------
    sections : tuple of int, default=(4, 5, 10)
        Numbers of sections, distinct and >= 1.
    degree : int, default=3
        Degree of the polynomial in each section; every section needs at
        least ``degree + 1`` samples.
    dt : float or None, default=None
        Sampling interval (us); None means the simulator's default
        ``1/(2 pi)``. Give ``dt`` or ``times``, not both.
    times : array-like of shape (n_features,) or None, default=None
        Time (us) of each input column, strictly increasing.

    Attributes
    ----------
    projection_ : ndarray of shape (n_features_in_, n_features_out)
        The linear map from a series to its coefficients:
        ``transform(X) == X @ projection_``.
    feature_spans_ : ndarray of shape (n_features_out, 2)
        Time (us) of the first and last sample of each feature's section,
        e.g. to draw a feature ranking over time as in the paper's Fig. 4(f).
    features_ : pandas.DataFrame
        One row per output feature: ``name``, ``n_sections``, ``section``,
        ``power``, ``start_index`` and ``stop_index`` (the section is
        ``X[:, start_index:stop_index]``), ``start`` and ``stop`` (as in
        ``feature_spans_``) and ``center`` (``t_c``, us).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    sknmr.EchoWindow : Keeps the area of interest, which is what the paper
        featurizes.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr import PolynomialSectionFeaturizer
    >>> t = np.arange(419) * 0.1
    >>> X = np.vstack([np.cos(t / 10), 1.0 + 0.5 * t])
    >>> poly = PolynomialSectionFeaturizer(dt=0.1).fit(X)
    >>> features = poly.transform(X)
    >>> features.shape
    (2, 76)
    >>> poly.get_feature_names_out()[:5]
    array(['n4_s0_c0', 'n4_s0_c1', 'n4_s0_c2', 'n4_s0_c3', 'n4_s1_c0'],
          dtype=object)
    >>> features[1, :4].round(6) + 0.0  # 1 + 0.5 t about the centre t_c = 5.2 us
    array([3.6, 0.5, 0. , 0. ])
    >>> poly.feature_spans_[0]
    array([ 0. , 10.4])
    """

    _parameter_constraints = {
        "sections": ["array-like"],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "dt": [Interval(Real, 0, None, closed="neither"), None],
        "times": ["array-like", None],
    }

    def __init__(self, sections=(4, 5, 10), degree=3, dt=None, times=None):
        self.sections = sections
        self.degree = degree
        self.dt = dt
        self.times = times

    def _check_sections(self):
        sections = list(np.atleast_1d(np.asarray(self.sections, dtype=object)))
        if (
            np.ndim(self.sections) != 1
            or not sections
            or not all(
                isinstance(n, Integral) and not isinstance(n, bool) for n in sections
            )
            or min(sections) < 1
        ):
            raise ValueError(
                "sections must be a non-empty sequence of integers >= 1 "
                f"(numbers of sections); got {self.sections!r}."
            )
        sections = [int(n) for n in sections]
        if len(set(sections)) != len(sections):
            raise ValueError(f"sections must be distinct; got {self.sections!r}.")
        return sections

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the map from a series to its section coefficients.

        Parameters
        ----------
        X : array-like of shape (n_series, n_features)
            Only its number of columns (and names) are used.
        y : None
            Ignored.

        Returns
        -------
        self : PolynomialSectionFeaturizer
        """
        sections = self._check_sections()
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        n_features = X.shape[1]
        shortest = n_features // max(sections)
        if shortest < self.degree + 1:
            raise ValueError(
                f"A polynomial of degree={self.degree} needs at least "
                f"{self.degree + 1} samples per section, but X has "
                f"n_features={n_features} samples, so sections={tuple(sections)} "
                f"gives sections of {shortest}. Lower degree or the numbers of "
                "sections, or give longer series."
            )
        uniform = self.times is None
        times = sample_times(self, n_features, getattr(self, "feature_names_in_", None))
        step = float(DEFAULT_DT if self.dt is None else self.dt)

        n_coef = self.degree + 1
        n_out = n_coef * sum(sections)
        projection = np.zeros((n_features, n_out))
        rows = []
        cache = {}  # on a uniform grid, the fit matrix depends on the length only
        column = 0
        for n_sections in sections:
            edges = section_edges(n_features, n_sections)
            for s in range(n_sections):
                start, stop = int(edges[s]), int(edges[s + 1])
                length = stop - start
                center = (times[start] + times[stop - 1]) / 2
                if uniform:
                    if length not in cache:
                        x = (np.arange(length) - (length - 1) / 2) * step
                        cache[length] = _fit_matrix(x, self.degree)
                    matrix = cache[length]
                else:
                    matrix = _fit_matrix(times[start:stop] - center, self.degree)
                projection[start:stop, column : column + n_coef] = matrix.T
                for power in range(n_coef):
                    rows.append(
                        (
                            f"n{n_sections}_s{s}_c{power}",
                            n_sections,
                            s,
                            power,
                            start,
                            stop,
                            times[start],
                            times[stop - 1],
                            center,
                        )
                    )
                column += n_coef
        self.projection_ = projection
        self.features_ = pd.DataFrame(
            rows,
            columns=[
                "name",
                "n_sections",
                "section",
                "power",
                "start_index",
                "stop_index",
                "start",
                "stop",
                "center",
            ],
        )
        self.feature_spans_ = self.features_[["start", "stop"]].to_numpy()
        return self

    def transform(self, X):
        """Fit the section polynomials of every series; return their coefficients.

        Parameters
        ----------
        X : array-like of shape (n_series, n_features)

        Returns
        -------
        coefficients : ndarray of shape (n_series, n_features_out)
            Same float type as ``X`` (float32 stays float32).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.projection_.astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names ``'n{sections}_s{section}_c{power}'`` of the coefficients.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        return self.features_["name"].to_numpy(dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
