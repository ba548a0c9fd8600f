"""Everything the report computes for one curve: the power-law fit on the chosen n-range with its
bootstrap, the one-break BNSL fit on the whole curve, and the cliff tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cliffbench.report.bootstrap import Bootstrap, bootstrap, ci
from cliffbench.report.cliffs import Cliff, detect_cliffs
from cliffbench.report.curves import Curve
from cliffbench.report.fits import BNSLFit, PowerLawFit, default_fit_range, fit_bnsl, fit_power_law


@dataclass
class Settings:
    """Report options (see ``docs/report.md``)."""

    fit_min_n: float | None = None      # None: the large-n tail (fits.default_fit_range)
    fit_max_n: float | None = None
    n_boot: int = 200
    seed: int = 0
    level: float = 0.05                 # significance level of the cliff tests
    correction: str = "holm"            # holm | bh
    min_slope_change: float = 0.1
    floor: float | None = None          # error floor for logs (None: the metric's resolution)
    widths: tuple[int, ...] = (1, 2)


@dataclass
class CurveReport:
    curve: Curve
    fit: PowerLawFit
    fit_range: tuple[float, float]
    boot: Bootstrap
    bnsl: BNSLFit
    cliffs: list[Cliff]
    tests: object = field(repr=False, default=None)
    cliff_note: str = ""

    def param_ci(self, name: str) -> tuple[float, float]:
        return ci(self.boot.param(name))


def fit_range(curve: Curve, settings: Settings) -> tuple[float, float]:
    lo, hi = default_fit_range(curve.n)
    if settings.fit_min_n is not None:
        lo = float(settings.fit_min_n)
    if settings.fit_max_n is not None:
        hi = float(settings.fit_max_n)
    return lo, hi


def analyze_curve(curve: Curve, settings: Settings) -> CurveReport:
    lo, hi = fit_range(curve, settings)
    median = curve.median
    fit = fit_power_law(curve.n, median, lo, hi)
    boot = bootstrap(curve, fit, lo, hi, settings.n_boot, settings.seed)
    bnsl = fit_bnsl(curve.n, median)
    floor = settings.floor
    if floor is None and not np.isfinite(curve.resolution):
        cliffs, tests = [], None
    else:
        cliffs, tests = detect_cliffs(curve, settings.level, settings.widths, floor, settings.correction,
                                      settings.min_slope_change)
    return CurveReport(curve, fit, (lo, hi), boot, bnsl, cliffs, tests, power_note(tests, settings.level))


def power_note(tests, level: float) -> str:
    """Why no window could be significant, if so: with T trials the exact one-sided Wilcoxon test
    cannot give p below 2^-T, and the correction multiplies the smallest p by the number of tests."""
    if tests is None or not len(tests):
        return "no window could be tested (too few n, trials or change)"
    trials = int(tests["trials"].max())
    if 0.5 ** trials * len(tests) >= level:
        need = int(np.ceil(np.log2(len(tests) / level)))
        return (f"too few trials ({trials}) for a significant cliff over {len(tests)} tests at level {level}; "
                f"need >= {need}")
    return ""
