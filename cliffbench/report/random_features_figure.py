"""Bahri et al.'s scaling regimes (their Fig 3) from a ``bahri_random_features`` sweep: one job per
student size P, rows over dataset sizes D (= n). Each panel shows the curves and the fitted
log-log slope next to the theory's exponent.

Panels: variance-limited in D (mean of L − L(P) vs D, D ≥ 4P; theory −1); resolution-limited in D
(median L(D) = L at P → S vs D for D ≤ S/4, and L at the largest P for D ≤ P/2; theory −α); resolution-limited
in P (median L(P) = L at D → ∞ vs P, and L at the largest D; theory −α); variance-limited in P (mean
of L − L(D) vs P at the smallest D, P ≥ 4D; theory −1); duality (L vs D at P = p and L vs P at D = p).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cliffbench.report.plotting import save_figure


def slope(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def _line(ax, x, y, style, label, colour=None):
    """A curve with its fitted log-log slope; points with y <= 0 (a mean excess is a fluctuation
    and can dip below 0) cannot sit on log axes: they are marked x on the bottom edge and counted."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = y > 0
    s = slope(x[keep], y[keep])
    note = f"slope {s:.2f} over {int(keep.sum())} points" if keep.sum() >= 3 else \
        f"{int(keep.sum())} points: too few for a slope"
    if (~keep).any():
        note += f"; {int((~keep).sum())} dropped: mean <= 0"
        ax.plot(x[~keep], np.full(int((~keep).sum()), 0.03), "x", color=colour, transform=ax.get_xaxis_transform())
    ax.plot(x[keep], y[keep], style, color=colour, markersize=3, label=f"{label} ({note})")


AXIS_LABELS = {"D": "D (dataset size)", "P": "P (student features)"}


def _variance_panel(ax, t, fixed: str, values, axis: str, excess: str, title: str) -> None:
    """For each value of ``fixed``: the mean ``excess`` vs ``axis`` where ``axis`` >= 4 x the value."""
    for i, v in enumerate(values):
        cur = t[(t[fixed] == v) & (t[axis] >= 4 * v)]
        if len(cur) >= 2:
            _line(ax, cur[axis], cur[excess], "o-", f"{fixed}={v}", f"C{i}")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(AXIS_LABELS[axis])


def regime_tables(df):
    """Per (P, D): median loss and limits, mean excesses (means: the excesses are fluctuations)."""
    ok = df[df["status"] == "ok"].rename(columns={"n": "D"})
    g = ok.groupby(["P", "D"])
    return g.agg(loss=("test_error", "median"), infinite_data=("loss_infinite_data", "median"),
                 all_features=("loss_all_features", "median"),
                 excess_P=("excess_over_infinite_data", "mean"),
                 excess_D=("excess_over_all_features", "mean")).reset_index()


def draw_random_features(df, out_base: Path, *, title: str = "", fixed_n: int | None = None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = regime_tables(df)
    alpha = float(df["dataset.alpha"].iloc[0]) if "dataset.alpha" in df else float("nan")
    Ps, Ds = sorted(t["P"].unique()), sorted(t["D"].unique())
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), constrained_layout=True)
    _variance_panel(axes[0, 0], t, "P", Ps, "D", "excess_P",
                    "variance-limited, D ≫ P: L − L(P) (theory slope −1)")
    ax = axes[0, 1]
    S = int(df["dataset.S"].iloc[0]) if "dataset.S" in df else max(Ds)
    full = t[t["D"] <= S / 4].groupby("D")["all_features"].median()
    _line(ax, full.index, full.values, "--", "L(D), P→S", "k")
    big_P = Ps[-1]
    cur = t[(t["P"] == big_P) & (t["D"] <= big_P / 2)]
    _line(ax, cur["D"], cur["loss"], "o-", f"L(D, P={big_P})", "C0")
    ax.set_title(f"resolution-limited, D ≪ P (theory slope −α = {-alpha:g})", fontsize=9)
    ax.set_xlabel("D (dataset size)")
    ax = axes[1, 0]
    inf = t.groupby("P")["infinite_data"].median()
    _line(ax, inf.index, inf.values, "--", "L(P), D→∞", "k")
    big_D = fixed_n if fixed_n in Ds else Ds[-1]
    cur = t[(t["D"] == big_D) & (t["P"] <= big_D / 2)]
    _line(ax, cur["P"], cur["loss"], "o-", f"L(D={big_D}, P)", "C0")
    ax.set_title(f"resolution-limited, P ≪ D (theory slope −α = {-alpha:g})", fontsize=9)
    ax.set_xlabel("P (student features)")
    _variance_panel(axes[1, 1], t, "D", Ds[:2], "P", "excess_D",
                    "variance-limited, P ≫ D: L − L(D) (theory slope −1)")
    ax = axes[0, 2]
    for i, p in enumerate([v for v in Ps if v in Ds][1::2]):
        by_D = t[t["P"] == p].sort_values("D")
        by_P = t[t["D"] == p].sort_values("P")
        ax.plot(by_D["D"], by_D["loss"], "o-", color=f"C{i}", markersize=3, label=f"vs D at P={p}")
        ax.plot(by_P["P"], by_P["loss"], "s--", color=f"C{i}", markersize=3, label=f"vs P at D={p}")
    ax.set_title("duality: L(D, P) vs L(P, D)", fontsize=9)
    ax.set_xlabel("D or P")
    ax = axes[1, 2]
    for i, P in enumerate(Ps):
        cur = t[t["P"] == P]
        ax.plot(cur["D"], cur["loss"], "o-", color=f"C{i}", markersize=3, label=f"P={P}")
    ax.set_title("median test loss vs D, one curve per P", fontsize=9)
    ax.set_xlabel("D (dataset size)")
    from matplotlib.ticker import NullFormatter

    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_ylabel("test loss ½E(f−F)²")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, out_base)
