"""The targets of :class:`EchoInference` and their intervals: the parameter
table checked, the held-out (calibration) part split off, one regressor per
target and its interval calibrated on the held-out echoes (MAPIE's conformal
and conformalized-quantile regressors, or quantile-forest's quantiles)."""

import contextlib
import copy
import logging
import math
import warnings
from decimal import Decimal
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.model_selection import train_test_split

from ..utils._random import InferenceStream, derive_seed

# The intervals of a target conformalized on too few echoes: infinite.
_UNBOUNDED = "unbounded"


class _TargetIntervals:
    """EchoInference's targets and their intervals: checked, fitted, predicted."""

    # -- the parameter table and the calibration part ---------------------------------
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

    def _check_sizes(self, n, copies=1):
        """The calibration part of ``n`` echoes, refused before any fit if it
        leaves no training echo or cannot calibrate the intervals (``copies``:
        what augmentation makes of each echo)."""
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
        self._check_calibration(n_held, n, copies)
        return n_held

    def _calibration_split(self, n, n_held, flag, seed):
        """Training and calibration indices, stratified by the power flag when
        both classes allow it."""
        index = np.arange(n)
        stratify = None
        if flag is not None and np.unique(flag).size == 2:
            if np.bincount(flag).min() >= 2:
                stratify = flag
        split_seed = derive_seed(seed, InferenceStream.CALIBRATION_SPLIT)
        try:
            return train_test_split(
                index,
                test_size=self.calibration_size,
                random_state=split_seed,
                stratify=stratify,
            )
        except ValueError:
            return train_test_split(
                index, test_size=self.calibration_size, random_state=split_seed
            )

    # -- regressors and intervals ------------------------------------------------------
    def _make_regressor(self):
        if self.regressor is not None:
            return clone(self.regressor)
        if self.interval_method == "conformal":
            return ExtraTreesRegressor(n_estimators=200, n_jobs=self.n_jobs)
        from quantile_forest import ExtraTreesQuantileRegressor

        return ExtraTreesQuantileRegressor(n_estimators=200, n_jobs=self.n_jobs)

    def _fit_targets(self, targets, Y, F_train, y_train, F_cal, y_cal, seed):
        """Fit each target's regressor and calibrate its interval."""
        self.targets_ = targets
        self.nonnegative_ = {
            t: bool(np.all(Y[:, j] >= 0)) for j, t in enumerate(targets)
        }
        self.regressors_, self.intervals_ = {}, {}
        coverage = {}
        for j, target in enumerate(targets):
            regressor = self._seeded(
                self._make_regressor(),
                derive_seed(seed, InferenceStream.REGRESSOR, j),
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

    def _needs(self):
        """Calibration echoes MAPIE needs for a low and for a high confidence.

        At a level ``a`` MAPIE needs ``max(1/a, 1/(1 - a))`` echoes, ``a = 1 -
        confidence`` (computed in decimals, compared in floats, which may ask
        for an echo more than the exact count: the larger is taken), and at
        ``a / 2`` too for the conformalized quantiles, which correct each
        bound at that level: ``1/confidence`` for a low confidence and
        ``1/(1 - confidence)`` (``2/(1 - confidence)``) for a high one.
        """
        alpha = Decimal(1) - Decimal(str(float(self.confidence)))
        h = 1 if self.interval_method == "conformal" else 2
        pairs = [(alpha, 1 - alpha), (float(alpha), 1 - float(alpha))]
        return (
            max(math.ceil(1 / c) for _, c in pairs),
            max(math.ceil(h / a) for a, _ in pairs),
        )

    def _check_calibration(self, n_cal, n=None, copies=1):
        """Refuse a confidence the calibration echoes cannot give, before fitting.

        ``n_cal`` echoes held out of ``n``, each made into ``copies`` by the
        augmentation. Conformal intervals and conformalized quantiles at a low
        confidence cannot be calibrated on fewer echoes than they need: a
        ValueError. Conformalized quantiles at a high confidence are infinite
        then (a warning), unless no ``calibration_size`` can give enough
        echoes (a ValueError too).
        """
        if self.interval_method == "quantile":
            return  # not calibrated
        conformal = self.interval_method == "conformal"
        low_need, high_need = self._needs()
        seen = n_cal if conformal else n_cal * copies  # what MAPIE calibrates on
        most = float("inf") if n is None else (n - 1) * copies
        if seen >= max(low_need, high_need):
            return
        ratio = 1 if conformal else 2
        low, high = 1 / seen, 1 - ratio / seen
        allowed = (
            f"which allows a confidence between {low:.3g} and {high:.3g}"
            if low <= high
            else "too few for any confidence"
        )
        need, rule = (
            (low_need, "1/confidence")
            if seen < low_need
            else (high_need, f"{ratio}/(1 - confidence)")
        )
        augmented = f" ({n_cal} held out, {copies} copies each)" if seen > n_cal else ""
        message = (
            f"confidence={float(self.confidence):g} needs at least {need} "
            f"calibration echoes for interval_method={self.interval_method!r} "
            f"({rule}); calibration_size={self.calibration_size!r} gives "
            f"{seen}{augmented}, {allowed}."
        )
        fixes = "more echoes, a larger calibration_size or a confidence in that range."
        if seen < low_need or conformal:
            raise ValueError(f"{message} Give {fixes}")
        if high_need > most:
            raise ValueError(
                f"{message} No calibration_size holds out that many of {n} "
                "echoes: give more echoes or a confidence in that range."
            )
        warnings.warn(
            f"{message} Its intervals are infinite: give {fixes}",
            UserWarning,
            stacklevel=5,  # the caller of fit
        )

    def _quantiles(self):
        alpha = 1 - float(self.confidence)
        return alpha / 2, 1 - alpha / 2

    def _fit_intervals(self, regressor, F_cal, y_cal):
        from mapie.regression import (
            ConformalizedQuantileRegressor,
            SplitConformalRegressor,
        )

        if self.interval_method == "conformal":
            return SplitConformalRegressor(
                regressor,
                confidence_level=float(self.confidence),  # MAPIE takes a float
                conformity_score=self.conformity_score,
                prefit=True,
            ).conformalize(F_cal, y_cal)
        if self.interval_method == "quantile":
            return None
        if len(y_cal) < self._needs()[1]:  # _check_calibration warned
            return _UNBOUNDED
        models = []
        for q in (*self._quantiles(), 0.5):
            model = copy.copy(regressor)
            model.default_quantiles = q
            models.append(model)
        return ConformalizedQuantileRegressor(
            models, confidence_level=float(self.confidence), prefit=True
        ).conformalize(F_cal, y_cal)

    def _intervals(self, target, F):
        """Estimate, lower and upper bound of one target."""
        regressor = self.regressors_[target]
        if self.interval_method == "quantile":
            estimate = regressor.predict(F, quantiles="mean")
            bounds = regressor.predict(F, quantiles=list(self._quantiles()))
            lower, upper = bounds[:, 0], bounds[:, 1]
        elif isinstance(self.intervals_[target], str):  # _UNBOUNDED, also unpickled
            estimate = regressor.predict(F, quantiles="mean")
            lower = np.full(len(estimate), -np.inf)
            upper = np.full(len(estimate), np.inf)
        else:
            with _quiet_root_logger():
                point, pis = self.intervals_[target].predict_interval(
                    F, allow_infinite_bounds=True
                )
            # Conformalized quantiles can cross where the correction is negative.
            lower = np.minimum(pis[:, 0, 0], pis[:, 1, 0])
            upper = np.maximum(pis[:, 0, 0], pis[:, 1, 0])
            if self.interval_method == "conformal":
                estimate = point
            else:  # the forest's mean, not MAPIE's median model
                estimate = regressor.predict(F, quantiles="mean")
        estimate = np.asarray(estimate, dtype=np.float64).reshape(-1)
        if self.nonnegative_[target]:
            lower = np.maximum(lower, 0.0)
        lower = np.minimum(lower, estimate)
        upper = np.maximum(upper, estimate)
        return estimate, lower, upper


@contextlib.contextmanager
def _quiet_root_logger():
    """Keep MAPIE from configuring the root logger.

    MAPIE's conformalized quantiles call ``logging.basicConfig(level=INFO)``
    to report crossed bounds, which would leave a handler on an unconfigured
    root logger; with a handler already there, basicConfig does nothing.
    """
    root = logging.getLogger()
    handler = None
    if not root.handlers:
        handler = logging.NullHandler()
        root.addHandler(handler)
    level = root.level
    try:
        yield
    finally:
        root.setLevel(level)
        if handler is not None:
            root.removeHandler(handler)


def _takes_quantiles(regressor):
    import inspect

    try:
        return "quantiles" in inspect.signature(regressor.predict).parameters
    except (TypeError, ValueError):
        return False
