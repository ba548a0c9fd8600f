"""Analysis and reporting of data-scaling results: scaling-law fits with bootstrap uncertainty,
cliff detection, data-efficiency multipliers and paper-style figures.

``cliffbench-report PATH`` (or ``python -m cliffbench.report PATH``) runs it on a job directory,
sweep directory or results CSV; from Python, ``report(df, out_dir)`` on a DataFrame."""

from cliffbench.report.analyze import Settings
from cliffbench.report.api import ReportResult, analyze, fit_summary, report

__all__ = ["ReportResult", "Settings", "analyze", "fit_summary", "report"]
