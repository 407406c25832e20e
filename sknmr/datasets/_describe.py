"""The Bunch of make_echoes and load_echoes, and its DESCR: the dataset in words."""

import textwrap

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..experiment import experiment_of
from ..kernels import KERNELS, LENGTH_NAMES, kernel_parameters, registered_kernels
from ..prior import ECHO_ID_STRIDE, kernel_code
from ..utils._random import PriorStream
from ._simulate import SAMPLE_COLUMNS

#: Separates a sequence's name from the column name in multi-sequence data.
BLOCK_SEPARATOR = "__"

# The prior's per-echo streams, as DESCR writes their spawn keys.
_COUPLINGS = int(PriorStream.COUPLINGS)
_RELAXATION = int(PriorStream.RELAXATION)
_KERNEL_PARAMS = int(PriorStream.KERNEL_PARAMS)
_LINEWIDTH = int(PriorStream.LINEWIDTH)


def _length_name(kernel):
    if kernel in LENGTH_NAMES:
        return LENGTH_NAMES[kernel]
    record = registered_kernels().get(kernel)
    return "length" if record is None else record.length_name


def _describe_extras(prior, kernels, seed):
    """The DESCR paragraph on relaxation times, linewidth, kernel parameters."""
    parts = [
        f"{name} uniform in {prior[name]} us" for name in ("t1", "t2") if name in prior
    ]
    if "t1" in prior and "t2" in prior:
        parts[-1] += " (pairs with t2 > 2 t1 redrawn)"
    if "linewidth" in prior:
        parts.append(
            f"linewidth (FWHM of the offsets) log-uniform in {prior['linewidth']} "
            f"MHz, from SeedSequence({seed}, spawn_key=({_LINEWIDTH}, k, j))"
        )
    for name, value in prior.get("kernel_params", {}).items():
        takers = [k for k in kernels if name in kernel_parameters(k)]
        law = (
            f"staggered = 1 with probability {value:g} (else 0)"
            if name == "staggered"
            else f"{name} uniform in {value}"
        )
        parts.append(f"{law} ({', '.join(takers)})")
    if not parts:
        return None
    return (
        f"Drawn per echo as well: {'; '.join(parts)}. The relaxation times come "
        f"from SeedSequence({seed}, spawn_key=({_RELAXATION}, k, j)) and each kernel "
        f"parameter from SeedSequence({seed}, spawn_key=({_KERNEL_PARAMS}, k, j, "
        "crc32(name))), so they leave the couplings and lengths as drawn without "
        "them."
    )


def _describe_sequences(settings):
    """DESCR's paragraph on the experiments of a multi-sequence dataset."""
    if "sequences" not in settings:
        return []
    parts = []
    for name, block in settings["sequences"].items():
        experiment = experiment_of(block["simulation"])
        pulses = ", ".join(
            f"{pulse.angle:g} deg {pulse.phase!r} at {pulse.time:g} us"
            for pulse in experiment.sequence
        )
        parts.append(
            f"{name} (pulses {pulses}, {experiment.sequence.duration:g} us; output "
            f"{experiment.output!r}, {block['n_times']} samples)"
        )
    return [
        "Each material (the same parameters and offsets) was measured by "
        f"{len(parts)} experiments, side by side in data as '<name>"
        f"{BLOCK_SEPARATOR}<column>': " + "; ".join(parts) + "."
    ]


