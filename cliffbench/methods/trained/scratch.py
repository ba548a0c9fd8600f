"""Training from scratch: the finetuning loop (Adam, early stopping on the validation set,
best-validation-loss weights for the test error) on a randomly initialised network, no readout init.

``arch=resnet18``: torchvision's ResNet-18 adapted to small images (3x3 stride-1 stem, no max-pool),
fed images scaled to [0, 1] and centred ((x - 0.5) / 0.25), optionally resized to ``image_size``.
``arch=backbone``: the job's backbone architecture (e.g. a CLIP ViT) randomly initialised, with that
backbone's own preprocessing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome


ARCHS = ("resnet18", "backbone")


class SmallImageInput:
    """Raw image -> (C, H, W) float tensor, (x - 0.5) / 0.25, resized to ``size`` when given."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size

    def __call__(self, x: Any):
        import torch

        from cliffbench.image_inputs import to_pil

        if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) and self.size is None:
            arr = x.astype(np.float32)  # already in [0, 1] (e.g. the digits)
        else:
            img = to_pil(x)
            if self.size is not None:
                img = img.resize((self.size, self.size))
            arr = np.asarray(img, dtype=np.float32) / 255.0
        t = torch.as_tensor(arr)
        t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
        return (t - 0.5) / 0.25


def small_resnet18(in_channels: int):
    """ResNet-18 trunk (512-d output) with a CIFAR-style stem: 3x3 conv, stride 1, no max-pool."""
    import torch
    from torchvision.models import resnet18

    net = resnet18(num_classes=10)
    net.conv1 = torch.nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
    net.maxpool = torch.nn.Identity()
    net.fc = torch.nn.Identity()
    return net


class Scratch(Method):
    needs_features = False
    tasks = ("classification",)

    def __init__(self, name: str = "scratch", arch: str = "resnet18", lr: float = 1e-3,
                 weight_decay: float = 0.0, batch_size: int = 128, image_size: int | None = None) -> None:
        super().__init__(name)
        if arch not in ARCHS:
            raise ConfigError(f"method.arch must be one of {', '.join(ARCHS)}, got {arch!r}")
        if not float(lr) > 0 or int(batch_size) < 1:
            raise ConfigError(f"method.lr must be > 0 and method.batch_size >= 1, got {lr}, {batch_size}")
        self.arch, self.lr, self.weight_decay = arch, float(lr), float(weight_decay)
        self.batch_size, self.image_size = int(batch_size), (None if image_size is None else int(image_size))

    def _network(self, ctx: JobContext):
        """(make_trunk, trunk output dim, preprocess)."""
        if self.arch == "backbone":
            from cliffbench.methods.trained.finetune import check_trainable

            check_trainable(self.name, ctx)
            template = ctx.backbone.build(ctx.paths, random_init=True)
            return (lambda: ctx.backbone.build(ctx.paths, random_init=True).module), template.dim, template.preprocess
        if ctx.raw.val is None or len(ctx.raw.val) == 0:
            raise ConfigError(f"method={self.name} needs a validation set for early stopping: set dataset.val_size > 0")
        preprocess = SmallImageInput(self.image_size)
        channels = int(preprocess(ctx.raw.pool.X[0]).shape[0])
        return (lambda: small_resnet18(channels)), 512, preprocess

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        from cliffbench.methods.trained.image_training import ImageClassifier, train_trials

        make_trunk, dim, preprocess = self._network(ctx)
        n_classes = len(np.unique(ctx.raw.pool.y))

        def make_for_trial(idx, pos):
            return lambda: ImageClassifier(make_trunk(), dim, n_classes, self.lr, self.weight_decay)

        yield from train_trials(batch, ctx.raw, make_for_trial, preprocess,
                                settings=ctx.trainer, batch_size=self.batch_size)
