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
from cliffbench.report.bootstrap import MIN_TRIALS_CI, Bootstrap, ci
from cliffbench.report.curves import Curve
from cliffbench.report.fits import PowerLawFit

REACHED_AT_START = "reached at the first n (upper bound)"
INTERPOLATED = "interpolated"
AT_GRID = "first grid n reached (not interpolated: {why}); the crossing lies in ({lo:g}, {hi:g}]"
EXTRAPOLATED = "extrapolated from fit"


def crossing_n(n: np.ndarray, median: np.ndarray, target: float,
               floor: float) -> tuple[float, str, tuple[float, float]]:
    """First n where ``median`` falls to ``target`` or below, and the grid interval that holds it.

    Interpolated linearly on log-log axes between the bracketing grid points only where the
    median is monotone (non-increasing from the point before the bracket to the one after it) and
    positive above ``floor`` at both ends. Elsewhere (a drop to an exact 0, as least squares at
    n = d, or a bump around the crossing) a straight line would invent a crossing the curve does not
    make: the answer is the first grid n that reaches the target, with its bracket. Returns
    (NaN, "", (NaN, NaN)) when the median never gets there."""
    ok = np.isfinite(median)
    n, y = np.asarray(n, dtype=float)[ok], np.asarray(median, dtype=float)[ok]
    hit = np.flatnonzero(y <= target)
    if not len(hit):
        return math.nan, "", (math.nan, math.nan)
    j = int(hit[0])
    if j == 0:
        return float(n[0]), REACHED_AT_START, (0.0, float(n[0]))
    bracket = (float(n[j - 1]), float(n[j]))
    low = floor if np.isfinite(floor) and floor > 0 else 0.0
    why = ""
    if y[j] <= low:
        why = "the median drops to 0" if y[j] <= 0 else "the median drops to the resolution floor"
    elif (j >= 2 and y[j - 2] < y[j - 1]) or (j + 1 < len(y) and y[j + 1] > y[j]):
        why = "the median is not monotone around the crossing"
    if why:
        return bracket[1], AT_GRID.format(why=why, lo=bracket[0], hi=bracket[1]), bracket
    t = (math.log(target) - math.log(y[j - 1])) / (math.log(y[j]) - math.log(y[j - 1]))
    value = math.exp(math.log(n[j - 1]) + t * (math.log(n[j]) - math.log(n[j - 1])))
    return float(value), INTERPOLATED, (value, value)


def n_to_reach(curve: Curve, fit: PowerLawFit, boot: Bootstrap, target: float, floor_known: bool = False) -> dict:
    """Point estimate, CI and how it was obtained, plus the bootstrap draws (for multipliers).
    A crossing that is not interpolated keeps its whole grid interval inside the CI."""
    floor = curve.resolution
    n_star, how, bracket = crossing_n(curve.n, curve.median, target, floor)
    if math.isnan(n_star):
        bracket = (math.nan, math.nan)
        if fit.ok:
            n_star = fit.n_at(target)
            which = "known" if floor_known else "fitted"
            how = EXTRAPOLATED if math.isfinite(n_star) else f"unreachable: {which} floor E={fit.E:.3g} >= target"
            bracket = (n_star, n_star)
        else:
            how = f"not reached within the data; no fit ({fit.reason})"
    draws = np.full(len(boot.fits), math.nan)
    for b, (med, bfit) in enumerate(zip(boot.medians, boot.fits)):
        value = crossing_n(curve.n, med, target, floor)[0]
        draws[b] = value if not math.isnan(value) else bfit.n_at(target)
    lo, hi = ci(draws)
    if not math.isnan(lo) and not math.isnan(bracket[0]):
        lo, hi = min(lo, bracket[0]), max(hi, bracket[1])
    trials = int(curve.trials.max()) if len(curve.n) else 0
    if not len(draws) and trials < MIN_TRIALS_CI:
        how += f"; no CI: too few trials ({trials}) for a bootstrap CI, needs >= {MIN_TRIALS_CI}"
    return {"n": n_star, "n_lo": lo, "n_hi": hi, "how": how, "draws": draws, "bracket": bracket}


def multiplier(a: dict, b: dict) -> dict:
    """How many times more data ``b`` needs than ``a`` to reach the same target: n_b / n_a."""
    with np.errstate(all="ignore"):
        value = b["n"] / a["n"] if a["n"] > 0 else math.nan
        k = min(len(a["draws"]), len(b["draws"]))
        ratios = b["draws"][:k] / a["draws"][:k]
    ratios[np.isinf(a["draws"][:k]) & np.isinf(b["draws"][:k])] = math.nan
    lo, hi = ci(ratios)
    (a_lo, a_hi), (b_lo, b_hi) = a["bracket"], b["bracket"]
    if not math.isnan(lo) and a_lo > 0 and a_hi > 0:
        # the grid intervals of crossings that were not interpolated bound the ratio too
        lo, hi = min(lo, b_lo / a_hi), max(hi, b_hi / a_lo)
    notes = ["bound: a curve is already below the target at its first n"] \
        if REACHED_AT_START in (a["how"], b["how"]) else []
    notes += sorted({h.split("; ")[-1] for h in (a["how"], b["how"]) if "no CI: too few trials" in h})
    return {"multiplier": value, "multiplier_lo": lo, "multiplier_hi": hi, "note": "; ".join(notes)}


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
