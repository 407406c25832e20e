"""EchoInference: from a measured echo to the couplings, with intervals and a flag."""

import math
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
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
from ..utils._resources import check_fits_in_memory
from ._augment import check_augment, make_augmenter
from ._inputs import _ExperimentInputs, _pulse_times
from ._intervals import (
    _takes_quantiles,
    _TargetIntervals,
)
from ._ood import KNNDistance, conformal_threshold, echo_top_offset

__all__ = ["EchoInference"]

# The echo-top checks: where each span starts, before the echo time, in
# units of the time from the pulse before the echo to the echo. The late span
# sees an echo of another tau near the model's; the early one, from a third of
# the way after the pulse before that, also sees the echoes and decays of a
# sequence with shorter spacings or other angles (a 45-90 Hahn echo, a Hahn
# echo at tau/2), which the late span misses and whose early decays would
# blunt it if it were the only one (measured in the inference guide).
_ECHO_TOP_STARTS = (2 / 3, 5 / 3)
# Shares of the OOD false-alarm rate: the distance's, then each span's. Echoes
# of another tau or sequence score far above the spans' thresholds; failed
# measurements such as long free-induction decays lie close to the
# distance's, so it keeps most of the rate (measured: 0.8 flags 88% of such
# decays, 0.6 81%, with the same flags for other taus and sequences).
_OOD_SHARES = (0.8, 0.1, 0.1)
# Seed streams derived from random_state, one per random part of fit.
_SPLIT, _AUG_TRAIN, _AUG_CAL, _CLASSIFIER, _OOD, _REGRESSOR = InferenceStream


