"""Small in-memory data for the probe parity tests (scikit-learn's digits, no download)."""

from __future__ import annotations

import numpy as np

from cliffbench.backbones.identity import Identity
from cliffbench.contract import CellBatch, DataBundle, JobContext, Split, TrainerSettings


def digits_bundle(classes=None, dtype=np.float64, n_pool: int = 1100, n_val: int = 0) -> DataBundle:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    n_pool = min(n_pool, len(y) // 2)
    val = Split(X[n_pool:n_pool + n_val], y[n_pool:n_pool + n_val]) if n_val else None
    return DataBundle(Split(X[:n_pool], y[:n_pool]), Split(X[n_pool + n_val:], y[n_pool + n_val:]), val)


def context(data: DataBundle, trainer: dict | None = None) -> JobContext:
    """A job context whose features are ``data`` itself (the identity backbone), on the CPU."""
    settings = TrainerSettings(**{"accelerator": "cpu", "max_epochs": 30, "patience": 5, **(trainer or {})})
    return JobContext(data, Identity(), dataset="digits", trainer=settings)


def nested_batches(pool_size: int, ns, trials: int, seed: int = 0):
    """CellBatches of nested random subsets (the runner's default protocol)."""
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(pool_size) for _ in range(trials)])
    return [CellBatch(n, np.arange(trials), 1000 + np.arange(trials), perms[:, :n]) for n in ns]


def outcomes(method, batch, ctx):
    """Outcomes of one batch, in trial order, whatever the method yields at a time."""
    got = {o.trial: o for chunk in method.run(batch, ctx) for o in chunk}
    return [got[int(t)] for t in batch.trials]
