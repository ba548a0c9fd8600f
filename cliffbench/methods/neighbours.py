"""Nearest neighbours of every test point inside many random subsets of one pool.

Once per job, each test point's ``L`` nearest pool points are found (float32 matrix products, test
points in chunks so memory stays bounded) and kept in distance order. For a subset of size n, a
test point's k+1 nearest subset members are the first members met along that list; when n is too
small for the list to hold them, the distances to the subset's members are needed directly. When
the whole test x pool distance matrix fits in ``max_memory_gb`` it is kept from the one-off pass,
so those distances are a column gather (no feature dimension); otherwise they are recomputed. A test point whose
k-th and (k+1)-th distances are closer than float32 rounding can resolve is reported as
``uncertain`` so the caller can settle it exactly (the order among near-ties is not knowable in
float32)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_ELEMENTS = 1 << 24  # test rows x pool rows of float32 distances held at once (64 MiB)
REL_TOL = 2e-5  # float32 distance error bound, relative to the squared norms involved
MIN_EXPECTED_MEMBERS = 8  # list prefix holding this many members on average (the rare short ones go direct)


@dataclass
class Neighbours:
    """``index`` (M, m) subset positions of each test point's nearest members, nearest first;
    ``uncertain`` (M,) where the k-th / (k+1)-th boundary is a near-tie."""

    index: np.ndarray
    uncertain: np.ndarray


class PoolNeighbours:
    """Per-test-point neighbour order over the pool, computed once and reused for every subset."""

    def __init__(self, pool_X, test_X, metric: str, device, list_size: int = 2048,
                 max_memory_gb: float = 4.0) -> None:
        import torch

        self.metric, self.device = metric, device
        P = torch.as_tensor(np.asarray(pool_X), device=device).to(torch.float32)
        Q = torch.as_tensor(np.asarray(test_X), device=device).to(torch.float32)
        if metric == "cosine":  # scikit-learn's cosine distance: 1 - <x/|x|, y/|y|>, zero vectors kept
            P = P / P.norm(dim=1, keepdim=True).clamp_min(1e-30)
            Q = Q / Q.norm(dim=1, keepdim=True).clamp_min(1e-30)
        self.P, self.Q = P, Q
        self.p_sq, self.q_sq = (P * P).sum(1), (Q * Q).sum(1)
        self.scale = REL_TOL * (self.q_sq + self.p_sq.max() if len(P) else self.q_sq)
        if metric == "cosine":
            self.scale = torch.full_like(self.q_sq, 2 * REL_TOL)
        self.N, self.L = len(P), min(int(list_size), len(P))
        order, dist = [], []
        keep = len(Q) * self.N * 4 <= max_memory_gb * 2**30
        self.full = torch.empty(len(Q), self.N, device=device) if keep else None
        step = max(1, CHUNK_ELEMENTS // max(1, self.N))
        for start in range(0, len(Q), step):
            d = self.distances(slice(start, start + step), P, self.p_sq)
            if keep:
                self.full[start:start + step] = d
            vals, idx = torch.topk(d, self.L, dim=1, largest=False, sorted=True)
            order.append(idx.to(torch.int32))
            dist.append(vals)
        self.order = torch.cat(order) if order else torch.zeros(0, self.L, dtype=torch.int32, device=device)
        self.dist = torch.cat(dist) if dist else torch.zeros(0, self.L, device=device)

    def distances(self, rows, X, x_sq):
        """float32 distances (squared euclidean, or cosine) from test ``rows`` to ``X``."""
        dots = self.Q[rows] @ X.T
        if self.metric == "cosine":
            return 1.0 - dots
        return (self.q_sq[rows, None] - 2.0 * dots + x_sq[None, :]).clamp_min(0.0)

    def query(self, subset: np.ndarray, k: int) -> Neighbours:
        """The ``min(k + 1, n)`` nearest members of ``subset`` (pool rows) for every test point."""
        import torch

        n, M = len(subset), len(self.Q)
        m = min(k + 1, n)
        out = torch.zeros(M, m, dtype=torch.long, device=self.device)
        dist = torch.zeros(M, m, device=self.device)
        missing = torch.ones(M, dtype=torch.bool, device=self.device)
        sub = torch.as_tensor(subset, device=self.device)
        if n > k and n * self.L >= MIN_EXPECTED_MEMBERS * self.N:
            prefix = min(self.L, int(np.ceil(MIN_EXPECTED_MEMBERS * self.N / n)) + m)
            pos = torch.full((self.N,), -1, dtype=torch.long, device=self.device)
            pos[sub] = torch.arange(n, device=self.device)
            member = pos[self.order[:, :prefix].long()]
            rank = torch.where(member >= 0, torch.arange(prefix, device=self.device),
                               torch.full_like(member, prefix))
            first = torch.topk(rank, m, dim=1, largest=False, sorted=True).values
            found = first[:, -1] < prefix
            hit = first[found]
            out[found] = member[found].gather(1, hit)
            dist[found] = self.dist[found, :prefix].gather(1, hit)
            missing = ~found
        rows = missing.nonzero().squeeze(1)
        if len(rows):
            if self.full is None:
                X, x_sq = self.P[sub], self.p_sq[sub]
            step = max(1, CHUNK_ELEMENTS // max(1, n))
            for start in range(0, len(rows), step):
                r = rows[start:start + step]
                d = self.full[r[:, None], sub[None, :]] if self.full is not None else self.distances(r, X, x_sq)
                vals, idx = torch.topk(d, m, dim=1, largest=False, sorted=True)
                out[r], dist[r] = idx, vals
        if m > k:
            uncertain = (dist[:, k] - dist[:, k - 1]) <= 2 * self.scale
        else:
            uncertain = torch.zeros(M, dtype=torch.bool, device=self.device)
        return Neighbours(out[:, :min(k, n)].cpu().numpy(), uncertain.cpu().numpy())
