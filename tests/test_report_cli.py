"""``cliffbench-report`` end to end on a small results directory written with CellStore, plus the
Python entry points (``report``, ``fit_summary``) and the paper-style figure options."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tests.report_helpers import frame

from cliffbench.report import fit_summary, report
from cliffbench.report.cli import main
from cliffbench.results import CellStore
from cliffbench.results.load import load

LINES = {"random guessing": 0.9, "human": 0.0457}


def write_sweep(root, trials: int = 12):
    """Two jobs: a sigmoid-shaped "transfer" curve (with an analytic reference_error) and a power-law
    "scratch" curve, on a 12-point grid."""
    grid = np.unique(np.round(np.logspace(1, 4, 12))).astype(int)
    curves = {"transfer": lambda n: 0.02 + 0.88 / (1 + (n / 100) ** 3), "scratch": lambda n: 0.02 + 4 * n ** -0.5}
    for k, (label, fn) in enumerate(curves.items()):
        df = frame(fn, n=grid, trials=trials, noise=0.05, seed=k, label=label)
        job = root / f"method={label}"
        store = CellStore(job, {"dataset": {"name": "toy"}, "backbone": {"name": "none"},
                                "method": {"name": label}}, label=label,
                          meta={"dataset": "toy", "reference_lines": LINES})
        for n, rows in df.groupby("n"):
            recs = rows[["n", "trial", "seed", "test_error", "status", "message"]].to_dict("records")
            for r in recs:
                r["finished_at"] = "2026-01-01T00:00:00"
                if label == "transfer":
                    r["reference_error"] = fn(n)
            store.write(recs)
        store.write([{"n": int(grid[0]), "trial": trials, "seed": 0, "test_error": float("nan"), "status": "failed",
                      "message": "RuntimeError: boom", "finished_at": "2026-01-01T00:00:00"}])
    return grid


def test_cli_writes_figures_and_tables(tmp_path, capsys):
    write_sweep(tmp_path / "sweep")
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "sweep"), "--bootstrap", "12", "--target", "human", "--baseline", "scratch"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    rep = tmp_path / "sweep" / "report"
    for name in ("curves.png", "curves.pdf", "fits.png", "fits.pdf", "summary.csv", "summary.md", "cliffs.csv",
                 "efficiency.csv", "multipliers.csv", "curve_stats.csv"):
        assert (rep / name).stat().st_size > 0, name
    assert "transfer" in out and "scratch" in out and str(rep / "summary.md") in out
    summary = pd.read_csv(rep / "summary.csv").set_index("label")
    assert summary.loc["transfer", "cliffs"] == 1 and summary.loc["scratch", "cliffs"] == 0
    assert summary.loc["scratch", "failed_cells"] == 1 and summary.loc["scratch", "trials"] == 12
    assert summary.loc["scratch", "alpha"] == pytest.approx(0.5, abs=0.1)
    cliffs = pd.read_csv(rep / "cliffs.csv")
    assert cliffs.loc[0, "n_start"] < 100 < cliffs.loc[0, "n_end"]
    mult = pd.read_csv(rep / "multipliers.csv")
    assert list(mult["target_name"]) == ["human"] and mult.loc[0, "baseline"] == "scratch"
    # scratch reaches 0.0457 at (4/0.0257)^2 = 24226 (extrapolated); transfer near 100*(0.88/0.0257-1)^(1/3)
    expected = (4 / 0.0257) ** 2 / (100 * (0.88 / 0.0257 - 1) ** (1 / 3))
    assert mult.loc[0, "multiplier"] == pytest.approx(expected, rel=0.3)
    assert "human" in (rep / "summary.md").read_text()


def test_report_from_python_without_files_and_fit_summary(tmp_path):
    write_sweep(tmp_path / "sweep", trials=8)
    df = load(tmp_path / "sweep")
    res = report(df, n_boot=10, targets=["0.1"], compare=("transfer", "scratch"))
    assert not res.paths and len(res.summary) == 2 and len(res.multipliers) == 1
    both_ways = report(df, n_boot=10, targets=["0.1"], compare=[("transfer", "scratch"), ("scratch", "transfer")])
    pairs = set(zip(both_ways.multipliers["label"], both_ways.multipliers["baseline"]))
    assert pairs == {("transfer", "scratch"), ("scratch", "transfer")}
    job = df[df["label"] == "scratch"]
    values = fit_summary(job, n_boot=10)
    assert values["fit/alpha"] == pytest.approx(0.5, abs=0.15)
    assert values["cliffs/count"] == 0 and values["fit/n_hi"] == job["n"].max()
    few = fit_summary(df, n_boot=0)  # 8 trials: 2^-8 * (number of windows) > 0.05
    assert few["transfer/cliffs/count"] == 0 and "too few trials (8)" in few["transfer/cliffs/note"]
    write_sweep(tmp_path / "more", trials=12)
    both = fit_summary(load(tmp_path / "more"), n_boot=0)
    assert both["transfer/cliffs/count"] == 1 and both["transfer/cliffs/0/n_start"] < 100
    assert "transfer/cliffs/note" not in both
    assert fit_summary(df.iloc[:0]) .keys() == {"fit/error"}


def test_results_csv_input_and_user_errors(tmp_path, capsys):
    write_sweep(tmp_path / "sweep", trials=6)
    csv = tmp_path / "results.csv"
    load(tmp_path / "sweep").to_csv(csv, index=False)
    with pytest.raises(SystemExit) as ok:
        main([str(csv), "--bootstrap", "0", "--no-figures", "--out", str(tmp_path / "r"),
              "--reference", "sota=0.03", "--fit-min-n", "100"])
    assert ok.value.code == 0 and (tmp_path / "r" / "summary.csv").exists()
    assert pd.read_csv(tmp_path / "r" / "summary.csv")["fit_n_lo"].min() == 100
    for args, words in [(["nowhere"], "no results at"), ([str(csv), "--target", "sota"], "reference line"),
                        ([str(csv), "--reference", "oops"], "NAME=ERROR"),
                        ([str(csv), "--compare", "x", "y"], "no curves match")]:
        with pytest.raises(SystemExit) as bad:
            main(args + ["--bootstrap", "0", "--no-figures", "--out", str(tmp_path / "r2")])
        err = capsys.readouterr().err
        assert bad.value.code == 2 and words in err and err.count("\n") == 1, err


def test_python_dash_m_entry_point(tmp_path):
    write_sweep(tmp_path / "sweep", trials=6)
    proc = subprocess.run([sys.executable, "-m", "cliffbench.report", str(tmp_path / "sweep"), "--bootstrap", "0",
                           "--no-figures"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Scaling-law fits" in proc.stdout and (tmp_path / "sweep" / "report" / "summary.md").exists()


def test_plot_draws_reference_curve_and_linear_axis_at_zero(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cliffbench.report.bands import reference_curves
    from cliffbench.report.plotting import plot_curves, style_error_axes

    df = frame(lambda n: 0.8 * (n < 300), trials=5).assign(reference_error=lambda d: 0.8 * (d["n"] < 300))
    refs = reference_curves(df)
    assert list(refs) == ["id-curve"] and refs["id-curve"][1].max() == 0.8
    paths = plot_curves(df, tmp_path / "fig", title="t", reference_lines=LINES)
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size for p in paths)
    fig, ax = plt.subplots()
    style_error_axes(ax, np.array([0.5, 0.01, 0.0]))
    assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] == 0
    style_error_axes(ax, np.array([0.5, 0.01]))
    assert ax.get_yscale() == "log"
    plt.close(fig)
    assert not math.isnan(refs["id-curve"][0][0])
