"""``cliffbench-report PATH``: report on a job directory, sweep directory or results CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cliffbench.errors import CliffbenchError, ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="cliffbench-report",
        description="Scaling-law fits with bootstrap CIs, cliff detection, data-efficiency multipliers and "
                    "paper-style figures for a cliffbench job or sweep.")
    p.add_argument("path", help="job directory, sweep directory or results CSV")
    p.add_argument("--out", help="output directory (default: <path>/report, or next to a CSV)")
    p.add_argument("--fit-min-n", type=float, help="smallest n of the power-law fit (default: the large-n tail)")
    p.add_argument("--fit-max-n", type=float, help="largest n of the power-law fit (default: the largest n)")
    p.add_argument("--target", action="append", default=[],
                   help="target error: a number or a reference line name such as 'human' (repeatable)")
    p.add_argument("--compare", nargs=2, action="append", metavar=("CURVE", "BASELINE"),
                   help="multiplier n_BASELINE / n_CURVE for a pair of curves (label or config_id; repeatable)")
    p.add_argument("--baseline", help="compare every curve against this one (default: the first curve)")
    p.add_argument("--reference", action="append", default=[], metavar="NAME=ERROR",
                   help="extra horizontal reference line, e.g. human=0.0457 (repeatable)")
    p.add_argument("--no-dataset-references", action="store_true",
                   help="ignore the reference lines recorded by the datasets")
    p.add_argument("--floor", action="append", default=[], metavar="CURVE=ERROR",
                   help="known error floor of a curve (label or config_id; * = every curve): E is fixed "
                        "at it in the power-law fit (repeatable)")
    p.add_argument("--free-floor", action="store_true",
                   help="fit E even where the dataset records a known floor (Bayes error, noise level)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    p.add_argument("--level", type=float, default=0.05, help="significance level of cliff tests (default 0.05)")
    p.add_argument("--correction", choices=["holm", "bh"], default="holm",
                   help="multiple-testing correction of cliff tests (default holm)")
    p.add_argument("--min-slope-change", type=float, default=0.02,
                   help="smallest log-log slope change counted as a cliff (default 0.02, calibrated on "
                        "the toys' exact curves and pure power laws: docs/report.md)")
    p.add_argument("--error-floor", type=float,
                   help="errors below this count as this in log space (default: the metric's resolution)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--title", default="", help="figure title")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--wandb", action="store_true",
                   help="log a sweep-level summary run to W&B (offline without an API key)")
    p.add_argument("--wandb-project", default="cliffbench")
    return p.parse_args(argv)


def _name_values(specs, option: str, example: str) -> dict[str, float]:
    """``["NAME=VALUE", ...]`` -> ``{NAME: VALUE}`` (NAME may itself contain '=')."""
    out = {}
    for spec in specs:
        name, sep, value = spec.rpartition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ConfigError(f"{option} {spec!r}: expected {example}")
    return out


def _reference_lines(args, path: Path) -> dict[str, float]:
    from cliffbench.results.load import reference_lines

    lines = {} if args.no_dataset_references else reference_lines(path if path.is_dir() else path.parent)
    lines.update(_name_values(args.reference, "--reference", "NAME=ERROR, e.g. --reference human=0.0457"))
    return lines


def run(args: argparse.Namespace) -> int:
    from cliffbench.report.analyze import Settings
    from cliffbench.report.api import report
    from cliffbench.results.load import known_floors, load

    path = Path(args.path)
    if not path.exists():
        raise ConfigError(f"no results at {path}: give a job or sweep directory or a results CSV")
    if args.bootstrap < 0:
        raise ConfigError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    df = load(path)
    if df.empty:
        raise ConfigError(f"no result rows under {path} (looked for cells/*/n*.json); run a job first")
    out = Path(args.out) if args.out else (path / "report" if path.is_dir() else path.parent / "report")
    settings = Settings(fit_min_n=args.fit_min_n, fit_max_n=args.fit_max_n, n_boot=args.bootstrap, seed=args.seed,
                        level=args.level, correction=args.correction, min_slope_change=args.min_slope_change,
                        floor=args.error_floor,
                        known_floors={} if args.free_floor or not path.is_dir() else known_floors(path))
    lines = _reference_lines(args, path)
    floors = _name_values(args.floor, "--floor", "CURVE=ERROR, e.g. --floor '*=0.01'")
    res = report(df, out, settings=settings, reference_lines=lines, targets=args.target, compare=args.compare,
                 baseline=args.baseline, floors=floors, title=args.title or path.resolve().name,
                 figures=not args.no_figures)
    print(res.text)
    print(f"\nsummary:  {res.paths['markdown']}  (+ summary.csv, cliffs.csv, efficiency.csv, multipliers.csv)")
    for fig in res.paths["figures"]:
        if fig.suffix == ".png":
            print(f"figure:   {fig}  (+ .pdf)")
    if args.wandb:
        from cliffbench.loggers.wandb import log_report

        where = log_report(res, path, out, project=args.wandb_project)
        hint = f"  (upload later with: wandb sync {where})" if "offline-run" in where else ""
        print(f"wandb:    {where}{hint}")
    return 0


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        code = run(args)
    except CliffbenchError as exc:
        print(f"cliffbench-report: error: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
