"""The mean classifier of the paper's App. F: ŵ = (1/n) Σ yᵢxᵢ (F.1), predict sign(ŵᵀx).

All trials of one n are fitted at once: ŵ for every trial is one sparse (trials × pool) selection
matrix times the pool's yᵢxᵢ rows. On ``toy_gaussian`` with the identity backbone the error is exact,
Φ(−s·ŵ₁/‖ŵ‖) (F.2), and each row also records F.5's approximation as ``reference_error``; on any
other binary dataset it is the test-split error (the larger class label counts as +1).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome



def signed_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(y) == classes[-1], 1.0, -1.0)


def mean_weights(Z: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Row ``t`` is the mean of ``Z[index[t]]`` (float64 accumulation)."""
    from scipy.sparse import csr_matrix

    T, n = index.shape
    select = csr_matrix((np.full(T * n, 1.0 / n), index.ravel(), np.arange(0, T * n + 1, n)),
                        shape=(T, len(Z)))
    return np.asarray(select @ Z)


class MeanClassifier(Method):
    tasks = ("classification",)

    def __init__(self, name: str = "mean_classifier") -> None:
        super().__init__(name)

    def _signed_rows(self, ctx: JobContext) -> np.ndarray:
        if "mean_classifier_Z" not in ctx.extras:
            data = ctx.features
            classes = np.unique(data.pool.y)
            if len(classes) != 2:
                raise ConfigError(f"method={self.name} needs a binary dataset, "
                                  f"dataset={ctx.dataset} has {len(classes)} classes")
            y = signed_labels(data.pool.y, classes)
            ctx.extras["mean_classifier_Z"] = (y[:, None] * data.pool.X).astype(np.float64)
            ctx.extras["mean_classifier_classes"] = classes
        return ctx.extras["mean_classifier_Z"]

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        from cliffbench.closed_forms import f5_error, linear_classifier_error

        W = mean_weights(self._signed_rows(ctx), batch.index)
        toy = ctx.raw.meta.get("gaussian_toy")
        if toy is not None and ctx.backbone.features_are_inputs:
            s = float(toy["s"])
            errors = linear_classifier_error(W, s)
            extra = {"reference_error": float(f5_error(batch.n, W.shape[1], s))}
        else:
            data, classes = ctx.features, ctx.extras["mean_classifier_classes"]
            truth = signed_labels(data.test.y, classes)
            scores = np.asarray(data.test.X, dtype=np.float64) @ W.T
            errors = np.mean(np.where(scores >= 0, 1.0, -1.0) != truth[:, None], axis=0)
            extra = {}
        yield [Outcome(int(t), float(e), dict(extra)) for t, e in zip(batch.trials, errors)]
