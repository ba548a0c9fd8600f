"""The CPU linear probe's fused evaluation kernel computes what the torch path computes: the same
objective and gradient (to the products' rounding), on awkward shapes, and the same fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cliffbench.methods.probes.linear.logreg_solver as solver
from cliffbench.methods.probes.linear.linear import LinearProbe
from cliffbench.methods.probes.linear.logreg_solver import FeaturePool, GatheredDesign, Problems
from tests.probe_data import context, digits_bundle, embedding_like, nested_batches, outcomes


def _problems(dtype, T=5, n=103, d=37, K=7, seed=0, shared_labels=False):
    """Random problems with awkward sizes: rows not a multiple of 4, an odd number of classes, a
    class absent from some subsets, rows of weight 0."""
    rng = np.random.default_rng(seed)
    N = 400
    X = torch.as_tensor(rng.normal(size=(N, d)), dtype=dtype)
    y = rng.integers(0, K, N)
    y[y == K - 1] = rng.integers(0, K - 1, (y == K - 1).sum()) if seed % 2 else y[y == K - 1]
    index = torch.as_tensor(np.stack([rng.choice(N, n, replace=False) for _ in range(T)]))
    Y = torch.as_tensor(y)[index]
    mask = torch.zeros(T, K, dtype=torch.bool)
    for t in range(T):
        mask[t, Y[t].unique()] = True
    weight = torch.full((T, n), 1.0 / n, dtype=dtype)
    weight[0, :7] = 0
    if shared_labels:  # one label row for every problem (expanded), as for identical subsets
        index = index[:1].expand(T, -1).contiguous()
        Y, mask = Y[:1], mask[:1].expand(T, -1).contiguous()
    reg = torch.as_tensor(rng.uniform(1e-4, 1e-2, T), dtype=dtype)
    prob = Problems(GatheredDesign(FeaturePool(X), index, dtype), Y, weight, mask, reg)
    x = torch.as_tensor(rng.normal(size=(T, d * K + K)) * 0.3, dtype=dtype)
    W, b = prob.split(x)
    W.mul_(mask[:, None, :])  # absent classes keep zero weights, as the solver keeps them
    b.mul_(mask)
    return prob, x


def _both(monkeypatch, prob, x):
    monkeypatch.setattr(solver, "CPU_KERNEL", False)
    ref = prob.evaluate(x)
    monkeypatch.setattr(solver, "CPU_KERNEL", True)
    assert prob.design.fused_inputs() is not None
    return ref, prob.evaluate(x)


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-11), (torch.float32, 2e-5)])
@pytest.mark.parametrize("seed,shared", [(0, False), (1, False), (2, True)])
def test_kernel_matches_the_torch_evaluation(monkeypatch, dtype, rtol, seed, shared):
    prob, x = _problems(dtype, seed=seed, shared_labels=shared)
    (f_ref, g_ref), (f, g) = _both(monkeypatch, prob, x)
    assert f.dtype == torch.float64 and g.dtype == dtype and g.shape == g_ref.shape
    torch.testing.assert_close(f, f_ref, rtol=rtol, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=rtol, atol=rtol * float(g_ref.abs().max()))


def test_kernel_on_taken_problems_and_overflowing_steps(monkeypatch):
    prob, x = _problems(torch.float64)
    ids = torch.tensor([3, 1])
    (f_ref, g_ref), (f, g) = _both(monkeypatch, prob.take(ids), x[ids])
    torch.testing.assert_close(f, f_ref, rtol=1e-11, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=1e-11, atol=1e-14)
    huge = x * 1e300  # a line search's overlong trial step: not finite, as in torch (never a number)
    (f_ref, _), (f, _) = _both(monkeypatch, prob, huge)
    assert not torch.isfinite(f).any() and not torch.isfinite(f_ref).any()


def test_kernel_leaves_torchs_thread_count_alone(monkeypatch):
    """numba must not share (and resize) the OpenMP pool torch's products run on."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        prob, x = _problems(torch.float32)
        _both(monkeypatch, prob, x)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("method", [dict(), dict(solver="preconditioned", tol=1e-6, max_iter=1000, dtype="float32")],
                         ids=["paper", "exact"])
def test_fits_with_and_without_the_kernel_agree(monkeypatch, method):
    """The minimiser is the same point; the paper protocol's early stop (tol=1e-4) on float32
    products lands within the distance float32 itself puts it from the float64 fit."""
    from cliffbench.contract import DataBundle, Split

    data = embedding_like(d=48, classes=5, pool=600, test=300, seed=3)
    batches = nested_batches(len(data.pool), [9, 60, 400], trials=4, seed=1)
    runs = []
    for on in (False, True):
        monkeypatch.setattr(solver, "CPU_KERNEL", on)
        runs.append([o for b in batches for o in outcomes(LinearProbe(**method), b, context(data))])
    wide = DataBundle(Split(data.pool.X.astype(np.float64), data.pool.y), Split(data.test.X.astype(np.float64), data.test.y))
    runs.append([o for b in batches for o in outcomes(LinearProbe(**method), b, context(wide))])
    spread = max(abs(a.metrics["objective"] / c.metrics["objective"] - 1) for a, _, c in zip(*runs))
    for a, b, _ in zip(*runs):
        assert a.metrics["n_iter"] == pytest.approx(b.metrics["n_iter"], abs=1 if method else 0)
        assert a.metrics["objective"] == pytest.approx(b.metrics["objective"], rel=1e-5 if method else 2 * spread)
        assert abs(a.test_error - b.test_error) <= 2 / 300


def test_digits_paper_fit_is_the_same_with_the_kernel(monkeypatch):
    data = digits_bundle()
    ctx = context(data)
    batch = nested_batches(len(data.pool), [200], trials=3, seed=2)[0]
    runs = []
    for on in (False, True):
        monkeypatch.setattr(solver, "CPU_KERNEL", on)
        runs.append(outcomes(LinearProbe(), batch, ctx))
    for a, b in zip(*runs):
        assert a.metrics["n_iter"] == b.metrics["n_iter"]
        assert a.test_error == pytest.approx(b.test_error, abs=1e-12)
