"""Paper-style data-scaling figures: test error vs n on log-log axes, median line and band across
trials, one colour per curve, horizontal reference lines (random guessing, human, ...), dashed
reference curves (a per-cell metric such as an analytic prediction), and a linear y-axis near zero
when errors reach exactly 0 (as the paper's Fig 3.1a).

:func:`draw_curves` is the one curve renderer (job, sweep and toy figures draw through it) and
:func:`save_figure` the one save helper; the statistics come from :mod:`cliffbench.report.bands`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cliffbench.report.bands import curve_stats, reference_curves

REFERENCE_STYLES = ["--", ":", "-."]


def style_error_axes(ax, values: np.ndarray, linear_below: float | None = None) -> None:
    """Log x; log y, or symlog y (linear below ``linear_below``, by default below the smallest
    positive value) when asked or when any value is 0."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    ax.set_xscale("log")
    if linear_below:
        ax.set_yscale("symlog", linthresh=float(linear_below))
        ax.set_ylim(bottom=0)
    elif values.size and (values <= 0).any():
        positive = values[values > 0]
        floor = positive.min() if positive.size else 1e-2
        ax.set_yscale("symlog", linthresh=10 ** math.floor(math.log10(min(floor, 1e-2))), linscale=0.5)
        ax.set_ylim(bottom=0)
    else:
        ax.set_yscale("log")
    ax.set_xlabel("n (training samples)")
    ax.set_ylabel("test error")
    ax.grid(True, which="major", alpha=0.3)


def draw_reference_lines(ax, reference_lines: Mapping[str, float] | None) -> None:
    for j, (name, level) in enumerate((reference_lines or {}).items()):
        ax.axhline(level, color="grey", linestyle=REFERENCE_STYLES[j % 3], linewidth=1,
                   label=f"{name} ({level:.3g})")


def save_figure(fig, out_base: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    import matplotlib.pyplot as plt

    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_base.with_suffix(f".{fmt}")
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


def draw_curves(ax, df, *, band: str | float = "range",
                references: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                reference_label: str = "reference") -> np.ndarray:
    """Every curve of ``df`` (one per ``config_id``, legend from ``label``, colours in label
    order) as its median and band, with its reference curve dashed in its colour (default: from a
    ``reference_error`` column). Returns the values drawn (for the axes' scale)."""
    from cliffbench.report.curves import snap_zeros_frame
    from cliffbench.report.labels import distinct_labels

    df = snap_zeros_frame(df)  # ~1e-30 rounding noise of an exact 0 is drawn as 0
    stats = curve_stats(df, ("config_id",), band=band)
    labels = distinct_labels(df) if "label" in df else {}
    references = reference_curves(df) if references is None else references
    shown = [stats[["lo", "median"]].to_numpy().ravel()]
    groups = dict(list(stats.groupby("config_id", sort=False)))
    label_of = {cid: str(labels.get(cid, cid)) if hasattr(labels, "get") else cid for cid in groups}
    for i, cid in enumerate(sorted(groups, key=lambda c: (label_of[c], c))):
        cur = groups[cid].dropna(subset=["median"]).sort_values("n")
        colour, label = f"C{i % 10}", label_of[cid]
        ax.fill_between(cur["n"], cur["lo"], cur["hi"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(cur["n"], cur["median"], "o-", color=colour, markersize=3, label=label)
        gone = groups[cid].loc[groups[cid]["median"].isna(), "n"]
        if len(gone):  # n whose cells all failed: an x on the bottom edge instead of a silent gap
            ax.plot(gone, np.full(len(gone), 0.03), "x", color=colour, transform=ax.get_xaxis_transform(),
                    label=f"{label}: no ok cell")
        if cid in references:
            n_ref, y_ref = references[cid]
            ax.plot(n_ref, y_ref, "--", color=colour, linewidth=1.2, label=f"{label}: {reference_label}")
            shown.append(y_ref)
    return np.concatenate(shown)


def plot_curves(df, out_base: str | Path, *, title: str = "",
                reference_lines: Mapping[str, float] | None = None,
                references: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw every curve in ``df`` (see :func:`draw_curves`) on one panel and save the figure as
    ``out_base.<fmt>`` for each format. Returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    shown = draw_curves(ax, df, references=references)
    draw_reference_lines(ax, reference_lines)
    style_error_axes(ax, shown)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, out_base, formats)
