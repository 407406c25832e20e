"""The power-law probability of :class:`EchoInference`: a classifier of the
kernel's power flag, fitted on the training part and calibrated (sigmoid) on
the held-out echoes."""

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator


class _PowerProbability:
    """EchoInference's ``p_power``: the classifier, fitted, calibrated, read."""

    def _make_classifier(self):
        if self.classifier is not None:
            return clone(self.classifier)
        return RandomForestClassifier(n_estimators=200, n_jobs=self.n_jobs)

    def _fit_classifier(self, F_train, p_train, F_cal, p_cal, seed):
        if np.unique(p_train).size < 2:
            return DummyClassifier(strategy="prior").fit(F_train, p_train)
        base = self._seeded(self._make_classifier(), seed)
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

    def _p_power(self, F):
        """The probability of the power flag (0 when training never had it)."""
        proba = self.classifier_.predict_proba(F)
        classes = list(self.classifier_.classes_)
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(F))
