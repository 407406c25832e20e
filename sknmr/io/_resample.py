"""EchoResampler: measured echoes on a model's time grid."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from .._timegrid import DEFAULT_DT, decimals_of, time_names, times_from_names
from ..utils._resources import check_fits_in_memory
from ._echo import MeasuredEcho

__all__ = ["EchoResampler"]

# Feature-name prefix of each kind of output.
_PREFIXES = {"magnitude": "absM", "real": "ReM", "complex": "M"}
# Tolerance (relative to a series' sample spacing) for a grid time to count
# as inside the measured span: float rounding, not a sample.
_EDGE_RTOL = 1e-6


def _as_echo_list(X):
    """The MeasuredEcho objects in ``X``, or None if ``X`` is array data."""
    if isinstance(X, MeasuredEcho):
        return [X]
    if isinstance(X, (list, tuple)) and len(X) > 0:
        is_echo = [isinstance(x, MeasuredEcho) for x in X]
        if all(is_echo):
            return list(X)
        if any(is_echo):
            k = is_echo.index(False)
            raise ValueError(
                "X mixes MeasuredEcho objects with other things: item "
                f"{k} is a {type(X[k]).__name__}. Pass a list of MeasuredEcho "
                "objects or a 2-D array."
            )
    return None


def _label(echo, k):
    source = echo.metadata.get("source")
    return f"echo {k} ({source})" if source else f"echo {k}"


def _segments(valid):
    """``(start, stop)`` index ranges of the runs of True in ``valid``."""
    padded = np.concatenate([[False], valid, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2], strict=True))


class EchoResampler(TransformerMixin, BaseEstimator):
    """Put measured echoes on a model's time grid.

    Each series (a :class:`MeasuredEcho`, or a row of a 2-D array sampled at
    ``source_times``) is, in order:

    1. aligned (``align="peak"``): shifted in time so that the top of its
       echo, the maximum of ``|signal|`` (refined between samples by a
       parabola) within ``search_window`` us of ``echo_time``, lands on
       ``echo_time``;
    2. phased (``phase``): ``"magnitude"`` keeps ``|signal|``;
       ``"correct"`` removes a zero-order phase so that the echo top is real
       and positive; ``"keep"`` leaves the signal as it is;
    3. interpolated linearly onto the target grid (``numpy.interp`` on the
       magnitude, or on the real and imaginary parts separately). Grid
       samples outside the measured span, or within ``dead_time`` us after
       a pulse (``pulse_times``), are not covered: NaN in the output, or an
       error with ``missing="raise"``. Measured samples inside a dead time
       are not used;
    4. normalized (``normalize``).

    A series that does not cover the window ``require`` is refused.

    Parameters
    ----------
    times : array-like of shape (n_times,) or None, default=None
        Target grid (us), strictly increasing, e.g. ``EchoSimulator.times``.
        None means ``t_k = k dt``, ``k = 0 .. n_times - 1``.
    dt : float or None, default=None
        Step (us) of the target grid when ``times`` is None; None means the
        simulator's default ``1/(2 pi)``.
    n_times : int or None, default=None
        Samples of the target grid when ``times`` is None; None means as many
        as reach the end of the longest series seen in :meth:`fit`.
    echo_time : float or None, default=None
        Where the echo top must land (us after the first pulse, > 0), e.g.
        ``2 tau``; required by ``align="peak"``, and centre of
        ``search_window``.
    align : {"none", "peak"}, default="none"
        Shift each series so that its echo top lands on ``echo_time``.
    search_window : float or None, default=None
        Half-width (us) of the time range around ``echo_time``, in the
        series' own times, where the echo top is looked for (by
        ``align="peak"`` and ``phase="correct"``); None searches the whole
        series.
    phase : {"magnitude", "correct", "keep"}, default="magnitude"
        ``"magnitude"``: ``|signal|``. ``"correct"``: the signal times
        ``exp(-i phi0)``, ``phi0`` the phase at the echo top (of the sum of
        the samples around the top above half its height), so the top is
        real and positive. ``"keep"``: the signal as is.
    output : {"real", "complex"}, default="real"
        With ``phase="correct"`` or ``"keep"``: the real part (feature names
        ``'ReM_t=...us'``) or the complex signal (``'M_t=...us'``, complex128
        output). ``phase="magnitude"`` is real (``'absM_t=...us'``).
    dead_time : float or None, default=None
        Time (us) after each pulse during which the receiver is blind: grid
        samples in ``[p, p + dead_time)`` for ``p`` in ``pulse_times`` are
        not covered. None (or 0) excludes nothing.
    pulse_times : array-like of float, default=(0.0,)
        Times (us) of the pulses on the target grid, e.g. ``(0, tau)``.
    missing : {"nan", "raise"}, default="nan"
        What becomes of grid samples a series does not cover: NaN, or a
        ValueError naming the series.
    normalize : {"first", "max"} or None, default=None
        Divide each series by ``|value|`` at its first covered grid sample
        (the simulator's echoes start at ``|M(0)| = 1/2``: multiply by 0.5 to
        match them when that sample is ``t = 0``), or by its largest
        ``|value|``; None leaves the scale.
    require : (float, float) or None, default=None
        A window ``(start, stop)`` (us, on the target grid) that every series
        must cover completely, e.g. the model's feature window
        ``2 tau +- tau/3``; a series that does not is refused with a
        ValueError naming the window.
    source_times : array-like of shape (n_features,) or None, default=None
        Times (us) of the columns of a 2-D array input. None means the times
        in the column names of a DataFrame (``'absM_t=0.159us'``), else the
        target grid's start and step (``t_k = t_0 + k dt``).

    Attributes
    ----------
    times_ : ndarray of shape (n_times,)
        The target grid (us).
    covered_mask_ : ndarray of bool of shape (n_times,)
        True where every series seen in :meth:`fit` is covered.
    missing_ : ndarray of shape (n_missing,)
        Grid times (us) that some series seen in :meth:`fit` does not cover
        (NaN in its output).
    shifts_ : ndarray of shape (n_series,)
        Time shift (us) applied to each series seen in :meth:`fit`.
    phases_ : ndarray of shape (n_series,)
        Zero-order phase (rad) removed from each series seen in :meth:`fit`
        (zeros unless ``phase="correct"``).
    n_features_in_ : int
        Number of columns of a 2-D array passed to :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    read_echo : Read a measured echo from a file.
    sknmr.EchoSimulator.times : The grid of simulated echoes.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr.io import EchoResampler, MeasuredEcho
    >>> t = np.arange(0.0, 30.0, 0.25)  # measured every 0.25 us
    >>> echo = MeasuredEcho(t, np.exp(-((t - 12.0) / 2) ** 2) * np.exp(0.7j))
    >>> resampler = EchoResampler(dt=0.5, n_times=41, echo_time=10.0,
    ...                           align="peak", phase="correct")
    >>> X = resampler.fit_transform([echo])
    >>> X.shape, float(resampler.times_[np.argmax(X[0])])
    ((1, 41), 10.0)
    >>> round(float(resampler.shifts_[0]), 3), round(float(resampler.phases_[0]), 3)
    (-2.0, 0.7)
    >>> resampler.get_feature_names_out()[:2]
    array(['ReM_t=0.000us', 'ReM_t=0.500us'], dtype=object)

    A dead time of 2 us after the pulse at 0 leaves the first samples
    uncovered:

    >>> resampler.set_params(dead_time=2.0).fit([echo]).missing_
    array([0. , 0.5, 1. , 1.5])
    >>> resampler.window_covered((5.0, 15.0))
    True
    """

    _parameter_constraints = {
        "times": ["array-like", None],
        "dt": [Interval(Real, 0, None, closed="neither"), None],
        "n_times": [Interval(Integral, 1, None, closed="left"), None],
        # after the first pulse (t = 0): no echo precedes what makes it
        "echo_time": [Interval(Real, 0, None, closed="neither"), None],
        "align": [StrOptions({"none", "peak"})],
        "search_window": [Interval(Real, 0, None, closed="neither"), None],
        "phase": [StrOptions({"magnitude", "correct", "keep"})],
        "output": [StrOptions({"real", "complex"})],
        "dead_time": [Interval(Real, 0, None, closed="left"), None],
        "pulse_times": ["array-like"],
        "missing": [StrOptions({"nan", "raise"})],
        "normalize": [StrOptions({"first", "max"}), None],
        "require": ["array-like", None],
        "source_times": ["array-like", None],
    }

    def __init__(
        self,
        times=None,
        dt=None,
        n_times=None,
        echo_time=None,
        align="none",
        search_window=None,
        phase="magnitude",
        output="real",
        dead_time=None,
        pulse_times=(0.0,),
        missing="nan",
        normalize=None,
        require=None,
        source_times=None,
    ):
        self.times = times
        self.dt = dt
        self.n_times = n_times
        self.echo_time = echo_time
        self.align = align
        self.search_window = search_window
        self.phase = phase
        self.output = output
        self.dead_time = dead_time
        self.pulse_times = pulse_times
        self.missing = missing
        self.normalize = normalize
        self.require = require
        self.source_times = source_times

    # -- settings -------------------------------------------------------------
    def _check_settings(self):
        """Cross-parameter checks the constraints cannot express."""
        for name in ("dt", "echo_time", "search_window", "dead_time"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite time (us); got {value!r}.")
        if self.times is not None and (self.dt is not None or self.n_times is not None):
            raise ValueError(
                "Give the target grid either as times or as dt and n_times, not "
                f"both; got times of length {len(self.times)}, dt={self.dt!r} and "
                f"n_times={self.n_times!r}."
            )
        if self.align == "peak" and self.echo_time is None:
            raise ValueError(
                "align='peak' shifts each echo top onto echo_time; set echo_time "
                "(us), e.g. 2 * tau."
            )
        if self.search_window is not None and self.echo_time is None:
            raise ValueError(
                f"search_window={self.search_window} is a half-width around "
                "echo_time; set echo_time (us) too."
            )
        if self.phase == "magnitude" and self.output == "complex":
            raise ValueError(
                "phase='magnitude' gives |signal|, which is real; use "
                "phase='correct' or 'keep' for output='complex'."
            )
        pulses = self._pulse_times()
        if pulses.ndim != 1 or not np.all(np.isfinite(pulses)):
            raise ValueError(
                "pulse_times must be a flat sequence of finite times (us); got "
                f"{self.pulse_times!r}."
            )
        self._require_window()

    def _pulse_times(self):
        try:
            return np.asarray(self.pulse_times, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "pulse_times must be a sequence of times (us); got "
                f"{self.pulse_times!r}."
            ) from None

    def _require_window(self):
        if self.require is None:
            return None
        try:
            window = np.asarray(self.require, dtype=np.float64)
        except (TypeError, ValueError):
            window = None
        if (
            window is None
            or window.shape != (2,)
            or not np.all(np.isfinite(window))
            or window[0] > window[1]
        ):
            raise ValueError(
                "require must be a window (start, stop) of finite times (us) with "
                f"start <= stop; got {self.require!r}."
            )
        return float(window[0]), float(window[1])

    def _grid_step(self):
        """Step of a ``k dt`` grid, or None when the grid is given as times."""
        if self.times is not None:
            return None
        return float(DEFAULT_DT if self.dt is None else self.dt)

    def _explicit_grid(self):
        times = np.asarray(self.times, dtype=np.float64)
        if times.ndim != 1 or times.size == 0:
            raise ValueError(
                "times must be a non-empty 1-D grid of times (us); got shape "
                f"{times.shape}."
            )
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("times must be finite and strictly increasing (us).")
        return times

    def _grid_origin(self):
        """Start and step (us) of the target grid, known before any data."""
        if self.times is not None:
            grid = self._explicit_grid()
            step = float(grid[1] - grid[0]) if grid.size > 1 else 1.0
            return float(grid[0]), step
        return 0.0, self._grid_step()

    def _target_grid(self, ends):
        """The target grid; ``ends`` are the series' last times on it (us)."""
        if self.times is not None:
            return self._explicit_grid()
        step = self._grid_step()
        if self.n_times is not None:
            n = int(self.n_times)
        else:
            last = max(ends)
            if last < 0:
                raise ValueError(
                    "No measured sample lies at t >= 0 on the target grid (the "
                    f"series end at {last:g} us at the latest); set times or "
                    "n_times, or align the echoes (echo_time, align='peak')."
                )
            n = int(math.floor(last / step * (1 + 1e-12) + 1e-9)) + 1
        # the output (complex, one row per series) and the grid, before making them
        check_fits_in_memory(
            16.0 * n * (len(ends) + 1),
            f"A target grid of {n} times (dt={step:g} us)",
            f"n_times, or raise dt (the measured series end at {max(ends):g} us)"
            if self.n_times is None
            else "n_times",
        )
        return np.arange(n) * step

    # -- input ------------------------------------------------------------------
    def _snap(self, named):
        """Times read from rounded feature names, put back on the target grid."""
        step = self._grid_step()
        if step is not None:
            grid = np.round(named / step) * step
        else:
            target = self._explicit_grid()
            if target.size < 2:
                return named
            nearest = np.clip(np.searchsorted(target, named), 1, target.size - 1)
            lower = target[nearest - 1]
            upper = target[nearest]
            grid = np.where(
                np.abs(named - lower) <= np.abs(upper - named), lower, upper
            )
            step = float(np.min(np.diff(target))) if target.size > 1 else 1.0
        tol = 10.0 ** -decimals_of(step)
        if np.all(np.abs(grid - named) <= tol) and np.all(np.diff(grid) > 0):
            return grid
        return named

    def _array_source_times(self, n_features):
        if self.source_times is not None:
            times = np.asarray(self.source_times, dtype=np.float64)
            if times.ndim != 1 or times.size != n_features:
                raise ValueError(
                    "source_times must hold one time (us) per input column: shape "
                    f"({n_features},); got shape {times.shape}."
                )
            if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
                raise ValueError(
                    "source_times must be finite and strictly increasing (us)."
                )
            return times
        names = getattr(self, "feature_names_in_", None)
        named = times_from_names(names)
        if named is not None:
            return self._snap(named)
        if names is not None:
            each = [times_from_names([name]) for name in names]
            if all(t is not None for t in each):
                # every column names its time, out of order: sorted in _series
                return np.array([t[0] for t in each])
        start, step = self._grid_origin()
        return start + np.arange(n_features) * step

    def _series(self, X, reset):
        """``[(times, signal, label), ...]`` of the series in ``X``."""
        echoes = _as_echo_list(X)
        if echoes is not None:
            if reset:
                for name in ("n_features_in_", "feature_names_in_"):
                    if hasattr(self, name):
                        delattr(self, name)
            return [(e.times, e.signal, _label(e, k)) for k, e in enumerate(echoes)]
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        times = self._array_source_times(X.shape[1])
        if np.any(np.diff(times) <= 0):  # columns named by time, out of order
            order = np.argsort(times, kind="stable")
            if np.any(np.diff(times[order]) <= 0):
                raise ValueError(
                    "The column names of X give the same sample time twice "
                    f"({times[order][np.flatnonzero(np.diff(times[order]) <= 0)[0]]:g}"
                    " us); each column must be one time."
                )
            times = self._snap(times[order])
            X = X[:, order]
        return [(times, row, f"row {k}") for k, row in enumerate(X)]

    # -- one series ---------------------------------------------------------------
    def _echo_top(self, t, magnitude, label):
        """Index and refined time (us) of the echo top of one series."""
        if self.echo_time is not None and self.search_window is not None:
            inside = np.flatnonzero(
                np.abs(t - self.echo_time) <= self.search_window * (1 + 1e-12)
            )
            if inside.size == 0:
                raise ValueError(
                    f"{label} has no sample within search_window="
                    f"{self.search_window:g} us of echo_time={self.echo_time:g} us: "
                    f"it spans [{t[0]:g}, {t[-1]:g}] us. Widen search_window, "
                    "set it to None to search the whole series, or shift the "
                    "measured times (read_echo's time_offset)."
                )
        else:
            inside = np.arange(t.size)
        k = int(inside[np.argmax(magnitude[inside])])
        t_top = float(t[k])
        if 0 < k < t.size - 1:
            y0, y1, y2 = magnitude[k - 1 : k + 2]
            curvature = y0 - 2 * y1 + y2
            if curvature < 0:
                delta = float(np.clip(0.5 * (y0 - y2) / curvature, -0.5, 0.5))
                spacing = t[k + 1] - t[k] if delta > 0 else t[k] - t[k - 1]
                t_top += delta * float(spacing)
        return k, t_top

    @staticmethod
    def _top_phase(signal, magnitude, k):
        """Phase (rad) of the samples around index ``k`` above half its height."""
        half = 0.5 * magnitude[k]
        lo = k
        while lo > 0 and magnitude[lo - 1] >= half:
            lo -= 1
        hi = k + 1
        while hi < magnitude.size and magnitude[hi] >= half:
            hi += 1
        total = signal[lo:hi].sum()
        return float(np.angle(total)) if total != 0 else 0.0

    def _dead_mask(self, u):
        """True where times ``u`` (us, target grid) fall in a dead time."""
        dead = np.zeros(u.shape, dtype=bool)
        if self.dead_time:
            for p in self._pulse_times():
                dead |= (u >= p) & (u < p + self.dead_time)
        return dead

    def _shift_and_phase(self, t, signal, label):
        """Time shift (us) and zero-order phase (rad) of one series."""
        shift, phase = 0.0, 0.0
        if self.align == "peak" or self.phase == "correct":
            magnitude = np.abs(signal)
            k, t_top = self._echo_top(t, magnitude, label)
            if self.align == "peak":
                shift = float(self.echo_time) - t_top
            if self.phase == "correct":
                phase = self._top_phase(signal, magnitude, k)
        return shift, phase

    def _resample_one(self, t, signal, label, grid, shift, phase):
        """One series on ``grid``: its values (NaN where not covered) and coverage."""
        u = t + shift
        valid = ~self._dead_mask(u)
        spacing = float(np.median(np.diff(t))) if t.size > 1 else 1.0
        tol = _EDGE_RTOL * spacing
        if self.phase == "magnitude":
            values = np.abs(signal)
            out = np.full(grid.shape, np.nan)
        else:
            values = signal * np.exp(-1j * phase) if phase else signal
            out = np.full(grid.shape, np.nan + 0j)
        covered = np.zeros(grid.shape, dtype=bool)
        spans = []
        for start, stop in _segments(valid):
            u_seg = u[start:stop]
            spans.append((u_seg[0], u_seg[-1]))
            inside = (grid >= u_seg[0] - tol) & (grid <= u_seg[-1] + tol)
            if not inside.any():
                continue
            v_seg = values[start:stop]
            g = grid[inside]
            if np.iscomplexobj(v_seg):
                out[inside] = np.interp(g, u_seg, v_seg.real) + 1j * np.interp(
                    g, u_seg, v_seg.imag
                )
            else:
                out[inside] = np.interp(g, u_seg, v_seg)
            covered |= inside
        covered &= ~self._dead_mask(grid)
        out[~covered] = np.nan
        self._check_required(label, u, spans, shift)
        return out, covered

    def _check_required(self, label, u, spans, shift):
        window = self._require_window()
        if window is None:
            return
        start, stop = window
        spacing = float(np.median(np.diff(u))) if u.size > 1 else 1.0
        tol = _EDGE_RTOL * spacing
        if any(lo - tol <= start and stop <= hi + tol for lo, hi in spans):
            return
        moved = (
            f" once shifted by {shift:+.6g} us to align its echo top" if shift else ""
        )
        reason = f"it spans [{u[0]:.6g}, {u[-1]:.6g}] us on the target grid{moved}"
        if self.dead_time:
            blind = [
                (p, p + self.dead_time)
                for p in self._pulse_times()
                if p < stop and p + self.dead_time > start
            ]
            if blind:
                reason += ", and the dead time " + ", ".join(
                    f"[{a:.6g}, {b:.6g}) us" for a, b in blind
                )
                reason += " falls inside the window"
        raise ValueError(
            f"{label} does not cover the required window require=({start:.6g}, "
            f"{stop:.6g}) us: {reason}. Measure longer, shift the times "
            "(read_echo's time_offset, or align='peak' with echo_time), or "
            "narrow the window."
        )

    def _finish(self, out, covered, label, grid):
        """Real or complex output, the missing samples checked, normalized."""
        if self.phase != "magnitude" and self.output == "real":
            out = out.real.copy()
        if self.missing == "raise" and not covered.all():
            gaps = grid[~covered]
            raise ValueError(
                f"{label} does not cover {gaps.size} of the {grid.size} samples of "
                f"the target grid (t = {', '.join(f'{g:.6g}' for g in gaps[:3])}"
                f"{', ...' if gaps.size > 3 else ''} us); missing='nan' leaves "
                "them NaN."
            )
        if self.normalize is not None and covered.any():
            magnitude = np.abs(out[covered])
            reference = magnitude[0] if self.normalize == "first" else magnitude.max()
            if not reference > 0:
                raise ValueError(
                    f"Cannot normalize {label} by its {self.normalize} |value|: it "
                    "is 0."
                )
            out = out / reference
        return out

    def _run(self, series, grid):
        """All series on the grid (grid None: from the data)."""
        moves = [self._shift_and_phase(t, s, label) for t, s, label in series]
        if grid is None:
            grid = self._target_grid(
                [t[-1] + m[0] for (t, _, _), m in zip(series, moves, strict=True)]
            )
        dtype = np.complex128 if self.output == "complex" else np.float64
        result = np.empty((len(series), grid.size), dtype=dtype)
        covered = np.ones(grid.size, dtype=bool)
        for row, ((t, s, label), (shift, phase)) in enumerate(
            zip(series, moves, strict=True)
        ):
            out, mask = self._resample_one(t, s, label, grid, shift, phase)
            result[row] = self._finish(out, mask, label, grid)
            covered &= mask
        shifts = np.array([m[0] for m in moves], dtype=np.float64)
        phases = np.array([m[1] for m in moves], dtype=np.float64)
        return result, grid, covered, shifts, phases

    # -- estimator API -------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Set the target grid and find which of its samples the series cover.

        Parameters
        ----------
        X : MeasuredEcho, list of MeasuredEcho, or array-like of shape \
                (n_series, n_features)
            The measured series; an array's columns are sampled at
            ``source_times``.
        y : None
            Ignored.

        Returns
        -------
        self : EchoResampler
        """
        self._check_settings()
        series = self._series(X, reset=True)
        _, grid, covered, shifts, phases = self._run(series, None)
        self.times_ = grid
        self.covered_mask_ = covered
        self.missing_ = grid[~covered]
        self.shifts_ = shifts
        self.phases_ = phases
        return self

    def transform(self, X):
        """Resample each series onto :attr:`times_`.

        Parameters
        ----------
        X : MeasuredEcho, list of MeasuredEcho, or array-like of shape \
                (n_series, n_features)

        Returns
        -------
        X_resampled : ndarray of shape (n_series, n_times)
            float64, or complex128 with ``output="complex"``; NaN where a
            series does not cover the grid.
        """
        check_is_fitted(self)
        self._check_settings()
        series = self._series(X, reset=False)
        return self._run(series, self.times_)[0]

    def window_covered(self, window):
        """Whether every grid sample in a window is covered by the fitted series.

        Parameters
        ----------
        window : (float, float)
            ``(start, stop)`` in us, e.g. a model's feature window
            ``(2 tau - tau/3, 2 tau + tau/3)``.

        Returns
        -------
        covered : bool
            False as well when the window reaches beyond the grid.
        """
        check_is_fitted(self)
        try:
            start, stop = (float(v) for v in window)
        except (TypeError, ValueError):
            raise ValueError(
                f"window must be (start, stop) in us; got {window!r}."
            ) from None
        if not start <= stop:
            raise ValueError(f"window must have start <= stop; got {window!r}.")
        grid = self.times_
        spacing = float(np.min(np.diff(grid))) if grid.size > 1 else 1.0
        tol = _EDGE_RTOL * spacing
        if start < grid[0] - tol or stop > grid[-1] + tol:
            return False
        inside = (grid >= start - tol) & (grid <= stop + tol)
        return bool(self.covered_mask_[inside].all())

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the quantity and the grid time.

        ``'absM_t=199.899us'`` for magnitudes, ``'ReM_t=...us'`` for real
        parts, ``'M_t=...us'`` for complex output.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the fitted input.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        if hasattr(self, "n_features_in_"):
            _check_feature_names_in(self, input_features, generate_names=False)
        if self.phase == "magnitude":
            prefix = _PREFIXES["magnitude"]
        else:
            prefix = _PREFIXES[self.output]
        return time_names(self.times_, prefix=prefix, dt=self._grid_step())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
