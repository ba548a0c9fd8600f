"""OpenCLIP image towers (OpenAI and LAION CLIP models): ``model`` and ``pretrained`` are
open_clip's names (``open_clip.list_pretrained()``); ``pretrained: null`` builds the same
architecture randomly initialised. ``weights: PATH`` loads a local checkpoint file instead of a
hub tag (``pretrained`` then only names those weights): a whole CLIP model's state dict (its
``visual.*`` tensors are used) or the image tower's own, matched by name (or by position,
``weights_keys``), every shape checked. Features are the image embeddings (``encode_image``, not
normalised); preprocessing is open_clip's own evaluation transform for that model and tag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cliffbench.backbones.torch_backbone import Encoder, TorchBackbone
from cliffbench.errors import ConfigError, MissingResourceError

# Errors that mean "the weights could not be fetched or read" (hub offline, missing file, bad file).
WEIGHT_ERRORS = (OSError, RuntimeError, ConnectionError, ValueError)


def missing_weights(kind: str, model: str, tag: str, cache_dir: str, exc: BaseException) -> MissingResourceError:
    """The one-line error for pretrained weights that are not available here."""
    return MissingResourceError(
        f"{kind} weights for model {model!r} tag {tag!r} are not available (looked in cache dir {cache_dir}; "
        f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); run the same command once "
        f"on a machine with internet to download them into that dir (paths.weights_dir / env "
        f"CLIFFBENCH_WEIGHTS_DIR), then copy it here")


class OpenClip(TorchBackbone):
    def __init__(self, name: str = "open_clip", model: str = "ViT-B-32", pretrained: str | None = "openai",
                 weights: str | None = None, weights_keys: str = "name", batch_size: int = 256,
                 num_workers: int = 0) -> None:
        super().__init__(name, batch_size, num_workers)
        self.model, self.pretrained = str(model), (None if pretrained is None else str(pretrained))
        self.weights, self.weights_keys = (None if weights is None else str(weights)), str(weights_keys)

    def feature_identity(self) -> dict[str, Any]:
        import open_clip

        from cliffbench.backbones.checkpoint import weights_identity

        return {"kind": "open_clip", "model": self.model, "pretrained": self.pretrained,
                **weights_identity(self), "open_clip": open_clip.__version__}

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "pretrained": self.pretrained, "weights": self.weights}

    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        import open_clip

        if self.model not in open_clip.list_models():
            raise ConfigError(f"backbone.model={self.model!r} is not an open_clip model "
                              f"(see open_clip.list_models(), e.g. ViT-B-32, ViT-L-14, ViT-H-14)")
        from cliffbench.backbones.hub import offline_unless_reachable

        tag = None if random_init else self.pretrained
        from_file = tag is not None and self.weights is not None
        if tag is not None and not from_file and tag not in open_clip.list_pretrained_tags_by_model(self.model):
            tags = ", ".join(open_clip.list_pretrained_tags_by_model(self.model)) or "none"
            raise ConfigError(f"backbone.pretrained={tag!r} is not a tag of {self.model} (available: {tags}; "
                              f"or backbone.weights=PATH; or null for random init)")
        weights_dir = str(paths.get("weights_dir"))
        hub_tag = None if from_file else tag
        try:
            with offline_unless_reachable():
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.model, pretrained=hub_tag, cache_dir=weights_dir if hub_tag else None)
        except WEIGHT_ERRORS as exc:
            if hub_tag is None:
                raise
            raise missing_weights("open_clip", self.model, tag, weights_dir, exc) from exc
        visual = model.visual  # the text tower is not needed for image embeddings
        dim = int(getattr(visual, "output_dim", 0) or model.text_projection.shape[-1])
        del model
        if from_file:
            self._load_file(visual)
        return Encoder(visual, preprocess, dim)

    def _load_file(self, visual) -> None:
        """The image tower's tensors from ``weights``: ``visual.*`` of a whole CLIP state dict (the
        text tower's are not needed), or the file as the tower's own state dict."""
        from cliffbench.backbones.checkpoint import load_weights, read_state_dict, resolve_weights

        path = resolve_weights(self.weights)
        state = read_state_dict(path)
        if any(k.startswith("visual.") for k in state):
            state = {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
        load_weights(visual, path, by=self.weights_keys, state=state,
                     what=f"{path} does not fit the image tower of open_clip {self.model}")
