"""Calibration of the cliff detector's slope-change threshold (``--min-slope-change``) on curves
whose truth is known:

* pure power laws ``E + A n^-alpha`` with multiplicative noise (never concave on log-log axes,
  paper App. B): every detection is a false positive;
* the Gaussian toy's four Fig F.1 panels, exact F.2 errors with nested trials (concave up to the
  n where F.5 stops being concave: ~69, ~7, ~2 and ~20);
* least squares at d = 100, σ = 0.1 (Fig 3.1b): the recovery after the double-descent peak is not
  a cliff; noiseless least squares at d = 5 (Fig 3.1a): one cliff ending at n = d.

    uv run python benchmarks/cliff_calibration.py            # 100 power laws per setting
    uv run python benchmarks/cliff_calibration.py --reps 20  # quick

Prints the false-positive rate per threshold and setting, and the cliffs found on the toys.
Not part of the tests (tests/test_report_truth.py checks the chosen default).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from cliffbench.report.cliffs import detect_cliffs
from cliffbench.report.curves import build_curves
from tests.toy_truth import f5_concave_until, gaussian_errors, linreg_errors, power_law_errors, preset_grid, rows

THRESHOLDS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1)


def curve(errors):
    return build_curves(rows(errors, "c"))[0]


def false_positives(reps: int) -> None:
    grid = preset_grid(10, 10_000, 16)
    print("pure power laws E + A n^-alpha x exp(N(0, noise)), 16-point grid 10..1e4: "
          "fraction of curves with >= 1 cliff")
    print(f"{'alpha':>5} {'E':>5} {'noise':>5} {'trials':>6}  " + "  ".join(f"{t:>5}" for t in THRESHOLDS))
    total = np.zeros(len(THRESHOLDS))
    count = 0
    for alpha, E, noise, trials in itertools.product((0.3, 1.0, 2.0), (0.0, 0.01), (0.05, 0.3), (10, 20, 50)):
        hits = np.zeros(len(THRESHOLDS))
        for rep in range(reps):
            c = curve(power_law_errors(grid, trials, alpha, E=E, noise=noise, seed=rep))
            for k, th in enumerate(THRESHOLDS):
                hits[k] += bool(detect_cliffs(c, min_slope_change=th)[0])
        total += hits
        count += reps
        print(f"{alpha:>5} {E:>5} {noise:>5} {trials:>6}  " + "  ".join(f"{h / reps:>5.2f}" for h in hits))
    print("all settings" + " " * 13 + "  ".join(f"{h / count:>5.3f}" for h in total) + f"   ({count} curves)")


def toys() -> None:
    grid = preset_grid(1, 5000, 20)
    print("\nFig F.1 (1,000 nested trials, exact F.2): cliffs per threshold; F.5 concave up to")
    for d, s in ((100, 1.0), (10, 1.0), (100, 2.0), (10, 2.0)):
        c = curve(gaussian_errors(d, s, grid, 1000))
        found = {th: [(cl.n_start, cl.n_end) for cl in detect_cliffs(c, min_slope_change=th)[0]]
                 for th in THRESHOLDS}
        print(f"  d={d}, s={s:g} (F.5 concave to n={f5_concave_until(d, s):.3g}): {found}")
    c = curve(linreg_errors(100, 0.1, preset_grid(10, 3000, 20), 50))
    print(f"\nleast squares d=100, sigma=0.1 (double descent), 50 trials: "
          f"{[[(cl.n_start, cl.n_end) for cl in detect_cliffs(c, min_slope_change=th)[0]] for th in THRESHOLDS]}")
    c = curve(linreg_errors(5, 0.0, preset_grid(1, 10_000, 25), 50))
    print(f"least squares d=5, noiseless, 50 trials: "
          f"{[[(cl.n_start, cl.n_end) for cl in detect_cliffs(c, min_slope_change=th)[0]] for th in THRESHOLDS]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    args = parser.parse_args()
    false_positives(args.reps)
    toys()
