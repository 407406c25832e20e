"""The intervals of :class:`EchoInference`: one per target, calibrated on the
held-out echoes (MAPIE's conformal and conformalized-quantile regressors, or
quantile-forest's quantiles)."""

import contextlib
import copy
import logging
import math
import warnings

import numpy as np

# The intervals of a target conformalized on too few echoes: infinite.
_UNBOUNDED = "unbounded"


class _TargetIntervals:
    """EchoInference's interval of each target: checked, fitted, predicted."""

    def _check_calibration(self, n_cal):
        """Refuse a confidence the calibration echoes cannot give, before fitting."""
        confidence = float(self.confidence)
        if self.interval_method != "conformal":
            return  # quantile intervals warn and widen to infinity instead
        needed = math.ceil(max(1 / confidence, 1 / (1 - confidence)))
        if n_cal < needed:
            raise ValueError(
                f"confidence={confidence:g} needs at least {needed} calibration "
                f"echoes for interval_method='conformal' (max(1/confidence, "
                f"1/(1 - confidence))); calibration_size={self.calibration_size!r} "
                f"gives {n_cal}. Give more echoes, a larger calibration_size or a "
                "confidence nearer 0.5."
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
        # Each bound is corrected at level alpha / 2 (MAPIE's asymmetric CQR).
        half = (1 - self.confidence) / 2
        needed = math.ceil(max(1 / half, 1 / (1 - half)))
        if len(y_cal) < needed:
            warnings.warn(
                f"{len(y_cal)} calibration echoes are too few for conformalized "
                f"quantiles at confidence {self.confidence:g} (MAPIE needs "
                f"{needed}); the intervals are infinite. Give more echoes or a "
                "larger calibration_size.",
                UserWarning,
                stacklevel=3,
            )
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
