"""Tiny image datasets written in the real on-disk formats torchvision reads (CIFAR python
pickles, SVHN .mat, MNIST idx, ImageNette folders), with the expected checksums patched to the
files written here (torchvision verifies CIFAR/SVHN files by md5)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def images(n: int, rng: np.random.Generator, side: int = 32, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images (n, side, side, channels) whose mean colour encodes the label (learnable)."""
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    base = (labels[:, None, None, None] * 25).astype(np.int16)
    noise = rng.integers(-20, 21, size=(n, side, side, channels))
    return np.clip(base + noise, 0, 255).astype(np.uint8), labels.astype(np.int64)


def write_cifar10(root: Path, monkeypatch, n_train: int = 60, n_test: int = 20, seed: int = 0) -> dict:
    import torchvision.datasets as tvd

    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    X_tr, y_tr = images(n_train, rng)
    X_te, y_te = images(n_test, rng)
    train_files = []
    chunks = np.array_split(np.arange(n_train), 5)
    for i, rows in enumerate(chunks, start=1):
        data = X_tr[rows].transpose(0, 3, 1, 2).reshape(len(rows), -1)  # CIFAR stores CHW rows
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump({"data": data, "labels": y_tr[rows].tolist()}, fh)
        train_files.append([f"data_batch_{i}", md5(folder / f"data_batch_{i}")])
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": X_te.transpose(0, 3, 1, 2).reshape(n_test, -1), "labels": y_te.tolist()}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)
    monkeypatch.setattr(tvd.CIFAR10, "train_list", train_files)
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    monkeypatch.setattr(tvd.CIFAR10, "meta", {**tvd.CIFAR10.meta, "md5": md5(folder / "batches.meta")})
    return {"X_train": X_tr, "y_train": y_tr, "X_test": X_te, "y_test": y_te}


def write_svhn(root: Path, monkeypatch, n_train: int = 40, n_test: int = 20, seed: int = 1) -> dict:
    import scipy.io
    import torchvision.datasets as tvd

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out, split_list = {}, dict(tvd.SVHN.split_list)
    for split, n in (("train", n_train), ("test", n_test)):
        X, y = images(n, rng)
        mat_y = np.where(y == 0, 10, y).reshape(-1, 1)  # SVHN stores digit 0 as label 10
        path = root / f"{split}_32x32.mat"
        scipy.io.savemat(path, {"X": X.transpose(1, 2, 3, 0), "y": mat_y})  # (32, 32, 3, N)
        split_list[split] = [split_list[split][0], path.name, md5(path)]
        out[f"X_{split}"], out[f"y_{split}"] = X, y
    monkeypatch.setattr(tvd.SVHN, "split_list", split_list)
    return out


def write_mnist(root: Path, n_train: int = 40, n_test: int = 20, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n, key in (("train", n_train, "train"), ("t10k", n_test, "test")):
        X, y = images(n, rng, side=28, channels=1)
        X = X[..., 0]
        header = np.array([0x0803, n, 28, 28], dtype=">i4").tobytes()
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + X.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            np.array([0x0801, n], dtype=">i4").tobytes() + y.astype(np.uint8).tobytes())
        out[f"X_{key}"], out[f"y_{key}"] = X, y
    return out


WNIDS = ["n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
         "n03394916", "n03417042", "n03425413", "n03445777", "n03888257"]


def write_imagenette(root: Path, per_class: int = 3, seed: int = 3, size: str = "320px") -> dict:
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = root / (f"imagenette2-{size.removesuffix('px')}" if size != "full" else "imagenette2")
    counts = {}
    for split in ("train", "val"):
        for c, wnid in enumerate(WNIDS):
            folder = base / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                side = int(rng.integers(20, 40))  # ImageNette images have varied sizes
                arr = np.full((side, side + 3, 3), c * 25, dtype=np.uint8)
                Image.fromarray(arr).save(folder / f"{wnid}_{i}.JPEG")
        counts[split] = per_class * len(WNIDS)
    return counts
