"""Scaling-law fits of a median curve, in log space, with bounds and several starts:

* power law with floor ``E + A * n**-alpha`` (Hernandez et al.; the large-n behaviour);
* a broken power law with one smooth break (Caballero et al.'s BNSL form)
  ``E + b * n**-c0 * (1 + (n/d)**(1/f))**(-c1*f)``: slope ``-c0`` well before the break ``d``,
  ``-(c0+c1)`` well after it, ``f`` the break's sharpness. With ``c1 > 0`` it bends down: a cliff.

A fit that cannot be made returns NaN parameters and a ``reason``; it never raises.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

MIN_POINTS_POWER_LAW = 4
MIN_POINTS_BNSL = 7
MIN_TAIL_POINTS = 5
NAN = float("nan")


@dataclass
class PowerLawFit:
    E: float = NAN
    A: float = NAN
    alpha: float = NAN
    rmse_log: float = NAN
    r2_log: float = NAN
    points: int = 0
    n_lo: float = NAN
    n_hi: float = NAN
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    def predict(self, n) -> np.ndarray:
        return self.E + self.A * np.asarray(n, dtype=float) ** -self.alpha

    def n_at(self, target: float) -> float:
        """The n where the fitted curve reaches ``target`` (inf when the floor E is at or above it)."""
        if not self.ok:
            return NAN
        if target <= self.E or self.A <= 0 or self.alpha <= 0:
            return math.inf
        log_n = (math.log(self.A) - math.log(target - self.E)) / self.alpha
        return math.exp(log_n) if log_n < 700 else math.inf


@dataclass
class BNSLFit:
    E: float = NAN
    b: float = NAN
    c0: float = NAN
    c1: float = NAN
    d: float = NAN
    f: float = NAN
    rmse_log: float = NAN
    points: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def slope_before(self) -> float:
        return -self.c0

    @property
    def slope_after(self) -> float:
        return -(self.c0 + self.c1)

    def predict(self, n) -> np.ndarray:
        return np.exp(_bnsl_log(np.log(np.asarray(n, dtype=float)),
                                [math.log(self.b), self.c0, self.c1, math.log(self.d), math.log(self.f), self.E]))


def default_fit_range(n: np.ndarray) -> tuple[float, float]:
    """The large-n tail: grid points with n at or above the geometric midpoint of the grid, extended
    downwards to at least ``MIN_TAIL_POINTS`` points (or the whole grid when it is shorter)."""
    n = np.sort(np.asarray(n, dtype=float))
    if len(n) == 0:
        return NAN, NAN
    mid = math.sqrt(n[0] * n[-1])
    lo = n[n >= mid][0]
    lo = min(lo, n[max(len(n) - MIN_TAIL_POINTS, 0)])
    return float(lo), float(n[-1])


def _select(n, y, n_min, n_max):
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(y) & (y > 0) & (n >= (n_min if n_min is not None else -np.inf)) \
        & (n <= (n_max if n_max is not None else np.inf))
    return n[keep], y[keep], int((np.isfinite(y) & (y <= 0)).sum())


def _least_squares(residual, starts, lower, upper, max_nfev: int = 400, jac=None, first_suffices: bool = False):
    """Best of the starts; with ``first_suffices`` (a warm start) the first converged result is kept."""
    from scipy.optimize import least_squares

    best = None
    for x0 in starts:
        x0 = np.clip(np.asarray(x0, dtype=float), lower + 1e-9, upper - 1e-9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = least_squares(residual, x0, jac=jac or "2-point", bounds=(lower, upper), method="trf",
                                    max_nfev=max_nfev)
            except (ValueError, FloatingPointError):
                continue
        if np.all(np.isfinite(res.fun)) and (best is None or res.cost < best.cost):
            best = res
            if first_suffices and res.status > 0:
                break
    return best


def fit_power_law(n, y, n_min: float | None = None, n_max: float | None = None,
                  start: PowerLawFit | None = None, quick: bool = False,
                  floor: float | None = None) -> PowerLawFit:
    """Fit ``E + A n^-alpha`` to (n, y) with n in [n_min, n_max] by least squares on log y.

    Bounds: ``0 <= alpha <= 6``, ``0 <= E <= min(y)``; a known ``floor`` fixes E (points at or
    below it cannot be fitted and are left out). Every parameter lives in a scale-free space (log A
    relative to the data's mean log, E as a fraction of min y), so the fit works the same at 1e-12
    as at 1. ``start`` (e.g. the point estimate, when fitting bootstrap resamples) is tried first;
    ``quick`` uses fewer extra starts.
    """
    n, y, zeros = _select(n, y, n_min, n_max)
    below = 0
    if floor is not None:
        keep = y > floor * (1 + 1e-9)
        below = int((~keep).sum())
        n, y = n[keep], y[keep]
    out = PowerLawFit(points=len(n), n_lo=float(n.min()) if len(n) else NAN,
                      n_hi=float(n.max()) if len(n) else NAN)
    if len(n) < MIN_POINTS_POWER_LAW:
        zero_note = f" ({zeros} with median error 0, which log space cannot fit)" if zeros else ""
        floor_note = f" ({below} at or below the known floor {floor:.4g})" if below else ""
        out.reason = (f"needs >= {MIN_POINTS_POWER_LAW} n with positive median error in the fit range, "
                      f"has {len(n)}{zero_note}{floor_note}")
        return out
    logy = np.log(y)
    if logy.max() - logy.min() < math.log(1.01):
        out.reason = "flat: the median changes by < 1% over the fit range, so alpha is not identifiable"
        return out
    x = np.log(n)
    x_ref, scale = float(x.mean()), float(logy.mean())
    ymin = float(y.min())
    fixed = floor is not None
    log_e_fixed = math.log(floor) if fixed and floor > 0 else -np.inf

    def model_log(p):  # p = (log A_ref - scale, alpha[, E / min y]); A_ref is A at n = exp(x_ref)
        log_e = log_e_fixed if fixed else (math.log(p[2] * ymin) if p[2] > 0 else -np.inf)
        return np.logaddexp(log_e, scale + p[0] - p[1] * (x - x_ref))

    def residual(p):
        return model_log(p) - logy

    def jacobian(p):  # d model_log / d p, analytic (the fit is ~10x faster than with differences)
        m = model_log(p)
        share = np.exp(scale + p[0] - p[1] * (x - x_ref) - m)  # the power-law term's share of the model
        cols = [share, -share * (x - x_ref)]
        if not fixed:
            cols.append(ymin * np.exp(-m))
        return np.stack(cols, axis=1)

    lower, upper = np.array([-50.0, 0.0, 0.0]), np.array([50.0, 6.0, 1.0])
    if fixed:
        lower, upper = lower[:2], upper[:2]
    starts = []
    if start is not None and start.ok and start.A > 0:
        s0 = [math.log(start.A) - start.alpha * x_ref - scale, start.alpha, min(start.E / ymin, 0.999)]
        starts.append(s0[:2] if fixed else s0)
    alphas, fracs = ((0.3, 1.0), (0.0, 0.5)) if quick else ((0.1, 0.5, 1.0, 2.0), (0.0, 0.5, 0.9))
    if fixed:
        # the excess over the floor at the centre of the range sets A's start
        excess = y - floor
        mid = float(np.mean(np.log(excess))) - scale
        starts += [[mid, a] for a in alphas]
    else:
        for a in alphas:
            for u in fracs:
                # A_ref such that the model is the data's geometric mean at the centre
                gap = max(1.0 - u * math.exp(math.log(ymin) - scale), 1e-12)
                starts.append([math.log(gap), a, u])
    warm = quick and start is not None and start.ok
    best = _least_squares(residual, starts, lower, upper, jac=jacobian, first_suffices=warm)
    if best is None:
        out.reason = "optimizer failed from every start"
        return out
    log_a_ref, alpha = float(best.x[0]) + scale, float(best.x[1])
    E = float(floor) if fixed else float(best.x[2]) * ymin
    resid = best.fun
    ss_tot = float(((logy - logy.mean()) ** 2).sum())
    out.E, out.alpha = E, alpha
    out.A = float(math.exp(min(log_a_ref + alpha * x_ref, 700.0)))
    out.rmse_log = float(np.sqrt(np.mean(resid ** 2)))
    out.r2_log = float(1 - (resid ** 2).sum() / ss_tot) if ss_tot > 0 else NAN
    return out


def _bnsl_log(x, p):
    log_b, c0, c1, log_d, log_f, E = p
    f = math.exp(log_f)
    u = log_b - c0 * x - c1 * f * np.logaddexp(0.0, (x - log_d) / f)
    return np.logaddexp(math.log(E) if E > 0 else -np.inf, u)


def fit_bnsl(n, y, n_min: float | None = None, n_max: float | None = None) -> BNSLFit:
    """Fit the one-break smoothly broken power law to (n, y) by least squares on log y.

    Bounds: ``-1 <= c0 <= 6``, ``-6 <= c1 <= 10``, break ``d`` inside the data's n-range,
    sharpness ``0.02 <= f <= 5``, ``0 <= E <= min(y)``.
    """
    n, y, _ = _select(n, y, n_min, n_max)
    out = BNSLFit(points=len(n))
    if len(n) < MIN_POINTS_BNSL:
        out.reason = f"needs >= {MIN_POINTS_BNSL} n with positive median error, has {len(n)}"
        return out
    x, logy = np.log(n), np.log(y)
    if logy.max() - logy.min() < math.log(1.01):
        out.reason = "flat: the median changes by < 1%"
        return out
    ymin = float(y.min())
    # log b and E are fitted relative to the data's scale (E as a fraction of min y), as above
    scale = float(logy.mean())
    lower = np.array([scale - 100.0, -1.0, -6.0, x.min(), math.log(0.02), 0.0])
    upper = np.array([scale + 100.0, 6.0, 10.0, x.max(), math.log(5.0), 1.0])

    def absolute(p):
        return [p[0], p[1], p[2], p[3], p[4], p[5] * ymin]

    def residual(p):
        return _bnsl_log(x, absolute(p)) - logy

    def jacobian(p):
        log_b, c0, c1, log_d, log_f, _ = absolute(p)
        f = math.exp(log_f)
        z = (x - log_d) / f
        soft, sig = np.logaddexp(0.0, z), 0.5 * (1 + np.tanh(0.5 * z))  # log(1 + e^z) and its slope
        u = log_b - c0 * x - c1 * f * soft
        m = _bnsl_log(x, absolute(p))
        du = np.exp(u - m)  # share of the broken power law in the model
        return np.stack([du, -x * du, -f * soft * du, c1 * sig * du, -c1 * f * (soft - z * sig) * du,
                         ymin * np.exp(-m)], axis=1)

    # Starts: the break at each quartile of log n, the slopes before/after it from the data's
    # chords, a gentle or a steep extra bend.
    starts = []
    for q in (0.25, 0.5, 0.75):
        log_d = float(np.quantile(x, q))
        left, right = x <= log_d, x >= log_d
        c0 = -float(np.polyfit(x[left], logy[left], 1)[0]) if left.sum() >= 2 else 0.5
        c_after = -float(np.polyfit(x[right], logy[right], 1)[0]) if right.sum() >= 2 else c0
        for bend in (max(c_after - c0, 0.2), 3.0):
            c0s = float(np.clip(c0, lower[1], upper[1]))
            starts.append([float(logy[0] + c0s * x[0]), c0s, bend, log_d, math.log(0.3), 0.0])
    best = _least_squares(residual, starts, lower, upper, max_nfev=200, jac=jacobian)
    if best is None:
        out.reason = "optimizer failed from every start"
        return out
    log_b, c0, c1, log_d, log_f, E = (float(v) for v in absolute(best.x))
    out.E, out.b, out.c0, out.c1 = E, math.exp(log_b), c0, c1
    out.d, out.f = math.exp(log_d), math.exp(log_f)
    out.rmse_log = float(np.sqrt(np.mean(best.fun ** 2)))
    return out
