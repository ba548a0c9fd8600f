"""Which torch device a batched probe runs on: ``method.device`` if set, else ``trainer.accelerator``
(``auto`` = CUDA when available, else CPU)."""

from __future__ import annotations

from typing import Any

from cliffbench.errors import ConfigError


def resolve_device(method_device: str | None, cfg: Any = None):
    """A ``torch.device`` from ``method.device`` (auto|cpu|cuda|cuda:N|gpu) or the trainer's accelerator."""
    import torch

    choice = method_device
    if choice in (None, "", "auto") and cfg is not None and cfg.get("trainer") is not None:
        choice = cfg.trainer.get("accelerator", "auto")
    choice = str(choice or "auto").lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "gpu":
        choice = "cuda"
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {choice!r} requested (method.device / trainer.accelerator) but CUDA "
                          f"is not available; use cpu or auto")
    try:
        return torch.device(choice)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {choice!r} in method.device / trainer.accelerator "
                          f"(use auto, cpu, cuda or cuda:N)") from exc
