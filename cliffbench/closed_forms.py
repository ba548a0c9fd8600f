"""The papers' closed forms for the Gaussian classification toy (cliff-learning paper, App. F),
shared by the dataset that states them (its reference lines) and the method that reports them
(exact errors instead of test-set estimates). Pure numpy/scipy, nothing of the project."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr


def bayes_error(s: float) -> float:
    """The Bayes error Φ(−s) of x ~ N(y·s·e₁, I), y uniform on ±1."""
    return float(ndtr(-s))


def linear_classifier_error(W: np.ndarray, s: float) -> np.ndarray:
    """The exact error Φ(−s·w₁/‖w‖) (F.2) of sign(wᵀx), for each row w of ``W``."""
    W = np.asarray(W, dtype=np.float64)
    return ndtr(-s * W[:, 0] / np.linalg.norm(W, axis=1))


def f5_error(n, d: int, s: float):
    """The paper's approximation (F.5) of the mean classifier's median error: Φ(−s / √(1 + d/(n s²)))."""
    return ndtr(-s / np.sqrt(1.0 + d / (np.asarray(n, dtype=np.float64) * s**2)))
