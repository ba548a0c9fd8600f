"""``report(df, out_dir)``: the whole analysis of a results DataFrame (figures, CSV and Markdown
tables), and ``fit_summary(df)``: a job's fitted numbers as a flat dict for a W&B run summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cliffbench.errors import ConfigError, DataError
from cliffbench.report.analyze import CurveReport, Settings, analyze_curve
from cliffbench.report.curves import build_curves, find_curve
from cliffbench.report.efficiency import resolve_targets
from cliffbench.report.labels import with_distinct_labels
from cliffbench.report.tables import (
    cliffs_table,
    display_efficiency,
    display_multipliers,
    display_summary,
    efficiency_tables,
    markdown,
    summary_table,
)
from cliffbench.atomic import atomic_write_text


@dataclass
class ReportResult:
    """The report's tables (DataFrames), per-curve analyses, written files and printed text."""

    summary: Any
    cliffs: Any
    efficiency: Any
    multipliers: Any
    stats: Any
    targets: dict[str, float]
    reports: list[CurveReport]
    paths: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def _pairs(curves, compare, baseline) -> list[tuple[int, int]]:
    index = {id(c): i for i, c in enumerate(curves)}
    if compare:
        pairs = [compare] if isinstance(compare[0], str) else compare  # one pair, or a list of pairs
        out = []
        for pair in pairs:
            a, b = (find_curve(curves, key) for key in pair)
            if (index[id(a)], index[id(b)]) not in out:
                out.append((index[id(a)], index[id(b)]))
        return out
    if len(curves) < 2:
        return []
    base = index[id(find_curve(curves, baseline))] if baseline else 0
    return [(i, base) for i in range(len(curves)) if i != base]


def resolve_floors(curves, floors: dict[str, float] | None) -> dict[str, float]:
    """``{curve key or "*": floor}`` -> ``{config_id: floor}`` (a key names a label or config_id)."""
    out: dict[str, float] = {}
    for key, value in (floors or {}).items():
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ConfigError(f"known floor for {key!r} must be a number >= 0, got {value!r}")
        targets = curves if key == "*" else [find_curve(curves, key)]
        out.update({c.config_id: float(value) for c in targets})
    return out


def analyze(df, settings: Settings | None = None, reference_lines: dict[str, float] | None = None,
            targets=None, compare=None, baseline=None, floors: dict[str, float] | None = None) -> ReportResult:
    """All tables, no files. ``floors`` ({label, config_id or "*": error}) fix E of those curves'
    fits, on top of ``settings.known_floors`` (by config_id, e.g. the datasets' own)."""
    from cliffbench.report.bands import curve_stats

    settings = settings or Settings()
    df = with_distinct_labels(df)
    curves = build_curves(df)
    if not curves:
        raise DataError("no successful cells to report on (every row failed or the results are empty)")
    settings = replace(settings, known_floors={**settings.known_floors, **resolve_floors(curves, floors)})
    reports = [analyze_curve(c, settings) for c in curves]
    target_map = resolve_targets(targets, reference_lines or {}, curves)
    eff, mult = efficiency_tables(reports, target_map, _pairs(curves, compare, baseline))
    stats = curve_stats(df, ("label", "config_id"))
    return ReportResult(summary_table(reports), cliffs_table(reports), eff, mult, stats, target_map, reports)


def _text(res: ReportResult) -> str:
    parts = ["Scaling-law fits (95% bootstrap CIs)", display_summary(res.summary).to_string(index=False)]
    if len(res.efficiency):
        parts += ["", "n to reach target error", display_efficiency(res.efficiency).to_string(index=False)]
    if len(res.multipliers):
        parts += ["", "Data-efficiency multipliers (n_vs / n_curve)",
                  display_multipliers(res.multipliers).to_string(index=False)]
    return "\n".join(parts)


