"""The settings of :func:`~sknmr.study.reproduce`: its two presets and their checks."""

import copy
from numbers import Integral, Real

from .._presets import PRESETS as _REGISTRY
from ..simulator import EchoSimulator

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


#: The settings of the two presets of :func:`~sknmr.study.reproduce` (see
#: ``sknmr._presets.PRESETS``, the registry of every preset).
PRESETS = _REGISTRY["reproduce"]

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


def _preset_simulator(settings, linewidth):
    """The simulator of a preset's settings (single precision) and linewidth."""
    params = {
        "lattice_size": settings["lattice_size"],
        "tau": settings["tau"],
        "backend": settings["backend"],
        # single precision, as make_echoes' default: ~1e-7 on |M|
        "dtype": "float32",
    }
    if settings["dt"] is not None:
        params["dt"] = settings["dt"]
    if linewidth is not None:
        params["linewidth"] = linewidth
    return EchoSimulator(**params)
