"""Linear probe: multinomial logistic regression with scikit-learn's objective
``C * sum(logloss) + ||W||^2/2`` (intercept unpenalised, ``C`` default 100), or least squares /
ridge for regression targets.

``backend=torch`` (default) solves all trials of one n together (:mod:`logreg_solver`), identical
subsets once. By default (``solver=lbfgs``, ``tol=1e-4``, ``max_iter=100``, from zero) that is the
paper's protocol, scikit-learn's ``LogisticRegression(C=100)`` with its default stopping, along
scikit-learn's own L-BFGS-B path; ``solver=preconditioned`` with ``tol=1e-6`` and warm starts along n
(``method=linear_exact``) returns the minimiser in better-conditioned variables
(:mod:`logreg_reparam`). ``backend=sklearn`` fits scikit-learn's own estimator cell by cell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.methods.base import CellBatch, Method, Outcome, split_single_class, test_error

if TYPE_CHECKING:
    from cliffbench.contract import JobContext

BACKENDS = ("torch", "sklearn")
SOLVERS = ("preconditioned", "lbfgs")
DTYPES = ("float32", "float64", "auto")
FAT_COLUMNS = 64  # fewest weight columns (problems x classes) for the pooled product
STATUS_NAMES = {1: "gtol", 2: "ftol", 3: "max_iter", 4: "line_search"}


def unique_subsets(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Representative row of each distinct subset (as a set) and, per trial, its representative's
    position: ``index[reps][inverse]`` are the trials' subsets up to order."""
    keys = np.sort(index, axis=1)
    _, reps, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return reps, inverse.reshape(-1)


