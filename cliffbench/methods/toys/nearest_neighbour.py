"""1-nearest-neighbour regression (Euclidean, exact k-d tree search), the power-law baseline of the
paper's Fig 3.1a. The test error is the test-split MSE; on a dataset with a known linear teacher
(``toy_linreg``) it is measured against the noiseless signal vᵀx plus σ², the same population MSE
with less test-set noise."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cliffbench.contract import CellBatch, JobContext, Method, Outcome
from cliffbench.methods.base import test_error
from cliffbench.methods.toys.least_squares import linear_teacher



class NearestNeighbourRegression(Method):
    tasks = ("regression",)

    def __init__(self, name: str = "nearest_neighbour") -> None:
        super().__init__(name)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        from scipy.spatial import cKDTree

        data, teacher = ctx.features, linear_teacher(ctx)
        X_test = np.asarray(data.test.X)
        if teacher is not None:
            target, noise = X_test @ np.asarray(teacher["v"]), float(teacher["noise_var"])
        else:
            target, noise = data.test.y, 0.0
        for trial, idx in zip(batch.trials, batch.index):
            _, nearest = cKDTree(data.pool.X[idx]).query(X_test, k=1)
            pred = data.pool.y[idx][nearest]
            yield [Outcome(int(trial), test_error("regression", target, pred) + noise)]
