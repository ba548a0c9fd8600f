"""MLP probe (the paper's "512^2" probe): fully connected ReLU layers (``hidden`` default
[512, 512]), Adam, cross-entropy (squared error for regression targets). The trials of one n are
stacked into one batched model (:mod:`batched_mlp`) and trained through one Lightning Trainer.

With a validation split: early stopping on each trial's validation loss (``trainer.patience``
epochs without improvement, at most ``trainer.max_epochs``) and its best-validation weights
restored. Without one: a fixed budget of ``method.epochs_without_val`` epochs, last weights.
An epoch is one pass over the subset, or several passes when that is fewer than
``min_steps_per_epoch`` minibatches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cliffbench.contract import CellBatch, JobContext, Method, Outcome
from cliffbench.errors import ConfigError
from cliffbench.methods.base import split_single_class, test_error


class MLPProbe(Method):
    speed_only = ("device", "num_threads")

    def __init__(self, name: str = "mlp", hidden: list[int] | None = None, lr: float = 1e-3,
                 weight_decay: float = 0.0, batch_size: int = 256, epochs_without_val: int = 100,
                 min_steps_per_epoch: int = 10, device: str | None = None, num_threads: int | None = None) -> None:
        super().__init__(name)
        hidden = [512, 512] if hidden is None else list(hidden)
        if any(int(h) != h or h < 1 for h in hidden):
            raise ConfigError(f"method.hidden must be a list of positive widths, got {hidden}")
        if not float(lr) > 0 or float(weight_decay) < 0:
            raise ConfigError(f"method.lr must be > 0 and method.weight_decay >= 0, got {lr}, {weight_decay}")
        if int(batch_size) < 1 or int(epochs_without_val) < 1:
            raise ConfigError(f"method.batch_size and method.epochs_without_val must be >= 1, "
                              f"got {batch_size}, {epochs_without_val}")
        self.hidden, self.lr, self.weight_decay = [int(h) for h in hidden], float(lr), float(weight_decay)
        self.batch_size, self.epochs_without_val, self.device = int(batch_size), int(epochs_without_val), device
        self.min_steps_per_epoch = max(1, int(min_steps_per_epoch))
        self.num_threads = None if num_threads is None else int(num_threads)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        data = ctx.features
        fit, outcomes = split_single_class(batch, data)
        if fit is not None:
            for o in self._train(fit, data, ctx):
                outcomes[o.trial] = o
        yield [outcomes[int(t)] for t in batch.trials]

    def _train(self, batch: CellBatch, data, ctx) -> list[Outcome]:
        import torch

        from cliffbench.methods.probes.batched_mlp import StackedMLP, TrialBatches
        from cliffbench.trainer import cpu_threads, make_trainer, resolve_device

        device = resolve_device(self.device, ctx.trainer)
        classify = data.task == "classification"
        classes = np.unique(data.pool.y) if classify else None

        def targets(y):
            if classify:
                return torch.as_tensor(np.searchsorted(classes, y), dtype=torch.long)
            return torch.as_tensor(np.asarray(y, dtype=np.float32))

        X = torch.as_tensor(np.asarray(data.pool.X, dtype=np.float32))
        has_val = data.val is not None and len(data.val) > 0
        X_val = torch.as_tensor(np.asarray(data.val.X, dtype=np.float32)) if has_val else None
        y_val = targets(data.val.y) if has_val else None
        if has_val and classify and not np.isin(data.val.y, classes).all():
            raise ConfigError("the validation split has labels absent from the pool; early stopping needs them in the pool")
        max_epochs = ctx.trainer.max_epochs if has_val else self.epochs_without_val
        seeds = [int(s) for s in batch.seeds]
        model = StackedMLP(X, targets(data.pool.y), torch.as_tensor(batch.index, dtype=torch.long),
                           len(classes) if classify else None, self.hidden, seeds, self.lr, self.weight_decay,
                           X_val, y_val, ctx.trainer.patience)
        train = torch.utils.data.DataLoader(TrialBatches(batch.n, self.batch_size, seeds, self.min_steps_per_epoch), batch_size=None)
        val = (torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_val, y_val), batch_size=4096)
               if has_val else None)
        trainer = make_trainer(ctx.trainer, device=device, max_epochs=max_epochs, num_sanity_val_steps=0,
                               limit_val_batches=1.0 if has_val else 0)
        with cpu_threads(self.num_threads):
            trainer.fit(model, train, val)
        model.restore_best()
        model.to(device).eval()
        self.last_model = model  # the latest stacked model, for inspection
        out = model.predict_all(torch.as_tensor(np.asarray(data.test.X, dtype=np.float32), device=device)).cpu()
        outcomes = []
        for t, trial in enumerate(batch.trials):
            if classify:
                # Like the linear probe, predict only classes present in the trial's subset.
                logits = out[t].clone()
                absent = ~np.isin(classes, data.pool.y[batch.index[t]])
                logits[:, torch.as_tensor(absent)] = -torch.inf
                pred = classes[logits.argmax(1).numpy()]
            else:
                pred = out[t, :, 0].numpy()
            metrics = {"epochs": int(trainer.current_epoch)}
            if has_val:
                metrics.update(best_epoch=int(model.best_epoch[t]), val_loss=float(model.best_loss[t]))
            outcomes.append(Outcome(int(trial), test_error(data.task, data.test.y, pred), metrics))
        return outcomes
