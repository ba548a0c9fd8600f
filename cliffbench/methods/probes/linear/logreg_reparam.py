"""Better-conditioned variables for the batched logistic regression: the same problems, the same
objective values and minimisers, fewer L-BFGS iterations.

Two exact changes of variables, then a diagonal preconditioner:

* the pool's features are centred and rotated onto the pool's principal axes once per job,
  ``F = (X - mean) @ rotation``: ``W = rotation @ W~``, ``b = b~ - mean @ W`` and ``||W|| = ||W~||``;
* for a subset of fewer rows than features the weights that matter lie in the span of its
  rows (the gradient of ``f`` always does, and ``f`` penalises the rest), so each problem is solved
  in that span (the dual / kernel form): with ``Z Z^T = Q diag(lam) Q^T`` its features are
  ``Phi = Q diag(sqrt(lam))`` (n columns, mutually orthogonal) and ``W~ = basis @ w`` with the
  orthonormal ``basis = Z^T Q diag(1/sqrt(lam))``;
* the solver's variables are ``u = w / scale`` with ``scale = 1/sqrt(curvature/K * mean(Phi_j^2) +
  reg)`` per problem and feature: the diagonal of the objective's Hessian at ``W = 0``.

:class:`Reparametrised` reports gradients in the original ``(W, b)``, so stopping rules mean what
they mean without any of this.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cliffbench.methods.probes.linear.logreg_solver import FeaturePool, GatheredDesign, Problems


@dataclass
class Reparametrised:
    """``prob`` in variables ``u``: its weights are ``scale * u`` (per problem and feature); its
    features are ``basis[t]``-coordinates of the pool's (rotated) features when ``basis`` is set."""

    prob: Problems
    scale: torch.Tensor  # (T, r + 1, 1): weights' rows, then the intercept
    rotation: torch.Tensor | None = None  # (p, p) orthogonal: original weights = rotation @ pool weights
    mean: torch.Tensor | None = None  # (p,) the pool mean the features were centred by
    basis: torch.Tensor | None = None  # (T0, p, r) orthonormal columns: pool weights = basis @ weights
    ids: torch.Tensor | None = None  # the problems of `basis` these are (None: all); taking copies no basis

    def _basis(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.ids if idx is None else (idx if self.ids is None else self.ids[idx])
        return self.basis if ids is None else self.basis[ids]

    @property
    def design(self):
        return self.prob.design

    @property
    def weight(self) -> torch.Tensor:
        return self.prob.weight

    @property
    def design_dim(self) -> int:
        return self.prob.design_dim

    @property
    def shape(self) -> tuple[int, int]:
        return self.prob.shape

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.prob.split(x)

    def take(self, idx: torch.Tensor) -> Reparametrised:
        ids = None if self.basis is None else (idx if self.ids is None else self.ids[idx])
        return Reparametrised(self.prob.take(idx), self.scale[idx], self.rotation, self.mean, self.basis, ids)

    def to(self, dtype: torch.dtype) -> Reparametrised:
        def cast(t):
            return None if t is None else t.to(dtype)

        return Reparametrised(self.prob.to(dtype), self.scale.to(dtype), cast(self.rotation),
                              cast(self.mean), cast(self.basis), self.ids)

    def _scaled(self, x: torch.Tensor) -> torch.Tensor:
        W, b = self.split(x)
        return torch.cat([(W * self.scale[:, :-1]).reshape(len(x), -1), b * self.scale[:, -1:, 0]], 1)

    def evaluate(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f, g = self.prob.evaluate(self._scaled(u))
        return f, self._scaled(g)

    def to_pool(self, u: torch.Tensor) -> torch.Tensor:
        """Solver variables -> flat ``(W~, b~)`` on the pool's (rotated) features."""
        W, b = self.split(u)
        W = W * self.scale[:, :-1]
        if self.basis is not None:
            W = torch.bmm(self._basis(), W)
        return torch.cat([W.reshape(len(u), -1), b * self.scale[:, -1:, 0]], 1)

    def from_pool(self, x: torch.Tensor) -> torch.Tensor:
        """Flat ``(W~, b~)`` on the pool's features -> solver variables (projected onto the span)."""
        K = self.shape[1]
        W, b = x[:, :-K].reshape(len(x), -1, K), x[:, -K:]
        if self.basis is not None:
            W = torch.bmm(self._basis().transpose(1, 2), W)
        return torch.cat([(W / self.scale[:, :-1]).reshape(len(x), -1), b / self.scale[:, -1:, 0]], 1)

    def grad_max(self, g: torch.Tensor, idx: torch.Tensor | None = None,
                 tol: float | None = None) -> torch.Tensor:
        """max |gradient entry| in the original ``(W, b)`` (outside the span of ``basis`` the
        gradient is the penalty's, zero there). With ``tol``, a problem whose 2-norm bounds already
        settle ``max <= tol`` gets the bound instead (the maps are orthonormal, so they keep
        2-norms): mapping every gradient back costs more than the solver's own step."""
        scale = self.scale if idx is None else self.scale[idx]
        gW, gb = self.split(g)
        gW, gb = gW / scale[:, :-1], gb / scale[:, -1:, 0]
        out = torch.empty(len(g), dtype=g.dtype, device=g.device)
        todo = torch.arange(len(g), device=g.device)
        if tol is not None:
            norm, gb_max = gW.norm(dim=(1, 2)), gb.abs().amax(1)
            shift = 0 if self.mean is None else self.mean.norm() * gb.norm(dim=1)
            upper = torch.maximum(norm + shift, gb_max)
            entries = (gW.shape[1] if self.basis is None else self.basis.shape[1]) * gW.shape[2]
            lower = torch.maximum((norm - shift) / entries ** 0.5, gb_max)
            out = torch.where(upper <= tol, upper, lower)
            todo = ((upper > tol) & (lower <= tol)).nonzero().squeeze(1)
            if len(todo) == 0:
                return out
            gW, gb = gW[todo], gb[todo]
        if self.basis is not None:
            sel = todo if idx is None else (idx if tol is None else idx[todo])
            gW = torch.bmm(self._basis(sel), gW)
        if self.rotation is not None:  # one matrix product for all problems
            T, p, K = gW.shape
            gW = (self.rotation @ gW.transpose(0, 1).reshape(p, T * K)).reshape(p, T, K).transpose(0, 1)
        if self.mean is not None:
            gW = gW + self.mean[None, :, None] * gb[:, None, :]
        out[todo] = torch.maximum(gW.abs().amax((1, 2)), gb.abs().amax(1))
        return out


def principal_axes(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, rotation) of the rows of float64 ``X``: rotation's columns are the eigenvectors of the
    covariance (estimated in float32: only the preconditioner's quality depends on it)."""
    mean = X.mean(0)
    Xc = (X - mean).to(torch.float32)
    _, rotation = torch.linalg.eigh((Xc.T @ Xc).to(torch.float64) / len(X))
    return mean, rotation


def span_design(pool: FeaturePool, index: torch.Tensor) -> tuple[GatheredDesign, torch.Tensor]:
    """The kernel form of problems whose rows ``index`` (T, n) are fewer than the features: a
    design of ``Phi`` (T, n, n) and the orthonormal ``basis`` (T, p, n) (columns of rank-deficient
    directions are zero in both)."""
    Z = torch.index_select(pool.X, 0, index.reshape(-1)).view(*index.shape, -1).to(torch.float64)
    lam, Q = torch.linalg.eigh(torch.bmm(Z, Z.transpose(1, 2)))
    keep = lam > 1e-12 * lam.amax(1, keepdim=True).clamp_min(1e-300)
    root = torch.where(keep, lam.clamp_min(0).sqrt(), torch.zeros_like(lam))
    phi = Q * root[:, None, :]
    basis = torch.bmm(Z.transpose(1, 2), Q) * torch.where(keep, 1 / root.clamp_min(1e-300), 0)[:, None, :]
    T, n = index.shape
    rows = torch.arange(T * n, device=index.device).view(T, n)
    return GatheredDesign(FeaturePool(phi.reshape(T * n, n)), rows, torch.float64), basis


def diagonal_scale(prob: Problems, x: torch.Tensor, curvature: float) -> torch.Tensor:
    """(T, r, 1) ``1/sqrt(a * mean(F_j^2) + reg)``: the diagonal of the objective's Hessian with the
    softmax curvature of every row replaced by its mean over the rows at ``x`` (flat weights in
    ``prob``'s features) times ``curvature``. Per-row curvatures (Jacobi) would let a few uncertain
    rows set the scale; the mean says how far the data term dominates the penalty."""
    z = prob.logits(x.to(prob.design.dtype))
    p = torch.softmax(z, 2)
    w = prob.weight.to(torch.float64)
    a = curvature * (w * (p * (1 - p)).sum(2)).sum(1) / prob.class_mask.sum(1)
    m = prob.design.second_moments(prob.weight).to(torch.float64)
    h = torch.cat([a[:, None] * m + prob.reg.to(torch.float64)[:, None], a[:, None]], 1)
    return h.rsqrt()[:, :, None]
