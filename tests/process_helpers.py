"""Running ``cliffbench`` as real background processes (signals, two writers at once)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO


def start_cli(*args: str) -> subprocess.Popen:
    """``cliffbench ARGS`` in the background, with the tests' helper methods importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    exe = Path(sys.executable).with_name("cliffbench")
    return subprocess.Popen([str(exe), *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def computed(log: Path) -> list[tuple[int, int, int]]:
    """(pid, n, trial) of every cell the slow method computed, in order."""
    if not log.exists():
        return []
    return [tuple(int(v) for v in line.split()) for line in log.read_text().splitlines() if line.strip()]


def wait_for_cells(log: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Block until the slow method has computed ``count`` cells (or the process ended)."""
    end = time.monotonic() + timeout
    while len(computed(log)) < count and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    assert len(computed(log)) >= count, f"only {len(computed(log))} cells: {proc.communicate()}"
