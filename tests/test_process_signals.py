"""Ctrl-C and ``kill -TERM`` (what SLURM sends on timeout or preemption) on a real process: one
line, exit 130 / 143, every finished cell kept, the W&B run finished with that code, and a rerun
resumes the same run without recomputing a kept cell."""

from __future__ import annotations

import signal

import pytest

from cliffbench.results import load
from tests.conftest import REPO, run_cli
from tests.process_helpers import computed, start_cli, wait_for_cells
from tests.slow_method import slow_args


@pytest.mark.parametrize(("signum", "code", "logger"), [(signal.SIGINT, 130, "none"),
                                                         (signal.SIGTERM, 143, "wandb")])
def test_signal_keeps_cells_and_rerun_resumes(tmp_path, signum, code, logger):
    log = tmp_path / "computed.log"
    args = [f"logger={logger}", "progress=false", "trials=3", "grid.n=[10,20,30,40]", "name=sig",
            *slow_args(log, delay=0.3)]
    proc = start_cli(*args)
    wait_for_cells(log, 3, proc)  # a cell is logged before it is stored: 3 logged means 2 stored
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    ours = [ln for ln in err.splitlines() if ln.startswith("cliffbench:")]
    assert len(ours) == 1 and f"interrupted by {signal.Signals(signum).name}" in ours[0]
    assert "rerun the same command to resume" in ours[0]

    job = tmp_path / "outputs" / "runs" / "sig"
    kept = load(job)
    assert 2 <= len(kept) < 12 and (kept.status == "ok").all()
    before = len(computed(log))

    res = run_cli(*args, env={"PYTHONPATH": str(REPO)})
    assert res.returncode == 0, res.stderr
    df = load(job)
    assert len(df) == 12 and not df.duplicated(["n", "trial"]).any()
    rerun = {(n, t) for _, n, t in computed(log)[before:]}
    assert not rerun & set(zip(kept.n, kept.trial)), "a kept cell was computed again"

    if logger == "wandb":
        runs = sorted((next(job.glob("*")) / "wandb").glob("offline-run-*"))
        assert len(runs) == 2 and len({r.name.rsplit("-", 1)[1] for r in runs}) == 1  # one run id
        assert "got exitcode: 143" in (runs[0] / "logs" / "debug.log").read_text()
