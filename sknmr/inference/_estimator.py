"""EchoInference: from a measured echo to the couplings, with intervals and a flag."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import Bunch
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from ..simulator import EchoSimulator
from ..utils._random import InferenceStream, check_seed, derive_seed
from ._augment import augment_parts, check_augment
from ._inputs import _ExperimentInputs, _pulse_times
from ._intervals import _TargetIntervals
from ._ood import _OutOfDistribution
from ._power import _PowerProbability

__all__ = ["EchoInference"]

# Seed streams derived from random_state, one per random part of fit.
_CLASSIFIER = InferenceStream.CLASSIFIER
_OOD = InferenceStream.OOD_DETECTOR


class EchoInference(
    _ExperimentInputs,
    _TargetIntervals,
    _PowerProbability,
    _OutOfDistribution,
    TransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """W, L, the couplings and p(power) of an echo, with intervals and an OOD flag.

    Trained on simulated echoes and their parameter table (as
    :func:`sknmr.datasets.make_echoes` returns them), it predicts one row per
    echo, measured or simulated: each target with an interval meant to hold
    the truth with probability ``confidence``, the probability ``p_power``
    that the coupling kernel is a power law, and whether the echo is out of
    the simulations' distribution (``ood``, with the checks that flagged it),
    in which case none of the rest should be trusted. ``fit`` holds out
    ``calibration_size`` of the echoes to calibrate the intervals, the
    probabilities and the OOD thresholds. Read more in the
    :ref:`User Guide <inference>` (:ref:`what fit does <inference_fit>`).

    Parameters
    ----------
    featurizer : transformer, "passthrough" or None, default=None
        Turns the detected series into features (cloned; fitted on the
        training part with the first target as ``y``). None: the echo window
        ``2 tau +- tau/3`` scaled to [0, 1] (:ref:`inference_features`),
        and the free-induction decay where ``fid_span`` says so.
    targets : str or sequence of str, default=("W", "L", "alpha_xy", "alpha_z")
        Columns of ``y`` to predict, each with an interval.
    power : str or None, default="power"
        Column of ``y`` holding the 0/1 power-law flag whose probability is
        predicted (``p_power``); None predicts no probability.
    regressor : regressor or None, default=None
        Cloned once per target. None: ``ExtraTreesRegressor(n_estimators=200)``
        for ``interval_method="conformal"``, else quantile-forest's
        ``ExtraTreesQuantileRegressor(n_estimators=200)`` (the quantile
        methods need a ``predict`` that takes ``quantiles``).
    classifier : classifier or None, default=None
        Of the power flag, calibrated (sigmoid) on the calibration part.
        None: ``RandomForestClassifier(n_estimators=200)``.
    confidence : float, default=0.9
        Target coverage of the intervals, in (0, 1); the calibration part
        must hold enough echoes for it (``fit`` says how many).
    interval_method : {"conformalized_quantile", "conformal", "quantile"}, \
            default="conformalized_quantile"
        MAPIE's conformalized quantiles (adaptive and calibrated), MAPIE's
        split conformal intervals, or the quantile forest's quantiles (not
        calibrated); see :ref:`inference_intervals` for their measured
        coverage.
    conformity_score : {"absolute", "gamma"}, default="absolute"
        MAPIE's conformity score for ``"conformal"``: intervals of one width
        (``"absolute"``) or of a width proportional to the prediction
        (``"gamma"``, for positive targets).
    ood_detector : estimator or None, default=None
        Outlier detector on the features, with ``fit`` and ``score_samples``
        (higher = more normal); cloned. None: the mean distance to the 5
        nearest training echoes, counting the features' slopes
        (:ref:`inference_ood`).
    ood_false_alarm : float, default=0.01
        Fraction of echoes like the simulations that may be flagged OOD, by
        any check; guaranteed with at least ``1 / (0.8 ood_false_alarm) - 1``
        calibration echoes (``1 / ood_false_alarm - 1`` without
        ``ood_echo_top``), and a warning says when there are fewer.
    ood_echo_top : bool, default=True
        Also flag an echo whose top lies clearly away from the echo time
        (another ``tau`` or another sequence), over two spans; needs a known
        grid.
    fid_span : "auto", (float, float) or None, default="auto"
        The free-induction decay the default featurizer reads besides the
        echo window, as ``(start, stop)`` us after the first pulse (cut at
        the second), relative to its first sample there: it shows the
        linewidth directly (:ref:`inference_linewidth`). ``"auto"``: from 2
        us (or after ``augment``'s ``"dead_time"``) to 60 us, when
        ``"linewidth"`` is a target and the grid is known; None: the echo
        window only. Echoes to predict must then cover the span: start it
        after the receiver's dead time.
    calibration_size : float or int, default=0.25
        Held-out echoes: a fraction in (0, 1) or a count.
    simulator : EchoSimulator or None, default=None
        The simulator of the training echoes, whose experiment is kept
        (``experiment_``): ``predict`` then refuses series on another grid
        and accepts :class:`~sknmr.io.MeasuredEcho` objects. None: taken
        from a make_echoes Bunch given to ``fit``, else the grid is unknown
        and only arrays are accepted.
    detection : {"magnitude", "quadrature"}, default="magnitude"
        Learn from ``|M(t)|``, or from both quadratures of complex echoes
        (:ref:`inference_detection`).
    receiver_phase : {"calibrated", "blind"}, default="calibrated"
        For quadrature detection: whether the measured phase is trusted, or
        only the phase relative to the echo top is used.
    augment : dict or None, default=None
        Instrument effects added to the training and calibration echoes at
        fit time only: ``"snr"``, ``"phase_error"``, ``"dead_time"``,
        ``"dead_fill"``, ``"copies"``, ``"keep_original"``
        (:ref:`inference_augment`).
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the augmentation and every default sub-estimator
        (and unset seeds of given ones).
    n_jobs : int or None, default=None
        Passed to the default forests and the nearest-neighbour search.

    Attributes
    ----------
    n_features_in_ : int
        Samples per echo seen in fit.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X``.
    experiment_ : Experiment or None
        The experiment of the training echoes (:class:`~sknmr.Experiment`);
        None when unknown.
    times_ : ndarray or None
        Sample times (us) of the grid.
    window_ : slice or None
        Samples of the echo window ``2 tau +- tau/3``.
    fid_samples_ : ndarray of int or None
        Samples of the free-induction decay among the default features
        (``fid_span``); None when they are not read.
    targets_ : list of str
        The targets, in the table's order.
    featurizer_ : transformer
        The fitted featurizer.
    regressors_ : dict
        Fitted regressor of each target.
    nonnegative_ : dict
        Whether each target was never negative in training (its lower bounds
        are then clipped at 0).
    intervals_ : dict
        MAPIE's conformalized regressor of each target (None for
        ``"quantile"``).
    classifier_ : classifier or None
        The calibrated power classifier.
    ood_detector_ : estimator
        The fitted outlier detector.
    ood_threshold_ : float
        Outlyingness above which an echo is flagged.
    ood_reference_ : float
        Median outlyingness of the calibration echoes.
    echo_top_threshold_, echo_top_reference_ : ndarray of shape (2,) or None
        The same for the echo-top offsets of the late and the early span;
        None when they are not checked.
    augmenter_ : imblearn.FunctionSampler or None
        The sampler that augmented the training part.
    calibration_coverage_ : pandas.Series
        Coverage of each target's intervals on the calibration part.
    n_train_, n_calibration_ : int
        Echoes in each part (before augmentation).

    See Also
    --------
    sknmr.datasets.make_echoes : The training echoes.
    sknmr.io.read_echo : A measured echo from a file.
    sknmr.inference.ood_advice : What to check first about a flagged echo.

    Examples
    --------
    >>> from sknmr import EchoInference, EchoSimulator
    >>> from sknmr.datasets import make_echoes
    >>> from quantile_forest import ExtraTreesQuantileRegressor
    >>> sim = EchoSimulator(lattice_size=8, tau=8.0)
    >>> echoes = make_echoes(20, simulator=sim, random_state=0)
    >>> model = EchoInference(regressor=ExtraTreesQuantileRegressor(20),
    ...                       simulator=sim, calibration_size=0.4,
    ...                       ood_false_alarm=0.1, random_state=0)
    >>> model = model.fit(echoes.data, echoes.target)
    >>> table = model.predict(echoes.data[:2])
    >>> table.columns.tolist()[:3]
    ['W', 'W_lower', 'W_upper']
    >>> table.shape
    (2, 16)
    >>> table["ood_reason"].tolist()  # the checks that flagged each echo
    ['', '']
    >>> bool((table["W_lower"] <= table["W"]).all())
    True
    """

    _parameter_constraints = {
        "featurizer": [
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
            None,
        ],
        "targets": [str, "array-like"],
        "power": [str, None],
        "regressor": [HasMethods(["fit", "predict"]), None],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "interval_method": [
            StrOptions({"conformal", "quantile", "conformalized_quantile"})
        ],
        "conformity_score": [StrOptions({"absolute", "gamma"})],
        "ood_detector": [HasMethods(["fit", "score_samples"]), None],
        "ood_false_alarm": [Interval(Real, 0, 1, closed="neither")],
        "ood_echo_top": ["boolean"],
        "fid_span": [StrOptions({"auto"}), "array-like", None],
        "calibration_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "simulator": [EchoSimulator, None],
        "detection": [StrOptions({"magnitude", "quadrature"})],
        "receiver_phase": [StrOptions({"calibrated", "blind"})],
        "augment": [dict, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        featurizer=None,
        *,
        targets=("W", "L", "alpha_xy", "alpha_z"),
        power="power",
        regressor=None,
        classifier=None,
        confidence=0.9,
        interval_method="conformalized_quantile",
        conformity_score="absolute",
        ood_detector=None,
        ood_false_alarm=0.01,
        ood_echo_top=True,
        fid_span="auto",
        calibration_size=0.25,
        simulator=None,
        detection="magnitude",
        receiver_phase="calibrated",
        augment=None,
        random_state=None,
        n_jobs=None,
    ):
        self.featurizer = featurizer
        self.targets = targets
        self.power = power
        self.regressor = regressor
        self.classifier = classifier
        self.confidence = confidence
        self.interval_method = interval_method
        self.conformity_score = conformity_score
        self.ood_detector = ood_detector
        self.ood_false_alarm = ood_false_alarm
        self.ood_echo_top = ood_echo_top
        self.fid_span = fid_span
        self.calibration_size = calibration_size
        self.simulator = simulator
        self.detection = detection
        self.receiver_phase = receiver_phase
        self.augment = augment
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- sub-estimators ----------------------------------------------------------------
    def _seeded(self, estimator, seed):
        params = estimator.get_params(deep=True)
        names = sorted(
            k
            for k, v in params.items()
            if (k == "random_state" or k.endswith("__random_state")) and v is None
        )
        if names and seed is not None:
            estimator.set_params(
                **{k: derive_seed(seed, i) for i, k in enumerate(names)}
            )
        return estimator

    def _check_component(self, name):
        """A user's estimator's own parameters, checked before any fit."""
        estimator = getattr(self, name)
        validate = getattr(estimator, "_validate_params", None)
        if estimator is None or validate is None:
            return
        try:
            validate()
        except ValueError as exc:
            raise ValueError(f"{name} has a bad setting: {exc}") from None

    # -- fit ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the regressors, their intervals, the classifier and the OOD flag.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_times), or a make_echoes Bunch
            Simulated echoes (complex for quadrature detection). A Bunch
            from :func:`~sknmr.datasets.make_echoes` (or
            :func:`~sknmr.datasets.load_echoes`) gives the echoes, the
            targets (``y`` must then be None) and, unless ``simulator`` is
            set, the simulator's settings.
        y : DataFrame or array-like
            The echoes' parameter table, e.g. make_echoes' ``target``: the
            columns ``targets`` and ``power``. An array's columns are the
            targets in order, then the power flag when ``power`` is set.

        Returns
        -------
        self : EchoInference
        """
        bunch = None
        if isinstance(X, Bunch) or (
            isinstance(X, Mapping) and "data" in X and "target" in X
        ):
            if y is not None:
                raise ValueError("Give y inside the Bunch or as y, not both.")
            bunch, y, X = X, X["target"], X["data"]
        X = self._check_X(X, reset=True)
        n = X.shape[0]
        if n < 2:
            raise ValueError(
                f"EchoInference needs at least 2 echoes (a training and a "
                f"calibration part); got {n} sample."
            )
        targets, Y, flag = self._check_y(y, n)
        experiment = self._experiment_for_fit(bunch)
        kind = "complex" if np.iscomplexobj(X) else "real"
        if experiment is not None:
            if self.detection == "quadrature" and experiment.output != "complex":
                raise ValueError(
                    "detection='quadrature' needs a simulator with "
                    f"output='complex'; this one has output={experiment.output!r}."
                )
            if kind == "real" and experiment.output == "magnitude":
                kind = "magnitude"
        elif kind == "real" and np.all(X >= 0):
            kind = "magnitude"
        self._set_grid(experiment, X.shape[1])
        self._check_grid_names()
        seed = check_seed(self.random_state)
        augment = check_augment(self.augment, kind, self.times_ is not None)

        self._set_fid(targets, augment)

        copies = 1 if augment is None else augment["copies"] + augment["keep_original"]
        n_held = self._check_sizes(n, copies)
        for name in ("regressor", "classifier", "ood_detector"):
            self._check_component(name)
        train, cal = self._calibration_split(n, n_held, flag, seed)
        self.n_train_, self.n_calibration_ = len(train), len(cal)
        targets_y = Y if flag is None else np.column_stack([Y, flag])
        X_train, y_train = X[train], targets_y[train]
        X_cal, y_cal = X[cal], targets_y[cal]

        # 1. augmentation (fit only).
        self.augmenter_ = None
        if augment is not None:
            pulses = _pulse_times(experiment) if experiment is not None else ()
            self.augmenter_, (X_train, y_train), (X_cal, y_cal) = augment_parts(
                augment,
                (X_train, y_train),
                (X_cal, y_cal),
                seed,
                kind=kind,
                times=self.times_,
                pulse_times=pulses,
                top=self.window_,
            )

        # 2-3. detection and features.
        F_train = self._fit_featurizer(X_train, y_train[:, 0])
        F_cal = self._features(X_cal, detected=False)

        # 4. regressors and intervals.
        self._fit_targets(targets, Y, F_train, y_train, F_cal, y_cal, seed)

        # 5. power classifier, calibrated on the held-out part.
        self.classifier_ = None
        if flag is not None:
            p_train, p_cal = y_train[:, -1].astype(int), y_cal[:, -1].astype(int)
            self.classifier_ = self._fit_classifier(
                F_train, p_train, F_cal, p_cal, derive_seed(seed, _CLASSIFIER)
            )

        # 6. OOD detector and the thresholds of the checks.
        self._fit_ood(F_train, F_cal, X_cal, derive_seed(seed, _OOD))
        return self

    # -- prediction --------------------------------------------------------------------
    def get_feature_names_out(self, input_features=None):
        """Columns of :meth:`transform`: those of :meth:`predict`'s table but the last.

        The table's last column, ``ood_reason``, is text, which
        :meth:`transform`'s floats leave out.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = []
        for target in self.targets_:
            names += [target, f"{target}_lower", f"{target}_upper"]
        if self.classifier_ is not None:
            names.append("p_power")
        names += ["ood_score", "ood"]
        return np.asarray(names, dtype=object)

    def predict(self, X):
        """The table of estimates, intervals, p(power) and the OOD flag.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_times), MeasuredEcho or list of them
            Echoes on the training grid; :class:`~sknmr.io.MeasuredEcho`
            objects are put on it first (:meth:`make_resampler`), which
            refuses one that does not cover the echo window; one whose
            metadata states a ``tau`` more than 2% off the model's is refused
            too. Samples not
            covered (NaN, also in an array made by ``make_resampler``) are
            accepted outside the window and take the value of the nearest
            covered sample.

        Returns
        -------
        table : pandas.DataFrame
            One row per echo (indexed like a DataFrame ``X``), columns
            :meth:`get_feature_names_out`: per target ``t``, ``t``,
            ``t_lower`` and ``t_upper``; ``p_power``; ``ood_score`` (0 for a
            typical simulation, above 1 when flagged), ``ood`` (bool) and
            ``ood_reason``: the checks that flagged the echo (``"distance"``,
            ``"echo top (early span)"``, ``"echo top (late span)"``,
            separated by ``"; "``), empty when it is not flagged;
            :func:`~sknmr.inference.ood_advice` says what to check first.
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        recorded = self._check_X(X, reset=False, fill=False)
        X = self._fill_uncovered(recorded)
        F = self._features(X)
        columns = {}
        for target in self.targets_:
            estimate, lower, upper = self._intervals(target, F)
            columns[target] = estimate
            columns[f"{target}_lower"] = lower
            columns[f"{target}_upper"] = upper
        if self.classifier_ is not None:
            columns["p_power"] = self._p_power(F)
        columns.update(self._ood_columns(F, recorded))
        return pd.DataFrame(columns, index=index)

    def predict_interval(self, X):
        """Estimates and intervals as arrays (MAPIE's layout).

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_times), MeasuredEcho or list of them

        Returns
        -------
        y_pred : ndarray of shape (n_echoes, n_targets)
        y_pis : ndarray of shape (n_echoes, 2, n_targets)
            Lower (``[:, 0]``) and upper (``[:, 1]``) bounds.
        """
        table = self.predict(X)
        y_pred = table[self.targets_].to_numpy()
        lower = table[[f"{t}_lower" for t in self.targets_]].to_numpy()
        upper = table[[f"{t}_upper" for t in self.targets_]].to_numpy()
        return y_pred, np.stack([lower, upper], axis=1)

    def transform(self, X):
        """The table of :meth:`predict` as a float array (``ood`` as 0/1).

        Without the text column ``ood_reason``
        (:meth:`get_feature_names_out`).

        Lets the model sit inside a pipeline (its outputs as features), and
        ``set_output(transform="pandas")`` gives the table back.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_times), MeasuredEcho or list of them

        Returns
        -------
        table : ndarray of shape (n_echoes, n_columns)
        """
        table = self.predict(X)
        return table[self.get_feature_names_out()].to_numpy(dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.transformer_tags.preserves_dtype = []
        return tags
