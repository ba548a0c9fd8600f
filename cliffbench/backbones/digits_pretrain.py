"""The stand-in's pretraining (imported lazily): the conv trunk plus a cosine-softmax head learns
to name both the digit (classes 0-4) and its rotation (0/90/180/270 degrees) of randomly shifted
digits, which gives more general stroke features than plain 5-way classification does."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

ROTATIONS = 4
COSINE_SCALE = 10.0


class RotationPretraining(L.LightningModule):
    def __init__(self, trunk: nn.Module, trunk_dim: int, n_classes: int, lr: float, seed: int) -> None:
        super().__init__()
        self.trunk, self.lr = trunk, float(lr)
        self.proj = nn.Linear(trunk_dim, 64)
        self.head = nn.Parameter(torch.randn(n_classes * ROTATIONS, 64) * 0.1)
        self.gen = torch.Generator().manual_seed(int(seed))

    def training_step(self, batch, batch_idx):
        x, y = batch
        shift = torch.randint(-1, 2, (2,), generator=self.gen).tolist()
        x = torch.roll(x, shifts=shift, dims=(2, 3))
        rot = torch.randint(0, ROTATIONS, (len(y),), generator=self.gen)
        x = torch.stack([torch.rot90(img, int(r), dims=(1, 2)) for img, r in zip(x, rot, strict=True)])
        z = F.normalize(self.proj(self.trunk(x).flatten(1)), dim=1)
        logits = COSINE_SCALE * z @ F.normalize(self.head, dim=1).T
        return F.cross_entropy(logits, y * ROTATIONS + rot.to(y.device))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def pretrain(trunk: nn.Module, trunk_dim: int, images: np.ndarray, labels: np.ndarray, *, epochs: int,
             lr: float, seed: int) -> None:
    """Train ``trunk`` in place on ``images`` (N, 8, 8) in [0, 1] with class positions ``labels``."""
    from cliffbench.contract import TrainerSettings
    from cliffbench.trainer import make_trainer

    L.seed_everything(int(seed), verbose=False)
    module = RotationPretraining(trunk, trunk_dim, int(labels.max()) + 1, lr, seed)
    data = TensorDataset(torch.as_tensor(images, dtype=torch.float32).unsqueeze(1),
                         torch.as_tensor(labels, dtype=torch.int64))
    loader = DataLoader(data, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(int(seed)))
    trainer = make_trainer(TrainerSettings(accelerator="cpu", precision="32-true"), progress=False, max_epochs=epochs,
                           max_steps=-1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny net: more threads only add contention on a busy CPU
    try:
        trainer.fit(module, loader)
    finally:
        torch.set_num_threads(threads)
