"""Hugging Face ``transformers`` vision encoders, e.g. the paper's BEiT
(``microsoft/beit-large-patch16-224-pt22k``, self-supervised on ImageNet-22k, no labels).

``model`` is a hub id or a local folder (config.json, preprocessor_config.json, weights);
``pretrained`` is the hub revision (``main``) or null for the same architecture randomly
initialised. ``weights: PATH`` loads a local checkpoint file (safetensors or a torch state dict)
into the architecture ``model`` names (``pretrained`` then only names those weights), matched by
name (a task model's ``<base_model_prefix>.`` keys are used, its heads dropped) or by position
(``weights_keys``), every shape checked. Features are the model's pooled output (BEiT: per its config, mean of patch tokens
or the CLS token); preprocessing follows the model's image processor (size, crop, mean, std)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cliffbench.backbones.open_clip_model import WEIGHT_ERRORS, missing_weights
from cliffbench.backbones.torch_backbone import Encoder, TorchBackbone

_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def _transform(processor):
    """torchvision equivalent of a transformers image processor (resize, crop, scale, normalise)."""
    import torchvision.transforms as T

    from cliffbench.image_inputs import RGB

    def hw(size):
        if isinstance(size, int):
            return size
        size = dict(size)
        if "height" in size:
            return (size["height"], size["width"])
        return size["shortest_edge"]

    interp = T.InterpolationMode(_RESAMPLE.get(int(getattr(processor, "resample", 3) or 3), "bicubic"))
    steps = [RGB()]
    if getattr(processor, "do_resize", True):
        steps.append(T.Resize(hw(processor.size), interpolation=interp))
    if getattr(processor, "do_center_crop", False):
        steps.append(T.CenterCrop(hw(processor.crop_size)))
    steps.append(T.ToTensor())
    if getattr(processor, "do_normalize", True):
        steps.append(T.Normalize(list(processor.image_mean), list(processor.image_std)))
    return T.Compose(steps)


def _pooled(model):
    import torch

    class Pooled(torch.nn.Module):
        """pixel_values -> the pooled output (CLS token when the model has no pooler)."""

        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            out = self.inner(pixel_values=pixel_values)
            pooled = getattr(out, "pooler_output", None)
            return pooled if pooled is not None else out.last_hidden_state[:, 0]

    return Pooled(model)


class HFVision(TorchBackbone):
    def __init__(self, name: str = "hf", model: str = "microsoft/beit-large-patch16-224-pt22k",
                 pretrained: str | None = "main", weights: str | None = None, weights_keys: str = "name",
                 batch_size: int = 128, num_workers: int = 0) -> None:
        super().__init__(name, batch_size, num_workers)
        self.model, self.pretrained = str(model), (None if pretrained is None else str(pretrained))
        self.weights, self.weights_keys = (None if weights is None else str(weights)), str(weights_keys)

    def feature_identity(self) -> dict[str, Any]:
        import transformers

        from cliffbench.backbones.checkpoint import weights_identity

        return {"kind": "transformers", "model": self.model, "pretrained": self.pretrained,
                **weights_identity(self), "transformers": transformers.__version__}

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "pretrained": self.pretrained, "weights": self.weights}

    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        from transformers import AutoConfig, AutoImageProcessor, AutoModel

        from cliffbench.backbones.hub import offline_unless_reachable

        weights_dir = str(paths.get("weights_dir"))
        tag = None if random_init else self.pretrained
        from_file = tag is not None and self.weights is not None
        revision = "main" if tag is None or from_file else tag
        try:
            with offline_unless_reachable():
                processor = AutoImageProcessor.from_pretrained(self.model, revision=revision, cache_dir=weights_dir)
                if tag is None or from_file:
                    config = AutoConfig.from_pretrained(self.model, revision=revision, cache_dir=weights_dir)
                    model = AutoModel.from_config(config)
                else:
                    model = AutoModel.from_pretrained(self.model, revision=revision, cache_dir=weights_dir)
        except WEIGHT_ERRORS as exc:
            raise missing_weights("transformers", self.model, revision, weights_dir, exc) from exc
        if from_file:
            self._load_file(model)
        dim = int(model.config.hidden_size)
        return Encoder(_pooled(model), _transform(processor), dim)

    def _load_file(self, model) -> None:
        """``weights`` into ``model``; a task model's checkpoint (keys ``<prefix>.*`` plus heads)
        gives its base model's tensors."""
        from cliffbench.backbones.checkpoint import load_weights, read_state_dict, resolve_weights

        path = resolve_weights(self.weights)
        state = read_state_dict(path)
        prefix = f"{getattr(model, 'base_model_prefix', '')}."
        if self.weights_keys == "name" and prefix != "." and any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        load_weights(model, path, by=self.weights_keys, state=state,
                     what=f"{path} does not fit transformers {type(model).__name__} ({self.model})")
