"""Helpers for the toy tests: run a method over an n-grid without the CLI."""

from __future__ import annotations

import numpy as np

from cliffbench.backbones.identity import Identity
from cliffbench.contract import CellBatch, JobContext, TrainerSettings
from cliffbench.sampling import trial_seed, trial_subsets


def make_ctx(dataset, tmp_path, **trainer) -> JobContext:
    return JobContext(dataset.load(), Identity(), dataset=dataset.name, job_dir=tmp_path,
                      trainer=TrainerSettings(accelerator="cpu", **trainer))


def run_grid(method, ctx: JobContext, grid, trials: int, seed: int = 0) -> dict[int, np.ndarray]:
    """{n: test errors of trials 0..trials-1}, subsets drawn as the runner draws them."""
    out = {}
    for n in grid:
        index = np.stack([trial_subsets([n], pool_size=len(ctx.raw.pool), seed=seed, trial=t)[n]
                          for t in range(trials)])
        batch = CellBatch(n, np.arange(trials), np.array([trial_seed(seed, t) for t in range(trials)]), index)
        errors = {o.trial: o.test_error for outs in method.run(batch, ctx) for o in outs}
        out[n] = np.array([errors[t] for t in range(trials)])
    return out


def loglog_slope(ns, values) -> float:
    return float(np.polyfit(np.log(np.asarray(ns, float)), np.log(np.asarray(values, float)), 1)[0])
