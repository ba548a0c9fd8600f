"""The harmonic toy and App. E's Monte-Carlo bandwidth regulariser: the nneg basis, a penalty of ~0
inside S_B and the true squared distance outside, and a short end-to-end fit of the harmonic net."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.toy_helpers import errors_by_n, make_ctx

import cliffbench
from cliffbench.datasets.toy_harmonic import HarmonicFunction, ToyHarmonic
from cliffbench.methods.toys.bandwidth_regulariser import BandwidthRegulariser, basis_frequencies, nneg
from cliffbench.methods.toys.harmonic_net import HarmonicNet


def test_nneg_keeps_one_of_each_pair():
    vs = [np.array(v) for v in [(0, 0), (1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, 1)]]
    assert {tuple(v) for v in nneg(vs)} == {(0, 0), (1, 0), (0, 1), (1, -1)}


@pytest.mark.parametrize("B,dim", [(1, 1), (2, 2), (1, 3)])
def test_basis_has_2b_plus_1_to_the_d_functions(B, dim):
    cos, sin = basis_frequencies(B, dim)
    assert len(cos) + len(sin) == (2 * B + 1) ** dim
    assert BandwidthRegulariser(B=B, dim=dim, m=10).size == (2 * B + 1) ** dim


def test_harmonic_target_has_unit_norm_and_is_in_s_b():
    h = HarmonicFunction(B=2, dim=2, seed=3)
    x = np.random.default_rng(0).uniform(size=(200_000, 2))
    assert np.mean(h(x) ** 2) == pytest.approx(1.0, abs=0.03)  # MC s.e. of 2e5 points ~0.005
    np.testing.assert_allclose(h(x[:10]), h(x[:10] + 1.0), atol=1e-9)  # periodic on the unit square
    data = ToyHarmonic(pool_size=100, val_size=512, test_size=50).load()
    assert data.meta["critical_n"] == 25 and len(data.val) == 512


def _as_torch(fn):
    return lambda x: torch.as_tensor(fn(x.numpy()))


def test_penalty_is_zero_inside_s_b_and_the_distance_outside():
    reg = BandwidthRegulariser(B=2, dim=2, m=20_000, resample=True)
    gen = torch.Generator().manual_seed(0)
    h = HarmonicFunction(B=2, dim=2, seed=1)
    # inside S_B: the projection reproduces y up to float64 rounding
    assert reg.penalty(_as_torch(h), gen, dtype=torch.float64).item() < 1e-20
    # cos(2π·3x₁) is orthogonal to S_B, distance² = ∫cos² = 1/2. MC: s.e. of the mean of cos² over
    # 2e4 points ~0.0025, and fitting 25 basis columns removes only ~25/m of it: 0.02 is ~8 s.e.
    outside = lambda x: torch.cos(2 * torch.pi * 3 * x[:, 0])  # noqa: E731
    assert reg.penalty(outside, gen, dtype=torch.float64).item() == pytest.approx(0.5, abs=0.02)
    mixed = lambda x: _as_torch(h)(x) + 0.3 * outside(x)  # noqa: E731
    assert reg.penalty(mixed, gen, dtype=torch.float64).item() == pytest.approx(0.045, abs=0.005)


def test_penalty_is_differentiable_and_fixed_points_are_reused():
    reg = BandwidthRegulariser(B=1, dim=2, m=500, resample=False)
    net = torch.nn.Linear(2, 1)
    gen = torch.Generator().manual_seed(0)
    first = reg.penalty(net, gen)
    first.backward()
    assert net.weight.grad is not None and float(first) > 0
    assert reg.penalty(net, gen).item() == pytest.approx(first.item())


def test_harmonic_net_fits_and_is_seeded(tmp_path):
    ctx = make_ctx(ToyHarmonic(pool_size=500, val_size=128, test_size=500), tmp_path, patience=2)
    plain = HarmonicNet(hidden=[16, 16, 16], lr=1e-2, max_steps=80, val_every=20)
    a = errors_by_n(cliffbench.run(plain, ctx.raw, grid=[200], trials=1, trainer=ctx.trainer))[200]
    b = errors_by_n(cliffbench.run(plain, ctx.raw, grid=[200], trials=1, trainer=ctx.trainer))[200]
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert np.all(a < 1.0)  # ‖h‖² = 1 is the error of predicting 0
    reg = HarmonicNet(hidden=[16, 16, 16], lr=3e-3, max_steps=40, val_every=20,
                      bandwidth={"B": 2, "m": 500, "lam": 1.0})
    from cliffbench.methods.base import CellBatch

    batch = CellBatch(30, np.array([0]), np.array([7]), np.arange(30)[None])
    (out,) = next(iter(reg.run(batch, ctx)))
    assert np.isfinite(out.test_error) and out.metrics["bandwidth_penalty"] >= 0
    assert 0 < out.metrics["steps"] <= 40
