"""Batched linear probe vs scikit-learn's LogisticRegression / LinearRegression / Ridge."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cliffbench.methods.probes.linear.linear import LinearProbe, sklearn_objective
from tests.probe_data import context, digits_bundle, nested_batches, outcomes


def _sklearn_fit(X, y, **kw):
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(**kw).fit(X, y)


@pytest.mark.parametrize("classes", [None, [3, 8]], ids=["10-class", "binary"])
def test_minimiser_mode_matches_sklearn_objective_at_tight_tolerance(classes, compose_cfg):
    from hydra.utils import instantiate

    data = digits_bundle(classes=classes)
    ctx = context(data)
    probe = instantiate(compose_cfg(["method=linear_exact", "method.tol=1e-8", "method.max_iter=5000"]).method)
    agree = []
    for batch in nested_batches(len(data.pool), [12, 150], trials=2):
        got = outcomes(probe, batch, ctx)
        for o, idx in zip(got, batch.index):
            X, y = data.pool.X[idx], data.pool.y[idx]
            ref = _sklearn_fit(X, y, C=100.0, tol=1e-8, max_iter=5000)
            ref_obj = sklearn_objective(ref, X, y, 100.0)
            assert o.metrics["converged"]
            assert abs(o.metrics["objective"] - ref_obj) <= 1e-6 * ref_obj
            ref_err = np.mean(ref.predict(data.test.X) != data.test.y)
            agree.append(abs(o.test_error - ref_err) * len(data.test))
    # predictions agree on >= 99% of test points: error counts differ by < 1% of the test set
    assert max(agree) <= 0.01 * len(data.test)


def _median_curve(probe, data, batches):
    ctx = context(data)
    return np.array([np.median([o.test_error for o in outcomes(probe, b, ctx)]) for b in batches])


def test_paper_protocol_follows_sklearn_defaults_within_sklearns_own_spread(compose_cfg):
    """method=linear against LogisticRegression(C=100) at its defaults, on small embedding-like
    float32 features: the median curve stays within scikit-learn's own spread (the same fits on a
    float64 copy or with permuted columns; docs/probes.md: at most 0.5 points per n)."""
    from hydra.utils import instantiate

    from cliffbench.datasets.base import DataBundle, Split
    from tests.probe_data import embedding_like

    data = embedding_like(d=96, pool=1500, test=1000, seed=3)
    batches = nested_batches(len(data.pool), [20, 80, 300, 1500], trials=5, seed=1)
    probe = instantiate(compose_cfg(["method=linear"]).method)
    ours = _median_curve(probe, data, batches)
    sk = LinearProbe(C=100.0, tol=1e-4, max_iter=100, backend="sklearn")
    ref = _median_curve(sk, data, batches)
    perm = np.random.default_rng(0).permutation(data.pool.X.shape[1])
    variants = [DataBundle(Split(data.pool.X.astype(np.float64), data.pool.y), Split(data.test.X.astype(np.float64), data.test.y)),
                DataBundle(Split(data.pool.X[:, perm], data.pool.y), Split(data.test.X[:, perm], data.test.y))]
    spread = np.max([np.abs(_median_curve(sk, v, batches) - ref) for v in variants], axis=0)
    assert np.all(np.abs(ours - ref) <= np.maximum(spread, 0.005) + 1e-12), (ours, ref, spread)


def test_paper_protocol_on_digits_cell_by_cell(compose_cfg):
    from hydra.utils import instantiate

    data = digits_bundle()
    ctx = context(data)
    probe = instantiate(compose_cfg(["method=linear"]).method)  # digits are float64
    sk = LinearProbe(C=100.0, tol=1e-4, max_iter=100, backend="sklearn")
    diffs = []
    for batch in nested_batches(len(data.pool), [10, 40, 200, 1100], trials=3, seed=1):
        for a, b in zip(outcomes(probe, batch, ctx), outcomes(sk, batch, ctx)):
            diffs.append(abs(a.test_error - b.test_error))
    assert max(diffs) <= 0.005 + 1e-12, diffs


def test_single_class_subset_predicts_its_class_and_identical_subsets_are_solved_once():
    data = digits_bundle()
    ctx = context(data)
    ones = np.flatnonzero(data.pool.y == 1)[:5]
    from cliffbench.methods.base import CellBatch

    everything = np.arange(len(data.pool))
    batch = CellBatch(5, np.array([0, 1]), np.array([7, 8]), np.stack([ones, ones[::-1]]))
    got = outcomes(LinearProbe(), batch, ctx)
    assert all(o.metrics["n_classes"] == 1 for o in got)
    assert got[0].test_error == pytest.approx(np.mean(data.test.y != 1))
    full = CellBatch(len(everything), np.array([0, 1]), np.array([7, 8]),
                     np.stack([everything, np.random.default_rng(0).permutation(everything)]))
    a, b = outcomes(LinearProbe(), full, ctx)
    assert a.test_error == b.test_error and a.metrics == b.metrics


@pytest.mark.parametrize("n,ridge", [(200, 0.0), (30, 0.0), (30, 2.5)])
def test_regression_matches_least_squares_and_ridge(n, ridge):
    from sklearn.linear_model import LinearRegression, Ridge

    from cliffbench.datasets.base import DataBundle, Split

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 40))
    y = X @ rng.normal(size=40) + 0.3 * rng.normal(size=600) + 2.0
    data = DataBundle(Split(X[:400], y[:400]), Split(X[400:], y[400:]), task="regression")
    ctx = context(data)
    for batch in nested_batches(400, [n], trials=3):
        for o, idx in zip(outcomes(LinearProbe(ridge=ridge), batch, ctx), batch.index):
            ref = (Ridge(alpha=ridge) if ridge else LinearRegression()).fit(X[idx], y[idx])
            ref_mse = np.mean((ref.predict(data.test.X) - data.test.y) ** 2)
            assert o.test_error == pytest.approx(ref_mse, rel=1e-8)
