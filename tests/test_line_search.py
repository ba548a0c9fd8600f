"""The Moré–Thuente line search against scipy's MINPACK dcsrch (``scalar_search_wolfe1``), the
search scipy's L-BFGS-B runs for scikit-learn: same trial steps, same accepted step."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cliffbench.methods.probes.linear.line_search import MoreThuente

FUNCTIONS = {  # phi(a) along a descent direction: (phi, phi')
    "quadratic far": (lambda a: (a - 30.0) ** 2, lambda a: 2 * (a - 30.0)),
    "quadratic near": (lambda a: (a - 0.05) ** 2, lambda a: 2 * (a - 0.05)),
    "logistic-like": (lambda a: math.log1p(math.exp(-3 * a)) + 0.01 * a * a,
                      lambda a: -3 / (1 + math.exp(3 * a)) + 0.02 * a),
    "quartic": (lambda a: (a - 2.0) ** 4 - 3 * a, lambda a: 4 * (a - 2.0) ** 3 - 3),
    "steep then flat": (lambda a: -math.atan(10 * a) + 0.001 * a * a, lambda a: -10 / (1 + 100 * a * a) + 0.002 * a),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("first", [1.0, 0.01])
def test_same_trial_steps_and_accepted_step_as_scipy_dcsrch(name, first):
    from scipy.optimize._linesearch import scalar_search_wolfe1

    phi, dphi = FUNCTIONS[name]
    tried = []

    def phi_logged(a):
        tried.append(a)
        return phi(a)

    # old_phi0 chosen so scipy's first trial step is `first` (its rule: 1.01 * 2 * (phi0 - old) / g0)
    old = phi(0.0) - first * dphi(0.0) / (1.01 * 2)
    ref, _, _ = scalar_search_wolfe1(phi_logged, dphi, phi(0.0), old, dphi(0.0), c1=1e-3, c2=0.9,
                                     amax=1e10, amin=0.0, xtol=0.1)
    search, ours, stp = MoreThuente(phi(0.0), dphi(0.0), first), [], first
    for _ in range(50):
        ours.append(stp)
        done, stp = search.next(phi(stp), dphi(stp))
        if done:
            break
    assert done and ref is not None
    assert np.allclose(ours, tried, rtol=1e-12), (ours, tried)
    assert ours[-1] == pytest.approx(ref, rel=1e-12)
