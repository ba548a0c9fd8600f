"""Data efficiency: the n at which a curve's median reaches a target error, and multipliers
between curves ("A reaches human error with k x less data than B").

Within the data the n is interpolated linearly on log-log axes between the two grid points that
bracket the first crossing; beyond the data it is extrapolated from the power-law fit
``n = (A / (target - E))**(1/alpha)`` (infinite when the fitted floor E is at or above the target).
CIs come from the same bootstrap resamples as the fits (each resample: its own crossing, or its
own fit's extrapolation). A multiplier's CI pairs the curves' resamples draw by draw.
"""

from __future__ import annotations

import math

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.report.bootstrap import Bootstrap, ci
from cliffbench.report.curves import Curve
from cliffbench.report.fits import PowerLawFit

REACHED_AT_START = "reached at the first n (upper bound)"
INTERPOLATED = "interpolated"
EXTRAPOLATED = "extrapolated from fit"


def crossing_n(n: np.ndarray, median: np.ndarray, target: float, floor: float) -> tuple[float, str]:
    """First n where ``median`` falls to ``target`` or below, interpolated on log-log axes; medians
    of 0 count as ``floor``. Returns (NaN, "") when the median never gets there."""
    ok = np.isfinite(median)
    n, y = np.asarray(n, dtype=float)[ok], np.asarray(median, dtype=float)[ok]
    if not len(y):
        return math.nan, ""
    hit = np.flatnonzero(y <= target)
    if not len(hit):
        return math.nan, ""
    j = int(hit[0])
    if j == 0:
        return float(n[0]), REACHED_AT_START
    if not (np.isfinite(floor) and floor > 0):
        floor = min(target, y[j - 1]) * 1e-3
    y0, y1 = max(y[j - 1], floor), max(y[j], floor)
    if y1 >= y0 or target <= y1:
        return float(n[j]), INTERPOLATED
    t = (math.log(target) - math.log(y0)) / (math.log(y1) - math.log(y0))
    return float(math.exp(math.log(n[j - 1]) + t * (math.log(n[j]) - math.log(n[j - 1])))), INTERPOLATED


def n_to_reach(curve: Curve, fit: PowerLawFit, boot: Bootstrap, target: float) -> dict:
    """Point estimate, CI and how it was obtained, plus the bootstrap draws (for multipliers)."""
    floor = curve.resolution
    n_star, how = crossing_n(curve.n, curve.median, target, floor)
    if math.isnan(n_star):
        if fit.ok:
            n_star = fit.n_at(target)
            how = EXTRAPOLATED if math.isfinite(n_star) else f"unreachable: fitted floor E={fit.E:.3g} >= target"
        else:
            how = f"not reached within the data; no fit ({fit.reason})"
    draws = np.full(len(boot.fits), math.nan)
    for b, (med, bfit) in enumerate(zip(boot.medians, boot.fits)):
        value, _ = crossing_n(curve.n, med, target, floor)
        draws[b] = value if not math.isnan(value) else bfit.n_at(target)
    lo, hi = ci(draws)
    return {"n": n_star, "n_lo": lo, "n_hi": hi, "how": how, "draws": draws}


def multiplier(a: dict, b: dict) -> dict:
    """How many times more data ``b`` needs than ``a`` to reach the same target: n_b / n_a."""
    with np.errstate(all="ignore"):
        value = b["n"] / a["n"] if a["n"] > 0 else math.nan
        k = min(len(a["draws"]), len(b["draws"]))
        ratios = b["draws"][:k] / a["draws"][:k]
    ratios[np.isinf(a["draws"][:k]) & np.isinf(b["draws"][:k])] = math.nan
    lo, hi = ci(ratios)
    bound = REACHED_AT_START in (a["how"], b["how"])
    return {"multiplier": value, "multiplier_lo": lo, "multiplier_hi": hi,
            "note": "bound: a curve is already below the target at its first n" if bound else ""}


def resolve_targets(specs, reference_lines: dict[str, float], curves: list[Curve]) -> dict[str, float]:
    """Target errors by name. Each spec is a number or the name of a reference line (a
    case-insensitive substring, e.g. ``human``). Without specs: every reference line except random
    guessing, plus ``lowest common``: the lowest median error that every curve reaches."""
    targets: dict[str, float] = {}
    for spec in specs or []:
        try:
            value = float(spec)
        except ValueError:
            hits = {k: v for k, v in reference_lines.items() if str(spec).lower() in k.lower()}
            if len(hits) != 1:
                known = ", ".join(reference_lines) or "none recorded"
                raise ConfigError(f"target {spec!r} is neither a number nor one reference line "
                                  f"(reference lines: {known}); pass e.g. --target 0.05") from None
            targets.update(hits)
            continue
        if not 0 < value:
            raise ConfigError(f"target error must be > 0, got {spec!r}")
        targets[f"{value:g}"] = value
    if specs:
        return targets
    targets = {k: float(v) for k, v in reference_lines.items() if "random" not in k.lower() and v > 0}
    lows = [np.nanmin(c.median) for c in curves if np.any(np.isfinite(c.median))]
    if lows and max(lows) > 0:
        targets["lowest common"] = float(max(lows))
    return targets
