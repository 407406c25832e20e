"""Find every public estimator defined in sknmr.

:func:`all_estimators` is what lets ``tests/test_common.py`` run
scikit-learn's checks on each estimator without a hand-kept list: a new
estimator class in any public module of sknmr is found and checked.
"""

import importlib
import inspect
import pkgutil

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

__all__ = ["all_estimators"]

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def _public_modules(package):
    """Names of the public modules of ``package``, itself included."""
    yield package.__name__
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") or part in ("tests", "conftest") for part in parts):
            continue
        yield info.name


def all_estimators(type_filter=None):
    """Public scikit-learn estimators defined in sknmr.

    Walks every module of the package except private ones (a name part
    starting with ``_``) and tests, and keeps the classes that subclass
    :class:`sklearn.base.BaseEstimator`, are defined in that module (not
    imported into it), are not abstract and have a public name. A module that
    fails to import raises: a broken module must not hide its estimators.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster"}, \
            list of those, or None, default=None
        Keep only estimators of these kinds (by their scikit-learn mixin).

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from sknmr.utils import all_estimators
    >>> dict(all_estimators())["EchoSimulator"]
    <class 'sknmr.simulator.EchoSimulator'>
    """
    import sknmr

    if type_filter is None:
        mixins = None
    else:
        kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = [k for k in kinds if k not in _TYPE_MIXINS]
        if unknown:
            raise ValueError(
                f"type_filter must be None or among {sorted(_TYPE_MIXINS)}; "
                f"got {unknown}."
            )
        mixins = tuple(_TYPE_MIXINS[k] for k in kinds)

    found = {}
    for module_name in _public_modules(sknmr):
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            # sknmr's own classes, wherever defined (often a private module),
            # as the public modules export them; duplicates collapse by name.
            if (
                cls.__module__.startswith("sknmr.")
                and not name.startswith("_")
                and issubclass(cls, BaseEstimator)
                and not inspect.isabstract(cls)
                and (mixins is None or issubclass(cls, mixins))
            ):
                found[name] = cls
    return sorted(found.items())