class LinearProbe(Method):
    speed_only = ("device", "max_memory_gb")

    def __init__(self, name: str = "linear", C: float = 100.0, max_iter: int = 100,
                 tol: float = 1e-4, ridge: float = 0.0, backend: str = "torch",
                 dtype: str = "auto", warm_start: bool = False, history: int = 10,
                 pooled_fraction: float = 0.9, max_memory_gb: float = 8.0, device: str | None = None,
                 solver: str = "lbfgs", curvature: float = 1.0) -> None:
        super().__init__(name)
        if not float(C) > 0:
            raise ConfigError(f"method.C must be > 0, got {C}")
        if int(max_iter) < 1 or not float(tol) > 0:
            raise ConfigError(f"method.max_iter must be >= 1 and method.tol > 0, got {max_iter}, {tol}")
        if float(ridge) < 0:
            raise ConfigError(f"method.ridge must be >= 0, got {ridge}")
        if backend not in BACKENDS:
            raise ConfigError(f"method.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if solver not in SOLVERS:
            raise ConfigError(f"method.solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
        if not float(curvature) > 0:
            raise ConfigError(f"method.curvature must be > 0, got {curvature}")
        if dtype not in DTYPES:
            raise ConfigError(f"method.dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.C, self.max_iter, self.tol, self.ridge = float(C), int(max_iter), float(tol), float(ridge)
        self.backend, self.dtype, self.warm_start = backend, dtype, bool(warm_start)
        self.history, self.pooled_fraction, self.device = int(history), float(pooled_fraction), device
        self.solver, self.curvature = solver, float(curvature)
        if float(max_memory_gb) <= 0:
            raise ConfigError(f"method.max_memory_gb must be > 0, got {max_memory_gb}")
        self.max_memory_gb = float(max_memory_gb)
        self._pool_cache: tuple | None = None
        # test-set predictions per (n, trial) of classification fits, for comparisons (benchmarks)
        self.keep_predictions, self.predictions = False, {}
        self._warm: dict[int, tuple[int, Any]] = {}  # trial -> (id of features, flat solution)

    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        data = ctx.features
        if self.backend == "sklearn":
            yield from self._run_sklearn(batch, data)
            return
        from cliffbench.trainer import resolve_device

        device = resolve_device(self.device, ctx.trainer)
        if data.task == "classification":
            yield self._run_logistic(batch, data, device)
        else:
            from cliffbench.methods.probes.linear.linear_regression import fit_least_squares

            yield fit_least_squares(batch, data, self.ridge, device)

    # --- scikit-learn, one cell at a time -------------------------------------------------------
    def _run_sklearn(self, batch: CellBatch, data) -> Iterator[list[Outcome]]:
        from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

        _, single = split_single_class(batch, data)
        for trial, idx in zip(batch.trials, batch.index):
            if int(trial) in single:
                yield [single[int(trial)]]
                continue
            X, y = data.pool.X[idx], data.pool.y[idx]
            extra: dict[str, Any] = {}
            if data.task == "classification":
                model = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol)
                model.fit(X, y)
                extra = {"n_iter": int(np.max(model.n_iter_)), "n_classes": len(model.classes_),
                         "objective": sklearn_objective(model, X, y, self.C)}
            else:
                model = Ridge(alpha=self.ridge, solver="svd") if self.ridge > 0 else LinearRegression()
                model.fit(X, y)
            pred = model.predict(data.test.X)
            if self.keep_predictions:
                self.predictions[(batch.n, int(trial))] = pred
            yield [Outcome(int(trial), test_error(data.task, data.test.y, pred), extra)]

    # --- batched torch solver -------------------------------------------------------------------
    def _pool(self, data, device):
        """The pool (and test) features the solver works on, computed once per job: the original
        features, or for ``solver=preconditioned`` the same features centred and rotated onto the
        pool's principal axes (an exact change of variables, see :mod:`logreg_reparam`)."""
        import torch

        from cliffbench.methods.probes.linear.logreg_reparam import principal_axes
        from cliffbench.methods.probes.linear.logreg_solver import FeaturePool

        key = (id(data), str(device), self.solver)
        if self._pool_cache is None or self._pool_cache[0] != key:
            X = torch.as_tensor(np.asarray(data.pool.X), device=device)
            T = torch.as_tensor(np.asarray(data.test.X), device=device)
            if not X.is_floating_point():
                X, T = X.to(torch.float64), T.to(torch.float64)
            rotation = mean = None
            if self.solver == "preconditioned":
                X, T = X.to(torch.float64), T.to(torch.float64)
                mean, rotation = principal_axes(X)
                X, T = (X - mean) @ rotation, (T - mean) @ rotation
            self._pool_cache = (key, FeaturePool(X), T, rotation, mean)
        return self._pool_cache[1:]

    def _run_logistic(self, batch: CellBatch, data, device) -> list[Outcome]:
        import torch

        from cliffbench.methods.probes.linear.logreg_reparam import span_design
        from cliffbench.methods.probes.linear.logreg_solver import GatheredDesign, PooledDesign, Problems, solve

        classes = np.unique(data.pool.y)
        y_pool = np.searchsorted(classes, data.pool.y)
        fit, outcomes = split_single_class(batch, data)
        if fit is not None:
            reps, inverse = unique_subsets(fit.index)
            index = fit.index[reps]
            U, n = index.shape
            N, d = np.shape(data.pool.X)
            K = len(classes)
            # auto: the features' own precision, the arithmetic scikit-learn would use on them
            dtype = self.dtype if self.dtype != "auto" else str(np.asarray(data.pool.X).dtype)
            f32 = torch.float32 if dtype == "float32" else torch.float64
            pool, test_X, rotation, mean = self._pool(data, device)
            mask = np.zeros((U, K), dtype=bool)
            for u in range(U):
                mask[u, np.unique(y_pool[index[u]])] = True
            n_cls = mask.sum(1)
            # scikit-learn fits one weight vector w for 2 classes: a 2-column multinomial with C/2
            # along (-w/2, w/2) has the same objective, gradient entries (+-) and minimiser, and
            # L-BFGS takes the same steps there once its first step is 1/sqrt(2) of L-BFGS-B's.
            first_step = torch.as_tensor(np.where(n_cls == 2, 0.5 ** 0.5, 1.0), device=device)
            c_eff = np.where(n_cls == 2, self.C / 2, self.C)
            reg = torch.as_tensor(1.0 / (c_eff * n), dtype=f32, device=device)
            # kernel form below d/4 rows: above that the Gram matrices' eigendecompositions (n^3 each)
            # and the basis products cost more than the smaller products and fewer iterations save
            # (one thread, 20 trials, fused CPU passes: d=768 n=334 0.95 s vs 1.19 s in kernel form;
            # Lite0 d=1280 n=423 4.0 s vs 5.5 s). From zero it is also scikit-learn's own path: every
            # iterate and gradient lies in the rows' span and the basis is orthonormal, so L-BFGS's
            # inner products, steps and values are unchanged (paper protocol: few iterations, small n only).
            kernel = 4 * n < d if self.solver == "preconditioned" else 8 * n < d
            basis = None  # the kernel form's per-trial bases of the subsets' row spans
            gathered_gb = U * n * d * (4 if f32 == torch.float32 else 8) / 2**30
            idx_t = torch.as_tensor(index, device=device)
            # the pool's product is a real GEMM only with many weight columns: with one problem
            # (n = pool, identical subsets) it was 4x slower per pass than the gathered rows
            fat = n >= self.pooled_fraction * N and U * K >= FAT_COLUMNS
            if (fat or gathered_gb > self.max_memory_gb) and not kernel:
                design = PooledDesign(pool, idx_t, f32)
            elif kernel:
                design, basis = span_design(pool, idx_t)
                design = design.to(f32)
            else:
                design = GatheredDesign(pool, idx_t, f32)
            Y = torch.as_tensor(y_pool, device=device)[idx_t]
            weight = torch.full((U, n), 1.0 / n, dtype=f32, device=device)
            prob = Problems(design, Y, weight, torch.as_tensor(mask, device=device), reg)
            x0 = self._initial(fit.trials[reps], data, U, d, K, mask, device)
            reparametrised = self.solver == "preconditioned" or kernel
            if reparametrised:
                prob = self._reparametrise(prob, basis, rotation, mean, x0)
                x0 = prob.from_pool(x0)
            # solver=lbfgs takes scikit-learn's path: its variables and L-BFGS-B's line search
            res = solve(prob, x0, self.tol, self.max_iter, f32, self.history, wolfe=self.solver == "lbfgs",
                        first_step=first_step if self.solver == "lbfgs" else None)
            x = prob.to_pool(res.x) if reparametrised else res.x
            W, b = x[:, :-K].reshape(U, d, K), x[:, -K:]
            # one product with every trial's weights at once (compute-bound), not T with K columns; in
            # the test features' precision, as scikit-learn predicts (its coef_ has the data's dtype)
            W, b = W.to(test_X.dtype), b.to(test_X.dtype)
            logits = (test_X @ W.permute(1, 0, 2).reshape(d, U * K)).view(-1, U, K).transpose(0, 1) + b[:, None, :]
            logits = logits.masked_fill(~torch.as_tensor(mask, device=device)[:, None, :], float("-inf"))
            pred = classes[logits.argmax(2).cpu().numpy()]
            objective = (res.f.cpu().numpy() * self.C * n)
            for u, trial in zip(inverse, fit.trials.tolist()):
                if self.warm_start:
                    self._warm[trial] = (id(data), x[u].detach().cpu())
                if self.keep_predictions:
                    self.predictions[(batch.n, trial)] = pred[u]
                outcomes[trial] = Outcome(trial, test_error(data.task, data.test.y, pred[u]), {
                    "objective": float(objective[u]), "n_iter": int(res.n_iter[u]), "n_eval": int(res.n_eval[u]),
                    "converged": bool(int(res.status[u]) in (1, 2)), "grad_max": float(res.grad_max[u]),
                    "stop": STATUS_NAMES.get(int(res.status[u]), "running"), "n_classes": int(n_cls[u])})
        return [outcomes[int(t)] for t in batch.trials]

    def _reparametrise(self, prob, basis, rotation, mean, x0):
        """The problems in the rotated (and, with ``basis``, kernel-form) variables, diagonally
        preconditioned at the starting point ``x0`` (flat weights on the rotated pool); for
        ``solver=lbfgs`` only the kernel form (orthonormal: scikit-learn's path unchanged)."""
        import torch

        from cliffbench.methods.probes.linear.logreg_reparam import Reparametrised, diagonal_scale

        T, (r, _) = len(x0), prob.shape
        plain = Reparametrised(prob, torch.ones(T, r + 1, 1, dtype=torch.float64, device=x0.device),
                               rotation, mean, basis)
        if self.solver == "preconditioned":
            plain.scale = diagonal_scale(prob, plain.from_pool(x0), self.curvature)
        return plain

    def _initial(self, trials: np.ndarray, data, U: int, d: int, K: int, mask: np.ndarray, device):
        """Zeros, or each trial's solution at its previous n (absent classes zeroed)."""
        import torch

        x0 = torch.zeros(U, d * K + K, dtype=torch.float64)
        if self.warm_start:
            for u, trial in enumerate(trials):
                prev = self._warm.get(int(trial))
                if prev is not None and prev[0] == id(data) and prev[1].shape[0] == x0.shape[1]:
                    x0[u] = prev[1].to(torch.float64)
        W, b = x0[:, : d * K].view(U, d, K), x0[:, d * K:]
        keep = torch.as_tensor(mask)
        W.mul_(keep[:, None, :])
        b.mul_(keep)
        b.sub_((b.sum(1, keepdim=True) / keep.sum(1, keepdim=True)) * keep)
        return x0.to(device)


def sklearn_objective(model, X: np.ndarray, y: np.ndarray, C: float) -> float:
    """scikit-learn's objective ``C * sum(logloss) + ||coef||^2/2`` at a fitted model."""
    from scipy.special import logsumexp

    X = np.asarray(X, dtype=np.float64)
    z = X @ model.coef_.T.astype(np.float64) + model.intercept_.astype(np.float64)
    if z.shape[1] == 1:  # binary: one weight vector, logit for classes_[1]
        z = np.hstack([np.zeros_like(z), z])
    pos = np.searchsorted(model.classes_, y)
    loss = logsumexp(z, axis=1) - z[np.arange(len(y)), pos]
    return float(C * loss.sum() + 0.5 * np.sum(model.coef_.astype(np.float64) ** 2))
