"""The limited memory of a batched L-BFGS: the last ``m`` steps ``s`` and gradient changes ``y`` of
every problem, and the quasi-Newton direction ``-H g`` from them in the compact representation
(Byrd, Nocedal and Schnabel 1994), the form scipy's L-BFGS-B keeps its memory in:

    H = gamma I + [S  gamma Y] [[R^-T (D + gamma Y^T Y) R^-1, -R^-T], [-R^-1, 0]] [S^T; gamma Y^T]

with ``R`` the upper triangle of ``S^T Y`` (pairs oldest first), ``D`` its diagonal and ``gamma`` =
``s.y / y.y`` of the newest pair. Per direction that is two batched products with the memory
(``g^T [S Y]`` and ``c^T [S Y]^T``, few rows on the left: CPU BLAS is
several times slower with a single column on the right) and a little ``m x m`` algebra, instead of the two-loop recursion's
``4m`` vector passes; the Gram matrix ``[S Y]^T [S Y]`` is updated by one row per new pair.
Equal to the two-loop recursion in exact arithmetic (tested).
"""

from __future__ import annotations

import torch


class LbfgsMemory:
    """Pairs of ``T`` problems with ``P`` variables in a shared ring of ``m`` slots; an empty slot
    (never filled, skipped update, reset) holds zeros and drops out of the formula."""

    def __init__(self, T: int, P: int, m: int, dtype: torch.dtype, device) -> None:
        self.m, self.ptr = m, 0
        self.V = torch.zeros(T, 2 * m, P, dtype=dtype, device=device)  # slots: s_0..s_m-1, y_0..y_m-1
        self.G = torch.zeros(T, 2 * m, 2 * m, dtype=torch.float64, device=device)  # V V^T
        self.gamma = torch.ones(T, dtype=torch.float64, device=device)

    def _rows(self, ids: torch.Tensor | None) -> torch.Tensor:
        return self.V if ids is None else self.V[ids]

    def direction(self, g: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        """``-H g`` for problems ``ids`` (all when None) with gradients ``g`` (len(ids), P)."""
        m = self.m
        V = self._rows(ids)
        G, gamma = (self.G, self.gamma) if ids is None else (self.G[ids], self.gamma[ids])
        order = torch.tensor([(self.ptr + j) % m for j in range(m)], device=g.device)  # oldest first
        both = torch.cat([order, order + m])
        proj = torch.bmm(g[:, None, :], V.transpose(1, 2)).squeeze(1).to(torch.float64)[:, both]
        a, yg = proj[:, :m, None], proj[:, m:, None]
        Gc = G[:, both][:, :, both]
        SY, YY = Gc[:, :m, m:], Gc[:, m:, m:]
        D = torch.diagonal(SY, dim1=1, dim2=2)
        R = torch.triu(SY) + torch.diag_embed((D == 0).to(SY.dtype))  # empty slots: identity rows
        u = torch.linalg.solve_triangular(R, a, upper=True)
        gam = gamma[:, None, None]
        w = D[:, :, None] * u + gam * (YY @ u) - gam * yg
        p1 = torch.linalg.solve_triangular(R.transpose(1, 2), w, upper=False)
        coef = torch.empty(len(g), 2 * m, dtype=torch.float64, device=g.device)
        coef[:, both] = torch.cat([p1, -gam * u], 1).squeeze(2)
        Hg = gamma[:, None].to(g.dtype) * g + torch.bmm(coef[:, None, :].to(g.dtype), V).squeeze(1)
        return -Hg

    def push(self, ids: torch.Tensor, s: torch.Tensor, y: torch.Tensor, good: torch.Tensor) -> None:
        """The newest pair of every problem ``ids`` (all problems still iterating): stored where
        ``good`` (its curvature ``s.y`` is positive enough), an empty slot elsewhere."""
        m, slot = self.m, self.ptr
        keep = good[:, None].to(s.dtype)
        self.V[ids, slot] = s * keep
        self.V[ids, m + slot] = y * keep
        V = self._rows(None if len(ids) == len(self.V) else ids)
        new = torch.bmm(V[:, [slot, m + slot]], V.transpose(1, 2)).to(torch.float64)  # (|ids|, 2, 2m)
        for j, col in enumerate((slot, m + slot)):
            self.G[ids, :, col] = new[:, j]
            self.G[ids, col, :] = new[:, j]
        sy, yy = new[:, 0, m + slot], new[:, 1, m + slot]
        upd = ids[good]
        self.gamma[upd] = (sy / yy)[good]
        self.ptr = (slot + 1) % m

    def reset(self, ids: torch.Tensor) -> None:
        """Forget problems ``ids``' pairs (steepest descent next)."""
        self.V[ids] = 0
        self.G[ids] = 0
        self.gamma[ids] = 1.0
