"""The report's figures: ``curves`` (the paper-style overview of all curves, via
``cliffbench.report.plotting``) and ``fits``: one panel per curve with its median and min-max band, the
power-law fit (solid over the fit range, dashed where extrapolated), the BNSL fit (dotted), cliff
intervals shaded, the curve's ``reference_error`` (dashed, if any), the reference lines and an x on
the bottom edge at each n whose cells all failed."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cliffbench.report.plotting import draw_reference_lines, save_figure, style_error_axes
from cliffbench.report.analyze import CurveReport


def _fmt_ci(value: float, lo: float, hi: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f} [{lo:.2f}, {hi:.2f}]" if not math.isnan(lo) else f"{value:.2f}"


def plot_fits(reports: Sequence[CurveReport], out_base: str | Path,
              reference_lines: Mapping[str, float] | None = None,
              formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(len(reports), 3)
    rows = math.ceil(len(reports) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False,
                             constrained_layout=True)
    for k, rep in enumerate(reports):
        ax = axes[k // cols][k % cols]
        c, colour = rep.curve, f"C{k % 10}"
        errs = c.errors
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(errs, axis=0), np.nanmax(errs, axis=0)
        ax.fill_between(c.n, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(c.n, c.median, "o", color=colour, markersize=3.5, label="median")
        gone = c.n[c.trials == 0]
        if len(gone):  # n whose cells all failed: an x on the bottom edge (summary: dropped_points)
            ax.plot(gone, np.full(len(gone), 0.03), "x", color=colour, transform=ax.get_xaxis_transform(),
                    label="no ok cell")
        grid = np.geomspace(c.n.min(), c.n.max(), 200)
        if rep.fit.ok:
            inside = (grid >= rep.fit.n_lo) & (grid <= rep.fit.n_hi)
            ax.plot(grid, np.where(inside, rep.fit.predict(grid), np.nan), "-", color="black", linewidth=1.3,
                    label=f"E + A n^-α, α={_fmt_ci(rep.fit.alpha, *rep.param_ci('alpha'))}")
            ax.plot(grid, np.where(inside, np.nan, rep.fit.predict(grid)), "--", color="black", linewidth=0.8)
        else:
            note = textwrap.fill(f"power-law fit failed: {rep.fit.reason}", 55)
            ax.text(0.03, 0.5, note, transform=ax.transAxes, fontsize=6, color="dimgrey", va="center")
        if c.reference is not None:
            ax.plot(c.n, c.reference, "--", color=colour, linewidth=1, label="reference")
        if rep.bnsl.ok:
            ax.plot(grid, rep.bnsl.predict(grid), ":", color="tab:red", linewidth=1.3,
                    label=f"BNSL, break n={rep.bnsl.d:.3g}")
        for i, cl in enumerate(rep.cliffs):
            ax.axvspan(cl.n_start, cl.n_end, color="gold", alpha=0.25, linewidth=0,
                       label="cliff" if i == 0 else None)
        draw_reference_lines(ax, reference_lines)
        style_error_axes(ax, np.concatenate([lo, c.median]))
        ax.set_title(c.label, fontsize=9)
        ax.legend(fontsize=6.5)
    for k in range(len(reports), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    return save_figure(fig, out_base, formats)