class EchoInference(
    _ExperimentInputs,
    _TargetIntervals,
    TransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """W, L, the couplings and p(power) of an echo, with intervals and an OOD flag.

    Trained on simulated echoes ``X`` and their parameter table ``y`` (as
    :func:`sknmr.datasets.make_echoes` returns them), it predicts for each
    echo, measured or simulated, one row of a table: every target with an
    interval meant to hold the truth with probability ``confidence``; the
    probability that the coupling kernel is a power law; and whether the
    echo looks like none of the simulations (out of distribution, OOD), in
    which case none of the rest should be trusted.

    ``fit`` splits the echoes (stratified by the power flag) into a training
    part and a held-out calibration part (``calibration_size``), then:

    1. **augments** both parts (optional, ``augment``): instrument effects
       (noise, receiver phase, dead time) through an imbalanced-learn
       :class:`~imblearn.FunctionSampler`, so only ``fit`` sees them;
    2. **detects** (``detection``, ``receiver_phase``): the complex echoes
       become real channels (see Notes);
    3. **featurizes** (``featurizer``): by default the echo window
       ``2 tau +- tau/3`` (:meth:`EchoWindow.for_simulator`), each curve then
       scaled to [0, 1] (:func:`~sknmr.curve_scaler`);
    4. fits one clone of ``regressor`` per target on the training part, and
       calibrates its **intervals** on the calibration part
       (``interval_method``);
    5. fits ``classifier`` on the training part and calibrates its
       probabilities on the calibration part (sigmoid,
       :class:`~sklearn.calibration.CalibratedClassifierCV`);
    6. fits the **OOD detector** on the training features and sets the
       threshold on the calibration echoes so that at most ``ood_false_alarm``
       of echoes like the simulations are flagged.

    Parameters
    ----------
    featurizer : transformer, "passthrough" or None, default=None
        Turns the detected series into features (cloned, and fitted on the
        training part with the first target as ``y``). None: on
        the simulator's grid, ``make_pipeline(EchoWindow.for_simulator(sim),
        curve_scaler())`` for magnitude detection, and the window of each
        channel (a :class:`~sklearn.compose.ColumnTransformer` of two
        :class:`~sknmr.EchoWindow`) for quadrature detection. Without a
        simulator the grid is taken to be a simulator's, ``3 n_tau`` samples
        (the window is then samples ``2 n_tau +- n_tau/3``); a series whose
        length is not a multiple of 3 is used whole.
    targets : str or sequence of str, default=("W", "L", "alpha_xy", "alpha_z")
        Columns of ``y`` to predict, each with an interval.
    power : str or None, default="power"
        Column of ``y`` holding the 0/1 power-law flag whose probability is
        predicted (``p_power``); None predicts no probability.
    regressor : regressor or None, default=None
        Cloned once per target. None: ``ExtraTreesRegressor(n_estimators=200)``
        for ``interval_method="conformal"`` and
        ``quantile_forest.ExtraTreesQuantileRegressor(n_estimators=200)`` for
        the quantile methods, which need a regressor whose ``predict`` takes
        ``quantiles`` (quantile-forest's).
    classifier : classifier or None, default=None
        Base classifier of the power flag, fitted on the training part and
        calibrated (sigmoid) on the calibration part. None:
        ``RandomForestClassifier(n_estimators=200)``.
    confidence : float, default=0.9
        Target coverage of the intervals, in (0, 1).
    interval_method : {"conformalized_quantile", "conformal", "quantile"}, \
            default="conformalized_quantile"
        ``"conformal"``: split conformal intervals around the regressor's
        prediction (MAPIE's
        :class:`~mapie.regression.SplitConformalRegressor`, prefit, scored
        by ``conformity_score``), covering at least ``confidence`` of echoes
        like the calibration ones. ``"quantile"``: the quantiles
        ``(1 -+ confidence) / 2`` of a quantile regression forest
        (quantile-forest), not calibrated: adaptive but with no coverage
        guarantee. ``"conformalized_quantile"``: those quantiles corrected
        on the calibration part (MAPIE's
        :class:`~mapie.regression.ConformalizedQuantileRegressor`): adaptive
        and guaranteed, the default because it covered best in
        ``benchmarks/bench_inference.py``, on clean and noisy echoes alike.
        See the user guide for the measured coverage of each.
    conformity_score : {"absolute", "gamma"}, default="absolute"
        MAPIE's conformity score for ``"conformal"``: intervals of one width
        per target (``"absolute"``) or of a width proportional to the
        prediction (``"gamma"``, for positive targets).
    ood_detector : estimator or None, default=None
        Outlier detector on the features, with ``fit`` and ``score_samples``
        (higher = more normal, e.g. :class:`~sklearn.ensemble.IsolationForest`);
        cloned. None: the mean Euclidean distance to the 5 nearest training
        echoes, between the features and (with the default featurizer, whose
        features are the window's samples in time order) their first
        differences, which sets noise far from every simulation (see the
        user guide for the measurements behind this choice).
    ood_false_alarm : float, default=0.01
        Fraction of echoes like the simulations that may be flagged OOD: the
        threshold is the conformal quantile of the calibration echoes'
        scores. Needs ``1 / ood_false_alarm - 1`` calibration echoes to be
        guaranteed (``1 / (0.8 ood_false_alarm) - 1`` with ``ood_echo_top``;
        a warning says when there are fewer).
    ood_echo_top : bool, default=True
        Also flag an echo whose top lies clearly away from the echo time
        (recorded with another ``tau`` or another sequence, say), which the
        window's features cannot show when the window holds only the
        baseline. The offset is the distance of the largest magnitude from
        the echo time, in units of the time ``d`` since the pulse before the
        echo, times its robust z-score, over a span ending ``d`` after the
        echo. It is taken over two spans: from a third of the way after that
        pulse (an echo of another tau), and from a third of the way after
        the pulse before it (the echoes and decays of shorter spacings or
        other pulse angles). Needs a known grid. Each span's threshold is set
        at a tenth of ``ood_false_alarm`` (with fewer than ``10 /
        ood_false_alarm - 1`` held-out echoes, at their largest score) and
        the detector's at the rest, so
        that at most ``ood_false_alarm`` of echoes like the simulations are
        flagged by any (an echo of another tau or sequence scores far above
        the spans' thresholds, while some failed measurements, such as a long
        free-induction decay, lie close to the detector's).
    calibration_size : float or int, default=0.25
        Held-out echoes for the intervals, the OOD threshold and the
        probability calibration: a fraction in (0, 1) or a count.
    simulator : EchoSimulator or None, default=None
        The simulator the training echoes came from. Its experiment is stored
        (``experiment_``); ``predict`` then refuses series on another
        grid, and accepts :class:`~sknmr.io.MeasuredEcho` objects, which it
        puts on the grid with :class:`~sknmr.io.EchoResampler`. None (with
        array ``X``): the grid is unknown and only arrays are accepted.
        ``fit`` with a make_echoes Bunch takes the simulator from it.
    detection : {"magnitude", "quadrature"}, default="magnitude"
        What is learnt from: ``|M(t)|``, or both quadratures of complex
        echoes (``EchoSimulator(output="complex")``).
    receiver_phase : {"calibrated", "blind"}, default="calibrated"
        For quadrature detection: whether the measured phase is trusted
        (``"calibrated"``: ``Re M`` and ``Im M`` as given, scaled by the echo
        top's magnitude) or unknown (``"blind"``: ``M / M_top``, the signal
        relative to the echo top, which no constant receiver phase changes).
    augment : dict or None, default=None
        Instrument effects added to the training and calibration echoes at
        fit time only (never to what ``predict`` sees), each optional:
        ``"snr"``: a signal-to-noise ratio or a range ``(low, high)`` drawn
        log-uniformly per echo (noise standard deviation per quadrature =
        echo top / SNR; Rician for magnitude echoes); ``"phase_error"``:
        largest receiver phase error (degrees, complex echoes);
        ``"dead_time"``: us after each pulse (0 and tau) whose samples are
        replaced (``"dead_fill"``: ``"hold"``, the first sample after it,
        or ``"zero"``); ``"copies"`` (default 1): augmented versions per
        echo; ``"keep_original"`` (default False): keep the clean echoes too.
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
        The experiment the training echoes came from (its grid, detection
        and physics: :class:`~sknmr.Experiment`); None when unknown.
    times_ : ndarray or None
        Sample times (us) of the grid.
    window_ : slice or None
        Samples of the echo window ``2 tau +- tau/3``.
    targets_ : list of str
    featurizer_ : transformer
        The fitted featurizer.
    regressors_ : dict
        Fitted regressor of each target.
    nonnegative_ : dict
        Whether each target was never negative in training; its lower bounds
        are then clipped at 0 (W, L and the couplings are physically >= 0).
    intervals_ : dict
        MAPIE's conformalized regressor of each target (None for
        ``"quantile"``).
    classifier_ : classifier or None
        The calibrated power classifier.
    ood_detector_ : estimator
    ood_threshold_ : float
        Outlyingness above which an echo is flagged.
    ood_reference_ : float
        Median outlyingness of the calibration echoes.
    echo_top_threshold_, echo_top_reference_ : ndarray of shape (2,) or None
        The same for the echo-top offsets of the two spans (``ood_echo_top``;
        the span from a third of the way after the pulse before the echo,
        then the one from a third of the way after the pulse before that);
        None when they are not checked.
    augmenter_ : imblearn.FunctionSampler or None
        The sampler that augmented the training part (fit only).
    calibration_coverage_ : pandas.Series
        Coverage of each target's intervals on the calibration part: an
        honest estimate for ``"quantile"``, at least ``confidence`` by
        construction for the conformal methods.
    n_train_, n_calibration_ : int
        Echoes in each part (before augmentation).

    See Also
    --------
    sknmr.datasets.make_echoes : The training echoes.
    sknmr.io.read_echo : A measured echo from a file.

    Notes
    -----
    **Detection.** Magnitude detection learns from ``|M(t)|`` (the absolute
    value of complex input). Quadrature detection needs complex echoes; both
    variants divide each echo by the magnitude ``|M_top|`` of its echo top
    (largest ``|M|`` in the window), which removes the receiver gain, and
    give the featurizer ``[Re Z, Im Z]`` (``2 n_times`` columns). With
    ``receiver_phase="calibrated"`` ``Z = M / |M_top|`` keeps the measured
    phase; with ``"blind"`` ``Z = M / M_top`` is the signal relative to the
    echo top: its magnitude and its phase relative to the top's, unchanged
    by any constant receiver phase.

    **The output table** (:meth:`predict`) has, per target ``t``, the columns
    ``t``, ``t_lower`` and ``t_upper``; then ``p_power`` (when ``power`` is
    set); ``ood_score``, the detector's outlyingness rescaled so that the
    median calibration echo scores 0 and the threshold 1 (the largest of it
    and the echo-top offsets rescaled alike, with ``ood_echo_top``); and
    ``ood`` (``ood_score > 1``). The estimate is the regressor's prediction (the
    forest's mean for the quantile methods); an interval is widened to
    contain it if needed, and the lower bound of a target never negative in
    training is clipped at 0.

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
    (2, 15)
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
        self.calibration_size = calibration_size
        self.simulator = simulator
        self.detection = detection
        self.receiver_phase = receiver_phase
        self.augment = augment
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _detect(self, X):
        """Real channels of the echoes (see Notes)."""
        if self.detection == "magnitude":
            return np.abs(X) if np.iscomplexobj(X) else X
        window = self.window_ if self.window_ is not None else slice(None)
        part = X[:, window]
        top = part[np.arange(X.shape[0]), np.argmax(np.abs(part), axis=1)]
        magnitude = np.abs(top)
        if np.any(magnitude == 0):
            raise ValueError("An echo is zero throughout its window.")
        scale = top if self.receiver_phase == "blind" else magnitude
        Z = X / scale[:, None]
        return np.hstack([Z.real, Z.imag])

    # -- targets -----------------------------------------------------------------------
    def _check_y(self, y, n):
        targets = (
            [self.targets] if isinstance(self.targets, str) else list(self.targets)
        )
        if not targets or not all(isinstance(t, str) for t in targets):
            raise ValueError(f"targets must be column names (str); got {targets!r}.")
        if len(set(targets)) != len(targets):
            raise ValueError(f"targets must be distinct; got {targets!r}.")
        if y is None:
            raise ValueError(
                "EchoInference requires y to be passed, but the target y is None: "
                "give the parameter table of the echoes (make_echoes' target)."
            )
        names = targets + ([self.power] if self.power is not None else [])
        if isinstance(y, pd.DataFrame):
            missing = [c for c in names if c not in y.columns]
            if missing:
                raise ValueError(
                    f"y lacks the columns {missing}; it has {list(y.columns)}. "
                    "Set targets (and power=None without a power flag)."
                )
            values = y[names].to_numpy(dtype=np.float64)
        else:
            values = np.asarray(y)
            if np.iscomplexobj(values):
                raise ValueError(
                    "Complex data not supported as y: the targets are real numbers."
                )
            values = values.astype(np.float64)
            if values.ndim == 1:
                values = values[:, None]
            if values.ndim != 2 or values.shape[1] != len(names):
                raise ValueError(
                    f"y must be a DataFrame with the columns {names}, or an array "
                    f"of {len(names)} columns in that order; got shape "
                    f"{values.shape}."
                )
        if values.shape[0] != n:
            raise ValueError(
                f"y has {values.shape[0]} rows for {n} echoes; give one per echo."
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("y must be finite (no NaN or inf).")
        Y = values[:, : len(targets)]
        flag = None
        if self.power is not None:
            flag = values[:, -1]
            if not np.all(np.isin(flag, (0, 1))):
                raise ValueError(
                    f"The power flag y[{self.power!r}] must be 0 or 1; got "
                    f"{np.unique(flag)[:5]}."
                )
            flag = flag.astype(int)
        return targets, Y, flag

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

    def _make_regressor(self):
        if self.regressor is not None:
            return clone(self.regressor)
        if self.interval_method == "conformal":
            return ExtraTreesRegressor(n_estimators=200, n_jobs=self.n_jobs)
        from quantile_forest import ExtraTreesQuantileRegressor

        return ExtraTreesQuantileRegressor(n_estimators=200, n_jobs=self.n_jobs)

    def _make_classifier(self):
        if self.classifier is not None:
            return clone(self.classifier)
        return RandomForestClassifier(n_estimators=200, n_jobs=self.n_jobs)

    def _make_detector(self):
        if self.ood_detector is not None:
            return clone(self.ood_detector)
        # Values and slopes of the default features (time series); only the
        # values for a featurizer whose columns need not be ordered in time.
        weight = 1.0 if self.featurizer is None else 0.0
        return KNNDistance(n_neighbors=5, derivative_weight=weight, n_jobs=self.n_jobs)

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

    def _outlyingness(self, F):
        return -np.asarray(self.ood_detector_.score_samples(F), dtype=np.float64)

    def _echo_top_scores(self, X):
        """Echo-top offsets of the series over each span, shape (n_echoes, 2)
        (NaN samples left out); None if unchecked."""
        if not self.ood_echo_top or self.window_ is None:
            return None
        experiment = self.experiment_
        if experiment is not None:
            echo_time, third = experiment.echo_window
            times = self.times_
        else:  # samples of a simulator's grid: 2 n_tau +- n_tau/3
            n_tau = self.n_features_in_ // 3
            echo_time, third = 2.0 * n_tau, n_tau / 3
            times = np.arange(self.n_features_in_)
        spacing = 3 * third
        return np.column_stack(
            [
                echo_top_offset(X, times, echo_time, spacing, echo_time - f * spacing)
                for f in _ECHO_TOP_STARTS
            ]
        )

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

        # The split, stratified by the power flag when both classes allow it.
        index = np.arange(n)
        stratify = None
        if flag is not None and np.unique(flag).size == 2:
            if np.bincount(flag).min() >= 2:
                stratify = flag
        n_cal = self.calibration_size
        if isinstance(n_cal, Integral) and n_cal >= n:
            raise ValueError(
                f"calibration_size={n_cal} leaves no training echo among {n}."
            )
        # what train_test_split will take, to name our parameter, not its test_size
        n_held = n_cal if isinstance(n_cal, Integral) else math.ceil(n_cal * n)
        if n_held >= n:
            raise ValueError(
                f"calibration_size={n_cal} holds out {n_held} of {n} echoes and "
                "leaves no training echo; lower it or give more echoes."
            )
        self._check_calibration(n_held)
        for name in ("regressor", "classifier", "ood_detector"):
            self._check_component(name)
        if augment is not None:
            rows = n * (augment["copies"] + augment["keep_original"])
            check_fits_in_memory(
                rows * X.shape[1] * X.itemsize * 3,  # echoes, detected, features
                f"Augmenting {n} echoes into {rows}",
                "augment['copies'] (or the number of echoes)",
            )
        try:
            train, cal = train_test_split(
                index,
                test_size=n_cal,
                random_state=derive_seed(seed, _SPLIT),
                stratify=stratify,
            )
        except ValueError:
            train, cal = train_test_split(
                index, test_size=n_cal, random_state=derive_seed(seed, _SPLIT)
            )
        self.n_train_, self.n_calibration_ = len(train), len(cal)
        targets_y = Y if flag is None else np.column_stack([Y, flag])
        X_train, y_train = X[train], targets_y[train]
        X_cal, y_cal = X[cal], targets_y[cal]

        # 1. augmentation (fit only).
        self.augmenter_ = None
        if augment is not None:
            context = {
                "kind": kind,
                "times": self.times_,
                "pulse_times": (
                    _pulse_times(self.experiment_)
                    if self.experiment_ is not None
                    else ()
                ),
                "top": self.window_,
            }
            self.augmenter_ = make_augmenter(
                augment, **context, random_state=derive_seed(seed, _AUG_TRAIN)
            )
            X_train, y_train = self.augmenter_.fit_resample(X_train, y_train)
            X_cal, y_cal = make_augmenter(
                augment, **context, random_state=derive_seed(seed, _AUG_CAL)
            ).fit_resample(X_cal, y_cal)

        # 2-3. detection and features.
        featurizer = (
            self._default_featurizer() if self.featurizer is None else self.featurizer
        )
        if featurizer == "passthrough":
            featurizer = "passthrough"
        else:
            featurizer = clone(featurizer)
        D_train = self._detect(X_train)
        if featurizer == "passthrough":
            self.featurizer_ = "passthrough"
            F_train = D_train
        else:
            self.featurizer_ = featurizer
            F_train = np.asarray(featurizer.fit_transform(D_train, y_train[:, 0]))
        F_cal = self._features(X_cal, detected=False)

        # 4. regressors and intervals.
        self.targets_ = targets
        self.nonnegative_ = {
            t: bool(np.all(Y[:, j] >= 0)) for j, t in enumerate(targets)
        }
        self.regressors_, self.intervals_ = {}, {}
        coverage = {}
        for j, target in enumerate(targets):
            regressor = self._seeded(
                self._make_regressor(), derive_seed(seed, _REGRESSOR, j)
            )
            if self.interval_method != "conformal" and not _takes_quantiles(regressor):
                raise ValueError(
                    f"interval_method={self.interval_method!r} needs a regressor "
                    "whose predict takes quantiles (quantile_forest's "
                    f"RandomForestQuantileRegressor); got {type(regressor).__name__}."
                )
            regressor.fit(F_train, y_train[:, j])
            self.regressors_[target] = regressor
            self.intervals_[target] = self._fit_intervals(regressor, F_cal, y_cal[:, j])
            _, lower, upper = self._intervals(target, F_cal)
            coverage[target] = float(
                np.mean((lower <= y_cal[:, j]) & (y_cal[:, j] <= upper))
            )
        self.calibration_coverage_ = pd.Series(coverage, name="coverage")

        # 5. power classifier, calibrated on the held-out part.
        self.classifier_ = None
        if flag is not None:
            p_train, p_cal = y_train[:, -1].astype(int), y_cal[:, -1].astype(int)
            self.classifier_ = self._fit_classifier(
                F_train, p_train, F_cal, p_cal, seed
            )

        # 6. OOD detector and its threshold.
        self.ood_detector_ = self._seeded(
            self._make_detector(), derive_seed(seed, _OOD)
        ).fit(F_train)
        echo_top = self._echo_top_scores(X_cal)
        # The checks share the rate: at most the rate flagged by any.
        share = 1.0 if echo_top is None else _OOD_SHARES[0]
        self.ood_threshold_, self.ood_reference_ = _ood_threshold(
            self._outlyingness(F_cal),
            share * self.ood_false_alarm,
            self.ood_false_alarm,
        )
        self.echo_top_threshold_ = self.echo_top_reference_ = None
        if echo_top is not None:
            thresholds = [
                _ood_threshold(
                    scores,
                    rate * self.ood_false_alarm,
                    self.ood_false_alarm,
                    warn=False,
                )
                for scores, rate in zip(echo_top.T, _OOD_SHARES[1:], strict=True)
            ]
            self.echo_top_threshold_, self.echo_top_reference_ = map(
                np.array, zip(*thresholds, strict=True)
            )
        return self

    def _fit_classifier(self, F_train, p_train, F_cal, p_cal, seed):
        if np.unique(p_train).size < 2:
            return DummyClassifier(strategy="prior").fit(F_train, p_train)
        base = self._seeded(self._make_classifier(), derive_seed(seed, _CLASSIFIER))
        base.fit(F_train, p_train)
        fewest = np.bincount(p_cal, minlength=2).min()
        if fewest < 2:  # nothing to calibrate on
            return base
        # Frozen: the folds only split the predictions the calibrator is fitted
        # on (one calibrator, on all of them); at most as many as the rarer
        # class has echoes.
        return CalibratedClassifierCV(
            FrozenEstimator(base), method="sigmoid", cv=min(5, int(fewest))
        ).fit(F_cal, p_cal)

    def _features(self, X, detected=False):
        D = X if detected else self._detect(X)
        if self.featurizer_ == "passthrough":
            return D
        return np.asarray(self.featurizer_.transform(D))

    # -- prediction --------------------------------------------------------------------
    def get_feature_names_out(self, input_features=None):
        """Columns of the table :meth:`predict` returns (and of :meth:`transform`).

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
            typical simulation, above 1 when flagged) and ``ood`` (bool).
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
            proba = self.classifier_.predict_proba(F)
            classes = list(self.classifier_.classes_)
            columns["p_power"] = (
                proba[:, classes.index(1)] if 1 in classes else np.zeros(len(F))
            )
        score = _rescaled(
            self._outlyingness(F), self.ood_threshold_, self.ood_reference_
        )
        if getattr(self, "echo_top_threshold_", None) is not None:
            echo_top = _rescaled(
                self._echo_top_scores(recorded),
                self.echo_top_threshold_,
                self.echo_top_reference_,
            )
            score = np.maximum(score, echo_top.max(axis=1))
        columns["ood_score"] = score
        columns["ood"] = score > 1
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

        Lets the model sit inside a pipeline (its outputs as features), and
        ``set_output(transform="pandas")`` gives the table back.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_times), MeasuredEcho or list of them

        Returns
        -------
        table : ndarray of shape (n_echoes, n_columns)
        """
        return self.predict(X).to_numpy(dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _rescaled(scores, threshold, reference):
    """Scores with the median calibration echo at 0 and the threshold at 1."""
    return (scores - reference) / (threshold - reference)


def _ood_threshold(scores, rate, false_alarm, warn=True):
    """Conformal threshold of calibration scores at ``rate``, and their median.

    The threshold is kept above the median so that the rescaled score
    ``(s - median) / (threshold - median)`` is defined.
    """
    threshold, exact = conformal_threshold(scores, rate)
    if not exact and warn:
        warnings.warn(
            f"{len(scores)} calibration echoes cannot guarantee an OOD false-"
            f"alarm rate of {false_alarm:g} (that needs "
            f"{math.ceil(1 / rate) - 1}); the threshold is their largest score.",
            UserWarning,
            stacklevel=3,
        )
    reference = float(np.median(scores))
    if not threshold > reference:
        threshold = reference + max(abs(reference), 1.0) * 1e-12
    return float(threshold), reference
