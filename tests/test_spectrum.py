"""EchoSpectrum: line position and width, real and complex echoes, zero filling,
feature names, window selection, bad input, pipelines."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoSpectrum, EchoWindow
from sknmr._timegrid import time_names

DT = 0.05  # us
T2 = 2.0  # decay time T (us)
F0 = 1.0  # line frequency (MHz)
TOP = 50.0  # echo top (us), on the grid
TIMES = np.arange(2001) * DT  # 0 .. 100 us


def _echo(t=TIMES, f0=F0, T=T2, top=TOP, complex_=False):
    """``exp(-|t - top| / T)`` times a cosine (or complex exponential) at f0."""
    decay = np.exp(-np.abs(t - top) / T)
    if complex_:
        return decay * np.exp(2j * np.pi * f0 * (t - top))
    return decay * np.cos(2 * np.pi * f0 * (t - top))


def _fid(t=TIMES, f0=F0, T=T2, start=TOP):
    """A free decay ``exp(-t'/T) cos(2 pi f0 t')``, ``t' = t - start >= 0``."""
    s = t - start
    return np.where(s >= 0, np.exp(-np.abs(s) / T) * np.cos(2 * np.pi * f0 * s), 0.0)


def _fwhm(frequencies, line):
    """Full width at half maximum of the line around its peak (interpolated)."""
    line = line / line.max()
    peak = int(np.argmax(line))
    lo = peak
    while line[lo - 1] >= 0.5:
        lo -= 1
    hi = peak
    while line[hi + 1] >= 0.5:
        hi += 1
    f_lo = np.interp(0.5, line[[lo - 1, lo]], frequencies[[lo - 1, lo]])
    f_hi = np.interp(0.5, line[[hi + 1, hi]], frequencies[[hi + 1, hi]])
    return f_hi - f_lo


def _spectrum(**params):
    base = dict(center=TOP, half_width=20 * T2, dt=DT, zero_fill=8)
    return EchoSpectrum(**{**base, **params})


# -- the line: position and width ---------------------------------------------
@pytest.mark.parametrize("complex_", [False, True])
def test_peak_at_the_line_frequency(complex_):
    spectrum = _spectrum(zero_fill=2)
    S = spectrum.fit_transform(_echo(complex_=complex_)[None, :])[0]
    df = 1 / (spectrum.n_fft_ * DT)
    assert abs(spectrum.frequencies_[np.argmax(S)] - F0) <= df


@pytest.mark.parametrize("complex_", [False, True])
def test_lorentzian_width_without_apodization(complex_):
    # exp(-|t|/T) transforms to a Lorentzian of FWHM 1/(pi T); the window
    # (20 T each side) truncates e^-20 of it, so 1% is ample.
    spectrum = _spectrum(apodization=None)
    S = spectrum.fit_transform(_echo(complex_=complex_)[None, :])[0]
    width = _fwhm(spectrum.frequencies_, S)
    assert width == pytest.approx(1 / (np.pi * T2), rel=0.01)


@pytest.mark.parametrize(
    ("apodization", "half_width", "broadening"),
    [
        # A Hann (Hamming) window multiplies the decay by cos^2(pi t / 2h)
        # ~ exp(-(pi t / 2h)^2): a few percent broader for h >= 10 T (measured
        # 7% at h = 10 T, 2% at h = 20 T).
        ("hann", 10 * T2, (1.0, 1.10)),
        ("hann", 20 * T2, (1.0, 1.03)),
        ("hamming", 10 * T2, (1.0, 1.10)),
    ],
)
def test_apodized_width(apodization, half_width, broadening):
    spectrum = _spectrum(apodization=apodization, half_width=half_width)
    S = spectrum.fit_transform(_echo()[None, :])[0]
    ratio = _fwhm(spectrum.frequencies_, S) * np.pi * T2
    assert broadening[0] <= ratio <= broadening[1]
    assert abs(spectrum.frequencies_[np.argmax(S)] - F0) <= 1 / (spectrum.n_fft_ * DT)


