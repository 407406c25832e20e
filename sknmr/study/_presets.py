"""The settings of :func:`~sknmr.study.reproduce`: its two presets and their checks."""

import copy
from numbers import Integral, Real

from .._paper import PAPER_N_PER_KERNEL

__all__ = ["PRESETS"]

#: The offsets' linewidth (MHz) the paper's text states ("a full width at half
#: maximum linewidth of 8 kHz"); sknmr's simulator defaults to 0.08 (see
#: :func:`_default_linewidth`). The study's one copy of it: the report's notes
#: and the linewidth ablation read it from here.
_PAPER_LINEWIDTH = 0.008


def _default_linewidth():
    """The simulator's default offset linewidth (MHz), read off EchoSimulator."""
    from ..simulator import EchoSimulator

    return float(EchoSimulator().get_params()["linewidth"])


def _default_ablation_lattices(lattice_size):
    """The lattice ablation's sizes when none are given: half the lattice, and it.

    Half the side is a quarter of the spins, so the extra simulation costs
    about a quarter of the main one, and the pair shows which way L and the
    power-law classification move with the lattice.

    Examples
    --------
    >>> _default_ablation_lattices(32), _default_ablation_lattices(3)
    ((16, 32), (2, 3))
    """
    return tuple(sorted({max(2, lattice_size // 2), lattice_size}))


#: The settings of the two presets of :func:`~sknmr.study.reproduce`.
#:
#: ``"quick"`` runs in minutes on 2 CPU cores: 500 echoes per kernel (1500 in
#: all) on a 32 x 32 lattice with the paper's time grid (tau = 100 us, 1884
#: samples, so the window and polynomial features are the paper's). Measured
#: on a 2-core machine shared with other work: about 0.08 s per echo at
#: 32 x 32 against 0.19 s at 48 x 48 and 0.5 s at 100 x 100, so 1500 echoes
#: take about a minute with ``n_jobs=2``; the analyses a few minutes more.
#: 1500 echoes is the smallest set whose train/test split still leaves ~125
#: power echoes per W bin for screening. The lattice is the price: 32 x 32
#: cuts the power-law tails (L is bounded by the lattice), so the quick
#: numbers are a smoke-level reproduction; ``"full"`` is the paper's.
#: The VAEs train on one CPU thread in ``"quick"``: their layers are too
#: small to gain from a second one, and on cores shared with other work
#: torch's spinning threads were measured 20 to 100 times slower per epoch
#: (0.28 s per epoch of the full-series VAE on one thread, 7.6 s on two).
#: The regression forests consider ``sqrt(n_features)`` features per split
#: in ``"quick"`` (ten times faster on 419 features); ``"full"`` uses all
#: features, scikit-learn's default the paper would have used.
#:
#: ``"full"``: the paper's 5000 echoes per kernel on 100 x 100 with its VAE
#: training (200 epochs at most, early stopping after 7). Minutes on a GPU
#: (``backend="auto"`` picks ``cuda``), an hour or more of CPU.
#:
#: Keys: ``n_per_kernel``, ``lattice_size``, ``tau`` (us), ``dt`` (us, None:
#: the simulator's 1/(2 pi)), ``backend``, ``chunk_size``, ``sections``
#: (polynomial featurizer), ``cv`` (folds of Table I), ``test_size``
#: (held-out fraction for confusion, screening and regression),
#: ``n_estimators`` (every random forest), ``regression_max_features``
#: (features per split of the regression forests, W screening's included:
#: ``"sqrt"`` in both presets; on the quick dataset every feature, 1.0, took
#: 14 times as long for no better R^2: W 0.706 vs 0.714, L 0.716 vs 0.736),
#: ``vae`` and ``vae_window`` (:class:`~sknmr.BetaVAE` parameters for the full
#: series and the window), ``device`` (``"auto"``: CUDA when torch sees it),
#: ``torch_threads`` (CPU threads of the VAE training, None: torch's default),
#: ``max_clusters`` (K-means K = 1 .. max_clusters) and ``max_curves``
#: (curves drawn per echo figure).
PRESETS = {
    "quick": {
        "n_per_kernel": 500,
        "lattice_size": 32,
        "tau": 100.0,
        "dt": None,
        "backend": "auto",
        "chunk_size": None,
        "sections": (4, 5, 10),
        "cv": 5,
        "test_size": 0.25,
        "n_estimators": 100,
        "regression_max_features": "sqrt",
        "vae": {
            "hidden_sizes": (512, 128, 16),
            "max_epochs": 80,
            "batch_size": 128,
            "patience": 7,
        },
        "vae_window": {
            "hidden_sizes": (128, 32, 16),
            "max_epochs": 80,
            "batch_size": 128,
            "patience": 7,
        },
        "device": "auto",
        "torch_threads": 1,
        "max_clusters": 8,
        "max_curves": 1500,
    },
    "full": {
        "n_per_kernel": PAPER_N_PER_KERNEL,
        "lattice_size": 100,
        "tau": 100.0,
        "dt": None,
        "backend": "auto",
        "chunk_size": None,
        "sections": (4, 5, 10),
        "cv": 5,
        "test_size": 0.25,
        "n_estimators": 100,
        "regression_max_features": "sqrt",
        "vae": {
            "hidden_sizes": (512, 128, 16),
            "max_epochs": 200,
            "batch_size": 128,
            "patience": 7,
        },
        "vae_window": {
            "hidden_sizes": (128, 32, 16),
            "max_epochs": 200,
            "batch_size": 128,
            "patience": 7,
        },
        "device": "auto",
        "torch_threads": None,
        "max_clusters": 8,
        "max_curves": 2000,
    },
}

# Settings that must be ints of at least this value (None allowed where noted).
_AT_LEAST = {
    "n_per_kernel": (1, False),
    "chunk_size": (1, True),
    "cv": (2, False),
    "n_estimators": (1, False),
    "torch_threads": (1, True),
    "max_clusters": (1, False),
    "max_curves": (1, False),
}


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_settings(settings):
    """Check the values of resolved settings that the simulator does not check.

    The simulator settings (``lattice_size``, ``tau``, ``dt``, ``backend``)
    are checked by :class:`~sknmr.EchoSimulator`, the VAE parameters by
    :class:`~sknmr.BetaVAE`.
    """
    for key, (low, optional) in _AT_LEAST.items():
        value = settings[key]
        if optional and value is None:
            continue
        if not _is_int(value) or value < low:
            none = " or None" if optional else ""
            raise ValueError(
                f"The preset setting {key!r} must be an int >= {low}{none}; "
                f"got {value!r}."
            )
    test_size = settings["test_size"]
    if (
        not isinstance(test_size, Real)
        or isinstance(test_size, bool)
        or not 0 < test_size < 1
    ):
        raise ValueError(
            "The preset setting 'test_size' must be a fraction in (0, 1); got "
            f"{test_size!r}."
        )
    sections = settings["sections"]
    if (
        isinstance(sections, (str, bytes))
        or not hasattr(sections, "__iter__")
        or not sections
        or not all(_is_int(n) and n >= 1 for n in sections)
    ):
        raise ValueError(
            "The preset setting 'sections' must be a non-empty sequence of "
            f"positive ints; got {sections!r}."
        )
    for key in ("vae", "vae_window"):
        if not isinstance(settings[key], dict):
            raise ValueError(
                f"The preset setting {key!r} must be a dict of BetaVAE parameters; "
                f"got {settings[key]!r}."
            )


def _resolve_preset(preset):
    """``(name, settings)`` from a preset name or a dict over ``"quick"``.

    Examples
    --------
    >>> name, settings = _resolve_preset({"n_per_kernel": 7})
    >>> name, settings["n_per_kernel"], settings["lattice_size"]
    ('custom', 7, 32)
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(
                f"preset must be one of {sorted(PRESETS)} or a dict of settings; "
                f"got {preset!r}."
            )
        return preset, copy.deepcopy(PRESETS[preset])
    if isinstance(preset, dict):
        unknown = sorted(set(preset) - set(PRESETS["quick"]))
        if unknown:
            raise ValueError(
                f"Unknown preset settings {unknown}; the settings are "
                f"{sorted(PRESETS['quick'])}."
            )
        settings = copy.deepcopy(PRESETS["quick"])
        for key, value in preset.items():
            if key in ("vae", "vae_window") and isinstance(value, dict):
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
        _check_settings(settings)
        return "custom", settings
    raise TypeError(
        f"preset must be a str ({sorted(PRESETS)}) or a dict; got "
        f"{type(preset).__name__}."
    )
