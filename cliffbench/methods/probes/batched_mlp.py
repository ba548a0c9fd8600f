"""T independent MLPs trained as one Lightning module: every weight has a leading trial axis and
layers are batched matrix products, so the trials of one n cost about one training run.

Each trial has its own initialisation and minibatch order (its own seeded generators), its own
loss term (the summed loss keeps trials' gradients separate, and Adam is per element) and its own
early stopping: its best-validation weights are kept in memory and restored at the end."""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn


class TrialBatches(torch.utils.data.IterableDataset):
    """One epoch of minibatch positions (T, B) into each trial's subset, shuffled per trial: passes
    over the subset until at least ``min_steps`` minibatches (tiny subsets still train between two
    validations)."""

    def __init__(self, n: int, batch_size: int, seeds: list[int], min_steps: int = 1) -> None:
        self.n, self.batch_size = n, min(batch_size, n)
        self.passes = max(1, math.ceil(min_steps / math.ceil(n / self.batch_size)))
        self.gens = [torch.Generator().manual_seed(int(s) + 1) for s in seeds]

    def __len__(self) -> int:
        return self.passes * math.ceil(self.n / self.batch_size)

    def __iter__(self):
        for _ in range(self.passes):
            perms = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens])
            for start in range(0, self.n, self.batch_size):
                yield perms[:, start:start + self.batch_size]


class StackedMLP(L.LightningModule):
    """``subsets`` (T, n) rows of ``X`` (pool features) train trial t; ``n_classes`` outputs
    (cross-entropy on class indices ``y``) or, with ``n_classes=None``, one output (squared error)."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor, n_classes: int | None,
                 hidden: list[int], seeds: list[int], lr: float, weight_decay: float,
                 X_val: torch.Tensor | None, y_val: torch.Tensor | None, patience: int) -> None:
        super().__init__()
        self.regression = n_classes is None
        self.register_buffer("X", X, persistent=False)
        self.register_buffer("y", y, persistent=False)
        self.register_buffer("subsets", subsets, persistent=False)
        T, widths = len(seeds), [X.shape[1], *hidden, 1 if self.regression else int(n_classes)]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default initialisation, per trial
            W = torch.stack([(torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound for g in gens])
            b = torch.stack([(torch.rand(fan_out, generator=g) * 2 - 1) * bound for g in gens])
            self.weights.append(nn.Parameter(W))
            self.biases.append(nn.Parameter(b))
        self.lr, self.weight_decay, self.patience = lr, weight_decay, patience
        self.X_val, self.y_val = X_val, y_val
        self.best_loss = torch.full((T,), math.inf)
        self.best_epoch = torch.full((T,), -1, dtype=torch.long)
        self.stopped = torch.zeros(T, dtype=torch.bool)
        self.best_state: list[torch.Tensor] | None = None
        self.val_history: list[torch.Tensor] = []
        self._val_sum: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(T, B, d) -> (T, B, out)."""
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b[:, None, :], x, W)
            if i < len(self.weights) - 1:
                x = torch.relu(x)
        return x

    def per_trial_loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(T,) summed loss of each trial over the batch."""
        if self.regression:
            return ((out.squeeze(2).float() - target.float()) ** 2).sum(1)
        T, B, K = out.shape
        return nn.functional.cross_entropy(out.reshape(T * B, K).float(), target.reshape(-1),
                                           reduction="none").view(T, B).sum(1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        pos = batch[0] if batch.dim() == 3 else batch  # (T, B) positions in each subset
        rows = self.subsets.gather(1, pos)
        out = self(self.X[rows])
        return self.per_trial_loss(out, self.y[rows]).sum() / pos.shape[1]

    def validation_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        T = self.subsets.shape[0]
        out = self(x[None].expand(T, -1, -1))
        loss = self.per_trial_loss(out, y[None].expand(T, -1)).detach().float().cpu()
        self._val_sum = loss if self._val_sum is None else self._val_sum + loss

    def on_validation_epoch_end(self) -> None:
        if self._val_sum is None or self.trainer.sanity_checking:
            self._val_sum = None
            return
        loss = self._val_sum / len(self.y_val)
        self._val_sum = None
        self.val_history.append(loss)
        epoch = self.current_epoch
        better = (loss < self.best_loss) & ~self.stopped
        if better.any():
            self._save_best(better)
            self.best_loss[better], self.best_epoch[better] = loss[better], epoch
        self.stopped |= (epoch - self.best_epoch) >= self.patience
        if bool(self.stopped.all()):
            self.trainer.should_stop = True

    def _save_best(self, which: torch.Tensor) -> None:
        params = [*self.weights, *self.biases]
        if self.best_state is None:
            self.best_state = [p.detach().clone() for p in params]
        idx = which.nonzero().squeeze(1).to(params[0].device)
        for kept, p in zip(self.best_state, params):
            kept[idx] = p.detach()[idx]

    def restore_best(self) -> None:
        """Every trial's best-validation weights (no-op without validation)."""
        if self.best_state is None:
            return
        with torch.no_grad():
            for kept, p in zip(self.best_state, [*self.weights, *self.biases]):
                p.copy_(kept)

    @torch.no_grad()
    def predict_all(self, X: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """(T, M, out) outputs on rows ``X`` (M, d)."""
        T = self.subsets.shape[0]
        return torch.cat([self(X[s:s + chunk][None].expand(T, -1, -1)).float() for s in range(0, len(X), chunk)], 1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
