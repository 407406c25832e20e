"""Which experiment tells what: a study of measurement protocols.

The paper learns from one 90-180 Hahn echo, read as ``|M(t)|``, and ends on
its limits: ``alpha_z`` cannot be learned from it, ``L`` is poor for
non-power kernels, and "designing specific pulse sequences which can access
different aspects of the spin dynamics may lead to a larger improvement".
This study measures that outlook. On one set of materials, each measured by
several experiments (:func:`sknmr.datasets.make_echoes` with ``sequences``),
a *protocol* is a choice of experiments and a *detection*:

* ``"magnitude"``: ``|M(t)|`` of each experiment, min-max scaled per echo
  (the paper's features);
* ``"quadrature"``: the real and imaginary parts of ``M(t)`` with a
  calibrated receiver phase (as simulated);
* ``"phase-blind"``: quadrature with an unknown receiver phase, the same
  for every experiment on a sample (one receiver), drawn at random per
  sample: every experiment is turned by the phase of the *first*
  experiment's echo top, which cancels the receiver's.

Each experiment contributes the samples within a third of the echo spacing
around each of its echoes (``2 tau +- tau/3`` for a Hahn echo, the paper's
window), side by side through a :class:`~sklearn.compose.ColumnTransformer`.
Random forests are cross-validated on those features: ``R^2`` of ``W``,
``L`` (all, power, non-power), the in-plane and out-of-plane couplings and,
when the prior varies it, ``t2``; weighted and binary F1 of power vs
non-power (oversampled inside training folds only). :func:`protocol_study`
returns the table, :func:`protocol_figure` draws "which experiment tells
what", and ``sknmr protocols`` runs it all from the command line.
"""

import functools
import json
import math
import os
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .._presets import PRESETS as _REGISTRY
from .._progress import progress_message
from ..scaling import curve_scaler
from ..sequences import cpmg, hahn_echo
from ..utils._random import MAX_SEED, ProtocolStream, check_seed, derive_seed
from ._classification import F1_SCORERS, make_oversampled_pipeline
from ._protocols_report import _protocols_report_lines
from ._regression import power_subsets
from ._runner import _check_folder, _StudyRun

__all__ = [
    "DETECTIONS",
    "PROTOCOL_PRESETS",
    "default_experiments",
    "default_protocols",
    "protocol_figure",
    "protocol_study",
    "run_protocols",
]

#: How an echo is read out (see the module's description).
DETECTIONS = ("magnitude", "quadrature", "phase-blind")


def default_experiments(tau=100.0):
    """The experiments the default protocols use, by name.

    ``hahn90`` is the paper's 90-180 echo; ``hahn<angle>`` the theta-2theta
    Hahn echo at another first-pulse angle (the sweep takes 30, 60, 90, 120
    and 150 degrees); ``hahn90_half_tau`` the paper's echo at ``tau / 2``;
    ``hahn45_quarter_tau`` the 45-90 echo at ``tau / 4`` (short enough that
    the phase ``alpha_z`` turns does not wrap round many times before the
    echo); ``cpmg`` a CPMG train of four echoes with pulses every
    ``tau / 2``.

    Examples
    --------
    >>> sorted(default_experiments(10.0))
    ['cpmg', 'hahn120', 'hahn150', 'hahn30', 'hahn45', 'hahn45_quarter_tau',
     'hahn60', 'hahn90', 'hahn90_half_tau']
    """
    experiments = {
        f"hahn{angle}": hahn_echo(tau, angle=float(angle))
        for angle in (90, 45, 30, 60, 120, 150)
    }
    experiments["hahn90_half_tau"] = hahn_echo(tau / 2)
    experiments["hahn45_quarter_tau"] = hahn_echo(tau / 4, angle=45.0)
    experiments["cpmg"] = cpmg(tau / 4, n_echoes=4)
    return experiments


