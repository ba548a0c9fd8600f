"""Batched least squares / ridge for real-valued targets: every trial of one n solved at once in
float64 via one batched SVD of the centred subsets (minimum-norm solution when n <= d and
``ridge=0``, like ``sklearn.linear_model.LinearRegression``; ``Ridge(alpha=ridge)`` otherwise)."""

from __future__ import annotations

import numpy as np

from cliffbench.methods.base import CellBatch, Outcome, test_error

CHUNK_ELEMENTS = 1 << 25  # bound on trials x n x d float64 entries held at once (256 MiB)


def fit_least_squares(batch: CellBatch, data, ridge: float, device) -> list[Outcome]:
    import torch

    X_pool = torch.as_tensor(np.asarray(data.pool.X), device=device).to(torch.float64)
    y_pool = torch.as_tensor(np.asarray(data.pool.y), device=device).to(torch.float64)
    X_test = torch.as_tensor(np.asarray(data.test.X), device=device).to(torch.float64)
    n, d = batch.index.shape[1], X_pool.shape[1]
    per_chunk = max(1, CHUNK_ELEMENTS // max(1, n * d))
    outcomes = []
    for start in range(0, len(batch), per_chunk):
        idx = torch.as_tensor(batch.index[start:start + per_chunk], device=device)
        X, y = X_pool[idx], y_pool[idx]
        x_mean, y_mean = X.mean(1, keepdim=True), y.mean(1, keepdim=True)
        Xc, yc = X - x_mean, y - y_mean
        U, s, Vh = torch.linalg.svd(Xc, full_matrices=False)
        # numpy/scipy lstsq's cutoff: singular values below eps * max(n, d) * s_max are zero
        cut = torch.finfo(torch.float64).eps * max(n, d) * s[:, :1]
        keep = s > cut
        inv = torch.where(keep, s / (s * s + ridge), torch.zeros_like(s))
        w = Vh.transpose(1, 2) @ (inv[..., None] * (U.transpose(1, 2) @ yc[..., None]))
        b = y_mean - (x_mean @ w).squeeze(2)
        pred = (X_test @ w).squeeze(2) + b
        for j, trial in enumerate(batch.trials[start:start + per_chunk]):
            outcomes.append(Outcome(int(trial), test_error("regression", data.test.y, pred[j].cpu().numpy()),
                                    {"rank": int(keep[j].sum())}))
    return outcomes
