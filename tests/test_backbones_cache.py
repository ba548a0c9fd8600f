"""Feature extraction and its on-disk cache: a job extracts once, the next job (other probe) hits
the cache without building the model, a corrupt file is rebuilt, the key follows what changes the
features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cliffbench.backbones.feature_cache import FeatureCache, split_fingerprint
from tests.image_fixtures import write_cifar10
from tests.test_backbones_models import tiny_clip  # noqa: F401 - fixture


def _overrides(tiny, method):
    return ["dataset=cifar10", "dataset.val_size=10", "backbone=open_clip", f"backbone.model={tiny}",
            "backbone.pretrained=null", "backbone.num_workers=0", f"method={method}", "trials=2",
            "grid.n=[10]", "logger=none", "progress=false", "trainer.accelerator=cpu"]


def _features(cache_dir: Path) -> dict[str, np.ndarray]:
    out = {}
    for meta in sorted((cache_dir / "features").glob("*.json")):
        out[json.loads(meta.read_text())["split"]] = np.load(meta.with_suffix(".npy"))
    return out


def test_extract_then_cache_hit_without_building_then_probes(tmp_path, monkeypatch, compose_cfg, tiny_clip):  # noqa: F811
    from cliffbench.backbones.open_clip_model import OpenClip
    from cliffbench.results import load
    from cliffbench.api import run_job

    write_cifar10(tmp_path / "data", monkeypatch)
    built = []
    real_build = OpenClip.build
    monkeypatch.setattr(OpenClip, "build", lambda self, *a, **k: built.append(1) or real_build(self, *a, **k))
    run_job(compose_cfg(_overrides(tiny_clip, "linear")), tmp_path / "job_linear")
    assert built == [1]
    first = _features(tmp_path / "cache")
    assert set(first) == {"pool", "val", "test"}
    assert first["pool"].shape == (50, 16) and first["test"].shape == (20, 16)

    def must_not_build(self, *a, **k):
        raise AssertionError("the model was built on a cache hit")

    monkeypatch.setattr(OpenClip, "build", must_not_build)
    run_job(compose_cfg(_overrides(tiny_clip, "knn")), tmp_path / "job_knn")
    for name in ("job_linear", "job_knn"):
        df = load(tmp_path / name)
        assert len(df) == 2 and (df["status"] == "ok").all()
        assert df["test_error"].between(0, 1).all()
    # the k-NN rows are scikit-learn's 3-NN on the cached features (trial subsets as the runner drew them)
    from sklearn.neighbors import KNeighborsClassifier

    from cliffbench.sampling import trial_subsets
    cfg = compose_cfg(_overrides(tiny_clip, "knn"))
    from hydra.utils import instantiate
    data = instantiate(cfg.dataset, _convert_="all").load()
    df = load(tmp_path / "job_knn")
    for row in df.itertuples():
        idx = trial_subsets([row.n], pool_size=50, seed=0, trial=row.trial, sampling="nested", labels=data.pool.y)[row.n]
        knn = KNeighborsClassifier(3, algorithm="brute").fit(first["pool"][idx], data.pool.y[idx])
        assert row.test_error == pytest.approx(np.mean(knn.predict(first["test"]) != data.test.y))


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, compose_cfg, tiny_clip):  # noqa: F811
    from cliffbench.api import run_job

    write_cifar10(tmp_path / "data", monkeypatch)
    run_job(compose_cfg(_overrides(tiny_clip, "knn")), tmp_path / "a")
    before = _features(tmp_path / "cache")
    pool_file = next(p for p in (tmp_path / "cache" / "features").glob("*.json")
                     if json.loads(p.read_text())["split"] == "pool").with_suffix(".npy")
    pool_file.write_bytes(pool_file.read_bytes()[:100])  # a truncated write
    run_job(compose_cfg(_overrides(tiny_clip, "knn")), tmp_path / "b")
    after = _features(tmp_path / "cache")
    np.testing.assert_allclose(after["pool"], before["pool"], rtol=1e-5, atol=1e-6)
    assert not list((tmp_path / "cache" / "features").glob(".*.tmp"))  # no temporary files left


def test_cache_checks_rows_and_values(tmp_path):
    cache = FeatureCache(tmp_path)
    key, facts = cache.key({"model": "m"}, "pool", "abc")
    cache.save(key, np.ones((3, 2), np.float32), facts)
    assert cache.load(key, 3).shape == (3, 2)
    assert cache.load(key, 4) is None and not cache.path(key).exists()  # wrong row count: dropped
    cache.save(key, np.array([[np.nan, 1.0]], np.float32), facts)
    assert cache.load(key, 1) is None


def test_cache_key_follows_what_changes_features():
    base = FeatureCache.key({"model": "ViT-B-32", "pretrained": "openai"}, "pool", "data")[0]
    assert base == FeatureCache.key({"pretrained": "openai", "model": "ViT-B-32"}, "pool", "data")[0]
    assert base != FeatureCache.key({"model": "ViT-B-32", "pretrained": "laion2b"}, "pool", "data")[0]
    assert base != FeatureCache.key({"model": "ViT-B-32", "pretrained": "openai"}, "test", "data")[0]
    assert base != FeatureCache.key({"model": "ViT-B-32", "pretrained": "openai"}, "pool", "other")[0]
    X = np.zeros((4, 2))
    assert split_fingerprint(X, np.arange(4)) != split_fingerprint(X, np.arange(4)[::-1])
    assert split_fingerprint(X, np.arange(4)) != split_fingerprint(X + 1, np.arange(4))


def test_extraction_settings_are_not_part_of_the_job_identity(compose_cfg):
    from cliffbench.identity import job_identity

    a = compose_cfg(["backbone=openai_vit_b32", "dataset=cifar10"])
    b = compose_cfg(["backbone=openai_vit_b32", "dataset=cifar10", "backbone.batch_size=7", "backbone.num_workers=1",
                     "dataset.download=true"])
    assert job_identity(a) == job_identity(b)
