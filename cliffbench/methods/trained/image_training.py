"""The training loop shared by ``finetune`` and ``scratch``:
an encoder + linear readout trained with Adam through a Lightning Trainer, early stopping on the
validation loss, and the best-validation-loss weights (kept in memory) used for the test error.

Imported lazily (torch and Lightning at module top) by the methods' ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from cliffbench.image_inputs import Preprocessed
from cliffbench.contract import TrainerSettings


class ImageClassifier(L.LightningModule):
    """``readout(encoder(x))``; ``readout_init=(W, b)`` sets the readout (e.g. the optimal linear probe).
    ``frozen_norm_stats``: batch-norm layers keep their (pretrained) running statistics and use them
    in training too, so small batches do not shift them and the readout init sees the features it
    was fitted on."""

    def __init__(self, encoder: torch.nn.Module, dim: int, n_classes: int, lr: float,
                 weight_decay: float = 0.0, readout_init: tuple[np.ndarray, np.ndarray] | None = None,
                 frozen_norm_stats: bool = False) -> None:
        super().__init__()
        self.encoder, self.readout = encoder, torch.nn.Linear(int(dim), int(n_classes))
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.frozen_norm_stats = bool(frozen_norm_stats)
        if readout_init is not None:
            W, b = readout_init
            with torch.no_grad():
                self.readout.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
                self.readout.bias.copy_(torch.as_tensor(b, dtype=torch.float32))

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.frozen_norm_stats:
            for m in self.encoder.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def on_train_epoch_start(self) -> None:
        if self.frozen_norm_stats:
            self.train()  # Lightning keeps the modes it finds; the override above freezes batch norm

    def forward(self, x):
        return self.readout(self.encoder(x).flatten(1).float())

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x).float(), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x).float()
        self.log("val_loss", F.cross_entropy(logits, y), on_epoch=True, batch_size=len(y))
        self.log("val_error", (logits.argmax(1) != y).float().mean(), on_epoch=True, batch_size=len(y))

    def predict_step(self, batch, batch_idx):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x).argmax(1).cpu()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


class BestWeights(L.Callback):
    """Keeps a CPU copy of the weights at the lowest validation loss seen (no checkpoint files);
    a validation run before the fit counts as epoch -1 (the starting weights)."""

    def __init__(self) -> None:
        self.best, self.state, self.epoch = float("inf"), None, -1

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or "val_loss" not in trainer.callback_metrics:
            return
        loss = float(trainer.callback_metrics["val_loss"])
        if loss < self.best:
            self.best, self.epoch = loss, (-1 if trainer.state.fn == "validate" else int(trainer.current_epoch))
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in pl_module.state_dict().items()}


@dataclass
class TrainData:
    """Raw inputs (any indexable) with rows ``index`` and their class positions ``targets``."""

    X: Any
    index: np.ndarray
    targets: np.ndarray


def _loader(data: TrainData, preprocess, batch_size: int, num_workers: int, shuffle: bool, seed: int,
            pin: bool) -> DataLoader:
    ds = Preprocessed(data.X, preprocess, data.index, data.targets)
    gen = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(ds, batch_size=max(1, min(int(batch_size), len(ds))), shuffle=shuffle, generator=gen,
                      num_workers=int(num_workers), pin_memory=pin)


def fit_classifier(make_module: Callable[[], ImageClassifier], preprocess, train: TrainData,
                   val: TrainData | None, *, settings: TrainerSettings, seed: int, batch_size: int,
                   max_epochs: int | None = None, validate_first: bool = False) -> tuple[ImageClassifier, dict[str, Any]]:
    """Seed, build the module, fit it; with ``val``: early stopping (``trainer.patience``) and the
    best-validation-loss weights restored, the starting weights among the candidates when
    ``validate_first`` (e.g. a readout initialised to the linear probe). Returns the module and
    facts about the fit."""
    from cliffbench.trainer import early_stopping, make_trainer, uses_gpu

    L.seed_everything(int(seed), workers=True, verbose=False)
    module = make_module()
    workers, pin = settings.num_workers, uses_gpu(settings)
    callbacks, best = [], BestWeights()
    if val is not None:
        callbacks = [best, early_stopping(settings)]
    trainer = make_trainer(settings, callbacks=callbacks, max_epochs=max_epochs, num_sanity_val_steps=0)
    train_loader = _loader(train, preprocess, batch_size, workers, True, seed, pin)
    val_loader = None if val is None else _loader(val, preprocess, batch_size, workers, False, seed, pin)
    if val_loader is not None and validate_first:
        trainer.validate(module, val_loader, verbose=False)
    trainer.fit(module, train_loader, val_loader)
    facts = {"epochs": int(trainer.current_epoch), "steps": int(trainer.global_step)}
    if val is not None and best.state is not None:
        module.load_state_dict(best.state)
        facts.update(best_val_loss=best.best, best_epoch=best.epoch)
    return module, facts


def predict_classes(module: ImageClassifier, preprocess, X: Any, *, settings: TrainerSettings,
                    batch_size: int) -> np.ndarray:
    """Class positions predicted for every input of ``X``."""
    from cliffbench.trainer import make_trainer, uses_gpu

    index = np.arange(len(X))
    data = TrainData(X, index, np.zeros(len(X), dtype=np.int64))
    loader = _loader(data, preprocess, batch_size, settings.num_workers, False, 0, uses_gpu(settings))
    trainer = make_trainer(settings, progress=False)
    return torch.cat(trainer.predict(module, loader)).numpy()


def train_trials(batch, raw, make_for_trial: Callable[[np.ndarray, np.ndarray], Callable[[], ImageClassifier]],
                 preprocess, *, settings: TrainerSettings, batch_size: int, validate_first: bool = False):
    """One fit per trial of ``batch`` on raw images, yielding each cell's outcome as it finishes.

    ``make_for_trial(idx, pos)`` gets the trial's pool rows and their class positions and returns
    the module factory for that fit; a single-class subset predicts its class without training.
    """
    from cliffbench.contract import Outcome
    from cliffbench.methods.base import single_class_outcome, test_error

    classes = np.unique(raw.pool.y)
    val = TrainData(raw.val.X, np.arange(len(raw.val)), np.searchsorted(classes, raw.val.y))
    for trial, seed, idx in zip(batch.trials, batch.seeds, batch.index, strict=True):
        y = raw.pool.y[idx]
        if len(np.unique(y)) == 1:
            yield [single_class_outcome(int(trial), raw.task, y[0], raw.test.y)]
            continue
        pos = np.searchsorted(classes, y)
        module, facts = fit_classifier(make_for_trial(idx, pos), preprocess, TrainData(raw.pool.X, idx, pos), val,
                                       settings=settings, seed=int(seed), batch_size=batch_size,
                                       validate_first=validate_first)
        pred = classes[predict_classes(module, preprocess, raw.test.X, settings=settings,
                                       batch_size=max(batch_size, 256))]
        yield [Outcome(int(trial), test_error(raw.task, raw.test.y, pred), facts)]
