"""Torch backbones built offline (random init): each gives the same embeddings as its library's
own model + preprocessing, through cliffbench's Trainer.predict extraction; missing weights give
one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cliffbench.backbones.extract import extract_features
from cliffbench.errors import ConfigError, MissingResourceError

TINY_CLIP = {"embed_dim": 16,
             "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
             "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1}}
CPU = {"accelerator": "cpu", "precision": "32-true"}


@pytest.fixture
def tiny_clip(tmp_path_factory):
    """Register a tiny open_clip architecture ``cb-tiny-vit`` (no weights exist for it)."""
    import open_clip

    folder = tmp_path_factory.mktemp("clipcfg")
    (folder / "cb-tiny-vit.json").write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(folder / "cb-tiny-vit.json")
    return "cb-tiny-vit"


def _images(n=5, side=40):
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (side, side + 4, 3), dtype=np.uint8)) for _ in range(n)]


def test_open_clip_matches_encode_image(tiny_clip, tmp_path):
    import open_clip

    from cliffbench.backbones.open_clip_model import OpenClip

    torch.manual_seed(0)
    enc = OpenClip(model=tiny_clip, pretrained=None).build({"weights_dir": str(tmp_path)})
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms(tiny_clip, pretrained=None)
    imgs = _images()
    feats = extract_features(enc, imgs, settings=CPU, batch_size=2, progress=False)
    with torch.no_grad():
        ref = model.encode_image(torch.stack([preprocess(im) for im in imgs])).numpy()
    assert feats.shape == (5, enc.dim) == (5, 16) and feats.dtype == np.float32
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-5)


def test_timm_matches_pooled_prelogits(tmp_path):
    import timm
    from timm.data import create_transform, resolve_data_config

    from cliffbench.backbones.timm_model import Timm

    torch.manual_seed(0)
    enc = Timm(model="test_vit", pretrained=None).build({"weights_dir": str(tmp_path)})
    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False, num_classes=0).eval()
    transform = create_transform(**resolve_data_config({}, model=model))
    imgs = _images(3, side=200)
    feats = extract_features(enc, imgs, settings=CPU, batch_size=2, progress=False)
    with torch.no_grad():
        ref = model(torch.stack([transform(im) for im in imgs])).numpy()
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-5)
    # grey images go through the same colour pipeline
    grey = [im.convert("L") for im in imgs]
    assert extract_features(enc, grey, settings=CPU, progress=False).shape == ref.shape


def test_hf_beit_from_local_folder_matches_transformers(tmp_path):
    from transformers import BeitConfig, BeitImageProcessor, BeitModel

    from cliffbench.backbones.hf_vision import HFVision

    folder = tmp_path / "tiny-beit"
    BeitConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=64, use_mean_pooling=True).save_pretrained(folder)
    processor = BeitImageProcessor(size={"height": 32, "width": 32}, do_center_crop=False)
    processor.save_pretrained(folder)
    torch.manual_seed(0)
    enc = HFVision(model=str(folder), pretrained=None).build({"weights_dir": str(tmp_path)})
    enc.module.inner.save_pretrained(folder)
    imgs = _images(3, side=32)
    imgs = [im.crop((0, 0, 32, 32)) for im in imgs]
    feats = extract_features(enc, imgs, settings=CPU, progress=False)
    model = BeitModel.from_pretrained(folder).eval()
    with torch.no_grad():
        ref = model(**processor(images=imgs, return_tensors="pt")).pooler_output.numpy()
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind, model, tag", [
    ("open_clip", "ViT-B-32", "openai"),
    ("timm", "test_vit", "r160_in1k"),
    ("hf", "microsoft/beit-large-patch16-224-pt22k", "main"),
])
def test_missing_weights_offline_is_one_clear_line(tmp_path, monkeypatch, kind, model, tag):
    from cliffbench.backbones.hf_vision import HFVision
    from cliffbench.backbones.open_clip_model import OpenClip
    from cliffbench.backbones.timm_model import Timm

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hfc

    monkeypatch.setattr(hfc, "HF_HUB_OFFLINE", True)
    cls = {"open_clip": OpenClip, "timm": Timm, "hf": HFVision}[kind]
    weights = tmp_path / "weights"
    with pytest.raises(MissingResourceError) as err:
        cls(model=model, pretrained=tag).build({"weights_dir": str(weights)})
    msg = str(err.value)
    assert "\n" not in msg and model in msg and tag in msg and str(weights) in msg
    assert "internet" in msg


def test_unknown_model_or_tag_is_a_config_error(tmp_path):
    from cliffbench.backbones.open_clip_model import OpenClip
    from cliffbench.backbones.timm_model import Timm

    paths = {"weights_dir": str(tmp_path)}
    with pytest.raises(ConfigError, match="not a tag of ViT-B-32"):
        OpenClip(model="ViT-B-32", pretrained="no-such-tag").build(paths)
    with pytest.raises(ConfigError, match="not an open_clip model"):
        OpenClip(model="ViT-Q-99").build(paths)
    with pytest.raises(ConfigError, match="not a timm model"):
        Timm(model="no_such_net").build(paths)
