"""Measured echoes: read them from files, put them on a model's time grid.

- :func:`read_echo` reads a spin echo measured on a spectrometer (a Bruker or
  Varian/Agilent experiment folder, a Tecmag ``.tnt`` file; through nmrglue,
  the ``io`` extra: ``pip install "sknmr[io]"``) or exported as text or
  NumPy, into a :class:`MeasuredEcho`: times (us), complex signal and the
  metadata the file states (dwell time, tau, dead time, ...).
  :func:`write_echo` writes the text and NumPy formats. Spinsolve folders
  and JCAMP-DX files are read too.
- :func:`read_series` reads a file of several records (echo windows,
  arrayed or 2-D experiments) into a :class:`MeasuredSeries`;
  :func:`read_decay` reads an echo decay (:class:`EchoDecay`: echo times and
  amplitudes), which :func:`sknmr.decay.fit_decay` fits.
- :class:`EchoResampler` is a scikit-learn transformer that aligns, phases,
  interpolates and normalizes measured echoes onto the time grid of
  :class:`~sknmr.EchoSimulator`, marking (NaN) the samples a measurement
  does not cover.

Examples
--------
>>> import numpy as np
>>> from sknmr.io import EchoResampler, MeasuredEcho
>>> t = np.arange(0.0, 3.0, 0.2)
>>> echo = MeasuredEcho(t, 1.0 - 0.1 * t)
>>> EchoResampler(dt=0.5, n_times=7).fit_transform(echo).round(3)
array([[1.  , 0.95, 0.9 , 0.85, 0.8 , 0.75,  nan]])
"""

from ._decay import EchoDecay, read_decay
from ._echo import METADATA_KEYS, MeasuredEcho
from ._formats import FORMATS, guess_format, read_echo, write_echo
from ._resample import EchoResampler
from ._series import MeasuredSeries, read_series

__all__ = [
    "FORMATS",
    "METADATA_KEYS",
    "EchoDecay",
    "EchoResampler",
    "MeasuredEcho",
    "MeasuredSeries",
    "guess_format",
    "read_decay",
    "read_echo",
    "read_series",
    "write_echo",
]
