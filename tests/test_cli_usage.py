"""The command line for a new user: ``--help`` explains itself, unwritable output paths and a
report on a curve that never improves end cleanly, the MLP probe trains quietly, and a rerun
continues its W&B run."""

from __future__ import annotations

import numpy as np
import pytest

from cliffbench.results import load
from cliffbench.api import run_job
from tests.conftest import run_cli


def test_help_has_usage_commands_and_docs_then_config_help():
    res = run_cli("--help")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("usage: cliffbench")
    assert "cliffbench -m method=linear,knn,mlp" in res.stdout and "README.md" in res.stdout
    assert res.stdout.index("usage:") < res.stdout.index("== Configuration groups ==") < res.stdout.index("== Config ==")


@pytest.mark.parametrize("where", ["/proc/x", "FILE/sub"])
def test_unwritable_output_dir_is_one_line(tmp_path, where):
    (tmp_path / "FILE").write_text("a file")
    target = where.replace("FILE", str(tmp_path / "FILE"))
    res = run_cli("method=knn", "logger=none", "trials=2", "grid.num=3", f"paths.output_dir={target}")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("cliffbench: error: cannot") and target in line


def test_a_file_where_a_sweeps_job_directory_goes_is_one_line_before_any_job(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "method=linear").write_text("not a job directory")
    res = run_cli("-m", "method=knn,linear", "logger=none", "trials=2", "grid.num=3", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("cliffbench: error: cannot create job directory") and "method=linear is a file" in line
    assert not (sweep / "method=knn").exists()  # refused before the first job, not after it


def test_report_on_a_curve_that_never_improves(compose_cfg, tmp_path):
    from cliffbench.report.cli import main

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "r.npz", X_train=rng.normal(size=(300, 8)), y_train=rng.integers(0, 3, 300),
             X_test=rng.normal(size=(100, 8)), y_test=rng.integers(0, 3, 100))
    run_job(compose_cfg(["dataset=features", f"dataset.path={tmp_path / 'r.npz'}", "method=knn", "logger=none",
                         "progress=false", "trials=5", "grid.num=4"]), tmp_path / "job")
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path / "job"), "--bootstrap", "20", "--no-figures"])
    assert done.value.code == 0


def test_mlp_is_quiet_and_limits_its_threads(compose_cfg, tmp_path, capfd, monkeypatch):
    import torch

    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda k: calls.append(k) or real(k))
    run_job(compose_cfg(["method=mlp", "method.num_threads=1", "method.hidden=[8]", "trainer.max_epochs=2",
                         "logger=none", "progress=false", "trials=2", "grid.n=[20,40]"]), tmp_path)
    out, err = capfd.readouterr()
    for noise in ("GPU available", "TPU available", "Tip", "IterableDataset", "LeafSpec"):
        assert noise not in out + err
    assert calls.count(1) >= 2 and len(load(tmp_path)) == 4


def test_rerun_continues_the_same_wandb_run(compose_cfg, tmp_path, monkeypatch):
    import wandb

    from tests.test_runner import FakeRun

    runs = []
    monkeypatch.setattr(wandb, "init", lambda **kw: runs.append(FakeRun(**kw)) or runs[-1])
    for trials in (2, 3):
        run_job(compose_cfg(["logger=wandb", "progress=false", f"trials={trials}", "grid.n=[10,20]",
                             "method=knn"]), tmp_path)
    assert runs[0].init_kwargs["id"] == runs[1].init_kwargs["id"]
    assert {r.init_kwargs["resume"] for r in runs} == {"allow"}
    other = tmp_path / "other"
    run_job(compose_cfg(["logger=wandb", "progress=false", "trials=2", "grid.n=[10,20]", "method=linear"]), other)
    assert runs[2].init_kwargs["id"] != runs[0].init_kwargs["id"]


def test_trainers_use_one_thread_in_a_launchers_worker(monkeypatch):
    import torch

    from cliffbench.trainer import cpu_threads

    before = torch.get_num_threads()
    with cpu_threads(None):
        assert torch.get_num_threads() == before  # a single job keeps torch's default
    monkeypatch.setenv("SUBMITIT_LOCAL_JOB_ID", "7")
    with cpu_threads(None):
        assert torch.get_num_threads() == 1
    with cpu_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
