"""The backbone options and the paper-figure presets compose and instantiate (nothing is built
or downloaded), and the default job sweeps raw pixels, the ImageNet Lite0 and its random init."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.utils import instantiate

CONF = Path(__file__).resolve().parents[1] / "conf"
BACKBONES = sorted(p.stem for p in (CONF / "backbone").glob("*.yaml"))
PAPER = {"openai_vit_b32": ("ViT-B-32", "openai"), "openai_vit_b16": ("ViT-B-16", "openai"),
         "openai_vit_l14": ("ViT-L-14", "openai"), "laion_vit_h14": ("ViT-H-14", "laion2b_s32b_b79k"),
         "beit_large": ("microsoft/beit-large-patch16-224-pt22k", "main")}


@pytest.mark.parametrize("name", BACKBONES)
def test_backbone_option_instantiates_without_building(compose_cfg, name):
    cfg = compose_cfg([f"backbone={name}"])
    backbone = instantiate(cfg.backbone, _convert_="all")
    if name in PAPER:
        assert (backbone.model, backbone.pretrained) == PAPER[name] and backbone.name == name
    if name != "identity":
        assert backbone.feature_identity()  # computable without building the model


def test_open_clip_weights_tags_exist():
    import open_clip

    for model, tag in list(PAPER.values())[:4]:
        assert tag in open_clip.list_pretrained_tags_by_model(model)


@pytest.mark.parametrize("preset", ["fig2_1", "fig2_2", "figD_1", "figD_2", "figD_3"])
def test_paper_presets_compose(compose_cfg, preset):
    cfg = compose_cfg([f"experiment={preset}"], hydra_cfg=True)
    assert cfg.trials == 50
    params = {k: str(v).split(",") for k, v in cfg.hydra.sweeper.params.items()}
    for key, values in params.items():  # every option of the sweep composes (not the whole product)
        for value in values:
            job = compose_cfg([f"experiment={preset}", f"{key}={value}"])
            assert job.dataset.download is True


def test_default_job_shows_transfer_beside_random_init_and_pixels(compose_cfg):
    cfg = compose_cfg(["experiment=quickstart"], hydra_cfg=True)
    assert cfg.hydra.sweeper.params.backbone == "identity,efficientnet_lite0,efficientnet_lite0_random_init"
    assert cfg.dataset.name == "mnist5k"
    for backbone in cfg.hydra.sweeper.params.backbone.split(","):
        job = compose_cfg(["experiment=quickstart", f"backbone={backbone}"])
        instantiate(job.backbone, _convert_="all")


def test_finetune_preset_composes(compose_cfg):
    cfg = compose_cfg(["experiment=finetune_mnist5k"])
    backbone = instantiate(cfg.backbone, _convert_="all")
    assert (cfg.method.name, cfg.dataset.name, backbone.pretrained) == ("finetune", "mnist5k", "imagenet")
    assert cfg.dataset.val_size > 0 and cfg.trainer.accelerator == "cpu"
