"""The one seed helper: every ``random_state`` of sknmr goes through here.

Accepted everywhere: None (numpy's global random state, as scikit-learn), an
int in ``[0, 2**32)``, a :class:`numpy.random.RandomState` or a
:class:`numpy.random.Generator`. Seeds drawn from a generator lie in
``[0, 2**31 - 1)``, a range every consumer (numpy, scikit-learn, torch) takes.
"""

from enum import IntEnum
from numbers import Integral

import numpy as np

__all__ = [
    "MAX_SEED",
    "AblationStream",
    "InferenceStream",
    "PriorStream",
    "ProtocolStream",
    "ReproduceStream",
    "as_generator",
    "check_seed",
    "derive_seed",
]

#: Seeds given as ints must lie in ``[0, MAX_SEED]``.
MAX_SEED = 2**32 - 1
#: Seeds drawn from a generator lie in ``[0, _DRAWN)``.
_DRAWN = 2**31 - 1


def _check(random_state, name):
    """Validate ``random_state``; return it (ints as plain ``int``)."""
    if random_state is None or isinstance(
        random_state, (np.random.RandomState, np.random.Generator)
    ):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        value = int(random_state)
        if not 0 <= value <= MAX_SEED:
            raise ValueError(
                f"{name} must be an int in [0, {MAX_SEED}], a numpy RandomState or "
                f"Generator, or None; got {value}."
            )
        return value
    raise TypeError(
        f"{name} must be an int in [0, {MAX_SEED}], a numpy RandomState or "
        f"Generator, or None; got {random_state!r} of type "
        f"{type(random_state).__name__}."
    )


def check_seed(random_state, name="random_state"):
    """An int seed from ``random_state``.

    An int is returned as it is; a RandomState or Generator draws one (and so
    advances); None draws one from numpy's global random state.

    Parameters
    ----------
    random_state : int, RandomState, Generator or None
    name : str, default="random_state"
        The parameter's name, for error messages.

    Returns
    -------
    seed : int

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: random_state must be an int in [0, 4294967295], ...
    """
    state = _check(random_state, name)
    if isinstance(state, int):
        return state
    if isinstance(state, np.random.Generator):
        return int(state.integers(_DRAWN))
    if state is None:
        state = np.random.mtrand._rand
    return int(state.randint(_DRAWN))


def as_generator(random_state, name="random_state"):
    """A :class:`numpy.random.Generator` from ``random_state``.

    A Generator is returned as it is (shared, as scikit-learn shares a
    RandomState); an int seeds a new one; a RandomState or None seed a new one
    from a drawn seed.

    Examples
    --------
    >>> float(as_generator(0).random()) == float(np.random.default_rng(0).random())
    True
    """
    state = _check(random_state, name)
    if isinstance(state, np.random.Generator):
        return state
    return np.random.default_rng(check_seed(state, name))


def derive_seed(seed, *key):
    """An int seed in ``[0, 2**32)`` derived from ``seed`` and a key of ints.

    Different keys give independent seeds (``numpy.random.SeedSequence``), so
    parts of one computation (analyses, echoes, folds) each get their own
    stream from one user seed.

    Examples
    --------
    >>> derive_seed(0, 1) == derive_seed(0, 1) != derive_seed(0, 2)
    True
    """
    return int(np.random.SeedSequence([int(seed), *map(int, key)]).generate_state(1)[0])


# -- Seed streams ---------------------------------------------------------------
# Every stream sknmr derives from one seed, declared here once. The numbers are
# part of every stored result (the same seed must give the same echoes and the
# same scores), so they never change; a new stream takes a new number.


class PriorStream(IntEnum):
    """Per-echo streams of the prior: ``SeedSequence(seed, spawn_key=(s, k, j))``.

    ``k`` is the kernel's code and ``j`` the echo's index within its kernel.
    """

    #: The echo's length parameter and couplings.
    COUPLINGS = 2
    #: The echo's ``t1``/``t2``.
    RELAXATION = 3
    #: The echo's kernel parameters (the key ends with ``zlib.crc32(name)``).
    KERNEL_PARAMS = 4
    #: The echo's linewidth (the sample's inhomogeneous line).
    LINEWIDTH = 5


class ReproduceStream(IntEnum):
    """Seeds of the analyses of ``sknmr.study.reproduce``: ``derive_seed(seed, s)``."""

    TABLE_I = 1
    #: The held-out split of the random forest, screening and regression.
    TEST_SPLIT = 2
    CLASSIFICATION = 3
    REGRESSION = 4
    VAE = 5
    PCA_KMEANS = 6
    #: The oversampling and screening ablations (they share their fits).
    ABLATION_SPLITS = 7
    #: The core metrics of every dataset of the linewidth and lattice ablations.
    ABLATION_CORE = 8


class AblationStream(IntEnum):
    """Seeds each ablation derives from its own ``random_state``."""

    TEST_SPLIT = 1
    MODELS = 2
    FOLDS = 3
    OVERSAMPLER = 4


class ProtocolStream(IntEnum):
    """Seeds of ``sknmr.study.protocol_study``: ``derive_seed(seed, s)``."""

    #: The random receiver phase of each sample (phase-blind detection).
    RECEIVER_PHASE = 0
    # 1 was the folds' stream; the folds are seeded with 0 instead, and the
    # number stays unused so that the others keep theirs.
    FORESTS = 2


class InferenceStream(IntEnum):
    """Seeds of ``sknmr.inference.EchoInference.fit``: ``derive_seed(seed, s)``."""

    #: The train / calibration split.
    CALIBRATION_SPLIT = 0
    AUGMENT_TRAIN = 1
    AUGMENT_CALIBRATION = 2
    CLASSIFIER = 3
    OOD_DETECTOR = 4
    #: One per target: ``derive_seed(seed, REGRESSOR, j)``.
    REGRESSOR = 5