@pytest.mark.parametrize("apodization", ["exponential", ("exponential", 4.0)])
def test_exponential_apodization_adds_its_width(apodization):
    # exp(-|t|/T) exp(-|t|/decay) is a Lorentzian of FWHM 1/(pi T) + 1/(pi decay),
    # the default decay being half_width / 3.
    half_width = 20 * T2
    decay = half_width / 3 if apodization == "exponential" else apodization[1]
    spectrum = _spectrum(apodization=apodization, half_width=half_width)
    S = spectrum.fit_transform(_echo()[None, :])[0]
    expected = 1 / (np.pi * T2) + 1 / (np.pi * decay)
    assert _fwhm(spectrum.frequencies_, S) == pytest.approx(expected, rel=0.01)
    middle = spectrum.times_[len(spectrum.times_) // 2]
    np.testing.assert_allclose(
        spectrum.apodization_window_,
        np.exp(-np.abs(spectrum.times_ - middle) / decay),
        rtol=1e-6,
    )


@pytest.mark.parametrize("complex_", [False, True])
def test_free_decay_magnitude_width(complex_):
    # A one-sided decay exp(-t/T) (a FID) gives |S| = |1 / (1/T + 2 pi i f)|,
    # whose FWHM is sqrt(3)/(pi T) (the magnitude of a Lorentzian line; its
    # absorption part alone has 1/(pi T)). No apodization: within 1%.
    fid = _fid()
    if complex_:
        s = TIMES - TOP
        fid = fid + 1j * np.where(
            s >= 0, np.exp(-s / T2) * np.sin(2 * np.pi * F0 * s), 0
        )
    spectrum = _spectrum(apodization=None)
    S = spectrum.fit_transform(fid[None, :])[0]
    width = _fwhm(spectrum.frequencies_, S)
    assert width == pytest.approx(np.sqrt(3) / (np.pi * T2), rel=0.01)
    shift = abs(spectrum.frequencies_[np.argmax(S)] - F0)
    if complex_:
        assert shift <= 1 / (spectrum.n_fft_ * DT)
    else:
        # The slow dispersive tail of the mirror line at -F0 adds to the
        # magnitude and pulls the peak by about 1% of the width.
        assert shift <= 0.02 * width


# -- real and complex echoes ----------------------------------------------------
def test_real_input_gives_non_negative_frequencies():
    spectrum = _spectrum(zero_fill=1).fit(_echo()[None, :])
    assert not spectrum.input_is_complex_
    n_window = len(spectrum.times_)
    np.testing.assert_allclose(
        spectrum.frequencies_, np.fft.rfftfreq(n_window, d=DT), atol=1e-12
    )
    assert spectrum.frequencies_[0] == 0
    assert spectrum.frequencies_[-1] <= 1 / (2 * DT)


def test_complex_input_with_zero_imaginary_part_matches_real_input():
    x = _echo()[None, :]
    real = _spectrum(parts=("real", "imag")).fit(x)
    full = _spectrum(parts=("real", "imag")).fit(x.astype(complex))
    assert full.input_is_complex_
    f = full.frequencies_
    assert f[0] < 0 and np.all(np.diff(f) > 0)
    np.testing.assert_allclose(f, np.fft.fftshift(np.fft.fftfreq(full.n_fft_, DT)))
    n_f, n_r = len(f), len(real.frequencies_)
    S_full = full.transform(x.astype(complex))[0]
    S_real = real.transform(x)[0]
    re, im = S_full[:n_f], S_full[n_f:]
    # The non-negative frequencies of the full spectrum are rfft's.
    index = np.rint(f[f >= 0] * full.n_fft_ * DT).astype(int)
    np.testing.assert_allclose(real.frequencies_[index], f[f >= 0])
    np.testing.assert_allclose(re[f >= 0], S_real[:n_r][index], atol=1e-10)
    np.testing.assert_allclose(im[f >= 0], S_real[n_r:][index], atol=1e-10)
    # A real signal's spectrum is Hermitian: S(-f) = conj(S(f)).
    np.testing.assert_allclose(re[1:], re[1:][::-1], atol=1e-10)
    np.testing.assert_allclose(im[1:], -im[1:][::-1], atol=1e-10)


def test_complex_echo_has_one_line_on_its_side():
    for sign in (1, -1):
        spectrum = _spectrum()
        S = spectrum.fit_transform(_echo(f0=sign * F0, complex_=True)[None, :])[0]
        f_peak = spectrum.frequencies_[np.argmax(S)]
        assert abs(f_peak - sign * F0) <= 1 / (spectrum.n_fft_ * DT)
        mirror = np.argmin(np.abs(spectrum.frequencies_ + f_peak))
        assert S[mirror] < 0.01 * S.max()


def test_symmetric_real_echo_has_a_real_spectrum():
    # The time origin is the echo top, so an echo symmetric about it has
    # a vanishing imaginary part and a positive real (absorption) part.
    spectrum = _spectrum(parts=("real", "imag"), apodization="hann")
    S = spectrum.fit_transform(_echo()[None, :])[0]
    n_f = len(spectrum.frequencies_)
    real, imag = S[:n_f], S[n_f:]
    assert np.max(np.abs(imag)) < 1e-10 * np.max(real)
    assert spectrum.time_origin_ == TOP


def test_magnitude_is_invariant_to_the_receiver_phase():
    z = _echo(complex_=True)[None, :]
    spectrum = _spectrum(parts=("magnitude", "real"))
    S = spectrum.fit_transform(z)
    S_rot = spectrum.fit_transform(z * np.exp(1j * 0.7))
    n_f = len(spectrum.frequencies_)
    np.testing.assert_allclose(S_rot[:, :n_f], S[:, :n_f], rtol=1e-9, atol=1e-12)
    assert not np.allclose(S_rot[:, n_f:], S[:, n_f:])


def test_the_spectrum_integrates_to_the_echo_top():
    # S(f) = dt sum_k w_k x_k exp(-2 pi i f (t_k - center)) summed over all
    # n_fft frequencies times df is w x at the centre sample: the echo top.
    z = 3.0 * _echo(complex_=True)[None, :]
    spectrum = _spectrum(parts=("real",), zero_fill=3)
    S = spectrum.fit_transform(z)[0]
    df = 1 / (spectrum.n_fft_ * DT)
    assert np.sum(S) * df == pytest.approx(3.0, rel=1e-9)


# -- zero filling and the frequency grid -----------------------------------------
@pytest.mark.parametrize("zero_fill", [1, 2, 3, 8])
def test_zero_filling_refines_the_grid(zero_fill):
    x = _echo()[None, :]
    spectrum = _spectrum(zero_fill=zero_fill, parts=("real", "imag")).fit(x)
    n_window = len(spectrum.times_)
    assert spectrum.n_fft_ == zero_fill * n_window
    np.testing.assert_allclose(
        np.diff(spectrum.frequencies_), 1 / (spectrum.n_fft_ * DT), rtol=1e-9
    )
    # The same S(f), sampled more finely: every zero_fill-th bin is the
    # unpadded transform.
    coarse = _spectrum(zero_fill=1, parts=("real", "imag")).fit(x)
    S, S1 = spectrum.transform(x)[0], coarse.transform(x)[0]
    n_f, n_f1 = len(spectrum.frequencies_), len(coarse.frequencies_)
    for block in range(2):
        fine = S[block * n_f : (block + 1) * n_f][::zero_fill]
        np.testing.assert_allclose(
            fine[:n_f1], S1[block * n_f1 : (block + 1) * n_f1][: len(fine)], atol=1e-10
        )


def test_max_frequency_keeps_the_band():
    x = _echo(complex_=True)[None, :]
    spectrum = _spectrum(max_frequency=2.5, zero_fill=2).fit(x)
    f = spectrum.frequencies_
    assert np.max(np.abs(f)) <= 2.5 and f.min() < -2.4 and f.max() > 2.4
    full = _spectrum(zero_fill=2).fit(x)
    kept = np.abs(full.frequencies_) <= 2.5
    np.testing.assert_allclose(spectrum.transform(x), full.transform(x)[:, kept])


# -- feature names, dtypes, pandas -------------------------------------------------
def test_feature_names():
    x = np.random.default_rng(0).standard_normal((3, 11))
    # 5 samples 0.5 us apart, n_fft 10: bins of 0.2 MHz = 200 kHz.
    spectrum = EchoSpectrum(
        center=2.5, half_width=1.0, dt=0.5, parts=("magnitude", "imag")
    ).fit(x)
    np.testing.assert_allclose(spectrum.times_, [1.5, 2.0, 2.5, 3.0, 3.5])
    names = spectrum.get_feature_names_out()
    khz = ["0.000", "200.000", "400.000", "600.000", "800.000", "1000.000"]
    assert names.tolist() == [f"absS_f={v}kHz" for v in khz] + [
        f"imS_f={v}kHz" for v in khz
    ]
    assert spectrum.transform(x).shape == (3, 12)

    complex_ = EchoSpectrum(center=2.5, half_width=1.0, dt=0.5, parts="real")
    names = complex_.fit(x + 1j * x).get_feature_names_out()
    assert names[0] == "reS_f=-1000.000kHz" and names[5] == "reS_f=0.000kHz"
    assert names[-1] == "reS_f=800.000kHz" and len(names) == 10


def test_float32_stays_float32():
    x = _echo()[None, :]
    spectrum = _spectrum()
    out32 = spectrum.fit_transform(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, spectrum.fit_transform(x), rtol=1e-4, atol=1e-5)
    z = _echo(complex_=True)[None, :].astype(np.complex64)
    assert spectrum.fit_transform(z).dtype == np.float32


def test_pandas_output_and_input():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 30))
    columns = time_names(np.arange(30) * 0.5, prefix="absM")
    frame = pd.DataFrame(X, columns=columns, index=np.arange(4) + 10)
    spectrum = EchoSpectrum(center=7.0, half_width=3.0, dt=0.5)
    out = spectrum.set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(spectrum.get_feature_names_out())
    assert list(out.index) == list(frame.index)
    np.testing.assert_array_equal(spectrum.feature_names_in_, columns)
    plain = EchoSpectrum(center=7.0, half_width=3.0, dt=0.5).fit_transform(X)
    np.testing.assert_allclose(out.to_numpy(), plain)

    # Complex columns of a DataFrame are complex echoes.
    complex_frame = pd.DataFrame(X + 1j * X[::-1], columns=columns)
    spectrum = EchoSpectrum(center=7.0, half_width=3.0, dt=0.5).fit(complex_frame)
    assert spectrum.input_is_complex_
    np.testing.assert_array_equal(spectrum.feature_names_in_, columns)
    assert spectrum.frequencies_.min() < 0


