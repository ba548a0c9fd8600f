"""k-nearest-neighbour probe (``k`` default 3; k > n uses k = n). One scikit-learn fit per cell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cliffbench.errors import ConfigError
from cliffbench.methods.base import CellBatch, Method, Outcome, test_error

if TYPE_CHECKING:
    from cliffbench.runner import JobContext


class KNNProbe(Method):
    def __init__(self, name: str = "knn", k: int = 3, metric: str = "euclidean") -> None:
        super().__init__(name)
        if int(k) != k or k < 1:
            raise ConfigError(f"method.k must be a positive integer, got {k}")
        if metric not in ("euclidean", "cosine"):
            raise ConfigError(f"method.metric must be euclidean or cosine, got {metric!r}")
        self.k, self.metric = int(k), metric

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        data = ctx.features
        cls = KNeighborsClassifier if data.task == "classification" else KNeighborsRegressor
        for trial, idx in zip(batch.trials, batch.index):
            k = min(self.k, len(idx))
            model = cls(n_neighbors=k, metric=self.metric, algorithm="brute")
            model.fit(data.pool.X[idx], data.pool.y[idx])
            pred = model.predict(data.test.X)
            yield [Outcome(int(trial), test_error(data.task, data.test.y, pred), {"k": k})]
