"""Store small echoes of the current model as the reference of its revision.

Run ``python tests/data/model_revisions/make_reference.py`` after a change to
the physics has bumped ``sknmr._physics.MODEL_REVISION``: it writes
``r<revision>.npz`` beside this script. It refuses to replace the echoes of an
existing revision with different ones: a change of the echoes needs a new
revision, since cached datasets are keyed on it.
"""

import os
import sys

import numpy as np

from sknmr import EchoSimulator
from sknmr._physics import MODEL_REVISION

HERE = os.path.dirname(os.path.abspath(__file__))

#: Settings x parameter rows that cover the model's features: every kernel,
#: alpha_z zero and not, every refocusing axis, dephasing, another pulse angle.
SETTINGS = [
    {},
    {"refocus_axis": "x"},
    {"refocus_axis": "-y", "pulse_angle": 45.0},
    {"dephasing_rate": 0.05, "linewidth": 0.008},
]
PARAMS = {
    "kernel": ["gaussian", "power", "rkky", "gaussian"],
    "length": [3.0, 2.0, 13.0, 8.0],
    "alpha_xy": [0.05, 0.1, 0.03, 0.0],
    "alpha_z": [0.02, 0.0, 0.1, 0.0],
}
BASE = {"lattice_size": 8, "tau": 2.0, "random_state": 7, "output": "complex"}


def simulate(backend="numpy"):
    """Complex M and <I^z> of every setting, stacked: (2, settings, echoes, times)."""
    out = []
    for output in ("complex", "z"):
        rows = []
        for extra in SETTINGS:
            sim = EchoSimulator(
                **{**BASE, **extra, "output": output},
                backend=backend,
                dtype="float64",
            )
            rows.append(sim.simulate(PARAMS))
        out.append(np.stack(rows))
    return out[0], out[1].astype(np.float64)


def main():
    path = os.path.join(HERE, f"r{MODEL_REVISION}.npz")
    m, iz = simulate()
    if os.path.exists(path):
        with np.load(path) as old:
            same = np.allclose(old["M"], m, rtol=0, atol=1e-12) and np.allclose(
                old["Iz"], iz, rtol=0, atol=1e-12
            )
        if not same:
            sys.exit(
                f"{path} holds other echoes for revision {MODEL_REVISION}: bump "
                "MODEL_REVISION in sknmr/_physics.py first."
            )
        print(f"{path} is up to date")
        return
    np.savez(path, M=m, Iz=iz, revision=MODEL_REVISION)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
