"""Several processes on one job or one sweep: no cell computed twice (per-n locks, released by the
kernel even on kill -9), real multi-process launches (joblib, submitit_local), and sweep-level
outputs built from the current request only, flagging incomplete jobs."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from cliffbench.results import CellStore, load
from tests.conftest import REPO, run_cli
from tests.process_helpers import computed, start_cli
from tests.slow_method import slow_args

FAST = ["logger=none", "progress=false", "grid.num=3"]


def test_two_processes_on_one_job_never_compute_a_cell_twice(tmp_path):
    log = tmp_path / "computed.log"
    args = ["logger=none", "progress=false", "trials=3", "grid.n=[10,20,30,40,50,60]", "name=twice",
            *slow_args(log, delay=0.15)]
    procs = [start_cli(*args) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    cells = Counter((n, t) for _, n, t in computed(log))
    assert len(cells) == 18 and max(cells.values()) == 1, "a cell was computed twice"
    assert len({pid for pid, _, _ in computed(log)}) == 2  # both did work
    df = load(tmp_path / "outputs" / "runs" / "twice")
    assert len(df) == 18 and not df.duplicated(["n", "trial"]).any()


def test_a_held_n_is_deferred_and_a_dead_holders_lock_is_free(tmp_path):
    import multiprocessing as mp

    from cliffbench.results.locks import cell_lock, claim_each

    with cell_lock(tmp_path, 20, wait=False) as held:
        assert held
        assert list(claim_each(tmp_path, [10])) == [10]
        with cell_lock(tmp_path, 20, wait=False) as again:  # flock is per open file: a second holder waits
            assert not again
    # A process that dies holding a lock leaves nothing stale behind.
    proc = mp.get_context("spawn").Process(target=_hold_and_die, args=(str(tmp_path),))
    proc.start()
    proc.join(60)
    with cell_lock(tmp_path, 30, wait=False) as held:
        assert held


def _hold_and_die(path):
    import os
    from pathlib import Path

    from cliffbench.results.locks import cell_lock

    with cell_lock(Path(path), 30, wait=False):
        os._exit(9)


@pytest.mark.slow  # ~40 s on a busy 2-core machine: two worker processes start
def test_joblib_launcher_runs_jobs_in_two_workers(tmp_path):
    res = run_cli("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "method=knn,linear", "name=jl",
                  "trials=2", "logger=none", "grid.num=3", "progress=true")
    assert res.returncode == 0, res.stderr
    sweep = tmp_path / "outputs" / "sweeps" / "jl"
    df = load(sweep / "results.csv")
    assert set(df["method"]) == {"knn", "linear"} and len(df) == 2 * 3 * 2
    assert "\r" not in res.stderr + res.stdout  # no bar redrawn over another's when not on a terminal
    assert "cliffbench][INFO] - digits/identity/knn: 6/6 cells" in res.stdout + res.stderr


@pytest.mark.slow  # ~45 s: submitit starts each job as its own process
def test_submitit_local_launcher_runs_the_sweep(tmp_path):
    res = run_cli("-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "method=knn,linear",
                  "name=sl", "trials=2", *FAST)
    assert res.returncode == 0, res.stderr
    sweep = tmp_path / "outputs" / "sweeps" / "sl"
    assert set(load(sweep / "results.csv")["method"]) == {"knn", "linear"}
    assert list(sweep.rglob(".submitit/*/*_log.out"))


def test_sweep_outputs_follow_the_current_request_and_forget_stale_errors(tmp_path):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    arrays = {"X_train": rng.normal(size=(60, 4)), "y_train": np.arange(60) % 3,
              "X_test": rng.normal(size=(30, 4)), "y_test": np.arange(30) % 3}
    np.savez(good, **arrays)
    np.savez(bad, **{**arrays, "X_train": np.full((60, 4), np.nan)})
    common = ["-m", "dataset=features", "method=knn", "name=stale", *FAST]
    first = run_cli(*common, "trials=4", f"dataset.path={good},{bad}")
    assert first.returncode == 1 and "NaN" in first.stderr and "Traceback" not in first.stderr
    table = tmp_path / "outputs" / "sweeps" / "stale" / "results.csv"
    assert len(load(table)) == 3 * 4  # still written, from the job that worked
    clean = run_cli(*common, "trials=2", f"dataset.path={good}")  # the old error.txt is still there
    assert clean.returncode == 0, clean.stderr
    df = load(table)
    assert len(df) == 3 * 2 and df["trial"].max() == 1  # the current trials, not the 4 on disk


def test_incomplete_job_is_flagged_in_the_sweep_outputs(tmp_path):
    from cliffbench.callbacks import request_cells

    job = tmp_path / "sweep" / "method=knn"
    store = CellStore(job, {"dataset": {"name": "d"}, "backbone": {"name": "b"}, "method": {"name": "knn"}})
    store.write([{"n": 10, "trial": t, "test_error": 0.5, "status": "ok", "finished_at": "t"} for t in range(3)])
    store.write([{"n": 20, "trial": 0, "test_error": 0.4, "status": "ok", "finished_at": "t"}])
    (job / ".requests").mkdir()
    (job / ".requests" / "tok.json").write_text(json.dumps(
        {"status": "interrupted", "config_id": store.config_id, "grid": [10, 20], "trials": 2}))
    df, problems = request_cells(tmp_path / "sweep", "tok")
    assert len(df) == 3 and set(df["trial"]) == {0, 1}  # trial 2 was not asked for
    assert df["label"].str.contains(r"incomplete: 3/4 cells").all()
    assert "incomplete" in problems[job]
    assert request_cells(tmp_path / "sweep", "other-request")[0].empty


