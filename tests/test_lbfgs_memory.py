"""The compact L-BFGS memory gives the textbook BFGS inverse-Hessian direction."""

from __future__ import annotations

import torch

from cliffbench.methods.probes.linear.lbfgs_memory import LbfgsMemory


def _bfgs_direction(pairs, g):
    """-H g with H built densely: H0 = gamma I (gamma from the newest pair), then the BFGS
    inverse update H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T for each pair, oldest first."""
    P = len(g)
    s, y = pairs[-1]
    H = (s @ y) / (y @ y) * torch.eye(P, dtype=g.dtype)
    for s, y in pairs:
        rho = 1 / (s @ y)
        V = torch.eye(P, dtype=g.dtype) - rho * torch.outer(y, s)
        H = V.T @ H @ V + rho * torch.outer(s, s)
    return -H @ g


def test_direction_equals_dense_bfgs_with_ring_wraparound_and_skipped_pairs():
    torch.manual_seed(0)
    T, P, m = 3, 12, 4
    A = torch.randn(T, P, P, dtype=torch.float64)
    A = A @ A.transpose(1, 2) + P * torch.eye(P, dtype=torch.float64)  # SPD: y = A s
    mem = LbfgsMemory(T, P, m, torch.float64, "cpu")
    kept = [[] for _ in range(T)]
    for step in range(7):  # wraps the ring of 4 slots
        s = torch.randn(T, P, dtype=torch.float64)
        y = torch.bmm(A, s[:, :, None]).squeeze(2)
        good = torch.tensor([True, step != 5, True])  # problem 1 skips one pair
        mem.push(torch.arange(T), s, y, good)
        for t in range(T):
            kept[t].append((s[t], y[t]) if good[t] else None)
    g = torch.randn(T, P, dtype=torch.float64)
    d = mem.direction(g)
    for t in range(T):
        pairs = [p for p in kept[t][-m:] if p is not None]
        torch.testing.assert_close(d[t], _bfgs_direction(pairs, g[t]))
    # a subset of problems, and a reset problem falls back to steepest descent scaled by gamma = 1
    mem.reset(torch.tensor([2]))
    d_sub = mem.direction(g[1:], torch.tensor([1, 2]))
    torch.testing.assert_close(d_sub[0], d[1])
    torch.testing.assert_close(d_sub[1], -g[2])
