"""Choices measured once per machine and remembered: the numba backend's FFT.

A choice between implementations that give the same echoes up to rounding
(which FFT library convolves the spins) is best made by timing them where
they run: which one is faster depends on the CPU and on the libraries'
builds. :func:`remembered` times the candidates briefly, keeps the fastest,
and stores it in a small JSON file in the user's cache folder
(``$XDG_CACHE_HOME/sknmr``, else ``~/.cache/sknmr``), keyed on the machine
(CPU model and count), the versions of the libraries that do the work and
the question asked (e.g. dtype and lattice shape), so that each question is
timed once per machine and set of versions.

Every process on a machine must answer alike, since cached datasets are
keyed on the choice: the first answer stored wins (a process that measured
at the same time as another adopts the stored one), and where the file
cannot be written the measurement is not used at all (the caller's fixed
default is). A file that cannot be read as such a record is ignored and
rewritten.

The environment variable ``SKNMR_NUMBA_TUNING=off`` turns the measurement
off (the fixed defaults are used, nothing is read or written): tests and
CI set it, so that they do not depend on the machine's speed.
"""

import contextlib
import json
import os
import platform
import tempfile
import threading
import time
from datetime import datetime, timezone

import numpy as np

#: The environment variable that turns the measurement off ("off", "0",
#: "false" or "no").
TUNING_VARIABLE = "SKNMR_NUMBA_TUNING"
#: The record's file, in the cache folder.
FILE_NAME = "numba_tuning.json"
#: Bumped when what is measured changes, so that older answers are not used.
FORMAT = 1
#: Entries kept in the file (the oldest dropped first).
MAX_ENTRIES = 256

_LOCK = threading.Lock()
_MEMORY = {}  # key -> answer, for this process


def enabled():
    """Whether choices may be measured (``SKNMR_NUMBA_TUNING`` is not "off")."""
    value = os.environ.get(TUNING_VARIABLE, "").strip().lower()
    return value not in ("off", "0", "false", "no")


def cache_file():
    """The record's path: ``$XDG_CACHE_HOME/sknmr``, else ``~/.cache/sknmr``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.join(os.path.expanduser(root), "sknmr", FILE_NAME)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return None


_MACHINE = {}


def machine():
    """What a measurement depends on besides the question: CPU and versions.

    Read once per process (the CPU and the libraries do not change under it).
    """
    if not _MACHINE:
        _MACHINE.update(_describe_machine())
    return dict(_MACHINE)


def _describe_machine():
    from sknmr import __version__

    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "torch": _version("torch"),
        "numba": _version("numba"),
        "sknmr": __version__,
        "format": FORMAT,
    }


def key(question):
    """The record's key of ``question`` (a JSON-able dict) on this machine."""
    return json.dumps({**machine(), **question}, sort_keys=True)


def fastest(functions, budget=0.3, min_rounds=3, max_rounds=50):
    """Time ``functions`` (name -> callable) in turns; the best time of each.

    Each is called once first (plans, caches), then every round calls each
    once, in turn, so that a slow spell of a shared machine hits all alike;
    rounds go on until ``budget`` seconds have passed and ``min_rounds`` are
    done, or ``max_rounds`` are.

    Examples
    --------
    >>> times = fastest({"a": lambda: sum(range(10)), "b": lambda: None})
    >>> sorted(times), all(t >= 0 for t in times.values())
    (['a', 'b'], True)
    """
    for function in functions.values():
        function()
    best = dict.fromkeys(functions, float("inf"))
    start = time.perf_counter()
    for rounds in range(1, max_rounds + 1):
        for name, function in functions.items():
            tic = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - tic)
        if rounds >= min_rounds and time.perf_counter() - start >= budget:
            break
    return best


def _read(path, choices=None):
    """The record's entries; ``{}`` when missing or not a record (corrupt).

    With ``choices``, an entry whose choice is not one of them is left out
    (and so measured again and replaced).
    """
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return {}
    entries = record.get("entries") if isinstance(record, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {
        k: v
        for k, v in entries.items()
        if isinstance(v, dict)
        and isinstance(v.get("choice"), str)
        and (choices is None or v["choice"] in choices)
    }


@contextlib.contextmanager
def _file_lock(path):
    """An exclusive lock between processes (POSIX), else none."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: first write still wins
        yield
        return
    with open(path + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _store(path, record_key, entry, choices=None):
    """Add ``entry`` unless another process stored one first; the stored one.

    Written atomically (a temporary file renamed over the record); raises
    OSError when the folder cannot be written.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with _file_lock(path):
        stored = _read(path, choices)
        if record_key in stored:
            return stored[record_key]
        entries = _read(path)  # entries of other questions are kept as they are
        entries[record_key] = entry
        if len(entries) > MAX_ENTRIES:
            order = sorted(entries, key=lambda k: str(entries[k].get("measured")))
            for old in order[: len(entries) - MAX_ENTRIES]:
                del entries[old]
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tuning-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "entries": entries}, f, indent=1)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    return entry


def remembered(question, measure, default, choices):
    """The answer to ``question`` on this machine: stored, else measured.

    Parameters
    ----------
    question : dict
        What is asked, JSON-able (e.g. backend, dtype, lattice shape); with
        :func:`machine`, the record's key.
    measure : callable
        ``measure() -> (choice, seconds)``: the fastest candidate's name and
        the best time of each (name -> seconds).
    default : str
        The answer when measuring is off (:func:`enabled`) or its result
        cannot be stored (so that every process agrees).
    choices : tuple of str
        The valid answers: a stored one that is not among them is measured
        again.

    Returns
    -------
    choice : str
    """
    if not enabled():
        return default
    record_key = key(question)
    with _LOCK:  # one measurement at a time in this process
        if record_key in _MEMORY:
            return _MEMORY[record_key]
        path = cache_file()
        entry = _read(path, choices).get(record_key)
        if entry is None:
            choice, seconds = measure()
            entry = {
                "choice": choice,
                "seconds": {k: float(v) for k, v in seconds.items()},
                "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            try:
                entry = _store(path, record_key, entry, choices)
            except OSError:
                entry = {"choice": default}
        _MEMORY[record_key] = entry["choice"]
        return entry["choice"]


def forget():
    """Drop this process's remembered answers (the file is left as it is)."""
    with _LOCK:
        _MEMORY.clear()


def entries():
    """The record's entries on this machine and versions: key dict -> entry."""
    here = machine()
    out = {}
    for record_key, entry in _read(cache_file()).items():
        try:
            fields = json.loads(record_key)
        except ValueError:
            continue
        if all(fields.get(k) == v for k, v in here.items()):
            question = {k: v for k, v in fields.items() if k not in here}
            out[json.dumps(question, sort_keys=True)] = entry
    return out
