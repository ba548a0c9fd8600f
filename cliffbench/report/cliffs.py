"""Cliff detection: regions where log-error is significantly concave in log n.

By the paper's Appendix B no power law with floor, ``E + A n^-alpha`` (A, alpha, E >= 0), is
concave on log-log axes, so a concave stretch means the error falls faster than any power law.

Test. For every grid point j and half-width h (in grid steps), each trial t gives the change of
its log-log slope across (n[j-h], n[j], n[j+h])::

    D_t = slope(n[j], n[j+h]) - slope(n[j-h], n[j])        (slope of log error vs log n)

D_t < 0 means concave. A one-sided Wilcoxon signed-rank test across trials asks whether the D_t
are centred below 0; the p-values of all windows are corrected together (Holm by default, or
Benjamini-Hochberg). A window is a cliff when its corrected p < ``level`` and the median D_t is
below ``-(min_slope_change + q)``, where q bounds the concavity that rounding to the metric's
resolution r alone can fake: each log value may be off by up to log(1 + r / (2 y)) at median
error y, so q = (e_left + e_mid) / dx_left + (e_mid + e_right) / dx_right. Overlapping cliff
windows are merged into one n-interval, trimmed on the median curve: it starts at the first grid step
whose slope has steepened by a quarter of the span's total steepening and ends at the steepest
grid step (where concavity, the slope getting steeper, stops).

Guards. Errors of exactly 0 make log undefined: they are clipped at the metric's resolution (the
smallest positive error seen in the curve, or ``floor``), so reaching 0 counts as reaching the
resolution, not as an infinitely deep drop. Windows whose median is already at that floor at their
left end cannot drop further and are not tested; nor are flat windows (median changes < 5%) or
windows with fewer than ``MIN_TRIALS`` trials complete at all three n.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from cliffbench.report.curves import Curve, nanmedian_cols

MIN_TRIALS = 5
FLAT_LOG_CHANGE = math.log(1.05)
# A cliff is a concave stretch of a *decreasing* curve: windows whose median rises anywhere (a
# double-descent peak) are not tested. A rise must beat this and the medians' noise (below).
RISE_TOLERANCE = math.log(1.02)


@dataclass
class Cliff:
    n_start: float
    n_end: float
    slope_before: float
    slope_within: float
    slope_steepest: float
    slope_after: float
    p_adjusted: float
    error_start: float
    error_end: float


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Multiple-testing correction: ``holm`` (family-wise) or ``bh`` (false discovery rate)."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1) * ranked[::-1]))[::-1]
    else:
        raise ValueError(f"unknown correction {method!r} (use holm or bh)")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _slope(x, y, a, b):
    return (y[b] - y[a]) / (x[b] - x[a]) if a != b else np.nan


def concavity_tests(curve: Curve, widths=(1, 2), floor: float | None = None, correction: str = "holm"):
    """One row per tested window: centre index j, half-width h, median D, trials, p, p_adjusted."""
    import pandas as pd
    from scipy.stats import wilcoxon

    floor = curve.resolution if floor is None else floor
    x = np.log(curve.n)
    logs = np.log(curve.floored(floor))
    med = nanmedian_cols(curve.floored(floor))
    logmed = np.log(med)
    # a step up counts as a rise when it exceeds 2% and 3 standard errors of the two log medians
    # (s.e. of a median ~ 1.25 sd / sqrt(T), sd from the trials' median absolute deviation)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mad = np.nanmedian(np.abs(logs - np.nanmedian(logs, axis=0)), axis=0) / 0.6745
        se = 1.2533 * mad / np.sqrt(np.maximum(np.isfinite(logs).sum(axis=0), 1))
    rise_bound = np.maximum(RISE_TOLERANCE, 3 * np.sqrt(se[:-1] ** 2 + se[1:] ** 2))
    rows = []
    for h in widths:
        for j in range(h, len(x) - h):
            a, c = j - h, j + h
            window = logmed[[a, j, c]]
            if not np.all(np.isfinite(window)) or med[a] <= floor * (1 + 1e-9):
                continue
            if np.any(np.diff(logmed[a:c + 1]) > rise_bound[a:c]):
                continue  # not a decreasing stretch: recovery after a peak is not a cliff
            if window.max() - window.min() < FLAT_LOG_CHANGE:
                continue
            d = (logs[:, c] - logs[:, j]) / (x[c] - x[j]) - (logs[:, j] - logs[:, a]) / (x[j] - x[a])
            d = d[np.isfinite(d)]
            e = np.log1p(floor / (2 * med[[a, j, c]]))
            q = (e[0] + e[1]) / (x[j] - x[a]) + (e[1] + e[2]) / (x[c] - x[j])
            if len(d) < MIN_TRIALS:
                continue
            if np.all(d == 0):
                p = 1.0
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = float(wilcoxon(d, alternative="less", zero_method="zsplit").pvalue)
            rows.append({"j": j, "h": h, "n_left": curve.n[a], "n": curve.n[j], "n_right": curve.n[c],
                         "median_change": float(np.median(d)), "rounding_bound": float(q),
                         "trials": len(d), "p": p})
    tests = pd.DataFrame(rows, columns=["j", "h", "n_left", "n", "n_right", "median_change",
                                       "rounding_bound", "trials", "p"])
    tests["p_adjusted"] = adjust_pvalues(tests["p"].to_numpy(), correction)
    return tests


def detect_cliffs(curve: Curve, level: float = 0.05, widths=(1, 2), floor: float | None = None,
                  correction: str = "holm", min_slope_change: float = 0.02):
    """The curve's cliffs (merged significant concave windows) and the table of all window tests."""
    floor = curve.resolution if floor is None else floor
    tests = concavity_tests(curve, widths, floor, correction)
    strong = tests["median_change"] < -(min_slope_change + tests["rounding_bound"])
    sig = tests[(tests["p_adjusted"] < level) & strong]
    spans: list[list[int]] = []
    for a, c, p in sorted(zip(sig["j"] - sig["h"], sig["j"] + sig["h"], sig["p_adjusted"])):
        if spans and a < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], c)
            spans[-1][2] = min(spans[-1][2], p)
        else:
            spans.append([a, c, p])
    if not spans:
        return [], tests
    x = np.log(curve.n)
    med = nanmedian_cols(curve.floored(floor))
    y = np.log(med)
    raw = curve.median  # the errors reported are the curve's own, not the floor that stands in for 0
    last = len(x) - 1
    cliffs = []
    for a, c, p in spans:
        steps = [_slope(x, y, k, k + 1) for k in range(a, c)]
        # Concavity (the slope getting steeper) ends at the steepest step: wide windows can reach
        # past it onto the floor, so the interval is cut there.
        c = a + 1 + int(np.nanargmin(steps))
        steps = steps[: c - a]
        # It starts where the slope has steepened by a quarter of its total steepening (noise in the
        # median makes any smaller threshold fire early on a flat stretch).
        bend = [k for k, s in enumerate(steps) if s < steps[0] + 0.25 * (min(steps) - steps[0])]
        if bend and bend[0] > 0:
            a += bend[0]
            steps = steps[bend[0]:]
        cliffs.append(Cliff(
            n_start=float(curve.n[a]), n_end=float(curve.n[c]),
            slope_before=float(_slope(x, y, max(a - 2, 0), a)) if a > 0 else math.nan,
            slope_within=float(_slope(x, y, a, c)),
            slope_steepest=float(np.nanmin(steps)),
            slope_after=float(_slope(x, y, c, min(c + 2, last))) if c < last else math.nan,
            p_adjusted=float(p), error_start=float(raw[a]), error_end=float(raw[c])))
    return cliffs, tests
