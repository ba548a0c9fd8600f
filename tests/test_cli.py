"""End to end through the ``cliffbench`` console script: multirun sweeps, resume, concurrent jobs,
one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cliffbench.results import load
from tests.conftest import run_cli

FAST = ["logger=none", "trials=3", "grid.num=4", "progress=false"]


def _row_files(path: Path) -> set[str]:
    return {str(p) for p in path.rglob("cells/*/n*.json")}


def test_multirun_over_two_methods_loads_as_one_frame(tmp_path):
    out = tmp_path / "outputs"
    res = run_cli("-m", "method=linear,knn", "name=two", *FAST)
    assert res.returncode == 0, res.stderr
    sweep = out / "sweeps" / "two"
    df = load(sweep)
    assert set(df["method"]) == {"linear", "knn"}
    assert len(df) == 2 * 4 * 3 and (df["status"] == "ok").all()
    assert df["test_error"].between(0, 1).all()
    for job in ("method=linear", "method=knn"):
        jd = sweep / job
        assert (jd / "results.csv").is_file() and (jd / "curves.png").is_file()
        assert (jd / ".hydra" / "config.yaml").is_file() and (jd / "cliffbench.log").is_file()
    assert (sweep / "curves.png").is_file() and (sweep / "results.csv").is_file()
    assert "median" in res.stdout and "sweep figure" in res.stdout


def test_rerun_resumes_without_recomputing(tmp_path):
    out = tmp_path / "outputs"
    args = ["method=knn", "name=resume", *FAST]
    assert run_cli(*args).returncode == 0
    first = _row_files(out)
    assert run_cli(*args).returncode == 0
    assert _row_files(out) == first, "a finished cell was recomputed"
    # More trials: only the new trials run, into the same job directory.
    assert run_cli(*[a for a in args if not a.startswith("trials")], "trials=5").returncode == 0
    df = load(out / "runs" / "resume")
    assert len(df) == 4 * 5 and df.duplicated(["config_id", "n", "trial"]).sum() == 0
    assert len(_row_files(out)) > len(first)
    assert _row_files(out) >= first


def test_concurrent_jobs_into_one_sweep_directory(tmp_path):
    sweep = tmp_path / "shared_sweep"
    exe = Path(sys.executable).with_name("cliffbench")
    procs = [subprocess.Popen([str(exe), "-m", f"method={m}", f"hydra.sweep.dir={sweep}", *FAST],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for m in ("linear", "knn")]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    df = load(sweep)
    assert sorted(df.groupby("method").size().tolist()) == [12, 12]


@pytest.mark.parametrize(("args", "expected"), [
    (["method=nope"], "Could not find 'method/nope'"),
    (["trials=abc"], "could not be converted to Integer"),
    (["no_such_key=1"], "no_such_key"),
    (["-m", "method=linear,nope"], "Could not find 'method/nope'"),
    (["grid.n=[10,99999]"], "exceeds the training pool"),
    (["trials=0"], "trials must be a positive integer"),
    (["method.k=0", "method=knn"], "method.k must be a positive integer"),
    (["grid.sampling=weird"], "grid.sampling must be one of"),
    (["dataset=features"], "dataset.path"),
])
def test_bad_input_gives_one_line_and_exit_2(args, expected):
    res = run_cli("logger=none", "progress=false", *args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in res.stderr
    assert lines[-1].startswith("cliffbench: error:") and expected in lines[-1], res.stderr


def test_cfg_job_prints_the_composed_config():
    res = run_cli("--cfg", "job", "method=knn")
    assert res.returncode == 0, res.stderr
    assert "name: knn" in res.stdout and "trials:" in res.stdout


def test_features_file_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 3
    y_tr, y_te = rng.integers(0, 3, 300), rng.integers(0, 3, 100)
    path = tmp_path / "emb.npz"
    np.savez(path, X_train=centers[y_tr] + rng.normal(size=(300, 8)), y_train=y_tr,
             X_test=centers[y_te] + rng.normal(size=(100, 8)), y_test=y_te)
    res = run_cli("dataset=features", f"dataset.path={path}", "method=knn", "name=feat", *FAST)
    assert res.returncode == 0, res.stderr
    df = load(tmp_path / "outputs" / "runs" / "feat")
    assert df["n"].max() == 300 and (df["status"] == "ok").all()
