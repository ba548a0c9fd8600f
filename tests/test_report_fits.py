"""Power-law and BNSL fits recover known parameters; bad inputs give NaN + reason, never raise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.report_helpers import frame

from cliffbench.report import Settings, analyze
from cliffbench.report.fits import BNSLFit, default_fit_range, fit_bnsl, fit_power_law

WIDE = np.unique(np.round(np.logspace(1, 5, 17))).astype(int)


@pytest.mark.parametrize("E, A, alpha", [(0.02, 3.0, 0.6), (0.0, 5.0, 1.0), (0.05, 1.0, 0.3)])
def test_bootstrap_fit_recovers_power_law_and_finds_no_cliff(E, A, alpha):
    df = frame(lambda n: E + A * n ** -alpha, n=WIDE, trials=40, noise=0.05, seed=1)
    res = analyze(df, Settings(n_boot=30))
    row = res.summary.iloc[0]
    assert row.alpha == pytest.approx(alpha, abs=0.05)
    assert row.E == pytest.approx(E, abs=0.05 * E + 1e-4)
    assert row.alpha_lo <= row.alpha <= row.alpha_hi
    assert row.alpha_hi - row.alpha_lo < 0.2
    assert row.r2_log > 0.99 and row.fit_reason == ""
    assert row.cliffs == 0


def test_noiseless_full_range_fit_is_exact():
    n = WIDE.astype(float)
    fit = fit_power_law(n, 0.01 + 2.0 * n ** -0.7)
    assert (fit.E, fit.A, fit.alpha) == pytest.approx((0.01, 2.0, 0.7), rel=1e-4)
    assert fit.rmse_log < 1e-8
    assert fit.n_at(0.01 + 2.0 * 50.0 ** -0.7) == pytest.approx(50.0, rel=1e-4)
    assert math.isinf(fit.n_at(0.005))  # below the floor: never reached


def test_default_fit_range_is_the_large_n_tail():
    n = np.array([10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], dtype=float)
    assert default_fit_range(n) == (500.0, 10000.0)  # n >= sqrt(10 * 10000) = 316
    assert default_fit_range(n[:6]) == (20.0, 500.0)  # extended down to 5 points


def test_bnsl_recovers_break_and_slopes():
    truth = BNSLFit(E=0.001, b=0.8, c0=0.2, c1=1.5, d=300.0, f=0.2)
    n = WIDE.astype(float)
    fit = fit_bnsl(n, truth.predict(n))
    assert fit.ok, fit.reason
    assert fit.d == pytest.approx(300.0, rel=0.1)
    assert fit.slope_before == pytest.approx(-0.2, abs=0.05)
    assert fit.slope_after == pytest.approx(-1.7, abs=0.05)
    assert fit.rmse_log < 1e-3


@pytest.mark.parametrize("y, words", [
    ([0.5, 0.4, 0.3], "needs >= 4"),
    ([0.3, 0.3, 0.3, 0.3, 0.3], "flat"),
    ([0.2, 0.0, 0.0, 0.0, 0.0], "median error 0"),
    ([np.nan] * 5, "needs >= 4"),
])
def test_failed_fits_are_nan_with_reason(y, words):
    n = np.array([10, 20, 40, 80, 160][: len(y)], dtype=float)
    fit = fit_power_law(n, np.array(y))
    assert not fit.ok and words in fit.reason
    assert math.isnan(fit.alpha) and math.isnan(fit.n_at(0.1))
    assert not fit_bnsl(n, np.array(y)).ok


def test_report_of_unfittable_curve_does_not_crash():
    df = frame(lambda n: 0.0, n=[10, 20, 40], trials=5, noise=0.0)
    row = analyze(df, Settings(n_boot=10)).summary.iloc[0]
    assert math.isnan(row.alpha) and row.fit_reason
    assert row.cliffs == 0 and row.zero_error_at_n == 10
