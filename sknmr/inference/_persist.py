"""Saving and loading fitted EchoInference models without running their code.

A pickle (``joblib.dump``) runs whatever code its writer chose when it is
loaded, so a model file from elsewhere is a program. :func:`save_model`
writes the ``skops.io`` format instead, which :func:`load_model` reads
building only the types listed in :data:`TRUSTED_TYPES` (the parts of a
default model); a model made of other types, or a joblib/pickle file, is
loaded only with ``trusted=True``. The file records the sknmr version and
the model revision it was made with; a mismatch is warned about on loading.
"""

import copy
import os
import warnings
import zipfile

import joblib
import pandas as pd

from .. import __version__
from .._physics import MODEL_REVISION
from ..utils._files import atomic_write, check_writable
from ._estimator import EchoInference

__all__ = ["TRUSTED_TYPES", "load_model", "save_model"]

#: The format name written in every model file.
MODEL_FORMAT = "sknmr.EchoInference/1"

#: The types :func:`load_model` builds from a ``.skops`` model file without
#: ``trusted=True`` (besides those skops trusts itself: NumPy, builtins and
#: scikit-learn's estimators): the parts of an EchoInference with its default
#: featurizer, regressor, classifier and OOD detector.
TRUSTED_TYPES = (
    "mapie.regression.quantile_regression.ConformalizedQuantileRegressor",
    "mapie.regression.quantile_regression._MapieQuantileRegressor",
    "mapie.regression.regression.SplitConformalRegressor",
    "mapie.regression.regression._MapieRegressor",
    "quantile_forest._quantile_forest.ExtraTreesQuantileRegressor",
    "quantile_forest._quantile_forest.RandomForestQuantileRegressor",
    "quantile_forest._quantile_forest_fast.QuantileForest",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
    "sknmr.experiment.Experiment",
    "sknmr.inference._estimator.EchoInference",
    "sknmr.inference._features.FreeDecayFeatures",
    "sknmr.inference._ood.KNNDistance",
    "sknmr.lattices.Lattice",
    "sknmr.polynomial.PolynomialSectionFeaturizer",
    "sknmr.scaling._minmax_scale_curves",
    "sknmr.sequences.Pulse",
    "sknmr.sequences.PulseSequence",
    "sknmr.simulator.EchoSimulator",
    "sknmr.window.EchoWindow",
)


def _check_model(model, what):
    if not isinstance(model, EchoInference) or not hasattr(model, "targets_"):
        raise ValueError(
            f"{what} holds a {type(model).__name__}, not a fitted EchoInference "
            "(train one with sknmr infer --train, or EchoInference().fit)."
        )


def save_model(model, path):
    """Save a fitted EchoInference to a ``.skops`` file, atomically.

    Parameters
    ----------
    model : EchoInference
        Fitted.
    path : str or path-like
        The file to write; its folder must exist. It is written under a
        temporary name and renamed, so a failed write (a full disk) leaves
        no partial model behind.

    Examples
    --------
    >>> import tempfile, os
    >>> from quantile_forest import ExtraTreesQuantileRegressor
    >>> from sknmr import EchoSimulator
    >>> from sknmr.inference import load_model, save_model, train_model
    >>> model = train_model(EchoSimulator(lattice_size=4, tau=3.0), n_per_kernel=20,
    ...                     regressor=ExtraTreesQuantileRegressor(n_estimators=5),
    ...                     confidence=0.8, ood_false_alarm=0.2)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> save_model(model, path)
    >>> load_model(path).targets_ == model.targets_
    True
    """
    import skops.io as sio

    _check_model(model, "model")
    check_writable(path, "the model")
    # skops stores no pandas objects: the one Series goes as plain values
    stored = copy.copy(model)
    coverage = getattr(model, "calibration_coverage_", None)
    payload = {
        "format": MODEL_FORMAT,
        "sknmr_version": __version__,
        "model_revision": MODEL_REVISION,
        "model": stored,
    }
    if isinstance(coverage, pd.Series):
        stored.calibration_coverage_ = None
        payload["calibration_coverage"] = {
            "index": [str(i) for i in coverage.index],
            "values": coverage.to_numpy(),
            "name": coverage.name,
        }
    data = sio.dumps(payload)
    atomic_write(path, lambda f: f.write(data))


def _check_versions(payload, path):
    version = payload.get("sknmr_version")
    revision = payload.get("model_revision")
    if revision != MODEL_REVISION or version != __version__:
        warnings.warn(
            f"The model {path!r} was made with sknmr {version} (model revision "
            f"{revision}); this is sknmr {__version__} (model revision "
            f"{MODEL_REVISION}). Its echoes may differ from those simulated now: "
            "train it again if in doubt.",
            UserWarning,
            stacklevel=3,
        )


def _load_skops(path, trusted):
    import skops.io as sio

    unknown = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if unknown and not trusted:
        raise ValueError(
            f"{path!r} holds types sknmr does not trust by default: {unknown}. "
            "Load it with trusted=True (--trust-model) only if you trust "
            "whoever wrote it."
        )
    return sio.load(path, trusted=[*TRUSTED_TYPES, *unknown])


def load_model(path, *, trusted=False):
    """A fitted EchoInference from a file of :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
    trusted : bool, default=False
        Also load a joblib/pickle file (``joblib.dump``), or a ``.skops`` file
        with types beyond :data:`TRUSTED_TYPES`. Loading a pickle runs code
        its writer chose: pass True only for files you trust.

    Returns
    -------
    model : EchoInference
        A warning says so when it was made with another sknmr version or
        model revision.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file {path!r}.")
    if zipfile.is_zipfile(path):  # the skops format is a zip archive
        try:
            payload = _load_skops(path, trusted)
        except ValueError as exc:
            if "trust" in str(exc):
                raise
            raise ValueError(f"{path!r} is not a model saved by sknmr: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - skops raises many kinds
            raise ValueError(f"{path!r} is not a model saved by sknmr: {exc}") from None
    elif not trusted:
        raise ValueError(
            f"{path!r} is not a model file of save_model (.skops); if it is a "
            "joblib/pickle file, loading it runs code its writer chose: pass "
            "trusted=True (--trust-model) only if you trust whoever wrote it."
        )
    else:
        try:
            payload = joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - joblib raises many kinds
            raise ValueError(
                f"{path!r} is not a model saved with joblib.dump: {exc}"
            ) from None
    if isinstance(payload, dict) and payload.get("format") == MODEL_FORMAT:
        _check_versions(payload, path)
        model = payload.get("model")
        coverage = payload.get("calibration_coverage")
        if coverage is not None and isinstance(model, EchoInference):
            model.calibration_coverage_ = pd.Series(
                coverage["values"], index=coverage["index"], name=coverage["name"]
            )
    else:  # a bare model, as joblib.dump(model) writes it
        model = payload
        warnings.warn(
            f"The model {path!r} does not record the sknmr version it was made "
            "with; if its echoes were simulated by another version they may "
            "differ from those simulated now. save_model records it.",
            UserWarning,
            stacklevel=2,
        )
    _check_model(model, repr(path))
    return model
