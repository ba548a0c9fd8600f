"""Everything the report computes for one curve: the power-law fit on the chosen n-range with its
bootstrap, the one-break BNSL fit on the whole curve, and the cliff tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cliffbench.report.bootstrap import Bootstrap, bootstrap, ci
from cliffbench.report.cliffs import MIN_TRIALS, Cliff, detect_cliffs
from cliffbench.report.curves import Curve
from cliffbench.report.fit_range import asymptotic_fit_range
from cliffbench.report.fits import BNSLFit, PowerLawFit, fit_bnsl, fit_power_law


MIN_CELL_FRACTION = 0.5  # an n with fewer ok trials than this share of the curve's most is named


@dataclass
class Settings:
    """Report options (see ``docs/report.md``)."""

    fit_min_n: float | None = None      # None: the asymptotic large-n tail (fit_range.py)
    fit_max_n: float | None = None
    n_boot: int = 200
    seed: int = 0
    level: float = 0.05                 # significance level of the cliff tests
    correction: str = "holm"            # holm | bh
    min_slope_change: float = 0.02   # calibrated: benchmarks/cliff_calibration.py
    floor: float | None = None          # error floor for logs (None: the metric's resolution)
    widths: tuple[int, ...] = (1, 2)
    known_floors: dict[str, float] = field(default_factory=dict)  # config_id -> E fixed in the fit


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
    fit_range_note: str = ""
    known_floor: float | None = None

    @property
    def dropped(self) -> str:
        """The n the power-law fit and log-scale figures leave out, grouped by reason."""
        c, med = self.curve, self.curve.median
        reasons: dict[str, list[float]] = {}
        for j, n in enumerate(c.n):
            if c.trials[j] == 0:
                why = "no ok cell"
            elif med[j] <= 0:
                why = "median error 0 (no log)"
            elif self.known_floor is not None and med[j] <= self.known_floor:
                why = f"median <= known floor {self.known_floor:.4g}"
            elif c.trials[j] < MIN_CELL_FRACTION * c.trials.max():
                why = f"under half of the {int(c.trials.max())} trials ok (kept)"
            else:
                continue
            reasons.setdefault(why, []).append(float(n))
        return "; ".join(f"{why} at n={_list(ns)}" for why, ns in reasons.items())

    def param_ci(self, name: str) -> tuple[float, float]:
        return ci(self.boot.param(name))


def _list(ns: list[float]) -> str:
    return ", ".join(f"{n:g}" for n in ns) if len(ns) <= 4 else f"{ns[0]:g}…{ns[-1]:g} ({len(ns)} n)"


def fit_range(curve: Curve, settings: Settings, known_floor: float | None = None) -> tuple[float, float, str]:
    """The fit's n-range and how it was chosen: the asymptotic tail, unless given."""
    lo, hi, note = asymptotic_fit_range(curve.n, curve.median, known_floor, curve.median_se)
    if settings.fit_min_n is None and settings.fit_max_n is None:
        return lo, hi, note
    lo = float(settings.fit_min_n) if settings.fit_min_n is not None else lo
    hi = float(settings.fit_max_n) if settings.fit_max_n is not None else float(np.nanmax(curve.n))
    return lo, hi, "given"


def analyze_curve(curve: Curve, settings: Settings) -> CurveReport:
    known = settings.known_floors.get(curve.config_id)
    lo, hi, range_note = fit_range(curve, settings, known)
    median = curve.median
    fit = fit_power_law(curve.n, median, lo, hi, floor=known)
    boot = bootstrap(curve, fit, lo, hi, settings.n_boot, settings.seed, floor=known)
    bnsl = fit_bnsl(curve.n, median)
    floor = settings.floor
    if floor is None and not np.isfinite(curve.resolution):
        cliffs, tests = [], None
    else:
        cliffs, tests = detect_cliffs(curve, settings.level, settings.widths, floor, settings.correction,
                                      settings.min_slope_change)
    return CurveReport(curve, fit, (lo, hi), boot, bnsl, cliffs, tests, power_note(tests, settings.level, curve),
                       range_note, known)


def power_note(tests, level: float, curve: Curve | None = None) -> str:
    """Why no window could be significant, if so: with T trials the exact one-sided Wilcoxon test
    cannot give p below 2^-T, and the correction multiplies the smallest p by the number of tests."""
    if tests is None or not len(tests):
        trials = int(curve.trials.max()) if curve is not None and len(curve.n) else 0
        if trials < MIN_TRIALS:
            return f"too few trials ({trials}) for a cliff test: each window needs >= {MIN_TRIALS}"
        if curve is not None and len(curve.n) < 3:
            return f"too few n ({len(curve.n)}) for a cliff test: a window needs 3"
        return "no window could be tested (every window flat, rising, or already at the error floor)"
    trials = int(tests["trials"].max())
    if 0.5 ** trials * len(tests) >= level:
        need = int(np.ceil(np.log2(len(tests) / level)))
        return (f"too few trials ({trials}) for a significant cliff over {len(tests)} tests at level {level}; "
                f"need >= {need}")
    return ""
