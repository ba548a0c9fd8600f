"""Monte-Carlo bandwidth regularisation (cliff-learning paper, App. E).

The penalty estimates min_{g ∈ S_B} ‖f − g‖², the squared L2 distance of f: [0,1]^d → R to the
functions of bandlimit B, spanned by Φ_B = {cos 2πvᵀx : v ∈ nneg([±B]^d)} ⊔ {sin 2πvᵀx : v ∈
nneg([±B]^d) − {0}}: draw m uniform points, y = f(x), V_B = [φ(x_i)], and return
(1/m)·‖V_B V_B⁺ y − y‖² with V_B⁺ the Moore–Penrose pseudo-inverse.
"""

from __future__ import annotations

import itertools

import numpy as np

from cliffbench.errors import ConfigError


def nneg(vs: list[np.ndarray]) -> list[np.ndarray]:
    """The frequency vectors whose first non-zero coordinate is positive, plus the zero vector."""
    def _include(v: np.ndarray) -> bool:
        nonzero = v[v != 0]
        return len(nonzero) == 0 or nonzero[0] > 0
    return [v for v in vs if _include(v)]


def basis_frequencies(B: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(cosine frequencies, sine frequencies) of Φ_B: nneg([±B]^dim) and the same without 0."""
    grid = [np.array(v) for v in itertools.product(range(-B, B + 1), repeat=dim)]
    cos = np.array(nneg(grid), dtype=np.float64)
    sin = cos[np.any(cos != 0, axis=1)]
    return cos, sin


def basis_matrix(x, cos_freqs, sin_freqs):
    """V_B: one row per point, one column per basis function (torch tensors in, tensor out)."""
    import torch

    two_pi_x = 2 * torch.pi * x
    return torch.cat([torch.cos(two_pi_x @ cos_freqs.T), torch.sin(two_pi_x @ sin_freqs.T)], dim=1)


class BandwidthRegulariser:
    """``penalty(f)`` for a torch function ``f`` mapping (m, dim) points to (m,) or (m, 1) values.

    ``resample=True`` draws fresh points each call (a new Monte-Carlo estimate per step);
    ``False`` keeps the first draw and its pseudo-inverse.
    """

    def __init__(self, B: int = 2, dim: int = 2, m: int = 20_000, lam: float = 1.0,
                 resample: bool = True) -> None:
        if int(B) != B or B < 0 or int(m) != m or m < 1 or not float(lam) >= 0:
            raise ConfigError(f"bandwidth regulariser needs integers B >= 0, m >= 1 and lam >= 0, "
                              f"got B={B}, m={m}, lam={lam}")
        self.B, self.dim, self.m, self.lam, self.resample = int(B), int(dim), int(m), float(lam), bool(resample)
        self.cos_freqs, self.sin_freqs = basis_frequencies(self.B, self.dim)
        self._fixed = None

    @property
    def size(self) -> int:
        """|Φ_B| = (2B+1)^dim."""
        return len(self.cos_freqs) + len(self.sin_freqs)

    def _points(self, generator, dtype):
        import torch

        if self._fixed is not None and not self.resample:
            return self._fixed
        x = torch.rand(self.m, self.dim, generator=generator, dtype=torch.float64)
        V = basis_matrix(x, torch.as_tensor(self.cos_freqs), torch.as_tensor(self.sin_freqs))
        points = (x.to(dtype), V.to(dtype), torch.linalg.pinv(V).to(dtype))
        if not self.resample:
            self._fixed = points
        return points

    def penalty(self, f, generator=None, dtype=None, device=None):
        """(1/m)·‖V_B V_B⁺ y − y‖² with y = f(x) at m uniform points (differentiable in f), on
        ``device`` (default: where the points were drawn, the CPU)."""
        import torch

        x, V, V_pinv = (t.to(device) for t in self._points(generator, dtype or torch.get_default_dtype()))
        y = f(x).reshape(-1)
        residual = V @ (V_pinv @ y) - y
        return residual.pow(2).mean()
