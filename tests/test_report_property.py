"""The report stays well-behaved on any curve: random monotone, flat, rising, noisy, all-zero,
tiny-scale, short and partly failed curves through ``cliffbench-report`` exit 0, and every curve
gets a fit or a stated reason (and every target an n or a stated reason)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cliffbench.report.cli import main

KINDS = ("monotone", "flat", "rising", "noisy", "zero", "tiny", "short", "failing")


def random_curve(kind: str, rng: np.random.Generator, label: str) -> pd.DataFrame:
    n = np.unique(np.round(np.geomspace(rng.integers(1, 20), rng.integers(200, 20_000), rng.integers(4, 12))))
    if kind == "short":
        n = n[: rng.integers(1, 4)]
    trials = int(rng.integers(2, 15))
    alpha, E, scale = rng.uniform(0.05, 3), rng.choice([0.0, rng.uniform(0, 0.2)]), 10 ** rng.uniform(-3, 1)
    rows = []
    for t in range(trials):
        for nn in n:
            if kind == "flat":
                err = scale
            elif kind == "rising":
                err = scale * nn ** alpha / n[-1] ** alpha
            elif kind == "zero":
                err = 0.0
            elif kind == "tiny":
                err = 1e-14 * (E + nn ** -alpha)
            else:
                err = scale * (E + nn ** -alpha)
            noise = rng.uniform(1, 3) if kind == "noisy" else 0.05
            err *= float(np.exp(rng.normal(0, noise)))
            failed = kind == "failing" and rng.random() < 0.3
            rows.append({"dataset": "toy", "backbone": "none", "method": kind, "n": int(nn), "trial": t, "seed": 0,
                         "test_error": math.nan if failed else err, "status": "failed" if failed else "ok",
                         "message": "boom" if failed else "", "config_id": label, "label": f"none · {kind}"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(3))
def test_report_on_random_curves_exits_0_with_a_fit_or_a_reason(seed, tmp_path, capsys):
    rng = np.random.default_rng(seed)
    df = pd.concat([random_curve(kind, rng, f"c{seed}-{k}") for k, kind in enumerate(KINDS)], ignore_index=True)
    csv = tmp_path / "results.csv"
    df.to_csv(csv, index=False)
    figures = [] if seed == 0 else ["--no-figures"]
    with pytest.raises(SystemExit) as exit_info:
        main([str(csv), "--bootstrap", "10", "--target", "0.05", *figures])
    assert exit_info.value.code == 0, capsys.readouterr().err
    summary = pd.read_csv(tmp_path / "report" / "summary.csv", keep_default_na=False)
    assert len(summary) == len(KINDS) and summary["label"].is_unique  # kinds share no label
    for _, row in summary.iterrows():
        fitted = row["alpha"] != "" and math.isfinite(float(row["alpha"]))
        assert fitted or row["fit_reason"], row.to_dict()
    eff = pd.read_csv(tmp_path / "report" / "efficiency.csv", keep_default_na=False)
    for _, row in eff.iterrows():
        assert row["how"], row.to_dict()
    if seed == 0:
        assert (tmp_path / "report" / "curves.png").stat().st_size > 0
