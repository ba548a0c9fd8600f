"""Hydra callbacks, registered once in ``conf/hydra/default.yaml``: after a multirun, one table and
one figure for the whole sweep (``SweepSummary``); after a run or sweep whose config sets
``figure:`` (the toy presets), the paper-style figure (``PaperFigure``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf


class SweepSummary(Callback):
    """Writes ``results.csv`` and ``curves.png/pdf`` at the sweep root, prints the table, and ends
    with exit code 1 when some job of the sweep failed (its ``error.txt`` names the reason)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from cliffbench.results.load import load, reference_lines
        from cliffbench.report.summary import format_table, write_outputs

        sweep_dir = Path(config.hydra.sweep.dir)
        errors = sorted(sweep_dir.rglob("error.txt"))
        if sweep_dir.exists():
            df = load(sweep_dir)
            if len(df):
                paths = write_outputs(df, sweep_dir, f"sweep {sweep_dir.name}", reference_lines(sweep_dir))
                print(f"\n=== sweep {sweep_dir} ===\n{format_table(df)}\n")
                print(f"sweep results: {paths['results']}\nsweep figure:  {paths['figures'][0]}")
        if errors:
            for err in errors:
                print(f"job {err.parent}: {err.read_text().strip()}", file=sys.stderr)
            sys.exit(1)


class PaperFigure(Callback):
    """Draws ``paper_figure.png/pdf`` at the end of a run or sweep when the config's ``figure``
    is set (its keys are :func:`cliffbench.report.toy_figures.draw_paper_figure`'s options)."""

    def _draw(self, config: DictConfig, out_dir: str) -> None:
        options = config.get("figure")
        if not options:
            return
        from cliffbench.report.toy_figures import draw_paper_figure

        paths = draw_paper_figure(Path(out_dir), **OmegaConf.to_container(options, resolve=True))
        if paths:
            print(f"paper figure:  {paths[0]}")

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._draw(config, config.hydra.run.dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._draw(config, config.hydra.sweep.dir)
