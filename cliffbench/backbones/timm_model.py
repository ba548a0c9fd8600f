"""timm image models: ``model`` is timm's architecture name and ``pretrained`` its weights tag
(``timm.list_pretrained('vit_base*')`` shows ``<model>.<tag>``); ``pretrained: null`` builds the
architecture randomly initialised. Features are the pooled pre-logits embeddings (``num_classes=0``);
preprocessing is timm's evaluation transform from the model's data config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cliffbench.backbones.open_clip_model import WEIGHT_ERRORS, missing_weights
from cliffbench.backbones.torch_backbone import Encoder, TorchBackbone
from cliffbench.errors import ConfigError


class Timm(TorchBackbone):
    def __init__(self, name: str = "timm", model: str = "vit_base_patch16_224", pretrained: str | None = None,
                 batch_size: int = 256, num_workers: int = 0) -> None:
        super().__init__(name, batch_size, num_workers)
        self.model, self.pretrained = str(model), (None if pretrained is None else str(pretrained))

    def feature_identity(self) -> dict[str, Any]:
        import timm

        return {"kind": "timm", "model": self.model, "pretrained": self.pretrained, "timm": timm.__version__}

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "pretrained": self.pretrained}

    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        import timm
        import torchvision.transforms as T
        from timm.data import create_transform, resolve_data_config

        from cliffbench.image_inputs import RGB

        if not timm.is_model(self.model):
            raise ConfigError(f"backbone.model={self.model!r} is not a timm model (see timm.list_models())")
        tag = None if random_init else self.pretrained
        full = f"{self.model}.{tag}" if tag else self.model
        if tag is not None and full not in timm.list_pretrained(f"{self.model}.*"):
            tags = ", ".join(t.split(".", 1)[1] for t in timm.list_pretrained(f"{self.model}.*")) or "none"
            raise ConfigError(f"backbone.pretrained={tag!r} is not a timm tag of {self.model} "
                              f"(available: {tags}; or null for random init)")
        weights_dir = str(paths.get("weights_dir"))
        try:
            model = timm.create_model(full, pretrained=tag is not None, num_classes=0,
                                      cache_dir=weights_dir if tag else None)
        except WEIGHT_ERRORS as exc:
            if tag is None:
                raise
            raise missing_weights("timm", self.model, tag, weights_dir, exc) from exc
        transform = create_transform(**resolve_data_config({}, model=model), is_training=False)
        return Encoder(model, T.Compose([RGB(), transform]), int(model.num_features))
