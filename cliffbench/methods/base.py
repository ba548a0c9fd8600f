"""Helpers every method shares: the primary test error, and the single-class subset (a subset
whose labels are all one class: it predicts that class, without fitting). The method interface
itself (``Method``, ``CellBatch``, ``Outcome``) lives in :mod:`cliffbench.contract`."""

from __future__ import annotations

from typing import Any

import numpy as np

from cliffbench.contract import CellBatch, Method, Outcome

__all__ = ["CellBatch", "Method", "Outcome", "single_class_outcome", "split_single_class", "test_error"]


def test_error(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The primary error: misclassification rate (classification) or mean squared error (regression)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if task == "classification":
        return float(np.mean(y_true != y_pred))
    return float(np.mean((y_true.astype(np.float64) - y_pred.astype(np.float64)) ** 2))


test_error.__test__ = False  # keep pytest from collecting it as a test


def single_class_outcome(trial: int, task: str, label: Any, y_test: np.ndarray) -> Outcome:
    """A subset with one class: predict that class, and say so in the row."""
    err = test_error(task, y_test, np.full(len(y_test), label))
    return Outcome(trial, err, {"n_classes": 1}, message=f"single class in subset: predicts {label}")


def split_single_class(batch: CellBatch, data) -> tuple[CellBatch | None, dict[int, Outcome]]:
    """The trials of ``batch`` that need a fit (None when none do) and the outcomes of those whose
    subset holds one class (classification only; regression keeps every trial)."""
    if data.task != "classification":
        return batch, {}
    done: dict[int, Outcome] = {}
    keep = []
    for pos, (trial, idx) in enumerate(zip(batch.trials, batch.index)):
        present = np.unique(data.pool.y[idx])
        if len(present) == 1:
            done[int(trial)] = single_class_outcome(int(trial), data.task, present[0], data.test.y)
        else:
            keep.append(pos)
    if not keep:
        return None, done
    if len(keep) == len(batch):
        return batch, done
    return CellBatch(batch.n, batch.trials[keep], batch.seeds[keep], batch.index[keep]), done
