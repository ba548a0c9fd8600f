"""The typed schema of the root config: wrong types and unknown top-level keys fail at composition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional  # noqa: UP035 - OmegaConf needs typing generics

from omegaconf import MISSING


@dataclass
class GridSchema:
    n: Optional[List[int]] = None  # noqa: UP006,UP007
    min: int = 10
    max: Optional[int] = None  # noqa: UP007
    num: int = 10
    sampling: str = "nested"


@dataclass
class RootSchema:
    name: str = "default"
    label: Optional[str] = None  # noqa: UP007
    seed: int = 0
    trials: int = 10
    progress: bool = True
    grid: GridSchema = field(default_factory=GridSchema)
    dataset: Any = MISSING
    backbone: Any = MISSING
    method: Any = MISSING
    trainer: Any = None
    logger: Any = MISSING
    paths: Any = MISSING
    figure: Any = None  # options of the paper-style figure (cliffbench.report.toy_figures), or none


def register() -> None:
    """Make the schema available to the defaults list as ``cliffbench_schema``."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="cliffbench_schema", node=RootSchema)
