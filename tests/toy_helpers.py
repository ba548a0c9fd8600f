"""Helpers for the toy tests: a job context on the toy data, and errors per n from ``cliffbench.run``."""

from __future__ import annotations

import numpy as np

from cliffbench.backbones.identity import Identity
from cliffbench.contract import JobContext, TrainerSettings


def make_ctx(dataset, tmp_path, **trainer) -> JobContext:
    """The context the runner gives a method on ``dataset`` (identity backbone, CPU)."""
    return JobContext(dataset.load(), Identity(), dataset=dataset.name, job_dir=tmp_path,
                      trainer=TrainerSettings(accelerator="cpu", **trainer))


def errors_by_n(df) -> dict[int, np.ndarray]:
    """{n: test errors of trials 0, 1, ...} of the rows ``cliffbench.run`` returned (all ok)."""
    assert (df["status"] == "ok").all(), df.loc[df["status"] != "ok", "message"].tolist()
    return {int(n): rows.sort_values("trial")["test_error"].to_numpy() for n, rows in df.groupby("n")}


def loglog_slope(ns, values) -> float:
    return float(np.polyfit(np.log(np.asarray(ns, float)), np.log(np.asarray(values, float)), 1)[0])
