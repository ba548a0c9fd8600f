"""timm image models: ``model`` is timm's architecture name and ``pretrained`` its weights tag
(``timm.list_pretrained('vit_base*')`` shows ``<model>.<tag>``); ``pretrained: null`` builds the
architecture randomly initialised. ``weights: PATH`` loads a local checkpoint file instead of a
hub tag (``pretrained`` then only names those weights), matched to timm's keys by name or, for
files saved under another library's names, by position (``weights_keys``), every shape checked.

Features are the pooled pre-logits embeddings (``num_classes=0``); preprocessing is timm's
evaluation transform from the model's data config, with ``image_size``, ``mean``, ``std`` and
``crop_pct`` overriding it when set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cliffbench.backbones.open_clip_model import WEIGHT_ERRORS, missing_weights
from cliffbench.backbones.torch_backbone import Encoder, TorchBackbone
from cliffbench.errors import ConfigError


def _is_linear_head(dim: int, prefix: str | None = None):
    """Predicate on checkpoint tensors: part of a linear classifier on ``dim`` features (weight
    (K, dim) or a bias vector), under ``prefix`` when given (matching by name)."""

    def check(key: str, tensor: Any) -> bool:
        if prefix is not None and not key.startswith(prefix + "."):
            return False
        return (tensor.ndim == 2 and int(tensor.shape[1]) == dim) or tensor.ndim == 1

    return check


class Timm(TorchBackbone):
    def __init__(self, name: str = "timm", model: str = "vit_base_patch16_224", pretrained: str | None = None,
                 weights: str | None = None, weights_keys: str = "name", image_size: int | None = None,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 crop_pct: float | None = None, batch_size: int = 256, num_workers: int = 0) -> None:
        super().__init__(name, batch_size, num_workers)
        self.model, self.pretrained = str(model), (None if pretrained is None else str(pretrained))
        self.weights, self.weights_keys = (None if weights is None else str(weights)), str(weights_keys)
        self.image_size = None if image_size is None else int(image_size)
        self.mean = None if mean is None else tuple(float(m) for m in mean)
        self.std = None if std is None else tuple(float(s) for s in std)
        self.crop_pct = None if crop_pct is None else float(crop_pct)

    def _preprocess_overrides(self) -> dict[str, Any]:
        args = {"mean": self.mean, "std": self.std, "crop_pct": self.crop_pct,
                "input_size": None if self.image_size is None else (3, self.image_size, self.image_size)}
        return {k: v for k, v in args.items() if v is not None}

    def feature_identity(self) -> dict[str, Any]:
        import timm

        from cliffbench.backbones.checkpoint import weights_identity

        return {"kind": "timm", "model": self.model, "pretrained": self.pretrained, **weights_identity(self),
                "preprocess": self._preprocess_overrides(), "timm": timm.__version__}

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "pretrained": self.pretrained, "weights": self.weights}

    def build_full(self, paths: Mapping[str, Any], random_init: bool = False, head: bool = True):
        """The timm model and its evaluation transform; with ``head``, its classifier too (a
        checkpoint file's, when the file has one, or the tag's)."""
        import timm
        import torchvision.transforms as T
        from timm.data import create_transform, resolve_data_config

        from cliffbench.backbones.hub import offline_unless_reachable
        from cliffbench.image_inputs import RGB

        if not timm.is_model(self.model):
            raise ConfigError(f"backbone.model={self.model!r} is not a timm model (see timm.list_models())")
        tag = None if random_init else self.pretrained
        if tag is not None and self.weights is not None:
            model = self._from_file()
        else:
            full = f"{self.model}.{tag}" if tag else self.model
            if tag is not None and full not in timm.list_pretrained(f"{self.model}.*"):
                tags = ", ".join(t.split(".", 1)[1] for t in timm.list_pretrained(f"{self.model}.*")) or "none"
                raise ConfigError(f"backbone.pretrained={tag!r} is not a timm tag of {self.model} "
                                  f"(available: {tags}; or backbone.weights=PATH; or null for random init)")
            weights_dir = str(paths.get("weights_dir"))
            try:
                with offline_unless_reachable():
                    model = timm.create_model(full, pretrained=tag is not None,
                                              cache_dir=weights_dir if tag else None,
                                              **({} if head else {"num_classes": 0}))
            except WEIGHT_ERRORS as exc:
                if tag is None:
                    raise
                raise missing_weights("timm", self.model, tag, weights_dir, exc) from exc
        config = resolve_data_config(self._preprocess_overrides(), model=model)
        return model, T.Compose([RGB(), create_transform(**config, is_training=False)])

    def _from_file(self):
        """The architecture randomly initialised, then every tensor of the checkpoint loaded into it
        (a trailing linear classifier in the file is loaded when the model has a matching head)."""
        import timm

        from cliffbench.backbones.checkpoint import fit_state_dict, read_state_dict, resolve_weights

        path = resolve_weights(self.weights)
        state = read_state_dict(path)
        trunk = timm.create_model(self.model, pretrained=False, num_classes=0)
        dim = int(trunk.num_features)
        head_prefix = str(trunk.pretrained_cfg.get("classifier") or "head")
        by_name = self.weights_keys == "name"
        head_check = _is_linear_head(dim, head_prefix if by_name else None)
        what = f"{path} does not fit timm {self.model}"
        fitted = fit_state_dict(trunk.state_dict(), state, by=self.weights_keys, what=what, ignore=head_check)
        trunk.load_state_dict(fitted, strict=True)
        head = ({k: v for k, v in state.items() if k.startswith(head_prefix + ".") and head_check(k, v)} if by_name
                else {k: state[k] for k in list(state)[len(fitted):]})
        weight = next((v for v in head.values() if v.ndim == 2), None)
        if weight is None:
            return trunk
        trunk.reset_classifier(int(weight.shape[0]))
        classifier = trunk.get_classifier()
        bias = next((v for v in head.values() if v.ndim == 1), None)
        if (tuple(classifier.weight.shape) != tuple(weight.shape) or (bias is None) != (classifier.bias is None)
                or (bias is not None and tuple(bias.shape) != (int(weight.shape[0]),))):
            raise ConfigError(f"backbone.weights: {what}: its classifier {tuple(weight.shape)} is not a linear "
                              f"layer on the {dim} features")
        classifier.load_state_dict({"weight": weight, **({"bias": bias} if bias is not None else {})})
        return trunk

    def build(self, paths: Mapping[str, Any], random_init: bool = False) -> Encoder:
        model, transform = self.build_full(paths, random_init=random_init, head=False)
        model.reset_classifier(0)  # a checkpoint file's classifier is not part of the features
        return Encoder(model, transform, int(model.num_features), channels_last=True)
