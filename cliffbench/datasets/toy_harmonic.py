"""Bandlimited harmonic regression toy of the cliff-learning paper (§3.3, eq. 3.2):
h(x) = Σ_{a,b ∈ {−B..B}} α_ab cos(2π(a x₁ + b x₂)) + β_ab sin(2π(a x₁ + b x₂)), x ~ Unif([0,1]²).

The coefficients are seeded standard normals, rescaled so that ‖h‖² = ∫ h² dx = 1 (test errors then
read relative to the signal). Targets are noiseless. Sampling theory needs (2B+1)² samples
(``meta["critical_n"]``)."""

from __future__ import annotations

import itertools

import numpy as np

from cliffbench.contract import DataBundle, Split
from cliffbench.datasets.synthetic import SyntheticDataset, check_count, toy_rng


class HarmonicFunction:
    """h with coefficients over all frequency vectors of {−B..B}^dim, as eq. 3.2 writes it."""

    def __init__(self, B: int, dim: int = 2, seed: int = 0) -> None:
        self.freqs = np.array(list(itertools.product(range(-B, B + 1), repeat=dim)), dtype=np.float64)
        rng = toy_rng(seed, 10)
        alpha, beta = rng.standard_normal(len(self.freqs)), rng.standard_normal(len(self.freqs))
        scale = 1.0 / np.sqrt(self._norm2(alpha, beta))
        self.alpha, self.beta = alpha * scale, beta * scale

    def _norm2(self, alpha: np.ndarray, beta: np.ndarray) -> float:
        """∫ h² over the unit cube: fold ±v into one cosine and one sine coefficient per frequency."""
        index = {tuple(v): i for i, v in enumerate(self.freqs)}
        total = 0.0
        for i, v in enumerate(self.freqs):
            j = index[tuple(-v)]
            if not v.any():
                total += alpha[i] ** 2
            elif i < j:  # each ±v pair once; each of cos, sin has mean square 1/2
                total += 0.5 * ((alpha[i] + alpha[j]) ** 2 + (beta[i] - beta[j]) ** 2)
        return float(total)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * np.asarray(x, dtype=np.float64) @ self.freqs.T
        return np.cos(phase) @ self.alpha + np.sin(phase) @ self.beta


class ToyHarmonic(SyntheticDataset):
    """Pool, validation (early stopping) and test split of (x, h(x)), x uniform on [0, 1]^2."""

    task = "regression"

    def __init__(self, name: str = "toy_harmonic", B: int = 2, pool_size: int = 20_000,
                 val_size: int = 512, test_size: int = 10_000, seed: int = 0,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, pool_size, test_size, val_size, seed, reference_lines, min_val=1)
        self.B = check_count(B, "dataset.B", minimum=0)

    def _split(self, h: HarmonicFunction, size: int, stream: int) -> Split:
        X = toy_rng(self.seed, stream).uniform(0.0, 1.0, size=(size, 2)).astype(np.float32)
        return Split(X, h(X).astype(np.float32))

    def load(self) -> DataBundle:
        h = HarmonicFunction(self.B, 2, self.seed)
        meta = self._meta(harmonic={"B": self.B}, critical_n=(2 * self.B + 1) ** 2)
        return DataBundle(self._split(h, self.pool_size, 1), self._split(h, self.test_size, 2),
                          self._split(h, self.val_size, 3), "regression", meta)
