"""Linear-regression toy of the cliff-learning paper (§3.1): x ~ N(0, I_d), y = vᵀx + N(0, σ²).

The teacher ``v`` (a seeded random direction scaled to ``v_norm``) and the noise level travel in
``meta["linear_teacher"]``, so linear methods can report the exact population test MSE
``‖ŵ − v‖² + σ²`` (x is isotropic) instead of a noisy test-set estimate.
"""

from __future__ import annotations

import numpy as np

from cliffbench.contract import DataBundle, Split
from cliffbench.datasets.synthetic import SyntheticDataset, check_count, toy_rng
from cliffbench.errors import ConfigError


class ToyLinearRegression(SyntheticDataset):
    """Synthetic linear regression with a fixed pool, validation and test split (all seeded)."""

    task = "regression"

    def __init__(self, name: str = "toy_linreg", d: int = 5, sigma: float = 0.0, v_norm: float = 1.0,
                 pool_size: int = 100_000, test_size: int = 10_000, val_size: int = 0, seed: int = 0,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, pool_size, test_size, val_size, seed, reference_lines)
        self.d = check_count(d, "dataset.d")
        if not float(sigma) >= 0 or not float(v_norm) > 0:
            raise ConfigError(f"dataset.sigma must be >= 0 and dataset.v_norm > 0, got {sigma}, {v_norm}")
        self.sigma, self.v_norm = float(sigma), float(v_norm)

    def teacher(self) -> np.ndarray:
        v = toy_rng(self.seed, 0).standard_normal(self.d)
        return v * (self.v_norm / np.linalg.norm(v))

    def _split(self, size: int, stream: int, v: np.ndarray) -> Split:
        rng = toy_rng(self.seed, stream)
        X = rng.standard_normal((size, self.d))
        return Split(X, X @ v + self.sigma * rng.standard_normal(size))

    def load(self) -> DataBundle:
        v = self.teacher()
        lines = dict(self.reference_lines)
        if self.sigma > 0:
            lines.setdefault("noise floor σ²", self.sigma**2)
        val = self._split(self.val_size, 3, v) if self.val_size else None
        meta = self._meta(linear_teacher={"v": v.tolist(), "noise_var": self.sigma**2}, d=self.d,
                          critical_n=self.d)
        meta["reference_lines"] = lines
        # the test MSE of any predictor is >= the label noise σ²: the report fixes its fitted E here
        meta["known_floor"] = {"name": "noise floor σ²", "value": self.sigma**2}
        return DataBundle(self._split(self.pool_size, 1, v), self._split(self.test_size, 2, v), val,
                          "regression", meta)
