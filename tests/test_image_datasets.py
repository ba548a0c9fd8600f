"""Image datasets: tiny files in the real formats, read back through the real torchvision classes."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate
from PIL import Image

from cliffbench.errors import ConfigError, DataError, MissingResourceError
from tests.image_fixtures import write_cifar10, write_imagenette, write_mnist, write_svhn


def _load(compose_cfg, *overrides):
    cfg = compose_cfg(list(overrides))
    return instantiate(cfg.dataset, _convert_="all").load()


def _pixels(img) -> np.ndarray:
    return np.asarray(img)


def test_cifar10_pickles_roundtrip_with_val_carved_from_train(tmp_path, monkeypatch, compose_cfg):
    truth = write_cifar10(tmp_path / "data", monkeypatch)
    data = _load(compose_cfg, "dataset=cifar10", "dataset.val_size=10")
    assert len(data.pool) == 50 and len(data.val) == 10 and len(data.test) == 20
    assert data.pool.y.ndim == 1 and data.pool.y.dtype == np.int64
    # pool and validation rows are disjoint and together the training split
    rows = np.concatenate([data.pool.X.index, data.val.X.index])
    assert sorted(rows.tolist()) == list(range(60))
    # pixels and labels are the ones written, in the written order
    i = int(data.pool.X.index[3])
    img = data.pool.X[3]
    assert isinstance(img, Image.Image) and img.size == (32, 32)
    np.testing.assert_array_equal(_pixels(img), truth["X_train"][i])
    assert data.pool.y[3] == truth["y_train"][i]
    np.testing.assert_array_equal(data.test.y, truth["y_test"])
    np.testing.assert_array_equal(np.asarray(data.test.X), truth["X_test"])
    lines = data.meta["reference_lines"]
    assert lines["random guessing"] == pytest.approx(0.9) and lines["human (Ho-Phuoc 2018)"] == 0.0457


def test_val_carve_is_fixed_by_split_seed(tmp_path, monkeypatch, compose_cfg):
    write_cifar10(tmp_path / "data", monkeypatch)
    a = _load(compose_cfg, "dataset=cifar10", "dataset.val_size=10")
    b = _load(compose_cfg, "dataset=cifar10", "dataset.val_size=10")
    c = _load(compose_cfg, "dataset=cifar10", "dataset.val_size=10", "dataset.split_seed=1")
    np.testing.assert_array_equal(a.val.X.index, b.val.X.index)
    assert a.val.X.fingerprint() == b.val.X.fingerprint() != c.val.X.fingerprint()


def test_default_val_size_is_too_big_for_tiny_data(tmp_path, monkeypatch, compose_cfg):
    write_cifar10(tmp_path / "data", monkeypatch)
    with pytest.raises(ConfigError, match="val_size=10000"):
        _load(compose_cfg, "dataset=cifar10")


def test_classes_filter(tmp_path, monkeypatch, compose_cfg):
    write_cifar10(tmp_path / "data", monkeypatch)
    data = _load(compose_cfg, "dataset=cifar10", "dataset.val_size=2", "dataset.classes=[1,2]")
    assert set(data.pool.y) | set(data.val.y) == {1, 2} and set(data.test.y) <= {1, 2}
    assert data.meta["reference_lines"]["random guessing"] == pytest.approx(0.5)


def test_svhn_mat(tmp_path, monkeypatch, compose_cfg):
    truth = write_svhn(tmp_path / "data", monkeypatch)
    data = _load(compose_cfg, "dataset=svhn", "dataset.val_size=0.25")
    assert len(data.pool) == 30 and len(data.val) == 10
    np.testing.assert_array_equal(data.test.y, truth["y_test"])  # label 10 read back as digit 0
    np.testing.assert_array_equal(_pixels(data.test.X[0]), truth["X_test"][0])
    np.testing.assert_array_equal(np.asarray(data.test.X), truth["X_test"])  # NHWC like CIFAR
    assert data.meta["reference_lines"]["human (Netzer et al. 2011)"] == 0.02


def test_mnist_idx(tmp_path, compose_cfg):
    truth = write_mnist(tmp_path / "data")
    data = _load(compose_cfg, "dataset=mnist", "dataset.val_size=5")
    assert data.test.X[0].mode == "L"
    np.testing.assert_array_equal(_pixels(data.test.X[1]), truth["X_test"][1])
    np.testing.assert_array_equal(data.test.y, truth["y_test"])


def test_imagenette_folders(tmp_path, compose_cfg):
    counts = write_imagenette(tmp_path / "data")
    data = _load(compose_cfg, "dataset=imagenette", "dataset.val_size=5")
    assert len(data.pool) + len(data.val) == counts["train"] and len(data.test) == counts["val"]
    assert sorted(np.unique(data.test.y).tolist()) == list(range(10))
    assert data.pool.X[0].mode == "RGB"
    with pytest.raises(DataError, match="different sizes"):
        np.asarray(data.pool.X)


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "svhn", "mnist", "imagenette"])
def test_missing_data_is_one_clear_line(tmp_path, compose_cfg, name):
    with pytest.raises(MissingResourceError) as err:
        _load(compose_cfg, f"dataset={name}")
    msg = str(err.value)
    assert "\n" not in msg and name in msg and str(tmp_path / "data") in msg
    assert "dataset.download=true" in msg


def test_missing_data_from_the_command_line(tmp_path):
    from tests.conftest import run_cli

    proc = run_cli("dataset=cifar10", "logger=none", "trials=1")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("cliffbench: error:")]
    assert len(lines) == 1 and "dataset.download=true" in lines[0] and "cifar10" in lines[0]
