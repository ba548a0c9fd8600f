"""k-nearest-neighbour probe (``k`` default 3; k > n uses k = n), euclidean or cosine, with the same
predictions as scikit-learn's ``KNeighborsClassifier`` / ``KNeighborsRegressor``.

``backend=torch`` (default) orders the pool around each test point once per job
(:mod:`neighbours`, keeping the test x pool distance matrix when it fits in ``max_memory_gb``) and
reuses it for every (n, trial); test points whose k-th neighbour is a tie that float64 distances
cannot settle are predicted by scikit-learn itself on that subset, so tie-breaking is scikit-learn's. Votes: the most frequent label, the smallest label among equal counts.
``backend=sklearn`` fits scikit-learn's estimator cell by cell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.methods.base import CellBatch, Method, Outcome, test_error

if TYPE_CHECKING:
    from cliffbench.contract import JobContext

BACKENDS = ("torch", "sklearn")


class KNNProbe(Method):
    speed_only = ("device", "list_size", "max_memory_gb")

    def __init__(self, name: str = "knn", k: int = 3, metric: str = "euclidean", backend: str = "torch",
                 list_size: int = 2048, device: str | None = None, max_memory_gb: float = 4.0) -> None:
        super().__init__(name)
        if int(k) != k or k < 1:
            raise ConfigError(f"method.k must be a positive integer, got {k}")
        if metric not in ("euclidean", "cosine"):
            raise ConfigError(f"method.metric must be euclidean or cosine, got {metric!r}")
        if backend not in BACKENDS:
            raise ConfigError(f"method.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if int(list_size) < 1:
            raise ConfigError(f"method.list_size must be >= 1, got {list_size}")
        self.k, self.metric, self.backend = int(k), metric, backend
        if max_memory_gb < 0:
            raise ConfigError(f"method.max_memory_gb must be >= 0, got {max_memory_gb}")
        self.list_size, self.device, self.max_memory_gb = int(list_size), device, float(max_memory_gb)
        self._cache: tuple[tuple, object] | None = None
        # test-set predictions per (n, trial), for comparisons (benchmarks)
        self.keep_predictions, self.predictions = False, {}

    def _sklearn_model(self, task: str, k: int):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        cls = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
        return cls(n_neighbors=k, metric=self.metric, algorithm="brute")

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        data = ctx.features
        if self.backend == "sklearn":
            for trial, idx in zip(batch.trials, batch.index):
                k = min(self.k, len(idx))
                model = self._sklearn_model(data.task, k).fit(data.pool.X[idx], data.pool.y[idx])
                pred = model.predict(data.test.X)
                if self.keep_predictions:
                    self.predictions[(batch.n, int(trial))] = pred
                yield [Outcome(int(trial), test_error(data.task, data.test.y, pred), {"k": k})]
            return
        yield self._run_batched(batch, ctx)

    def _neighbours(self, data, settings=None):
        """The pool order around each test point, built once per features object, on the device
        ``method.device`` names (or the trainer ``settings``' accelerator)."""
        from cliffbench.methods.probes.neighbours import PoolNeighbours
        from cliffbench.trainer import resolve_device

        device = resolve_device(self.device, settings)
        key = (id(data), id(data.pool.X), id(data.test.X), self.metric, self.list_size, self.max_memory_gb, str(device))
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, PoolNeighbours(data.pool.X, data.test.X, self.metric, device, self.list_size,
                                                 self.max_memory_gb))
        return self._cache[1]

    def _run_batched(self, batch: CellBatch, ctx: JobContext) -> list[Outcome]:
        data = ctx.features
        nb = self._neighbours(data, ctx.trainer)
        k = min(self.k, batch.n)
        outcomes = []
        for trial, subset in zip(batch.trials, batch.index):
            pred, n_tied = self.predict(subset, data, nb)
            if self.keep_predictions:
                self.predictions[(batch.n, int(trial))] = pred
            outcomes.append(Outcome(int(trial), test_error(data.task, data.test.y, pred),
                                    {"k": k, "tie_rows": n_tied}))
        return outcomes

    def predict(self, subset: np.ndarray, data, nb=None) -> tuple[np.ndarray, int]:
        """Test-set predictions of the probe fitted on pool rows ``subset``, and how many test
        points were settled by scikit-learn because of a near-tie at the k-th neighbour."""
        nb = nb if nb is not None else self._neighbours(data)
        k = min(self.k, len(subset))
        found = nb.query(subset, self.k)
        if data.task == "classification":
            labels = data.pool.y[subset]
            classes = np.unique(labels)  # sorted: argmax keeps the smallest label among equal counts
            neigh = np.searchsorted(classes, labels)[found.index]  # (M, k)
            C = len(classes)
            counts = np.bincount((np.arange(len(neigh))[:, None] * C + neigh).ravel(), minlength=len(neigh) * C)
            pred = classes[counts.reshape(-1, C).argmax(1)]
        else:
            pred = np.asarray(data.pool.y, dtype=np.float64)[subset][found.index].mean(1)
        rows = np.flatnonzero(found.uncertain)
        if len(rows):  # near-ties at the k-th neighbour: scikit-learn's own tie-breaking
            model = self._sklearn_model(data.task, k).fit(data.pool.X[subset], data.pool.y[subset])
            pred[rows] = model.predict(np.asarray(data.test.X)[rows])
        return pred, int(len(rows))