def _markdown(res: ReportResult, settings: Settings, title: str, figures: list[Path]) -> str:
    lines = [f"# {title or 'cliffbench report'}", ""]
    lines += [f"![curves]({p.name})" for p in figures if p.suffix == ".png"]
    lines += ["", "## Scaling-law fits", "",
              f"Power law with floor `E + A·n^-α` fitted to the median on the n-range shown (log-space least "
              f"squares; the range is the asymptotic large-n tail unless given, and the notes say when the "
              f"rule cannot tell; E marked (known) is fixed at the dataset's or --floor's value); 95% CIs from "
              f"{settings.n_boot} bootstrap resamples of the trials. "
              "BNSL: one smooth break (Caballero et al.).", "", markdown(display_summary(res.summary)), ""]
    lines += ["## Cliffs", "", f"Significant concavity of log-error in log-n across trials (one-sided Wilcoxon "
              f"on per-trial slope changes, {settings.correction} correction, level {settings.level}).", ""]
    lines += [markdown(res.cliffs.drop(columns="config_id")) if len(res.cliffs) else "No cliffs detected.", ""]
    if len(res.efficiency):
        lines += ["## Data efficiency", "", markdown(display_efficiency(res.efficiency)), ""]
    if len(res.multipliers):
        lines += ["Multiplier = n the baseline needs / n the curve needs to reach the target.", "",
                  markdown(display_multipliers(res.multipliers)), ""]
    return "\n".join(lines)


def report(df, out_dir: str | Path | None = None, *, settings: Settings | None = None,
           reference_lines: dict[str, float] | None = None, targets=None, compare=None, baseline=None,
           floors: dict[str, float] | None = None, title: str = "", figures: bool = True,
           **options) -> ReportResult:
    """Analyse ``df`` (rows from ``cliffbench.results.load``); with ``out_dir``, write
    ``summary.csv/.md``, ``cliffs.csv``, ``efficiency.csv``, ``multipliers.csv``, ``curve_stats.csv``
    and the figures ``curves`` and ``fits`` (PNG + PDF). ``options`` override :class:`Settings`
    fields (e.g. ``fit_min_n=100, n_boot=500``)."""
    settings = replace(settings or Settings(), **options)
    res = analyze(df, settings, reference_lines, targets, compare, baseline, floors)
    res.text = _text(res)
    if out_dir is None:
        return res
    from cliffbench.report.plotting import plot_curves
    from cliffbench.report.figures import plot_fits

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs: list[Path] = []
    if figures:
        figs += plot_curves(df, out / "curves", title=title, reference_lines=reference_lines)
        figs += plot_fits(res.reports, out / "fits", reference_lines)
    tables = {"summary": res.summary, "cliffs": res.cliffs, "efficiency": res.efficiency,
              "multipliers": res.multipliers, "curve_stats": res.stats}
    for name, table in tables.items():
        atomic_write_text(out / f"{name}.csv", table.to_csv(index=False))
        res.paths[name] = out / f"{name}.csv"
    atomic_write_text(out / "summary.md", _markdown(res, settings, title, figs))
    res.paths["markdown"] = out / "summary.md"
    res.paths["figures"] = figs
    return res


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def fit_summary(df, n_boot: int = 100, **options) -> dict[str, Any]:
    """A job's fitted numbers for its W&B run summary: ``fit/alpha`` (+ ``_lo``/``_hi``), ``fit/E``,
    ``fit/A``, ``fit/rmse_log``, ``bnsl/break_n``, ``cliffs/count``, ``cliffs/intervals`` and per cliff
    ``cliffs/<i>/n_start`` ... With several curves every key is prefixed by ``<label>/``.
    Never raises on bad data: a failed analysis gives ``{"fit/error": reason}``."""
    try:
        res = analyze(df, replace(Settings(n_boot=n_boot), **options))
    except Exception as exc:  # noqa: BLE001 - a summary must never fail the job that asked for it
        return {"fit/error": f"{type(exc).__name__}: {exc}"}
    out: dict[str, Any] = {}
    for rep, (_, row) in zip(res.reports, res.summary.iterrows()):
        prefix = f"{rep.curve.label}/" if len(res.reports) > 1 else ""
        for key in ("alpha", "alpha_lo", "alpha_hi", "E", "E_lo", "E_hi", "A", "rmse_log", "r2_log",
                    "fit_n_lo", "fit_n_hi"):
            out[f"{prefix}fit/{key.removeprefix('fit_')}"] = _clean(row[key])
        if row["fit_reason"]:
            out[f"{prefix}fit/reason"] = row["fit_reason"]
        for key in ("break_n", "slope_before", "slope_after", "rmse_log"):
            out[f"{prefix}bnsl/{key}"] = _clean(row[f"bnsl_{key}"])
        out[f"{prefix}cliffs/count"] = len(rep.cliffs)
        out[f"{prefix}cliffs/intervals"] = row["cliff_intervals"]
        if row["cliff_note"]:
            out[f"{prefix}cliffs/note"] = row["cliff_note"]
        for i, cl in enumerate(rep.cliffs):
            for key, value in vars(cl).items():
                out[f"{prefix}cliffs/{i}/{key}"] = _clean(value)
    return out
