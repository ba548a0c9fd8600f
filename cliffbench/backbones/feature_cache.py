"""The on-disk feature cache: one ``.npy`` per (backbone, dataset split), keyed by a hash of
everything that changes the features, written atomically and checked on every read.

Layout: ``<paths.cache_dir>/features/<key>.npy`` plus ``<key>.json`` (what the key was made of,
for people). A file that cannot be read, has the wrong number of rows or holds non-finite values is
reported, deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from cliffbench.atomic import atomic_write, atomic_write_text

log = logging.getLogger("cliffbench")

# Bump when the way features are computed or stored changes: old entries are then never read.
FEATURE_FORMAT_VERSION = 1


def split_fingerprint(X: Any, y: np.ndarray) -> str:
    """A hash naming one split's inputs: their own ``fingerprint()`` (image datasets: source,
    split and row indices) or, for arrays, their bytes; plus the labels."""
    h = hashlib.sha256()
    if hasattr(X, "fingerprint"):
        h.update(str(X.fingerprint()).encode())
    else:
        arr = np.ascontiguousarray(np.asarray(X))
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(arr.tobytes())
    y = np.ascontiguousarray(np.asarray(y))
    h.update(f"{y.dtype}{y.shape}".encode())
    h.update(y.tobytes())
    return h.hexdigest()


class FeatureCache:
    """Feature matrices stored under ``root`` by key."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(backbone: dict[str, Any], split: str, fingerprint: str) -> tuple[str, dict[str, Any]]:
        """The cache key and the facts it hashes (backbone identity, split name, data fingerprint)."""
        facts = {"format": FEATURE_FORMAT_VERSION, "backbone": backbone, "split": split, "data": fingerprint}
        blob = json.dumps(facts, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32], facts

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npy"

    def load(self, key: str, rows: int) -> np.ndarray | None:
        """The cached features, or None when absent or unusable (which is then deleted)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            arr = np.load(path, allow_pickle=False)
            problem = None
            if arr.ndim != 2 or arr.shape[0] != rows:
                problem = f"shape {arr.shape}, expected {rows} rows"
            elif not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
                problem = "non-finite or non-float values"
        except Exception as exc:  # noqa: BLE001 - any unreadable file is rebuilt the same way
            problem = f"unreadable ({type(exc).__name__}: {exc})"
        if problem is None:
            return arr
        log.warning("feature cache %s is corrupt (%s): rebuilding it", path, problem)
        path.unlink(missing_ok=True)
        return None

    def save(self, key: str, features: np.ndarray, facts: dict[str, Any]) -> Path:
        """Write ``features`` under ``key`` atomically (temporary file + rename)."""
        path = self.path(key)
        atomic_write(path, lambda fh: np.save(fh, np.ascontiguousarray(features), allow_pickle=False), binary=True)
        atomic_write_text(path.with_suffix(".json"), json.dumps(
            {**facts, "shape": list(features.shape), "dtype": str(features.dtype)}, indent=1, default=str))
        return path
