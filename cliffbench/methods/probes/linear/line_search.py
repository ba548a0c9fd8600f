"""The Moré–Thuente line search (MINPACK-2's dcsrch / dcstep), the one scipy's L-BFGS-B runs for
scikit-learn: a step satisfying the strong Wolfe conditions ``f(stp) <= f(0) + ftol * stp * g(0)``
and ``|g(stp)| <= gtol * |g(0)|`` (``g`` the directional derivative), found by safeguarded cubic and
quadratic interpolation inside a bracket that is grown or shrunk from the previous trial steps.

One :class:`MoreThuente` per problem and iteration; it is plain Python on scalars (a handful of
float operations per trial step, next to a pass over the data). ``solver=lbfgs`` uses it so that a
batched fit follows scikit-learn's own path.
"""

from __future__ import annotations

import math

XTRAPL, XTRAPU = 1.1, 4.0


class MoreThuente:
    """Search along one direction from ``f0`` with derivative ``g0 < 0``, first trial step ``stp``."""

    def __init__(self, f0: float, g0: float, stp: float, ftol: float = 1e-3, gtol: float = 0.9,
                 xtol: float = 0.1, stpmin: float = 0.0, stpmax: float = 1e10) -> None:
        self.ftol, self.gtol, self.xtol, self.stpmin, self.stpmax = ftol, gtol, xtol, stpmin, stpmax
        self.finit, self.ginit, self.gtest = f0, g0, ftol * g0
        self.stp = min(max(stp, stpmin), stpmax)
        self.brackt, self.stage = False, 1
        self.width = stpmax - stpmin
        self.width1 = 2 * self.width
        self.stx, self.fx, self.gx = 0.0, f0, g0
        self.sty, self.fy, self.gy = 0.0, f0, g0
        self.stmin, self.stmax = 0.0, self.stp + XTRAPU * self.stp

    def next(self, f: float, g: float) -> tuple[bool, float]:
        """Value and derivative at the current trial step -> (done, next trial step). ``done``:
        accept the current step (converged, or a stop scipy also accepts: a bound or rounding)."""
        stp, ftest = self.stp, self.finit + self.stp * self.gtest
        if self.stage == 1 and f <= ftest and g >= 0:
            self.stage = 2
        if self.brackt and (stp <= self.stmin or stp >= self.stmax):
            return True, stp
        if self.brackt and self.stmax - self.stmin <= self.xtol * self.stmax:
            return True, stp
        if stp == self.stpmax and f <= ftest and g <= self.gtest:
            return True, stp
        if stp == self.stpmin and (f > ftest or g >= self.gtest):
            return True, stp
        if f <= ftest and abs(g) <= self.gtol * -self.ginit:
            return True, stp
        if self.stage == 1 and f <= self.fx and f > ftest:
            # modified function psi(stp) = f(stp) - stp * gtest while no step has both conditions
            t = self.gtest
            fx, fy, gx, gy = self.fx - self.stx * t, self.fy - self.sty * t, self.gx - t, self.gy - t
            self.stx, fx, gx, self.sty, fy, gy, stp = self._step(
                self.stx, fx, gx, self.sty, fy, gy, stp, f - stp * t, g - t)
            self.fx, self.fy, self.gx, self.gy = fx + self.stx * t, fy + self.sty * t, gx + t, gy + t
        else:
            self.stx, self.fx, self.gx, self.sty, self.fy, self.gy, stp = self._step(
                self.stx, self.fx, self.gx, self.sty, self.fy, self.gy, stp, f, g)
        if self.brackt:
            if abs(self.sty - self.stx) >= 0.66 * self.width1:
                stp = self.stx + 0.5 * (self.sty - self.stx)
            self.width1, self.width = self.width, abs(self.sty - self.stx)
            self.stmin, self.stmax = min(self.stx, self.sty), max(self.stx, self.sty)
        else:
            self.stmin = stp + XTRAPL * (stp - self.stx)
            self.stmax = stp + XTRAPU * (stp - self.stx)
        stp = min(max(stp, self.stpmin), self.stpmax)
        if (self.brackt and (stp <= self.stmin or stp >= self.stmax)) or (
                self.brackt and self.stmax - self.stmin <= self.xtol * self.stmax):
            stp = self.stx
        self.stp = stp
        return False, stp

    @staticmethod
    def _cubic(theta: float, da: float, db: float, negate: bool) -> float:
        """The square-root term of the cubic interpolant's minimiser (sign set by the side)."""
        s = max(abs(theta), abs(da), abs(db))
        gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (da / s) * (db / s)))
        return -gamma if negate else gamma

    def _step(self, stx, fx, dx, sty, fy, dy, stp, fp, dp):
        """dcstep: the next trial step from the bracket ends and the current step; updates them."""
        sgnd = dp * math.copysign(1.0, dx)
        stpmin, stpmax = self.stmin, self.stmax
        theta = 3 * (fx - fp) / (stp - stx) + dx + dp
        if fp > fx:  # higher value: the minimum is bracketed
            gamma = self._cubic(theta, dx, dp, stp < stx)
            p, q = (gamma - dx) + theta, ((gamma - dx) + gamma) + dp
            stpc = stx + p / q * (stp - stx)
            stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
            stpf = stpc if abs(stpc - stx) < abs(stpq - stx) else stpc + (stpq - stpc) / 2
            self.brackt = True
        elif sgnd < 0:  # derivatives of opposite sign: bracketed
            gamma = self._cubic(theta, dx, dp, stp > stx)
            p, q = (gamma - dp) + theta, ((gamma - dp) + gamma) + dx
            stpc = stp + p / q * (stx - stp)
            stpq = stp + (dp / (dp - dx)) * (stx - stp)
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            self.brackt = True
        elif abs(dp) < abs(dx):  # same sign, derivative shrinking
            gamma = self._cubic(theta, dx, dp, stp > stx)
            p, q = (gamma - dp) + theta, (gamma + (dx - dp)) + gamma
            r = p / q
            if r < 0 and gamma != 0:
                stpc = stp + r * (stx - stp)
            else:
                stpc = stpmax if stp > stx else stpmin
            stpq = stp + (dp / (dp - dx)) * (stx - stp)
            if self.brackt:
                stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
                bound = stp + 0.66 * (sty - stp)
                stpf = min(bound, stpf) if stp > stx else max(bound, stpf)
            else:
                stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
                stpf = max(stpmin, min(stpmax, stpf))
        else:  # same sign, derivative not shrinking
            if self.brackt:
                theta = 3 * (fp - fy) / (sty - stp) + dy + dp
                gamma = self._cubic(theta, dy, dp, stp > sty)
                p, q = (gamma - dp) + theta, ((gamma - dp) + gamma) + dy
                stpf = stp + p / q * (sty - stp)
            else:
                stpf = stpmax if stp > stx else stpmin
        if fp > fx:
            sty, fy, dy = stp, fp, dp
        else:
            if sgnd < 0:
                sty, fy, dy = stx, fx, dx
            stx, fx, dx = stp, fp, dp
        return stx, fx, dx, sty, fy, dy, stpf
