"""Tests of sknmr.study.reproduce: the analyses on tiny data and one tiny report."""

import json
import os
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from sknmr import EchoSimulator  # noqa: E402
from sknmr._paper import PAPER_N_PER_KERNEL, PAPER_RESULTS  # noqa: E402
from sknmr.datasets import make_echoes, save_echoes  # noqa: E402
from sknmr.study import (  # noqa: E402
    PAPER,
    PAPER_TARGETS,
    PRESETS,
    classification_analysis,
    core_metrics,
    elbow_point,
    latent_orderings,
    lattice_ablation,
    linewidth_ablation,
    pca_kmeans_analysis,
    prepare_features,
    reproduce,
    table_i,
    which_settings_reproduce,
)
from sknmr.study._presets import _resolve_preset  # noqa: E402
from sknmr.study._reproduce import _load_data  # noqa: E402
from sknmr.utils._random import derive_seed  # noqa: E402

#: A preset that runs in seconds: 20 echoes per kernel on an 8 x 8 lattice.
TINY = {
    "n_per_kernel": 20,
    "lattice_size": 8,
    "tau": 5.0,
    "sections": (2, 4),
    "cv": 3,
    "n_estimators": 30,
    "vae": {"hidden_sizes": (8,), "max_epochs": 2, "batch_size": 16},
    "vae_window": {"hidden_sizes": (8,), "max_epochs": 2, "batch_size": 16},
    "max_clusters": 4,
    "max_curves": 30,
}

FIGURES = [
    "echoes.png",
    "window_by_kernel.png",
    "confusion_pointwise.png",
    "confusion_polynomial.png",
    "importance_pointwise.png",
    "importance_polynomial.png",
    "regression.png",
    "vae_full_latent.png",
    "vae_full_traversal.png",
    "vae_window_latent.png",
    "vae_window_traversal.png",
    "pca.png",
    "kmeans.png",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    cache = tmp_path_factory.mktemp("cache")
    with warnings.catch_warnings():
        # 15 power echoes and 30 trees leave some out-of-bag predictions empty.
        warnings.filterwarnings("ignore", message="Some inputs do not have OOB")
        result = reproduce(
            folder, TINY, memory=str(cache), random_state=3, verbose=False
        )
    return folder, cache, result


@pytest.mark.slow
def test_report_folder(report):
    folder, cache, result = report
    assert result.report == os.path.join(folder, "report.md")
    for name in FIGURES:
        path = folder / "figures" / name
        assert path.stat().st_size > 1000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.path.basename(p) for p in result.figures) == sorted(FIGURES)
    # The simulated chunks were cached.
    assert any(files for _, _, files in os.walk(cache))


def test_report_is_written_once_in_markdown(report):
    """report.md is the one report (the docs render it with MyST)."""
    folder, _, _ = report
    assert not (folder / "report.rst").exists()
    md = (folder / "report.md").read_text()
    # every figure is linked where the report's folder holds it
    linked = re.findall(r"^!\[[^\]]*\]\((figures/[^)]+)\)$", md, flags=re.M)
    assert sorted(os.path.basename(p) for p in linked) == sorted(FIGURES)
    assert all((folder / path).is_file() for path in linked)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert (
        headings[0].startswith("# ") and sum(h.startswith("# ") for h in headings) == 1
    )
    assert sum(h.startswith("## ") for h in headings) > 5


def test_report_has_the_papers_rows(report):
    folder, _, _ = report
    text = (folder / "report.md").read_text()
    for model, paper in PAPER["table_i"].items():
        assert f"| Table I F1: {model} | {paper:.3f} |" in text
    for row in (
        "Random forest confusion: non-power row",
        "Power false-positive rate: unscreened -> W-screened | ~0.4 -> ~0.2",
        "W-screened F1 | 0.900",
        "Regression R^2: alpha_xy (all) | ~0.9",
        "Regression R^2: W (all) | ~0.8",
        "Regression R^2: alpha_z (all) | poor",
        "Regression R^2: L power / non-power",
        "VAE: axis most ordered by W",
        "PCA (2 components) | no visible structure",
        "K-means elbow | 3",
        "K-means K = 2 splits low/high W",
    ):
        assert row in text, row
    for name in FIGURES:
        assert f"(figures/{name})" in text
    assert "60 echoes" in text and "8 x 8 lattice" in text


