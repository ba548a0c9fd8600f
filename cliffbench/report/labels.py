"""Curve labels that tell the curves of a sweep apart.

A job's label is ``backbone · method``; the curves of a sweep over ``dataset.d`` and ``dataset.s``
all share it. :func:`distinct_labels` adds, to every label that several curves share, the identity
keys whose values differ between those curves: ``identity · mean_classifier · d=100, s=1``. Figures,
report tables and W&B summaries use it (:func:`with_distinct_labels` on a results frame)."""

from __future__ import annotations

from typing import Any

from cliffbench.results.load import GROUPS, differing_keys, format_keys

SEPARATOR = " · "
NOT_IDENTITY = ("label", "config_id", "job_dir")


def _identities(df) -> dict[str, dict[str, Any]]:
    """Per config_id, the identity columns (``dataset``, ``method.C`` ...) constant within it."""
    cols = [c for c in df.columns if ("." in c or c in GROUPS) and c not in NOT_IDENTITY]
    out: dict[str, dict[str, Any]] = {}
    for cid, rows in df.groupby("config_id", sort=False):
        first = rows.iloc[0]
        out[str(cid)] = {c: _plain(first[c]) for c in cols if rows[c].nunique(dropna=False) <= 1}
    return out


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def distinct_labels(df) -> dict[str, str]:
    """``{config_id: label}`` where curves sharing a label get the identity keys that differ
    between them appended (and, if nothing tells them apart, the start of their config_id)."""
    if "config_id" not in df.columns or not len(df):
        return {}
    base = df.drop_duplicates("config_id").set_index("config_id")
    labels = {str(cid): str(base.loc[cid, "label"]) if "label" in base.columns else str(cid) for cid in base.index}
    identities = _identities(df)
    out: dict[str, str] = {}
    for label in set(labels.values()):
        ids = [cid for cid, lab in labels.items() if lab == label]
        if len(ids) == 1:
            out[ids[0]] = label
            continue
        diff = differing_keys({cid: identities.get(cid, {}) for cid in ids})
        for cid in ids:
            tag = format_keys({k: v for k, v in diff[cid].items()})
            out[cid] = f"{label}{SEPARATOR}{tag}" if tag else label
    clashes = {lab for lab in out.values() if list(out.values()).count(lab) > 1}
    return {cid: f"{lab}{SEPARATOR}{cid[:8]}" if lab in clashes else lab for cid, lab in out.items()}


def with_distinct_labels(df):
    """A copy of ``df`` whose ``label`` column is :func:`distinct_labels`."""
    if "config_id" not in df.columns:
        return df
    mapping = distinct_labels(df)
    return df.assign(label=df["config_id"].astype(str).map(mapping))
