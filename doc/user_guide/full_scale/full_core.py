"""The paper's key numbers at full scale on its 15000 echoes (100x100).

Usage: ``SKNMR_NUMBA_FFT=scipy python full_core.py OUT [CACHE]``: simulates
the dataset of ``sknmr reproduce --full`` (or reads it from the
``make_echoes`` cache folder CACHE), then writes ``OUT/results.json`` with
:func:`sknmr.study.core_metrics` and :func:`sknmr.study.table_i`, saving
after each step (a rerun keeps what is done).
"""

import json
import os
import platform
import sys
import time

os.environ["SKNMR_NUMBA_FFT"] = "scipy"  # the FFT the cached echoes were made with
from sknmr import EchoSimulator, __version__
from sknmr.datasets import make_echoes
from sknmr.study import core_metrics, prepare_features, table_i

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
previous = os.path.join(out, "results.json")
results = json.load(open(previous)) if os.path.exists(previous) else {}
results = {
    **results,
    "sknmr_version": __version__,
    "machine": f"{platform.machine()} with {os.cpu_count()} CPU cores",
    "command": "python full_core.py (see the page)",
    "timings_s": results.get("timings_s", {}),
}


def save():
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2, default=float)


t = time.perf_counter()
data = make_echoes(
    5000,
    simulator=EchoSimulator(lattice_size=100, tau=100.0, dtype="float32"),
    random_state=0,
    memory=sys.argv[2] if len(sys.argv) > 2 else None,
    n_jobs=2,
    verbose=1,
)
results["dataset"] = {
    "n_echoes": int(len(data.data)),
    "n_times": int(data.data.shape[1]),
    "counts": data.settings["counts"],
    "seed": data.settings["seed"],
    "simulation": data.settings["simulation"],
}
results["timings_s"]["dataset"] = time.perf_counter() - t
save()
print("dataset", data.data.shape, flush=True)
if "core_metrics" not in results:
    t = time.perf_counter()
    metrics = core_metrics(
        data,
        cv=5,
        n_estimators=100,
        regression_max_features="sqrt",
        random_state=0,
        n_jobs=2,
    )
    results["core_metrics"] = metrics
    results["timings_s"]["core_metrics"] = time.perf_counter() - t
    save()
    print("core", json.dumps(metrics, default=float), flush=True)
t = time.perf_counter()
features = prepare_features(data)
table, fit_warnings = table_i(
    features.window, features.y, cv=5, n_estimators=100, random_state=0, n_jobs=2
)
results["table_i"] = json.loads(table.to_json(orient="index"))
results["table_i_warnings"] = list(fit_warnings)
results["timings_s"]["table_i"] = time.perf_counter() - t
save()
print(table.round(3).to_string(), flush=True)
print("done", flush=True)
