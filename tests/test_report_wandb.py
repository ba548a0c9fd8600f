"""The sweep-level W&B run of ``cliffbench-report --wandb``."""

from __future__ import annotations

import pytest
from tests.report_helpers import frame

from cliffbench.report import report
from cliffbench.loggers.wandb import log_report, summary_values


def test_log_report_runs_through_wandb_api_and_summarises_every_curve(tmp_path):
    res = report(frame(lambda n: 0.02 + 3 * n ** -0.6, trials=10), tmp_path / "rep", n_boot=12)
    values = summary_values(res)
    assert values["curve/alpha"] == res.summary.loc[0, "alpha"] and values["curve/cliffs"] == 0
    assert values["curve/alpha_lo"] <= values["curve/alpha"] <= values["curve/alpha_hi"]
    assert log_report(res, tmp_path, tmp_path / "rep", mode="disabled")


@pytest.mark.slow
def test_log_report_offline_without_key_writes_a_run(tmp_path):
    res = report(frame(lambda n: 0.02 + 3 * n ** -0.6, trials=10), tmp_path / "rep", n_boot=5)
    where = log_report(res, tmp_path, tmp_path / "rep")  # conftest removes any API key: offline
    assert "offline-run" in where and list((tmp_path / "rep" / "wandb").glob("offline-run-*"))
