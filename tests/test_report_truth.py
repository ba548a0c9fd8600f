"""The report on the toys' exact curves (paper §3.1, App. F): every number it prints is checked
against the closed forms. Each test names the issue it guards (fig3_1a zeros and crossings, F.1
labels, floors and gentle cliffs, fig3_1b double descent and fit range, too few trials)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr
from tests.toy_truth import (
    f5_concave_until,
    gaussian_errors,
    linreg_errors,
    ls_expected,
    power_law_errors,
    preset_grid,
    rows,
)

from cliffbench.report import Settings, analyze
from cliffbench.report.fit_range import asymptotic_fit_range
from cliffbench.report.fits import fit_power_law

FIG3_1A = preset_grid(1, 10_000, 25)
FIGF_1 = preset_grid(1, 5000, 20)


@pytest.mark.parametrize("scale", [1e-30, 1e-12, 1e-8, 1e-6, 1.0, 1e6])
def test_fits_work_at_any_positive_scale(scale):
    n = np.geomspace(10, 1e4, 12)
    fit = fit_power_law(n, scale * (0.01 + n ** -0.5))
    assert fit.ok, fit.reason
    assert (fit.alpha, fit.E / scale, fit.A / scale) == pytest.approx((0.5, 0.01, 1.0), rel=1e-4)
    fixed = fit_power_law(n, scale * n ** -0.5, floor=0.0)
    assert (fixed.alpha, fixed.A / scale) == pytest.approx((0.5, 1.0), rel=1e-6)


@pytest.fixture(scope="module")
def fig3_1a():
    """Noiseless least squares (d = 5; errors ~1e-30 from n = 5 on, not exactly 0) and a 1-NN-like
    power law n^-0.4 that reaches 0.047 at n = 9,000."""
    ls = linreg_errors(5, 0.0, FIG3_1A, 50, seed=3)
    assert 0 < max(ls[10]) < 1e-20  # rounding noise, as the real method gives
    nn = power_law_errors(FIG3_1A, 50, alpha=0.4, A=0.047 * 9000**0.4, noise=0.05, seed=4)
    return pd.concat([rows(ls, "least_squares"), rows(nn, "nearest_neighbour")], ignore_index=True)


def test_fig3_1a_rounding_noise_is_zero_and_the_crossing_is_the_grid_point(fig3_1a):
    res = analyze(fig3_1a, Settings(n_boot=40), targets=["0.047"], compare=("least_squares", "nearest_neighbour"))
    summary = res.summary.set_index("label")
    assert summary.loc["least_squares", "zero_error_at_n"] == 5  # n = d
    # the cliff ends at n = d on an error of exactly 0, not on the resolution floor
    (cliff,) = res.reports[list(summary.index).index("least_squares")].cliffs
    assert cliff.n_end == 5 and cliff.error_end == 0
    eff = res.efficiency.set_index("label")
    ls = eff.loc["least_squares"]
    assert ls.n == 5 and ls.n_lo <= 5 <= ls.n_hi and "not interpolated" in ls.how  # truth: first n <= 0.047 is 5
    assert ls.n_lo >= 3  # the grid point before
    nn = eff.loc["nearest_neighbour"]
    assert nn.n == pytest.approx(9000, rel=0.05)
    mult = res.multipliers.iloc[0]
    assert mult.multiplier == pytest.approx(9000 / 5, rel=0.05)
    assert mult.multiplier_lo <= 9000 / 5 <= mult.multiplier_hi


def gaussian_sweep(trials=1000, cells=((10, 1.0), (10, 2.0), (100, 1.0), (100, 2.0))):
    frames = [rows(gaussian_errors(d, s, FIGF_1, trials, seed=d + int(s)), "identity · mean_classifier",
                   config_id=f"d{d}s{s:g}", **{"dataset.d": d, "dataset.s": s, "dataset.name": "toy_gaussian"})
              for d, s in cells]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def figF_1():
    return gaussian_sweep()


def test_figF_1_curves_have_distinct_labels_everywhere(figF_1):
    res = analyze(figF_1, Settings(n_boot=0))
    labels = list(res.summary["label"])
    assert len(set(labels)) == 4
    assert "identity · mean_classifier · d=100, s=1" in labels
    assert all(a != b for a, b in zip(res.multipliers["label"], res.multipliers["baseline"]))
    assert set(res.stats["label"]) == set(labels)


def test_figF_1_gentle_cliffs_are_found_where_F5_is_concave(figF_1):
    res = analyze(figF_1, Settings(n_boot=0))
    found = {rep.curve.config_id: rep.cliffs for rep in res.reports}
    for (d, s) in ((100, 1.0), (10, 1.0), (100, 2.0)):  # (10, 2): concave only up to n = 2
        (cliff,) = found[f"d{d}s{s:g}"]
        concave_to = f5_concave_until(d, s)
        assert cliff.n_start < concave_to <= 1.6 * cliff.n_end, (d, s, cliff)
    assert found["d10s2"] == []


def test_figF_1_known_floor_is_fixed_and_the_tail_fit_covers_the_exact_exponent(figF_1):
    bayes = {cid: float(ndtr(-s)) for cid, s in (("d10s1", 1), ("d10s2", 2), ("d100s1", 1), ("d100s2", 2))}
    res = analyze(figF_1, Settings(n_boot=40, known_floors=bayes))
    for rep in res.reports:
        d, s = (100 if "d100" in rep.curve.config_id else 10), (1.0 if rep.curve.config_id.endswith("s1") else 2.0)
        assert rep.fit.E == bayes[rep.curve.config_id]
        lo, hi = rep.fit_range
        assert rep.fit_range_note.startswith("asymptotic tail"), rep.fit_range_note
        assert lo >= 2 * d / s**2  # past the bend of F.5 (d / (n s^2) small)
        grid = np.asarray(FIGF_1, dtype=float)
        exact = fit_power_law(grid, ndtr(-s / np.sqrt(1 + d / (grid * s**2))), lo, hi, floor=ndtr(-s))
        a_lo, a_hi = rep.param_ci("alpha")
        assert a_lo <= exact.alpha <= a_hi, (rep.curve.config_id, exact.alpha, a_lo, a_hi)


@pytest.fixture(scope="module")
def fig3_1b_ls():
    grid = preset_grid(10, 10_000, 25)
    return grid, rows(linreg_errors(100, 0.1, grid, 50, seed=5), "least_squares")


def test_fig3_1b_double_descent_recovery_is_not_a_cliff(fig3_1b_ls):
    _, df = fig3_1b_ls
    rep = analyze(df, Settings(n_boot=0)).reports[0]
    assert rep.curve.median[list(rep.curve.n).index(100)] > 1.0  # the peak is there
    # the recovery after the peak (100 -> 133, slope +2 before it) is not a cliff; the concave
    # descent before it (1 - n/d, the noiseless cliff towards n = d) may be
    assert all(c.n_end < 100 for c in rep.cliffs), rep.cliffs


def test_fig3_1b_fit_range_is_asymptotic_and_covers_the_closed_form(fig3_1b_ls):
    grid, df = fig3_1b_ls
    n = np.asarray(grid, dtype=float)
    lo, hi, note = asymptotic_fit_range(n[n > 101], ls_expected(n[n > 101], 100, 0.1), 0.01)
    assert lo >= 562 and note.startswith("asymptotic tail")  # local exponent 1.14 -> 1.03 from 422 on
    rep = analyze(df, Settings(n_boot=40, known_floors={"id-least_squares": 0.01})).reports[0]
    assert rep.fit.E == 0.01 and rep.fit_range[0] >= 422
    exact = fit_power_law(n, ls_expected(n, 100, 0.1), *rep.fit_range, floor=0.01)
    a_lo, a_hi = rep.param_ci("alpha")
    assert a_lo <= exact.alpha <= a_hi


def test_too_few_trials_are_named_in_those_words():
    grid = [10, 25, 50, 100, 250, 1000]
    df = pd.concat([rows(power_law_errors(grid, 3, alpha=a, seed=k), f"net{k}") for k, a in enumerate((0.5, 1.0))])
    res = analyze(df, Settings(n_boot=200), targets=["0.05"])
    for _, row in res.summary.iterrows():
        assert row.cliff_note.startswith("too few trials (3)")
        assert "too few trials (3" in row.ci_note and math.isnan(row.alpha_lo)
    mult = res.multipliers.iloc[0]
    assert math.isnan(mult.multiplier_lo) and "too few trials" in mult.note


def test_dropped_points_are_named_with_their_reason():
    grid = [10, 20, 40, 80, 160, 320]
    errs = power_law_errors(grid, 10, alpha=0.5, seed=1)
    errs[320] = np.zeros(10)
    df = rows(errs, "c")
    df.loc[df["n"] == 40, "status"] = "failed"
    row = analyze(df, Settings(n_boot=0)).summary.iloc[0]
    assert "no ok cell at n=40" in row.dropped_points
    assert "median error 0 (no log) at n=320" in row.dropped_points


def test_figF_1_sweep_through_the_cli_uses_the_datasets_floors_labels_and_lines(tmp_path, capsys):
    """A figF_1-shaped sweep written with CellStore, its meta from the real ToyGaussian dataset:
    each s has its own Bayes line, each curve its Bayes error as fixed E, and distinct labels."""
    from cliffbench.datasets.toy_gaussian import ToyGaussian
    from cliffbench.report.cli import main
    from cliffbench.results import CellStore
    from cliffbench.results.load import known_floors, reference_lines

    grid = preset_grid(1, 2000, 14)
    for d, s in ((10, 1.0), (10, 2.0)):
        meta = ToyGaussian(d=d, s=s, pool_size=10, test_size=10).load().meta
        identity = {"dataset": {"name": "toy_gaussian", "d": d, "s": s}, "backbone": {"name": "identity"},
                    "method": {"name": "mean_classifier"}}
        store = CellStore(tmp_path / f"s={s}", identity, meta=meta)
        for n, errs in gaussian_errors(d, s, grid, 30, seed=int(s)).items():
            store.write([{"n": n, "trial": t, "seed": t, "test_error": float(e), "status": "ok", "message": "",
                          "finished_at": "2026-01-01T00:00:00"} for t, e in enumerate(errs)])
    lines = reference_lines(tmp_path)
    assert lines == {"Bayes error Φ(−s) (s=1)": pytest.approx(ndtr(-1.0)),
                     "Bayes error Φ(−s) (s=2)": pytest.approx(ndtr(-2.0))}
    assert sorted(known_floors(tmp_path).values()) == pytest.approx([ndtr(-2.0), ndtr(-1.0)])
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--bootstrap", "20", "--no-figures"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    summary = pd.read_csv(tmp_path / "report" / "summary.csv").set_index("label")
    assert set(summary.index) == {"identity · mean_classifier · s=1", "identity · mean_classifier · s=2"}
    assert summary.loc["identity · mean_classifier · s=2", "E"] == pytest.approx(ndtr(-2.0))
    assert summary.loc["identity · mean_classifier · s=2", "E_known"] == pytest.approx(ndtr(-2.0))
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--bootstrap", "0", "--no-figures", "--free-floor", "--floor", "s=1=0.2"])
    # "s=1" is ambiguous as a curve name only if it matched both; it names exactly one
    summary = pd.read_csv(tmp_path / "report" / "summary.csv").set_index("label")
    assert summary.loc["identity · mean_classifier · s=1", "E_known"] == 0.2
    assert math.isnan(summary.loc["identity · mean_classifier · s=2", "E_known"])


def test_a_tiny_scale_curve_gets_the_same_answers_as_at_scale_one():
    """Fits, cliffs and crossings depend on the shape of a curve, not on its units."""
    grid = preset_grid(1, 5000, 20)
    errors = gaussian_errors(100, 2.0, grid, 60, seed=7)
    out = []
    for scale in (1.0, 1e-14):
        res = analyze(rows({n: scale * e for n, e in errors.items()}, "c"), Settings(n_boot=0),
                      targets=[f"{scale * 0.03}"])
        rep = res.reports[0]
        out.append((rep.fit.alpha, [(c.n_start, c.n_end) for c in rep.cliffs], res.efficiency.iloc[0].n))
    assert out[0][1] and out[0][1] == out[1][1]
    assert out[1][0] == pytest.approx(out[0][0], rel=1e-6) and out[1][2] == pytest.approx(out[0][2], rel=1e-9)
