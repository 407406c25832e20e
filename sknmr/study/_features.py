"""The paper's features: scaled echoes, their area of interest, its polynomials."""

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from ..polynomial import PolynomialSectionFeaturizer
from ..scaling import curve_scaler
from ..window import EchoWindow

__all__ = ["prepare_features"]


def _grid(dataset):
    """``(tau, dt)`` of a dataset's time grid, from its settings if it has them."""
    experiment = getattr(dataset, "experiment", None)
    if experiment is not None:
        return experiment.tau, experiment.dt
    times = np.asarray(dataset.times, dtype=float)
    dt = float(times[1] - times[0])
    return (len(times) // 3) * dt, dt


def _check_dataset(dataset, name="dataset"):
    """Fail early on a dataset that lacks what the study reads from it."""
    missing = [key for key in ("data", "target", "times") if key not in dataset]
    if missing:
        raise ValueError(
            f"{name} must be a dataset from sknmr.datasets.make_echoes or "
            f"load_echoes (with data, target and times); it lacks {missing}."
        )
    columns = [c for c in ("power", "W") if c not in dataset["target"]]
    if columns:
        raise ValueError(
            f"{name}'s target must have the columns 'power' and 'W'; it lacks "
            f"{columns}."
        )
    return dataset


def _check_section_counts(sections, name="sections"):
    """``sections`` as a tuple of positive ints (polynomial sections per window)."""
    if isinstance(sections, (str, bytes)) or not hasattr(sections, "__iter__"):
        raise TypeError(
            f"{name} must be a non-empty sequence of positive ints; got {sections!r}."
        )
    sections = tuple(sections)
    if not sections or not all(
        isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in sections
    ):
        raise ValueError(
            f"{name} must be a non-empty sequence of positive ints; got {sections!r}."
        )
    return tuple(int(n) for n in sections)


def _check_sections(n_window, sections):
    sections = _check_section_counts(sections)
    if n_window // max(sections) < 4:
        raise ValueError(
            f"The area of interest holds {n_window} samples, too few for cubic fits "
            f"in sections={sections} (each section needs 4 samples); use fewer "
            "sections or a longer tau."
        )
    return sections


@validate_params(
    {"dataset": [dict], "sections": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def prepare_features(dataset, *, sections=(4, 5, 10)):
    """Scaled echoes, their window and its polynomial features.

    As in the paper: every echo is min-max scaled to [0, 1] over its full
    series (:func:`~sknmr.curve_scaler`, so the window keeps the echo's
    height relative to M(0)); the "pointwise" features are the scaled
    samples of the area of interest ``2 tau +- tau/3``
    (:class:`~sknmr.EchoWindow`); the "polynomial" ones the section
    coefficients of that window (:class:`~sknmr.PolynomialSectionFeaturizer`,
    76 with the default sections on the paper's grid).

    Parameters
    ----------
    dataset : Bunch
        From :func:`sknmr.datasets.make_echoes` or ``load_echoes``.
    sections : tuple of int, default=(4, 5, 10)
        For :class:`~sknmr.PolynomialSectionFeaturizer`.

    Returns
    -------
    features : Bunch
        ``full`` (every echo scaled to [0, 1] over its series), ``window``
        (the scaled samples of ``2 tau +- tau/3``), ``poly`` (the window's
        section coefficients), ``times``, ``window_times``, the fitted
        ``window_estimator`` and ``featurizer``, ``targets`` (DataFrame),
        ``y`` (1 power, 0 not) and ``w``.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.datasets import make_echoes
    >>> from sknmr.study import prepare_features
    >>> data = make_echoes(2, simulator=EchoSimulator(lattice_size=8, tau=8.0),
    ...                    random_state=0)
    >>> features = prepare_features(data, sections=(2, 4))
    >>> features.full.shape, features.window.shape, features.poly.shape
    ((6, 150), (6, 33), (6, 24))
    >>> float(features.full.min()), float(features.full.max())
    (0.0, 1.0)
    """
    dataset = _check_dataset(dataset)
    sections = _check_section_counts(sections)
    X = np.asarray(dataset.data, dtype=float)
    times = np.asarray(dataset.times, dtype=float)
    tau, dt = _grid(dataset)
    n_tau = int(round(tau / dt))
    full = curve_scaler().fit_transform(X)  # the paper's per-curve scaling
    window = EchoWindow(center=float(times[2 * n_tau]), half_width=tau / 3, times=times)
    X_window = window.fit_transform(full)
    sections = _check_sections(X_window.shape[1], sections)
    featurizer = PolynomialSectionFeaturizer(sections=sections, times=window.times_)
    poly = featurizer.fit_transform(X_window)
    targets = dataset.target.reset_index(drop=True)
    return Bunch(
        full=full,
        window=X_window,
        poly=poly,
        times=times,
        window_times=window.times_,
        window_estimator=window,
        featurizer=featurizer,
        targets=targets,
        y=targets["power"].to_numpy().astype(int),
        w=targets["W"].to_numpy(dtype=float),
    )
