"""Config composition through Hydra's compose API: every option of every group, every preset."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.utils import instantiate

from tests.conftest import CONF_DIR

GROUPS = ["dataset", "backbone", "method", "grid", "logger", "paths", "trainer", "experiment"]


def _options(group):
    return sorted(p.stem for p in (Path(CONF_DIR) / group).glob("*.yaml"))


OPTIONS = [(g, o) for g in GROUPS for o in _options(g)]


def test_every_group_has_options():
    for group in GROUPS:
        assert _options(group), group


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes(compose_cfg, group, option):
    cfg = compose_cfg([f"{group}={option}"], hydra_cfg=True)
    assert cfg.hydra.run.dir
    if group in ("dataset", "backbone", "method", "logger"):
        node = cfg[group]
        assert node.name and node._target_
        assert ":" not in str(node._target_)


@pytest.mark.parametrize("group", ["backbone", "method", "logger"])
def test_every_option_instantiates(compose_cfg, group):
    for option in _options(group):
        cfg = compose_cfg([f"{group}={option}"])
        obj = instantiate(cfg[group], _convert_="all")
        assert obj.name == cfg[group].name


def test_defaults(compose_cfg):
    cfg = compose_cfg()
    assert (cfg.dataset.name, cfg.backbone.name, cfg.method.name) == ("digits", "identity", "linear")
    assert cfg.method.C == 100 and cfg.grid.sampling == "nested"


def test_quickstart_preset_is_an_offline_sweep(compose_cfg):
    cfg = compose_cfg(["experiment=quickstart"], hydra_cfg=True)
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert set(cfg.hydra.sweeper.params.method.split(",")) == {"linear", "knn"}
    assert cfg.name == "quickstart" and cfg.trials >= 10


def test_typed_schema_rejects_bad_values(compose_cfg):
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException):
        compose_cfg(["trials=many"])
    with pytest.raises(ConfigCompositionException):
        compose_cfg(["unknown_key=1"])


@pytest.mark.parametrize("launcher", ["basic", "joblib", "submitit_local", "submitit_slurm"])
def test_launchers_compose(compose_cfg, launcher):
    cfg = compose_cfg([f"hydra/launcher={launcher}"], hydra_cfg=True)
    assert launcher.split("_")[0] in cfg.hydra.launcher._target_.lower()


def test_keys_another_method_takes_are_one_line_naming_them(compose_cfg):
    """A preset written for one method (finetune's lr, batch_size) with another method chosen."""
    from cliffbench.errors import ConfigError
    from cliffbench.runner import build

    cfg = compose_cfg(["experiment=finetune_mnist5k", "method=linear"])
    with pytest.raises(ConfigError, match=r"method=linear takes no lr, batch_size .* ~method.lr ~method.batch_size"):
        build(cfg.method)
    cfg = compose_cfg(["experiment=finetune_mnist5k", "method=linear", "~method.lr", "~method.batch_size"])
    assert type(build(cfg.method)).__name__ == "LinearProbe"
