"""Full finetuning (the paper's protocol): the backbone plus a linear readout initialised to the
optimal linear probe fitted on the same n samples (scikit-learn logistic regression, C=100, on
the backbone's cached features), then all weights trained with Adam; early stopping on the
validation set and the best-validation-loss weights give the test error. One Lightning fit per
trial; trainer settings (precision, devices, max epochs/steps, patience) from ``cfg.trainer``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.methods.base import CellBatch, Method, Outcome, single_class_outcome, test_error

if TYPE_CHECKING:
    from cliffbench.runner import JobContext


def probe_readout(X: np.ndarray, y: np.ndarray, n_classes: int, C: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of the multinomial logistic-regression probe on features ``X`` with class positions
    ``y``; classes absent from the subset get zero weights and a bias below every present class."""
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y)
    probe = LogisticRegression(C=C, max_iter=max_iter).fit(X, y)
    coef, intercept = probe.coef_, probe.intercept_
    if len(present) == 2:  # scikit-learn's binary form: one row for the second class
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    W = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
    b = np.full(n_classes, float(intercept.min()) - 10.0, dtype=np.float32)
    W[present], b[present] = coef, intercept
    return W, b


def check_trainable(method: str, ctx: JobContext) -> None:
    from cliffbench.backbones.torch_backbone import TorchBackbone

    if not isinstance(ctx.backbone, TorchBackbone):
        raise ConfigError(f"method={method} trains the backbone's weights; backbone={ctx.backbone.name} has none "
                          f"(use e.g. backbone=openai_vit_b32 or digits_cnn_0to4)")
    if ctx.raw.val is None or len(ctx.raw.val) == 0:
        raise ConfigError(f"method={method} needs a validation set for early stopping: set dataset.val_size > 0")


class Finetune(Method):
    needs_features = False  # trains on raw images (it reads the cached features only for the init)
    tasks = ("classification",)

    def __init__(self, name: str = "finetune", lr: float = 1e-5, weight_decay: float = 0.0,
                 batch_size: int = 128, probe_C: float = 100.0, probe_max_iter: int = 1000) -> None:
        super().__init__(name)
        if not float(lr) > 0 or int(batch_size) < 1:
            raise ConfigError(f"method.lr must be > 0 and method.batch_size >= 1, got {lr}, {batch_size}")
        self.lr, self.weight_decay, self.batch_size = float(lr), float(weight_decay), int(batch_size)
        self.probe_C, self.probe_max_iter = float(probe_C), int(probe_max_iter)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        import copy

        from cliffbench.methods.image_training import ImageClassifier, TrainData, fit_classifier, predict_classes

        check_trainable(self.name, ctx)
        raw, feats, trainer_cfg = ctx.raw, ctx.features, ctx.cfg.get("trainer")
        encoder = ctx.extras.get("finetune_encoder")
        if encoder is None:
            encoder = ctx.extras["finetune_encoder"] = ctx.backbone.build_seeded(ctx.cfg.paths)
        classes = np.unique(raw.pool.y)
        val = TrainData(raw.val.X, np.arange(len(raw.val)), np.searchsorted(classes, raw.val.y))
        for trial, seed, idx in zip(batch.trials, batch.seeds, batch.index, strict=True):
            y = raw.pool.y[idx]
            if len(np.unique(y)) == 1:
                yield [single_class_outcome(int(trial), raw.task, y[0], raw.test.y)]
                continue
            pos = np.searchsorted(classes, y)
            init = probe_readout(feats.pool.X[idx], pos, len(classes), self.probe_C, self.probe_max_iter)

            def make(init=init):
                return ImageClassifier(copy.deepcopy(encoder.module), encoder.dim, len(classes), self.lr,
                                       self.weight_decay, readout_init=init)

            module, facts = fit_classifier(make, encoder.preprocess, TrainData(raw.pool.X, idx, pos), val,
                                           trainer_cfg=trainer_cfg, seed=int(seed), batch_size=self.batch_size)
            pred = classes[predict_classes(module, encoder.preprocess, raw.test.X, trainer_cfg=trainer_cfg,
                                           batch_size=max(self.batch_size, 256))]
            yield [Outcome(int(trial), test_error(raw.task, raw.test.y, pred), facts)]
