"""Random-feature student of Bahri et al. (§2.3, App. D): P features f = 𝒫F, a random Gaussian
projection 𝒫 (P × S, entries N(0, 1/S), drawn per trial from the trial seed) of the teacher's S
features, trained to the MSE optimum from zero init, i.e. the minimum-norm least-squares θ.

On ``toy_random_features`` the test loss is exact, L = ½ eᵀCe with e = 𝒫ᵀθ − ω, and every row also
records the two limits that define the variance-limited regimes:
``loss_infinite_data`` = L(P) (the best θ for this projection, D → ∞) and
``loss_all_features`` = L(D) (the student with all S features on the same data, P → S),
with ``excess_over_infinite_data`` = L − L(P) and ``excess_over_all_features`` = L − L(D).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.contract import CellBatch, JobContext, Method, Outcome
from cliffbench.methods.toys.least_squares import single_threaded



def weighted_loss(e: np.ndarray, spectrum: np.ndarray) -> float:
    return 0.5 * float(np.sum(spectrum * e * e))


def student_losses(X: np.ndarray, omega: np.ndarray, spectrum: np.ndarray, proj: np.ndarray) -> dict[str, float]:
    """L(D, P), L(P) and L(D) for data rows ``X`` (D × S) and projection ``proj`` (P × S)."""
    y = X @ omega
    theta = np.linalg.lstsq(X @ proj.T, y, rcond=None)[0]
    loss = weighted_loss(proj.T @ theta - omega, spectrum)
    root = np.sqrt(spectrum)
    best = np.linalg.lstsq(root[:, None] * proj.T, root * omega, rcond=None)[0]
    infinite_data = weighted_loss(proj.T @ best - omega, spectrum)
    D, S = X.shape
    if D < S:  # minimum-norm interpolant over all S features, in the dual (D × D) form
        all_features = weighted_loss(X.T @ np.linalg.solve(X @ X.T, y) - omega, spectrum)
    else:  # D >= S Gaussian rows have full column rank a.s.: the fit recovers ω exactly
        all_features = 0.0
    return {"loss": loss, "loss_infinite_data": infinite_data, "loss_all_features": all_features}


class RandomFeatureStudent(Method):
    tasks = ("regression",)

    def __init__(self, name: str = "random_features", P: int = 100) -> None:
        super().__init__(name)
        if int(P) != P or P < 1:
            raise ConfigError(f"method.P must be a positive integer, got {P}")
        self.P = int(P)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        teacher = ctx.raw.meta.get("random_features")
        if teacher is None:
            raise ConfigError(f"method={self.name} needs dataset=toy_random_features "
                              f"(dataset={ctx.dataset} has no random-feature teacher)")
        omega, spectrum = np.asarray(teacher["omega"]), np.asarray(teacher["spectrum"])
        S = len(omega)
        if self.P > S:
            raise ConfigError(f"method.P={self.P} exceeds the teacher's S={S} features (dataset.S)")
        X_pool = ctx.raw.pool.X
        for trial, seed, idx in zip(batch.trials, batch.seeds, batch.index):
            proj = np.random.default_rng(int(seed)).standard_normal((self.P, S)) / np.sqrt(S)
            with single_threaded():
                res = student_losses(np.asarray(X_pool[idx], dtype=np.float64), omega, spectrum, proj)
            loss = res.pop("loss")
            metrics = {"P": self.P, **res,
                       "excess_over_infinite_data": loss - res["loss_infinite_data"],
                       "excess_over_all_features": loss - res["loss_all_features"]}
            yield [Outcome(int(trial), loss, metrics)]
