"""A sweep-level W&B run for a report: its tables, figures and every curve's fitted numbers.
Online when an API key is configured, otherwise offline under the report directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cliffbench.report.api import ReportResult


def summary_values(res: ReportResult) -> dict[str, Any]:
    """Per curve ``<label>/alpha``, ``<label>/E`` ... (with CIs) and cliff counts."""
    out: dict[str, Any] = {}
    for _, row in res.summary.iterrows():
        for key in ("alpha", "alpha_lo", "alpha_hi", "E", "E_lo", "E_hi", "A", "rmse_log",
                    "bnsl_break_n", "cliffs", "cliff_intervals"):
            value = row[key]
            out[f"{row['label']}/{key}"] = value.item() if hasattr(value, "item") else value
    return out


def log_report(res: ReportResult, source: str | Path, out_dir: str | Path, project: str = "cliffbench",
               mode: str = "auto") -> str:
    """Log ``res`` as one run (job_type ``report``); returns the run's directory or URL."""
    import wandb

    from cliffbench.loggers.wandb import has_api_key

    if mode == "auto":
        mode = "online" if has_api_key() else "offline"
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
