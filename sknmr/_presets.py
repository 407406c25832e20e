"""Every preset of sknmr in one registry: the study's, the protocols', training's.

A preset is a named set of sizes and settings of a long command. The
registry imports nothing heavy (the inference, the study and the command line
read it), and each user checks its own settings.
"""

from ._paper import PAPER_N_PER_KERNEL

__all__ = ["PRESETS"]

#: Every preset, by command: ``PRESETS[command][name]`` is a dict of settings.
#:
#: ``"reproduce"`` (:func:`sknmr.study.reproduce`, ``sknmr reproduce``):
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
#:
#: ``"protocols"`` (:func:`sknmr.study.run_protocols`, ``sknmr protocols``):
#: Sizes of ``sknmr protocols``: materials per kernel, lattice, tau (us),
#: folds and trees. ``"quick"`` takes minutes on 2 CPU cores; ``"full"``
#: (3000 materials on 64 x 64) an hour or two of CPU, minutes on a GPU.
#:
#: ``"training"`` (``sknmr infer --train``): training sizes, ``quick`` for a
#: first try (a minute on two cores), ``default`` for use (minutes).
PRESETS = {
    "reproduce": {
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
    },
    "protocols": {
        "quick": {
            "n_per_kernel": 200,
            "lattice_size": 32,
            "tau": 100.0,
            "cv": 5,
            "n_estimators": 100,
        },
        "full": {
            "n_per_kernel": 1000,
            "lattice_size": 64,
            "tau": 100.0,
            "cv": 5,
            "n_estimators": 200,
        },
    },
    "training": {
        "quick": {"lattice_size": 16, "n_per_kernel": 100},
        "default": {"lattice_size": 32, "n_per_kernel": 500},
    },
}
