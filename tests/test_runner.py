"""The runner in-process: failures become rows, NaN errors fail their cell, single-class subsets,
the W&B logger's offline mode, and the job's outputs."""

from __future__ import annotations

import math

import numpy as np

from cliffbench.methods.base import Method, Outcome
from cliffbench.results import load
from cliffbench.api import run_job


class FailsAtN(Method):
    """Raises for one n, returns NaN for trial 1 of another, a constant error otherwise."""

    def __init__(self, name="fails", fail_n=17, nan_n=10, **_):
        super().__init__(name)
        self.fail_n, self.nan_n = fail_n, nan_n

    def run(self, batch, ctx):
        if batch.n == self.fail_n:
            raise ValueError("boom at this n")
        yield [Outcome(int(t), math.nan if (batch.n == self.nan_n and t == 1) else 0.25) for t in batch.trials]


class Died(BaseException):
    """Stands in for the process being killed (not an Exception: the runner must not catch it)."""


class Interrupts(Method):
    """Finishes the first n, then the process 'dies' in the middle of the second."""

    calls: list = []
    die = True

    def __init__(self, name="interrupts", **_):
        super().__init__(name)

    def run(self, batch, ctx):
        Interrupts.calls.append((batch.n, list(batch.trials)))
        if Interrupts.die and len(Interrupts.calls) == 2:
            yield [Outcome(int(batch.trials[0]), 0.5)]
            raise Died
        yield [Outcome(int(t), 0.5) for t in batch.trials]


def _cfg(compose_cfg, *overrides):
    return compose_cfg(["logger=none", "progress=false", "trials=3", "grid.n=[10,17,29]", *overrides])


def test_failed_cells_are_rows_and_the_job_goes_on(compose_cfg, tmp_path, capsys):
    cfg = _cfg(compose_cfg, "method._target_=tests.test_runner.FailsAtN", "method.name=fails")
    run_job(cfg, tmp_path)
    df = load(tmp_path)
    assert len(df) == 9
    failed = df[df.status == "failed"]
    assert set(failed.n) == {10, 17} and (failed.n == 17).sum() == 3
    assert failed[failed.n == 17].message.str.contains("ValueError: boom").all()
    assert failed[failed.n == 10].message.str.contains("test error is nan").all()
    assert (df[df.n == 29].status == "ok").all()
    assert "failed" in capsys.readouterr().out


def test_interrupted_job_resumes_exactly_the_missing_cells(compose_cfg, tmp_path):
    import pytest

    Interrupts.calls, Interrupts.die = [], True
    cfg = _cfg(compose_cfg, "method._target_=tests.test_runner.Interrupts", "method.name=interrupts")
    with pytest.raises(Died):
        run_job(cfg, tmp_path)
    assert len(load(tmp_path)) == 4  # 3 cells of n=10, 1 of n=17
    Interrupts.calls, Interrupts.die = [], False
    run_job(cfg, tmp_path)
    assert Interrupts.calls == [(17, [1, 2]), (29, [0, 1, 2])]
    df = load(tmp_path)
    assert len(df) == 9 and not df.duplicated(["n", "trial"]).any()


def test_single_class_subset_predicts_that_class(compose_cfg, tmp_path):
    cfg = compose_cfg(["logger=none", "progress=false", "trials=4", "grid.n=[1,2]", "method=linear"])
    run_job(cfg, tmp_path)
    df = load(tmp_path)
    one = df[df.n == 1]
    assert (one.status == "ok").all() and one.message.str.contains("single class").all()
    assert np.allclose(one.test_error, 0.9, atol=0.05)  # one digit of ten


def test_job_outputs_and_config_identity(compose_cfg, tmp_path):
    cfg = _cfg(compose_cfg, "method=knn", "method.k=1", "label=one-nn")
    run_job(cfg, tmp_path)
    df = load(tmp_path)
    assert set(df.label) == {"one-nn"} and set(df["method.k"]) == {1} and set(df.seed) == {0}
    assert (tmp_path / "curves.png").stat().st_size > 1000 and (tmp_path / "curves.pdf").is_file()
    assert len(load(tmp_path / "results.csv")) == 9


def test_wandb_logs_one_offline_run_per_job(compose_cfg, tmp_path, capsys):
    cfg = compose_cfg(["logger=wandb", "progress=false", "trials=2", "grid.n=[10,20]", "method=knn"])
    run_job(cfg, tmp_path)
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1

    assert "no API key" in capsys.readouterr().out


class FakeRun:
    def __init__(self, **kwargs):
        self.init_kwargs, self.logged, self.summary, self.exit_code = kwargs, [], {}, None
        self.metrics, self.preempting = {}, False

    def define_metric(self, name, step_metric=None):
        self.metrics[name] = step_metric

    def mark_preempting(self):
        self.preempting = True

    def log(self, data):
        self.logged.append(data)

    def save(self, *a, **k):
        pass

    def finish(self, exit_code=0):
        self.exit_code = exit_code


def test_wandb_run_gets_config_table_figure_and_fits(compose_cfg, tmp_path, monkeypatch):
    import wandb

    runs = []
    monkeypatch.setattr(wandb, "init", lambda **kw: runs.append(FakeRun(**kw)) or runs[-1])
    cfg = compose_cfg(["logger=wandb", "progress=false", "trials=4", "grid.n=[10,20,40,80,160]", "method=knn"])
    run_job(cfg, tmp_path)
    (run,) = runs
    assert run.init_kwargs["mode"] == "offline" and run.init_kwargs["config"]["method"]["k"] == 3
    keys = {k for entry in run.logged for k in entry}
    assert {"cells", "curves", "test_error/median", "test_error/q25", "test_error/max"} <= keys
    per_n = [e for e in run.logged if "test_error/median" in e]
    assert [e["n"] for e in per_n] == [10, 20, 40, 80, 160] and run.metrics["test_error/*"] == "n"
    df = load(tmp_path)
    assert per_n[0]["test_error/median"] == df[df.n == 10].test_error.median()
    assert run.init_kwargs["resume"] == "allow" and run.init_kwargs["id"]
    assert len(next(e["cells"] for e in run.logged if "cells" in e).data) == 20
    assert run.summary["cells_ok"] == 20 and "fit/alpha" in run.summary
    assert run.exit_code == 0


def test_wandb_run_finishes_with_failure_code_on_error(compose_cfg, tmp_path, monkeypatch):
    import pytest
    import wandb

    runs = []
    monkeypatch.setattr(wandb, "init", lambda **kw: runs.append(FakeRun(**kw)) or runs[-1])
    monkeypatch.setattr("cliffbench.api.finish_job", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    cfg = compose_cfg(["logger=wandb", "progress=false", "trials=1", "grid.n=[10]"])
    with pytest.raises(OSError):
        run_job(cfg, tmp_path)
    assert runs[0].exit_code == 1
