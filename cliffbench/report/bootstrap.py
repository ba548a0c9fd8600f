"""Bootstrap over trials: resample whole trials (each trial's errors across all n) with replacement,
recompute the median curve and refit it. Resampling whole trials keeps the correlation that nested
sampling creates between the n's of one trial; with iid sampling it equals resampling per n."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cliffbench.report.curves import Curve, nanmedian_cols
from cliffbench.report.fits import PowerLawFit, fit_power_law

CI_LEVEL = 0.95
MIN_TRIALS_CI = 5


@dataclass
class Bootstrap:
    """``medians[b]`` is resample b's median curve (on ``curve.n``), ``fits[b]`` its power-law fit."""

    medians: np.ndarray
    fits: list[PowerLawFit]

    def param(self, name: str) -> np.ndarray:
        return np.array([getattr(f, name) if f.ok else np.nan for f in self.fits])

    @property
    def failed_fraction(self) -> float:
        return float(np.mean([not f.ok for f in self.fits])) if self.fits else float("nan")


def bootstrap(curve: Curve, fit: PowerLawFit, n_min: float | None, n_max: float | None,
              n_boot: int, seed: int = 0, floor: float | None = None) -> Bootstrap:
    """``n_boot`` resamples of ``curve``'s trials; fits start from the point estimate ``fit`` (with
    the known ``floor`` fixed, if given). No resamples with fewer than ``MIN_TRIALS_CI`` trials:
    T trials have only C(2T-1, T) distinct resamples (10 for 3), too few for a 95% interval."""
    rng = np.random.default_rng(seed)
    errors = curve.errors
    T = errors.shape[0]
    if n_boot <= 0 or T < MIN_TRIALS_CI:
        return Bootstrap(np.empty((0, len(curve.n))), [])
    medians = np.stack([nanmedian_cols(errors[rng.integers(0, T, T)]) for _ in range(n_boot)])
    if not fit.ok:
        return Bootstrap(medians, [PowerLawFit(reason=fit.reason) for _ in medians])
    fits = [fit_power_law(curve.n, med, n_min, n_max, start=fit, quick=True, floor=floor) for med in medians]
    return Bootstrap(medians, fits)


def ci(values, level: float = CI_LEVEL) -> tuple[float, float]:
    """Percentile interval of ``values`` ignoring NaN (inf is kept: an unreachable target stays
    unreachable); NaN when fewer than 10 finite-or-inf values."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size < 10:
        return float("nan"), float("nan")
    q = (1 - level) / 2
    lo, hi = np.quantile(v, [q, 1 - q], method="inverted_cdf")
    return float(lo), float(hi)
