"""Turning raw inputs (PIL images, image arrays) into tensors: the per-sample preprocessing wrapper
every torch backbone and trained method feeds its DataLoader with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def to_pil(x: Any):
    """A PIL image from a PIL image or an image array: (H, W) or (H, W, C) uint8, or floats in [0, 1]
    (e.g. scikit-learn's digits scaled by cliffbench)."""
    from PIL import Image

    if isinstance(x, Image.Image):
        return x
    arr = np.asarray(x)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = np.moveaxis(arr, 0, -1)  # CHW -> HWC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.clip(np.rint(arr * 255.0), 0, 255)
    return Image.fromarray(arr.astype(np.uint8))


def to_rgb_pil(x: Any):
    """``to_pil`` converted to RGB (grayscale datasets through colour backbones)."""
    img = to_pil(x)
    return img if img.mode == "RGB" else img.convert("RGB")


class RGB:
    """Picklable transform: any image-like input -> RGB PIL image (first step of colour pipelines)."""

    def __call__(self, x: Any):
        return to_rgb_pil(x)

    def __repr__(self) -> str:
        return "RGB()"


class Preprocessed:
    """A torch-style dataset over rows ``index`` of ``X`` (any indexable of raw inputs): item ``i``
    is ``transform(X[index[i]])``, paired with ``targets[i]`` when targets are given."""

    def __init__(self, X: Any, transform: Callable[[Any], Any], index: np.ndarray | None = None,
                 targets: np.ndarray | None = None) -> None:
        self.X, self.transform = X, transform
        self.index = np.arange(len(X)) if index is None else np.asarray(index)
        self.targets = None if targets is None else np.asarray(targets)
        if self.targets is not None and len(self.targets) != len(self.index):
            raise ValueError(f"{len(self.targets)} targets for {len(self.index)} inputs")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        x = self.transform(self.X[int(self.index[i])])
        if self.targets is None:
            return x
        return x, int(self.targets[i])
