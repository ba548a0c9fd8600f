"""Shared test setup: every test writes into its own temporary output/cache directories and never
talks to W&B servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = str(REPO / "conf")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIFFBENCH_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("CLIFFBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CLIFFBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    yield


@pytest.fixture
def compose_cfg():
    """Compose the real config tree through Hydra's compose API."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from cliffbench.app import register_resolvers

    register_resolvers()

    def _compose(overrides=(), hydra_cfg=False):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=hydra_cfg)

    yield _compose
    GlobalHydra.instance().clear()


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600):
    """Run the installed ``cliffbench`` console script in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    exe = Path(sys.executable).with_name("cliffbench")
    return subprocess.run([str(exe), *args], cwd=cwd or REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