def test_results_json(report):
    folder, _, result = report
    text = (folder / "results.json").read_text()

    def no_nan(name):
        raise AssertionError(f"results.json holds {name}")

    results = json.loads(text, parse_constant=no_nan)
    assert results == json.loads(json.dumps(result.results))
    assert results["preset"] == "custom"
    assert results["preset_settings"]["n_per_kernel"] == 20
    assert results["dataset"]["n_echoes"] == 60
    assert results["dataset"]["lattice_size"] == 8
    assert results["dataset"]["linewidth"] == 0.08
    assert results["dataset"]["generation_settings"]["seed"] == 3
    assert list(results["table_i"]) == list(PAPER["table_i"])
    for model, row in results["table_i"].items():
        assert row["paper_f1"] == PAPER["table_i"][model]
        for average in ("weighted", "binary", "macro"):
            assert 0 <= row[f"f1_{average}"] <= 1
            assert row[f"f1_{average}_std"] >= 0
        assert "f1" not in row
    for featurization in ("pointwise", "polynomial"):
        block = results["classification"][featurization]
        for key in ("unscreened", "screened", "screened_true_bins", "screened_oracle"):
            counts = np.array(block[key]["counts"])
            assert counts.sum() == 15  # the 25% test split of 60 echoes
            assert counts[1].sum() == 5  # of which 5 power echoes
            assert block[key]["power_fpr"] == pytest.approx(counts[1, 0] / 5)
            assert "f1" not in block[key]
            for average in ("weighted", "binary", "macro"):
                assert 0 <= block[key][f"f1_{average}"] <= 1
        table = results["regression"][featurization]
        assert set(table) == {"all", "power", "non-power"}
        assert set(table["all"]) == {"W", "L", "alpha_xy", "alpha_z"}
    for key in ("full", "window"):
        vae = results["vae"][key]
        assert set(vae["orderings"]) == {"axis 1", "axis 2"}
        assert vae["w_axis"] in (0, 1)
    pk = results["pca_kmeans"]
    assert pk["ks"] == [1, 2, 3, 4] and len(pk["sse"]) == 4
    assert np.all(np.diff(pk["sse"]) <= 1e-9)
    assert len(results["comparison"]) == 7 + 3 + 4 + 1 + 3


# -- ablations -------------------------------------------------------------------
@pytest.fixture(scope="module")
def ablated(tmp_path_factory, report):
    """The report fixture's run again, with every ablation, from its cache."""
    _, cache, _ = report
    folder = tmp_path_factory.mktemp("ablated")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Some inputs do not have OOB")
        result = reproduce(
            folder,
            TINY,
            memory=str(cache),
            random_state=3,
            verbose=False,
            ablations=("lattice", "oversampling", "linewidth", "screening"),
            ablation_lattice_sizes=(6, 8),
        )
    return folder, result


@pytest.mark.slow
def test_ablations_leave_the_main_numbers_unchanged(report, ablated):
    _, _, plain = report
    _, result = ablated
    assert "ablations" not in plain.results
    for key in ("table_i", "classification", "regression", "pca_kmeans"):
        assert result.results[key] == plain.results[key], key


