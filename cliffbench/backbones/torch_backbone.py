"""The base of backbones that are torch image encoders: ``build`` gives the module and its own
preprocessing (used by finetuning too); ``features`` extracts every split once through
``Trainer.predict`` and caches it on disk, so a cache hit never builds the model."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cliffbench.contract import Backbone, DataBundle, JobContext

log = logging.getLogger("cliffbench")


@dataclass
class Encoder:
    """A built backbone: ``module`` maps a batch of preprocessed images to (batch, ``dim``)
    embeddings; ``preprocess`` maps one raw input (PIL image or array) to a tensor.
    ``channels_last``: run it in channels-last memory format (convnets on CPU: several times faster)."""

    module: Any
    preprocess: Callable[[Any], Any]
    dim: int
    channels_last: bool = False


class TorchBackbone(Backbone):
    """A torch image encoder with cached feature extraction.

    ``batch_size`` and ``num_workers`` only change speed (they are not part of the job identity
    nor of the cache key).
    """

    trainable = True
    speed_only = ("batch_size", "num_workers")

    def __init__(self, name: str, batch_size: int = 256, num_workers: int = 0) -> None:
        super().__init__(name)
        self.batch_size, self.num_workers = int(batch_size), int(num_workers)

    @abstractmethod
    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        """The encoder and its preprocessing; ``random_init`` gives the same architecture untrained.
        ``paths`` is ``cfg.paths`` (``weights_dir``, ``cache_dir``)."""

    @abstractmethod
    def feature_identity(self) -> dict[str, Any]:
        """Everything about this backbone that changes its features (model, weights tag,
        preprocessing settings, library version), without building it."""

    def build_seeded(self, paths: Mapping[str, Any], random_init: bool = False, seed: int = 0) -> Encoder:
        """``build`` with torch's RNG seeded (and restored after), so randomly initialised weights,
        and hence their features and cache entries, are the same on every build."""
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.build(paths, random_init=random_init)

    def features(self, data: DataBundle, ctx: JobContext) -> DataBundle:
        from cliffbench.backbones.extract import extract_features
        from cliffbench.backbones.feature_cache import FeatureCache, split_fingerprint

        cache = FeatureCache(Path(ctx.paths["cache_dir"]) / "features")
        splits = {"pool": data.pool, "test": data.test}
        if data.val is not None:
            splits["val"] = data.val
        identity = self.feature_identity()
        out, todo = {}, {}
        for split_name, split in splits.items():
            key, facts = cache.key(identity, split_name, split_fingerprint(split.X, split.y))
            out[split_name] = cache.load(key, len(split))
            if out[split_name] is None:
                todo[split_name] = (key, facts)
            else:
                log.info("features of %s/%s: cache hit %s", self.name, split_name, cache.path(key))
        if todo:
            encoder = self.build_seeded(ctx.paths)
            for split_name, (key, facts) in todo.items():
                feats = extract_features(encoder, splits[split_name].X, settings=ctx.trainer,
                                         batch_size=self.batch_size, num_workers=self.num_workers,
                                         progress=ctx.progress,
                                         desc=f"{self.name}/{split_name}")
                path = cache.save(key, feats, facts)
                log.info("features of %s/%s cached in %s", self.name, split_name, path)
                out[split_name] = feats
        return data.with_inputs(out["pool"], out["test"], out.get("val"))
