"""The plugin contract, at the bottom of the house: what datasets, backbones and methods exchange
with the runner and with each other. It imports nothing of the project but :mod:`cliffbench.errors`
(the same bottom layer), so every plugin depends on this module and never on the runner.

- a dataset's ``load()`` returns a :class:`DataBundle` (pool, test, optional validation split);
- a backbone's ``features(raw, ctx)`` returns the same bundle with 2-D feature arrays;
- a method's ``run(batch, ctx)`` gets a :class:`CellBatch` (all pending trials of one n) and yields
  lists of :class:`Outcome` (one per finished cell);
- ``ctx`` is a :class:`JobContext`: the job's data and explicit settings, never the whole config.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from cliffbench.errors import ConfigError

TASKS = ("classification", "regression")
log = logging.getLogger("cliffbench")


# --- data --------------------------------------------------------------------------------------
@dataclass
class Split:
    """Inputs and targets of one split. ``X`` is an array or any indexable sequence of inputs
    (e.g. a torch ``Dataset`` of images); ``y`` is always a 1-D array."""

    X: Any
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> Split:
        """Rows ``index`` of this split (arrays only)."""
        return Split(np.asarray(self.X)[index], self.y[index])


@dataclass
class DataBundle:
    """A dataset ready for a job: the sampling pool, an optional validation set and the test set.

    ``meta`` carries what plots and reports need (``reference_lines``: name -> error level).
    """

    pool: Split
    test: Split
    val: Split | None = None
    task: str = "classification"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {TASKS}, got {self.task!r}")

    @property
    def classes(self) -> np.ndarray | None:
        """Sorted class labels of the pool (None for regression)."""
        if self.task != "classification":
            return None
        return np.unique(self.pool.y)

    def with_inputs(self, pool_X: Any, test_X: Any, val_X: Any = None) -> DataBundle:
        """The same bundle with new inputs (e.g. features), targets and metadata unchanged."""
        val = None if self.val is None else Split(val_X, self.val.y)
        return DataBundle(Split(pool_X, self.pool.y), Split(test_X, self.test.y), val, self.task, self.meta)


# --- plugins -----------------------------------------------------------------------------------
class Plugin:
    """What every dataset, backbone and method shares: a ``name`` and ``speed_only``, the names of
    its constructor parameters that change how fast results come, never the results themselves.
    They are left out of the job's identity hash and of its directory name (see
    :mod:`cliffbench.identity`), so changing them resumes the same cells."""

    speed_only: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = name


class Dataset(Plugin, ABC):
    """Base of all datasets. Subclasses implement :meth:`load`."""

    task: str = "classification"

    def __init__(self, name: str, reference_lines: dict[str, float] | None = None) -> None:
        super().__init__(name)
        self.reference_lines = dict(reference_lines or {})

    @abstractmethod
    def load(self) -> DataBundle:
        """Read (or generate) the data and return the pool, validation and test splits."""

    def fingerprint(self) -> str | None:
        """After :meth:`load`: a fingerprint of the data read from disk (see
        :mod:`cliffbench.datasets.fingerprint`), part of the job identity; None for generated data,
        which its config already identifies."""
        return None

    def _meta(self, **extra: Any) -> dict[str, Any]:
        return {"dataset": self.name, "reference_lines": dict(self.reference_lines), **extra}


class Backbone(Plugin, ABC):
    """Base of all backbones. ``features`` is called at most once per job.

    Properties methods may rely on instead of checking types:
    ``features_are_inputs``: the features are the raw inputs themselves (flattened), so facts the
    dataset states about its inputs (a linear teacher, a Gaussian class mean) hold for them;
    ``trainable``: the backbone has weights a method can train, through
    ``build(paths, random_init=False)`` and ``build_seeded(paths)``.
    """

    features_are_inputs: ClassVar[bool] = False
    trainable: ClassVar[bool] = False

    @abstractmethod
    def features(self, data: DataBundle, ctx: JobContext) -> DataBundle:
        """The same bundle with each split's inputs replaced by a 2-D float feature array."""


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


class Method(Plugin, ABC):
    """Base of all methods.

    ``run`` yields lists of outcomes as cells finish; each list is persisted at once, so a method
    that fits trials one by one yields one-element lists and a batched one yields the whole batch.
    ``needs_features=False`` methods (training from raw inputs) never trigger feature extraction.
    """

    needs_features: bool = True
    tasks: tuple[str, ...] = TASKS

    @abstractmethod
    def run(self, batch: CellBatch, ctx: JobContext) -> Iterator[list[Outcome]]:
        """Fit every trial of ``batch`` and yield their outcomes."""


# --- the job context ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainerSettings:
    """``cfg.trainer``: how every trained method and the feature extraction run.

    ``accelerator``: auto (CUDA when available) | cpu | gpu | cuda. ``precision``: null means
    bf16-mixed on a GPU and 32-true on CPU. ``patience``: validation checks without improvement
    before early stopping (the only patience setting). ``max_epochs``/``max_steps``: the budget of
    methods trained until early stopping.
    """

    speed_only: ClassVar[tuple[str, ...]] = ("enable_progress_bar", "num_workers")

    accelerator: str = "auto"
    precision: str | None = None
    max_epochs: int = 200
    max_steps: int = -1
    patience: int = 10
    enable_progress_bar: bool = False
    num_workers: int = 0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> TrainerSettings:
        """Settings from a config mapping; missing or null keys keep their defaults."""
        known = {f.name for f in fields(cls)}
        values = dict(values or {})
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown trainer setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        kept = {k: v for k, v in values.items() if v is not None}
        if "precision" in kept:
            kept["precision"] = str(kept["precision"])
        for key in ("max_epochs", "max_steps", "patience", "num_workers"):
            if key in kept:
                kept[key] = int(kept[key])
        if kept.get("patience", 1) < 1 or kept.get("max_epochs", 1) < 1 or kept.get("num_workers", 0) < 0:
            raise ConfigError("trainer.patience and trainer.max_epochs must be >= 1, trainer.num_workers >= 0")
        return cls(**kept)


@dataclass
class JobContext:
    """What a plugin may use during one job: the raw data, the backbone, and explicit settings.

    ``features`` are computed once, on first use, by ``backbone.features(raw, ctx)``.
    ``paths`` holds ``cache_dir`` and ``weights_dir`` (and ``data_dir``); ``extras`` is a free
    per-job dict where a method may keep what it computed once (e.g. a built encoder).
    """

    raw: DataBundle
    backbone: Backbone
    dataset: str = ""
    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    paths: Mapping[str, Any] = field(default_factory=dict)
    progress: bool = False
    job_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def features(self) -> DataBundle:
        t0 = time.perf_counter()
        feats = self.backbone.features(self.raw, self)
        log.info("features from backbone=%s in %.1fs: pool %s, test %s", self.backbone.name,
                 time.perf_counter() - t0, np.shape(feats.pool.X), np.shape(feats.test.X))
        return feats

    @property
    def task(self) -> str:
        return self.raw.task
