"""Known answers of the binary Gaussian toy (paper App. F): the exact error F.2, the vectorised
mean classifier, and the median error following F.5 for large d."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr
from tests.toy_helpers import errors_by_n, make_ctx

import cliffbench
from cliffbench.closed_forms import f5_error
from cliffbench.contract import Backbone
from cliffbench.datasets.toy_gaussian import ToyGaussian
from cliffbench.methods.toys.mean_classifier import MeanClassifier, mean_weights


def test_f2_closed_form_matches_a_test_set():
    data = ToyGaussian(d=6, s=0.8, pool_size=10, test_size=400_000).load()
    w = np.array([0.7, -0.4, 0.3, 0.0, 0.2, 0.5])
    sampled = np.mean(np.sign(data.test.X @ w) != data.test.y)
    exact = ndtr(-0.8 * w[0] / np.linalg.norm(w))
    assert sampled == pytest.approx(exact, abs=0.003)  # s.e. of 4e5 Bernoulli draws ~7e-4


def test_mean_weights_equal_the_loop():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((50, 4))
    index = np.stack([rng.permutation(50)[:7] for _ in range(5)])
    np.testing.assert_allclose(mean_weights(Z, index), np.stack([Z[i].mean(0) for i in index]))


def test_exact_and_test_set_paths_agree(tmp_path):
    class Copy(Backbone):  # any non-identity backbone: the method falls back to the test split
        def features(self, data, ctx):
            return data

    data = ToyGaussian(d=20, s=1.0, pool_size=3000, test_size=100_000)
    exact = errors_by_n(cliffbench.run(MeanClassifier(), data, grid=[5, 50], trials=4))
    sampled = errors_by_n(cliffbench.run(MeanClassifier(), data, grid=[5, 50], trials=4, backbone=Copy("copy")))
    for n in (5, 50):
        np.testing.assert_allclose(sampled[n], exact[n], atol=0.006)  # 1e5 test points: s.e. ~1.5e-3


def test_median_follows_f5_for_large_d(tmp_path):
    d, s = 400, 1.0
    grid = [10, 100, 400, 2000]
    errs = errors_by_n(cliffbench.run(MeanClassifier(), ToyGaussian(d=d, s=s, pool_size=20_000, test_size=10),
                                      grid=grid, trials=200))
    for n in grid:
        # F.5 replaces χ²_{d−1} and ε by their typical values; for d = 400 that is accurate to
        # O(1/sqrt(d)) in the argument of Φ, i.e. well below 0.01 in error. The median of 200 trials
        # has a standard error below 0.003 (per-trial spread < 0.03).
        assert np.median(errs[n]) == pytest.approx(float(f5_error(n, d, s)), abs=0.01)
    # no classifier beats the Bayes error Φ(−s) (the plateau the cliff falls to)
    assert min(e.min() for e in errs.values()) >= ndtr(-s)


def test_rows_carry_the_f5_reference(tmp_path):
    ctx = make_ctx(ToyGaussian(d=30, s=2.0, pool_size=500, test_size=10), tmp_path)
    from cliffbench.methods.base import CellBatch

    batch = CellBatch(10, np.arange(3), np.arange(3), np.stack([np.arange(10)] * 3))
    outcomes = next(iter(MeanClassifier().run(batch, ctx)))
    assert len(outcomes) == 3
    assert outcomes[0].metrics["reference_error"] == pytest.approx(ndtr(-2 / np.sqrt(1 + 30 / 40)))
