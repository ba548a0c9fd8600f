"""``digits_cnn_0to4``: an offline stand-in for a foundation model. A small convnet pretrained
inside cliffbench (Lightning, Adam, fixed recipe: name the digit and its rotation of randomly
shifted digits, see ``digits_pretrain``) on scikit-learn's digits of classes 0-4 only,
then used as a frozen feature extractor for the disjoint classes 5-9, so the default offline job
shows a transfer curve beside the no-transfer one. It is tiny and nothing like CLIP; it only plays
the role of "pretrained on other data".

The pretrained weights are cached under ``<paths.cache_dir>/pretrained/`` (written atomically); later
uses load them. Features are the conv trunk's output (2*width x 4 x 4, flattened), scaled by a
constant so that their mean norm on the pretraining digits is 4 (about that of 64 pixel values)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cliffbench.backbones.torch_backbone import Encoder, TorchBackbone
from cliffbench.errors import ConfigError

log = logging.getLogger("cliffbench")
RECIPE_VERSION = 3
SIDE = 8  # scikit-learn digits are 8x8


class DigitsInput:
    """Raw input -> (1, 8, 8) float tensor in [0, 1]: digits arrays as they are; other images
    (e.g. MNIST) converted to grey and resized to 8x8."""

    def __call__(self, x: Any):
        import torch

        from cliffbench.image_inputs import to_pil

        arr = np.asarray(x) if isinstance(x, np.ndarray) else None
        if arr is None or arr.shape != (SIDE, SIDE) or not np.issubdtype(arr.dtype, np.floating):
            img = to_pil(x).convert("L").resize((SIDE, SIDE))
            arr = np.asarray(img, dtype=np.float32) / 255.0
        return torch.as_tensor(arr, dtype=torch.float32).reshape(1, SIDE, SIDE)

    def __repr__(self) -> str:
        return "DigitsInput()"


def embedding_dim(width: int) -> int:
    return 2 * width * (SIDE // 2) ** 2


FEATURE_NORM = 4.0  # about the norm of a digit's 64 pixel values: probes see a familiar scale


def digits_net(width: int):
    """conv(w) - conv(2w) - maxpool - conv(2w) - flatten - scale: 8x8 grey image -> 32*width
    features. The last step multiplies by a constant fixed after pretraining (``scale`` buffer)."""
    import torch
    from torch import nn

    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("scale", torch.ones(()))

        def forward(self, x):
            return x * self.scale

    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(), nn.Flatten(), Scale(),
    )


class DigitsCNN(TorchBackbone):
    """Pretrained on ``pretrain_classes`` of the digits for ``epochs`` epochs with Adam(``lr``)."""

    def __init__(self, name: str = "digits_cnn_0to4", pretrain_classes: Sequence[int] = (0, 1, 2, 3, 4),
                 epochs: int = 30, width: int = 16, lr: float = 1e-3, seed: int = 0,
                 batch_size: int = 256, num_workers: int = 0) -> None:
        super().__init__(name, batch_size, num_workers)
        self.pretrain_classes = sorted(int(c) for c in pretrain_classes)
        if not self.pretrain_classes or not set(self.pretrain_classes) <= set(range(10)):
            raise ConfigError(f"backbone.pretrain_classes must be digits 0-9, got {self.pretrain_classes}")
        self.epochs, self.width, self.lr, self.seed = int(epochs), int(width), float(lr), int(seed)

    def recipe(self) -> dict[str, Any]:
        import torch

        return {"recipe": RECIPE_VERSION, "classes": self.pretrain_classes, "epochs": self.epochs,
                "width": self.width, "lr": self.lr, "seed": self.seed, "torch": torch.__version__.split("+")[0]}

    def feature_identity(self) -> dict[str, Any]:
        return {"kind": "digits_cnn", **self.recipe()}

    def describe(self) -> dict[str, Any]:
        return {"pretrain_classes": self.pretrain_classes, "note": "offline stand-in for a foundation model"}

    def weights_path(self, paths: Mapping[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(self.recipe(), sort_keys=True).encode()).hexdigest()[:16]
        return Path(str(paths.get("cache_dir"))) / "pretrained" / f"digits_cnn-{digest}.pt"

    def _pretrain(self, net) -> None:
        import torch
        from sklearn.datasets import load_digits

        from cliffbench.backbones.digits_pretrain import pretrain

        bunch = load_digits()
        keep = np.isin(bunch.target, self.pretrain_classes)
        X = bunch.images[keep].astype(np.float32) / 16.0
        y = np.searchsorted(self.pretrain_classes, bunch.target[keep]).astype(np.int64)
        pretrain(net, embedding_dim(self.width), X, y, epochs=self.epochs, lr=self.lr, seed=self.seed)
        with torch.no_grad():
            norm = net(torch.as_tensor(X).unsqueeze(1)).norm(dim=1).mean()
            net[-1].scale.fill_(FEATURE_NORM / max(float(norm), 1e-12))

    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        import torch

        from cliffbench.results.store import atomic_write

        path = self.weights_path(paths)
        if random_init:  # seeded by the caller (build_seeded, or the trial's seed in scratch)
            return Encoder(digits_net(self.width), DigitsInput(), embedding_dim(self.width))
        net = digits_net(self.width)
        if path.is_file():
            try:
                net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
                return Encoder(net, DigitsInput(), embedding_dim(self.width))
            except Exception as exc:  # noqa: BLE001 - a damaged file is simply retrained
                log.warning("pretrained stand-in %s unreadable (%s): retraining it", path, exc)
        log.info("pretraining %s on digits %s (once; cached in %s)", self.name, self.pretrain_classes, path)
        self._pretrain(net)
        atomic_write(path, lambda fh: torch.save(net.state_dict(), fh), binary=True)
        return Encoder(net, DigitsInput(), embedding_dim(self.width))
