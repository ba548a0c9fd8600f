"""Cliff detection on curves with known answers (the paper's Appendix B: a power law with floor is
never concave on log-log axes, so it must never be called a cliff)."""

from __future__ import annotations

import pytest
from tests.report_helpers import GRID, frame

from cliffbench.report.cliffs import adjust_pvalues, detect_cliffs
from cliffbench.report.curves import build_curves


def curve_of(df):
    return build_curves(df)[0]


@pytest.mark.parametrize("fn", [lambda n: 0.02 + 3 * n ** -0.6, lambda n: 5 * n ** -1.0,
                                lambda n: 0.1 + 0.5 * n ** -0.3])
@pytest.mark.parametrize("seed", [0, 1])
def test_power_laws_have_no_cliff(fn, seed):
    cliffs, tests = detect_cliffs(curve_of(frame(fn, seed=seed)))
    assert cliffs == []
    assert len(tests) > 10  # the windows were tested, not skipped


def test_sigmoid_in_log_n_has_one_cliff_at_its_centre():
    n0 = 300
    fn = lambda n: 0.01 + 0.89 / (1 + (n / n0) ** 3)  # noqa: E731
    cliffs, _ = detect_cliffs(curve_of(frame(fn)))
    assert len(cliffs) == 1
    c = cliffs[0]
    assert n0 / 20 <= c.n_start < n0 < c.n_end <= 20 * n0
    assert c.slope_steepest < -1.5  # true max slope of the sigmoid's log is about -3 at ~1.5 n0
    assert c.slope_steepest <= c.slope_within < c.slope_before
    assert c.slope_after > c.slope_steepest  # flattens onto the floor afterwards
    assert c.p_adjusted < 0.05 and c.error_start > c.error_end


def test_quantized_power_law_reaching_zero_is_not_a_cliff():
    # A classification error on 500 test examples: many trials hit exactly 0 at large n.
    curve = curve_of(frame(lambda n: 3 / n, quantum=1 / 500))
    assert (curve.errors == 0).mean() > 0.1
    assert curve.resolution == pytest.approx(1 / 500)
    for seed in range(3):
        cliffs, _ = detect_cliffs(curve_of(frame(lambda n: 3 / n, quantum=1 / 500, seed=seed)))
        assert cliffs == []


def test_exact_drop_to_zero_is_one_cliff_ending_at_the_threshold():
    # Noiseless least squares (paper Fig 3.1a): error ~0.8 below d samples, exactly 0 from d on.
    d = 300
    cliffs, _ = detect_cliffs(curve_of(frame(lambda n: 0.8 * (n < d))))
    assert len(cliffs) == 1
    first_at_d = GRID[GRID >= d][0]
    assert cliffs[0].n_end == first_at_d and cliffs[0].n_start == GRID[GRID < d][-1]
    assert cliffs[0].error_end < 1e-3


def test_flat_noisy_curve_has_no_cliff():
    cliffs, _ = detect_cliffs(curve_of(frame(lambda n: 0.5, noise=0.05)))
    assert cliffs == []


def test_adjust_pvalues_holm_and_bh():
    p = [0.01, 0.04, 0.03, 0.005]
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_pvalues(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with pytest.raises(ValueError):
        adjust_pvalues(p, "bonferroni-ish")
