"""Weights & Biases: one run per job (never per trial), offline by itself when no API key is set."""

from __future__ import annotations

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


class WandbLogger(JobLogger):
    """Logs the config, the per-cell rows (as a ``wandb.Table``), the figure and summary numbers.

    ``mode``: ``auto`` (online with a key, else offline), ``online``, ``offline`` or ``disabled``.
    Offline runs are written under the job directory; upload them later with ``wandb sync``.
    """

    def __init__(self, name: str = "wandb", project: str = "cliffbench", entity: str | None = None,
                 group: str | None = None, tags: list[str] | None = None, mode: str = "auto",
                 job_type: str = "scaling-curve") -> None:
        super().__init__(name)
        self.project, self.entity, self.group, self.tags = project, entity, group, list(tags or [])
        self.mode, self.job_type = mode, job_type
        self.run = None

    def start(self, cfg, job_dir: Path) -> None:
        import wandb
        from omegaconf import OmegaConf

        mode = self.mode
        if mode == "auto":
            mode = "online" if has_api_key() else "offline"
            if mode == "offline":
                print(f"wandb: no API key configured, logging offline to {job_dir}/wandb "
                      f"(upload later with: wandb sync {job_dir}/wandb/offline-run-*)")
        os.environ.setdefault("WANDB_SILENT", "true")
        config = OmegaConf.to_container(cfg, resolve=True)
        name = f"{cfg.dataset.name}-{cfg.backbone.name}-{cfg.method.name}"
        self.run = wandb.init(project=self.project, entity=self.entity, group=self.group or cfg.get("name"),
                              tags=self.tags, job_type=self.job_type, name=name, config=config,
                              dir=str(job_dir), mode=mode, reinit="finish_previous")

    def log_job(self, df, paths: dict[str, Any], table: str) -> None:
        if self.run is None:
            return
        import wandb

        table_df = df.copy()
        for col in table_df.columns:
            if table_df[col].dtype == object:
                table_df[col] = table_df[col].astype(str)
        self.run.log({"cells": wandb.Table(dataframe=table_df)})
        for fig in paths.get("figures", []):
            if str(fig).endswith(".png"):
                self.run.log({"curves": wandb.Image(str(fig))})
        ok = df[df["status"] == "ok"]
        med = ok.groupby("n")["test_error"].median()
        for n, err in med.items():
            self.run.log({"n": int(n), "median_test_error": float(err)})
        self.run.summary.update({"cells_ok": int(len(ok)), "cells_failed": int((df["status"] != "ok").sum()),
                                 "final_n": int(med.index.max()) if len(med) else 0,
                                 "final_median_test_error": float(med.iloc[-1]) if len(med) else float("nan")})
        from cliffbench.report.api import fit_summary

        self.run.summary.update(fit_summary(df))
        self.run.save(str(paths["results"]), base_path=str(Path(paths["results"]).parent), policy="now")

    def summary(self, values: dict[str, Any]) -> None:
        """Add fitted numbers (or anything else) to the run summary."""
        if self.run is not None:
            self.run.summary.update(values)

    def finish(self, exit_code: int) -> None:
        if self.run is not None:
            self.run.finish(exit_code=exit_code)
            self.run = None