# -- the window: from names, from times, as EchoWindow --------------------------------
def test_window_from_time_stamped_names():
    # Columns start at t = 10 us: the names say so, and the window follows.
    dt = 0.25
    times = 10.0 + np.arange(80) * dt
    X = _echo(t=times, f0=0.5, T=1.0, top=20.0)[None, :]
    frame = pd.DataFrame(X, columns=time_names(times, prefix="absM", dt=dt))
    spectrum = EchoSpectrum(center=20.0, half_width=5.0, dt=dt).fit(frame)
    assert spectrum.times_[0] == pytest.approx(15.0)
    assert spectrum.times_[-1] == pytest.approx(25.0)
    # The same as an array with explicit times.
    explicit = EchoSpectrum(center=20.0, half_width=5.0, times=times).fit(X)
    assert explicit.window_ == spectrum.window_
    np.testing.assert_allclose(explicit.transform(X), spectrum.transform(frame))


def test_same_samples_as_echo_window():
    X = np.zeros((2, EchoSimulator().n_times))
    window = EchoWindow().fit(X)
    spectrum = EchoSpectrum().fit(X)
    assert spectrum.window_ == window.window_ == slice(1047, 1466)
    np.testing.assert_array_equal(spectrum.times_, window.times_)
    assert spectrum.frequencies_[-1] == pytest.approx(np.pi, rel=1e-2)


