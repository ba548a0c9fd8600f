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


def embedding_like(d: int = 768, classes: int = 10, pool: int = 20_000, test: int = 5_000, *,
                   alpha: float = 1.0, rank: int = 32, separation: float = 3.5, offset: float = 1.0, norm: float = 10.0,
                   seed: int = 0) -> DataBundle:
    """Synthetic features with the statistics of pretrained-network embeddings, float32:

    * within-class covariance with a power-law spectrum ``lambda_i ~ i^-alpha`` (trace 1) in a
      random orthonormal basis;
    * class means in the ``rank`` leading directions, a Gaussian combination of them, each scaled
      by its ``sqrt(lambda_i)``, at root-mean-square Mahalanobis distance ``separation`` from the
      centre (class structure lives where the variance is; classes overlap heavily);
    * a shared mean of norm ``offset`` (embeddings are not centred), labels uniform;
    * everything times ``norm`` (the within-class RMS norm).
    """
    rng = np.random.default_rng(seed)
    lam = np.arange(1, d + 1, dtype=np.float64) ** -alpha
    lam /= lam.sum()
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    root = basis * np.sqrt(lam)  # Sigma^(1/2) = basis diag(sqrt(lambda))
    means = separation / np.sqrt(rank) * rng.normal(size=(classes, rank)) @ root[:, :rank].T
    shared = rng.normal(size=d)
    shared *= offset / np.linalg.norm(shared)
    y = rng.integers(0, classes, size=pool + test)
    X = (norm * (shared + means[y] + rng.normal(size=(pool + test, d)) @ root.T)).astype(np.float32)
    return DataBundle(Split(X[:pool], y[:pool]), Split(X[pool:], y[pool:]))
