"""The estimators of the protocol study: its features and the adaptive protocol.

:class:`_ExperimentFeatures` reads the echoes of a protocol's experiments
(magnitude, calibrated quadrature or phase-blind quadrature) into features;
:class:`_AdaptiveProtocolRegressor` predicts ``W`` from a first echo and
then chooses the second experiment for that ``W``; :func:`_protocol_regressor`
builds either a protocol's forest or the adaptive regressor.
"""

import warnings
from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..scaling import curve_scaler
from ._protocol_designs import DETECTIONS


def _protocol_forest(n_estimators, random_state, n_jobs, **kwargs):
    """The random forest of every protocol's regression."""
    return RandomForestRegressor(
        n_estimators=n_estimators,
        max_features="sqrt",
        random_state=random_state,
        n_jobs=n_jobs,
        **kwargs,
    )


def _validate_echoes(estimator, X, y="no_validation", *, reset):
    """``X`` as a 2-D float or complex array (and ``y`` as numbers), checked.

    scikit-learn refuses complex data, so complex echoes are checked as their
    real part (shape, count, finiteness, ``y``) and imaginary part, then put
    back together in their own precision.
    """
    checks = dict(dtype=[np.float64, np.float32], reset=reset)
    if y is not None and not (isinstance(y, str) and y == "no_validation"):
        checks["y_numeric"] = True
    values = X
    if not (issparse(X) or hasattr(X, "dtypes")):  # DataFrames: validate_data
        try:
            values = np.asarray(X)
        except (TypeError, ValueError):
            pass  # validate_data says what is wrong
    if getattr(values, "dtype", None) is None or values.dtype.kind != "c":
        return validate_data(estimator, X, y, **checks)
    checked = validate_data(estimator, values.real, y, **checks)
    real, y = checked if "y_numeric" in checks else (checked, None)
    imag = check_array(values.imag, dtype=real.dtype, estimator=estimator)
    if np.may_share_memory(real, values) and np.may_share_memory(imag, values):
        echoes = values  # neither part was converted: no copy
    else:
        echoes = np.empty(real.shape, dtype=np.result_type(real, np.complex64))
        echoes.real, echoes.imag = real, imag
    return echoes if "y_numeric" not in checks else (echoes, y)