def default_protocols():
    """The protocols compared by default: name -> (experiments, detection).

    The paper's single echo first; then two Hahn echoes at different angles
    (``alpha_z`` acts only where ``<I^z>`` is not zero), a five-angle sweep,
    a CPMG train and two values of tau, read as magnitudes; the two-angle
    pair read in quadrature, calibrated and phase-blind; the 45 degree echo
    at ``tau / 4`` read in quadrature, alone and after the CPMG train
    (calibrated and phase-blind); and the adaptive protocol of the paper's
    conclusion, a dict: ``W`` from the 90-180 echo, then the second
    experiment chosen for that ``W`` range (two echoes per sample).

    Examples
    --------
    >>> protocols = default_protocols()
    >>> protocols["paper: 90-180 echo, |M|"]
    (('hahn90',), 'magnitude')
    """
    sweep = ("hahn30", "hahn60", "hahn90", "hahn120", "hahn150")
    return {
        "paper: 90-180 echo, |M|": (("hahn90",), "magnitude"),
        "90 + 45 degrees, |M|": (("hahn90", "hahn45"), "magnitude"),
        "angle sweep (5), |M|": (sweep, "magnitude"),
        "CPMG train, |M|": (("cpmg",), "magnitude"),
        "two taus, |M|": (("hahn90", "hahn90_half_tau"), "magnitude"),
        "45 degrees, quadrature": (("hahn45",), "quadrature"),
        "90 + 45 degrees, quadrature": (("hahn90", "hahn45"), "quadrature"),
        "90 + 45 degrees, phase-blind": (("hahn90", "hahn45"), "phase-blind"),
        "45 degrees at tau/4, quadrature": (("hahn45_quarter_tau",), "quadrature"),
        "CPMG + 45 degrees at tau/4, quadrature": (
            ("cpmg", "hahn45_quarter_tau"),
            "quadrature",
        ),
        "CPMG + 45 degrees at tau/4, phase-blind": (
            ("cpmg", "hahn45_quarter_tau"),
            "phase-blind",
        ),
        "adaptive: 90-180, then the best for its W, quadrature": {
            "first": "hahn90",
            "options": ("hahn45", "hahn30", "cpmg", "hahn90_half_tau"),
            "detection": "quadrature",
        },
    }


def _echo_samples(times, sequence, dt):
    """Indices of the samples within a third of the echo spacing of each echo."""
    grid = sequence.grid(dt)
    keep = []
    for echo in grid.echo_steps:
        before = max(step for step in grid.pulse_steps if step < echo)
        half = (echo - before) / 3
        lo, hi = math.ceil(echo - half - 1e-9), math.floor(echo + half + 1e-9)
        keep.extend(range(max(lo, 0), min(hi, len(times) - 1) + 1))
    return np.unique(keep)


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
    >>> from sknmr.study._protocols import _ExperimentFeatures
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
        return RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features="sqrt",
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            **kwargs,
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


def _with_receiver_phase(X, random_state):
    """Every sample's echoes turned by one random receiver phase."""
    rng = np.random.default_rng(random_state)
    phase = np.exp(2j * np.pi * rng.random(len(X)))
    return np.asarray(X) * phase[:, None]


def _cv_r2(model, X, y, cv, params=None):
    """Mean and spread over shuffled folds of a model's test R^2."""
    if len(y) < cv:
        return np.nan, np.nan
    scores = cross_validate(
        model, X, y, cv=KFold(cv, shuffle=True, random_state=0), params=params
    )["test_score"]
    return float(np.mean(scores)), float(np.std(scores))


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
        clone(features),
        RandomForestRegressor(
            n_estimators=n_estimators,
            max_features="sqrt",
            random_state=random_state,
            n_jobs=n_jobs,
        ),
    )


def _check_protocol(name, protocol, blocks):
    """A protocol: ``(experiments, detection)``, or an adaptive one's dict."""
    if isinstance(protocol, dict):
        experiments = [protocol.get("first"), *protocol.get("options", ())]
        detection = protocol.get("detection", "quadrature")
        ok = set(protocol) <= {"first", "options", "detection"} and bool(
            protocol.get("options")
        )
    else:
        try:
            experiments, detection = protocol
        except (TypeError, ValueError):
            experiments, detection = (), None
        ok = bool(experiments) and not isinstance(experiments, str)
    if not ok or detection not in DETECTIONS or not set(experiments) <= set(blocks):
        raise ValueError(
            f"protocol {name!r} must use experiments from {sorted(blocks)} and a "
            f"detection from {DETECTIONS}, as (experiments, detection) or "
            "{'first': ..., 'options': [...], 'detection': ...} (adaptive); got "
            f"{protocol!r}."
        )


