"""Known answers of the linear-regression toy (paper §3.1): the least-squares cliff at n = d, 1-NN's
-2/d power law, double descent without and its absence with optimal ridge; closed-form errors and
estimators checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from tests.toy_helpers import errors_by_n, loglog_slope, make_ctx

import cliffbench
from cliffbench.datasets.toy_linreg import ToyLinearRegression
from cliffbench.errors import ConfigError
from cliffbench.methods.toys.least_squares import LeastSquares, min_norm_least_squares, ridge
from cliffbench.methods.toys.nearest_neighbour import NearestNeighbourRegression
from cliffbench.sampling import trial_subsets


def test_dataset_is_seeded_and_has_unit_teacher():
    a, b = ToyLinearRegression(d=7, sigma=0.1, pool_size=50, test_size=10).load(), \
        ToyLinearRegression(d=7, sigma=0.1, pool_size=50, test_size=10).load()
    np.testing.assert_array_equal(a.pool.X, b.pool.X)
    v = np.asarray(a.meta["linear_teacher"]["v"])
    assert np.linalg.norm(v) == pytest.approx(1.0)
    residual = a.pool.y - a.pool.X @ v
    assert 0.05 < residual.std() < 0.15  # sigma = 0.1, 50 samples
    assert a.meta["reference_lines"]["noise floor σ²"] == pytest.approx(0.01)
    c = ToyLinearRegression(d=7, seed=1, pool_size=50, test_size=10).load()
    assert not np.allclose(a.pool.X, c.pool.X)


def test_estimators_match_scikit_learn():
    from sklearn.linear_model import LinearRegression, Ridge

    rng = np.random.default_rng(0)
    for n, d in [(30, 10), (8, 20)]:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        np.testing.assert_allclose(ridge(X, y, 2.5), Ridge(alpha=2.5, fit_intercept=False).fit(X, y).coef_,
                                   rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(min_norm_least_squares(X, y), np.linalg.pinv(X) @ y, rtol=1e-8, atol=1e-10)
    X, y = rng.standard_normal((30, 10)), rng.standard_normal(30)
    np.testing.assert_allclose(min_norm_least_squares(X, y),
                               LinearRegression(fit_intercept=False).fit(X, y).coef_, rtol=1e-8)


def test_noiseless_least_squares_cliff_at_n_equals_d(tmp_path):
    d = 5
    data = ToyLinearRegression(d=d, sigma=0.0, pool_size=2000, test_size=100)
    errs = errors_by_n(cliffbench.run(LeastSquares(), data, grid=[1, 2, 3, 4, 5, 6, 20, 200], trials=20))
    # Below d the min-norm solution misses the component of v outside the span of n random
    # directions, E = 1 - n/d (0.2 at n=4); exact solves of a consistent system leave only rounding
    # (~1e-28 for these condition numbers), so 1e-18 separates "zero" from any real error.
    for n in (1, 2, 3, 4):
        assert errs[n].min() > 1e-6
        # cos² of v with an n-dim random subspace is Beta(n/2, (d-n)/2): per-trial s.d. <= 0.21, so
        # the mean of 20 trials is within 0.15 (3 standard errors) of 1 - n/d.
        assert np.mean(errs[n]) == pytest.approx(1 - n / d, abs=0.15)
    for n in (5, 6, 20, 200):
        assert errs[n].max() < 1e-18


def test_closed_form_error_matches_a_test_set(tmp_path):
    data = ToyLinearRegression(d=10, sigma=0.3, pool_size=500, test_size=200_000)
    ctx = make_ctx(data, tmp_path)
    w = ridge(ctx.raw.pool.X[:15], ctx.raw.pool.y[:15], 0.9)
    v = np.asarray(ctx.raw.meta["linear_teacher"]["v"])
    exact = np.sum((w - v) ** 2) + 0.09
    sampled = np.mean((ctx.raw.test.X @ w - ctx.raw.test.y) ** 2)
    assert sampled == pytest.approx(exact, rel=0.02)  # 2e5 test points: relative s.e. ~0.3%


def test_nearest_neighbour_power_law_slope(tmp_path):
    d = 5
    data = ToyLinearRegression(d=d, sigma=0.0, pool_size=100_000, test_size=5000)
    grid = [1000, 2000, 4000, 8000]
    errs = errors_by_n(cliffbench.run(NearestNeighbourRegression(), data, grid=grid, trials=6))
    slope = loglog_slope(grid, [np.median(errs[n]) for n in grid])
    # Theory (Györfi et al. Thm 6.2): -2/d = -0.4 asymptotically. With Gaussian inputs the
    # nearest-neighbour distance converges slowly in the tails, so at n ~ 10^3-10^4 the measured
    # slope is about -0.38; ±0.06 (15%) covers that bias and the spread of 6 trials.
    assert slope == pytest.approx(-2 / d, abs=0.06)


def test_nearest_neighbour_matches_scikit_learn(tmp_path):
    from sklearn.neighbors import KNeighborsRegressor

    data = ToyLinearRegression(d=3, sigma=0.2, pool_size=300, test_size=500)
    ctx = make_ctx(data, tmp_path)
    v = np.asarray(ctx.raw.meta["linear_teacher"]["v"])
    errs = errors_by_n(cliffbench.run(NearestNeighbourRegression(), ctx.raw, grid=[40], trials=1))
    idx = trial_subsets([40], pool_size=300, seed=0, trial=0)[40]
    pred = KNeighborsRegressor(1).fit(ctx.raw.pool.X[idx], ctx.raw.pool.y[idx]).predict(ctx.raw.test.X)
    expected = np.mean((pred - ctx.raw.test.X @ v) ** 2) + 0.04
    assert errs[40][0] == pytest.approx(expected, rel=1e-10)


def test_optimal_ridge_removes_the_double_descent_peak(tmp_path):
    d, sigma = 100, 0.1
    ctx = make_ctx(ToyLinearRegression(d=d, sigma=sigma, pool_size=5000, test_size=100), tmp_path)
    grid = [50, 80, 100, 125, 200, 400]
    ls = {n: np.median(e) for n, e in errors_by_n(cliffbench.run(LeastSquares(), ctx.raw, grid=grid,
                                                                 trials=15)).items()}
    rd_method = LeastSquares(name="ridge", lam="optimal")
    assert rd_method.resolve_lam(ctx) == pytest.approx(d * sigma**2)  # = 1, the paper's value
    rd = {n: np.median(e) for n, e in errors_by_n(cliffbench.run(rd_method, ctx.raw, grid=grid,
                                                                 trials=15)).items()}
    # Least squares: E‖ŵ−v‖² = σ² d/(n−d−1) above d (0.02 at n=200) and ~‖v‖²(1−n/d) + σ² n/(d−n−1)
    # below (0.24 at n=80, 0.04 at n=125); at n = d the expectation is infinite (the smallest
    # singular value of X is ~1/sqrt(d)) and the median is ~2: a peak several times its neighbours.
    assert ls[100] == max(ls.values())
    assert ls[100] > 3 * max(ls[50], ls[80], ls[125], ls[200])
    # Optimal ridge is the Bayes posterior mean for an isotropic prior: its error decreases in n
    # (up to trial noise, hence the 2% slack) and stays far below the least-squares peak.
    medians = [rd[n] for n in grid]
    assert all(b <= a * 1.02 for a, b in zip(medians, medians[1:]))
    assert rd[100] < ls[100] / 10


def test_optimal_lam_needs_a_teacher(tmp_path):
    from cliffbench.datasets.toy_gaussian import ToyGaussian

    ctx = make_ctx(ToyGaussian(d=3, pool_size=50, test_size=10), tmp_path)
    with pytest.raises(ConfigError, match="linear teacher"):
        LeastSquares(lam="optimal").resolve_lam(ctx)
    with pytest.raises(ConfigError):
        LeastSquares(lam=-1.0)