def test_ablation_rows(ablated):
    folder, result = ablated
    block = json.loads((folder / "results.json").read_text())["ablations"]
    assert block == json.loads(json.dumps(result.results["ablations"]))
    assert block["asked"] == ["oversampling", "screening", "linewidth", "lattice"]
    assert block["lattice_sizes"] == [6, 8] and block["linewidth_lattice"] == 6
    assert block["n_per_kernel"] == 20 and block["tolerance"] == 0.03
    settings = [(r["ablation"], r["setting"]) for r in block["rows"]]
    assert settings == [
        ("oversampling", "inside training folds (sknmr)"),
        ("oversampling", "before the split (notebooks)"),
        (
            "screening",
            "bins by out-of-fold W, oversampled inside training folds (sknmr)",
        ),
        ("screening", "bins by true W, oversampled inside training folds (sknmr)"),
        (
            "screening",
            "bins by out-of-fold W, oversampled before the split (notebooks)",
        ),
        ("screening", "bins by true W, oversampled before the split (notebooks)"),
        ("linewidth", "0.008 MHz (paper)"),
        ("linewidth", "0.08 MHz (sknmr default)"),
        ("lattice", "6 x 6"),
        ("lattice", "8 x 8"),
    ]
    rows = {row["setting"]: row for row in block["rows"]}
    for row in block["rows"]:
        assert row["fpr_unscreened"] is None or 0 <= row["fpr_unscreened"] <= 1
        if row["ablation"] in ("linewidth", "lattice"):
            assert row["r2_W"] is not None and row["r2_L_power"] is not None
            assert row["rf_f1_weighted"] is not None
            assert row["details"]["n_echoes"] == 60
        else:
            assert row["r2_W"] is None
    # The linewidth ablation's lattice is the first size; the lattice rows keep
    # the main run's linewidth; equal settings, equal datasets, equal numbers.
    assert rows["0.008 MHz (paper)"]["details"]["lattice_size"] == 6
    assert rows["0.08 MHz (sknmr default)"]["details"]["linewidth"] == 0.08
    assert rows["0.08 MHz (sknmr default)"]["details"]["lattice_size"] == 6
    assert rows["6 x 6"]["details"]["linewidth"] == 0.08
    same = {k: v for k, v in rows["6 x 6"].items() if k not in ("ablation", "setting")}
    other = rows["0.08 MHz (sknmr default)"]
    assert same == {k: other[k] for k in same}
    # Before the split, the test split holds copies of training echoes.
    assert rows["before the split (notebooks)"]["details"]["test_copies"] > 0
    assert rows["inside training folds (sknmr)"]["details"]["test_copies"] == 0
    reproducing = block["reproducing"]
    assert [r["number"] for r in reproducing] == [n for n, *_ in PAPER_TARGETS]
    assert reproducing == which_settings_reproduce(block["rows"], tolerance=0.03)


def test_ablation_report(ablated):
    folder, result = ablated
    text = (folder / "report.md").read_text()
    assert "## Ablations" in text
    section = text[text.index("## Ablations") : text.index("## Settings")]
    for row in result.results["ablations"]["rows"]:
        assert f"| {row['ablation']} | {row['setting']} |" in section
    for ablation in ("oversampling", "screening", "linewidth", "lattice"):
        assert f"- **{ablation}** (" in section
    assert "### Which setting reproduces each paper number" in section
    for name, *_ in PAPER_TARGETS:
        assert f"- {name}, paper " in section
    # The notes point to the ablations.
    assert "oversampling ablation below" in text
    assert "The linewidth ablation below compares the two." in text
    # Weighted F1 beside the paper's Table I, and why.
    assert "the first author's notebooks compute" in text
    assert "| model | F1 weighted (ours) | std | F1 binary (power) |" in text


def test_ablation_report_without_simulated_datasets(ablated):
    from sknmr.study._report_ablations import _ablations_section

    _, result = ablated
    block = result.results["ablations"]
    rows = [r for r in block["rows"] if r["ablation"] == "oversampling"]
    only = {
        **block,
        "rows": rows,
        "reproducing": which_settings_reproduce(rows, tolerance=0.03),
    }
    text = "\n".join(_ablations_section({**result.results, "ablations": only}))
    assert "Datasets:" not in text  # no ablation simulated one
    # No oversampling row has an R^2: those numbers were not measured here.
    assert "R^2 of W, paper 0.80 (within 0.03): not measured by these ablations" in text
    assert "Datasets: linewidth" in "\n".join(_ablations_section(result.results))


