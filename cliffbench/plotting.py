"""Paper-style data-scaling figures: test error vs n on log-log axes, median line and min-max band
across trials, one colour per curve, horizontal reference lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def curve_stats(df, by: Sequence[str] = ("config_id",)):
    """Per curve and n: median, min, max, quartiles of ``test_error`` over ok trials; trial and
    failure counts."""
    import pandas as pd

    by = [c for c in by if c in df.columns]
    ok = df[df["status"] == "ok"]
    g = ok.groupby([*by, "n"])["test_error"]
    stats = pd.DataFrame({
        "median": g.median(), "min": g.min(), "max": g.max(),
        "q25": g.quantile(0.25), "q75": g.quantile(0.75), "trials": g.size(),
    })
    failed = df[df["status"] != "ok"].groupby([*by, "n"]).size().rename("failed")
    stats = stats.join(failed, how="outer").fillna({"failed": 0, "trials": 0})
    stats["failed"] = stats["failed"].astype(int)
    stats["trials"] = stats["trials"].astype(int)
    return stats.reset_index()


def plot_curves(df, out_base: str | Path, *, title: str = "",
                reference_lines: Mapping[str, float] | None = None,
                formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw every curve in ``df`` (grouped by ``config_id``, legend from ``label``) and save the
    figure as ``out_base.<fmt>`` for each format. Returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = curve_stats(df, ("config_id",))
    labels = df.drop_duplicates("config_id").set_index("config_id")["label"] if "label" in df else {}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    floor = np.inf
    for i, (cid, cur) in enumerate(stats.groupby("config_id", sort=False)):
        cur = cur.dropna(subset=["median"]).sort_values("n")
        colour = f"C{i % 10}"
        label = labels.get(cid, cid) if hasattr(labels, "get") else cid
        ax.fill_between(cur["n"], cur["min"], cur["max"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(cur["n"], cur["median"], "o-", color=colour, markersize=3, label=label)
        positive = cur[["min", "median"]].to_numpy().ravel()
        positive = positive[positive > 0]
        if len(positive):
            floor = min(floor, positive.min())
    ref_styles = ["--", ":", "-."]
    for j, (name, level) in enumerate((reference_lines or {}).items()):
        ax.axhline(level, color="grey", linestyle=ref_styles[j % 3], linewidth=1, label=f"{name} ({level:.3g})")
    ax.set_xscale("log")
    hits_zero = bool((stats["min"] <= 0).any())
    if hits_zero:
        # Errors reach exactly 0: linear scale near zero, as in the paper's Fig 3.1a.
        ax.set_yscale("symlog", linthresh=min(1e-2, floor if np.isfinite(floor) else 1e-2))
        ax.set_ylim(bottom=0)
    else:
        ax.set_yscale("log")
    ax.set_xlabel("n (training samples)")
    ax.set_ylabel("test error")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_base.with_suffix(f".{fmt}")
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths
