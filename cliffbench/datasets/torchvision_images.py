"""Image datasets read by torchvision from their standard on-disk formats under ``root``
(``paths.data_dir`` by default): CIFAR-10/100 (python pickles), SVHN (.mat), MNIST (idx files),
ImageNette (folder per class). ``download=true`` fetches them on a connected machine.

Inputs stay images (an indexable :class:`Images` view); each backbone applies its own
preprocessing. The validation set is carved from the training split with a fixed seed and is
never part of the sampling pool (so never counted in n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cliffbench.contract import DataBundle, Dataset, Split
from cliffbench.datasets.base import resolve_size, split_off
from cliffbench.datasets.fingerprint import tree_fingerprint
from cliffbench.errors import ConfigError, DataError, MissingResourceError


@dataclass(frozen=True)
class Spec:
    """How torchvision names one dataset: class, split arguments, and the files it looks for."""

    cls: str
    train: dict[str, Any]
    test: dict[str, Any]
    layout: str


SPECS = {
    "cifar10": Spec("CIFAR10", {"train": True}, {"train": False}, "cifar-10-batches-py/ (python pickles)"),
    "cifar100": Spec("CIFAR100", {"train": True}, {"train": False}, "cifar-100-python/ (python pickles)"),
    "svhn": Spec("SVHN", {"split": "train"}, {"split": "test"}, "train_32x32.mat and test_32x32.mat"),
    "mnist": Spec("MNIST", {"train": True}, {"train": False}, "MNIST/raw/ (idx files)"),
    "imagenette": Spec("Imagenette", {"split": "train"}, {"split": "val"}, "imagenette2[-320|-160]/{train,val}/<wnid>/"),
}


def _source_files(base) -> Path:
    """The file or folder a torchvision dataset reads its split from."""
    for attr in ("_image_root", "raw_folder"):  # Imagenette, MNIST
        if hasattr(base, attr):
            return Path(getattr(base, attr))
    if hasattr(base, "base_folder"):  # CIFAR
        return Path(base.root) / base.base_folder
    return Path(base.root) / base.filename  # SVHN


def _labels(base) -> np.ndarray:
    """All labels of a torchvision dataset without decoding any image."""
    for attr in ("targets", "labels"):
        if hasattr(base, attr):
            return np.asarray(getattr(base, attr)).astype(np.int64).reshape(-1)
    if hasattr(base, "_samples"):  # Imagenette
        return np.asarray([s[1] for s in base._samples], dtype=np.int64)
    return np.asarray([base[i][1] for i in range(len(base))], dtype=np.int64)


class Images:
    """Rows ``index`` of a torchvision dataset, images only: ``X[i]`` is a PIL image.

    ``fingerprint()`` names the content (dataset, split, rows) for the feature cache; ``np.asarray``
    stacks the pixels (equal-sized images only), so ``backbone=identity`` works on small images.
    """

    def __init__(self, base, index: np.ndarray, source: str) -> None:
        self.base, self.index, self.source = base, np.asarray(index, dtype=np.int64), source

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        return self.base[int(self.index[i])][0]

    def fingerprint(self) -> str:
        return f"{self.source}:" + hashlib.sha256(self.index.tobytes()).hexdigest()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = getattr(self.base, "data", None)
        if isinstance(data, np.ndarray):
            arr = data[self.index]
            if arr.ndim == 4 and arr.shape[1] in (1, 3) and arr.shape[-1] not in (1, 3):
                arr = np.moveaxis(arr, 1, -1)  # SVHN stores NCHW; give NHWC like CIFAR
        else:
            images = [np.asarray(self[i]) for i in range(len(self))]
            if len({im.shape for im in images}) > 1:
                raise DataError(f"{self.source}: images of different sizes cannot be stacked into one "
                                f"array; use an image backbone (e.g. backbone=openai_vit_b32)")
            arr = np.stack(images) if images else np.zeros((0,), np.uint8)
        return arr if dtype is None else arr.astype(dtype)


class TorchvisionImages(Dataset):
    """One of :data:`SPECS` with a fixed seeded validation carve-out of the training split.

    ``classes`` keeps only those labels (train and test); ``val_size`` is a count or a fraction of the
    training split (default 10,000 as in the paper); ``size`` selects ImageNette's variant.
    """

    speed_only = ("download",)

    def __init__(self, name: str, root: str, download: bool = False, val_size: int | float | None = 10000,
                 classes: Sequence[int] | None = None, split_seed: int = 0, size: str | None = None,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, reference_lines)
        if name not in SPECS:
            raise ConfigError(f"unknown image dataset {name!r} (one of {', '.join(SPECS)})")
        self.spec, self.root, self.download = SPECS[name], Path(str(root)).expanduser(), bool(download)
        self.val_size, self.split_seed, self.size = val_size, int(split_seed), size
        self.classes = None if classes is None else sorted(int(c) for c in classes)
        self._fingerprint: str | None = None

    def fingerprint(self) -> str | None:
        """Sizes, mtimes and names of the files the last :meth:`load` read (cheap for image folders)."""
        return self._fingerprint

    def _open(self, split: str, kwargs: dict[str, Any]):
        import torchvision.datasets as tvd

        cls = getattr(tvd, self.spec.cls)
        extra = {"size": self.size} if self.size is not None else {}
        how = (f"fetch it with `cliffbench dataset={self.name} dataset.download=true` on a connected "
               f"machine, or point paths.data_dir (env CLIFFBENCH_DATA_DIR) at a folder that has it")
        try:
            if self.download:
                self.root.mkdir(parents=True, exist_ok=True)
            return cls(str(self.root), download=self.download, **kwargs, **extra)
        except (RuntimeError, FileNotFoundError) as exc:
            if self.download:
                raise MissingResourceError(f"dataset {self.name}: download into {self.root} failed "
                                           f"({type(exc).__name__}: {exc})") from exc
            raise MissingResourceError(f"dataset {self.name} ({split}) not found in {self.root} (looked for "
                                       f"{self.spec.layout}); {how}") from exc
        except OSError as exc:  # network errors (URLError, timeouts) and unreadable files
            verb = "download into" if self.download else "reading"
            raise MissingResourceError(f"dataset {self.name}: {verb} {self.root} failed ({type(exc).__name__}: "
                                       f"{exc}); {how}") from exc

    def _rows(self, labels: np.ndarray) -> np.ndarray:
        if self.classes is None:
            return np.arange(len(labels))
        unknown = sorted(set(self.classes) - set(np.unique(labels).tolist()))
        if unknown:
            raise ConfigError(f"dataset.classes {unknown} not among the labels of {self.name}")
        return np.flatnonzero(np.isin(labels, self.classes))

    def load(self) -> DataBundle:
        train, test = self._open("train", self.spec.train), self._open("test", self.spec.test)
        self._fingerprint = tree_fingerprint(sorted({_source_files(train), _source_files(test)}), self.root)
        y_train, y_test = _labels(train), _labels(test)
        train_rows, test_rows = self._rows(y_train), self._rows(y_test)
        n_val = resolve_size(self.val_size, len(train_rows), "dataset.val_size")
        pool_pos, val_pos = split_off(len(train_rows), n_val, self.split_seed)
        pool_rows, val_rows = train_rows[pool_pos], train_rows[val_pos]
        tag = f"{self.name}{'-' + self.size if self.size else ''}"
        pool = Split(Images(train, pool_rows, f"{tag}/train"), y_train[pool_rows])
        val = Split(Images(train, val_rows, f"{tag}/train"), y_train[val_rows]) if n_val else None
        test_split = Split(Images(test, test_rows, f"{tag}/test"), y_test[test_rows])
        n_classes = len(np.unique(y_train[train_rows]))
        lines = {"random guessing": 1.0 - 1.0 / n_classes, **self.reference_lines}
        return DataBundle(pool, test_split, val, "classification",
                          self._meta(reference_lines=lines, n_classes=n_classes))