def test_ablation_wrappers_on_datasets(tiny_data):
    data, _ = tiny_data
    wider = make_echoes(
        6,
        simulator=EchoSimulator(lattice_size=8, tau=8.0, linewidth=0.008),
        random_state=0,
    )
    kwargs = dict(sections=(2, 4), cv=2, n_estimators=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = linewidth_ablation({0.008: wider, 0.08: data}, **kwargs)
        again = core_metrics(data, **kwargs)
        lattice = lattice_ablation({8: data}, **kwargs)
    assert [r["setting"] for r in rows] == [
        "0.008 MHz (paper)",
        "0.08 MHz (sknmr default)",
    ]
    assert rows[0]["details"]["linewidth"] == 0.008
    assert rows[1]["details"] == {
        "n_echoes": 18,
        "lattice_size": 8,
        "linewidth": 0.08,
        "seed": 0,
    }
    assert {k: rows[1][k] for k in again} == again
    assert lattice[0]["setting"] == "8 x 8"
    assert {k: lattice[0][k] for k in again} == again


def test_bad_ablation_arguments_fail_before_any_work(tmp_path, monkeypatch, tiny_data):
    from sknmr.study import _reproduce

    def simulate(*args, **kwargs):
        raise AssertionError("simulated before the arguments were checked")

    monkeypatch.setattr(_reproduce, "make_echoes", simulate)
    out = tmp_path / "report"
    for kwargs, error, message in (
        ({"ablations": ("oversampling", "bagging")}, ValueError, "ablations must be"),
        ({"ablations": 3}, TypeError, "ablations must be"),
        (
            {"ablations": "lattice", "ablation_lattice_sizes": (8, 1)},
            ValueError,
            "ablation_lattice_sizes must be .* ints >= 2",
        ),
        (
            {"ablations": "lattice", "ablation_lattice_sizes": ()},
            ValueError,
            "ablation_lattice_sizes must be a non-empty",
        ),
        (
            {"ablations": "lattice", "ablation_lattice_sizes": 8},
            TypeError,
            "ablation_lattice_sizes must be a sequence",
        ),
        (
            {"ablations": "linewidth", "ablation_n_per_kernel": 0},
            ValueError,
            "ablation_n_per_kernel must be a positive int",
        ),
        (
            {"ablations": "linewidth", "ablation_n_per_kernel": 2.5},
            ValueError,
            "ablation_n_per_kernel must be a positive int",
        ),
        (
            {"ablations": "oversampling", "ablation_n_per_kernel": 5},
            ValueError,
            "ablation_n_per_kernel sets the datasets of the 'linewidth'",
        ),
        (
            {"ablation_lattice_sizes": (8,)},
            ValueError,
            "ablation_lattice_sizes sets the datasets",
        ),
    ):
        with pytest.raises(error, match=message):
            reproduce(out, TINY, verbose=False, **kwargs)
    # With data given, the simulators of the ablation datasets are still
    # checked: the preset's window is too short for 10 sections.
    data, _ = tiny_data
    with pytest.raises(ValueError, match="too few for cubic fits"):
        reproduce(
            out,
            {**TINY, "sections": (10,)},
            data=data,
            verbose=False,
            ablations=("lattice",),
        )
    assert os.listdir(tmp_path) == []  # nothing was created


def test_reproduce_on_given_data_checks_sections_and_args(tmp_path):
    # Bad arguments fail before any simulation, and before any folder is made.
    out = tmp_path / "report"
    with pytest.raises(ValueError, match="preset must be one of"):
        reproduce(out, "medium", verbose=False)
    with pytest.raises(ValueError, match="too few for cubic fits"):
        reproduce(out, {**TINY, "sections": (4, 5, 10)}, verbose=False)
    with pytest.raises(ValueError, match="n_jobs"):
        reproduce(out, TINY, n_jobs=0, verbose=False)
    with pytest.raises(ValueError, match="n_jobs"):
        reproduce(out, TINY, n_jobs=-(os.cpu_count() or 1) - 1, verbose=False)
    with pytest.raises(TypeError, match="random_state"):
        reproduce(out, TINY, random_state=None, verbose=False)
    with pytest.raises(ValueError, match="random_state"):
        reproduce(out, TINY, random_state=-1, verbose=False)
    with pytest.raises(ValueError, match="linewidth"):
        reproduce(out, TINY, linewidth=-1.0, verbose=False)
    with pytest.raises(ValueError, match="linewidth"):
        reproduce(out, TINY, linewidth=float("inf"), verbose=False)
    with pytest.raises(TypeError, match="linewidth"):
        reproduce(out, TINY, linewidth="0.008", verbose=False)
    with pytest.raises(TypeError, match="lacks 'data'"):
        reproduce(out, TINY, data=object(), verbose=False)
    with pytest.raises(ValueError, match="data must be .* cannot be read"):
        reproduce(out, TINY, data=str(tmp_path / "missing.npz"), verbose=False)
    with pytest.raises(ValueError, match="The preset setting 'cv'"):
        reproduce(out, {**TINY, "cv": 1}, verbose=False)
    with pytest.raises(ValueError, match="lattice_size"):
        reproduce(out, {**TINY, "lattice_size": 1}, verbose=False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="output_dir must be a folder; .* is a file"):
        reproduce(blocker, TINY, verbose=False)
    with pytest.raises(ValueError, match="output_dir must be a folder that can be"):
        reproduce(blocker / "report", TINY, verbose=False)
    with pytest.raises(ValueError, match="memory must be a folder that can be"):
        reproduce(out, TINY, memory=str(blocker / "cache"), verbose=False)
    with pytest.raises(TypeError, match="memory must be"):
        reproduce(out, TINY, memory=3, verbose=False)
    with pytest.raises(TypeError, match="output_dir must be a str or path-like"):
        reproduce(None, TINY, verbose=False)
    assert sorted(os.listdir(tmp_path)) == ["file"]  # nothing was created


def test_paper_numbers_come_from_sknmr_paper():
    assert PAPER is PAPER_RESULTS
    assert PRESETS["full"]["n_per_kernel"] == PAPER_N_PER_KERNEL


def test_reproduce_seeds_each_analysis_from_random_state(
    tiny_data, monkeypatch, tmp_path
):
    from sknmr.study import _reproduce

    seeds = {}

    def stop(X, y, **kwargs):
        seeds["table_i"] = kwargs["random_state"]
        raise KeyboardInterrupt

    monkeypatch.setattr(_reproduce, "table_i", stop)
    data, _ = tiny_data
    with pytest.raises(KeyboardInterrupt):
        reproduce(
            tmp_path, {"sections": (2, 4)}, data=data, random_state=3, verbose=False
        )
    # The offsets of the per-analysis seeds are those of earlier releases.
    assert seeds["table_i"] == derive_seed(3, 1)


def test_resolve_preset():
    name, settings = _resolve_preset("quick")
    assert name == "quick" and settings == PRESETS["quick"]
    settings["vae"]["max_epochs"] = -1  # a copy: the preset is untouched
    assert PRESETS["quick"]["vae"]["max_epochs"] > 0
    name, settings = _resolve_preset({"n_per_kernel": 7, "vae": {"max_epochs": 1}})
    assert name == "custom" and settings["n_per_kernel"] == 7
    assert settings["vae"]["max_epochs"] == 1
    assert settings["vae"]["hidden_sizes"] == PRESETS["quick"]["vae"]["hidden_sizes"]
    assert PRESETS["full"]["n_per_kernel"] == 5000
    assert PRESETS["full"]["lattice_size"] == 100
    with pytest.raises(ValueError, match="Unknown preset settings"):
        _resolve_preset({"n_echoes": 3})
    with pytest.raises(TypeError, match="preset must be"):
        _resolve_preset(3)


# -- the analyses on small data -----------------------------------------------------
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    data = make_echoes(
        6, simulator=EchoSimulator(lattice_size=8, tau=8.0), random_state=0
    )
    path = tmp_path_factory.mktemp("data") / "echoes.npz"
    save_echoes(data, path)
    return data, path


def test_prepare_features(tiny_data):
    data, path = tiny_data
    features = prepare_features(_load_data(str(path)), sections=(2, 4))
    assert features.full.shape == data.data.shape
    np.testing.assert_allclose(features.full.min(axis=1), 0)
    np.testing.assert_allclose(features.full.max(axis=1), 1)
    # The window is 2 tau +- tau/3 around the echo sample 2 n_tau.
    sim = EchoSimulator(lattice_size=8, tau=8.0)
    echo = sim.times[2 * sim.n_tau]
    assert features.window_times[0] >= echo - 8.0 / 3 - 1e-9
    assert features.window_times[-1] <= echo + 8.0 / 3 + 1e-9
    assert features.window.shape == (18, features.window_times.size)
    assert features.poly.shape == (18, 4 * (2 + 4))
    np.testing.assert_array_equal(features.y, data.target["power"])
    with pytest.raises(ValueError, match="too few for cubic fits"):
        prepare_features(data, sections=(10,))
    # Without generation settings the grid is read off the times.
    bare = Bunch(data=data.data, target=data.target, times=data.times)
    again = prepare_features(bare, sections=(2, 4))
    np.testing.assert_array_equal(again.window_times, features.window_times)
    np.testing.assert_allclose(again.poly, features.poly)


def test_table_i_uses_all_seven_models():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(20), np.zeros(40)].astype(int)
    X = rng.normal(size=(60, 5)) + 3.0 * y[:, None]
    table, _ = table_i(X, y, cv=3, n_estimators=10, random_state=0)
    assert table.index.tolist() == list(PAPER["table_i"])
    for average in ("weighted", "binary", "macro"):
        assert (table[f"f1_{average}"] > 0.9).all()  # well separated classes


