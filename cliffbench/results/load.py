"""Reading rows back: ``load(path)`` for a job directory, a sweep directory, or an exported CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cliffbench.results.store import CELLS_DIR, IDENTITY_FILE, read_identity, read_row_file

CORE_COLUMNS = ["dataset", "backbone", "method", "n", "trial", "seed", "test_error", "status", "message"]


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are kept as JSON text so they stay hashable."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{full}."))
        elif isinstance(value, list):
            flat[full] = json.dumps(value)
        else:
            flat[full] = value
    return flat


def _identity_columns(doc: dict[str, Any]) -> dict[str, Any]:
    identity = doc.get("identity", {})
    cols = flatten(identity)
    for group in ("dataset", "backbone", "method"):
        node = identity.get(group)
        cols[group] = node.get("name") if isinstance(node, dict) else node
    cols["label"] = doc.get("label") or f"{cols['backbone']} · {cols['method']}"
    return cols


def load(path: str | Path):
    """All rows under ``path`` as one DataFrame, one row per (config, n, trial).

    Columns: the core columns (``dataset, backbone, method, n, trial, seed, test_error, status,
    message``), ``config_id`` and ``label``, each method's extra metrics, and the flattened identity
    config (``method.C``, ``dataset.d`` ...), so rows of different configs never share a curve.
    """
    import pandas as pd

    path = Path(path)
    if path.is_file():
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}")
    frames = []
    for ident_path in sorted(path.rglob(f"{CELLS_DIR}/*/{IDENTITY_FILE}")):
        doc = read_identity(ident_path)
        if doc is None:
            continue
        rows = [r for f in sorted(ident_path.parent.glob("n*.json")) for r in read_row_file(f)]
        if not rows:
            continue
        frame = pd.DataFrame(rows)
        for key, value in _identity_columns(doc).items():
            if key not in frame.columns:
                frame[key] = value
        frame["config_id"] = ident_path.parent.name
        frame["job_dir"] = str(ident_path.parent.parent.parent)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*CORE_COLUMNS, "config_id"])
    df = pd.concat(frames, ignore_index=True)
    # One row per cell: a successful row wins over failed ones; among equals the latest wins.
    df["_ok"] = df["status"].eq("ok")
    df = df.sort_values(["_ok", "finished_at"]).drop_duplicates(["config_id", "n", "trial"], keep="last")
    df = df.drop(columns="_ok").sort_values(["config_id", "n", "trial"]).reset_index(drop=True)
    front = [c for c in [*CORE_COLUMNS, "config_id", "label"] if c in df.columns]
    return df[front + [c for c in df.columns if c not in front]]


def reference_lines(path: str | Path) -> dict[str, float]:
    """The reference error levels (random guessing, human, ...) recorded by the jobs under ``path``;
    with several datasets, each name is prefixed by its dataset."""
    found: dict[str, dict[str, float]] = {}
    for ident_path in sorted(Path(path).rglob(f"{CELLS_DIR}/*/{IDENTITY_FILE}")):
        doc = read_identity(ident_path)
        meta = doc.get("meta", {}) if doc else {}
        found.setdefault(meta.get("dataset", "?"), {}).update(meta.get("reference_lines", {}))
    if len(found) == 1:
        return next(iter(found.values()))
    return {f"{ds}: {name}": level for ds, lines in found.items() for name, level in lines.items()}
