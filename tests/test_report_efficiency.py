"""Data efficiency: n to reach a target and multipliers between curves, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from tests.report_helpers import frame

from cliffbench.errors import ConfigError
from cliffbench.report import Settings, analyze
from cliffbench.report.efficiency import INTERPOLATED, REACHED_AT_START, crossing_n, resolve_targets


def test_crossing_is_exact_for_a_pure_power_law():
    n = np.array([10, 100, 1000, 10000], dtype=float)
    y = 2.0 * n ** -0.5
    target = 0.05  # 2 n^-0.5 = 0.05  <=>  n = 1600
    assert crossing_n(n, y, target, floor=1e-6)[:2] == (pytest.approx(1600.0), INTERPOLATED)
    assert crossing_n(n, y, 1.0, 1e-6)[:2] == (10.0, REACHED_AT_START)
    assert math.isnan(crossing_n(n, y, 0.001, 1e-6)[0])


def test_crossing_onto_an_exact_zero_is_the_grid_point_not_an_interpolation():
    n = np.array([10, 20, 40], dtype=float)
    value, how, bracket = crossing_n(n, np.array([0.5, 0.5, 0.0]), 0.05, floor=0.005)
    # a step to 0 somewhere in (20, 40]: a log-log line would invent a crossing at 28
    assert value == 40 and bracket == (20, 40) and "drops to 0" in how
    # a bump just before the crossing: not monotone, no interpolation either
    value, how, _ = crossing_n(np.array([10, 20, 40, 80.0]), np.array([0.3, 0.6, 0.04, 0.03]), 0.05, 1e-3)
    assert value == 40 and "not monotone" in how


def test_multiplier_of_shifted_power_laws_equals_the_shift():
    k = 4.0
    base = lambda n: 0.01 + 2.0 * n ** -0.7  # noqa: E731
    df = pd.concat([frame(base, label="fast", trials=30, noise=0.03, seed=1),
                    frame(lambda n: base(n / k), label="slow", trials=30, noise=0.03, seed=11)])
    # 0.05 lies inside both curves; 0.015 only inside "fast" (slow is extrapolated from its fit)
    res = analyze(df, Settings(n_boot=40), targets=["0.05", "0.015"], compare=("fast", "slow"))
    eff = res.efficiency.set_index(["label", "target"])
    assert eff.loc[("slow", 0.015), "how"] == "extrapolated from fit"
    assert eff.loc[("fast", 0.015), "how"] == "interpolated"
    for target, tol in ((0.05, 0.05), (0.015, 0.12)):
        exact = (2.0 / (target - 0.01)) ** (1 / 0.7)
        assert eff.loc[("fast", target), "n"] == pytest.approx(exact, rel=tol)
        assert eff.loc[("slow", target), "n"] == pytest.approx(k * exact, rel=tol)
        row = res.multipliers.set_index("target").loc[target]
        assert row.multiplier == pytest.approx(k, rel=tol)
        assert row.multiplier_lo <= k <= row.multiplier_hi


def test_target_below_the_fitted_floor_is_unreachable():
    df = frame(lambda n: 0.05 + 2.0 * n ** -0.7, trials=20, noise=0.02)
    eff = analyze(df, Settings(n_boot=20), targets=["0.01"]).efficiency.iloc[0]
    assert math.isinf(eff.n) and eff.how.startswith("unreachable")


def test_targets_by_reference_line_name_and_defaults():
    curves = analyze(frame(lambda n: 1 / n, trials=6), Settings(n_boot=0)).reports
    lines = {"random guessing": 0.9, "human performance": 0.0457}
    assert resolve_targets(["human"], lines, [r.curve for r in curves]) == {"human performance": 0.0457}
    defaults = resolve_targets([], lines, [r.curve for r in curves])
    assert defaults["human performance"] == 0.0457 and "random guessing" not in defaults
    assert defaults["lowest common"] == pytest.approx(1e-4, rel=0.2)
    with pytest.raises(ConfigError, match="reference line"):
        resolve_targets(["sota"], lines, [])
