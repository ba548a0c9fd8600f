"""One list of speed-only keys decides both the results' identity hash and the job directory name:
changing a speed-only key resumes the same directory and cells, changing anything else does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from cliffbench.identity import job_identity, plugin_speed_only, speed_only_keys
from cliffbench.results.store import config_id
from tests.conftest import CONF_DIR, run_cli

GROUPS = ("method", "backbone", "dataset")


def _job(compose_cfg, *overrides):
    """(job directory, config_id) of a single run with these overrides."""
    cfg = compose_cfg(list(overrides), hydra_cfg=True)
    run_dir = OmegaConf.select(cfg, "hydra.run.dir")
    return run_dir, config_id(job_identity(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])))


def _changed(value):
    if isinstance(value, bool):
        return str(not value).lower()
    if isinstance(value, (int, float)):
        return str(value + 1)
    return "cpu" if value in (None, "auto") else "auto"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONF_DIR) / group).glob("*.yaml"))


def test_the_resume_bug_speed_only_method_keys_keep_the_job(compose_cfg):
    plain = _job(compose_cfg, "method=knn")
    tuned = _job(compose_cfg, "method=knn", "method.device=cpu", "method.list_size=512", "trials=3",
                 "progress=false")
    assert tuned == plain
    assert _job(compose_cfg, "method=knn", "method.k=5") != plain  # a result key does change both


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in _options(g)])
def test_every_declared_speed_only_key_exists_and_leaves_dir_and_identity_alone(compose_cfg, group, option):
    base_overrides = [f"{group}={option}"]
    if group == "dataset" and option == "features":
        base_overrides.append("dataset.path=/nowhere.npz")
    cfg = compose_cfg(base_overrides)
    declared = plugin_speed_only(cfg[group])
    changed = [f"{group}.{key}={_changed(cfg[group][key])}" for key in declared if key in cfg[group]]
    assert len(changed) == len(declared), f"{group}={option} declares speed-only keys its config lacks"
    if changed:
        assert _job(compose_cfg, *base_overrides, *changed) == _job(compose_cfg, *base_overrides)


def test_global_and_trainer_speed_only_keys_keep_the_job_and_result_keys_do_not(compose_cfg):
    base = _job(compose_cfg, "method=mlp")
    changed = ["trainer.num_workers=3", "trainer.enable_progress_bar=true", "trials=2", "grid.num=3",
               "progress=false", "label=x", "paths.cache_dir=/elsewhere"]
    assert _job(compose_cfg, "method=mlp", *changed) == base
    for key in ("seed=5", "trainer.patience=3", "grid.sampling=iid", "dataset.classes=[0,1]"):
        assert _job(compose_cfg, "method=mlp", key) != base, key


def test_identity_and_dirname_use_the_same_list(compose_cfg):
    cfg = compose_cfg(["method=knn", "backbone=openai_vit_b32"])
    keys = speed_only_keys(cfg)
    assert {"method.device", "method.list_size", "method.max_memory_gb", "backbone.batch_size",
            "backbone.num_workers", "trainer.num_workers", "trials"} <= set(keys)
    hydra = compose_cfg(["method=knn"], hydra_cfg=True).hydra
    assert "cb.job_dirname" in OmegaConf.to_yaml(hydra.run, resolve=False)
    assert "cb.job_dirname" in OmegaConf.to_yaml(hydra.sweep, resolve=False)
    assert not OmegaConf.select(hydra, "job.config.override_dirname.exclude_keys"), \
        "a second, hand-written list of excluded keys would drift from the identity's"


def test_rerun_with_speed_only_method_keys_resumes_the_cells(tmp_path):
    out = tmp_path / "outputs"
    fast = ["logger=none", "trials=2", "grid.n=[10,20]", "progress=false", "name=resume"]
    assert run_cli("method=knn", *fast).returncode == 0
    first = {str(p) for p in out.rglob("cells/*/n*.json")}
    res = run_cli("method=knn", "method.device=cpu", "method.list_size=512", *fast)
    assert res.returncode == 0, res.stderr
    assert {str(p) for p in out.rglob("cells/*/n*.json")} == first, "finished cells were recomputed"
    assert [p.name for p in (out / "runs" / "resume").iterdir()] == ["method=knn"]
