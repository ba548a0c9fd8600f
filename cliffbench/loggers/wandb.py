"""Weights & Biases, the one module that talks to it: a job's run (``logger=wandb``) and the
report's sweep-level run (``cliffbench-report --wandb``). Online with an API key, else offline.

A job has one run for its whole life: the run id is derived from the job's identity and its
directory, and ``resume="allow"`` continues that run when the job is rerun or resumed, so a
dashboard shows one line per curve. Each n's median, quartiles and range are logged as the n
finishes, plotted against ``n`` (``define_metric``); the cells table, figure and fits at the end.
"""

from __future__ import annotations

import hashlib
import logging
import netrc
import os
from pathlib import Path
from typing import Any

from cliffbench.loggers.base import JobLogger

log = logging.getLogger("cliffbench")


def has_api_key() -> bool:
    """True when W&B could authenticate: WANDB_API_KEY or a netrc entry for the W&B host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0]
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def resolve_mode(mode: str) -> str:
    """``auto`` -> online with an API key, offline without; other modes unchanged."""
    if mode == "auto":
        return "online" if has_api_key() else "offline"
    return mode


def job_run_id(config_id: str, job_dir: Path) -> str:
    """The W&B run id of a job: stable across reruns of the same job, distinct between jobs."""
    return hashlib.sha256(f"{config_id}\0{Path(job_dir).resolve()}".encode()).hexdigest()[:16]


def _table(df):
    import wandb

    df = df.copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype(str)
    return wandb.Table(dataframe=df)


class WandbLogger(JobLogger):
    """One run per job. ``mode``: ``auto`` (online with a key, else offline), ``online``,
    ``offline`` or ``disabled``. Offline runs are written under the job directory; upload them
    later with ``wandb sync`` (the runs of one job all carry the same id, so they land in one run).
    """

    wants_fits = True

    def __init__(self, name: str = "wandb", project: str = "cliffbench", entity: str | None = None,
                 group: str | None = None, tags: list[str] | None = None, mode: str = "auto",
                 job_type: str = "scaling-curve") -> None:
        super().__init__(name)
        self.project, self.entity, self.group, self.tags = project, entity, group, list(tags or [])
        self.mode, self.job_type = mode, job_type
        self.run = None

    def start(self, cfg, job_dir: Path, config_id: str) -> None:
        import wandb
        from omegaconf import OmegaConf

        mode = resolve_mode(self.mode)
        if mode == "offline" and self.mode == "auto":
            print(f"wandb: no API key configured, logging offline to {job_dir}/wandb "
                  f"(upload later with: wandb sync {job_dir}/wandb/offline-run-*)")
        os.environ.setdefault("WANDB_SILENT", "true")
        config = {**OmegaConf.to_container(cfg, resolve=True), "config_id": config_id}
        name = f"{cfg.dataset.name}-{cfg.backbone.name}-{cfg.method.name}"
        self.run = wandb.init(project=self.project, entity=self.entity, group=self.group or cfg.get("name"),
                              tags=self.tags, job_type=self.job_type, name=name, config=config,
                              dir=str(job_dir), mode=mode, id=job_run_id(config_id, job_dir),
                              resume="allow", reinit="finish_previous", allow_val_change=True)
        self.run.define_metric("n")
        self.run.define_metric("test_error/*", step_metric="n")
        self.run.define_metric("trials_ok", step_metric="n")
        self.run.define_metric("trials_failed", step_metric="n")

    def log_n(self, n: int, stats: dict[str, float]) -> None:
        if self.run is None:
            return
        values = {f"test_error/{k}": stats[k] for k in ("median", "q25", "q75", "min", "max") if k in stats}
        self.run.log({"n": int(n), **values, "trials_ok": stats.get("trials", 0),
                      "trials_failed": stats.get("failed", 0)})

    def log_job(self, df, paths: dict[str, Any], table: str, fits: dict[str, Any]) -> None:
        if self.run is None:
            return
        import wandb

        logged = {"cells": _table(df)}
        for fig in paths.get("figures", []):
            if str(fig).endswith(".png"):
                logged["curves"] = wandb.Image(str(fig))
        self.run.log(logged)
        ok = df[df["status"] == "ok"]
        med = ok.groupby("n")["test_error"].median()
        self.run.summary.update({"cells_ok": int(len(ok)), "cells_failed": int((df["status"] != "ok").sum()),
                                 "final_n": int(med.index.max()) if len(med) else 0,
                                 "final_median_test_error": float(med.iloc[-1]) if len(med) else float("nan"),
                                 **fits})
        self.run.save(str(paths["results"]), base_path=str(Path(paths["results"]).parent), policy="now")

    def finish(self, exit_code: int) -> None:
        if self.run is None:
            return
        if exit_code == 143 and hasattr(self.run, "mark_preempting"):
            self.run.mark_preempting()  # SIGTERM: what SLURM sends on preemption or timeout
        self.run.finish(exit_code=exit_code)
        self.run = None


def summary_values(res) -> dict[str, Any]:
    """A report's per-curve numbers: ``<label>/alpha``, ``<label>/E`` ... (with CIs), cliff counts."""
    out: dict[str, Any] = {}
    for _, row in res.summary.iterrows():
        for key in ("alpha", "alpha_lo", "alpha_hi", "E", "E_lo", "E_hi", "A", "rmse_log",
                    "bnsl_break_n", "cliffs", "cliff_intervals"):
            value = row[key]
            out[f"{row['label']}/{key}"] = value.item() if hasattr(value, "item") else value
    return out


def log_report(res, source: str | Path, out_dir: str | Path, project: str = "cliffbench",
               mode: str = "auto") -> str:
    """Log a :class:`cliffbench.report.api.ReportResult` as one run (job_type ``report``): its
    tables, figures and every curve's fitted numbers. Returns the run's directory or URL."""
    import wandb

    mode = resolve_mode(mode)
    os.environ.setdefault("WANDB_SILENT", "true")
    run = wandb.init(project=project, job_type="report", name=f"report-{Path(source).resolve().name}",
                     dir=str(out_dir), mode=mode, config={"source": str(source), "targets": res.targets},
                     reinit="finish_previous")
    try:
        for name in ("summary", "cliffs", "efficiency", "multipliers"):
            table = getattr(res, name)
            if len(table):
                run.log({name: wandb.Table(dataframe=table.astype(str))})
        for fig in res.paths.get("figures", []):
            if str(fig).endswith(".png"):
                run.log({Path(fig).stem: wandb.Image(str(fig))})
        run.summary.update(summary_values(res))
        where = run.url if mode == "online" else str(Path(run.dir).parent)
    finally:
        run.finish()
    return where
