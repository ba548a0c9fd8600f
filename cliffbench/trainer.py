"""Quiet Lightning Trainers built from ``cfg.trainer`` (feature extraction, finetuning, from-scratch
training): precision ``null`` means bf16-mixed on a GPU and
32-bit on CPU; no logger and no checkpoint files (best weights are kept in memory)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

_QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


def _get(cfg: Mapping | None, key: str, default: Any) -> Any:
    if cfg is None:
        return default
    value = cfg.get(key, default)
    return default if value is None else value


def uses_gpu(trainer_cfg: Mapping | None) -> bool:
    """Whether ``accelerator`` (auto | cpu | gpu | cuda) lands on a CUDA device here."""
    import torch

    accelerator = str(_get(trainer_cfg, "accelerator", "auto"))
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def resolve_precision(trainer_cfg: Mapping | None) -> str:
    """The configured precision, or bf16-mixed on a GPU and 32-true on CPU when it is null."""
    precision = trainer_cfg.get("precision") if trainer_cfg is not None else None
    if precision is not None:
        return str(precision)
    return "bf16-mixed" if uses_gpu(trainer_cfg) else "32-true"


def quiet_lightning() -> None:
    """Silence Lightning's start-up banners and the warnings it prints for small inner fits."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in (".*does not have many workers.*", ".*number of training batches.*",
                    ".*GPU available but not used.*", ".*LeafSpec.*", ".*litlogger.*",
                    ".*`isinstance\\(treespec, LeafSpec\\)`.*", ".*tensorboardX.*"):
        warnings.filterwarnings("ignore", message=pattern)


def make_trainer(trainer_cfg: Mapping | None, *, progress: bool | None = None, callbacks=(),
                 max_epochs: int | None = None, max_steps: int | None = None, **extra: Any):
    """A ``lightning.Trainer`` from ``cfg.trainer`` with logging and checkpoint files switched off.

    ``max_epochs``/``max_steps`` override the config (e.g. a fixed-length pretraining);
    ``progress=None`` follows ``trainer.enable_progress_bar``.
    """
    import lightning as L

    quiet_lightning()
    if progress is None:
        progress = bool(_get(trainer_cfg, "enable_progress_bar", False))
    accelerator = str(_get(trainer_cfg, "accelerator", "auto"))
    devices = extra.pop("devices", _get(trainer_cfg, "devices", 1))
    return L.Trainer(
        accelerator=accelerator,
        devices=devices,
        precision=resolve_precision(trainer_cfg),
        max_epochs=int(max_epochs if max_epochs is not None else _get(trainer_cfg, "max_epochs", 200)),
        max_steps=int(max_steps if max_steps is not None else _get(trainer_cfg, "max_steps", -1)),
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=bool(progress),
        callbacks=list(callbacks),
        **extra,
    )
