"""Rows -> curves: one :class:`Curve` per ``config_id`` holding the trials x n matrix of test
errors, from which medians, bootstrap resamples, cliff tests and efficiency numbers are computed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cliffbench.errors import DataError

REQUIRED = ("n", "trial", "test_error", "status")
# Errors below this fraction of a curve's largest median are floating-point noise of an exact 0
# (least squares at n >= d computes ~1e-30, not 0) and count as 0.
ZERO_RELATIVE = 1e-12


@dataclass
class Curve:
    """One data-scaling curve: ``errors[t, j]`` is trial t's test error at ``n[j]`` (NaN when that
    cell is missing or failed); ``reference`` is the median ``reference_error`` metric per n, if any."""

    config_id: str
    label: str
    n: np.ndarray
    errors: np.ndarray
    failed: np.ndarray
    reference: np.ndarray | None = None
    info: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> np.ndarray:
        return nanmedian_cols(self.errors)

    @property
    def median_se(self) -> np.ndarray:
        """Standard error of the median at each n: 1.2533 sd / sqrt(trials), with the sd estimated
        robustly from the median absolute deviation (1.4826 MAD)."""
        med = self.median
        with np.errstate(all="ignore"):
            mad = nanmedian_cols(np.abs(self.errors - med))
            return 1.2533 * 1.4826 * mad / np.sqrt(np.maximum(self.trials, 1))

    @property
    def trials(self) -> np.ndarray:
        """Number of ok trials at each n."""
        return np.isfinite(self.errors).sum(axis=0)

    @property
    def resolution(self) -> float:
        """The metric's resolution: the smallest positive error any trial reached or the smallest
        gap between two distinct errors, whichever is less (for a classification error: one test
        example, 1/|test|). NaN when no error is positive."""
        errs = self.errors[np.isfinite(self.errors)]
        scale = float(np.abs(errs).max()) if errs.size else 0.0
        if scale <= 0:
            return float("nan")
        # distinct values to 12 significant digits of the curve's own scale (any scale works)
        vals = np.unique(np.round(errs / scale, 12)) * scale
        pos = vals[vals > 0]
        if not pos.size:
            return float("nan")
        gaps = np.diff(vals)
        return float(min(pos.min(), gaps.min())) if gaps.size else float(pos.min())

    def floored(self, floor: float | None = None) -> np.ndarray:
        """Errors clipped from below at ``floor`` (default: the resolution), so that logs are finite:
        an error of exactly 0 counts as "below resolution", never as an infinitely deep drop."""
        floor = self.resolution if floor is None else floor
        if not np.isfinite(floor) or floor <= 0:
            return np.full_like(self.errors, np.nan, dtype=float)
        return np.where(np.isfinite(self.errors), np.maximum(self.errors, floor), np.nan)


def nanmedian_cols(a: np.ndarray, axis: int = -2) -> np.ndarray:
    """Column medians ignoring NaN, without warnings for all-NaN columns."""
    a = np.asarray(a, dtype=float)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(a, axis=axis)


def snap_zeros(errors: np.ndarray) -> np.ndarray:
    """``errors`` (trials x n) with values at floating-point noise level, below ``ZERO_RELATIVE``
    times the curve's largest median (its scale), set to exactly 0."""
    errors = np.asarray(errors, dtype=float)
    med = nanmedian_cols(errors)
    scale = np.nanmax(np.abs(med)) if np.isfinite(med).any() else np.nan
    if not np.isfinite(scale) or scale <= 0:
        return errors
    return np.where(np.abs(errors) < ZERO_RELATIVE * scale, 0.0, errors)


def snap_zeros_frame(df, column: str = "test_error"):
    """:func:`snap_zeros` applied to a results frame, curve by curve (per ``config_id``)."""
    import pandas as pd

    if column not in df.columns or "config_id" not in df.columns or not len(df):
        return df
    df = df.assign(**{column: pd.to_numeric(df[column], errors="coerce")})
    ok = df[df["status"].eq("ok")] if "status" in df.columns else df
    for _, rows in ok.groupby("config_id", sort=False):
        scale = rows.groupby("n")[column].median().abs().max()
        if scale > 0:
            tiny = rows.index[rows[column].abs() < ZERO_RELATIVE * scale]
            df.loc[tiny, column] = 0.0
    return df


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def build_curves(df) -> list[Curve]:
    """Group ``df`` (as returned by ``cliffbench.results.load``) into curves, one per config_id
    (or per label when there is no config_id column), ordered by label."""
    import pandas as pd

    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"results lack column(s) {missing}; expected rows written by cliffbench")
    df = df.reset_index(drop=True)
    if "config_id" not in df.columns:
        df["config_id"] = df["label"] if "label" in df.columns else "curve"
    if "label" not in df.columns:
        df["label"] = df["config_id"]
    df["test_error"] = pd.to_numeric(df["test_error"], errors="coerce")
    ok = df["status"].eq("ok") & np.isfinite(df["test_error"])
    curves = []
    for cid, rows in df.groupby("config_id", sort=False):
        good = rows[ok.loc[rows.index]]
        if good.empty:
            continue
        # every n with a row, even one whose cells all failed (a point the report names as dropped)
        grid = np.sort(rows["n"].unique()).astype(float)
        trials = np.sort(rows["trial"].unique())
        pos_n = {n: j for j, n in enumerate(grid)}
        pos_t = {t: i for i, t in enumerate(trials)}
        errors = np.full((len(trials), len(grid)), np.nan)
        for r in good[["n", "trial", "test_error"]].itertuples(index=False):
            errors[pos_t[r.trial], pos_n[float(r.n)]] = r.test_error
        errors = snap_zeros(errors)
        failed = np.array([int(((rows["n"] == n) & ~ok.loc[rows.index]).sum()) for n in grid])
        reference = None
        if "reference_error" in good.columns:
            ref = pd.to_numeric(good["reference_error"], errors="coerce")
            per_n = ref.groupby(good["n"].astype(float)).median()
            if per_n.notna().any():
                reference = per_n.reindex(grid).to_numpy(dtype=float)
        first = rows.iloc[0]
        info = {k: _text(first.get(k)) for k in ("dataset", "backbone", "method")}
        curves.append(Curve(str(cid), _text(first["label"]) or str(cid), grid, errors, failed, reference, info))
    return sorted(curves, key=lambda c: (c.label, c.config_id))


def find_curve(curves: list[Curve], key: str) -> Curve:
    """The curve whose label (or config_id, or a unique config_id prefix) is ``key``."""
    for attr in ("label", "config_id"):
        hits = [c for c in curves if getattr(c, attr) == key]
        if len(hits) == 1:
            return hits[0]
    hits = [c for c in curves if c.config_id.startswith(key) or key.lower() in c.label.lower()]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(repr(c.label) for c in curves)
    what = "several" if hits else "no"
    raise DataError(f"{what} curves match {key!r}; give a label or config_id out of: {names}")
