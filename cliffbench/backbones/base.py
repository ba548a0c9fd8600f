"""The backbone interface: raw inputs in, one feature matrix per split out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cliffbench.datasets.base import DataBundle
    from cliffbench.runner import JobContext


class Backbone(ABC):
    """Base of all backbones. ``features`` is called at most once per job."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def features(self, data: DataBundle, ctx: JobContext) -> DataBundle:
        """The same bundle with each split's inputs replaced by a 2-D float feature array."""

    def describe(self) -> dict[str, Any]:
        """Extra facts about the backbone worth recording with the results (e.g. feature width)."""
        return {}
