"""Profile-likelihood intervals of fit_echo.

Along each fitted parameter the others are fitted again (a few warm-started
trust-region steps within the search box), and the chi-square's rise over its
minimum is bracketed where it reaches the quantile of the confidence.
"""

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.stats import chi2

__all__ = ["profile"]

# Profile likelihood: points per side, and residual evaluations per point
# (each re-optimizes the other parameters from a warm start).
_PROFILE_POINTS = 6
_PROFILE_ITER = 6
# A profile point this close to the threshold (in sqrt of the chi-square
# rise, i.e. in standard deviations) ends the bracketing.
_PROFILE_TOL = 0.05


def profile(problem, u_hat, spread, confidence, box):
    """Profile-likelihood half-widths of every parameter (optimizer coordinates).

    Along each parameter, the other parameters are re-optimized (a few
    warm-started trust-region steps within the box) and the chi-square's
    rise over its minimum, divided by the misfit when above 1, is bracketed
    where it reaches the chi-square quantile of ``confidence`` (one degree
    of freedom). A side where it stays below up to the box's edge gets
    ``inf`` (the interval ends at the edge).

    Returns ``below`` and ``above`` (distances from ``u_hat``) and, per
    parameter, a table of the profile's points (``value``, natural units,
    and ``delta_chi2``, the scaled rise).
    """
    model = problem.model
    widen = max(spread.misfit, 1.0)
    threshold = np.sqrt(chi2.ppf(confidence, 1))  # in standard deviations
    base = float(spread.r @ spread.r)
    cov = spread.noise_part * widen
    p = len(u_hat)
    below, above = np.full(p, np.inf), np.full(p, np.inf)
    profiles = {}
    for k, name in enumerate(model.parameters):
        others = np.arange(p) != k
        var = cov[k, k]
        usable = np.isfinite(var) and var > 0
        se = np.sqrt(var) if usable else np.inf
        # first-order path of the others along this parameter (Laplace)
        slope = cov[others, k] / var if usable else np.zeros(p - 1)
        side = _ProfileSide(problem, u_hat, k, box, base, widen, slope)
        points = []
        for sign, out in ((-1.0, below), (1.0, above)):
            out[k] = side.crossing(sign, threshold, se)
            points += [(u_hat[k] + sign * t, r**2) for t, r, _ in side.solved[1:]]
        points.append((u_hat[k], 0.0))
        points.sort()
        along = np.tile(u_hat, (len(points), 1))
        along[:, k] = [v for v, _ in points]
        profiles[name] = pd.DataFrame(
            {
                "value": model.to_natural(along)[:, k],
                "delta_chi2": [d for _, d in points],
            }
        )
    return below, above, profiles


class _ProfileSide:
    """The profile of one parameter, bracketed one side at a time."""

    def __init__(self, problem, u_hat, k, box, base, widen, slope):
        self.problem, self.u_hat, self.k = problem, u_hat, k
        self.low, self.high = box
        self.others = np.arange(len(u_hat)) != k
        self.base, self.widen, self.slope = base, widen, slope
        self.solved = []

    def _full(self, value, v):
        u = self.u_hat.copy()
        u[self.others] = v
        u[self.k] = value
        return u

    def rise(self, value, start):
        """sqrt of the scaled chi-square rise with the others re-optimized."""
        problem, others = self.problem, self.others
        if not others.any():
            c2, v = problem.chi2(self._full(value, start)), start
        else:
            lo, hi = self.low[others], self.high[others]
            run = least_squares(
                lambda v: problem.residuals(self._full(value, v)),
                np.clip(start, lo, hi),
                jac=lambda v: problem.jacobian(self._full(value, v))[:, others],
                bounds=(lo, hi),
                method="trf",
                x_scale="jac",
                max_nfev=_PROFILE_ITER,
            )
            c2, v = 2 * run.cost, run.x
        return np.sqrt(max(c2 - self.base, 0.0) / self.widen), v

    def crossing(self, sign, threshold, se):
        """Distance from the estimate to where the rise reaches ``threshold``."""
        k, u_hat = self.k, self.u_hat
        room = u_hat[k] - self.low[k] if sign < 0 else self.high[k] - u_hat[k]
        self.solved = [(0.0, 0.0, u_hat[self.others])]
        if room <= 0:
            return np.inf
        t, cross = min(threshold * se, room), np.inf
        for _ in range(_PROFILE_POINTS):
            near = min(self.solved, key=lambda s: abs(s[0] - t))
            start = near[2] + self.slope * sign * (t - near[0])
            r, v = self.rise(u_hat[k] + sign * t, start)
            self.solved.append((t, r, v))
            if abs(r - threshold) < _PROFILE_TOL * threshold:
                return t
            up = [s for s in self.solved if s[1] >= threshold]
            if not up:
                if t >= room:
                    return np.inf
                # the rise grows about linearly with the distance near the
                # estimate: aim at the threshold along the last two points'
                # line, at least 1.2 and at most four times further
                (t0, r0, _), (t1, r1, _) = self.solved[-2:]
                aim = t1 + (threshold - r1) * (t1 - t0) / max(r1 - r0, 1e-12)
                t = min(room, float(np.clip(aim, 1.2 * t1, 4.0 * t1)))
                continue
            b = min(up, key=lambda s: s[0])
            a = max((s for s in self.solved if s[0] < b[0]), key=lambda s: s[0])
            cross = a[0] + (threshold - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if b[0] - a[0] < _PROFILE_TOL * b[0]:
                return cross
            # regula falsi; halve the bracket instead when its lower end moved
            # twice running (a rise far from linear creeps in from one side)
            twice_below = r < threshold and self.solved[-2][1] < threshold
            t = 0.5 * (a[0] + b[0]) if twice_below else cross
        return cross
