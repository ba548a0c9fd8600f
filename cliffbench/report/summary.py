"""What a finished job (or sweep) leaves behind: ``results.csv``, a figure and a printed table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cliffbench.report.bands import curve_stats
from cliffbench.report.plotting import plot_curves
from cliffbench.atomic import atomic_write_text

log = logging.getLogger("cliffbench")


def format_table(df) -> str:
    """A small per-curve table: n, median error, [min, max], trials (failed)."""
    from cliffbench.report.labels import with_distinct_labels

    stats = curve_stats(with_distinct_labels(df), ("label", "config_id"))
    lines = []
    for (label, _), cur in stats.groupby(["label", "config_id"], sort=False):
        lines.append(f"{label}")
        lines.append(f"  {'n':>7}  {'median':>8}  {'range':>18}  trials")
        for r in cur.itertuples():
            fail = f" ({r.failed} failed)" if r.failed else ""
            span = f"[{r.min:.4f}, {r.max:.4f}]"
            lines.append(f"  {r.n:>7}  {r.median:>8.4f}  {span:>18}  {r.trials}{fail}")
    return "\n".join(lines)


def write_outputs(df, out_dir: Path, title: str, reference_lines: dict[str, float]) -> dict[str, Any]:
    """results.csv + curves.png/pdf in ``out_dir``; returns their paths."""
    csv_path = out_dir / "results.csv"
    atomic_write_text(csv_path, df.to_csv(index=False))
    figures = plot_curves(df, out_dir / "curves", title=title, reference_lines=reference_lines)
    return {"results": csv_path, "figures": figures}


def n_stats(rows: list[dict[str, Any]], trials: int) -> dict[str, float]:
    """One n's median, quartiles and range of the test error over its first ``trials`` trials, with
    the numbers of ok and failed cells (what a logger shows while a job runs)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    df = df[df["trial"] < trials] if len(df) else df
    if df.empty or not (df["status"] == "ok").any():
        return {"trials": 0, "failed": int(len(df))}
    (row,) = curve_stats(df, by=()).to_dict("records")
    return {k: (int(v) if k in ("n", "trials", "failed") else float(v)) for k, v in row.items()}


def finish_job(store, cfg, job_dir: Path, meta: dict[str, Any], logger, grid, trials: int) -> None:
    """Write the job's results file and figure, print its table, hand everything to the logger."""
    from cliffbench.results.load import load

    df = load(job_dir)
    df = df[df["config_id"] == store.config_id]
    df = df[df["n"].isin(grid) & (df["trial"] < trials)]
    title = f"{cfg.dataset.name}: {cfg.backbone.name} / {cfg.method.name}"
    paths = write_outputs(df, job_dir, title, meta.get("reference_lines", {}))
    table = format_table(df)
    n_failed = int((df["status"] != "ok").sum())
    print(f"\n{table}\n")
    print(f"results: {paths['results']}\nfigure:  {paths['figures'][0]}")
    if n_failed:
        print(f"{n_failed} cell(s) failed; see the 'message' column of {paths['results']}")
    fits = {}
    if logger.wants_fits:
        from cliffbench.report.api import fit_summary

        fits = fit_summary(df)
    logger.log_job(df, paths, table, fits)
