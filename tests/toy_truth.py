"""Results frames of the toys drawn from their exact distributions (no runner), for the report's
known-answer tests and the cliff-threshold calibration (benchmarks/cliff_calibration.py).

* Gaussian toy (paper App. F): the mean classifier's exact error F.2 sampled through F.3,
  Φ(−(s² + sε/√n) / √(s² + 2sε/√n + (ε² + χ²_{d−1})/n)); its median follows F.5.
* Linear regression (§3.1): least squares / ridge on x ~ N(0, I_d), y = vᵀx + N(0, σ²), test
  error ‖ŵ − v‖² + σ² (exact population MSE). Noiseless least squares at n >= d gives rounding
  noise (~1e-30), as the real method does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from cliffbench.sampling import make_grid


def rows(errors: dict[int, np.ndarray], label: str, config_id: str | None = None, **identity) -> pd.DataFrame:
    """{n: per-trial errors} -> results rows (one curve)."""
    out = []
    for n, errs in errors.items():
        for t, e in enumerate(errs):
            out.append({"dataset": "toy", "backbone": "identity", "method": label, "n": int(n), "trial": t,
                        "seed": 0, "test_error": float(e), "status": "ok", "message": "",
                        "config_id": config_id or f"id-{label}", "label": label, **identity})
    return pd.DataFrame(out)


def gaussian_errors(d: int, s: float, grid, trials: int, seed: int = 0) -> dict[int, np.ndarray]:
    """Exact F.2 errors of the mean classifier, trials nested in n as the runner draws them: ŵ·n is
    a running sum of the yᵢxᵢ ~ N(s·e₁, I_d), extended by the samples each larger n adds."""
    rng = np.random.default_rng(seed)
    total = np.zeros((trials, d))
    out, done = {}, 0
    for n in sorted(int(v) for v in grid):
        total += np.sqrt(n - done) * rng.standard_normal((trials, d))
        total[:, 0] += s * (n - done)
        done = n
        out[n] = ndtr(-s * total[:, 0] / np.linalg.norm(total, axis=1))
    return out


def f5_concave_until(d: int, s: float) -> float:
    """The largest n up to which F.5 is concave on log-log axes (its cliff region)."""
    n = np.geomspace(0.1, 1e6, 20001)
    y = np.log(ndtr(-s / np.sqrt(1 + d / (n * s**2))))
    second = np.gradient(np.gradient(y, np.log(n)), np.log(n))
    concave = second < 0
    return float(n[np.flatnonzero(concave)[-1]]) if concave.any() else float("nan")


def linreg_errors(d: int, sigma: float, grid, trials: int, lam: float = 0.0, seed: int = 0) -> dict[int, np.ndarray]:
    """Least squares (min-norm; ``lam`` = 0) or ridge (sum-of-squares loss + lam‖w‖²), ‖v‖ = 1,
    each trial's samples nested in n (the runner's default)."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    grid = sorted(int(n) for n in grid)
    out = {n: np.empty(trials) for n in grid}
    for t in range(trials):
        X = rng.standard_normal((grid[-1], d))
        y = X @ v + sigma * rng.standard_normal(grid[-1])
        gram, xty, done = np.zeros((d, d)), np.zeros(d), 0
        for n in grid:  # running X^T X and X^T y over the nested samples
            gram += X[done:n].T @ X[done:n]
            xty += X[done:n].T @ y[done:n]
            done = n
            if lam > 0:
                w = np.linalg.solve(gram + lam * np.eye(d), xty)
            elif n < 2 * d:  # near and below n = d the normal equations are ill-conditioned
                w = np.linalg.lstsq(X[:n], y[:n], rcond=None)[0]
            else:
                w = np.linalg.solve(gram, xty)
            out[n][t] = np.sum((w - v) ** 2) + sigma**2
    return out


def ls_expected(n, d: int, sigma: float):
    """Least squares' expected test error above the peak (n > d + 1): σ² + σ² d / (n − d − 1)."""
    n = np.asarray(n, dtype=float)
    return sigma**2 + sigma**2 * d / (n - d - 1)


def power_law_errors(grid, trials: int, alpha: float, A: float = 1.0, E: float = 0.0, noise: float = 0.1,
                     seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {int(n): (E + A * n ** -alpha) * np.exp(rng.normal(0, noise, trials)) for n in grid}


def preset_grid(lo: int, hi: int, num: int) -> list[int]:
    """The runner's log grid for ``grid.min/max/num``."""
    return make_grid(min=lo, max=hi, num=num, pool_size=hi)
