"""Runs one job: one (dataset, backbone, method) over the n-grid x trials, cell rows persisted as
they finish. :func:`run_cells` is the n x trial loop, shared with the in-memory entry point
:func:`cliffbench.api.run`; the job's end (table, figure, logger) belongs to the report and is
called by :func:`cliffbench.api.run_job`."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from cliffbench.contract import CellBatch, JobContext, Outcome, TrainerSettings
from cliffbench.datasets.base import check_bundle
from cliffbench.errors import CliffbenchError, ConfigError
from cliffbench.identity import job_identity
from cliffbench.results.store import CellStore
from cliffbench.sampling import SubsetSampler, make_grid, trial_seed

log = logging.getLogger("cliffbench")


def check_trials(trials: Any) -> int:
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"trials must be a positive integer, got {trials!r}")
    return trials


def check_task(method, raw, dataset: str) -> None:
    if raw.task not in method.tasks:
        raise ConfigError(f"method={method.name} does not support {raw.task} (dataset={dataset})")


def _outcome_row(o: Outcome, batch: CellBatch, seed: int, seconds: float) -> dict[str, Any]:
    status, message = o.status, o.message
    err = float(o.test_error) if o.test_error is not None else math.nan
    if status == "ok" and not math.isfinite(err):
        status, message = "failed", (message + "; " if message else "") + f"test error is {err}"
    pos = int(np.flatnonzero(batch.trials == o.trial)[0])
    return {"n": batch.n, "trial": int(o.trial), "seed": seed, "trial_seed": int(batch.seeds[pos]),
            "test_error": err, "status": status, "message": message, "seconds": seconds,
            "finished_at": datetime.now(timezone.utc).isoformat(), **o.metrics}


def _failed_rows(batch: CellBatch, trials: set[int], seed: int, exc: BaseException) -> list[dict[str, Any]]:
    msg = f"{type(exc).__name__}: {exc}".strip()[:2000]
    return [_outcome_row(Outcome(t, math.nan, status="failed", message=msg), batch, seed, 0.0)
            for t in sorted(trials)]


def run_cells(method, ctx: JobContext, store, grid: list[int], trials: int, seed: int,
              sampling: str, progress: bool = True, on_n=None) -> None:
    """The n x trial loop: each n's pending trials go to the method at once; rows are persisted as
    the method yields them; an exception fails the cells it left unfinished and the loop goes on.
    Each n runs under the store's claim (another process on the same job takes other n's), and
    ``on_n(n)`` follows each n that ran.

    ``store`` has ``claim(grid) -> iterator of n``, ``finished(n=None) -> {(n, trial)}`` and
    ``write(rows)`` (a :class:`CellStore`, or rows kept in memory)."""
    from cliffbench.progress import job_bar

    done = store.finished()
    total = len(grid) * trials
    labels = ctx.raw.pool.y if ctx.task == "classification" else None
    sampler = SubsetSampler(grid, pool_size=len(ctx.raw.pool), seed=seed, sampling=sampling, labels=labels)
    bar = job_bar(total, sum(1 for n in grid for t in range(trials) if (n, t) in done),
                  f"{ctx.dataset}/{ctx.backbone.name}/{method.name}", progress)
    with bar:
        for n in store.claim(grid):
            now = store.finished(n)  # again under the lock: another process may have run them
            bar.update(sum(1 for _, t in now - done if t < trials))
            pending = [t for t in range(trials) if (n, t) not in now]
            if not pending:
                continue
            index = sampler.rows(n, pending)
            batch = CellBatch(n, np.asarray(pending), np.asarray([trial_seed(seed, t) for t in pending]), index)
            left = set(pending)
            t0 = time.perf_counter()
            try:
                for outcomes in method.run(batch, ctx):
                    seconds = (time.perf_counter() - t0) / max(len(outcomes), 1)
                    rows = [_outcome_row(o, batch, seed, seconds) for o in outcomes if o.trial in left]
                    store.write(rows)
                    left -= {r["trial"] for r in rows}
                    bar.update(len(rows))
                    t0 = time.perf_counter()
                if left:
                    raise RuntimeError(f"method {method.name} returned no result for trials {sorted(left)}")
            except CliffbenchError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed cell is a row, never a crashed sweep
                log.warning("n=%d: %d cell(s) failed: %s: %s", n, len(left), type(exc).__name__, exc)
                store.write(_failed_rows(batch, left, seed, exc))
                bar.update(len(left))
            if on_n is not None:
                on_n(n)


def build(node: DictConfig):
    """``instantiate`` a config group node; user errors raised by its constructor surface as they are."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(node, _convert_="all")
    except InstantiationException as exc:
        if isinstance(exc.__cause__, CliffbenchError):
            raise exc.__cause__ from None
        unknown = _unknown_keys(node)
        if unknown:
            group = node._key() or "config"
            keys = ", ".join(unknown)
            raise ConfigError(
                f"{group}={node.get('name', '?')} takes no {keys} (set for another {group}, e.g. by an experiment "
                f"preset): remove with {' '.join(f'~{group}.{k}' for k in unknown)} or choose the {group} they are for"
            ) from None
        raise


