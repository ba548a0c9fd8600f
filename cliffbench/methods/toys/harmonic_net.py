"""The paper's §3.3 network: a fully connected ReLU MLP (3 hidden layers) trained with Adam on the
MSE, optionally plus λ × the Monte-Carlo bandwidth penalty of App. E, trained through Lightning.

Minibatches of ``batch_size`` (all n samples when n is smaller) are drawn epoch by epoch from a
seeded permutation; the validation MSE is checked every ``val_every`` steps and training stops after
``trainer.patience`` checks without improvement (or at ``max_steps``, capped by ``trainer.max_steps``);
the weights with the lowest validation MSE are kept. Test error = MSE on the test split. Device and precision follow
``trainer.*`` (the toy presets pick ``trainer=cpu``: tiny nets run fastest there).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome
from cliffbench.methods.base import test_error



def mlp(in_dim: int, hidden: list[int]):
    import torch.nn as nn

    layers, width = [], in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 1))


class MinibatchStream:
    """``steps`` minibatches: successive chunks of seeded permutations of the n training rows."""

    def __init__(self, X, y, batch_size: int, steps: int, seed: int) -> None:
        self.X, self.y, self.steps = X, y, steps
        self.batch_size = min(batch_size, len(y))
        self.seed = seed

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        import torch

        gen = torch.Generator().manual_seed(self.seed)
        done, n = 0, len(self.y)
        while True:
            order = torch.randperm(n, generator=gen)
            for start in range(0, n - self.batch_size + 1, self.batch_size):
                if done == self.steps:
                    return
                idx = order[start:start + self.batch_size]
                yield self.X[idx], self.y[idx]
                done += 1


def _module(net, lr: float, regulariser, seed: int):
    import lightning as L
    import torch

    class Regressor(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.mc_gen = torch.Generator().manual_seed(seed + 1)
            self.best_val, self.best_state, self.last_penalty = float("inf"), None, float("nan")

        def forward(self, x):
            return self.net(x).squeeze(-1)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.mean((self(x) - y) ** 2)
            if regulariser is not None and regulariser.lam > 0:
                penalty = regulariser.penalty(self, self.mc_gen, dtype=x.dtype, device=x.device)
                self.last_penalty = float(penalty.detach())
                loss = loss + regulariser.lam * penalty
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            val = torch.mean((self(x) - y) ** 2)
            self.log("val_loss", val, prog_bar=False)
            if float(val) < self.best_val:
                self.best_val, self.best_state = float(val), copy.deepcopy(self.net.state_dict())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=lr)

    return Regressor()


class HarmonicNet(Method):
    speed_only = ("num_threads",)
    needs_features = False
    tasks = ("regression",)

    def __init__(self, name: str = "harmonic_net", hidden: list[int] | None = None, lr: float = 1e-3,
                 batch_size: int = 256, max_steps: int = 3000, val_every: int = 25,
                 bandwidth: dict[str, Any] | None = None, num_threads: int | None = 1) -> None:
        super().__init__(name)
        self.num_threads = None if num_threads is None else int(num_threads)
        self.hidden = [int(h) for h in (hidden or [64, 64, 64])]
        if any(h < 1 for h in self.hidden) or min(batch_size, max_steps, val_every) < 1:
            raise ConfigError(f"method={name}: hidden widths, batch_size, max_steps and val_every "
                              f"must be positive integers")
        self.lr, self.batch_size, self.max_steps = float(lr), int(batch_size), int(max_steps)
        self.val_every = int(val_every)
        self.bandwidth = dict(bandwidth) if bandwidth else None

    def _fit_one(self, X, y, val, seed: int, ctx: JobContext):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        from cliffbench.methods.toys.bandwidth_regulariser import BandwidthRegulariser
        from cliffbench.trainer import early_stopping, make_trainer

        torch.manual_seed(seed)
        regulariser = BandwidthRegulariser(dim=X.shape[1], **self.bandwidth) if self.bandwidth else None
        model = _module(mlp(X.shape[1], self.hidden), self.lr, regulariser, seed)
        Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
        steps = self.max_steps if ctx.trainer.max_steps < 0 else min(self.max_steps, ctx.trainer.max_steps)
        stream = MinibatchStream(Xt, yt, self.batch_size, steps, seed)
        val_batches = DataLoader(TensorDataset(torch.as_tensor(val.X, dtype=torch.float32),
                                               torch.as_tensor(val.y, dtype=torch.float32)), batch_size=len(val.y))
        trainer = make_trainer(ctx.trainer, max_epochs=1, max_steps=steps, val_check_interval=self.val_every,
                               check_val_every_n_epoch=None, num_sanity_val_steps=0,
                               callbacks=[early_stopping(ctx.trainer, check_on_train_epoch_end=False)])
        trainer.fit(model, train_dataloaders=stream, val_dataloaders=val_batches)
        if model.best_state is not None:
            model.net.load_state_dict(model.best_state)
        return model, trainer.global_step

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        import torch

        data = ctx.raw
        if data.val is None:
            raise ConfigError(f"method={self.name} needs a validation split for early stopping "
                              f"(dataset={ctx.dataset} has none; set dataset.val_size)")
        X_pool, y_pool = np.asarray(data.pool.X), np.asarray(data.pool.y)
        X_test = torch.as_tensor(np.asarray(data.test.X), dtype=torch.float32)
        threads = torch.get_num_threads()
        if self.num_threads:  # tiny nets: intra-op threads only add contention on a busy CPU
            torch.set_num_threads(self.num_threads)
        try:
            for trial, seed, idx in zip(batch.trials, batch.seeds, batch.index):
                model, steps = self._fit_one(X_pool[idx], y_pool[idx], data.val, int(seed), ctx)
                with torch.no_grad():
                    pred = model(X_test).numpy()
                metrics = {"steps": int(steps), "val_mse": model.best_val}
                if self.bandwidth:
                    metrics["bandwidth_penalty"] = model.last_penalty
                yield [Outcome(int(trial), test_error("regression", data.test.y, pred), metrics)]
        finally:
            torch.set_num_threads(threads)
