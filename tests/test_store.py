"""The results store: atomic per-batch files, resume, de-duplication, concurrent writers, load."""

from __future__ import annotations

import multiprocessing as mp
import os

import numpy as np
import pytest

from cliffbench.results import CellStore, load
from cliffbench.atomic import atomic_write_text

IDENT = {"dataset": {"name": "digits"}, "backbone": {"name": "identity"}, "method": {"name": "knn", "k": 3}, "seed": 0}


def _row(n, trial, err=0.5, status="ok", when="2026-01-01T00:00:00"):
    return {"n": n, "trial": trial, "seed": 0, "test_error": err, "status": status, "message": "",
            "finished_at": when}


def test_rows_round_trip_with_identity_columns(tmp_path):
    store = CellStore(tmp_path, IDENT, label="mine")
    store.write([_row(10, 0), _row(10, 1, 0.25)])
    df = load(tmp_path)
    assert list(df[["n", "trial", "test_error"]].itertuples(index=False, name=None)) == [(10, 0, 0.5), (10, 1, 0.25)]
    assert set(df["method"]) == {"knn"} and set(df["method.k"]) == {3} and set(df["label"]) == {"mine"}
    for col in ["dataset", "backbone", "method", "n", "trial", "seed", "test_error", "status", "message"]:
        assert col in df.columns


def test_failed_cells_are_retried_and_replaced(tmp_path):
    store = CellStore(tmp_path, IDENT)
    store.write([_row(10, 0, float("nan"), "failed", "2026-01-01T00:00:00")])
    assert store.finished() == set()
    store.write([_row(10, 0, 0.3, "ok", "2026-01-01T00:00:01")])
    assert store.finished() == {(10, 0)}
    df = load(tmp_path)
    assert len(df) == 1 and df["status"].iloc[0] == "ok"


def test_different_configs_never_mix(tmp_path):
    CellStore(tmp_path, IDENT).write([_row(10, 0)])
    CellStore(tmp_path, {**IDENT, "method": {"name": "knn", "k": 5}}).write([_row(10, 0)])
    df = load(tmp_path)
    assert df["config_id"].nunique() == 2 and sorted(df["method.k"]) == [3, 5]


def test_damaged_or_temporary_files_are_ignored(tmp_path):
    store = CellStore(tmp_path, IDENT)
    store.write([_row(10, 0)])
    (store.dir / "n00000010-broken.json").write_text('{"rows": [{"n": 10, "tri')
    (store.dir / ".n00000020-x.json.abc.tmp").write_text("partial")
    assert len(load(tmp_path)) == 1


def test_atomic_write_leaves_old_content_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_text(path, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def _writer(args):
    job_dir, worker = args
    store = CellStore(job_dir, {**IDENT, "method": {"name": "knn", "k": worker % 2}})
    for n in range(1, 41):
        store.write([_row(n, t, float(np.float64(worker))) for t in range(3)])


def test_concurrent_writers_lose_nothing(tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_writer, [(str(tmp_path), w) for w in range(4)])
    df = load(tmp_path)
    # Workers 0/2 and 1/3 share a config: their identical cells are de-duplicated, none is lost.
    assert len(df) == 2 * 40 * 3
    assert df.groupby("config_id").size().tolist() == [120, 120]


def test_load_of_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope")
