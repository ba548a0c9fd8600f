"""Batched k-NN probe: identical predictions to scikit-learn on every cell, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from cliffbench.datasets.base import DataBundle, Split
from cliffbench.methods.probes.knn import KNNProbe
from tests.probe_data import context, digits_bundle, nested_batches


def _tied_bundle(task: str) -> DataBundle:
    """Integer features in {0, 1, 2}^3: exact distance ties everywhere, and many voting ties."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(700, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=700) if task == "classification" else rng.normal(size=700)
    return DataBundle(Split(X[:500], y[:500]), Split(X[500:], y[500:]), task=task)


@pytest.mark.parametrize("memory_gb", [4.0, 0.0], ids=["full-matrix", "recomputed"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("kind", ["digits", "tied", "tied-regression"])
def test_predictions_identical_to_sklearn(kind, metric, memory_gb):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    data = digits_bundle(dtype=np.float32) if kind == "digits" else _tied_bundle(
        "regression" if kind.endswith("regression") else "classification")
    for k in (1, 3, 6):
        probe = KNNProbe(k=k, metric=metric, list_size=64, max_memory_gb=memory_gb)
        for batch in nested_batches(len(data.pool), [1, 4, 30, 200, len(data.pool)], trials=2):
            for subset in batch.index:
                pred, _ = probe.predict(subset, data)
                cls = KNeighborsClassifier if data.task == "classification" else KNeighborsRegressor
                ref = cls(n_neighbors=min(k, len(subset)), metric=metric, algorithm="brute")
                ref_pred = ref.fit(data.pool.X[subset], data.pool.y[subset]).predict(data.test.X)
                if data.task == "classification":
                    assert np.array_equal(pred, ref_pred)
                else:
                    np.testing.assert_allclose(pred, ref_pred, rtol=1e-12, atol=1e-12)


def test_run_reports_errors_for_every_trial_and_reuses_the_pool_order():
    data = digits_bundle(dtype=np.float32)
    ctx = context(data)
    probe, sk = KNNProbe(k=3), KNNProbe(k=3, backend="sklearn")
    for batch in nested_batches(len(data.pool), [5, 300], trials=3):
        got = [o for chunk in probe.run(batch, ctx) for o in chunk]
        ref = [o for chunk in sk.run(batch, ctx) for o in chunk]
        assert [o.trial for o in got] == [0, 1, 2]
        assert [o.test_error for o in got] == [o.test_error for o in ref]
    first = probe._cache[1]
    list(probe.run(nested_batches(len(data.pool), [50], trials=1)[0], ctx))
    assert probe._cache[1] is first


def test_float32_near_ties_are_settled_in_float64_like_sklearn():
    """Far from the origin, float32 cannot order the neighbours (every row is a float32 near-tie);
    scikit-learn orders them by float64 distances, and so must the refinement, without falling
    back to scikit-learn for the rows that float64 separates."""
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    X = (20.0 + rng.normal(size=(900, 5))).astype(np.float32)
    y = rng.integers(0, 3, size=900)
    data = DataBundle(Split(X[:600], y[:600]), Split(X[600:], y[600:]))
    probe = KNNProbe(k=3, list_size=64)
    for batch in nested_batches(len(data.pool), [20, 300, 600], trials=2):
        for subset in batch.index:
            pred, fallback_rows = probe.predict(subset, data)
            ref = KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(X[:600][subset], y[:600][subset])
            assert np.array_equal(pred, ref.predict(data.test.X))
            assert fallback_rows < 0.1 * len(data.test)  # about 1/3 of the rows without the refinement
