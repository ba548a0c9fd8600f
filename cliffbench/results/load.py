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


GROUPS = ("dataset", "backbone", "method")


def differing_keys(identities: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For flattened identities ``{id: {"dataset.d": 100, ...}}``: per id, the keys whose value
    differs between the ids. A differing group name (``dataset``, ``backbone``, ``method``) stands
    for all keys under that group, which then differ for that reason alone."""
    keys = sorted({k for flat in identities.values() for k in flat if "." in k or k in GROUPS})
    differ = [k for k in keys if len({json.dumps(flat.get(k), sort_keys=True, default=str)
                                       for flat in identities.values()}) > 1]
    groups = [g for g in GROUPS if g in differ]
    differ = [k for k in differ if k in groups or k.split(".")[0] not in groups]
    return {i: {k: flat.get(k) for k in differ} for i, flat in identities.items()}


def reference_lines(path: str | Path) -> dict[str, float]:
    """The reference error levels (random guessing, human, ...) recorded by the jobs under ``path``.
    With several datasets each name is prefixed by its dataset; a name whose level differs between
    jobs (the Gaussian toy's Bayes error Φ(−s) for each s) gets the identity keys telling those jobs
    apart (``Bayes error Φ(−s) (s=1)``), so every level is drawn once."""
    levels: dict[tuple[str, str], dict[float, list[dict[str, Any]]]] = {}
    for ident_path in sorted(Path(path).rglob(f"{CELLS_DIR}/*/{IDENTITY_FILE}")):
        doc = read_identity(ident_path)
        if doc is None:
            continue
        meta = doc.get("meta", {})
        flat = _identity_columns(doc)
        for name, level in meta.get("reference_lines", {}).items():
            levels.setdefault((meta.get("dataset", "?"), name), {}).setdefault(float(level), []).append(flat)
    several = len({ds for ds, _ in levels}) > 1
    out: dict[str, float] = {}
    for (ds, name), by_level in levels.items():
        base = f"{ds}: {name}" if several else name
        if len(by_level) == 1:
            out[base] = next(iter(by_level))
            continue
        # keys that take one value per level and tell the levels apart
        per_level = {f"{lv}": {k: v for k, v in flats[0].items()
                               if all(f.get(k) == v for f in flats)} for lv, flats in by_level.items()}
        common = set.intersection(*(set(d) for d in per_level.values()))
        diff = differing_keys({lv: {k: d[k] for k in common} for lv, d in per_level.items()})
        for lv in by_level:
            tag = format_keys(diff[f"{lv}"]) or f"{lv:.4g}"
            out[f"{base} ({tag})"] = lv
    return out


def known_floors(path: str | Path) -> dict[str, float]:
    """``{config_id: error floor}`` for the jobs under ``path`` whose dataset knows the lowest
    error any method can reach (``meta.known_floor``: a Bayes error, a noise level)."""
    out = {}
    for ident_path in sorted(Path(path).rglob(f"{CELLS_DIR}/*/{IDENTITY_FILE}")):
        doc = read_identity(ident_path)
        floor = (doc or {}).get("meta", {}).get("known_floor")
        if isinstance(floor, dict) and floor.get("value") is not None:
            out[ident_path.parent.name] = float(floor["value"])
    return out


def format_keys(keys: dict[str, Any]) -> str:
    """``{"dataset.d": 100, "dataset.s": 1.0}`` -> ``d=100, s=1`` (full dotted names where the
    last parts would clash)."""
    short = [k.split(".")[-1] for k in keys]
    parts = []
    for k, s in zip(keys, short):
        value = keys[k]
        if isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{s if short.count(s) == 1 else k}={value}")
    return ", ".join(parts)
