"""The two ways to run cliffbench from Python, on top of the runner and the report:

- ``run_job(cfg, job_dir)``: one job of the CLI from a composed config, on disk (cells, then the
  job's ``results.csv``, figure, printed table and logger record);
- ``run(method, data, grid=..., trials=...)``: the same n x trial loop in memory, no config and no
  files, returning the rows as a DataFrame (for notebooks, tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cliffbench.contract import Backbone, DataBundle, Dataset, Method, TrainerSettings
from cliffbench.datasets.base import check_bundle
from cliffbench.report.summary import finish_job, n_stats
from cliffbench.runner import check_task, check_trials, fill_cells, prepare_job, run_cells
from cliffbench.sampling import make_grid


def run_job(cfg, job_dir: str | Path, on_plan=None) -> Path:
    """Run one job into ``job_dir`` and return it. Raises :class:`CliffbenchError` on user errors.
    ``on_plan({"config_id", "grid", "trials"})`` is called once the job knows its cells."""
    job = prepare_job(cfg, job_dir)
    if on_plan is not None:
        on_plan({"config_id": job.store.config_id, "grid": job.grid, "trials": job.trials})
    job.logger.start(cfg, Path(job_dir), job.store.config_id)
    exit_code = 1
    try:
        fill_cells(job, on_n=lambda n: job.logger.log_n(n, n_stats(job.store.rows(n), job.trials)))
        finish_job(job.store, cfg, Path(job_dir), job.ctx.raw.meta, job.logger, job.grid, job.trials)
        exit_code = 0
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (errors.Interrupted)
        exit_code = getattr(exc, "exit_code", 130)
        raise
    finally:
        job.logger.finish(exit_code)
    return Path(job_dir)


class _Rows:
    """A store kept in memory: the rows written, and the ok cells among them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def claim(self, grid):
        return iter(grid)

    def finished(self, n: int | None = None) -> set[tuple[int, int]]:
        return {(r["n"], r["trial"]) for r in self.rows if r["status"] == "ok" and n in (None, r["n"])}

    def write(self, rows) -> None:
        self.rows.extend(rows)


def run(method: Method, data: Dataset | DataBundle, *, grid: Sequence[int] | None = None, trials: int = 10,
        seed: int = 0, sampling: str = "nested", backbone: Backbone | None = None,
        trainer: TrainerSettings | Mapping[str, Any] | None = None, paths: Mapping[str, Any] | None = None,
        progress: bool = False):
    """Run ``method`` on ``data`` over ``grid`` (default: 10 log-spaced n from 10 to the pool size)
    x ``trials``, with the CLI's subsets and seeds for the same ``seed`` and ``sampling``, and
    return one row per cell (``n``, ``trial``, ``test_error``, ``status``, metrics, ...).

    ``backbone`` defaults to the identity (the inputs are the features); ``trainer`` are the
    trained methods' settings (default: CPU); ``paths`` where a torch backbone caches features.
    """
    import pandas as pd

    from cliffbench.backbones.identity import Identity
    from cliffbench.contract import JobContext
    from cliffbench.trainer import as_settings

    check_trials(trials)
    raw = data.load() if isinstance(data, Dataset) else data
    name = getattr(data, "name", "data")
    check_bundle(raw, name)
    check_task(method, raw, name)
    n_grid = make_grid(list(grid) if grid is not None else None, pool_size=len(raw.pool))
    ctx = JobContext(raw, backbone or Identity(), dataset=name,
                     trainer=as_settings(trainer if trainer is not None else {"accelerator": "cpu"}),
                     paths=dict(paths or {}), progress=progress)
    store = _Rows()
    run_cells(method, ctx, store, n_grid, trials, int(seed), sampling, progress)
    return pd.DataFrame(store.rows).sort_values(["n", "trial"], ignore_index=True)
