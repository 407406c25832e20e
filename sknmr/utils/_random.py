"""The one seed helper: every ``random_state`` of sknmr goes through here.

Accepted everywhere: None (numpy's global random state, as scikit-learn), an
int in ``[0, 2**32)``, a :class:`numpy.random.RandomState` or a
:class:`numpy.random.Generator`. Seeds drawn from a generator lie in
``[0, 2**31 - 1)``, a range every consumer (numpy, scikit-learn, torch) takes.
"""

from numbers import Integral

import numpy as np

__all__ = ["MAX_SEED", "as_generator", "check_seed", "derive_seed"]

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
