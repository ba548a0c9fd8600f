"""Helpers every dataset uses to carve pool/validation/test. The containers (``Split``,
``DataBundle``) and the ``Dataset`` base live in :mod:`cliffbench.contract`."""

from __future__ import annotations

import numpy as np

from cliffbench.contract import TASKS, DataBundle, Dataset, Split
from cliffbench.errors import ConfigError, DataError

__all__ = ["TASKS", "DataBundle", "Dataset", "Split", "check_bundle", "fixed_split", "resolve_size", "split_off"]


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


def check_bundle(data: DataBundle, name: str) -> None:
    """Refuse data that would give a silent nonsense curve: empty splits, a single class in the
    pool, or test classes that never occur in the pool."""
    for split, part in (("training pool", data.pool), ("test split", data.test), ("validation split", data.val)):
        if part is not None and len(part) == 0:
            raise DataError(f"dataset {name}: the {split} is empty")
    if data.task != "classification":
        return
    classes = np.unique(data.pool.y)
    if len(classes) < 2:
        raise DataError(f"dataset {name}: every training label is {classes[0]}; a classifier needs at "
                        f"least two classes in the pool")
    for split, part in (("test", data.test), ("validation", data.val)):
        unseen = [] if part is None else np.setdiff1d(np.unique(part.y), classes)
        if len(unseen):
            shown = ", ".join(str(c) for c in unseen[:5]) + (", ..." if len(unseen) > 5 else "")
            raise DataError(f"dataset {name}: {split} labels {shown} never occur in the training pool "
                            f"(pool classes {classes.min()}..{classes.max()}); train and {split} must share "
                            f"class ids")


def fixed_split(n_total: int, test_size: int | float, val_size: int | float | None,
                        seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed seeded (pool, val, test) row indices of ``range(n_total)``: the test set first, then the
    validation set from the rest (sizes are counts or fractions; ``val_size`` 0/None = empty)."""
    n_test = resolve_size(test_size, n_total, "dataset.test_size")
    train_idx, test_idx = split_off(n_total, n_test, seed)
    n_val = resolve_size(val_size, len(train_idx), "dataset.val_size")
    pool_pos, val_pos = split_off(len(train_idx), n_val, seed + 1)
    return train_idx[pool_pos], train_idx[val_pos], test_idx
