"""The data containers every dataset returns and the helpers to carve pool/validation/test."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cliffbench.errors import ConfigError

TASKS = ("classification", "regression")


@dataclass
class Split:
    """Inputs and targets of one split. ``X`` is an array or any indexable sequence of inputs
    (e.g. a torch ``Dataset`` of images); ``y`` is always a 1-D array."""

    X: Any
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> Split:
        """Rows ``index`` of this split (arrays only)."""
        return Split(np.asarray(self.X)[index], self.y[index])


@dataclass
class DataBundle:
    """A dataset ready for a job: the sampling pool, an optional validation set and the test set.

    ``meta`` carries what plots and reports need (``reference_lines``: name -> error level).
    """

    pool: Split
    test: Split
    val: Split | None = None
    task: str = "classification"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {TASKS}, got {self.task!r}")

    @property
    def classes(self) -> np.ndarray | None:
        """Sorted class labels of the pool (None for regression)."""
        if self.task != "classification":
            return None
        return np.unique(self.pool.y)

    def with_inputs(self, pool_X: Any, test_X: Any, val_X: Any = None) -> DataBundle:
        """The same bundle with new inputs (e.g. features), targets and metadata unchanged."""
        val = None if self.val is None else Split(val_X, self.val.y)
        return DataBundle(Split(pool_X, self.pool.y), Split(test_X, self.test.y), val, self.task, self.meta)


class Dataset(ABC):
    """Base of all datasets. Subclasses implement :meth:`load`."""

    task: str = "classification"

    def __init__(self, name: str, reference_lines: dict[str, float] | None = None) -> None:
        self.name = name
        self.reference_lines = dict(reference_lines or {})

    @abstractmethod
    def load(self) -> DataBundle:
        """Read (or generate) the data and return the pool, validation and test splits."""

    def _meta(self, **extra: Any) -> dict[str, Any]:
        return {"dataset": self.name, "reference_lines": dict(self.reference_lines), **extra}


def resolve_size(size: int | float | None, total: int, what: str) -> int:
    """An absolute count from an int, or from a fraction in (0, 1) of ``total``."""
    if size is None:
        return 0
    if isinstance(size, float) and 0 < size < 1:
        return int(round(size * total))
    if float(size) != int(size) or size < 0:
        raise ConfigError(f"{what} must be a count >= 0 or a fraction in (0, 1), got {size}")
    count = int(size)
    if count >= total:
        raise ConfigError(f"{what}={count} leaves no training data (only {total} samples)")
    return count


def split_off(n_total: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed seeded split of ``range(n_total)`` into (rest, held_out) with ``len(held_out)==size``."""
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 0xDA7A])).permutation(n_total)
    return np.sort(order[size:]), np.sort(order[:size])


def fixed_split(n_total: int, test_size: int | float, val_size: int | float | None,
                        seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed seeded (pool, val, test) row indices of ``range(n_total)``: the test set first, then the
    validation set from the rest (sizes are counts or fractions; ``val_size`` 0/None = empty)."""
    n_test = resolve_size(test_size, n_total, "dataset.test_size")
    train_idx, test_idx = split_off(n_total, n_test, seed)
    n_val = resolve_size(val_size, len(train_idx), "dataset.val_size")
    pool_pos, val_pos = split_off(len(train_idx), n_val, seed + 1)
    return train_idx[pool_pos], train_idx[val_pos], test_idx
