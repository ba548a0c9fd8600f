"""The batched logistic solver's reparametrisation (pool rotation, kernel form, diagonal
preconditioner) is an exact change of variables: same objective, same gradient, same minimiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cliffbench.methods.probes.linear.linear import LinearProbe
from cliffbench.methods.probes.linear.logreg_reparam import Reparametrised, diagonal_scale, principal_axes, span_design
from cliffbench.methods.probes.linear.logreg_solver import FeaturePool, GatheredDesign, PooledDesign, Problems
from tests.probe_data import context, digits_bundle, nested_batches, outcomes

f64 = torch.float64


def _problems(X, y, index, pooled: bool):
    """Plain problems on features X (float64) for subsets ``index`` (T, n), C = 100."""
    T, n = index.shape
    K = int(y.max()) + 1
    pool = FeaturePool(X)
    idx = torch.as_tensor(index)
    design = PooledDesign(pool, idx, f64) if pooled else GatheredDesign(pool, idx, f64)
    Y, weight = torch.as_tensor(y)[idx], torch.full((T, n), 1.0 / n, dtype=f64)
    mask = torch.zeros(T, K, dtype=torch.bool)
    for t in range(T):
        mask[t, np.unique(y[index[t]])] = True
    return Problems(design, Y, weight, mask, torch.full((T,), 1.0 / (100 * n), dtype=f64)), pool


@pytest.mark.parametrize("n,pooled", [(20, False), (300, False), (300, True)], ids=["kernel", "gathered", "pooled"])
def test_reparametrisation_keeps_objective_and_original_gradient(n, pooled):
    data = digits_bundle()
    X = torch.as_tensor(data.pool.X, dtype=f64)
    y = data.pool.y
    rng = np.random.default_rng(0)
    index = np.stack([rng.permutation(len(y))[:n] for _ in range(3)])
    plain, _ = _problems(X, y, index, pooled)
    mean, rotation = principal_axes(X)
    rotated, pool = _problems((X - mean) @ rotation, y, index, pooled)
    basis = None
    if n < X.shape[1]:
        design, basis = span_design(pool, torch.as_tensor(index))
        rotated = Problems(design, rotated.Y, rotated.weight, rotated.class_mask, rotated.reg)
    d, K = X.shape[1], plain.class_mask.shape[1]
    start = torch.randn(3, rotated.shape[0] * K + K, dtype=f64) * 0.01
    re = Reparametrised(rotated, diagonal_scale(rotated, start, 1.0), rotation, mean, basis)
    # a point in the span of each subset's (rotated, centred) rows, where the kernel form lives
    F = (X - mean) @ rotation
    W_pool = torch.einsum("tnd,tnk->tdk", F[torch.as_tensor(index)], torch.randn(3, n, K, dtype=f64)) * 0.05
    b_pool = torch.randn(3, K, dtype=f64)
    W = torch.einsum("dp,tpk->tdk", rotation, W_pool)  # original weights
    b = b_pool - torch.einsum("d,tdk->tk", mean, W)
    x_plain = torch.cat([W.reshape(3, -1), b], 1)
    u = re.from_pool(torch.cat([W_pool.reshape(3, -1), b_pool], 1))
    f_plain, g_plain = plain.evaluate(x_plain)
    f_re, g_re = re.evaluate(u)
    torch.testing.assert_close(f_re, f_plain, rtol=1e-10, atol=0)
    torch.testing.assert_close(re.grad_max(g_re), plain.grad_max(g_plain), rtol=1e-8, atol=1e-12)
    # the 2-norm shortcut gives the same verdicts as the exact maximum at any tolerance
    exact = plain.grad_max(g_plain)
    low, mid, high = exact.sort().values
    for tol in [low * 0.5, (low + mid) / 2, (mid + high) / 2, high * 2, high * 100]:
        assert torch.equal(re.grad_max(g_re, None, float(tol)) <= tol, exact <= tol)
    torch.testing.assert_close(re.to_pool(u), torch.cat([W_pool.reshape(3, -1), b_pool], 1))


@pytest.mark.parametrize("n", [25, 400], ids=["n<d", "n>d"])
def test_preconditioned_and_plain_lbfgs_reach_the_same_minimiser(n):
    data = digits_bundle()
    ctx = context(data)
    batch = nested_batches(len(data.pool), [n], trials=3, seed=2)[0]
    pre = outcomes(LinearProbe(tol=1e-8, max_iter=5000, solver="preconditioned"), batch, ctx)
    plain = outcomes(LinearProbe(tol=1e-8, max_iter=5000, solver="lbfgs"), batch, ctx)
    for a, b in zip(pre, plain):
        assert a.metrics["converged"] and b.metrics["converged"]
        assert a.metrics["objective"] == pytest.approx(b.metrics["objective"], rel=1e-8)
        assert a.test_error == pytest.approx(b.test_error, abs=2 / len(data.test))
    # the point of the preconditioner: fewer passes over the data
    assert sum(a.metrics["n_eval"] for a in pre) < sum(b.metrics["n_eval"] for b in plain)


def test_unknown_solver_is_a_config_error():
    from cliffbench.errors import ConfigError

    with pytest.raises(ConfigError, match="method.solver"):
        LinearProbe(solver="newton")


@pytest.mark.parametrize("switch", [dict(pooled_fraction=0.1), dict(max_memory_gb=1e-6)], ids=["fraction", "memory"])
def test_one_product_over_the_pool_gives_the_gathered_answer(switch):
    data = digits_bundle()
    ctx = context(data)
    batch = nested_batches(len(data.pool), [300], trials=7, seed=4)[0]  # 7 x 10 classes: FAT_COLUMNS
    exact = dict(tol=1e-8, max_iter=5000, solver="preconditioned", pooled_fraction=1.0)
    gathered = outcomes(LinearProbe(**exact), batch, ctx)
    pooled = outcomes(LinearProbe(**{**exact, **switch}), batch, ctx)
    for a, b in zip(gathered, pooled):
        assert a.metrics["objective"] == pytest.approx(b.metrics["objective"], rel=1e-8)


def test_row_blocks_give_the_one_block_objective_and_gradient(monkeypatch):
    """Large gathered designs are evaluated in row blocks; the sums over blocks are the same
    objective and gradient (float64 here: to rounding) and the pooled product agrees too."""
    import cliffbench.methods.probes.linear.logreg_solver as solver

    data = digits_bundle()
    X = torch.as_tensor(data.pool.X, dtype=f64)
    rng = np.random.default_rng(3)
    index = np.stack([rng.permutation(len(data.pool.y))[:301] for _ in range(4)])
    monkeypatch.setattr(solver, "CPU_KERNEL", False)  # the torch path is the one taken in row blocks
    prob, _ = _problems(X, data.pool.y, index, pooled=False)
    x = torch.randn(4, prob.shape[0] * prob.shape[1] + prob.shape[1], dtype=f64) * 0.1
    f_one, g_one = prob.evaluate(x)
    monkeypatch.setattr(solver, "ROW_BLOCK_BYTES", 4 * 64 * 8 * 37)  # 37-row blocks, a short last one
    assert len(prob.design.row_blocks(solver.ROW_BLOCK_BYTES)) == 9
    f_blocks, g_blocks = prob.evaluate(x)
    torch.testing.assert_close(f_blocks, f_one, rtol=1e-12, atol=0)
    torch.testing.assert_close(g_blocks, g_one, rtol=1e-10, atol=1e-14)
    f_pool, g_pool = _problems(X, data.pool.y, index, pooled=True)[0].evaluate(x)
    torch.testing.assert_close(f_blocks, f_pool, rtol=1e-12, atol=0)
    torch.testing.assert_close(g_blocks, g_pool, rtol=1e-10, atol=1e-14)
