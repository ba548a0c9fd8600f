"""The report's tables (pandas DataFrames) and their Markdown / console renderings."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cliffbench.report.analyze import CurveReport
from cliffbench.report.bootstrap import MIN_TRIALS_CI
from cliffbench.report.efficiency import multiplier, n_to_reach


def _interval(cliffs) -> str:
    return "; ".join(f"[{c.n_start:g}, {c.n_end:g}]" for c in cliffs)


def _ci_note(rep: CurveReport) -> str:
    trials = int(rep.curve.trials.max()) if len(rep.curve.n) else 0
    if not len(rep.boot.medians) and trials < MIN_TRIALS_CI:
        return f"no CI: too few trials ({trials}) for a bootstrap CI, needs >= {MIN_TRIALS_CI}"
    return ""


def summary_table(reports: Sequence[CurveReport]):
    """One row per curve: data extent, power-law fit with bootstrap CIs, BNSL fit, cliffs."""
    import pandas as pd

    rows = []
    for rep in reports:
        c, fit, bn = rep.curve, rep.fit, rep.bnsl
        med = c.median
        zero = np.flatnonzero(med == 0)
        row = {"label": c.label, "config_id": c.config_id, **c.info,
               "n_min": c.n.min(), "n_max": c.n.max(), "points": len(c.n),
               "trials": int(np.median(c.trials)), "failed_cells": int(c.failed.sum()),
               "final_median": float(med[-1]), "zero_error_at_n": float(c.n[zero[0]]) if len(zero) else math.nan,
               "fit_n_lo": rep.fit_range[0], "fit_n_hi": rep.fit_range[1], "fit_points": fit.points}
        for name in ("alpha", "E", "A"):
            lo, hi = rep.param_ci(name)
            row.update({name: getattr(fit, name), f"{name}_lo": lo, f"{name}_hi": hi})
        row["E_known"] = rep.known_floor if rep.known_floor is not None else math.nan
        row.update({"fit_range_note": rep.fit_range_note, "dropped_points": rep.dropped,
                    "ci_note": _ci_note(rep)})
        row.update({"rmse_log": fit.rmse_log, "r2_log": fit.r2_log, "fit_failed_resamples": rep.boot.failed_fraction,
                    "fit_reason": fit.reason,
                    "bnsl_break_n": bn.d, "bnsl_slope_before": bn.slope_before if bn.ok else math.nan,
                    "bnsl_slope_after": bn.slope_after if bn.ok else math.nan, "bnsl_E": bn.E,
                    "bnsl_sharpness": bn.f, "bnsl_rmse_log": bn.rmse_log, "bnsl_reason": bn.reason,
                    "cliffs": len(rep.cliffs), "cliff_intervals": _interval(rep.cliffs),
                    "cliff_note": rep.cliff_note})
        rows.append(row)
    return pd.DataFrame(rows)


def cliffs_table(reports: Sequence[CurveReport]):
    import pandas as pd

    rows = [{"label": rep.curve.label, "config_id": rep.curve.config_id, **vars(cl)}
            for rep in reports for cl in rep.cliffs]
    cols = ["label", "config_id", "n_start", "n_end", "slope_before", "slope_within", "slope_steepest",
            "slope_after", "p_adjusted", "error_start", "error_end"]
    return pd.DataFrame(rows, columns=cols)


def efficiency_tables(reports: Sequence[CurveReport], targets: dict[str, float],
                      pairs: Sequence[tuple[int, int]]):
    """(n to reach each target per curve, multipliers for each (curve, baseline) pair and target)."""
    import pandas as pd

    reach: dict[tuple[int, str], dict] = {}
    rows = []
    for i, rep in enumerate(reports):
        for name, target in targets.items():
            res = n_to_reach(rep.curve, rep.fit, rep.boot, target, rep.known_floor is not None)
            reach[i, name] = res
            rows.append({"label": rep.curve.label, "target_name": name, "target": target,
                         **{k: v for k, v in res.items() if k not in ("draws", "bracket")}})
    mult = []
    for i, base in pairs:
        for name, target in targets.items():
            m = multiplier(reach[i, name], reach[base, name])
            mult.append({"label": reports[i].curve.label, "baseline": reports[base].curve.label,
                         "target_name": name, "target": target, "n": reach[i, name]["n"],
                         "n_baseline": reach[base, name]["n"], **m})
    eff_cols = ["label", "target_name", "target", "n", "n_lo", "n_hi", "how"]
    mult_cols = ["label", "baseline", "target_name", "target", "n", "n_baseline", "multiplier",
                 "multiplier_lo", "multiplier_hi", "note"]
    return pd.DataFrame(rows, columns=eff_cols), pd.DataFrame(mult, columns=mult_cols)


def fmt(value, digits: int = 3) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if abs(value) < 1e-12:
        return "0"
    return f"{value:.{digits}g}"


def with_ci(value, lo, hi, digits: int = 3) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(lo, float) and math.isnan(lo):
        return fmt(value, digits)
    return f"{fmt(value, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def markdown(df, columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (numbers to 3 significant digits)."""
    columns = list(columns or df.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(fmt(row[c]).replace("|", "/") for c in columns) + " |")
    return "\n".join(lines)


def display_summary(summary):
    """The summary with CIs folded into one column per quantity (for Markdown and the console)."""
    import pandas as pd

    out = pd.DataFrame({"curve": summary["label"],
                        "n": [f"{a:g}–{b:g}" for a, b in zip(summary["n_min"], summary["n_max"])],
                        "trials": summary["trials"]})
    for name in ("alpha", "E", "A"):
        cis = zip(summary[name], summary[f"{name}_lo"], summary[f"{name}_hi"])
        out[name] = [with_ci(v, lo, hi) for v, lo, hi in cis]
    out["E"] = [f"{fmt(known)} (known)" if not math.isnan(known) else e
                for e, known in zip(out["E"], summary["E_known"])]
    out["fit n"] = [f"{a:g}–{b:g}" for a, b in zip(summary["fit_n_lo"], summary["fit_n_hi"])]
    out["rmse(log)"] = [fmt(v) if not r else f"failed: {r}" for v, r in zip(summary["rmse_log"], summary["fit_reason"])]
    out["BNSL break n"] = [fmt(v) for v in summary["bnsl_break_n"]]
    out["cliffs"] = [s or (f"none ({note})" if note else "none")
                     for s, note in zip(summary["cliff_intervals"], summary["cliff_note"])]
    notes = [[n for n in (ci_note, rng if rng.startswith("cannot") else "", f"dropped {drop}" if drop else "")
              if n] for ci_note, rng, drop in zip(summary["ci_note"], summary["fit_range_note"],
                                                  summary["dropped_points"])]
    out["notes"] = ["; ".join(n) for n in notes]
    return out


def display_efficiency(eff):
    import pandas as pd

    return pd.DataFrame({"curve": eff["label"],
                         "target": [f"{n} ({fmt(t)})" for n, t in zip(eff["target_name"], eff["target"])],
                         "n": [with_ci(v, lo, hi) for v, lo, hi in zip(eff["n"], eff["n_lo"], eff["n_hi"])],
                         "how": eff["how"]})


def display_multipliers(mult):
    import pandas as pd

    return pd.DataFrame({"curve": mult["label"], "vs": mult["baseline"],
                         "target": [f"{n} ({fmt(t)})" for n, t in zip(mult["target_name"], mult["target"])],
                         "× less data": [with_ci(v, lo, hi) for v, lo, hi in
                                         zip(mult["multiplier"], mult["multiplier_lo"], mult["multiplier_hi"])],
                         "note": mult["note"]})
