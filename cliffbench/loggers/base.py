"""The logger interface the runner calls, and the ``none`` logger. Loggers only record numbers the
runner and the report computed; they never fit or resample anything themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class JobLogger:
    """Receives a job's start, each finished n, its finished results and its end. The base class
    logs nothing."""

    wants_fits = False  # True: the job's fitted numbers are computed and passed to log_job

    def __init__(self, name: str = "none") -> None:
        self.name = name

    def start(self, cfg, job_dir: Path, config_id: str) -> None:
        """Called once before the first cell; ``config_id`` names the job's curve for its life."""

    def log_n(self, n: int, stats: dict[str, float]) -> None:
        """Called after each n that ran: its median, q25, q75, min, max, trials, failed."""

    def log_job(self, df, paths: dict[str, Any], table: str, fits: dict[str, Any]) -> None:
        """Called once with the job's rows, output files, printed table and (if wanted) fits."""

    def finish(self, exit_code: int) -> None:
        """Always called at the end of the job: 0, 1 on errors, 130/143 on SIGINT/SIGTERM."""


NoLogger = JobLogger