class _ExperimentFeatures(TransformerMixin, BaseEstimator):
    """Features of the echoes of several experiments, read out one way.

    Parameters
    ----------
    blocks : dict of str to slice
        The columns of each experiment (``make_echoes(...).blocks``).
    windows : dict of str to array of int
        Within its block, the samples each experiment contributes.
    experiments : sequence of str
        The experiments of the protocol, in order.
    detection : {"magnitude", "quadrature", "phase-blind"}, default="magnitude"
        How ``M(t)`` is read (see :mod:`sknmr.study` protocols).

    Attributes
    ----------
    transformer_ : ColumnTransformer
        One transformer per experiment.
    n_features_in_ : int
        Number of columns (samples of every experiment) seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.exp(1j * np.linspace(0, 1, 8))[None, :].repeat(3, axis=0)
    >>> from sknmr.study._protocol_estimators import _ExperimentFeatures
    >>> features = _ExperimentFeatures(
    ...     blocks={"a": slice(0, 4), "b": slice(4, 8)},
    ...     windows={"a": np.arange(4), "b": np.arange(1, 3)},
    ...     experiments=["a", "b"], detection="quadrature").fit(X)
    >>> features.transform(X).shape
    (3, 12)
    """

    _parameter_constraints = {
        "blocks": [dict],
        "windows": [dict],
        "experiments": ["array-like"],
        "detection": [StrOptions(set(DETECTIONS))],
    }

    def __init__(self, blocks, windows, experiments, detection="magnitude"):
        self.blocks = blocks
        self.windows = windows
        self.experiments = experiments
        self.detection = detection

    def _check(self, n_features=None):
        """The experiments name blocks; their windows lie within X's columns."""
        unknown = [e for e in self.experiments if e not in self.blocks]
        if not len(self.experiments) or unknown:
            raise ValueError(
                f"experiments must name blocks of the data {sorted(self.blocks)}; "
                f"got {list(self.experiments)}."
            )
        missing = [e for e in self.experiments if e not in self.windows]
        if missing:
            raise ValueError(
                f"windows must give the samples of every experiment; {missing} "
                f"have none (windows has {sorted(self.windows)})."
            )
        if n_features is not None:
            columns = [self._columns(e) for e in self.experiments]
            needed = 1 + int(np.concatenate(columns).max(initial=-1))
            if needed > n_features:
                raise ValueError(
                    f"The blocks and windows of {list(self.experiments)} read "
                    f"columns up to {needed}; X has {n_features} feature(s)."
                )

    def _columns(self, name):
        block = self.blocks[name]
        return np.arange(block.start, block.stop)[np.asarray(self.windows[name])]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build and fit each experiment's read-out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), real or complex
            The echoes of every experiment, side by side (``blocks``).
        y : None
            Ignored.

        Returns
        -------
        self : _ExperimentFeatures
        """
        self._check()
        X = _validate_echoes(self, X, reset=True)
        self._check(X.shape[1])
        if self.detection == "magnitude":
            read = [make_pipeline(FunctionTransformer(np.abs), curve_scaler())]
        else:
            read = [FunctionTransformer(_real_and_imaginary)]
        self.transformer_ = ColumnTransformer(
            [(name, read[0], self._columns(name).tolist()) for name in self.experiments]
        )
        self.transformer_.fit(self._rotated(X))
        return self

    def _rotated(self, X):
        """Phase-blind: every experiment turned by the first one's echo top."""
        if self.detection != "phase-blind":
            return X
        first = self._columns(self.experiments[0])
        top = X[:, first][np.arange(len(X)), np.argmax(np.abs(X[:, first]), axis=1)]
        phase = np.where(np.abs(top) > 0, np.conj(top) / np.abs(top), 1.0)
        return X * phase[:, None]

    def transform(self, X):
        """The features of each experiment, side by side.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), real or complex

        Returns
        -------
        features : ndarray of shape (n_samples, n_output_features)
        """
        check_is_fitted(self)
        X = _validate_echoes(self, X, reset=False)
        return self.transformer_.transform(self._rotated(X))


def _real_and_imaginary(X):
    X = np.asarray(X)
    return np.hstack([X.real, X.imag])


