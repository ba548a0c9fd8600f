"""Least squares (minimum-norm solution when n < d) and ridge regression, without intercept.

Ridge minimises Σᵢ (wᵀxᵢ − yᵢ)² + λ‖w‖² (the paper's §3.1 objective, scikit-learn's ``Ridge``
with ``fit_intercept=False``); ``lam: optimal`` uses Nakkiran et al.'s λ = dσ²/‖v‖², read from the
dataset's linear teacher. On a dataset with a known linear teacher and isotropic Gaussian inputs
(``toy_linreg`` with the identity backbone) the test error is the exact population MSE
‖ŵ − v‖² + σ²; otherwise it is the MSE on the test split.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome
from cliffbench.methods.base import test_error



def min_norm_least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ‖Xw − y‖², the minimum-norm one when it is not unique (LAPACK gelsd, via SVD)."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin ‖Xw − y‖² + λ‖w‖², solved in the smaller of the primal (d×d) and dual (n×n) forms."""
    n, d = X.shape
    if d <= n:
        return np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)
    return X.T @ np.linalg.solve(X @ X.T + lam * np.eye(n), y)


def single_threaded():
    """BLAS limited to one thread: small dense solves gain nothing from more, and on a shared CPU
    the threads' contention made them ~10x slower (measured on a 10⁴ × 100 lstsq)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def linear_teacher(ctx: JobContext) -> dict[str, Any] | None:
    """The dataset's exact linear teacher when the features are its raw isotropic inputs."""
    teacher = ctx.raw.meta.get("linear_teacher")
    return teacher if teacher is not None and ctx.backbone.features_are_inputs else None


class LeastSquares(Method):
    """``lam=0``: least squares (minimum-norm); ``lam>0``: ridge; ``lam="optimal"``: dσ²/‖v‖²."""

    tasks = ("regression",)

    def __init__(self, name: str = "least_squares", lam: float | str = 0.0) -> None:
        super().__init__(name)
        if lam != "optimal" and not (isinstance(lam, (int, float)) and lam >= 0):
            raise ConfigError(f"method.lam must be a number >= 0 or 'optimal', got {lam!r}")
        self.lam = lam

    def resolve_lam(self, ctx: JobContext) -> float:
        if self.lam != "optimal":
            return float(self.lam)
        teacher = ctx.raw.meta.get("linear_teacher")
        if teacher is None:
            raise ConfigError(f"method.lam=optimal needs a dataset with a known linear teacher "
                              f"(dataset={ctx.dataset} has none); set method.lam to a number")
        v = np.asarray(teacher["v"])
        return len(v) * float(teacher["noise_var"]) / float(v @ v)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        data, lam, teacher = ctx.features, self.resolve_lam(ctx), linear_teacher(ctx)
        for trial, idx in zip(batch.trials, batch.index):
            X, y = data.pool.X[idx], data.pool.y[idx]
            with single_threaded():
                w = min_norm_least_squares(X, y) if lam == 0 else ridge(X, y, lam)
            metrics: dict[str, Any] = {"lam": lam, "w_norm": float(np.linalg.norm(w))}
            if teacher is not None:
                excess = float(np.sum((w - np.asarray(teacher["v"])) ** 2))
                metrics["excess_risk"] = excess
                err = excess + float(teacher["noise_var"])
            else:
                err = test_error("regression", data.test.y, data.test.X @ w)
            yield [Outcome(int(trial), err, metrics)]
