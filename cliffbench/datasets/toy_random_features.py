"""Random-feature teacher of Bahri et al. (§2.3, App. D): inputs are S teacher features
F(x) ~ N(0, C) with a power-law spectrum C = diag(λᵢ), λᵢ = i^−(1+α), and targets are the linear
teacher y = ωᵀF(x), ω ~ N(0, 1/S) (seeded, noiseless).

``meta["random_features"]`` carries λ and ω so a student's test loss ½(f − F)² is exact:
½ eᵀ C e with e the difference of the student's and the teacher's weights over the S features.
Resolution-limited exponents are α (in D and in P); variance-limited ones are 1.
"""

from __future__ import annotations

import numpy as np

from cliffbench.contract import DataBundle, Split
from cliffbench.datasets.synthetic import SyntheticDataset, check_count, toy_rng
from cliffbench.errors import ConfigError


def power_law_spectrum(S: int, alpha: float) -> np.ndarray:
    return np.arange(1, S + 1, dtype=np.float64) ** -(1.0 + alpha)


class ToyRandomFeatures(SyntheticDataset):
    """Teacher features F ~ N(0, diag(spectrum)) and targets y = omega^T F; pool and test split."""

    task = "regression"

    def __init__(self, name: str = "toy_random_features", S: int = 1000, alpha: float = 1.0,
                 pool_size: int = 20_000, test_size: int = 2000, seed: int = 0,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, pool_size, test_size, 0, seed, reference_lines)
        self.S = check_count(S, "dataset.S")
        if not float(alpha) > 0:
            raise ConfigError(f"dataset.alpha must be > 0 (spectrum i^-(1+alpha)), got {alpha}")
        self.alpha = float(alpha)

    def _split(self, size: int, stream: int, scale: np.ndarray, omega: np.ndarray) -> Split:
        X = toy_rng(self.seed, stream).standard_normal((size, self.S), dtype=np.float32)
        X *= scale.astype(np.float32)
        return Split(X, (X.astype(np.float64) @ omega))

    def load(self) -> DataBundle:
        spectrum = power_law_spectrum(self.S, self.alpha)
        omega = toy_rng(self.seed, 0).standard_normal(self.S) / np.sqrt(self.S)
        scale = np.sqrt(spectrum)
        meta = self._meta(random_features={"spectrum": spectrum.tolist(), "omega": omega.tolist(),
                                           "alpha": self.alpha})
        return DataBundle(self._split(self.pool_size, 1, scale, omega),
                          self._split(self.test_size, 2, scale, omega), None, "regression", meta)
