"""Paper-style figures for the toy presets, drawn from a finished run's results by the
``PaperFigure`` Hydra callback (:mod:`cliffbench.callbacks`) when a preset sets ``figure:``:
``paper_figure.png/pdf`` next to the runner's own ``curves.png``.

``style: curves`` draws the curves (:func:`cliffbench.report.plotting.draw_curves`: median and
band, here optionally a central quantile ``band``), optionally one panel per value of some
identity columns (``facet``), a vertical dotted line at ``meta[vline_meta]`` (the critical n), a
linear y-axis below ``linear_below``, and the per-n median of a metric column
(``reference_column``, e.g. the F.5 approximation) as a dashed line in each curve's colour.
``style: random_features`` draws Bahri et al.'s four scaling regimes (see
:mod:`cliffbench.report.random_features_figure`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cliffbench.errors import ConfigError
from cliffbench.report.bands import reference_curves
from cliffbench.report.plotting import draw_curves, draw_reference_lines, save_figure, style_error_axes

STYLES = ("curves", "random_features")


def job_metas(path: Path) -> dict[str, dict[str, Any]]:
    """``{config_id: meta}`` recorded by the jobs under ``path``."""
    out = {}
    for ident in sorted(Path(path).rglob("cells/*/identity.json")):
        out[ident.parent.name] = json.loads(ident.read_text()).get("meta", {})
    return out


def _panel_title(keys: Sequence[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values))


def draw_toy_curves(df, out_base: Path, metas: dict[str, dict[str, Any]], *, title: str = "",
                    facet: Sequence[str] = (), band: str | float = "range", vline_meta: str | None = None,
                    linear_below: float | None = None, reference_column: str | None = None,
                    reference_label: str = "reference") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    facet = [c for c in facet if c in df.columns]
    groups = list(df.groupby(facet, sort=True)) if facet else [((), df)]
    cols = math.ceil(math.sqrt(len(groups)))
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False,
                             constrained_layout=True)
    for ax, (key, part) in zip(axes.ravel(), groups):
        refs = reference_curves(part, reference_column) if reference_column else {}
        shown = draw_curves(ax, part, band=band, references=refs, reference_label=reference_label)
        ids = set(part["config_id"])
        for level in sorted({m.get(vline_meta) for cid, m in metas.items()
                             if vline_meta and cid in ids and m.get(vline_meta)}):
            ax.axvline(level, color="grey", linestyle=":", label=f"n = {level}")
        draw_reference_lines(ax, {name: lv for cid, m in metas.items() if cid in ids
                                  for name, lv in m.get("reference_lines", {}).items()})
        style_error_axes(ax, np.asarray(shown), linear_below=linear_below)
        if facet:
            ax.set_title(_panel_title(facet, key), fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, out_base)


def draw_paper_figure(out_dir: Path, style: str = "curves", fixed_n: int | None = None,
                      **options: Any) -> list[Path]:
    """``paper_figure.png/pdf`` in ``out_dir`` from the rows under it (none without ok rows)."""
    from cliffbench.results.load import load

    if style not in STYLES:
        raise ConfigError(f"figure.style must be one of {', '.join(STYLES)}, got {style!r}")
    df = load(out_dir)
    if not len(df) or not (df["status"] == "ok").any():
        return []
    if style == "random_features":
        from cliffbench.report.random_features_figure import draw_random_features

        return draw_random_features(df, out_dir / "paper_figure", title=options.get("title", ""), fixed_n=fixed_n)
    return draw_toy_curves(df, out_dir / "paper_figure", job_metas(out_dir), **options)
