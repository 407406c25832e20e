"""make_echoes' chunk cache: plain arrays, verified before they are served.

Each chunk is two files in ``<memory>/sknmr_chunks/``, named by the digest of
its cache key: ``<digest>.npy``, read with ``allow_pickle=False`` (so a file
planted in the folder cannot run code), and ``<digest>.json``, written after
it, with the digest, shape, dtype and a SHA-256 of the digest and the array's
bytes. A chunk is served only when all of these match what the caller
expects; otherwise it is simulated again with a warning (a damaged chunk, two
chunks swapped, an array of another shape). A missing or half-written chunk
is simply simulated again: both files are written to a temporary name and
renamed, the sidecar last.
"""

import hashlib
import json
import os
import warnings

import joblib
import numpy as np

from ..utils._files import atomic_write

__all__ = ["ChunkStore", "chunk_digest"]

#: The layout version, part of every digest.
CHUNK_FORMAT = "sknmr.datasets.chunk/1"
_FOLDER = "sknmr_chunks"


def chunk_digest(key, echo_ids, params):
    """The name of a chunk: a hash of everything that fixes its echoes."""
    return joblib.hash(
        {"format": CHUNK_FORMAT, "key": key, "echo_ids": echo_ids, "params": params}
    )


def _checksum(digest, array):
    h = hashlib.sha256(digest.encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


class ChunkStore:
    """The chunks of one cache folder (``location``)."""

    def __init__(self, location):
        self.folder = os.path.join(os.fspath(location), _FOLDER)

    def _paths(self, digest):
        base = os.path.join(self.folder, digest)
        return base + ".npy", base + ".json"

    def load(self, digest, shape, dtype):
        """The stored chunk, or None (missing, or damaged: with a warning)."""
        array_path, meta_path = self._paths(digest)
        if not (os.path.exists(array_path) and os.path.exists(meta_path)):
            return None
        dtype = np.dtype(dtype)
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
            array = np.load(array_path, allow_pickle=False)
            problem = None
            if not isinstance(meta, dict) or meta.get("key") != digest:
                problem = "its sidecar belongs to another chunk"
            elif array.shape != tuple(shape) or meta.get("shape") != list(shape):
                problem = f"shape {array.shape} where {tuple(shape)} was expected"
            elif array.dtype != dtype or meta.get("dtype") != dtype.str:
                problem = f"dtype {array.dtype} where {dtype} was expected"
            elif meta.get("sha256") != _checksum(digest, array):
                problem = "its checksum does not match"
        except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
            problem = f"it cannot be read ({exc})"
        if problem is not None:
            warnings.warn(
                f"The cached chunk {array_path!r} is damaged ({problem}); it is "
                "simulated again.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return array

    def save(self, digest, array):
        """Store a chunk: the array, then its sidecar (which commits it)."""
        os.makedirs(self.folder, exist_ok=True)
        array = np.ascontiguousarray(array)
        array_path, meta_path = self._paths(digest)
        meta = {
            "format": CHUNK_FORMAT,
            "key": digest,
            "shape": list(array.shape),
            "dtype": array.dtype.str,
            "sha256": _checksum(digest, array),
        }
        atomic_write(array_path, lambda f: np.save(f, array, allow_pickle=False))
        atomic_write(meta_path, lambda f: f.write(json.dumps(meta).encode()))
