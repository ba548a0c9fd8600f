"""The one device policy and the one Lightning Trainer factory, used by every trained method, the
batched probes' torch solvers and the feature extraction.

Device: ``method.device`` when a method has one and it is not ``auto``, else ``trainer.accelerator``;
``auto`` is CUDA when available, else CPU. Precision: ``trainer.precision``, or (null) bf16-mixed on
a GPU and 32-true on CPU. Trainers log nothing and write no checkpoint files (best weights are kept
in memory by the methods)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from cliffbench.contract import TrainerSettings
from cliffbench.errors import ConfigError

_QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning",
                  "lightning.pytorch.utilities.rank_zero")


Settings = TrainerSettings | Mapping[str, Any] | None


def as_settings(settings: Settings) -> TrainerSettings:
    """``TrainerSettings`` from settings, a ``cfg.trainer``-like mapping, or None (the defaults)."""
    return settings if isinstance(settings, TrainerSettings) else TrainerSettings.from_mapping(settings)


def resolve_device(method_device: str | None = None, settings: Settings = None):
    """A ``torch.device`` from ``method.device`` (auto|cpu|cuda|cuda:N|gpu) or, when that is unset
    or auto, from ``trainer.accelerator``."""
    import torch

    choice = method_device
    if choice in (None, "", "auto"):
        choice = as_settings(settings).accelerator
    choice = str(choice or "auto").lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "gpu":
        choice = "cuda"
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {choice!r} requested (method.device / trainer.accelerator) but CUDA "
                          f"is not available; use cpu or auto")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {choice!r} in method.device / trainer.accelerator "
                          f"(use auto, cpu, cuda or cuda:N)") from exc
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {choice!r} in method.device / trainer.accelerator "
                          f"(use auto, cpu, cuda or cuda:N)")
    return device


def uses_gpu(settings: Settings, method_device: str | None = None) -> bool:
    """Whether the policy above lands on a CUDA device here."""
    return resolve_device(method_device, settings).type == "cuda"


def resolve_precision(settings: Settings, device=None) -> str:
    """The configured precision, or bf16-mixed on a GPU and 32-true on CPU when it is null."""
    settings = as_settings(settings)
    if settings.precision is not None:
        return str(settings.precision)
    device = device if device is not None else resolve_device(None, settings)
    return "bf16-mixed" if device.type == "cuda" else "32-true"


def quiet_lightning() -> None:
    """Silence Lightning's start-up banners and the warnings it prints for small inner fits."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in (".*does not have many workers.*", ".*number of training batches.*",
                    ".*GPU available but not used.*", ".*LeafSpec.*", ".*litlogger.*",
                    ".*`isinstance\\(treespec, LeafSpec\\)`.*", ".*tensorboardX.*",
                    ".*`IterableDataset` has `__len__` defined.*"):
        warnings.filterwarnings("ignore", message=pattern)


@contextmanager
def cpu_threads(num_threads: int | None) -> Iterator[None]:
    """torch's CPU threads inside the block: ``num_threads``; when None, one thread in a launcher's
    worker process (joblib, submitit_local: several jobs share the cores and more threads only add
    contention), else unchanged."""
    import os

    import torch

    from cliffbench.progress import worker_slot

    shared = worker_slot() is not None or "SUBMITIT_LOCAL_JOB_ID" in os.environ
    wanted = num_threads if num_threads else (1 if shared else None)
    before = torch.get_num_threads()
    if wanted:
        torch.set_num_threads(int(wanted))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def early_stopping(settings: Settings, monitor: str = "val_loss", **kwargs: Any):
    """Lightning's ``EarlyStopping`` on ``monitor`` with ``trainer.patience`` validation checks."""
    from lightning.pytorch.callbacks import EarlyStopping

    return EarlyStopping(monitor, patience=as_settings(settings).patience, mode="min", **kwargs)


def make_trainer(settings: Settings, *, device=None, progress: bool | None = None,
                 callbacks=(), max_epochs: int | None = None, max_steps: int | None = None, **extra: Any):
    """A ``lightning.Trainer`` on one device with logging and checkpoint files switched off.

    ``device`` (a ``torch.device``) overrides ``trainer.accelerator`` (a method's own ``device``);
    ``max_epochs``/``max_steps`` override the settings (e.g. a method's own fixed budget);
    ``progress=None`` follows ``trainer.enable_progress_bar``.
    """
    import lightning as L

    settings = as_settings(settings)
    quiet_lightning()
    device = device if device is not None else resolve_device(None, settings)
    if progress is None:
        progress = settings.enable_progress_bar
    cuda = device.type == "cuda"
    return L.Trainer(
        accelerator="gpu" if cuda else "cpu",
        devices=[device.index] if cuda and device.index is not None else 1,
        precision=resolve_precision(settings, device),
        max_epochs=int(max_epochs if max_epochs is not None else settings.max_epochs),
        max_steps=int(max_steps if max_steps is not None else settings.max_steps),
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=bool(progress),
        callbacks=list(callbacks),
        **extra,
    )
