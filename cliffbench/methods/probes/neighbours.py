"""Nearest neighbours of every test point inside many random subsets of one pool.

Once per job, each test point's ``L`` nearest pool points are found (float32 matrix products, test
points in chunks so memory stays bounded) and kept in distance order. For a subset of size n, a
test point's k+1 nearest subset members are the first members met along that list; when n is too
small for the list to hold them, the distances to the subset's members are needed directly. When
the whole test x pool distance matrix fits in ``max_memory_gb`` it is kept from the one-off pass,
pool-major, so those distances are a gather of whole rows (no feature dimension); otherwise they
are recomputed. The k+1 smallest of them are found by a partition, not a sort; the list walk is a
cumulative count of members along each list.

A test point whose k-th and (k+1)-th float32 distances are closer than float32 rounding can resolve
is a near-tie. For the euclidean metric it is refined: scikit-learn orders float32 and float64
inputs by float64 distances (its ArgKmin upcasts), so exact float64 distances to the few listed
candidates settle the k nearest whenever their k-th / (k+1)-th float64 gap is far above float64
rounding. What is left (exact ties, bands reaching past the list, any cosine near-tie: scikit-learn
computes cosine distances of float32 data in float32) is reported ``uncertain`` so the caller can
settle it with scikit-learn itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_ELEMENTS = 1 << 24  # test rows x pool rows of float32 distances held at once (64 MiB)
REL_TOL = 2e-5  # float32 distance error bound, relative to the squared norms involved
REL_TOL64 = 1e-10  # float64 distance error bound (scikit-learn's |x|^2 - 2xy + |y|^2 in float64), same scale
REFINE_EXTRA = 8  # members kept past the k-th for the float64 refinement of near-ties
MIN_EXPECTED_MEMBERS = 8  # list prefix holding this many members past the needed ones on average
# (the rare short ones go direct)


@dataclass
class Neighbours:
    """``index`` (M, m) subset positions of each test point's nearest members, nearest first;
    ``uncertain`` (M,) where the k-th / (k+1)-th boundary is a near-tie."""

    index: np.ndarray
    uncertain: np.ndarray


def smallest(d, m: int):
    """Values and column indices of the ``m`` smallest entries in each row of float32 ``d``,
    ascending (which of several equal values at the m-th place is kept is arbitrary: callers flag
    near-ties). On the CPU a SIMD partition finds each row's m-th value and the entries up to it
    are sorted, several times faster than ``torch.topk``."""
    import torch

    m = min(m, d.shape[1])
    if d.device.type != "cpu":
        return torch.topk(d, m, dim=1, largest=False, sorted=True)
    a = np.ascontiguousarray(d.numpy())
    if m < a.shape[1]:
        hit = a <= np.partition(a, m - 1, axis=1)[:, m - 1:m]
        exact = hit.sum(1) == m  # otherwise equal values at the m-th place (or NaN)
        cols = np.empty((len(a), m), dtype=np.int64)
        rows = np.flatnonzero(exact)
        if len(rows) < len(a):
            hit[~exact] = False
            cols[~exact] = np.argpartition(a[~exact], m - 1, axis=1)[:, :m]
        cols[rows] = np.flatnonzero(hit).reshape(-1, m) - (rows * a.shape[1])[:, None]
    else:
        cols = np.broadcast_to(np.arange(m), a.shape)
    vals = np.take_along_axis(a, cols, 1)
    order = np.argsort(vals, axis=1)  # SIMD quicksort; equal values in any order (see above)
    return torch.from_numpy(np.take_along_axis(vals, order, 1)), torch.from_numpy(np.take_along_axis(cols, order, 1))


class PoolNeighbours:
    """Per-test-point neighbour order over the pool, computed once and reused for every subset."""

    def __init__(self, pool_X, test_X, metric: str, device, list_size: int = 2048,
                 max_memory_gb: float = 4.0) -> None:
        import torch

        self.metric, self.device = metric, device
        self.pool_X, self.test_X = np.asarray(pool_X), np.asarray(test_X)  # original values, for refinement
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
        # kept pool-major: a subset's distances are then whole rows (a contiguous gather)
        self.full_t = torch.empty(self.N, len(Q), device=device) if keep else None
        step = max(1, CHUNK_ELEMENTS // max(1, self.N))
        for start in range(0, len(Q), step):
            d = self.distances(slice(start, start + step), P, self.p_sq)
            if keep:
                self.full_t[:, start:start + step] = d.T
            vals, idx = smallest(d, self.L)
            order.append(idx.to(torch.int32))
            dist.append(vals)
        self.order = torch.cat(order) if order else torch.zeros(0, self.L, dtype=torch.int32, device=device)
        self.dist = torch.cat(dist) if dist else torch.zeros(0, self.L, device=device)

    def distances(self, rows, X, x_sq):
        """float32 distances (squared euclidean, or cosine) from test ``rows`` to ``X``."""
        import torch

        if self.metric == "cosine":
            return torch.addmm(torch.ones(1, device=self.device), self.Q[rows], X.T, alpha=-1.0)
        d = torch.addmm(x_sq[None, :], self.Q[rows], X.T, alpha=-2.0)
        return d.add_(self.q_sq[rows, None]).clamp_min_(0.0)

    def query(self, subset: np.ndarray, k: int) -> Neighbours:
        """The ``min(k + 1, n)`` nearest members of ``subset`` (pool rows) for every test point."""
        import torch

        n, M = len(subset), len(self.Q)
        m = min(k + REFINE_EXTRA, n) if self.metric == "euclidean" and n > k else min(k + 1, n)
        out = torch.zeros(M, m, dtype=torch.long, device=self.device)
        dist = torch.zeros(M, m, device=self.device)
        missing = torch.ones(M, dtype=torch.bool, device=self.device)
        sub = torch.as_tensor(subset, device=self.device)
        want = MIN_EXPECTED_MEMBERS + m  # members the list prefix holds on average
        prefix = min(self.L, int(np.ceil(want * self.N / max(n, 1))))
        # the list walk costs a few passes over (M, prefix); the kept distances one gather of (n, M)
        if n > k and n * self.L >= want * self.N and (self.full_t is None or 2 * prefix <= n):
            pos = torch.full((self.N,), -1, dtype=torch.int32, device=self.device)
            pos[sub] = torch.arange(n, dtype=torch.int32, device=self.device)
            found, idx, d = self._walk(pos, self.order[:, :prefix], self.dist[:, :prefix], m)
            out[found], dist[found] = idx, d
            rows = (~found).nonzero().squeeze(1)
            if len(rows) and prefix < self.L:  # the rare short prefixes: the rest of their lists
                more, idx, d = self._walk(pos, self.order[rows], self.dist[rows], m)
                out[rows[more]], dist[rows[more]] = idx, d
                found[rows[more]] = True
            missing = ~found
        rows = missing.nonzero().squeeze(1)
        if len(rows):
            if self.full_t is None:
                X, x_sq = self.P[sub], self.p_sq[sub]
            step = max(1, CHUNK_ELEMENTS // max(1, n))
            for start in range(0, len(rows), step):
                r = rows[start:start + step]
                if self.full_t is None:
                    d = self.distances(r, X, x_sq)
                elif len(r) == M:
                    d = self.full_t.index_select(0, sub).T
                else:
                    d = self.full_t[sub[:, None], r[None, :]].T
                vals, idx = smallest(d, m)
                out[r], dist[r] = idx, vals
        if m > k:
            uncertain = (dist[:, k] - dist[:, k - 1]) <= 2 * self.scale
        else:
            uncertain = torch.zeros(M, dtype=torch.bool, device=self.device)
        index, uncertain = out.cpu().numpy(), uncertain.cpu().numpy()
        if m > k + 1 and uncertain.any():
            self._refine(subset, k, index, dist.cpu().numpy(), uncertain)
        return Neighbours(index[:, :min(k, n)], uncertain)

    @staticmethod
    def _walk(pos, order, dist, m: int):
        """Rows of ``order`` (pool rows by distance, ``dist``) holding ``m`` subset members (``pos``:
        subset position of each pool row, or -1), and their first ``m`` members and distances."""
        R, width = order.shape
        # index_select: several times faster than advanced indexing on the CPU
        member = pos.index_select(0, order.reshape(-1)).view(R, width)
        hit = member >= 0
        seen = hit.cumsum(1, dtype=pos.dtype)
        found = seen[:, -1] >= m
        first = hit.logical_and_(seen <= m).logical_and_(found[:, None])  # each found row's first m
        flat = first.view(-1).nonzero().squeeze(1)  # row-major: list (distance) order
        return (found, member.view(-1).index_select(0, flat).view(-1, m).long(),
                dist.reshape(-1).index_select(0, flat).view(-1, m))

    def _refine(self, subset, k, index, dist, uncertain) -> None:
        """Settle near-tie rows (in place) with exact float64 distances to their listed members."""
        rows = np.flatnonzero(uncertain)
        scale = self.scale.cpu().numpy()[rows].astype(np.float64)
        # a member past the list could still be among the k nearest when the band reaches its end
        closed = (dist[rows, -1] > dist[rows, k - 1] + 2 * scale) | (index.shape[1] == len(subset))
        cand = index[rows]  # (r, m) subset positions
        diff = self.pool_X[subset[cand]].astype(np.float64) - self.test_X[rows, None, :].astype(np.float64)
        d64 = np.einsum("rmd,rmd->rm", diff, diff)
        order = np.argsort(d64, axis=1, kind="stable")
        d_sorted = np.take_along_axis(d64, order, 1)
        gap = d_sorted[:, k] - d_sorted[:, k - 1]
        settled = closed & (gap > 2 * scale * (REL_TOL64 / REL_TOL))
        index[rows[settled]] = np.take_along_axis(cand, order, 1)[settled]
        uncertain[rows[settled]] = False
