"""Linear probe: multinomial logistic regression with scikit-learn's objective (``C`` default 100),
or least squares / ridge for regression targets. One scikit-learn fit per cell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.methods.base import CellBatch, Method, Outcome, single_class_outcome, test_error

if TYPE_CHECKING:
    from cliffbench.runner import JobContext


class LinearProbe(Method):
    def __init__(self, name: str = "linear", C: float = 100.0, max_iter: int = 1000,
                 tol: float = 1e-4, ridge: float = 0.0) -> None:
        super().__init__(name)
        if not float(C) > 0:
            raise ConfigError(f"method.C must be > 0, got {C}")
        self.C, self.max_iter, self.tol, self.ridge = float(C), int(max_iter), float(tol), float(ridge)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        from sklearn.linear_model import LogisticRegression, Ridge

        data = ctx.features
        for trial, idx in zip(batch.trials, batch.index):
            X, y = data.pool.X[idx], data.pool.y[idx]
            if data.task == "classification":
                if len(np.unique(y)) == 1:
                    yield [single_class_outcome(int(trial), data.task, y[0], data.test.y)]
                    continue
                model = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol)
            else:
                model = Ridge(alpha=self.ridge, solver="svd")
            model.fit(X, y)
            pred = model.predict(data.test.X)
            extra = {"n_iter": int(np.max(model.n_iter_))} if hasattr(model, "n_iter_") and model.n_iter_ is not None else {}
            yield [Outcome(int(trial), test_error(data.task, data.test.y, pred), extra)]
