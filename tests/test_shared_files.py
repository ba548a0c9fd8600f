"""Files on shared filesystems: every file the framework writes honours the umask (a temporary file
alone would be 0600), and a damaged cell or identity file is reported, set aside and recomputed."""

from __future__ import annotations

import logging
import os
import stat

import numpy as np
import pytest

from cliffbench.backbones.feature_cache import FeatureCache
from cliffbench.results import CellStore, load
from cliffbench.atomic import atomic_write
from cliffbench.api import run_job


@pytest.fixture
def umask():
    def set_mask(mask):
        os.umask(mask)
    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_written_files_honour_the_umask(compose_cfg, tmp_path, umask, mask):
    umask(mask)
    want = 0o666 & ~mask
    run_job(compose_cfg(["logger=none", "progress=false", "trials=2", "grid.n=[10,20]", "method=knn"]), tmp_path)
    written = [tmp_path / "results.csv", *tmp_path.rglob("identity.json"), *tmp_path.rglob("n*.json")]
    key, facts = FeatureCache.key({"b": 1}, "pool", "x")
    written.append(FeatureCache(tmp_path / "cache").save(key, np.ones((2, 2), np.float32), facts))
    atomic_write(tmp_path / "w.pt", lambda fh: fh.write(b"weights"), binary=True)
    written.append(tmp_path / "w.pt")
    assert len(written) > 4 and {p.name: oct(_mode(p)) for p in written} == {p.name: oct(want) for p in written}


def test_damaged_cell_file_is_set_aside_named_and_recomputed(compose_cfg, tmp_path, caplog):
    cfg = compose_cfg(["logger=none", "progress=false", "trials=3", "grid.n=[10,20]", "method=knn"])
    run_job(cfg, tmp_path)
    victim = sorted(tmp_path.rglob("n00000020-*.json"))[0]
    victim.write_text(victim.read_text()[:25])  # truncated
    with caplog.at_level(logging.WARNING, logger="cliffbench"):
        df = load(tmp_path)
    assert 3 <= len(df) < 6
    warned = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warned) == 1 and str(victim) in warned[0]
    assert not victim.exists() and victim.with_name(victim.name + ".damaged").exists()
    run_job(cfg, tmp_path)  # the lost cells are computed again
    assert len(load(tmp_path)) == 6


def test_damaged_identity_is_skipped_by_load_and_rewritten_by_a_rerun(compose_cfg, tmp_path, caplog):
    cfg = compose_cfg(["logger=none", "progress=false", "trials=2", "grid.n=[10,20]", "method=knn"])
    run_job(cfg, tmp_path)
    ident = next(tmp_path.rglob("identity.json"))
    ident.write_text('{"identity": {"data')
    other = CellStore(tmp_path / "other", {"method": {"name": "x"}})
    other.write([{"n": 10, "trial": 0, "test_error": 0.5, "status": "ok", "finished_at": "t"}])
    with caplog.at_level(logging.WARNING, logger="cliffbench"):
        df = load(tmp_path)
    assert list(df["method"]) == ["x"]  # the readable job still loads
    assert any(str(ident) in r.getMessage() for r in caplog.records)
    assert ident.with_name("identity.json.damaged").exists()
    run_job(cfg, tmp_path)
    assert len(load(tmp_path)) == 4 + 1


def test_report_survives_a_damaged_identity(compose_cfg, tmp_path):
    from cliffbench.report.cli import main

    run_job(compose_cfg(["logger=none", "progress=false", "trials=3", "grid.n=[10,20,40]", "method=knn"]),
            tmp_path / "a")
    run_job(compose_cfg(["logger=none", "progress=false", "trials=3", "grid.n=[10,20,40]", "method=linear"]),
            tmp_path / "b")
    next((tmp_path / "b").rglob("identity.json")).write_text("{")
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path), "--bootstrap", "5", "--no-figures"])
    assert done.value.code == 0