def _describe(settings, n_times, times):
    """DESCR: how the data were made, in words (from ``settings``)."""
    counts = settings["counts"]
    prior = settings["prior"]
    key = settings["simulation"]
    seed = settings["seed"]
    kernels = settings["kernels"]
    experiment = experiment_of(key)
    lengths = ", ".join(
        f"{_length_name(k)} in {prior['lengths'][k]} ({k})" for k in kernels
    )
    count_text = ", ".join(f"{k}: {n}" for k, n in counts.items())
    anisotropic = "alpha_x" in prior
    if anisotropic:
        couplings = (
            f"alpha_x uniform in {prior['alpha_x']} MHz, alpha_y uniform in "
            f"{prior['alpha_y']} MHz"
        )
        w_formula = "alpha_x + alpha_y + alpha_z"
    else:
        couplings = f"alpha_xy uniform in {prior['alpha_xy']} MHz"
        w_formula = "2 alpha_xy + alpha_z"
    codes = "0 gaussian, 1 power, 2 rkky"
    others = [k for k in kernels if k not in KERNELS]
    if others:
        codes += "".join(f", {kernel_code(k)} {k}" for k in others)
    extras = _describe_extras(prior, kernels, seed)
    paragraphs = [
        f"{sum(counts.values())} echoes ({count_text}), each {n_times} samples at "
        f"t = {times[0]:g} .. {times[-1]:g} us (output {experiment.output!r}).",
        f"Prior: {couplings}, alpha_z "
        f"uniform in {prior['alpha_z']} MHz, {lengths}; a draw is redrawn until "
        f"W = {w_formula} lies in {prior['W']} MHz.",
        *([extras] if extras else []),
        f"Seed: {seed}. Echo j of kernel code k ({codes}) has its parameters from "
        f"SeedSequence({seed}, spawn_key=({_COUPLINGS}, k, j)) and its offsets from "
        f"the simulator with random_state={seed} and echo id "
        f"k * {ECHO_ID_STRIDE} + j (echo_ids), so it depends on neither n_jobs nor "
        "chunk_size.",
        f"Experiment: {experiment!r}; simulated by the {key.get('backend', '?')} "
        f"backend in {key.get('dtype', '?')}.",
        *_describe_sequences(settings),
        f"Made with sknmr {settings.get('sknmr_version', '?')} (model revision "
        f"{key['model_revision']}) in chunks of {settings['chunk_size']} echoes.",
    ]
    if not anisotropic and not extras and not others:
        paragraphs.append(
            "Targets: kernel, its length parameter (xi, p or gamma), alpha_xy, "
            "alpha_z, W = 2 alpha_xy + alpha_z (MHz), the length scale L and power "
            "(1 for the power-law kernel, 0 otherwise)."
        )
    else:
        drawn = ", ".join(
            [
                "length",
                *(["alpha_x", "alpha_y"] if anisotropic else ["alpha_xy"]),
                "alpha_z",
                *(name for name in SAMPLE_COLUMNS if name in prior),
                *prior.get("kernel_params", {}),
            ]
        )
        paragraphs.append(
            f"Targets: kernel, the drawn {drawn}, W = {w_formula} (MHz), the length "
            "scale L and power (1 for power-law kernels, 0 otherwise); NaN where a "
            "row's kernel does not take a parameter."
        )
    title = "Simulated NMR spin echoes (sknmr.datasets.make_echoes)"
    body = "\n\n".join(textwrap.fill(p, width=79) for p in paragraphs)
    return f"{title}\n{'-' * len(title)}\n\n{body}\n"


def _assemble(
    data, target, times, feature_names, echo_ids, settings, descr, as_frame, return_X_y
):
    """The Bunch (or ``(X, y)``) of make_echoes and load_echoes."""
    feature_names = np.asarray(feature_names, dtype=object)
    frame = None
    if as_frame:
        data = pd.DataFrame(data, columns=feature_names)
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    extra = {"experiment": experiment_of(settings["simulation"])}
    if "sequences" in settings:
        extra["blocks"] = _blocks(settings)
        extra["experiments"] = {
            name: experiment_of(block["simulation"])
            for name, block in settings["sequences"].items()
        }
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        times=times,
        feature_names=feature_names,
        target_names=list(target.columns),
        echo_ids=echo_ids,
        settings=settings,
        DESCR=descr,
        **extra,
    )


def _blocks(settings):
    """``{name: slice of data's columns}`` of a multi-sequence dataset."""
    blocks, start = {}, 0
    for name, block in settings["sequences"].items():
        blocks[name] = slice(start, start + block["n_times"])
        start += block["n_times"]
    return blocks