def _unknown_keys(node: DictConfig) -> list[str]:
    """Keys of ``node`` its ``_target_``'s constructor does not accept (none when it takes **kwargs)."""
    import inspect

    from hydra.utils import get_class

    try:
        params = inspect.signature(get_class(node._target_)).parameters
    except Exception:  # noqa: BLE001 - no target to inspect: nothing to say
        return []
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    return [k for k in node if not str(k).startswith("_") and k not in params]


@dataclass
class Job:
    """One job, built from its config and ready to fill its cells."""

    method: Any
    logger: Any
    ctx: JobContext
    store: CellStore
    grid: list[int]
    trials: int
    seed: int
    sampling: str
    progress: bool


def context(cfg: DictConfig, raw, backbone, job_dir: Path | None = None) -> JobContext:
    """The narrow job context plugins see, from the composed config."""
    paths = cfg.get("paths")
    return JobContext(raw, backbone, dataset=str(cfg.dataset.name),
                      trainer=TrainerSettings.from_mapping(cfg.get("trainer")),
                      paths=OmegaConf.to_container(paths, resolve=True) if paths is not None else {},
                      progress=bool(cfg.get("progress", False)), job_dir=job_dir)


def prepare_job(cfg: DictConfig, job_dir: str | Path) -> Job:
    """Build dataset, backbone, method and logger, load the data, check the grid, open the store.
    Raises :class:`CliffbenchError` on user errors."""
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    trials = check_trials(cfg.trials)
    dataset, backbone, method, logger = (build(cfg[g]) for g in ("dataset", "backbone", "method", "logger"))
    raw = dataset.load()
    check_bundle(raw, dataset.name)
    check_task(method, raw, dataset.name)
    grid = make_grid(cfg.grid.n, cfg.grid.min, cfg.grid.max, cfg.grid.num, pool_size=len(raw.pool))
    ctx = context(cfg, raw, backbone, job_dir)
    identity = job_identity(cfg)
    if dataset.fingerprint() is not None:  # data read from disk: its content is part of the identity
        identity["dataset"]["fingerprint"] = dataset.fingerprint()
    store = CellStore(job_dir, identity, label=cfg.get("label"), meta=raw.meta)
    return Job(method, logger, ctx, store, grid, trials, int(cfg.seed), str(cfg.grid.sampling), bool(cfg.progress))


def fill_cells(job: Job, on_n=None) -> None:
    """Extract features once when the method needs them, then run every pending cell (``on_n(n)``
    after each n that ran)."""
    log.info("job %s: grid %s x %d trials -> %s", job.store.config_id, job.grid, job.trials, job.ctx.job_dir)
    if job.method.needs_features:
        job.ctx.features  # noqa: B018 - extract once, before any cell, so extraction errors end the job
    run_cells(job.method, job.ctx, job.store, job.grid, job.trials, job.seed, job.sampling, job.progress, on_n)
