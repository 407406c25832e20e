"""fit_decay against an independent scipy.optimize.curve_fit of the same data.

Fifty noisy decays per model; prints the largest relative difference of any
parameter.

    PYTHONPATH=. python benchmarks/decay_agreement.py
"""

import warnings

import numpy as np
from scipy.optimize import curve_fit

from sknmr.decay import MODELS, fit_decay
from sknmr.io import EchoDecay

warnings.simplefilter("ignore")
TRUTH = {
    "exponential": (1.5, 300.0),
    "stretched": (1.0, 300.0, 1.6),
    "biexponential": (0.6, 80.0, 0.4, 600.0),
    "gaussian_exponential": (2.0, 700.0, 350.0),
}
T = np.arange(1, 61) * 20.0
for model, truth in TRUTH.items():
    worst = 0.0
    for seed in range(50):
        y = MODELS[model][1](T, *truth) + np.random.default_rng(seed).normal(
            0, 0.01, T.size
        )
        ours = np.array(
            list(
                fit_decay(
                    EchoDecay(T, y), model, n_bootstrap=20, random_state=0
                ).params.values()
            )
        )
        ref, _ = curve_fit(MODELS[model][1], T, y, p0=truth, maxfev=20000)
        worst = max(worst, np.max(np.abs(ours / ref - 1)))
    print(
        f"{model}: largest relative difference to curve_fit over 50 decays: {worst:.2e}"
    )
