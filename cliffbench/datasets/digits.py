"""scikit-learn's bundled handwritten digits (1,797 8x8 images, 10 classes): real data, no download."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cliffbench.contract import DataBundle, Dataset, Split
from cliffbench.datasets.base import fixed_split, split_off
from cliffbench.errors import ConfigError


class Digits(Dataset):
    """Digits with a fixed seeded test / validation / pool split.

    ``classes`` restricts the data to some digits (e.g. ``[5, 6, 7, 8, 9]`` for the transfer demo,
    whose backbone was pretrained on 0-4). Pixel values are scaled to [0, 1].
    """

    def __init__(
        self,
        name: str = "digits",
        test_size: int | float = 0.3,
        val_size: int | float | None = 0.1,
        classes: Sequence[int] | None = None,
        split_seed: int = 0,
        reference_lines: dict[str, float] | None = None,
        pool_size: int | None = None,
    ) -> None:
        super().__init__(name, reference_lines)
        self.test_size, self.val_size, self.split_seed = test_size, val_size, split_seed
        self.pool_size = None if pool_size is None else int(pool_size)
        if self.pool_size is not None and self.pool_size < 1:
            raise ConfigError(f"dataset.pool_size must be >= 1 or null, got {pool_size}")
        self.classes = None if classes is None else [int(c) for c in classes]
        if self.classes is not None and not set(self.classes) <= set(range(10)):
            raise ConfigError(f"dataset.classes must be digits 0-9, got {self.classes}")

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All images (N, 8, 8) in [0, 1] and labels, restricted to ``classes``."""
        from sklearn.datasets import load_digits

        bunch = load_digits()
        X, y = bunch.images.astype(np.float32) / 16.0, bunch.target.astype(np.int64)
        if self.classes is not None:
            keep = np.isin(y, self.classes)
            X, y = X[keep], y[keep]
        return X, y

    def load(self) -> DataBundle:
        X, y = self.arrays()
        pool_idx, val_idx, test_idx = fixed_split(len(y), self.test_size, self.val_size, self.split_seed)
        if self.pool_size is not None and self.pool_size < len(pool_idx):  # a fixed part of the pool
            _, keep = split_off(len(pool_idx), self.pool_size, self.split_seed + 2)
            pool_idx = pool_idx[keep]
        val = Split(X[val_idx], y[val_idx]) if len(val_idx) else None
        chance = 1.0 - 1.0 / len(np.unique(y))
        lines = {"random guessing": chance, **self.reference_lines}
        return DataBundle(Split(X[pool_idx], y[pool_idx]), Split(X[test_idx], y[test_idx]), val,
                          "classification", self._meta(reference_lines=lines))
