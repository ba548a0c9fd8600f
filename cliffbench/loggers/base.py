"""The logger interface the runner calls, and the ``none`` logger."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class JobLogger:
    """Receives a job's start, its finished results and its end. The base class logs nothing."""

    def __init__(self, name: str = "none") -> None:
        self.name = name

    def start(self, cfg, job_dir: Path) -> None:
        """Called once before the first cell."""

    def log_job(self, df, paths: dict[str, Any], table: str) -> None:
        """Called once with the job's rows, its output files and its printed table."""

    def finish(self, exit_code: int) -> None:
        """Always called at the end of the job, with a non-zero code when it failed."""


NoLogger = JobLogger
