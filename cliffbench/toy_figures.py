"""Paper-style figures for the toy presets, drawn from a finished run's results by a Hydra callback
(``hydra.callbacks.toy_figure`` in a preset): ``paper_figure.png/pdf`` next to the runner's own
``curves.png``.

``style: curves`` draws median + band per curve on log-log axes, optionally one panel per value of
some identity columns (``facet``), a vertical dotted line at ``meta[vline_meta]`` (the critical
n), a linear y-axis below ``linear_below``, and the per-n median of a metric column
(``reference_column``, e.g. the F.5 approximation) as an orange dashed line.
``style: random_features`` draws Bahri et al.'s four scaling regimes (see
:mod:`cliffbench.toy_random_features_figure`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


def job_metas(path: Path) -> dict[str, dict[str, Any]]:
    """``{config_id: meta}`` recorded by the jobs under ``path``."""
    out = {}
    for ident in sorted(Path(path).rglob("cells/*/identity.json")):
        out[ident.parent.name] = json.loads(ident.read_text()).get("meta", {})
    return out


def band_stats(df, column: str = "test_error", band: str | float = "range"):
    """Per (config_id, n): median and band edges (min/max, or the central ``band`` quantile range)."""
    import pandas as pd

    g = df[df["status"] == "ok"].groupby(["config_id", "n"])[column]
    if band == "range":
        lo, hi = g.min(), g.max()
    else:
        tail = (1.0 - float(band)) / 2
        lo, hi = g.quantile(tail), g.quantile(1 - tail)
    return pd.DataFrame({"median": g.median(), "lo": lo, "hi": hi}).reset_index()


def _panel_title(keys: Sequence[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values))


def draw_curves(df, out_base: Path, metas: dict[str, dict[str, Any]], *, title: str = "",
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
    from cliffbench.report.curves import snap_zeros_frame
    from cliffbench.report.labels import distinct_labels

    df = snap_zeros_frame(df)
    labels = distinct_labels(df)
    for ax, (key, part) in zip(axes.ravel(), groups):
        stats = band_stats(part, band=band)
        for i, (cid, cur) in enumerate(stats.groupby("config_id", sort=False)):
            ax.fill_between(cur["n"], cur["lo"], cur["hi"], color=f"C{i}", alpha=0.25, linewidth=0)
            ax.plot(cur["n"], cur["median"], "-", color=f"C{i}", label=labels[cid])
        if reference_column and reference_column in part.columns:
            ref = part.groupby("n")[reference_column].median()
            ax.plot(ref.index, ref.values, "--", color="C1" if stats["config_id"].nunique() == 1 else "k",
                    label=reference_label)
        for level in sorted({m.get(vline_meta) for cid, m in metas.items()
                             if vline_meta and cid in set(part["config_id"]) and m.get(vline_meta)}):
            ax.axvline(level, color="grey", linestyle=":", label=f"n = {level}")
        refs = {name: lv for cid, m in metas.items() if cid in set(part["config_id"])
                for name, lv in m.get("reference_lines", {}).items()}
        for name, level in refs.items():
            ax.axhline(level, color="grey", linestyle="--", linewidth=0.8, label=name)
        ax.set_xscale("log")
        if linear_below:
            ax.set_yscale("symlog", linthresh=float(linear_below))
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("n (training samples)")
        ax.set_ylabel("test error")
        if facet:
            ax.set_title(_panel_title(facet, key), fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, out_base)


def save(fig, out_base: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = []
    for fmt in ("png", "pdf"):
        path = Path(out_base).with_suffix(f".{fmt}")
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


class ToyFigure(Callback):
    """Hydra callback: draws ``paper_figure.png/pdf`` at the end of a run or sweep."""

    def __init__(self, style: str = "curves", title: str = "", facet: Sequence[str] = (),
                 band: str | float = "range", vline_meta: str | None = None,
                 linear_below: float | None = None, reference_column: str | None = None,
                 reference_label: str = "reference", fixed_n: int | None = None) -> None:
        if style not in ("curves", "random_features"):
            from cliffbench.errors import ConfigError

            raise ConfigError(f"hydra.callbacks.toy_figure.style must be curves or random_features, got {style!r}")
        self.style, self.fixed_n = style, fixed_n
        self.options = dict(title=title, facet=list(facet), band=band, vline_meta=vline_meta,
                            linear_below=linear_below, reference_column=reference_column,
                            reference_label=reference_label)

    def draw(self, out_dir: Path) -> list[Path]:
        from cliffbench.results.load import load

        df = load(out_dir)
        if not len(df) or not (df["status"] == "ok").any():
            return []
        if self.style == "random_features":
            from cliffbench.toy_random_features_figure import draw_random_features

            return draw_random_features(df, out_dir / "paper_figure", title=self.options["title"],
                                        fixed_n=self.fixed_n)
        return draw_curves(df, out_dir / "paper_figure", job_metas(out_dir), **self.options)

    def _report(self, out_dir: Path) -> None:
        paths = self.draw(out_dir)
        if paths:
            print(f"paper figure:  {paths[0]}")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._report(Path(config.hydra.sweep.dir))

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._report(Path(config.hydra.run.dir))
