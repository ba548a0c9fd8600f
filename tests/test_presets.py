"""Every ``experiment=`` preset runs end to end through the CLI with ``debug=tiny``: the offline
presets (quickstart, the toys) for real, leaving results and figures; the image presets, whose
datasets and weights cannot be fetched offline, end each job with one clear missing-resource line."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CONF_DIR, run_cli

IMAGE_PRESETS = {"fig2_1", "fig2_2", "figD_1", "figD_2", "figD_3"}
PRESETS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml") if not p.stem.startswith("_"))
SMALL_POOLS = {"fig3_1a": ["dataset.pool_size=400"], "fig3_1b": ["dataset.pool_size=400"],
               "figF_1": ["dataset.pool_size=400"], "fig3_2": ["dataset.pool_size=400", "method.max_steps=20"],
               "bahri_random_features": ["dataset.pool_size=400"]}


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_runs_tiny(preset):
    extra = ["dataset.download=false"] if preset in IMAGE_PRESETS else SMALL_POOLS.get(preset, [])
    proc = run_cli(f"experiment={preset}", "debug=tiny", *extra, timeout=1200)
    out = Path(os.environ["CLIFFBENCH_OUTPUT_DIR"])
    if preset in IMAGE_PRESETS:
        assert proc.returncode in (1, 2), proc.stdout[-2000:]
        lines = [ln for ln in proc.stderr.splitlines() if "cliffbench: error:" in ln]
        assert lines and all("not found" in ln or "missing" in ln.lower() for ln in lines), proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = next(out.rglob("results.csv"))
    df = pd.read_csv(results)
    assert len(df) and (df["status"] == "ok").all()
    assert set(df["trial"]) == {0, 1}
    if "\nfigure:" in (Path(CONF_DIR) / "experiment" / f"{preset}.yaml").read_text():  # the toy presets
        assert next(out.rglob("paper_figure.png")).is_file()
