"""Hydra callbacks, registered once in ``conf/hydra/default.yaml``: after a multirun, one table and
one figure for the whole sweep (``SweepSummary``), built from the cells this request asked for (its
jobs, their grid and trials) - never from older runs of other jobs or other trial counts that share
the sweep directory; after a run or sweep whose config sets ``figure:`` (the toy presets), the
paper-style figure (``PaperFigure``)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from cliffbench.app import JobRecord


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"status": "running"}


def request_cells(sweep_dir: Path, token: str):
    """(rows of the current request, {job_dir: problem}) from the jobs' records of ``token``;
    an incomplete job's curve is labelled as such."""
    import pandas as pd

    from cliffbench.results.load import load

    frames, problems = [], {}
    for path in sorted(sweep_dir.rglob(f".requests/{token}.json")):
        job_dir, doc = path.parent.parent, _read(path)
        if doc.get("status") == "failed":
            problems[job_dir] = doc.get("error", "failed")
        if "config_id" not in doc:
            continue
        df = load(job_dir)
        if len(df):
            df = df[(df["config_id"] == doc["config_id"]) & df["n"].isin(doc["grid"]) & (df["trial"] < doc["trials"])]
        expected, ok = len(doc["grid"]) * doc["trials"], int((df["status"] == "ok").sum()) if len(df) else 0
        if ok < expected or doc.get("status") != "done":
            df = df.assign(label=df["label"] + f" (incomplete: {ok}/{expected} cells)") if len(df) else df
            problems.setdefault(job_dir, f"incomplete: {ok} of {expected} cells finished "
                                         f"(status {doc.get('status')}); rerun the sweep to complete it")
        frames.append(df)
    frames = [f for f in frames if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), problems


class SweepSummary(Callback):
    """Writes ``results.csv`` and ``curves.png/pdf`` at the sweep root, prints the table, names
    every failed or incomplete job, and ends with exit code 1 when there is one."""

    def __init__(self) -> None:
        self.token: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.token = uuid.uuid4().hex
        os.environ[JobRecord.ENV] = self.token  # the jobs (also in launcher workers) read it

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from cliffbench.report.summary import format_table, write_outputs
        from cliffbench.results.load import reference_lines

        sweep_dir = Path(config.hydra.sweep.dir)
        if self.token is None or not sweep_dir.exists():
            return
        df, problems = request_cells(sweep_dir, self.token)
        if len(df):
            try:
                paths = write_outputs(df, sweep_dir, f"sweep {sweep_dir.name}", reference_lines(sweep_dir))
                print(f"\n=== sweep {sweep_dir} ===\n{format_table(df)}\n")
                print(f"sweep results: {paths['results']}\nsweep figure:  {paths['figures'][0]}")
            except OSError as exc:
                print(f"cliffbench: error: cannot write the sweep summary into {sweep_dir}: "
                      f"{exc.strerror or exc}", file=sys.stderr)
                problems.setdefault(sweep_dir, "sweep summary not written")
        for job_dir, problem in problems.items():
            print(f"job {job_dir}: {problem}", file=sys.stderr)
        if problems:
            sys.exit(1)


class PaperFigure(Callback):
    """Draws ``paper_figure.png/pdf`` at the end of a run or sweep when the config's ``figure``
    is set (its keys are :func:`cliffbench.report.toy_figures.draw_paper_figure`'s options)."""

    def _draw(self, config: DictConfig, out_dir: str) -> None:
        options = config.get("figure")
        if not options:
            return
        from cliffbench.report.toy_figures import draw_paper_figure

        paths = draw_paper_figure(Path(out_dir), **OmegaConf.to_container(options, resolve=True))
        if paths:
            print(f"paper figure:  {paths[0]}")

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._draw(config, config.hydra.run.dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._draw(config, config.hydra.sweep.dir)
