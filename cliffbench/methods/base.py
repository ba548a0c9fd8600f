"""The method interface, the cell batch a method receives and the outcome it reports per cell."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cliffbench.runner import JobContext


@dataclass
class CellBatch:
    """All pending trials of one n: ``index[i]`` are the pool rows of trial ``trials[i]``."""

    n: int
    trials: np.ndarray
    seeds: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.trials)


@dataclass
class Outcome:
    """The result of one (n, trial) cell. ``metrics`` become extra numeric/text columns."""

    trial: int
    test_error: float
    metrics: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    message: str = ""


class Method(ABC):
    """Base of all methods.

    ``run`` yields lists of outcomes as cells finish; each list is persisted at once, so a method
    that fits trials one by one yields one-element lists and a batched one yields the whole batch.
    ``needs_features=False`` methods (training from raw inputs) never trigger feature extraction.
    """

    needs_features: bool = True
    tasks: tuple[str, ...] = ("classification", "regression")

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        """Fit every trial of ``batch`` and yield their outcomes."""


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