@validate_params(
    {
        "data": [dict],
        "protocols": [dict, None],
        "targets": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def protocol_study(
    data,
    *,
    protocols=None,
    targets=None,
    cv=5,
    n_estimators=100,
    random_state=0,
    n_jobs=None,
    verbose=0,
):
    """Cross-validated scores of every protocol on the same materials.

    Parameters
    ----------
    data : Bunch
        From :func:`sknmr.datasets.make_echoes` with ``sequences`` naming
        every experiment the protocols use, recorded as ``output="complex"``
        (magnitude detection takes ``|M|``).
    protocols : dict, default=None
        Name -> ``(experiments, detection)``; None: :func:`default_protocols`.
    targets : sequence of str, default=None
        Regression targets; None: ``W``, ``L``, the in-plane coupling
        (``alpha_xy``, or ``alpha_x``), ``alpha_z`` and ``t2`` when the
        prior varies it.
    cv : int, default=5
        Folds of every cross-validation.
    n_estimators : int, default=100
        Trees of every random forest.
    random_state : int, default=0
        Seeds the receiver phases, the folds and the forests.
    n_jobs : int, default=None
        Cores of every forest.
    verbose : int, default=0
        Print a line per protocol.

    Returns
    -------
    table : pandas.DataFrame
        One row per protocol: ``experiments``, ``detection``,
        ``n_echoes`` (echoes per material), and the mean and standard
        deviation over folds (``_std``) of ``R2 <target>``, ``R2 L power``,
        ``R2 L non-power``, ``F1 weighted`` and ``F1 binary``.
    """
    seed = check_seed(random_state)
    blocks = getattr(data, "blocks", None)
    if not blocks:
        raise ValueError(
            "data must come from make_echoes(..., sequences=...): it has no blocks."
        )
    X = np.asarray(data.data)
    if not np.iscomplexobj(X):
        raise ValueError(
            "The protocol study needs the complex signal M(t) of every experiment "
            "(make_echoes sequences with output='complex'); magnitude detection "
            "takes its modulus."
        )
    protocols = default_protocols() if protocols is None else dict(protocols)
    for name, protocol in protocols.items():
        _check_protocol(name, protocol, blocks)
    target = data.target
    in_plane = "alpha_x" if "alpha_x" in target else "alpha_xy"
    if targets is None:
        targets = ["W", "L", in_plane, "alpha_z"]
        if "t2" in target and target["t2"].nunique() > 1:
            targets.append("t2")
    else:
        targets = list(targets)
        numeric = [
            c for c in target.columns if pd.api.types.is_numeric_dtype(target[c])
        ]
        unknown = [t for t in targets if t not in numeric]
        if not targets or unknown:
            raise ValueError(
                f"targets must be numeric columns of data.target {numeric}; got "
                f"{targets!r}."
            )
    power_count = int(np.asarray(target["power"]).sum())
    if cv > min(power_count, len(target) - power_count):
        raise ValueError(
            f"cv={cv} folds need at least {cv} power and {cv} non-power materials; "
            f"data has {power_count} and {len(target) - power_count}."
        )
    windows = {}
    for name in blocks:
        experiment = data.experiments[name]
        windows[name] = _echo_samples(
            data.times[blocks[name]], experiment.sequence, experiment.dt
        )
    # one receiver phase per sample, shared by its experiments
    X_blind = _with_receiver_phase(X, derive_seed(seed, ProtocolStream.RECEIVER_PHASE))
    subsets = power_subsets(target)
    power = np.asarray(target["power"])
    forest_seed = derive_seed(seed, ProtocolStream.FORESTS)
    rows = []
    w = np.asarray(target["W"], dtype=float)
    for name, protocol in protocols.items():
        started = time.perf_counter()
        adaptive = isinstance(protocol, dict)
        if adaptive:
            detection = protocol.get("detection", "quadrature")
            experiments = [protocol["first"], *protocol["options"]]
            row = {
                "protocol": name,
                "experiments": f"{protocol['first']}, then one of "
                + " / ".join(protocol["options"])
                + " by predicted W",
                "detection": detection,
                "n_echoes": 2,
            }
        else:
            experiments, detection = protocol
            row = {
                "protocol": name,
                "experiments": " + ".join(experiments),
                "detection": detection,
                "n_echoes": len(experiments),
            }
        source = X_blind if detection == "phase-blind" else X
        features = _ExperimentFeatures(blocks, windows, list(experiments), detection)

        regressor = functools.partial(
            _protocol_regressor,
            protocol if adaptive else None,
            features,
            n_estimators=n_estimators,
            cv=cv,
            random_state=forest_seed,
            n_jobs=n_jobs,
        )
        scored = [(column, column, subsets["all"]) for column in targets]
        scored += [
            ("L", f"L {subset}", subsets[subset]) for subset in ("power", "non-power")
        ]
        for column, label, mask in scored:
            y = np.asarray(target[column], dtype=float)
            params = {"w": w[mask]} if adaptive else None
            mean, std = _cv_r2(regressor(), source[mask], y[mask], cv, params)
            row[f"R2 {label}"], row[f"R2 {label}_std"] = mean, std
        if adaptive:  # a regressor: the kernel class is left to the others
            for label in ("F1 weighted", "F1 binary"):
                row[label] = row[f"{label}_std"] = np.nan
        else:
            classifier = make_pipeline(
                features,
                make_oversampled_pipeline(
                    RandomForestClassifier(
                        n_estimators=n_estimators,
                        random_state=forest_seed,
                        n_jobs=n_jobs,
                    ),
                    random_state=forest_seed,
                ),
            )
            scores = cross_validate(
                classifier,
                source,
                power,
                cv=StratifiedKFold(cv, shuffle=True, random_state=0),
                scoring={k: F1_SCORERS[k] for k in ("f1_weighted", "f1_binary")},
            )
            for key, label in (
                ("f1_weighted", "F1 weighted"),
                ("f1_binary", "F1 binary"),
            ):
                row[label] = float(np.mean(scores[f"test_{key}"]))
                row[f"{label}_std"] = float(np.std(scores[f"test_{key}"]))
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        if verbose:
            scores_text = ", ".join(
                f"{k} {row[k]:.2f}"
                for k in row
                if k.startswith(("R2", "F1")) and not k.endswith("_std")
            )
            progress_message(verbose, "protocols", f"{name}: {scores_text}")
    return pd.DataFrame(rows).set_index("protocol")


def _score_columns(table):
    return [
        c
        for c in table.columns
        if c.startswith(("R2", "F1")) and not c.endswith("_std")
    ]


def protocol_figure(table, path=None):
    """ "Which experiment tells what": a heat map of the protocols' scores.

    Parameters
    ----------
    table : DataFrame
        From :func:`protocol_study`.
    path : str or None, default=None
        Save the figure there (PNG) when given.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    columns = [
        c
        for c in table.columns
        if c.startswith(("R2", "F1")) and not c.endswith("_std")
    ]
    values = table[columns].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 3.5, 0.5 * len(table) + 1.8))
    image = ax.imshow(np.clip(values, 0, 1), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(columns)), [c.replace("R2 ", "R² ") for c in columns])
    ax.set_yticks(range(len(table)), table.index)
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value < 0.6 else "black",
                fontsize=8,
            )
    fig.colorbar(image, ax=ax, label="cross-validated score (clipped to [0, 1])")
    ax.set_title("Which experiment tells what")
    fig.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


#: Sizes of ``sknmr protocols`` (see ``sknmr._presets.PRESETS``, the registry
#: of every preset).
PROTOCOL_PRESETS = _REGISTRY["protocols"]


def _best_protocols(table):
    """The best protocol of each score (name and value)."""
    best = {}
    for column in _score_columns(table):
        values = table[column].astype(float)
        if values.notna().any():
            best[column] = (str(values.idxmax()), float(values.max()))
    return best


#: What each setting of :data:`PROTOCOL_PRESETS` must be.
_SETTING_CONSTRAINTS = {
    "n_per_kernel": [Interval(Integral, 1, None, closed="left")],
    "lattice_size": [Interval(Integral, 2, None, closed="left")],
    "tau": [Interval(Real, 0, None, closed="neither")],
    "cv": [Interval(Integral, 2, None, closed="left")],
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
}


def _check_protocol_settings(preset, overrides):
    """The settings of ``preset`` with ``overrides``, checked before any work."""
    if not isinstance(preset, str) or preset not in PROTOCOL_PRESETS:
        raise ValueError(
            f"preset must be one of {sorted(PROTOCOL_PRESETS)}; got {preset!r}."
        )
    settings = {**PROTOCOL_PRESETS[preset], **overrides}
    unknown = sorted(set(settings) - set(PROTOCOL_PRESETS["quick"]))
    if unknown:
        raise TypeError(
            f"run_protocols got unknown settings {unknown}; the settings are "
            f"{sorted(PROTOCOL_PRESETS['quick'])}."
        )
    validate_parameter_constraints(_SETTING_CONSTRAINTS, settings, "run_protocols")
    # the power class has n_per_kernel materials; stratified folds need cv each
    if settings["cv"] > settings["n_per_kernel"]:
        raise ValueError(
            f"cv={settings['cv']} folds need at least {settings['cv']} materials "
            f"per kernel; n_per_kernel is {settings['n_per_kernel']}."
        )
    return settings


@validate_params(
    {
        "output": [str, os.PathLike],
        "preset": [str],
        "memory": [str, os.PathLike, HasMethods("cache"), None],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, MAX_SEED, closed="both")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def run_protocols(
    output,
    preset="quick",
    *,
    memory=None,
    n_jobs=None,
    random_state=0,
    verbose=1,
    **overrides,
):
    """Simulate the protocols' experiments, score them and write a report folder.

    Writes ``protocols.csv`` (the table of :func:`protocol_study`),
    ``protocols.json`` (the table, the best protocol of each score and the
    settings), ``protocols.png`` (:func:`protocol_figure`) and ``report.md``.
    Every argument is checked before the folder is created or any echo
    simulated.

    Parameters
    ----------
    output : str or path
        The report folder (created).
    preset : {"quick", "full"}, default="quick"
        :data:`PROTOCOL_PRESETS`; ``overrides`` replace its entries.
    memory : str, path, joblib.Memory or None, default=None
        Caches the simulated chunks (see :func:`sknmr.datasets.make_echoes`).
    n_jobs : int, default=None
        Parallel simulation chunks and forest cores.
    random_state : int, default=0
    verbose : int, default=1
        Progress (a line per protocol, a bar for the simulation) when > 0.
    **overrides
        Settings of :data:`PROTOCOL_PRESETS` (``n_per_kernel``,
        ``lattice_size``, ``tau``, ``cv``, ``n_estimators``).

    Returns
    -------
    table : pandas.DataFrame

    Examples
    --------
    >>> from sknmr.study import run_protocols
    >>> run_protocols("protocols_report", cv=1)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'cv' parameter ...
    """
    from ..datasets import make_echoes
    from ..simulator import EchoSimulator

    settings = _check_protocol_settings(preset, overrides)
    out = _check_folder(output, "output")
    simulator = EchoSimulator(
        lattice_size=settings["lattice_size"], tau=settings["tau"], dtype="float32"
    )
    experiments = default_experiments(settings["tau"])
    run = _StudyRun("protocols", out, int(verbose)).start()
    run.log(
        f"simulating {len(experiments)} experiments on "
        f"{3 * settings['n_per_kernel']} materials "
        f"({settings['lattice_size']}x{settings['lattice_size']})"
    )
    data = make_echoes(
        settings["n_per_kernel"],
        simulator=simulator,
        sequences={
            name: {"sequence": sequence, "output": "complex"}
            for name, sequence in experiments.items()
        },
        random_state=random_state,
        memory=memory,
        n_jobs=n_jobs,
        verbose=run.verbose,
    )
    run.step("dataset")
    table = protocol_study(
        data,
        cv=settings["cv"],
        n_estimators=settings["n_estimators"],
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=run.verbose,
    )
    run.step("protocols")
    table.to_csv(run.path("protocols.csv"))
    protocol_figure(table, run.path("protocols.png"))
    summary = {
        "preset": preset,
        "settings": settings,
        "random_state": random_state,
        "experiments": {k: v.to_dict() for k, v in experiments.items()},
        "table": json.loads(table.to_json(orient="index")),
        "best": _best_protocols(table),
        "wall_time_s": round(run.wall_time, 1),
    }
    run.write_json("protocols.json", summary)
    report = run.write_report(_protocols_report_lines(summary, "protocols.png"))
    run.log(f"wrote {report} ({summary['wall_time_s']:.0f} s)")
    return table
