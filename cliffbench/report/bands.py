"""The one band statistic of a set of curves: per curve and n, the median of ``test_error`` over
ok trials and a band around it (min-max, or a central quantile range), plus trial and failure
counts; and a curve's reference values (a per-cell metric such as an analytic prediction). Used by
the figures, the job and sweep tables and the report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def curve_stats(df, by: Sequence[str] = ("config_id",), band: str | float = "range",
                column: str = "test_error"):
    """Per ``by`` group and n: ``median``, ``min``, ``max``, ``q25``, ``q75``, the band edges
    ``lo``/``hi`` (``band="range"``: min and max; a fraction: the central quantile range holding
    it) over ok trials, and ``trials``/``failed`` counts."""
    import pandas as pd

    by = [c for c in by if c in df.columns]
    ok = df[df["status"] == "ok"]
    g = ok.groupby([*by, "n"])[column]
    stats = pd.DataFrame({
        "median": g.median(), "min": g.min(), "max": g.max(),
        "q25": g.quantile(0.25), "q75": g.quantile(0.75), "trials": g.size(),
    })
    if band == "range":
        stats["lo"], stats["hi"] = stats["min"], stats["max"]
    else:
        tail = (1.0 - float(band)) / 2
        stats["lo"], stats["hi"] = g.quantile(tail), g.quantile(1 - tail)
    failed = df[df["status"] != "ok"].groupby([*by, "n"]).size().rename("failed")
    stats = stats.join(failed, how="outer").fillna({"failed": 0, "trials": 0})
    stats["failed"] = stats["failed"].astype(int)
    stats["trials"] = stats["trials"].astype(int)
    return stats.reset_index()


def reference_curves(df, column: str = "reference_error") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per config_id: (n, median ``column``) when the rows carry that metric."""
    import pandas as pd

    if column not in df.columns or "config_id" not in df.columns:
        return {}
    ok = df[df["status"] == "ok"].assign(**{column: lambda d: pd.to_numeric(d[column], errors="coerce")})
    out = {}
    for cid, rows in ok.dropna(subset=[column]).groupby("config_id", sort=False):
        med = rows.groupby("n")[column].median().sort_index()
        out[cid] = (med.index.to_numpy(dtype=float), med.to_numpy(dtype=float))
    return out
