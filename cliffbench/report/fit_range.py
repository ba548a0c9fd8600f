"""The default n-range of the power-law fit: the part of the large-n tail that is asymptotic.

``E + A n^-alpha`` describes a curve only once it has left any cliff and any pre-asymptotic bend
(least squares at d = 100 has local exponent n / (n - d - 1): 1.47 at n = 316, 1.11 at n = 1000).
A fit over a tail that still bends returns an effective exponent with an interval that excludes
the true one, and may push E below a known floor.

Rule. Candidates are the tails [n_k, n_max] inside the upper half of the grid in log n (n >= the
geometric midpoint, at least ``MIN_TAIL_POINTS`` points), longest first. For each, with E the known
floor (or, without one, the E fitted on that tail), the local exponent of the excess y - E is
measured as the log-log chord over the lower half of the tail and over its upper half. The tail is
asymptotic when its median never rises (by more than 2% and 3 standard errors: E + A n^-alpha
cannot) and the two differ by at most ``STABLE`` (5%) of the larger one plus ``NOISE_Z`` (2)
standard errors of the difference (propagated from the medians' standard errors, 1.25 sd/sqrt(T)),
and that standard error is below ``MAX_NOISE`` (25%) of the exponents (an excess lost in the noise
cannot tell). The first (longest)
asymptotic tail is the fit range; when none is, the shortest tail is used and the note says the
rule cannot tell (the fitted alpha is then an effective exponent of that range).

Without a known floor the rule is weaker: E and alpha trade off, and a fitted E absorbs part of a
slow bend (on F.1 at d = 100, s = 1 the fitted E lies ~1% below the Bayes error). Datasets that know
their floor record it (``meta.known_floor``) and ``--floor`` gives one.
"""

from __future__ import annotations

import math

import numpy as np

from cliffbench.report.fits import MIN_TAIL_POINTS, default_fit_range, fit_power_law

STABLE = 0.05
NOISE_Z = 2.0
MAX_NOISE = 0.25  # exponents known worse than this (relative s.e. of their difference) cannot tell


def half_exponents(n: np.ndarray, y: np.ndarray, E: float, se: np.ndarray) -> tuple[float, float, float]:
    """Local exponents -d log(y - E) / d log n as chords over the lower and the upper half of n,
    and the standard error of their difference from the medians' standard errors ``se``."""
    keep = np.isfinite(y) & (y - E > 0)
    n, excess, se = n[keep], y[keep] - E, se[keep]
    if len(n) < 3:
        return math.nan, math.nan, math.nan
    mid = int(np.argmin(np.abs(np.log(n) - 0.5 * (np.log(n[0]) + np.log(n[-1])))))
    mid = min(max(mid, 1), len(n) - 2)
    rel = np.nan_to_num(se / excess) ** 2  # variance of log(excess) at each n

    def chord(a, b):
        return -(math.log(excess[b]) - math.log(excess[a])) / (math.log(n[b]) - math.log(n[a]))

    dl, dh = math.log(n[mid] / n[0]), math.log(n[-1] / n[mid])
    var = rel[0] / dl**2 + rel[-1] / dh**2 + rel[mid] * (1 / dl + 1 / dh) ** 2
    return chord(0, mid), chord(mid, len(n) - 1), math.sqrt(max(var, 0.0))


def asymptotic_fit_range(n, y, floor: float | None = None, se=None) -> tuple[float, float, str]:
    """(n_lo, n_hi, note) of the default fit range for median curve ``y`` on grid ``n`` (see the
    module docstring); ``floor`` is the known floor E, if any; ``se`` the medians' standard errors
    (default 0: an exact curve)."""
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    se = np.zeros_like(y) if se is None else np.asarray(se, dtype=float)
    ok = np.isfinite(y) & (y > 0)
    if floor is not None:
        ok &= y > floor
    n_ok, y_ok, se_ok = n[ok], y[ok], se[ok]
    lo, hi = default_fit_range(n_ok if len(n_ok) else n)
    if len(n_ok) < MIN_TAIL_POINTS or math.isnan(lo):
        return lo, hi, ""
    starts = [k for k in range(len(n_ok) - MIN_TAIL_POINTS + 1) if n_ok[k] >= lo]
    last = ""
    step = np.diff(y_ok)
    rises = (step > 0.02 * y_ok[:-1]) & (step > 3 * np.hypot(se_ok[:-1], se_ok[1:]))
    for k in starts:
        if rises[k:].any():  # E + A n^-alpha never rises: a tail with a peak is not asymptotic
            last = f"the median rises after n={n_ok[k + int(np.argmax(rises[k:]))]:g}"
            continue
        E = floor
        if E is None:
            fit = fit_power_law(n_ok[k:], y_ok[k:], quick=True)
            if not fit.ok:
                continue
            E = fit.E
        a_low, a_high, se_diff = half_exponents(n_ok[k:], y_ok[k:], E, se_ok[k:])
        if not (math.isfinite(a_low) and math.isfinite(a_high)):
            continue
        last = f"local exponent {a_low:.2f} (lower half) vs {a_high:.2f} (upper half)"
        scale = max(abs(a_low), abs(a_high), 1e-12)
        if se_diff > MAX_NOISE * scale:
            last += f" within noise (s.e. {se_diff:.2g})"
            continue
        if abs(a_low - a_high) <= STABLE * max(abs(a_low), abs(a_high), 1e-12) + NOISE_Z * se_diff:
            return float(n_ok[k]), float(n_ok[-1]), f"asymptotic tail: {last}"
    k = starts[-1] if starts else max(len(n_ok) - MIN_TAIL_POINTS, 0)
    why = f"{last} on the shortest tail" if last else "no tail could be measured"
    return float(n_ok[k]), float(n_ok[-1]), (f"cannot tell whether the tail is asymptotic ({why}); "
                                             "alpha is an effective exponent of this range")
