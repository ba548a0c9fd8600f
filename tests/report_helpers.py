"""Synthetic results frames with known answers for the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

GRID = np.unique(np.round(np.logspace(1, 4, 16))).astype(int)


def frame(fn, n=GRID, trials: int = 30, noise: float = 0.1, seed: int = 0, quantum: float | None = None,
          label: str = "curve") -> pd.DataFrame:
    """Rows of ``trials`` trials per n: test_error = fn(n) * exp(N(0, noise)), optionally rounded to
    multiples of ``quantum`` (a classification error on a test set of 1/quantum examples)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(trials):
        for nn in n:
            err = fn(nn) * np.exp(rng.normal(0, noise))
            if quantum:
                err = np.round(err / quantum) * quantum
            rows.append({"dataset": "toy", "backbone": "none", "method": label, "n": int(nn), "trial": t,
                         "seed": 0, "test_error": float(err), "status": "ok", "message": "",
                         "config_id": f"id-{label}", "label": label})
    return pd.DataFrame(rows)
