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

import math
from dataclasses import dataclass

import torch

from cliffbench.methods.probes.linear.lbfgs_memory import LbfgsMemory

FTOL64 = 64 * 2.220446049250313e-16  # scikit-learn's ftol for L-BFGS-B
TRUST32 = 1e-6  # tolerances from here up may be judged on float32 gradients (see solve)
FTOL32 = 1e-9  # below this relative decrease float32 arithmetic stalls: continue in float64
RUNNING, GTOL, FTOL, MAXITER, LINESEARCH = 0, 1, 2, 3, 4
# rows of all problems evaluated together: small enough to stay in the CPU's cache from the first
# product to the second, so an evaluation reads the gathered rows from memory once, not twice
# (measured at d=768, K=10, 20 problems: 256-row blocks make the skinny first product ~25% faster)
ROW_BLOCK_BYTES = 16 * 2**20
CPU_KERNEL = True  # evaluate gathered designs on the CPU with the fused kernel (tests switch it off)


class FeaturePool:
    """The pool's features in float64 (exact) and float32 (fast iterations), shared by designs;
    each precision is made from the given one when first asked for."""

    def __init__(self, X: torch.Tensor) -> None:
        X = X.contiguous()  # the fused kernel reads rows in place (a strided pool would be copied per pass)
        self.X, self.by_dtype = X, {X.dtype: X}

    def __getitem__(self, dtype: torch.dtype) -> torch.Tensor:
        if dtype not in self.by_dtype:
            self.by_dtype[dtype] = self.X.to(dtype)
        return self.by_dtype[dtype]

    def rows(self, index: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``pool[index]`` in ``dtype`` (rows converted after gathering when the pool has no copy
        in ``dtype``: the same values, without converting the whole pool for a few problems)."""
        X = self.by_dtype.get(dtype, self.X)
        return torch.index_select(X, 0, index.reshape(-1)).view(*index.shape, -1).to(dtype)


class GatheredDesign:
    """Per-problem feature rows ``Z[t] = pool[index[t]]`` (T, rows, p): for small subsets. The rows
    are gathered when first needed (on the CPU the fused kernel reads them from the pool instead);
    taking problems then keeps them gathered once (a view by problem id): gathering costs more than
    a few products."""

    def __init__(self, pool: FeaturePool, index: torch.Tensor, dtype: torch.dtype,
                 Z: torch.Tensor | None = None, ids: torch.Tensor | None = None) -> None:
        self.pool, self.index, self.dtype = pool, index, dtype
        self._Z = Z
        self.ids = ids  # problems of Z this design stands for (None: all, in order)

    @property
    def Z(self) -> torch.Tensor:
        if self._Z is None:
            self._Z = self.pool.rows(self.index, self.dtype)
        return self._Z

    def fused_inputs(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(pool in this precision, row index of these problems) when :mod:`cpu_kernel` evaluates
        them: on the CPU, with numba, at least one problem per thread, unless :data:`CPU_KERNEL` is off."""
        index = self.index if self.ids is None else self.index[self.ids]
        # the kernel spreads problems over threads: fewer problems than threads leave BLAS ahead
        if not CPU_KERNEL or index.device.type != "cpu" or len(index) < torch.get_num_threads():
            return None
        from cliffbench.methods.probes.linear import cpu_kernel

        return (self.pool[self.dtype], index) if cpu_kernel.available() else None

    def take(self, idx: torch.Tensor) -> GatheredDesign:
        ids = idx if self.ids is None else self.ids[idx]
        if self._Z is None:  # nothing gathered to share
            return GatheredDesign(self.pool, self.index[ids], self.dtype)
        return GatheredDesign(self.pool, self.index, self.dtype, self._Z, ids)

    def to(self, dtype: torch.dtype) -> GatheredDesign:
        if dtype == self.dtype:
            return self
        index = self.index if self.ids is None else self.index[self.ids]
        return GatheredDesign(self.pool, index, dtype)

    def _rows(self) -> torch.Tensor | list[torch.Tensor]:
        return self.Z if self.ids is None else [self.Z[i] for i in self.ids.tolist()]

    def row_blocks(self, max_bytes: float) -> list[tuple[slice, GatheredDesign]] | None:
        """Views on consecutive row ranges of every problem, about ``max_bytes`` each; None when
        one block holds them all or problems are picked by id."""
        T, n, p = self.Z.shape
        step = max(1, int(max_bytes // (T * p * self.Z.element_size())))
        if self.ids is not None or step >= n:
            return None
        return [(slice(i, i + step), GatheredDesign(self.pool, self.index[:, i:i + step], self.dtype,
                                                    self.Z[:, i:i + step])) for i in range(0, n, step)]

    def second_moments(self, weight: torch.Tensor) -> torch.Tensor:
        """(T, p): the weighted mean of each feature's square over each problem's rows."""
        return torch.stack([w @ Z.square() for w, Z in zip(weight, self._rows())])

    # Written as products with few rows on the left: with K ~ 10 class columns, CPU BLAS is 2-4x
    # faster this way than with Z (rows, p) as the left operand.
    def forward(self, W: torch.Tensor) -> torch.Tensor:
        if self.ids is None:
            return torch.bmm(W.transpose(1, 2), self.Z.transpose(1, 2)).transpose(1, 2)
        return torch.stack([(w.T @ Z.T).T for w, Z in zip(W, self._rows())])

    def backward(self, R: torch.Tensor) -> torch.Tensor:
        if self.ids is None:
            return torch.bmm(R.transpose(1, 2), self.Z).transpose(1, 2)
        return torch.stack([(r.T @ Z).T for r, Z in zip(R, self._rows())])


class PooledDesign:
    """The same problems as :class:`GatheredDesign` (rows ``pool[index[t]]``), computed with one
    matrix product of the whole pool against every problem's weights at once, the problems' rows
    then picked out of it: a compute-bound product with T*K columns instead of T memory-bound ones
    with K, worth it once subsets are a large share of the pool."""

    def __init__(self, pool: FeaturePool, index: torch.Tensor, dtype: torch.dtype) -> None:
        self.pool, self.index, self.dtype, self.X = pool, index, dtype, pool[dtype]

    def take(self, idx: torch.Tensor) -> PooledDesign | GatheredDesign:
        # a few problems (the line search's stragglers) read fewer rows gathered than the whole pool
        # (gathering, then two passes, vs two passes over the pool)
        if 3 * len(idx) * self.index.shape[1] < 2 * len(self.X):
            return GatheredDesign(self.pool, self.index[idx], self.dtype)
        return PooledDesign(self.pool, self.index[idx], self.dtype)

    def to(self, dtype: torch.dtype) -> PooledDesign:
        return PooledDesign(self.pool, self.index, dtype)

    def row_blocks(self, max_bytes: float) -> None:
        return None  # one fat product of the whole pool

    def second_moments(self, weight: torch.Tensor) -> torch.Tensor:
        full = torch.zeros(len(self.index), len(self.X), dtype=weight.dtype, device=weight.device)
        return full.scatter_(1, self.index, weight) @ self.X.square()

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        T, p, K = W.shape
        Z = (self.X @ W.permute(1, 0, 2).reshape(p, T * K)).view(-1, T, K)
        return Z[self.index, torch.arange(T, device=W.device)[:, None]]

    def backward(self, R: torch.Tensor) -> torch.Tensor:
        T, n, K = R.shape
        full = R.new_zeros(len(self.X), T, K)
        full[self.index, torch.arange(T, device=R.device)[:, None]] = R
        return (self.X.T @ full.view(-1, T * K)).view(-1, T, K).transpose(0, 1)


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
        return self.design.pool.X.shape[1]  # (asking pool[float64] would copy it)

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
        """(T, rows, K) float64 logits; the product with the design runs in ``x``'s dtype."""
        W, b = self.split(x)
        z = self.design.forward(W).to(torch.float64) + b.to(torch.float64)[:, None, :]
        return z.masked_fill(~self.class_mask[:, None, :], float("-inf"))

    def evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Objective (T,) in float64 and gradient (T, P) in ``x``'s dtype at ``x``. Only the two
        products with the design run in float32 on float32 problems: the loss and its sum are
        float64, so objective values are exact to ~1e-7/sqrt(rows) and the line search can tell
        decreases far below float32 rounding apart. Large gathered designs are taken in row
        blocks (:data:`ROW_BLOCK_BYTES`), each block's two products back to back."""
        fused = getattr(self.design, "fused_inputs", None)
        inputs = fused() if fused is not None else None
        if inputs is not None:
            return self._evaluate_fused(x, *inputs)
        W, b = self.split(x)
        T = x.shape[0]
        f = 0.5 * self.reg.to(torch.float64) * W.to(torch.float64).pow(2).sum((1, 2))
        gW, gb = self.reg[:, None, None] * W, torch.zeros_like(b, dtype=torch.float64)
        for rows, design in self.design.row_blocks(ROW_BLOCK_BYTES) or [(slice(None), self.design)]:
            z = design.forward(W).to(torch.float64) + b.to(torch.float64)[:, None, :]
            z = z.masked_fill(~self.class_mask[:, None, :], float("-inf"))
            w64 = self.weight[:, rows].to(torch.float64)
            lse = torch.logsumexp(z, 2)
            Y = self.Y[:, rows].expand(T, -1)
            ce = lse - z.gather(2, Y[..., None]).squeeze(2)
            ce = torch.where(w64 > 0, ce, torch.zeros((), dtype=ce.dtype, device=ce.device))
            f = f + (w64 * ce).sum(1)
            R = torch.exp(z - lse[..., None]) * w64[..., None]
            R.scatter_add_(2, Y[..., None], -w64[..., None])
            gW = gW + design.backward(R.to(x.dtype))
            gb = gb + R.sum(1)
        return f, torch.cat([gW.reshape(T, -1), gb.to(x.dtype)], 1)

    def _evaluate_fused(self, x: torch.Tensor, X: torch.Tensor, index: torch.Tensor):
        """:meth:`evaluate` by :func:`cpu_kernel.evaluate`: one compiled pass per problem."""
        import numpy as np

        from cliffbench.methods.probes.linear import cpu_kernel

        W, b = self.split(x)
        T = x.shape[0]
        f, gW, gb = cpu_kernel.evaluate(
            X.numpy(), index.numpy(), W.numpy(), b.numpy(), self.Y.expand(T, -1).numpy(), self.weight.numpy(),
            self.class_mask.numpy(), self.reg.numpy(), torch.get_num_threads())
        g = torch.cat([torch.from_numpy(np.ascontiguousarray(gW)).reshape(T, -1), torch.from_numpy(gb).to(x.dtype)], 1)
        return torch.from_numpy(f), g

    def grad_max(self, g: torch.Tensor, idx: torch.Tensor | None = None,
                 tol: float | None = None) -> torch.Tensor:
        """max |gradient entry| of problems ``idx`` (all when None) from their gradient ``g``."""
        return g.abs().amax(1)


@dataclass
class LbfgsResult:
    x: torch.Tensor
    f: torch.Tensor
    grad_max: torch.Tensor
    n_iter: torch.Tensor
    status: torch.Tensor
    n_eval: torch.Tensor  # objective + gradient evaluations (passes over the data) per problem


def _wolfe_steps(searches, todo: torch.Tensor, ft: torch.Tensor, dt: torch.Tensor,
                 step: torch.Tensor) -> torch.Tensor:
    """Feed each searching problem its value and directional derivative at its trial step: which
    accept it; the others get their next trial step in ``step``."""
    ok = torch.zeros(len(todo), dtype=torch.bool, device=ft.device)
    for j, (i, f, g) in enumerate(zip(todo.tolist(), ft.tolist(), dt.tolist())):
        if not (math.isfinite(f) and math.isfinite(g)):  # overflow: a shorter step, as scipy does
            searches[i].stp = step[i] = float(step[i]) / 10
            continue
        done, nxt = searches[i].next(f, g)
        ok[j] = done
        step[i] = nxt
    return ok


def lbfgs(prob, x0: torch.Tensor, tol: float, max_iter: torch.Tensor, ftol: float,
          history: int = 10, maxls: int = 50, wolfe: bool = False,
          first_step: torch.Tensor | None = None) -> LbfgsResult:
    """Minimise every problem from ``x0`` (T, P); ``max_iter`` (T,) iterations at most per problem.

    Line search: Armijo backtracking with safeguarded quadratic interpolation, or with ``wolfe``
    L-BFGS-B's own Moré–Thuente search (strong Wolfe conditions, :mod:`line_search`). The first
    iteration's trial step has length ``first_step/||g||`` (default 1: L-BFGS-B's), later ones 1."""
    T, P = x0.shape
    x = x0.clone()
    f, g = prob.evaluate(x)
    n_iter = torch.zeros(T, dtype=torch.long, device=x.device)
    n_eval = torch.ones(T, dtype=torch.long, device=x.device)
    status = torch.zeros(T, dtype=torch.long, device=x.device)
    status[prob.grad_max(g, None, tol) <= tol] = GTOL
    status[(status == RUNNING) & (max_iter <= 0)] = MAXITER
    memory = LbfgsMemory(T, P, history, x.dtype, x.device)

    def evaluate(ids: torch.Tensor, x_ids: torch.Tensor):
        return prob.evaluate(x_ids) if len(ids) == T else prob.take(ids).evaluate(x_ids)

    while True:
        act = (status == RUNNING).nonzero().squeeze(1)
        if len(act) == 0:
            break
        xa, fa, ga = x[act], f[act], g[act]
        d = memory.direction(ga, None if len(act) == T else act)
        gd = (ga * d).sum(1)
        bad = ~(gd < 0)
        if bad.any():  # not a descent direction: restart from steepest descent
            d[bad] = -ga[bad]
            gd[bad] = -(ga[bad] ** 2).sum(1)
            memory.reset(act[bad])
        first = 1.0 if first_step is None else first_step[act].to(fa.dtype)
        step = torch.where(n_iter[act] > 0, torch.ones_like(fa), first / ga.norm(dim=1).clamp_min(1e-300))
        accepted = torch.zeros(len(act), dtype=torch.bool, device=x.device)
        f_new, g_new = fa.clone(), ga.clone()
        searches = None
        if wolfe:
            from cliffbench.methods.probes.linear.line_search import MoreThuente

            searches = [MoreThuente(a, b, c) for a, b, c in zip(fa.tolist(), gd.tolist(), step.tolist())]
        for _ in range(maxls):
            todo = (~accepted).nonzero().squeeze(1)
            if len(todo) == 0:
                break
            ft, gt = evaluate(act[todo], xa[todo] + (step[todo, None] * d[todo]).to(x.dtype))
            n_eval[act[todo]] += 1
            if searches is not None:
                ok = _wolfe_steps(searches, todo, ft, (gt * d[todo]).sum(1), step)
            else:
                ok = torch.isfinite(ft) & (ft <= fa[todo] + 1e-3 * step[todo] * gd[todo])  # scipy dcsrch ftol
            f_new[todo[ok]], g_new[todo[ok]] = ft[ok], gt[ok]
            accepted[todo[ok]] = True
            nok = todo[~ok]
            if len(nok) and searches is None:
                s0, dfs = step[nok], ft[~ok] - fa[nok] - gd[nok] * step[nok]
                quad = -gd[nok] * s0 ** 2 / (2 * dfs.clamp_min(1e-300))
                quad = torch.where(torch.isfinite(quad), quad, 0.1 * s0)
                step[nok] = torch.minimum(torch.maximum(quad, 0.1 * s0), 0.5 * s0)
        status[act[~accepted]] = LINESEARCH
        acc = accepted.nonzero().squeeze(1)
        ia = act[acc]
        s_vec = (step[acc, None] * d[acc]).to(x.dtype)
        y_vec = g_new[acc] - ga[acc]
        sy, yy = (s_vec * y_vec).sum(1), (y_vec * y_vec).sum(1)
        memory.push(ia, s_vec, y_vec, sy > 2.2e-16 * yy)
        x[ia] = xa[acc] + s_vec
        f_old = f[ia]
        f[ia], g[ia] = f_new[acc], g_new[acc]
        n_iter[ia] += 1
        rel = (f_old - f[ia]) / torch.maximum(torch.maximum(f_old.abs(), f[ia].abs()), torch.ones_like(f_old))
        st = torch.full_like(ia, RUNNING)
        st[n_iter[ia] >= max_iter[ia]] = MAXITER
        st[rel <= ftol] = FTOL
        st[prob.grad_max(g[ia], ia, tol) <= tol] = GTOL
        status[ia] = st
    return LbfgsResult(x, f, prob.grad_max(g), n_iter, status, n_eval)


def _chunks(prob, ids: torch.Tensor, max_bytes: float = 2**31) -> list[torch.Tensor]:
    """``ids`` in groups whose gathered float64 rows take about ``max_bytes`` at most."""
    per_problem = prob.weight.shape[1] * prob.design_dim * 8
    step = max(1, int(max_bytes // max(per_problem, 1)))
    return [ids[i:i + step] for i in range(0, len(ids), step)]


def certify(prob, x: torch.Tensor, max_bytes: float = 2**29) -> tuple[torch.Tensor, torch.Tensor]:
    """Objective and max |gradient entry| of every problem at ``x``, in float64, evaluated in chunks
    of problems so a gathered float64 design never holds more than about ``max_bytes``."""
    T = x.shape[0]
    fs, gs = [], []
    for ids in _chunks(prob, torch.arange(T, device=x.device), max_bytes):
        sub = prob.take(ids).to(torch.float64)
        f, g = sub.evaluate(x[ids])
        fs.append(f)
        gs.append(sub.grad_max(g))
    return torch.cat(fs), torch.cat(gs)


def solve(prob, x0: torch.Tensor, tol: float, max_iter: int, dtype: torch.dtype, history: int = 10,
          wolfe: bool = False, first_step: torch.Tensor | None = None) -> LbfgsResult:
    """L-BFGS in ``dtype``; with float32, problems that stall before ``tol`` (and every problem
    when ``tol < TRUST32``) are checked with a float64 gradient and, if needed, finished in float64.
    ``wolfe``: L-BFGS-B's line search instead of Armijo backtracking; ``first_step``: see lbfgs."""
    budget = torch.full((x0.shape[0],), int(max_iter), dtype=torch.long, device=x0.device)
    if dtype == torch.float64:
        return lbfgs(prob.to(torch.float64), x0.to(torch.float64), tol, budget, FTOL64, history, wolfe=wolfe,
                     first_step=first_step)
    first = lbfgs(prob.to(torch.float32), x0.to(torch.float32), tol, budget, FTOL32, history, wolfe=wolfe,
                  first_step=first_step)
    x = first.x.to(torch.float64)
    f, gmax = first.f.to(torch.float64), first.grad_max.to(torch.float64)
    # float32 and float64 gradients differ by ~2e-8 at most on CLIP-like and digits features, a
    # fraction of a tolerance >= 1e-6 (scikit-learn itself computes gradients of float32 data in
    # float32): there a float32 stop on tol stands; every other problem is evaluated in float64.
    check = ~((first.status == GTOL) & (tol >= TRUST32))
    if check.any():
        ids = check.nonzero().squeeze(1)
        f[ids], gmax[ids] = certify(prob.take(ids), x[ids])
    status = first.status.clone()
    status[gmax <= tol] = GTOL
    rest = ((gmax > tol) & (first.n_iter < max_iter)).nonzero().squeeze(1)
    status[(gmax > tol) & (first.n_iter >= max_iter)] = MAXITER
    n_iter, n_eval = first.n_iter.clone(), first.n_eval.clone()
    for ids in _chunks(prob, rest):
        more = lbfgs(prob.take(ids).to(torch.float64), x[ids], tol, budget[ids] - n_iter[ids],
                     FTOL64, history, wolfe=wolfe)
        x[ids], f[ids], gmax[ids] = more.x, more.f, more.grad_max
        n_iter[ids] += more.n_iter
        n_eval[ids] += more.n_eval
        status[ids] = more.status
    return LbfgsResult(x, f, gmax, n_iter, status, n_eval)
