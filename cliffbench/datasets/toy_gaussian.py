"""Binary Gaussian classification toy of the cliff-learning paper (App. F): y uniform on ±1,
x ~ N(y·s·e₁, I_d). ``meta["gaussian_toy"]`` carries s (the signal-to-noise ratio) so the mean
classifier can report the exact error Φ(−s·ŵ₁/‖ŵ‖) (F.2) instead of a test-set estimate."""

from __future__ import annotations

import numpy as np

from cliffbench.closed_forms import bayes_error
from cliffbench.contract import DataBundle, Split
from cliffbench.datasets.synthetic import SyntheticDataset, check_count, toy_rng
from cliffbench.errors import ConfigError


class ToyGaussian(SyntheticDataset):
    """Pool, test split (and optional validation split), float32 inputs, labels in {-1, +1}."""

    task = "classification"

    def __init__(self, name: str = "toy_gaussian", d: int = 100, s: float = 1.0,
                 pool_size: int = 100_000, test_size: int = 10_000, val_size: int = 0, seed: int = 0,
                 reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name, pool_size, test_size, val_size, seed, reference_lines)
        self.d = check_count(d, "dataset.d")
        if not float(s) > 0:
            raise ConfigError(f"dataset.s must be > 0, got {s}")
        self.s = float(s)

    def _split(self, size: int, stream: int) -> Split:
        rng = toy_rng(self.seed, stream)
        y = rng.choice(np.array([-1, 1]), size=size)
        X = rng.standard_normal((size, self.d), dtype=np.float32)
        X[:, 0] += (self.s * y).astype(np.float32)
        return Split(X, y.astype(np.int64))

    def load(self) -> DataBundle:
        lines = {"Bayes error Φ(−s)": bayes_error(self.s), **self.reference_lines}
        val = self._split(self.val_size, 3) if self.val_size else None
        meta = self._meta(gaussian_toy={"s": self.s, "d": self.d})
        meta["reference_lines"] = lines
        # the lowest error any classifier reaches: the report fixes its fitted floor E here
        meta["known_floor"] = {"name": "Bayes error Φ(−s)", "value": bayes_error(self.s)}
        return DataBundle(self._split(self.pool_size, 1), self._split(self.test_size, 2), val,
                          "classification", meta)