class _AdaptiveProtocolRegressor(RegressorMixin, BaseEstimator):
    """The paper's outlook: W from a first echo, then the experiment for that W.

    The first experiment's features predict ``W``; its out-of-fold
    predictions put every training sample in a ``W`` bin. In each bin, one
    forest per candidate second experiment is fitted on the first and that
    experiment's features, and the candidate with the best out-of-bag
    ``R^2`` is kept. A new sample is routed by its predicted ``W`` and
    predicted from two experiments: the first and its bin's choice.

    Parameters
    ----------
    blocks, windows : dict
        As for :class:`_ExperimentFeatures`.
    first : str
        The first experiment (the one every sample gets).
    options : sequence of str
        Candidate second experiments.
    detection : str, default="quadrature"
    bins : sequence of float, default=(0.1, 0.17, 0.23, 0.3)
        ``W`` bin edges (MHz), as :class:`~sknmr.WScreenedClassifier`'s.
    n_estimators : int, default=100
    cv : int, default=5
        Folds of the out-of-fold ``W``.
    random_state : int, default=0
    n_jobs : int, default=None

    Attributes
    ----------
    w_model_ : Pipeline or None
        Predicts ``W`` from the first experiment; None when :meth:`fit` got
        no ``w`` (one bin).
    choices_ : list of str
        The second experiment of each bin.
    models_ : list of Pipeline
        The model of each bin.
    n_features_in_ : int
        Number of columns seen in :meth:`fit`.
    """

    _parameter_constraints = {
        "blocks": [dict],
        "windows": [dict],
        "first": [str],
        "options": ["array-like"],
        "detection": [StrOptions(set(DETECTIONS))],
        "bins": ["array-like"],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        blocks,
        windows,
        first,
        options,
        detection="quadrature",
        bins=(0.1, 0.17, 0.23, 0.3),
        n_estimators=100,
        cv=5,
        random_state=0,
        n_jobs=None,
    ):
        self.blocks = blocks
        self.windows = windows
        self.first = first
        self.options = options
        self.detection = detection
        self.bins = bins
        self.n_estimators = n_estimators
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _forest(self, **kwargs):
        return _protocol_forest(
            self.n_estimators, self.random_state, self.n_jobs, **kwargs
        )

    def _features(self, experiments):
        return _ExperimentFeatures(
            self.blocks, self.windows, list(experiments), self.detection
        )

    def _bin(self, w):
        edges = np.asarray(self.bins, dtype=float)
        return np.clip(np.searchsorted(edges, w, side="right") - 1, 0, len(edges) - 2)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, w=None):
        """Learn W, bin the training samples and choose each bin's experiment.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), real or complex
            The echoes of every experiment, side by side (``blocks``).
        y : array-like of shape (n_samples,)
            The target.
        w : array-like of shape (n_samples,) or None, default=None
            The coupling ``W`` of each sample (MHz). None: warn and choose one
            second experiment for all samples (one bin).

        Returns
        -------
        self : _AdaptiveProtocolRegressor
        """
        if not len(self.options):
            raise ValueError("options must name at least one second experiment.")
        if len(self.bins) < 2:
            raise ValueError(f"bins must give at least two edges; got {self.bins}.")
        self._features([self.first, *self.options])._check()
        X, y = _validate_echoes(self, X, y, reset=True)
        self._features([self.first, *self.options])._check(X.shape[1])
        y = np.asarray(y, dtype=float)
        if w is None:
            warnings.warn(
                f"{type(self).__name__}.fit got no w: choosing one second "
                "experiment for all samples. Pass fit(X, y, w=w) to route by W.",
                UserWarning,
                stacklevel=2,
            )
            self.w_model_ = None
            bins = np.zeros(len(y), dtype=int)
            n_bins = 1
        else:
            w = column_or_1d(w, dtype=float)
            check_consistent_length(y, w)
            self.w_model_ = make_pipeline(self._features([self.first]), self._forest())
            folds = KFold(self.cv, shuffle=True, random_state=self.random_state)
            w_oof = cross_val_predict(self.w_model_, X, w, cv=folds)
            self.w_model_.fit(X, w)
            bins = self._bin(w_oof)
            n_bins = len(self.bins) - 1
        self.choices_, self.models_ = [], []
        for k in range(n_bins):
            rows = bins == k
            if rows.sum() < 2:  # too few to choose: the first option, on all
                rows = np.ones_like(rows)
            best = None
            for option in self.options:
                model = make_pipeline(
                    self._features([self.first, option]), self._forest(oob_score=True)
                )
                with warnings.catch_warnings():
                    # few trees leave some samples in every bag: the out-of-bag
                    # score is then over the others, still a fair comparison
                    warnings.filterwarnings("ignore", message="Some inputs do not")
                    model.fit(X[rows], y[rows])
                score = model[-1].oob_score_
                if best is None or score > best[0]:
                    best = (score, option, model)
            self.choices_.append(best[1])
            self.models_.append(best[2])
        return self

    def predict(self, X):
        """Each sample predicted by the model of its predicted W's bin.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), real or complex

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = _validate_echoes(self, X, reset=False)
        if self.w_model_ is None:
            return self.models_[0].predict(X)
        bins = self._bin(self.w_model_.predict(X))
        out = np.empty(len(X))
        for k, model in enumerate(self.models_):
            rows = bins == k
            if rows.any():
                out[rows] = model.predict(X[rows])
        return out


def _protocol_regressor(adaptive, features, *, n_estimators, cv, random_state, n_jobs):
    """A fresh regressor of a protocol: its features and a random forest, or
    the adaptive meta-estimator (``adaptive`` is then the protocol's dict)."""
    if adaptive is not None:
        return _AdaptiveProtocolRegressor(
            features.blocks,
            features.windows,
            adaptive["first"],
            adaptive["options"],
            features.detection,
            n_estimators=n_estimators,
            cv=cv,
            random_state=random_state,
            n_jobs=n_jobs,
        )
    return make_pipeline(
        clone(features), _protocol_forest(n_estimators, random_state, n_jobs)
    )
