"""The experiment and the inputs of an :class:`EchoInference`.

What a trained model knows of the experiment its echoes came from
(:class:`~sknmr.Experiment`): its grid and echo window, whether new echoes
are compatible with it, and how measured echoes, DataFrames and arrays are
put on it before features are made.
"""

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import (
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._timegrid import times_from_names
from ..experiment import Experiment, experiment_of, legacy_experiment
from ..io import EchoResampler, MeasuredEcho
from ..scaling import curve_scaler
from ..simulator import EchoSimulator
from ..window import EchoWindow
from ._features import AUTO_FID_SPAN, check_fid_span, fid_columns, with_fid

# A measured tau (metadata) may differ from the model's by a pulse length.
_TAU_RTOL = 0.02


def _experiment_from(source):
    """The experiment of a simulator, a make_echoes Bunch or its settings."""
    if isinstance(source, Experiment):
        return source
    if isinstance(source, EchoSimulator):
        return source.experiment
    if isinstance(source, Mapping):
        if "data" in source and "settings" in source:  # a make_echoes Bunch
            source = source["settings"]
        if "simulation" in source:  # make_echoes' settings
            if "sequences" in source:
                raise ValueError(
                    "These echoes are a dataset of several experiments "
                    f"({', '.join(source['sequences'])}), side by side; a model "
                    "reads one. Fit it on one block: fit(data.data[:, "
                    "data.blocks[name]], data.target) with simulator="
                    "EchoSimulator.from_experiment(data.experiments[name])."
                )
            return experiment_of(source["simulation"])
        if "format" in source:  # Experiment.to_dict
            return Experiment.from_dict(dict(source))
        return legacy_experiment(source)  # settings stored by sknmr 0.1
    raise TypeError(
        "Give an EchoSimulator, an Experiment, a make_echoes Bunch or its "
        f"settings; got {type(source).__name__}."
    )


def _pulse_times(experiment):
    """The pulse times (us) as the sequence states them: dead times follow them."""
    return tuple(pulse.time for pulse in experiment.sequence)


def _hold_fill(X):
    """NaN samples replaced by the nearest covered sample of their row."""
    X = np.array(X, copy=True)
    for row in X:
        bad = np.isnan(row.real) | np.isnan(row.imag)
        if not bad.any():
            continue
        good = np.flatnonzero(~bad)
        if good.size == 0:
            raise ValueError("An echo has no covered sample.")
        index = np.searchsorted(good, np.arange(row.size)).clip(0, good.size - 1)
        before = good[np.maximum(index - 1, 0)]
        after = good[index]
        nearest = np.where(
            np.abs(before - np.arange(row.size)) <= np.abs(after - np.arange(row.size)),
            before,
            after,
        )
        row[bad] = row[nearest[bad]]
    return X


class _ExperimentInputs:
    """EchoInference's grid, compatibility checks, input handling and features."""

    # -- the grid ----------------------------------------------------------------------
    def _set_grid(self, experiment, n_features):
        """Store the experiment, the times and the echo window."""
        self.experiment_ = experiment
        self.times_ = None
        self.window_ = None
        if experiment is not None:
            if n_features != experiment.n_times:
                raise ValueError(
                    f"X has {n_features} samples per echo, but the simulator's "
                    f"experiment makes {experiment.n_times} (dt={experiment.dt:g} "
                    f"us, {experiment.sequence!r}): the echoes did not come from it."
                )
            step = experiment.dt
            self.times_ = experiment.times
            center, half = experiment.echo_window
        elif n_features % 3 == 0:  # a simulator's grid, in units of samples
            n_tau = n_features // 3
            step, center, half = 1.0, 2.0 * n_tau, n_tau / 3
        else:
            return
        # The window around the echo sample (2 tau +- tau/3 for a Hahn echo),
        # as EchoWindow finds it.
        times = np.arange(n_features) * step
        tol = 1e-6 * step
        kept = np.flatnonzero(
            (times >= center - half - tol) & (times <= center + half + tol)
        )
        self.window_ = slice(int(kept[0]), int(kept[-1]) + 1)

    def _set_fid(self, targets, augment):
        """The FID samples the default features add (``fid_samples_``), or None.

        ``fid_span="auto"`` adds them to a model that learns the linewidth,
        on a known grid, after an augmented dead time; a span given is
        refused where it cannot be read.
        """
        self.fid_samples_ = None
        span = check_fid_span(self.fid_span)
        given = span is not None and span != "auto"
        if span is None or (not given and "linewidth" not in targets):
            return
        if self.featurizer is not None or self.times_ is None:
            if not given:
                return
            raise ValueError(
                f"fid_span={self.fid_span!r} adds the free-induction decay to the "
                "default features, on a known grid: set featurizer=None and give "
                "a simulator (or a make_echoes Bunch), or set fid_span=None."
            )
        dead = augment["dead_time"] if augment is not None else None
        if not given:
            span = (max(AUTO_FID_SPAN[0], dead or 0.0), AUTO_FID_SPAN[1])
        elif dead is not None and span[0] < dead:
            raise ValueError(
                f"fid_span starts at {span[0]:g} us, within augment['dead_time']="
                f"{dead:g} us, where the training echoes are not recorded; start "
                "it after the dead time."
            )
        samples = fid_columns(span, self.times_, _pulse_times(self.experiment_))
        if samples.size < 2:
            if not given:
                return
            raise ValueError(
                f"fid_span={self.fid_span!r} holds {samples.size} sample(s) of the "
                "free-induction decay before the second pulse; give a span of "
                "at least two samples (dt="
                f"{self.experiment_.dt:g} us), or fid_span=None."
            )
        self.fid_samples_ = samples

    def _window_transformer(self):
        """The EchoWindow of the grid (one channel of ``n_features_in_`` samples)."""
        experiment = self.experiment_
        if experiment is not None:
            center, half = experiment.echo_window
            return EchoWindow(center=center, half_width=half, dt=experiment.dt)
        n_tau = self.n_features_in_ // 3
        return EchoWindow(center=2.0 * n_tau, half_width=n_tau / 3, dt=1.0)

    def _default_featurizer(self):
        featurizer = self._echo_featurizer()
        if getattr(self, "fid_samples_", None) is None:
            return featurizer
        channels = 2 if self.detection == "quadrature" else 1
        return with_fid(featurizer, self.fid_samples_, self.n_features_in_, channels)

    def _echo_featurizer(self):
        if self.window_ is None:
            if self.detection == "magnitude":
                return curve_scaler()
            return "passthrough"
        window = self._window_transformer()
        if self.detection == "magnitude":
            return make_pipeline(window, curve_scaler())
        n = self.n_features_in_
        return ColumnTransformer(
            [
                ("real", window, slice(0, n)),
                ("imag", clone(window), slice(n, 2 * n)),
            ]
        )

    def _check_grid_names(self):
        """Times in DataFrame column names must follow the simulator's grid."""
        names = getattr(self, "feature_names_in_", None)
        named = times_from_names(names)
        if named is None or self.times_ is None:
            return
        if np.max(np.abs(named - self.times_)) > self.experiment_.dt / 2:
            raise ValueError(
                "The column names of X give sample times "
                f"{named[0]:g}, {named[1]:g}, ... us that are not the simulator's "
                f"grid t_k = k * {self.experiment_.dt:g} us."
            )

    # -- detection and features --------------------------------------------------------
    def _detect(self, X):
        """Real channels of the echoes (the user guide's detection section)."""
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

    def _fit_featurizer(self, X, y):
        """Fit a clone of the featurizer (or the default) on ``X``; its features."""
        featurizer = (
            self._default_featurizer() if self.featurizer is None else self.featurizer
        )
        D = self._detect(X)
        if featurizer == "passthrough":
            self.featurizer_ = "passthrough"
            return D
        self.featurizer_ = clone(featurizer)
        return np.asarray(self.featurizer_.fit_transform(D, y))

    def _features(self, X, detected=False):
        D = X if detected else self._detect(X)
        if self.featurizer_ == "passthrough":
            return D
        return np.asarray(self.featurizer_.transform(D))

    def check_compatible(self, source):
        """Refuse echoes made on another grid than the training echoes'.

        Parameters
        ----------
        source : EchoSimulator, make_echoes Bunch or settings dict
            Where new echoes come from.

        Returns
        -------
        self : EchoInference

        Raises
        ------
        ValueError
            When its ``dt``, ``tau`` (``n_tau``), number of samples or
            ``output`` differ from ``experiment_``'s. Other differing
            settings (lattice size, linewidth, ...) only warn: the echoes are
            comparable, but the model was not trained for that physics (a
            model with the target ``"linewidth"`` learnt many linewidths and
            does not warn about another).
        """
        check_is_fitted(self)
        mine = self.experiment_
        if mine is None:
            raise ValueError(
                "This EchoInference was fitted without a simulator, so it does not "
                "know its grid; fit it with simulator=... (or a make_echoes Bunch)."
            )
        theirs = _experiment_from(source)
        grid, physics = mine.differences(theirs)
        if "linewidth" in self.targets_:
            # learnt from echoes of many linewidths: another one is no extrapolation
            physics = [p for p in physics if not p.startswith("linewidth=")]
        if grid:
            raise ValueError(
                "These echoes come from another experiment, on another grid "
                "(pulse sequence, time step or detection), than the training "
                "echoes: "
                + "; ".join(grid)
                + ". Train a model for the measurement's own experiment, or "
                "resample measured echoes onto the model's grid (predict accepts "
                "MeasuredEcho objects)."
            )
        if physics:
            warnings.warn(
                "The echoes come from other physical settings than the training "
                "echoes: " + ", ".join(physics) + "; the predictions extrapolate.",
                UserWarning,
                stacklevel=2,
            )
        return self

    def _experiment_for_fit(self, bunch):
        if self.simulator is not None:
            return self.simulator.experiment
        if bunch is not None:
            return _experiment_from(bunch)
        return None

    @property
    def simulator_settings_(self):
        """Deprecated: the stored experiment as a dict; use ``experiment_``."""
        warnings.warn(
            "simulator_settings_ is deprecated and will be removed in the next "
            "release; use experiment_ (an sknmr.Experiment).",
            FutureWarning,
            stacklevel=2,
        )
        check_is_fitted(self)
        if self.experiment_ is None:
            return None
        values = self.experiment_.to_dict()
        values.update(tau=self.experiment_.tau, n_times=self.experiment_.n_times)
        return values

    # -- inputs ------------------------------------------------------------------------
    def make_resampler(self, **params):
        """An :class:`~sknmr.io.EchoResampler` onto this model's grid.

        It is what :meth:`predict` uses for :class:`~sknmr.io.MeasuredEcho`
        input: the training grid, the magnitude (magnitude detection) or the
        complex signal as measured (quadrature), and the echo window
        required to be covered. ``params`` override its settings, e.g.
        ``align="peak"`` with ``echo_time=2 * tau`` to move the echo top onto
        the simulator's, or ``dead_time`` and ``pulse_times``.

        Returns
        -------
        resampler : EchoResampler
            Unfitted.
        """
        check_is_fitted(self)
        if self.experiment_ is None:
            raise ValueError(
                "This EchoInference was fitted without a simulator, so it cannot "
                "put measured echoes on its grid; fit it with simulator=... (or a "
                "make_echoes Bunch), or resample them yourself (EchoResampler)."
            )
        quadrature = self.detection == "quadrature"
        require = None
        if self.window_ is not None:
            kept = self.times_[self.window_]
            require = (float(kept[0]), float(kept[-1]))
        settings = {
            "times": self.times_,
            "phase": "keep" if quadrature else "magnitude",
            "output": "complex" if quadrature else "real",
            "require": require,
            "pulse_times": _pulse_times(self.experiment_),
        }
        settings.update(params)
        return EchoResampler(**settings)

    def _measured(self, echoes, fill=True):
        """MeasuredEcho objects on the grid, uncovered samples filled (or NaN)."""
        check_is_fitted(self)
        echoes = [echoes] if isinstance(echoes, MeasuredEcho) else list(echoes)
        tau = self.experiment_.tau if self.experiment_ is not None else None
        for k, echo in enumerate(echoes):
            stated = echo.metadata.get("tau")
            if tau is not None and stated is not None:
                if not math.isclose(float(stated), tau, rel_tol=_TAU_RTOL):
                    raise ValueError(
                        f"Echo {k} was measured with tau={float(stated):g} us, but the "
                        f"model was trained on another grid: tau={tau:g} us. Train "
                        "a model for its tau."
                    )
        X = self.make_resampler().fit_transform(echoes)
        X = self._fill_uncovered(X, check_only=not fill)
        if np.iscomplexobj(X):
            return X
        return check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")

    def _check_X(self, X, reset, fill=True):
        """Validated echoes (complex kept when detection is quadrature).

        ``fill=False`` leaves the uncovered samples NaN (after checking that
        none is in the window).
        """
        if isinstance(X, MeasuredEcho) or (
            isinstance(X, (list, tuple))
            and len(X) > 0
            and all(isinstance(x, MeasuredEcho) for x in X)
        ):
            if reset:
                raise TypeError(
                    "fit takes simulated echoes (an array), not MeasuredEcho objects."
                )
            return self._measured(X, fill=fill)
        if X is None or (
            isinstance(X, (Mapping, str, bytes)) and not sparse.issparse(X)
        ):
            # a wrong kind of input, said in the estimator's terms, not numpy's
            raise TypeError(
                "X must be echoes: an array of shape (n_echoes, n_times), a "
                "DataFrame, MeasuredEcho objects (predict) or the Bunch of "
                "sknmr.datasets.make_echoes (fit, with its 'data' and 'target'); "
                f"got {type(X).__name__}."
            )
        if not reset and isinstance(X, pd.DataFrame):
            X = self._columns_by_name(X)
        data = X
        if not hasattr(data, "dtype") and not isinstance(data, pd.DataFrame):
            data = np.asarray(data)
        if np.iscomplexobj(data) and not isinstance(data, pd.DataFrame):
            data = np.asarray(data)
            real = self._validate(data.real, reset)
            imag = check_array(
                data.imag,
                dtype=np.float64,
                ensure_all_finite="allow-nan" if not reset else True,
            )
            X = self._fill_uncovered(real + 1j * imag, check_only=not fill)
            return np.abs(X) if self.detection == "magnitude" else X
        X = self._fill_uncovered(self._validate(X, reset), check_only=not fill)
        if self.detection == "quadrature":
            raise ValueError(
                "detection='quadrature' needs complex echoes (EchoSimulator("
                "output='complex')); got real ones. Use detection='magnitude'."
            )
        return X

    def _columns_by_name(self, X):
        """A DataFrame's columns read by name, not by position.

        Columns named as at fit are put in the fit's order; columns that name
        their sample times (``absM_t=0.159us``) are sorted by time and must
        be the model's grid: echoes of another ``dt`` or ``tau`` with the
        same number of samples are refused, not read as if on it.
        """
        names = [str(c) for c in X.columns]
        fitted = getattr(self, "feature_names_in_", None)
        if (
            fitted is not None
            and len(set(names)) == len(names) == len(fitted)
            and set(names) == set(fitted)
        ):
            return X[list(fitted)] if names != list(fitted) else X
        each = [times_from_names([name]) for name in names]
        if self.times_ is None or any(t is None for t in each):
            return X
        times = np.array([t[0] for t in each])
        order = np.argsort(times, kind="stable")
        dt = self.experiment_.dt
        if len(times) != len(self.times_) or (
            np.max(np.abs(times[order] - self.times_)) > dt / 2
        ):
            raise ValueError(
                "The column names of X give sample times "
                f"{times[order][0]:g}, {times[order][1 % len(times)]:g}, ... "
                f"{times[order][-1]:g} us ({len(times)} samples), not the model's "
                f"grid t_k = k * {dt:g} us, k < {len(self.times_)} (tau="
                f"{self.experiment_.tau:g} us): these echoes were "
                "recorded on another grid. Resample them onto it (pass "
                "MeasuredEcho objects, or see make_resampler), or train a model "
                "for their grid."
            )
        return X.iloc[:, order] if np.any(np.diff(order) != 1) else X

    def _validate(self, X, reset):
        """validate_data, saying what grid the model expects on a wrong length.

        After fit, on a known grid, NaN (samples a measurement does not cover)
        is accepted outside the echo window; see :meth:`_fill_uncovered`.
        """
        on_grid = (
            not reset
            and getattr(self, "experiment_", None) is not None
            and self.window_ is not None
        )
        try:
            return validate_data(
                self,
                X,
                reset=reset,
                dtype=np.float64,
                ensure_all_finite="allow-nan" if on_grid else True,
            )
        except ValueError as exc:
            experiment = getattr(self, "experiment_", None)
            if reset or experiment is None or "features, but" not in str(exc):
                raise
            raise ValueError(
                f"{exc} The model was trained on echoes of {experiment.n_times} "
                f"samples (dt={experiment.dt:g} us, {experiment.sequence!r}); "
                "these are on another grid. Resample measured echoes onto it "
                "(pass MeasuredEcho objects, or see make_resampler)."
            ) from None

    def _fill_uncovered(self, X, check_only=False):
        """Uncovered (NaN) samples, outside the window only, take the nearest value."""
        bad = np.isnan(X.real) | np.isnan(X.imag) if np.iscomplexobj(X) else np.isnan(X)
        if not bad.any():
            return X
        if self.window_ is None or bad[:, self.window_].any():
            rows = np.flatnonzero(bad[:, self.window_].any(axis=1))
            raise ValueError(
                f"Echoes {rows[:5].tolist()} have NaN (uncovered samples) inside the "
                "echo window 2 tau +- tau/3, which the model needs."
            )
        fid = getattr(self, "fid_samples_", None)
        if fid is not None and bad[:, fid].any():
            rows = np.flatnonzero(bad[:, fid].any(axis=1))
            first = float(self.times_[fid[0]] - _pulse_times(self.experiment_)[0])
            raise ValueError(
                f"Echoes {rows[:5].tolist()} have NaN (uncovered samples) in the "
                f"free-induction decay from {first:.3g} us after the first pulse, "
                "which this model reads to learn the linewidth. Train it with "
                "fid_span starting after the receiver's dead time (and "
                "augment={'dead_time': ...}), or with fid_span=None."
            )
        return X if check_only else _hold_fill(X)