def test_after_a_window_with_pandas_output():
    # EchoWindow's pandas output names its columns with their times, so the
    # spectrum of the window finds the same samples as on the whole echo.
    dt = 0.1
    X = np.vstack([_echo(t=np.arange(600) * dt, top=30.0, T=1.5), np.zeros(600)])
    window = EchoWindow(center=30.0, half_width=20.0, dt=dt).set_output(
        transform="pandas"
    )
    spectrum = EchoSpectrum(center=30.0, half_width=10.0, dt=dt)
    pipe = make_pipeline(window, spectrum)
    direct = EchoSpectrum(center=30.0, half_width=10.0, dt=dt).fit(X)
    np.testing.assert_allclose(pipe.fit_transform(X), direct.transform(X), atol=1e-12)


def test_uneven_explicit_times():
    times = np.array([0.0, 1.0, 2.0, 3.5, 4.0, 5.0])
    with pytest.raises(ValueError, match="evenly spaced"):
        EchoSpectrum(center=2.5, half_width=2.5, times=times).fit(np.zeros((1, 6)))


# -- bad input ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(center=30.0, half_width=5.0, dt=1.0), "must lie inside the series"),
        (dict(center=5.0, half_width=0.4, dt=1.0), "at least 2 samples"),
        (dict(center=4.5, half_width=0.5, dt=1.0), "zero on all 2 samples"),
        (dict(center=5.0, half_width=2.0, dt=1.0, parts=("phase",)), "parts"),
        (dict(center=5.0, half_width=2.0, dt=1.0, parts=()), "parts"),
        (dict(center=5.0, half_width=2.0, dt=1.0, parts=["real", "real"]), "parts"),
        (dict(center=5.0, half_width=2.0, dt=1.0, parts="phase"), "parts"),
        (dict(center=5.0, half_width=2.0, dt=1.0, apodization="blackman"), "apod"),
        (dict(center=5.0, half_width=2.0, dt=1.0, apodization=("hann", 1)), "apod"),
        (
            dict(center=5.0, half_width=2.0, dt=1.0, apodization=("exponential", 0)),
            "decay",
        ),
        (dict(center=5.0, half_width=2.0, dt=1.0, zero_fill=0), "zero_fill"),
        (dict(center=5.0, half_width=2.0, dt=1.0, zero_fill=1.5), "zero_fill"),
        (dict(center=5.0, half_width=2.0, dt=1.0, max_frequency=0.0), "max_frequ"),
        (dict(center=5.0, half_width=2.0, dt=1.0, times=np.arange(10)), "not both"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        EchoSpectrum(**params).fit(np.zeros((2, 10)))


def test_bad_data():
    spectrum = EchoSpectrum(center=5.0, half_width=2.0, dt=1.0)
    X = np.ones((2, 10))
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        spectrum.fit(X)
    Z = np.ones((2, 10), dtype=complex)
    Z[1, 8] = complex(0, np.inf)
    with pytest.raises(ValueError, match="infinity"):
        spectrum.fit(Z)
    spectrum.fit(np.ones((2, 10)))
    with pytest.raises(ValueError, match="fitted on real echoes"):
        spectrum.transform(np.ones((2, 10), dtype=complex))
    with pytest.raises(ValueError, match="features"):
        spectrum.transform(np.ones((2, 9)))
    # Fitted on complex echoes, real ones are complex with zero imaginary part.
    spectrum.fit(np.ones((2, 10), dtype=complex))
    np.testing.assert_allclose(
        spectrum.transform(np.ones((2, 10))),
        spectrum.transform(np.ones((2, 10), dtype=complex)),
    )


# -- pipelines, clone, pickle ---------------------------------------------------------
def test_pipeline_clone_and_pickle():
    rng = np.random.default_rng(0)
    n = 40
    y = np.arange(n) % 2
    f0 = np.where(y == 1, 1.0, 2.0)
    X = np.vstack([_echo(f0=f) for f in f0]) + 0.05 * rng.standard_normal(
        (n, TIMES.size)
    )
    spectrum = _spectrum(zero_fill=1, max_frequency=3.0)
    pipe = make_pipeline(spectrum, LogisticRegression(max_iter=1000)).fit(X, y)
    assert pipe.score(X, y) == 1.0

    fitted = pipe[0]
    unfitted = clone(fitted)
    assert unfitted.get_params() == fitted.get_params()
    assert not hasattr(unfitted, "frequencies_")
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(
        restored.get_feature_names_out(), fitted.get_feature_names_out()
    )
