"""W screening: predict the coupling weight W, then classify within W bins.

The paper (Sec. III.B, Figs. 8 and 9) improves the power vs non-power
classifier by training one random forest per range of the total interaction
weight ``W = 2 alpha_xy + alpha_z`` ([0.1, 0.17], [0.17, 0.23], [0.23, 0.3]
MHz). At prediction time W is unknown, so :class:`WScreenedClassifier` first
predicts it with a regressor and sends each echo to the classifier of its
predicted bin.

Examples
--------
>>> import numpy as np
>>> from sklearn.datasets import make_classification
>>> from sknmr import WScreenedClassifier
>>> X, y = make_classification(n_samples=120, n_features=6, random_state=0)
>>> w = 0.1 + 0.2 * (X[:, 0] - X[:, 0].min()) / np.ptp(X[:, 0])
>>> clf = WScreenedClassifier(random_state=0).fit(X, y, w=w)
>>> int(clf.bin_counts_.sum()), len(clf.classifiers_)
(120, 3)
"""

import warnings
from numbers import Integral

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import KFold, check_cv, cross_val_predict
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_method_params,
    check_is_fitted,
    validate_data,
)

from ._paper import PAPER_W_BINS
from .utils._importances import feature_importances
from .utils._random import check_seed

__all__ = ["PAPER_W_BINS", "MissingWWarning", "WScreenedClassifier"]

#: Edges of the W ranges (MHz) the paper screens by, the default ``bins``.
PAPER_W_BINS = PAPER_W_BINS


class MissingWWarning(UserWarning):
    """:meth:`WScreenedClassifier.fit` got no ``w`` and fitted one unscreened model.

    Turn it into an error with
    ``warnings.simplefilter("error", MissingWWarning)``.
    """


def _classifier_has(attr):
    """Whether the (default) inner classifier offers ``attr``."""

    def check(self):
        return hasattr(self._make_classifier(), attr)

    return check


def _seed_unset(estimator, rng):
    """Give every unset (None) ``random_state`` in ``estimator`` a derived seed.

    Nested parameters (``step__random_state``) are seeded too, each with its
    own draw, in sorted-name order so the result is reproducible.
    """
    params = estimator.get_params(deep=True)
    names = sorted(
        name
        for name, value in params.items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    )
    if names:
        estimator.set_params(**{name: check_seed(rng) for name in names})
    return estimator


class WScreenedClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Classify echoes with one classifier per bin of predicted W.

    ``fit(X, y, w=w)`` fits ``regressor`` on ``(X, w)`` and one clone of
    ``classifier`` per W bin; ``predict`` routes each echo to the classifier
    of the bin of its *predicted* W (the paper's W screening, Figs. 8-9).

    Parameters
    ----------
    regressor : regressor, default=None
        Predicts W from the features. None: a
        ``RandomForestRegressor(n_jobs=n_jobs)``.
    classifier : classifier, default=None
        Cloned once per bin. None: an imbalanced-learn pipeline
        ``make_pipeline(RandomOverSampler(), RandomForestClassifier(n_jobs=n_jobs))``
        (steps ``randomoversampler`` and ``randomforestclassifier``), so the
        minority class is oversampled inside training only, never in what is
        predicted or scored. To search over its parameters (e.g.
        ``classifier__randomforestclassifier__n_estimators``) pass that
        pipeline explicitly.
    bins : array-like of float, default=(0.1, 0.17, 0.23, 0.3)
        Increasing W bin edges in MHz; ``len(bins) - 1`` bins. Bin k holds
        ``bins[k] <= W < bins[k + 1]``; W below ``bins[0]`` or at or above
        ``bins[-1]`` goes to the first or last bin (predicted W can fall
        outside the prior's range).
    bin_assignment : {"oof", "true"}, default="oof"
        Which W puts a *training* echo in a bin. "true": its true W (the
        paper's protocol). "oof": its out-of-fold predicted W
        (:func:`~sklearn.model_selection.cross_val_predict` with ``cv``
        folds), so each bin's classifier trains on the echoes that the
        fitted regressor will actually send it, W errors included. "oof" is
        the default because prediction can only route by predicted W: a
        classifier trained on true-W bins never sees the neighbouring-bin
        echoes that prediction errors send it. It costs ``cv`` extra
        regressor fits; see ``benchmarks/bench_supervised.py`` for the
        measured difference.
    cv : int, cross-validation generator or iterable, default=5
        Folds for ``bin_assignment="oof"``. An int (or None, meaning 5) gives
        a *shuffled* :class:`~sklearn.model_selection.KFold`: echoes from
        :meth:`EchoSimulator.sample` are ordered by kernel, and unshuffled
        folds would each hold out whole kernels.
    random_state : int, RandomState instance or None, default=None
        Seeds everything random: the default inner estimators, the shuffled
        folds, and every ``random_state`` (nested ones included) that is None
        in a user-given ``regressor`` or ``classifier`` (each bin's clone gets
        its own seed). Values the user set are left alone. None leaves all
        unset seeds unset.
    n_jobs : int, default=None
        Passed to the default random forests. User-given estimators keep
        their own ``n_jobs``; folds and bins are fitted one after another.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has string column names.
    screened_ : bool
        False when ``fit`` got no ``w`` (see Notes).
    bin_edges_ : ndarray of shape (n_bins + 1,)
        The validated ``bins``.
    regressor_ : regressor or None
        The W regressor fitted on all training echoes (None when unscreened).
    classifiers_ : list of estimators
        One per bin (one in all when unscreened): a fitted clone of
        ``classifier``; a :class:`~sklearn.dummy.DummyClassifier` predicting
        the single class of a bin with one class; or ``fallback_`` for a bin
        with no training echo.
    fallback_ : estimator or None
        A clone of ``classifier`` fitted on all training echoes, made only
        when some bin is empty.
    bin_counts_ : ndarray of shape (n_bins,)
        Training echoes assigned to each bin (``[n_samples]`` when unscreened).
    oof_w_ : ndarray of shape (n_samples,) or None
        The out-of-fold predicted W of the training echoes
        (``bin_assignment="oof"`` only).

    See Also
    --------
    sknmr.study.power_false_positive_rate : the error the screening reduces.

    Notes
    -----
    **Missing w.** ``fit(X, y)`` without ``w`` cannot screen. It then warns
    (:class:`MissingWWarning`) and fits one unscreened ``classifier`` on all
    echoes, which ``predict`` uses for every echo. This keeps the estimator
    usable wherever scikit-learn calls ``fit(X, y)`` (its common checks, a
    forgotten routing request) while saying loudly that no screening
    happened; make it an error with
    ``warnings.simplefilter("error", MissingWWarning)``.

    **Metadata routing.** ``fit`` requests ``w`` by default (like the
    ``groups`` of scikit-learn's group splitters), so with
    ``sklearn.set_config(enable_metadata_routing=True)``,
    ``cross_validate(clf, X, y, params={"w": w})``,
    ``GridSearchCV(clf, ...).fit(X, y, w=w)`` and ``pipe.fit(X, y, w=w)``
    pass each split its slice of ``w`` with no ``set_fit_request`` call.
    Other fit metadata (e.g. ``sample_weight``) is routed to ``regressor``
    and ``classifier`` as they request it, and sliced per bin. Without
    routing, meta-estimators pass ``w`` as a fit parameter:
    ``GridSearchCV(clf, ...).fit(X, y, w=w)``,
    ``cross_validate(clf, X, y, params={"w": w})`` and
    ``pipe.fit(X, y, <step name>__w=w)``.

    **Feature importances.** ``feature_importances_`` is the mean of the
    per-bin classifiers' importances weighted by ``bin_counts_``, taken from
    the classifier or from the last step of a pipeline that keeps all
    features; bins served by a constant or fallback model are left out. The
    W regressor's own importances are ``regressor_.feature_importances_``.

    Examples
    --------
    >>> import numpy as np
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> X, y = make_classification(n_samples=150, n_features=5, random_state=0)
    >>> w = 0.1 + 0.2 * (X[:, 1] - X[:, 1].min()) / np.ptp(X[:, 1])
    >>> forest = make_pipeline(
    ...     RandomOverSampler(), RandomForestClassifier(n_estimators=20))
    >>> clf = WScreenedClassifier(classifier=forest, random_state=0)
    >>> clf = clf.fit(X, y, w=w)
    >>> clf.predict(X[:4]).shape, clf.predict_proba(X[:4]).shape
    ((4,), (4, 2))
    >>> round(float(clf.feature_importances_.sum()), 6)
    1.0
    """

    __metadata_request__fit = {"w": True}

    _parameter_constraints: dict = {
        "regressor": [HasMethods(["fit", "predict"]), None],
        "classifier": [HasMethods(["fit", "predict"]), None],
        "bins": ["array-like"],
        "bin_assignment": [StrOptions({"oof", "true"})],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
    }

    def __init__(
        self,
        regressor=None,
        classifier=None,
        *,
        bins=PAPER_W_BINS,
        bin_assignment="oof",
        cv=5,
        random_state=None,
        n_jobs=None,
    ):
        self.regressor = regressor
        self.classifier = classifier
        self.bins = bins
        self.bin_assignment = bin_assignment
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- construction helpers ------------------------------------------------
    def _make_regressor(self):
        if self.regressor is None:
            return RandomForestRegressor(n_jobs=self.n_jobs)
        return clone(self.regressor)

    def _make_classifier(self):
        if self.classifier is None:
            return make_pipeline(
                RandomOverSampler(), RandomForestClassifier(n_jobs=self.n_jobs)
            )
        return clone(self.classifier)

    def _check_bins(self):
        try:
            edges = np.asarray(self.bins, dtype=float)
        except (TypeError, ValueError):
            edges = None
        if (
            edges is None
            or edges.ndim != 1
            or edges.size < 2
            or not np.all(np.isfinite(edges))
            or np.any(np.diff(edges) <= 0)
        ):
            raise ValueError(
                "bins must be at least two finite, strictly increasing W edges "
                f"(MHz); got {self.bins!r}."
            )
        return edges

    def _check_w(self, w, n_samples):
        try:
            w = np.asarray(w, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "w must be an array-like of floats, the W of each echo (MHz); "
                f"converting it to floats failed: {exc}."
            ) from exc
        if w.ndim == 2 and w.shape[1] == 1:
            warnings.warn(
                f"w has shape {w.shape}, a column vector; a 1-d array of shape "
                f"({w.shape[0]},) was expected. It is raveled.",
                DataConversionWarning,
                stacklevel=4,
            )
            w = w.ravel()
        if w.ndim != 1:
            raise ValueError(
                f"w must be a 1-d array of shape (n_samples,) = ({n_samples},), "
                f"one W per echo; got an array of shape {w.shape}."
            )
        if w.shape[0] != n_samples:
            raise ValueError(
                f"w must hold one W per echo: got {w.shape[0]} values for "
                f"{n_samples} echoes."
            )
        if not np.all(np.isfinite(w)):
            raise ValueError("w must be finite (no NaN or inf).")
        return w

    def _splitter(self, rng):
        cv = 5 if self.cv is None else self.cv
        if isinstance(cv, Integral):
            seed = None if self.random_state is None else check_seed(rng)
            return KFold(n_splits=cv, shuffle=True, random_state=seed)
        return check_cv(cv)

    def w_bin(self, w):
        """The W bin of each value: its index in ``bin_edges_``'s bins.

        Values outside the edges go to the end bins, as in :meth:`predict`.

        Parameters
        ----------
        w : array-like of float
            Interaction weights W (MHz).

        Returns
        -------
        bins : ndarray of int
            The bin of each value, ``0 .. len(bin_edges_) - 2``.
        """
        check_is_fitted(self)
        return np.searchsorted(self.bin_edges_[1:-1], w, side="right")

    def _seeded(self, estimator, rng):
        if self.random_state is not None:
            _seed_unset(estimator, rng)
        return estimator

    # -- fitting ---------------------------------------------------------------
    def _fit_bin(self, X, y, fit_params, rng):
        """Fit one bin's model: the classifier, or a constant for one class."""
        if np.unique(y).size == 1:
            return DummyClassifier(strategy="most_frequent").fit(X, y)
        estimator = self._seeded(self._make_classifier(), rng)
        return estimator.fit(X, y, **fit_params)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, w=None, **fit_params):
        """Fit the W regressor and the per-bin classifiers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Echo features.
        y : array-like of shape (n_samples,)
            Class labels (e.g. power 1 vs non-power 0).
        w : array-like of shape (n_samples,), default=None
            The true W of each training echo (MHz). None: warn and fit one
            unscreened classifier (see Notes of the class).
        **fit_params : dict
            Other metadata for the inner estimators' ``fit``; only with
            metadata routing enabled.

        Returns
        -------
        self : WScreenedClassifier
        """
        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
        else:
            _raise_for_params(fit_params, self, "fit")
            routed = Bunch(regressor=Bunch(fit={}), classifier=Bunch(fit={}))
        edges = self._check_bins()
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        rng = check_random_state(self.random_state)
        self.bin_edges_ = edges
        self.oof_w_ = None
        self.fallback_ = None
        clf_params = routed.classifier.fit

        if w is None:
            warnings.warn(
                "WScreenedClassifier.fit got no w: fitting one unscreened "
                "classifier on all echoes. Pass fit(X, y, w=w) (or route w) "
                "to screen by W.",
                MissingWWarning,
                stacklevel=3,
            )
            self.screened_ = False
            self.regressor_ = None
            self.classifiers_ = [self._fit_bin(X, y, clf_params, rng)]
            self.bin_counts_ = np.array([X.shape[0]])
            return self

        w = self._check_w(w, X.shape[0])
        self.screened_ = True
        reg_params = routed.regressor.fit
        if self.bin_assignment == "oof":
            splitter = self._splitter(rng)
            oof_regressor = self._seeded(self._make_regressor(), rng)
            self.oof_w_ = cross_val_predict(
                oof_regressor, X, w, cv=splitter, params=reg_params or None
            )
            bins = self.w_bin(self.oof_w_)
        else:
            bins = self.w_bin(w)
        self.regressor_ = self._seeded(self._make_regressor(), rng)
        self.regressor_.fit(X, w, **reg_params)

        n_bins = edges.size - 1
        self.bin_counts_ = np.bincount(bins, minlength=n_bins)
        if np.any(self.bin_counts_ == 0):
            self.fallback_ = self._fit_bin(X, y, clf_params, rng)
        self.classifiers_ = []
        for k in range(n_bins):
            if self.bin_counts_[k] == 0:
                self.classifiers_.append(self.fallback_)
                continue
            index = np.flatnonzero(bins == k)
            params = _check_method_params(X, clf_params, indices=index)
            self.classifiers_.append(self._fit_bin(X[index], y[index], params, rng))
        return self

    # -- prediction -------------------------------------------------------------
    def _routes(self, X):
        """Validated X and the bin of each echo."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if not self.screened_:
            return X, np.zeros(X.shape[0], dtype=np.intp)
        return X, self.w_bin(self.regressor_.predict(X))

    def predict_w(self, X):
        """Predicted W of each echo (MHz).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        w : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if not self.screened_:
            raise AttributeError(
                "This WScreenedClassifier was fitted without w and has no W "
                "regressor; refit with fit(X, y, w=w)."
            )
        return self.regressor_.predict(validate_data(self, X, reset=False))

    def predict_bin(self, X):
        """Index of the W bin each echo is routed to (0 for all if unscreened).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        bins : ndarray of shape (n_samples,)
        """
        return self._routes(X)[1]

    def predict(self, X):
        """Class of each echo, from the classifier of its predicted W bin.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X, bins = self._routes(X)
        y_pred = np.empty(X.shape[0], dtype=self.classes_.dtype)
        for k, estimator in enumerate(self.classifiers_):
            mask = bins == k
            if mask.any():
                y_pred[mask] = estimator.predict(X[mask])
        return y_pred

    @available_if(_classifier_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the classifier of each echo's W bin.

        A bin's model may know fewer classes than ``classes_`` (a one-class
        bin, or a class missing from the bin): its columns are placed under
        the matching ``classes_`` and the others are 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X, bins = self._routes(X)
        proba = np.zeros((X.shape[0], self.classes_.size))
        for k, estimator in enumerate(self.classifiers_):
            mask = bins == k
            if mask.any():
                columns = np.searchsorted(self.classes_, estimator.classes_)
                proba[np.ix_(mask, columns)] = estimator.predict_proba(X[mask])
        return proba

    @property
    def feature_importances_(self):
        """Bin-size-weighted mean of the per-bin classifiers' importances.

        Raises AttributeError when no per-bin model has importances.
        """
        check_is_fitted(self)
        total, weight = 0.0, 0
        for count, estimator in zip(self.bin_counts_, self.classifiers_, strict=True):
            if estimator is self.fallback_ or isinstance(estimator, DummyClassifier):
                continue
            try:
                importances = feature_importances(
                    estimator, n_features=self.n_features_in_, use_coef=False
                )
            except ValueError:  # no importances, or not of the input features
                continue
            total = total + count * importances
            weight += count
        if weight == 0:
            raise AttributeError(
                "No per-bin classifier of this WScreenedClassifier has "
                "feature_importances_."
            )
        return total / weight

    # -- scikit-learn plumbing ---------------------------------------------------
    def get_metadata_routing(self):
        """Metadata routing: ``w`` for this estimator, the rest to the inner ones.

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                regressor=self._make_regressor(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                classifier=self._make_classifier(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
