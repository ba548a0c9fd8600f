"""Batched MLP probe: learns, restores each trial's best-validation weights, trials differ only by seed."""

from __future__ import annotations

import numpy as np
import torch

from cliffbench.datasets.base import DataBundle, Split
from cliffbench.methods.base import CellBatch
from cliffbench.methods.probes.mlp import MLPProbe
from tests.probe_data import context, outcomes


def _blobs(task: str = "classification") -> DataBundle:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=900)
    centres = np.array([[4.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 4.0, 0]])
    X = (centres[y] + rng.normal(size=(900, 4))).astype(np.float32)
    t = y if task == "classification" else X[:, 0] - 2 * X[:, 1]
    return DataBundle(Split(X[:500], t[:500]), Split(X[700:], t[700:]), Split(X[500:700], t[500:700]), task=task)


def _batch(subsets, seeds):
    subsets = np.asarray(subsets)
    return CellBatch(subsets.shape[1], np.arange(len(subsets)), np.asarray(seeds), subsets)


def test_learns_a_separable_problem_and_restores_best_validation_weights():
    data = _blobs()
    ctx = context(data, {"max_epochs": 12, "patience": 3})
    probe = MLPProbe(hidden=[32, 32], lr=1e-2)
    rng = np.random.default_rng(1)
    got = outcomes(probe, _batch([rng.permutation(500)[:60] for _ in range(3)], [1, 2, 3]), ctx)
    assert max(o.test_error for o in got) < 0.02
    model = probe.last_model
    history = torch.stack(model.val_history)  # (epochs, T)
    for t, o in enumerate(got):
        best = o.metrics["best_epoch"]
        # as if trained alone: the trial stopped `patience` epochs after its best (its stack-mates may
        # train on), and its best is the minimum of the epochs it saw
        seen = history[: best + 3 + 1, t]
        assert best == int(seen.argmin()) and (len(history) == 12 or len(seen) == best + 4)
        with torch.no_grad():  # the restored weights are the best epoch's: their val loss is the minimum
            out = model.predict_all(torch.as_tensor(data.val.X))
            loss = model.per_trial_loss(out, torch.as_tensor(data.val.y)[None].expand(3, -1))[t] / len(data.val)
        assert float(loss) == float(history[best, t]) or abs(float(loss) - float(history[best, t])) < 1e-5


def test_trials_differ_only_by_seed_and_stacking_does_not_mix_trials():
    data = _blobs()
    ctx = context(data, {"max_epochs": 4, "patience": 10})
    probe = MLPProbe(hidden=[16], lr=1e-2, batch_size=16)
    subset = np.random.default_rng(2).permutation(500)[:40]
    other = np.random.default_rng(3).permutation(500)[:40]
    a, b, c = outcomes(probe, _batch([subset, subset, other], [5, 5, 6]), ctx)
    assert a.metrics == b.metrics and a.test_error == b.test_error
    stacked = probe.last_model.predict_all(torch.as_tensor(data.test.X))
    (alone,) = outcomes(probe, _batch([other], [6]), ctx)
    solo = probe.last_model.predict_all(torch.as_tensor(data.test.X))
    assert alone.metrics["val_loss"] == c.metrics["val_loss"] or abs(alone.metrics["val_loss"] - c.metrics["val_loss"]) < 1e-5
    torch.testing.assert_close(stacked[2], solo[0], rtol=1e-4, atol=1e-4)
    assert a.metrics["val_loss"] != c.metrics["val_loss"]


def test_regression_targets_and_fixed_budget_without_validation():
    data = _blobs("regression")
    data = DataBundle(data.pool, data.test, None, task="regression")
    probe = MLPProbe(hidden=[32], lr=1e-2, epochs_without_val=5)
    (o,) = outcomes(probe, _batch([np.arange(200)], [0]), context(data))
    assert o.metrics["epochs"] == 5 and "best_epoch" not in o.metrics
    assert o.test_error < 0.5 * np.var(data.test.y)


def test_predicts_only_classes_present_in_the_subset():
    import numpy as np

    from cliffbench.methods.base import CellBatch
    from cliffbench.methods.probes.mlp import MLPProbe

    rng = np.random.default_rng(0)
    centers = np.eye(4, 6) * 6
    y_pool = np.repeat(np.arange(4), 30)
    X_pool = centers[y_pool] + rng.normal(size=(120, 6))
    y_test = np.repeat(np.arange(4), 10)
    X_test = centers[y_test] + rng.normal(size=(40, 6))
    from cliffbench.datasets.base import DataBundle, Split

    ctx = context(DataBundle(Split(X_pool, y_pool), Split(X_test, y_test)))
    subset = np.flatnonzero(y_pool < 2)[None, :40]  # classes 0 and 1 only
    batch = CellBatch(40, np.array([0]), np.array([1]), np.ascontiguousarray(subset))
    probe = MLPProbe(hidden=[16], epochs_without_val=5)
    (outcome,) = outcomes(probe, batch, ctx)
    # Half the test points belong to the absent classes 2 and 3: exactly those are wrong.
    assert outcome.test_error == 0.5
