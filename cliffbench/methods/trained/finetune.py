"""Full finetuning (the paper's protocol): the backbone plus a linear readout initialised to the
optimal linear probe fitted on the same n samples (scikit-learn logistic regression, C=100, on
the backbone's cached features), then all weights trained with Adam; early stopping on the
validation set and the best-validation-loss weights give the test error, the starting weights
(the probe) among the candidates, so finetuning never ends worse on the validation set than the
probe it starts from. Batch-norm layers keep their pretrained statistics (``frozen_norm_stats``):
small subsets would otherwise shift them. One Lightning fit per trial; trainer settings
(accelerator, precision, max epochs/steps, patience, workers) from ``cfg.trainer``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome



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
    if not ctx.backbone.trainable:
        raise ConfigError(f"method={method} trains the backbone's weights; backbone={ctx.backbone.name} has none "
                          f"(use e.g. backbone=efficientnet_lite0 or openai_vit_b32)")
    if ctx.raw.val is None or len(ctx.raw.val) == 0:
        raise ConfigError(f"method={method} needs a validation set for early stopping: set dataset.val_size > 0")


class Finetune(Method):
    needs_features = False  # trains on raw images (it reads the cached features only for the init)
    tasks = ("classification",)

    def __init__(self, name: str = "finetune", lr: float = 1e-5, weight_decay: float = 0.0,
                 batch_size: int = 128, probe_C: float = 100.0, probe_max_iter: int = 1000,
                 frozen_norm_stats: bool = True) -> None:
        super().__init__(name)
        self.frozen_norm_stats = bool(frozen_norm_stats)
        if not float(lr) > 0 or int(batch_size) < 1:
            raise ConfigError(f"method.lr must be > 0 and method.batch_size >= 1, got {lr}, {batch_size}")
        self.lr, self.weight_decay, self.batch_size = float(lr), float(weight_decay), int(batch_size)
        self.probe_C, self.probe_max_iter = float(probe_C), int(probe_max_iter)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        import copy

        from cliffbench.methods.trained.image_training import ImageClassifier, train_trials

        check_trainable(self.name, ctx)
        raw, feats = ctx.raw, ctx.features
        encoder = ctx.extras.get("finetune_encoder")
        if encoder is None:
            encoder = ctx.extras["finetune_encoder"] = ctx.backbone.build_seeded(ctx.paths)
        n_classes = len(np.unique(raw.pool.y))

        def make_for_trial(idx, pos):
            init = probe_readout(feats.pool.X[idx], pos, n_classes, self.probe_C, self.probe_max_iter)
            return lambda: ImageClassifier(copy.deepcopy(encoder.module), encoder.dim, n_classes, self.lr,
                                           self.weight_decay, readout_init=init,
                                           frozen_norm_stats=self.frozen_norm_stats)

        yield from train_trials(batch, raw, make_for_trial, encoder.preprocess, settings=ctx.trainer,
                                batch_size=self.batch_size, validate_first=True)
