"""End to end: a toy preset through the real CLI with tiny overrides leaves results, the runner's
figure and the paper-style figure, with the least-squares cliff in the numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from tests.conftest import run_cli


def test_fig3_1a_preset_runs_through_the_cli():
    proc = run_cli("experiment=fig3_1a", "logger=none", "progress=false", "trials=2", "grid.max=20",
                   "grid.num=4", "dataset.pool_size=400", "dataset.test_size=200")
    assert proc.returncode == 0, proc.stderr[-2000:]
    sweep = Path(os.environ["CLIFFBENCH_OUTPUT_DIR"]) / "sweeps" / "fig3_1a"
    assert (sweep / "paper_figure.png").is_file() and (sweep / "curves.png").is_file()
    df = pd.read_csv(sweep / "results.csv")
    assert set(df["method"]) == {"least_squares", "nearest_neighbour"}
    ls = df[df["method"] == "least_squares"].set_index(["n", "trial"])["test_error"]
    assert ls.loc[20].max() < 1e-18 and ls.loc[1].min() > 1e-6  # the cliff at n = d = 5
    nn = df[df["method"] == "nearest_neighbour"]
    assert (nn["test_error"] > 0.01).all()  # no cliff for 1-NN
