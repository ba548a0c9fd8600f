"""A job's identity: the config keys that change results, as opposed to the speed-only ones.

One list decides both what the identity hash ignores (:func:`job_identity`, whose hash is the
``config_id`` of every row) and what the job directory name ignores (:func:`job_dirname`, the
``cb.job_dirname`` resolver in ``conf/hydra/default.yaml``), so that changing a speed-only key
resumes the same directory and the same cells. The list is :func:`speed_only_keys`: the global
keys below, ``TrainerSettings.speed_only`` and each configured plugin's own ``speed_only``.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cliffbench.contract import TrainerSettings

# Keys of the root config that never change a cell's result.
GLOBAL_SPEED_ONLY = ("name", "label", "trials", "progress", "logger", "paths", "hydra", "experiment",
                     "figure", "debug", "grid.n", "grid.min", "grid.max", "grid.num")
PLUGIN_GROUPS = ("dataset", "backbone", "method")


def plugin_speed_only(node: Mapping[str, Any] | None) -> tuple[str, ...]:
    """``speed_only`` of the class a config group node instantiates (none without a target)."""
    target = node.get("_target_") if isinstance(node, Mapping) else None
    if not target:
        return ()
    from hydra.utils import get_class

    return tuple(getattr(get_class(str(target)), "speed_only", ()))


def speed_only_keys(cfg: Mapping[str, Any]) -> list[str]:
    """Every dotted key of ``cfg`` that does not change results (a key also covers its sub-keys)."""
    keys = list(GLOBAL_SPEED_ONLY) + [f"trainer.{k}" for k in TrainerSettings.speed_only]
    for group in PLUGIN_GROUPS:
        keys += [f"{group}.{k}" for k in plugin_speed_only(cfg.get(group))]
    return keys


def is_speed_only(key: str, keys: Iterable[str]) -> bool:
    return any(key == k or key.startswith(k + ".") for k in keys)


def job_identity(cfg) -> dict[str, Any]:
    """The resolved config minus the speed-only keys: what makes two rows comparable."""
    from omegaconf import OmegaConf

    tree = OmegaConf.to_container(cfg, resolve=True) if not isinstance(cfg, dict) else copy.deepcopy(cfg)
    for dotted in speed_only_keys(tree):
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return tree


def override_key(line: str) -> str:
    """The dotted key (or group) an override line sets: ``+method.k=1`` -> ``method.k``."""
    return line.lstrip("~+").split("=", 1)[0].split("@", 1)[0].strip()


def job_dirname(overrides: Iterable[str], cfg: Mapping[str, Any]) -> str:
    """The job directory name: the command line's overrides that change results, sorted and joined
    with commas (as Hydra's ``override_dirname``), in safe characters and of bounded length."""
    keys = speed_only_keys(cfg)
    text = ",".join(sorted(line for line in overrides if not is_speed_only(override_key(line), keys)))
    if not text:
        return "defaults"
    safe = re.sub(r"[^A-Za-z0-9=,._+\-\[\]]+", "_", text)
    if len(safe) > 120:
        safe = safe[:100] + "-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    return safe


def dirname_resolver(overrides, *, _root_) -> str:
    """``${cb.job_dirname:${hydra.overrides.task}}``: :func:`job_dirname` of the composed config."""
    return job_dirname(list(overrides or []), _root_)
