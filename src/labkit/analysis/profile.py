"""Profile-likelihood confidence intervals of the IC50 (an option: `--ci profile`; the default is Wald on ln e).

For each curve, ln e is held at a ladder of values either side of its estimate and the other free parameters of
the curve's chosen model are refitted (warm-started from the neighbouring rung); the 95 % interval is where the
profile residual sum of squares stays below RSS_min (1 + F(0.95; 1, df) / df) (the F-test form of the likelihood
ratio for least squares; Bates & Watts 1988, ch. 6). The crossing is interpolated linearly in
sqrt(RSS_profile - RSS_min) between rungs. When the profile never crosses within PROFILE_DECADES of the estimate
(or the e bound) that side is open and the interval ends at the last rung reached.
"""

from __future__ import annotations

import numpy as np

from labkit.analysis import fit_lm

STEPS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)  # log10 offsets from ln e's estimate
PROFILE_DECADES = STEPS[-1]


def profile_ci(res, conc: np.ndarray, y: np.ndarray, weights: np.ndarray | None, *, bounded: bool,
               level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) profile-likelihood limits of e per curve of a FitResults (NaN where the curve has no e)."""
    from scipy import special

    from labkit.analysis.fit import B_MAX, E_DECADES, _log_conc
    from labkit.analysis.models import HILL_MAX, _parse_label, default_bounds

    n = len(res)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape).copy()
    valid = np.isfinite(conc) & np.isfinite(y) & (w > 0)
    if res.outlier is not None:
        valid &= ~res.outlier
    w = np.where(valid, w, 0.0)
    yz = np.where(valid, y, 0.0)
    lx, zero = _log_conc(np.where(valid, conc, 1.0))
    zero &= valid
    labels = res.models if res.models is not None else np.array([res.model] * n, dtype=object)
    e = res.params[:, 3]
    ok = np.isfinite(e) & (e > 0) & np.isfinite(res.rss) & (res.df > 0)
    for label in sorted(set(labels[ok])):
        idx = np.flatnonzero(ok & (labels == label))
        ft, fb = _parse_label(str(label))
        free = [fit_lm.B] + ([fit_lm.C] if fb is None else []) + ([fit_lm.D] if ft is None else [])
        k = len(idx)
        lower, upper = np.empty((k, 4)), np.empty((k, 4))
        hb = HILL_MAX if bounded else B_MAX
        lower[:, 0], upper[:, 0] = -hb, hb
        if bounded:
            cb = default_bounds(res.top_ref, res.bottom_ref)["c"]
            lower[:, 1:3], upper[:, 1:3] = cb
        else:
            lower[:, 1:3], upper[:, 1:3] = -np.inf, np.inf
        le_lo = np.log(res.conc_min[idx]) - E_DECADES * np.log(10.0)
        le_hi = np.log(res.conc_max[idx]) + E_DECADES * np.log(10.0)
        theta_hat = res.params[idx].copy()
        theta_hat[:, 3] = np.log(e[idx])
        for j, v in ((1, fb), (2, ft)):
            if v is not None:
                theta_hat[:, j] = v
                lower[:, j] = upper[:, j] = v
        a_lx, a_zero, a_y, a_w = lx[idx], zero[idx], yz[idx], w[idx]
        rss_min = res.rss[idx]
        q = special.stdtrit(res.df[idx].astype(float), 0.5 + level / 2.0) ** 2
        excess_max = rss_min * q / res.df[idx]
        spread = np.sqrt((a_w * (a_y - (a_w * a_y).sum(1, keepdims=True) / a_w.sum(1, keepdims=True)) ** 2
                          ).sum(1) / a_w.sum(1))
        scale = np.column_stack([np.ones(k), spread + 1e-300, spread + 1e-300, np.ones(k)])
        for sign, out in ((-1.0, low), (1.0, high)):
            theta = theta_hat.copy()
            prev_d, prev_x = np.zeros(k), np.zeros(k)
            found = np.zeros(k, dtype=bool)
            limit = np.full(k, np.nan)
            for step in STEPS:
                le = np.log(e[idx]) + sign * step * np.log(10.0)
                at_edge = (le < le_lo) | (le > le_hi)
                le = np.clip(le, le_lo, le_hi)
                theta[:, 3] = le
                lo_k, hi_k = lower.copy(), upper.copy()
                lo_k[:, 3] = hi_k[:, 3] = le
                with np.errstate(all="ignore"):
                    theta, _conv, _ = fit_lm.levenberg_marquardt(theta, a_lx, a_zero, a_y, a_w, free, lo_k, hi_k,
                                                                 scale, max_iter=50)
                    r = a_y - fit_lm.predict(theta, a_lx, a_zero)
                    excess = np.maximum((a_w * r * r).sum(1) - rss_min, 0.0)
                cross = ~found & (excess > excess_max)
                if cross.any():  # linear in sqrt(excess) between the last rung inside and this one
                    x0, x1, t = prev_x[cross], np.sqrt(excess[cross]), np.sqrt(excess_max[cross])
                    frac = np.where(x1 > x0, (t - x0) / np.where(x1 > x0, x1 - x0, 1.0), 1.0)
                    d = prev_d[cross] + frac * (sign * step * np.log(10.0) - prev_d[cross])
                    limit[cross] = np.log(e[idx][cross]) + d
                    found |= cross
                open_ = ~found & at_edge
                limit[open_] = le[open_]
                found |= open_
                prev_d = np.where(found, prev_d, sign * step * np.log(10.0))
                prev_x = np.where(found, prev_x, np.sqrt(excess))
                if found.all():
                    break
            limit[~found] = np.log(e[idx][~found]) + sign * PROFILE_DECADES * np.log(10.0)  # open: last rung
            out[idx] = np.exp(limit)
    return low, high
