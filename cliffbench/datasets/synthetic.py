"""Shared ground of the synthetic (toy) datasets: validated split sizes and seeded random streams."""

from __future__ import annotations

import numpy as np

from cliffbench.contract import Dataset
from cliffbench.errors import ConfigError


def check_count(value, what: str, minimum: int = 1) -> int:
    """An integer >= ``minimum`` or a one-line ConfigError."""
    if float(value) != int(value) or int(value) < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value}")
    return int(value)


def toy_rng(seed: int, stream: int) -> np.random.Generator:
    """One independent generator per (dataset seed, purpose) so splits never share draws."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), 0x7011, int(stream)]))


class SyntheticDataset(Dataset):
    """A seeded synthetic dataset with a pool, a test split and a validation split of
    ``val_size >= min_val`` samples (0 = none)."""

    def __init__(self, name: str, pool_size: int, test_size: int, val_size: int, seed: int,
                 reference_lines: dict[str, float] | None = None, min_val: int = 0) -> None:
        super().__init__(name, reference_lines)
        self.pool_size = check_count(pool_size, "dataset.pool_size")
        self.test_size = check_count(test_size, "dataset.test_size")
        self.val_size = check_count(val_size, "dataset.val_size", minimum=min_val)
        self.seed = int(seed)
