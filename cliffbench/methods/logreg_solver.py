"""Batched L-BFGS for L2-penalised multinomial logistic regression: many independent problems (one
per trial) solved together, each with scikit-learn's objective and stopping rule.

Each problem minimises the mean-scaled objective scikit-learn's lbfgs solver minimises,
``f = sum_i w_i CE_i + reg/2 * ||W||^2`` with ``w_i = 1/n`` on the subset's rows and
``reg = 1/(C n)`` (that is ``(C * sum CE + ||W||^2/2) / (C n)``), intercepts unpenalised, logits of
classes absent from the subset fixed at -inf. A problem stops, exactly as scipy's L-BFGS-B does
for scikit-learn, when ``max |grad f| <= tol`` or the relative decrease of ``f`` in one iteration is
``<= 64 * eps64``, or after ``max_iter`` iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FTOL64 = 64 * 2.220446049250313e-16  # scikit-learn's ftol for L-BFGS-B
FTOL32 = 1e-6  # below this relative decrease float32 arithmetic stalls: continue in float64
RUNNING, GTOL, FTOL, MAXITER, LINESEARCH = 0, 1, 2, 3, 4


class GatheredDesign:
    """Per-problem feature rows ``Z[t]`` (T, rows, p): for small subsets."""

    def __init__(self, Z: torch.Tensor) -> None:
        self.Z = Z

    cheap_take = False  # taking problems copies their rows

    def take(self, idx: torch.Tensor) -> GatheredDesign:
        return GatheredDesign(self.Z[idx])

    def to(self, dtype: torch.dtype) -> GatheredDesign:
        return GatheredDesign(self.Z.to(dtype))

    # Written as products with few rows on the left: with K ~ 10 class columns, CPU BLAS is 2-4x
    # faster this way than with Z (T, rows, p) as the left operand.
    def forward(self, W: torch.Tensor) -> torch.Tensor:
        return torch.bmm(W.transpose(1, 2), self.Z.transpose(1, 2)).transpose(1, 2)

    def backward(self, R: torch.Tensor) -> torch.Tensor:
        return torch.bmm(R.transpose(1, 2), self.Z).transpose(1, 2)


class PooledDesign:
    """One shared matrix ``X`` (rows, p) for every problem, rows selected by weights: one large
    matrix product for all problems at once, for large subsets of a common pool."""

    def __init__(self, X: torch.Tensor) -> None:
        self.X = X

    cheap_take = True

    def take(self, idx: torch.Tensor) -> PooledDesign:
        return self

    def to(self, dtype: torch.dtype) -> PooledDesign:
        return PooledDesign(self.X.to(dtype))

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        T, p, K = W.shape
        return (self.X @ W.permute(1, 0, 2).reshape(p, T * K)).reshape(-1, T, K).transpose(0, 1)

    def backward(self, R: torch.Tensor) -> torch.Tensor:
        T, N, K = R.shape
        return (self.X.T @ R.transpose(0, 1).reshape(N, T * K)).reshape(-1, T, K).transpose(0, 1)


@dataclass
class Problems:
    """T problems: ``Y`` (T or 1, rows) class indices, ``weight`` (T, rows) = 1/n on subset rows,
    ``class_mask`` (T, K) classes present, ``reg`` (T,) = 1/(C_eff n)."""

    design: GatheredDesign | PooledDesign
    Y: torch.Tensor
    weight: torch.Tensor
    class_mask: torch.Tensor
    reg: torch.Tensor

    @property
    def shape(self) -> tuple[int, int]:
        """(p, K): feature dimension and number of class columns."""
        return self.design_dim, self.class_mask.shape[1]

    @property
    def design_dim(self) -> int:
        d = self.design
        return d.Z.shape[2] if isinstance(d, GatheredDesign) else d.X.shape[1]

    def take(self, idx: torch.Tensor) -> Problems:
        Y = self.Y if self.Y.shape[0] == 1 else self.Y[idx]
        return Problems(self.design.take(idx), Y, self.weight[idx], self.class_mask[idx], self.reg[idx])

    def to(self, dtype: torch.dtype) -> Problems:
        return Problems(self.design.to(dtype), self.Y, self.weight.to(dtype), self.class_mask,
                        self.reg.to(dtype))

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat parameters (T, p*K + K) -> weights (T, p, K), intercepts (T, K)."""
        p, K = self.shape
        return x[:, : p * K].reshape(-1, p, K), x[:, p * K:]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        W, b = self.split(x)
        z = self.design.forward(W) + b[:, None, :]
        return z.masked_fill(~self.class_mask[:, None, :], float("-inf"))

    def evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Objective (T,) and gradient (T, P) at ``x``."""
        W, _ = self.split(x)
        z = self.logits(x)
        T = z.shape[0]
        lse = torch.logsumexp(z, 2)
        Y = self.Y.expand(T, -1)
        ce = lse - z.gather(2, Y[..., None]).squeeze(2)
        ce = torch.where(self.weight > 0, ce, torch.zeros((), dtype=ce.dtype, device=ce.device))
        f = (self.weight * ce).sum(1) + 0.5 * self.reg * W.pow(2).sum((1, 2))
        R = torch.exp(z - lse[..., None]) * self.weight[..., None]
        R.scatter_add_(2, Y[..., None], -self.weight[..., None])
        gW = self.design.backward(R) + self.reg[:, None, None] * W
        return f, torch.cat([gW.reshape(T, -1), R.sum(1)], 1)


@dataclass
class LbfgsResult:
    x: torch.Tensor
    f: torch.Tensor
    grad_max: torch.Tensor
    n_iter: torch.Tensor
    status: torch.Tensor


def _direction(g, S, Yh, rho, gamma, newest: int) -> torch.Tensor:
    """-H g by the two-loop recursion over the ring buffer (entries with rho = 0 are no-ops)."""
    m = S.shape[0]
    order = [(newest - j) % m for j in range(m)]
    q = -g
    alphas = []
    for j in order:
        a = rho[j] * (S[j] * q).sum(1)
        q = q - a[:, None] * Yh[j]
        alphas.append(a)
    r = gamma[:, None] * q
    for j, a in zip(reversed(order), reversed(alphas)):
        beta = rho[j] * (Yh[j] * r).sum(1)
        r = r + S[j] * (a - beta)[:, None]
    return r


def lbfgs(prob: Problems, x0: torch.Tensor, tol: float, max_iter: torch.Tensor, ftol: float,
          history: int = 10, maxls: int = 50) -> LbfgsResult:
    """Minimise every problem from ``x0`` (T, P); ``max_iter`` (T,) iterations at most per problem.

    Armijo backtracking with safeguarded quadratic interpolation; the first step of a problem
    without curvature history has length 1/||g|| (as L-BFGS-B)."""
    T, P = x0.shape
    x = x0.clone()
    f, g = prob.evaluate(x)
    n_iter = torch.zeros(T, dtype=torch.long, device=x.device)
    status = torch.zeros(T, dtype=torch.long, device=x.device)
    status[g.abs().amax(1) <= tol] = GTOL
    status[(status == RUNNING) & (max_iter <= 0)] = MAXITER
    S = x.new_zeros(history, T, P)
    Yh = x.new_zeros(history, T, P)
    rho = x.new_zeros(history, T)
    gamma = x.new_ones(T)
    has_hist = torch.zeros(T, dtype=torch.bool, device=x.device)
    ptr = 0
    # Problems are evaluated inside a superset `sub` of them: copying a gathered design's rows for
    # every change of the active set would cost more than computing a few finished problems.
    sub, sub_ids = prob, torch.arange(T, device=x.device)
    where = torch.arange(T, device=x.device)  # position in sub_ids, for members of sub

    def evaluate(ids: torch.Tensor, x_ids: torch.Tensor):
        nonlocal sub, sub_ids
        inside = bool((where[ids] >= 0).all()) and bool((sub_ids[where[ids].clamp_min(0)] == ids).all())
        if not inside or prob.design.cheap_take or len(ids) < 0.5 * len(sub_ids):
            sub, sub_ids = prob.take(ids), ids
            where.fill_(-1)
            where[ids] = torch.arange(len(ids), device=x.device)
            return sub.evaluate(x_ids)
        xs = x[sub_ids].clone()
        xs[where[ids]] = x_ids
        fs, gs = sub.evaluate(xs)
        return fs[where[ids]], gs[where[ids]]

    while True:
        act = (status == RUNNING).nonzero().squeeze(1)
        if len(act) == 0:
            break
        xa, fa, ga = x[act], f[act], g[act]
        d = _direction(ga, S[:, act], Yh[:, act], rho[:, act], gamma[act], (ptr - 1) % history)
        gd = (ga * d).sum(1)
        bad = ~(gd < 0)
        if bad.any():  # not a descent direction: restart from steepest descent
            d[bad] = -ga[bad]
            gd[bad] = -(ga[bad] ** 2).sum(1)
            rho[:, act[bad]] = 0
            has_hist[act[bad]] = False
        step = torch.where(has_hist[act], torch.ones_like(fa), 1.0 / ga.norm(dim=1).clamp_min(1e-300))
        accepted = torch.zeros(len(act), dtype=torch.bool, device=x.device)
        f_new, g_new = fa.clone(), ga.clone()
        for _ in range(maxls):
            todo = (~accepted).nonzero().squeeze(1)
            if len(todo) == 0:
                break
            ft, gt = evaluate(act[todo], xa[todo] + step[todo, None] * d[todo])
            ok = torch.isfinite(ft) & (ft <= fa[todo] + 1e-3 * step[todo] * gd[todo])  # scipy dcsrch ftol
            f_new[todo[ok]], g_new[todo[ok]] = ft[ok], gt[ok]
            accepted[todo[ok]] = True
            nok = todo[~ok]
            if len(nok):
                s0, dfs = step[nok], ft[~ok] - fa[nok] - gd[nok] * step[nok]
                quad = -gd[nok] * s0 ** 2 / (2 * dfs.clamp_min(1e-300))
                quad = torch.where(torch.isfinite(quad), quad, 0.1 * s0)
                step[nok] = torch.minimum(torch.maximum(quad, 0.1 * s0), 0.5 * s0)
        status[act[~accepted]] = LINESEARCH
        acc = accepted.nonzero().squeeze(1)
        ia = act[acc]
        s_vec = step[acc, None] * d[acc]
        y_vec = g_new[acc] - ga[acc]
        sy, yy = (s_vec * y_vec).sum(1), (y_vec * y_vec).sum(1)
        good = sy > 2.2e-16 * yy
        rho[ptr] = 0
        S[ptr, ia[good]], Yh[ptr, ia[good]] = s_vec[good], y_vec[good]
        rho[ptr, ia[good]] = 1.0 / sy[good]
        gamma[ia[good]] = sy[good] / yy[good]
        has_hist[ia[good]] = True
        ptr = (ptr + 1) % history
        x[ia] = xa[acc] + s_vec
        f_old = f[ia]
        f[ia], g[ia] = f_new[acc], g_new[acc]
        n_iter[ia] += 1
        rel = (f_old - f[ia]) / torch.maximum(torch.maximum(f_old.abs(), f[ia].abs()), torch.ones_like(f_old))
        st = torch.full_like(ia, RUNNING)
        st[n_iter[ia] >= max_iter[ia]] = MAXITER
        st[rel <= ftol] = FTOL
        st[g[ia].abs().amax(1) <= tol] = GTOL
        status[ia] = st
    return LbfgsResult(x, f, g.abs().amax(1), n_iter, status)


def solve(prob: Problems, x0: torch.Tensor, tol: float, max_iter: int, dtype: torch.dtype,
          history: int = 10) -> LbfgsResult:
    """L-BFGS in ``dtype``; with float32, problems that stall before ``tol`` (or whose float32
    gradient looked small enough) are checked and, if needed, finished in float64, so every stop
    by ``tol`` is certified by a float64 gradient."""
    budget = torch.full((x0.shape[0],), int(max_iter), dtype=torch.long, device=x0.device)
    prob64 = prob.to(torch.float64)
    if dtype == torch.float64:
        return lbfgs(prob64, x0.to(torch.float64), tol, budget, FTOL64, history)
    first = lbfgs(prob.to(torch.float32), x0.to(torch.float32), tol, budget, FTOL32, history)
    x = first.x.to(torch.float64)
    f, g = prob64.evaluate(x)
    gmax = g.abs().amax(1)
    status = first.status.clone()
    status[gmax <= tol] = GTOL
    rest = ((gmax > tol) & (first.n_iter < max_iter)).nonzero().squeeze(1)
    status[(gmax > tol) & (first.n_iter >= max_iter)] = MAXITER
    n_iter = first.n_iter.clone()
    if len(rest):
        more = lbfgs(prob64.take(rest), x[rest], tol, budget[rest] - n_iter[rest], FTOL64, history)
        x[rest], f[rest], gmax[rest] = more.x, more.f, more.grad_max
        n_iter[rest] += more.n_iter
        status[rest] = more.status
    return LbfgsResult(x, f, gmax, n_iter, status)
