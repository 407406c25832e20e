"""EchoSpectrum: the Fourier spectrum of an echo's area of interest.

The first author's notebooks featurized an echo by its spectrum: take the
echo around its top, window it, Fourier transform it. :class:`EchoSpectrum`
does that as a scikit-learn transformer:

1. keep the samples of the window ``center +- half_width`` (us), found by an
   internal :class:`~sknmr.EchoWindow` with the same parameters, so the
   default is the paper's area of interest ``2 tau +- tau/3`` and the sample
   times come from ``times``, ``dt`` or time-stamped feature names
   (``'absM_t=199.899us'``) exactly as for the window;
2. subtract nothing (no baseline, mean or trend is removed: a magnitude echo
   ``|M(t)| >= 0`` keeps its large zero-frequency line; subtract an offset
   beforehand if it is unwanted);
3. multiply by an apodization window (:func:`scipy.signal.get_window`,
   symmetric, peaking at 1 on the window's middle sample);
4. zero-fill to ``zero_fill`` times the window's length and Fourier transform,
   with the time origin at the echo top ``center``:
   ``S(f) = dt sum_k w_k x_k exp(-2 pi i f (t_k - center))``, which
   approximates the continuous transform ``int x(t) w(t) e^{-2 pi i f (t -
   center)} dt``; frequencies ``f`` in MHz since times are in us.

Zero filling only samples the same ``S(f)`` on a finer grid (spacing
``1 / (n_fft dt)``); it adds no resolution.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.signal import get_window
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._timegrid import decimals_of
from .window import EchoWindow

__all__ = ["EchoSpectrum"]

#: Output parts and the prefix of their feature names.
PARTS = {"magnitude": "absS", "real": "reS", "imag": "imS"}
_APODIZATIONS = ("hann", "hamming", "exponential")
# Largest deviation of a sample time from a uniform grid, in steps.
_GRID_TOLERANCE = 0.01


def _is_complex(X):
    """Whether ``X`` (array, list or DataFrame) holds complex numbers."""
    if isinstance(X, pd.DataFrame):
        return any(dtype.kind == "c" for dtype in X.dtypes)
    if issparse(X):
        return False  # validate_data refuses sparse input with its own message
    dtype = getattr(X, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):
            return False  # validate_data explains what is wrong
    return dtype.kind == "c"


class EchoSpectrum(TransformerMixin, BaseEstimator):
    """Fourier spectrum of each echo around its top: magnitude, real, imag parts.

    The samples in the window ``[center - half_width, center + half_width]``
    (us; by default the paper's area of interest ``2 tau +- tau/3`` of
    :class:`~sknmr.EchoSimulator`'s grid, as for :class:`~sknmr.EchoWindow`)
    are multiplied by an apodization window, zero-filled to
    ``zero_fill * n_window`` points and Fourier transformed with the time
    origin at ``center``::

        S(f) = dt * sum_k w_k x_k exp(-2 pi i f (t_k - center))

    an approximation of the continuous transform, in signal units times us.
    Nothing is subtracted before (no baseline or mean removal). With the
    origin on the echo top, a real echo symmetric about ``center`` has a real
    spectrum (its ``"imag"`` part vanishes), and a line of width ``Gamma``
    (FWHM) comes from a decay ``exp(-|t - center| / T)`` with
    ``Gamma = 1 / (pi T)``.

    Input echoes are real (``|M(t)|``) or complex (quadrature
    ``M(t) = <I^x> + i <I^y>``), as set by the data seen in :meth:`fit`:

    - real input: :func:`numpy.fft.rfft`, non-negative frequencies
      ``0, df, ..., <= 1/(2 dt)`` only (the spectrum of a real signal is
      Hermitian);
    - complex input: :func:`numpy.fft.fft`, centred with
      :func:`numpy.fft.fftshift`, frequencies ``-1/(2 dt), ..., 1/(2 dt) -
      df`` in increasing order; the sign tells the sense of precession.

    Frequencies are in MHz (times in us), ``df = 1 / (n_fft dt)``.

    The magnitude ``|S(f)|`` does not change when the echo is multiplied by
    a phase ``exp(i phi)`` (an unknown receiver phase of a measured echo), nor
    with the choice of time origin; the real and imaginary parts do. The
    phase ``angle(S)`` is not offered: it wraps at +-pi and is pure noise
    where the line has no weight; take ``np.angle`` of the real and
    imaginary parts if needed.

    Parameters
    ----------
    center : float or None, default=None
        Centre of the window (us) and time origin of the transform. None
        means the echo time ``2 tau`` of ``EchoSimulator()``'s grid
        (199.899 us).
    half_width : float or None, default=None
        Half the window's length (us), > 0. None means ``tau / 3`` of
        ``EchoSimulator()`` (33.333 us).
    dt : float or None, default=None
        Sampling interval (us) of the input columns; None means the
        simulator's default ``1/(2 pi)``. Give ``dt`` or ``times``, not both.
    times : array-like of shape (n_features,) or None, default=None
        Time (us) of each input column, strictly increasing; the samples in
        the window must be evenly spaced (within 1% of a step).
    apodization : {"hann", "hamming", "exponential"}, tuple or None, \
            default="hann"
        Window multiplying the samples, symmetric about the window's middle
        sample where it is 1 (``scipy.signal.get_window(..., fftbins=False)``):
        ``"hann"`` and ``"hamming"`` taper to 0 and 0.08 at the ends;
        ``"exponential"`` is ``exp(-|t - t_mid| / decay)`` with
        ``decay = half_width / 3`` (the ends at ``e^-3``, 5%), and
        ``("exponential", decay)`` sets ``decay`` (us). An exponential
        apodization adds ``1 / (pi decay)`` MHz to the Lorentzian width.
        None applies no window (a rectangular one).
    zero_fill : int, default=2
        The transform has ``n_fft = zero_fill * n_window`` points (an exact
        multiple, not rounded to a power of two), so the frequency spacing
        is ``1 / (n_fft dt)``; 1 means no zero filling. >= 1.
    parts : tuple of {"magnitude", "real", "imag"} or str, \
            default=("magnitude",)
        What to output of the complex spectrum ``S(f)``, each part as a block
        of all kept frequencies, in this order.
    max_frequency : float or None, default=None
        Keep only frequencies with ``|f| <= max_frequency`` (MHz), > 0. None
        keeps them all (up to the Nyquist frequency ``1/(2 dt)``).

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_frequencies,)
        Kept frequencies (MHz), increasing.
    times_ : ndarray of shape (n_window,)
        Times (us) of the samples in the window.
    window_ : slice
        The input columns in the window.
    time_origin_ : float
        ``center`` (us): the time origin of the transform.
    dt_ : float
        Sampling interval (us) of the window's samples.
    n_fft_ : int
        Length of the zero-filled transform.
    apodization_window_ : ndarray of shape (n_window,)
        Weights that multiply the window's samples.
    input_is_complex_ : bool
        Whether :meth:`fit` saw complex echoes (then complex spectra with
        negative frequencies are computed; real input is then taken as
        complex with zero imaginary part).
    n_features_in_ : int
        Number of input samples per echo.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    sknmr.EchoWindow : Keeps the samples of the window.
    sknmr.PolynomialSectionFeaturizer : Polynomial features of the window.

    Notes
    -----
    Feature names are ``'<part>_f=<frequency>kHz'``, with the part
    ``absS`` (magnitude), ``reS`` (real) or ``imS`` (imaginary) and the
    frequency in kHz with enough decimals to tell bins apart:
    ``'absS_f=-12.500kHz'``.

    Examples
    --------
    A damped cosine at 0.5 MHz around its top at 50 us, sampled every 0.05 us:

    >>> import numpy as np
    >>> from sknmr import EchoSpectrum
    >>> t = np.arange(2001) * 0.05
    >>> echo = np.exp(-np.abs(t - 50) / 4) * np.cos(2 * np.pi * 0.5 * (t - 50))
    >>> spectrum = EchoSpectrum(center=50.0, half_width=40.0, dt=0.05,
    ...                         max_frequency=2.0)
    >>> S = spectrum.fit_transform(echo[None, :])
    >>> S.shape, spectrum.n_fft_
    ((1, 321), 3202)
    >>> print(f"peak at {spectrum.frequencies_[np.argmax(S[0])]:.3f} MHz")
    peak at 0.500 MHz
    >>> spectrum.get_feature_names_out()[:2]
    array(['absS_f=0.000kHz', 'absS_f=6.246kHz'], dtype=object)

    A complex echo precessing the other way peaks at a negative frequency:

    >>> echo = np.exp(-np.abs(t - 50) / 4 - 2j * np.pi * 0.3 * (t - 50))
    >>> S = spectrum.fit_transform(echo[None, :])
    >>> print(f"peak at {spectrum.frequencies_[np.argmax(S[0])]:.3f} MHz")
    peak at -0.300 MHz

    On the simulator's default grid, the 419 samples of the area of interest
    give 420 frequencies from 0 to pi MHz:

    >>> from sknmr import EchoSimulator
    >>> X = np.zeros((2, EchoSimulator().n_times))
    >>> EchoSpectrum().fit_transform(X).shape
    (2, 420)
    """

    _parameter_constraints = {
        **EchoWindow._parameter_constraints,
        "apodization": [StrOptions(set(_APODIZATIONS)), tuple, None],
        "zero_fill": [Interval(Integral, 1, None, closed="left")],
        "parts": [tuple, list, StrOptions(set(PARTS))],
        "max_frequency": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        center=None,
        half_width=None,
        dt=None,
        times=None,
        apodization="hann",
        zero_fill=2,
        parts=("magnitude",),
        max_frequency=None,
    ):
        self.center = center
        self.half_width = half_width
        self.dt = dt
        self.times = times
        self.apodization = apodization
        self.zero_fill = zero_fill
        self.parts = parts
        self.max_frequency = max_frequency

    # -- validation -----------------------------------------------------------
    def _check_parts(self):
        parts = [self.parts] if isinstance(self.parts, str) else list(self.parts)
        unknown = [p for p in parts if not isinstance(p, str) or p not in PARTS]
        if not parts or unknown or len(set(parts)) != len(parts):
            raise ValueError(
                f"parts must be a non-empty sequence of distinct parts among "
                f"{sorted(PARTS)}; got {self.parts!r}."
            )
        return parts

    def _apodization_window(self, n_window, dt, half_width):
        """Weights of the apodization on ``n_window`` samples ``dt`` apart."""
        apodization = self.apodization
        if apodization is None:
            return np.ones(n_window)
        if isinstance(apodization, tuple):
            if (
                len(apodization) != 2
                or apodization[0] != "exponential"
                or not isinstance(apodization[1], Real)
                or not np.isfinite(apodization[1])
                or apodization[1] <= 0
            ):
                raise ValueError(
                    "A tuple apodization must be ('exponential', decay) with a "
                    f"finite decay > 0 (us); got {apodization!r}."
                )
            name, decay = apodization[0], float(apodization[1])
        else:
            name, decay = apodization, half_width / 3
        if name == "exponential":
            weights = get_window(("exponential", None, decay / dt), n_window, False)
        else:
            weights = get_window(name, n_window, fftbins=False)
        if not np.any(weights > 0):
            raise ValueError(
                f"The apodization {apodization!r} is zero on all {n_window} samples "
                "of the window; widen the window or choose another apodization."
            )
        return weights

    def _validate(self, X, reset):
        """``X`` as a 2-D float or complex array; names and counts checked."""
        if not _is_complex(X):
            return validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
        # scikit-learn refuses complex data, so check the real and imaginary
        # parts apart (shape, finiteness, dtype), then the names and count.
        values = np.asarray(X)
        if values.dtype.kind != "c":  # a DataFrame mixing real and complex
            values = values.astype(np.complex128)
        parts = [
            check_array(part, dtype=[np.float64, np.float32], estimator=self)
            for part in (values.real, values.imag)
        ]
        validate_data(
            self,
            X if isinstance(X, pd.DataFrame) else values,
            skip_check_array=True,
            reset=reset,
        )
        out = np.empty(parts[0].shape, dtype=np.result_type(parts[0], np.complex64))
        out.real, out.imag = parts
        return out

    # -- estimator API ----------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the window's samples and the frequencies of their spectrum.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_features), real or complex
            Echoes sampled at the times described above. Complex echoes
            give complex spectra (negative frequencies included).
        y : None
            Ignored.

        Returns
        -------
        self : EchoSpectrum
        """
        parts = self._check_parts()
        X = self._validate(X, reset=True)
        n_features = X.shape[1]
        names = getattr(self, "feature_names_in_", None)
        # The window (and its errors) exactly as EchoWindow finds it.
        window = EchoWindow(
            center=self.center,
            half_width=self.half_width,
            dt=self.dt,
            times=self.times,
        )
        grid = np.zeros((1, n_features))
        window.fit(grid if names is None else pd.DataFrame(grid, columns=names))
        center, half_width = window._window_bounds()
        times = window.times_
        n_window = times.size
        if n_window < 2:
            raise ValueError(
                f"A spectrum needs at least 2 samples in the window, but "
                f"[{center - half_width:.6g}, {center + half_width:.6g}] us holds "
                f"{n_window} (at {times[0]:.6g} us); increase half_width."
            )
        dt = float(times[-1] - times[0]) / (n_window - 1)
        uniform = times[0] + np.arange(n_window) * dt
        if np.max(np.abs(times - uniform)) > _GRID_TOLERANCE * dt:
            raise ValueError(
                "The samples in the window must be evenly spaced for a Fourier "
                f"transform; their times deviate from a grid of step {dt:.6g} us "
                f"by up to {np.max(np.abs(times - uniform)):.3g} us."
            )
        weights = self._apodization_window(n_window, dt, half_width)

        is_complex = np.iscomplexobj(X)
        n_fft = int(self.zero_fill) * n_window
        if is_complex:
            frequencies = np.fft.fftshift(np.fft.fftfreq(n_fft, d=dt))
        else:
            frequencies = np.fft.rfftfreq(n_fft, d=dt)
        if self.max_frequency is None:
            kept = np.arange(frequencies.size)
        else:
            df = 1 / (n_fft * dt)
            kept = np.flatnonzero(
                np.abs(frequencies) <= float(self.max_frequency) + 1e-9 * df
            )
        band = slice(int(kept[0]), int(kept[-1]) + 1)

        self.window_ = window.window_
        self.times_ = times.copy()
        self.time_origin_ = center
        self.dt_ = dt
        self.n_fft_ = n_fft
        self.apodization_window_ = weights
        self.input_is_complex_ = bool(is_complex)
        self.frequencies_ = frequencies[band]
        self._band = band
        self._parts = parts
        # dt times the phase that moves the time origin from times[0] to center.
        self._factor = dt * np.exp(
            -2j * np.pi * self.frequencies_ * (times[0] - center)
        )
        return self

    def transform(self, X):
        """Spectra of the echoes: the requested parts at each kept frequency.

        Parameters
        ----------
        X : array-like of shape (n_echoes, n_features), real or complex
            Complex only if :meth:`fit` saw complex echoes.

        Returns
        -------
        spectra : ndarray of shape (n_echoes, len(parts) * n_frequencies)
            Blocks of ``frequencies_`` for each part, in the order of
            ``parts``; float32 for float32 (or complex64) input, else float64.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        if np.iscomplexobj(X) and not self.input_is_complex_:
            raise ValueError(
                "EchoSpectrum was fitted on real echoes (non-negative frequencies "
                "only) but got complex ones; fit it on complex echoes."
            )
        dtype = X.real.dtype
        samples = X[:, self.window_] * self.apodization_window_
        if self.input_is_complex_:
            spectra = np.fft.fftshift(
                np.fft.fft(samples, n=self.n_fft_, axis=1), axes=1
            )
        else:
            spectra = np.fft.rfft(samples, n=self.n_fft_, axis=1)
        spectra = spectra[:, self._band] * self._factor
        blocks = {"magnitude": np.abs, "real": np.real, "imag": np.imag}
        return np.hstack([blocks[part](spectra) for part in self._parts]).astype(
            dtype, copy=False
        )

    def get_feature_names_out(self, input_features=None):
        """Names ``'<part>_f=<frequency>kHz'`` of the spectral features.

        The part is ``absS`` (magnitude), ``reS`` (real) or ``imS``
        (imaginary), e.g. ``'absS_f=-12.500kHz'``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        khz = self.frequencies_ * 1e3
        decimals = decimals_of(1e3 / (self.n_fft_ * self.dt_))
        return np.asarray(
            [
                f"{PARTS[part]}_f={value + 0.0:.{decimals}f}kHz"
                for part in self._parts
                for value in khz
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
