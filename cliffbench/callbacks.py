"""Hydra callbacks: after a multirun, one table and one figure for the whole sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class SweepSummary(Callback):
    """Writes ``results.csv`` and ``curves.png/pdf`` at the sweep root, prints the table, and ends
    with exit code 1 when some job of the sweep failed (its ``error.txt`` names the reason)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from cliffbench.results.load import load, reference_lines
        from cliffbench.summary import format_table, write_outputs

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
