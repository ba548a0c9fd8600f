"""The sampling protocol: the n-grid and the per-trial training subsets drawn from a fixed pool.

Every random choice here comes from a generator derived only from ``(seed, trial)`` (plus ``n`` for
``iid`` sampling), so subsets never depend on caches, model loading or any other consumer of
randomness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cliffbench.errors import ConfigError

SAMPLING_MODES = ("nested", "iid", "balanced")


def trial_rng(seed: int, trial: int, *extra: int) -> np.random.Generator:
    """Generator for one trial (and optionally one n), independent of everything else."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(trial), *map(int, extra)]))


def trial_seed(seed: int, trial: int) -> int:
    """A 31-bit integer seed for a trial's own randomness (model init, SGD order)."""
    state = np.random.SeedSequence([int(seed), int(trial), 0x5EED]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def make_grid(
    n: Sequence[int] | None = None,
    min: int = 10,  # noqa: A002 - mirrors the config keys grid.min / grid.max
    max: int | None = None,  # noqa: A002
    num: int = 10,
    *,
    pool_size: int,
) -> list[int]:
    """The sorted list of training-set sizes: an explicit list, or ``num`` log-spaced integers.

    Log-spaced values are rounded to integers and de-duplicated, so a dense grid over a short range
    can have fewer than ``num`` points. ``max=None`` means the pool size.
    """
    if n is not None and len(n) > 0:
        values = sorted({int(v) for v in n})
    else:
        hi = pool_size if max is None else int(max)
        lo = int(min)
        if num < 1:
            raise ConfigError(f"grid.num must be >= 1, got {num}")
        if lo < 1 or hi < lo:
            raise ConfigError(f"grid needs 1 <= grid.min <= grid.max, got min={lo}, max={hi}")
        values = sorted({int(round(v)) for v in np.geomspace(lo, hi, int(num))})
    if values[0] < 1:
        raise ConfigError(f"every n in the grid must be >= 1, got {values[0]}")
    if values[-1] > pool_size:
        raise ConfigError(
            f"grid: n={values[-1]} exceeds the training pool of {pool_size} samples; "
            f"lower grid.max or the values in grid.n"
        )
    return values


def _balanced_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation whose every prefix is as class-balanced as the class sizes allow."""
    classes = np.unique(labels)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    # Rank of each sample within its class; a random tie-break among classes of equal rank.
    rank = np.empty(len(labels), dtype=np.int64)
    for idx in per_class:
        rank[idx] = np.arange(len(idx))
    class_priority = rng.permutation(len(classes))
    prio = np.empty(len(labels), dtype=np.int64)
    for c_pos, idx in enumerate(per_class):
        prio[idx] = class_priority[c_pos]
    return np.lexsort((prio, rank))


def trial_subsets(
    n_values: Sequence[int],
    *,
    pool_size: int,
    seed: int,
    trial: int,
    sampling: str = "nested",
    labels: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """Indices into the pool for each n of one trial."""
    if sampling not in SAMPLING_MODES:
        raise ConfigError(f"grid.sampling must be one of {', '.join(SAMPLING_MODES)}, got {sampling!r}")
    rng = trial_rng(seed, trial)
    if sampling == "nested":
        order = rng.permutation(pool_size)
        return {int(n): order[:n] for n in n_values}
    if sampling == "balanced":
        if labels is None:
            raise ConfigError("grid.sampling=balanced needs class labels (a classification dataset)")
        order = _balanced_order(np.asarray(labels), rng)
        return {int(n): order[:n] for n in n_values}
    return {int(n): trial_rng(seed, trial, n).choice(pool_size, size=int(n), replace=False) for n in n_values}


class SubsetSampler:
    """Training subsets of many trials over one grid, without redrawing a trial's permutation per n.

    For ``nested`` and ``balanced`` sampling each trial's order is drawn once and only its first
    ``max(grid)`` entries are kept (int32), so the n-subsets of every n are prefixes of one array;
    ``iid`` draws afresh per (trial, n). Results equal :func:`trial_subsets` exactly.
    """

    def __init__(self, grid: Sequence[int], *, pool_size: int, seed: int, sampling: str = "nested",
                 labels: np.ndarray | None = None) -> None:
        self.max_n, self.pool_size, self.seed = int(max(grid)), pool_size, seed
        self.sampling, self.labels = sampling, labels
        self._orders: dict[int, np.ndarray] = {}

    def rows(self, n: int, trials: Sequence[int]) -> np.ndarray:
        """A (len(trials), n) array of pool indices."""
        if self.sampling == "iid":
            return np.stack([trial_subsets([n], pool_size=self.pool_size, seed=self.seed, trial=t,
                                           sampling="iid")[n] for t in trials])
        out = np.empty((len(trials), n), dtype=np.int64)
        for i, t in enumerate(trials):
            order = self._orders.get(int(t))
            if order is None:
                full = trial_subsets([self.max_n], pool_size=self.pool_size, seed=self.seed, trial=t,
                                     sampling=self.sampling, labels=self.labels)[self.max_n]
                order = self._orders[int(t)] = full.astype(np.int32)
            out[i] = order[:n]
        return out