def test_classification_analysis_screens_by_w():
    rng = np.random.default_rng(1)
    n = 240
    w = rng.uniform(0.1, 0.3, n)
    y = (rng.random(n) < 1 / 3).astype(int)
    # The class shows in feature 1 with a sign that flips at the bin edge
    # W = 0.23: each W bin's forest sees one simple rule.
    X = np.c_[
        w,
        np.where(w < 0.23, 1, -1) * (y - 0.5) + 0.2 * rng.normal(size=n),
        rng.normal(size=(n, 3)),
    ]
    train, test = np.arange(180), np.arange(180, n)
    result = classification_analysis(
        X, y, w, train, test, n_estimators=30, cv=3, random_state=0
    )
    metrics = result.metrics
    assert set(result.models) == {"unscreened", "screened", "screened_true_bins"}
    for key in ("unscreened", "screened", "screened_true_bins", "screened_oracle"):
        m = metrics[key]
        assert np.array(m["counts"]).sum() == 60
        np.testing.assert_allclose(np.sum(m["confusion"], axis=1), 1)
        assert m["power_fpr"] == pytest.approx(m["confusion"][1][0])
    assert metrics["w_r2"] > 0.9
    assert metrics["screened_oracle"]["f1_binary"] > 0.9
    for key in ("unscreened", "screened", "screened_true_bins", "screened_oracle"):
        m = metrics[key]
        y_test = y[test]
        # The F1s agree with the confusion counts: binary is the power class's.
        tn, fp, fn, tp = np.ravel(m["counts"])
        assert m["f1_binary"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        f1_non_power = 2 * tn / (2 * tn + fn + fp)
        assert m["f1_macro"] == pytest.approx((m["f1_binary"] + f1_non_power) / 2)
        n_power = np.sum(y_test == 1)
        assert m["f1_weighted"] == pytest.approx(
            (m["f1_binary"] * n_power + f1_non_power * (60 - n_power)) / 60
        )


def test_latent_orderings_and_elbow():
    targets = pd.DataFrame(
        {
            "W": np.linspace(0.1, 0.3, 9),
            "L": np.ones(9),
            "kernel": ["gaussian", "power", "rkky"] * 3,
        }
    )
    Z = np.c_[np.linspace(-1, 1, 9) ** 3, np.zeros(9)]
    table = latent_orderings(Z, targets)
    assert table.loc["axis 1", "W"] == pytest.approx(1.0)
    assert np.isnan(table.loc["axis 1", "L"]) and np.isnan(table.loc["axis 2", "W"])
    assert elbow_point([1, 2, 3, 4, 5], [50, 10, 8, 7, 6.5]) == 2
    assert elbow_point([1, 2], [5, 1]) == 1


def test_pca_kmeans_finds_the_w_split():
    rng = np.random.default_rng(2)
    t = np.linspace(0, 1, 30)
    w = np.r_[rng.uniform(0.1, 0.15, 30), rng.uniform(0.25, 0.3, 30)]
    X = np.exp(-np.outer(w * 20, t)) + 0.01 * rng.normal(size=(60, 30))
    targets = pd.DataFrame(
        {"W": w, "L": rng.random(60), "kernel": ["gaussian", "power", "rkky"] * 20}
    )
    result = pca_kmeans_analysis(X, targets, max_clusters=5, random_state=0)
    assert result.ks == [1, 2, 3, 4, 5]
    assert result.elbow == 2
    assert result.k2_splits_w and result.k2_auc == pytest.approx(1.0)
    assert sorted(result.k2_mean_w)[0] < 0.15 < sorted(result.k2_mean_w)[1]
    assert abs(result.orderings.loc["axis 1", "W"]) > 0.9
