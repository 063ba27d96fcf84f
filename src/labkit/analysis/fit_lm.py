"""Batched Levenberg-Marquardt for the log-logistic model: many curves at once, one damping factor per curve.

Internal parameter vector per curve: theta = (b, c, d, le) with le = ln(e). The model is
    f(x) = c + (d - c) * g,   g = 1 / (1 + exp(z)),   z = b * (ln x - le)
and at x = 0 the limit is taken exactly (z = -inf for b > 0, so f = d; z = +inf for b < 0, so f = c).

Data arrays are (n_curves, n_points): lx = ln x (0 where x == 0 or missing), zero = (x == 0), y (0 where
missing) and w (the weight; 0 where missing), so missing points contribute nothing.
"""

from __future__ import annotations

import numpy as np

B, C, D, LE = 0, 1, 2, 3

# b values tried by the starting-value grid (both signs are tried when an asymptote is fixed)
_B_GRID = (0.6, 1.2, 2.5, 5.0)
_LE_INSIDE = 8  # grid points for ln(e) across the tested range (plus one decade either side)


def logistic(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """g = 1/(1 + exp(b (ln x - le))) for every point, exact at x = 0; theta is (n, 4)."""
    b = theta[:, B:B + 1]
    z = b * (lx - theta[:, LE:LE + 1])
    if zero.any():
        z = np.where(zero, np.copysign(np.inf, -b), z)
    ez = np.exp(-np.abs(z))  # in (0, 1], no overflow
    return np.where(z >= 0, ez, 1.0) / (1.0 + ez)


def predict(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Model values for every point; theta is (n, 4) in (b, c, d, le)."""
    g = logistic(theta, lx, zero)
    return theta[:, C:C + 1] + (theta[:, D:D + 1] - theta[:, C:C + 1]) * g


def jacobian(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f, J, g, s): model values, df/d(b, c, d, le) as (n, m, 4), g and s = g (1 - g)."""
    g = logistic(theta, lx, zero)
    s = g * (1.0 - g)  # exactly 0 at x = 0 (g is 0 or 1 there)
    c = theta[:, C:C + 1]
    dd = theta[:, D:D + 1] - c
    t = lx - theta[:, LE:LE + 1]  # finite placeholder at x = 0, where s = 0 kills it
    jac = np.empty(g.shape + (4,))
    jac[..., B] = -dd * s * t
    jac[..., C] = 1.0 - g
    jac[..., D] = g
    jac[..., LE] = dd * s * theta[:, B:B + 1]
    return c + dd * g, jac, g, s


def second_derivatives(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f, J, K): model values, first (n, m, 4) and second (n, m, 4, 4) derivatives in (b, c, d, le)."""
    f, jac, g, s = jacobian(theta, lx, zero)
    b = theta[:, B:B + 1]
    dd = theta[:, D:D + 1] - theta[:, C:C + 1]
    e = np.exp(theta[:, LE:LE + 1])[..., None]
    t = lx - theta[:, LE:LE + 1]
    h = 1.0 - 2.0 * g
    st = s * t
    k = np.zeros(g.shape + (4, 4))
    k[..., B, B] = dd * s * h * t * t
    k[..., B, C] = k[..., C, B] = st
    k[..., B, D] = k[..., D, B] = -st
    k[..., B, LE] = k[..., LE, B] = dd * (s - h * b * st)
    k[..., C, LE] = k[..., LE, C] = -s * b
    k[..., D, LE] = k[..., LE, D] = s * b
    k[..., LE, LE] = dd * b * b * s * h
    return f, jac, k


def hessian_terms_e(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f, J, K): model values, first (n, m, 4) and second (n, m, 4, 4) derivatives in (b, c, d, e)."""
    f, jac, k = second_derivatives(theta, lx, zero)
    e = np.exp(theta[:, LE:LE + 1])[..., None]
    # chain rule le = ln e: d/de = (1/e) d/dle, d2/de2 = (d2/dle2 - d/dle) / e^2
    k[..., LE, LE] = (k[..., LE, LE] - jac[..., LE]) / (e[..., 0] ** 2)
    k[..., :3, LE] /= e
    k[..., LE, :3] /= e
    jac[..., LE] /= e[..., 0]
    return f, jac, k


def start_values(lx: np.ndarray, zero: np.ndarray, y: np.ndarray, w: np.ndarray, fixed: dict[int, float],
                 lo_lx: np.ndarray, hi_lx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Grid search over (b, le) with the free asymptotes solved by weighted linear least squares: (n, 4).

    Grid values and asymptotes are clipped into the bounds (n, 4) before their RSS is compared.
    """
    n = y.shape[0]
    signs = (1.0,) if (C not in fixed and D not in fixed) else (1.0, -1.0)
    span = np.maximum(hi_lx - lo_lx, 1e-6)
    le_grid = [lo_lx - np.log(10.0)] + [lo_lx + span * k / (_LE_INSIDE - 1) for k in range(_LE_INSIDE)] \
        + [hi_lx + np.log(10.0)]
    sw = w.sum(axis=1)
    ybar = (w * y).sum(axis=1) / np.where(sw > 0, sw, 1.0)
    best = np.full((n, 4), np.nan)
    best_rss = np.full(n, np.inf)
    theta = np.zeros((n, 4))
    for sign in signs:
        for bv in _B_GRID:
            for le in le_grid:
                theta[:, B] = np.clip(sign * bv, lower[:, B], upper[:, B])
                theta[:, LE] = np.clip(le, lower[:, LE], upper[:, LE])
                g = logistic(theta, lx, zero)
                a = 1.0 - g
                c, d = _profile_asymptotes(a, g, y, w, fixed, ybar)
                c = np.clip(c, lower[:, C], upper[:, C])
                d = np.clip(d, lower[:, D], upper[:, D])
                r = y - c[:, None] * a - d[:, None] * g
                rss = (w * r * r).sum(axis=1)
                better = rss < best_rss
                best_rss = np.where(better, rss, best_rss)
                best[better, B] = theta[better, B]
                best[better, LE] = theta[better, LE]
                best[better, C] = c[better]
                best[better, D] = d[better]
    return best


def _profile_asymptotes(a: np.ndarray, g: np.ndarray, y: np.ndarray, w: np.ndarray, fixed: dict[int, float],
                        ybar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares c, d for f = c a + d g given a, g (fixed ones kept)."""
    n = y.shape[0]
    if C in fixed and D in fixed:
        return np.full(n, fixed[C]), np.full(n, fixed[D])
    if C in fixed:
        c = np.full(n, fixed[C])
        sgg = (w * g * g).sum(axis=1)
        ok = sgg > 1e-12 * w.sum(axis=1)
        d = np.where(ok, (w * g * (y - c[:, None] * a)).sum(axis=1) / np.where(ok, sgg, 1.0), ybar)
        return c, d
    if D in fixed:
        d = np.full(n, fixed[D])
        saa = (w * a * a).sum(axis=1)
        ok = saa > 1e-12 * w.sum(axis=1)
        c = np.where(ok, (w * a * (y - d[:, None] * g)).sum(axis=1) / np.where(ok, saa, 1.0), ybar)
        return c, d
    saa = (w * a * a).sum(axis=1)
    sgg = (w * g * g).sum(axis=1)
    sag = (w * a * g).sum(axis=1)
    say = (w * a * y).sum(axis=1)
    sgy = (w * g * y).sum(axis=1)
    det = saa * sgg - sag * sag
    ok = det > 1e-10 * np.maximum(saa * sgg, 1e-300)
    safe = np.where(ok, det, 1.0)
    c = np.where(ok, (sgg * say - sag * sgy) / safe, ybar)
    d = np.where(ok, (saa * sgy - sag * say) / safe, ybar)
    return c, d


def levenberg_marquardt(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray, y: np.ndarray, w: np.ndarray,
                        free: list[int], lower: np.ndarray, upper: np.ndarray, scale: np.ndarray, *,
                        max_iter: int = 200, xtol: float = 1e-10, newton_after: int = 10
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise sum w (y - f)^2 for every curve; returns (theta, converged, n_iter).

    lower/upper are (n, 4) bounds in (b, c, d, le) (+-inf when none); scale (n, 4) sets the size against which
    a step counts as small: a curve converges when an accepted step changes every free parameter by less than
    xtol * (|theta| + scale), or when no step reduces the RSS any more at the largest damping (a minimum to
    working precision). Curves still moving after max_iter are returned with converged = False.
    """
    n = theta.shape[0]
    p = len(free)
    theta = np.clip(theta.copy(), lower, upper)
    converged = np.zeros(n, dtype=bool)
    n_iter = np.zeros(n, dtype=int)
    act = np.arange(n)
    # compacted working copies for the active curves
    a_lx, a_zero, a_y, a_w = lx, zero, y, w
    a_th, a_lo, a_hi, a_sc = theta, lower, upper, scale
    lam = np.full(n, 1e-3)
    nu = np.full(n, 2.0)

    fi = np.array(free)

    def system(th, lx_, zero_, y_, w_, exact):
        if exact:
            f, jac, kk = second_derivatives(th, lx_, zero_)
        else:
            f, jac, _, _ = jacobian(th, lx_, zero_)
        jac = jac[..., fi]
        r = y_ - f
        wj = jac * w_[..., None]
        mat = np.einsum("nmi,nmj->nij", wj, jac)
        if exact:  # Newton: the exact Hessian (halved) instead of Gauss-Newton's J'WJ
            mat = mat - np.einsum("nm,nmij->nij", w_ * r, kk[..., fi[:, None], fi[None, :]])
        return (wj * r[..., None]).sum(axis=1), mat, (w_ * r * r).sum(axis=1)

    grad, mat, rss = system(a_th, a_lx, a_zero, a_y, a_w, False)
    eye = np.eye(p)
    for it in range(1, max_iter + 1):
        k = len(act)
        if k == 0:
            break
        n_iter[act] = it
        th_f = a_th[:, free]
        lo_f, hi_f = a_lo[:, free], a_hi[:, free]
        # parameters held at a bound the gradient pushes against are frozen for this step
        frozen = ((th_f <= lo_f) & (grad < 0)) | ((th_f >= hi_f) & (grad > 0))
        diag = np.diagonal(mat, axis1=1, axis2=2)
        dscale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        sysm = mat + (lam[:, None] * dscale)[:, :, None] * eye
        rhs = np.where(frozen, 0.0, grad)
        if frozen.any():
            keep = ~frozen
            sysm = sysm * (keep[:, :, None] & keep[:, None, :]) + frozen[:, :, None] * eye
        try:
            step = np.linalg.solve(sysm, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = _safe_solve(sysm, rhs)
        trial = a_th.copy()
        trial[:, free] = np.clip(th_f + step, lo_f, hi_f)
        r_t = a_y - predict(trial, a_lx, a_zero)
        rss_t = (a_w * r_t * r_t).sum(axis=1)
        moved = np.abs(trial[:, free] - th_f)
        small = (moved <= xtol * (np.abs(th_f) + a_sc[:, free])).all(axis=1)
        # a step must lower the RSS (or be negligible): on a plateau of the RSS (a step function between two
        # doses) equal-RSS steps would otherwise wander for ever
        ok = np.isfinite(rss_t) & ((rss_t < rss) | ((rss_t <= rss) & small))
        done = ok & small
        # Nielsen's damping update from the gain ratio (actual / predicted RSS reduction)
        dstep = trial[:, free] - th_f
        pred = 2.0 * (dstep * grad).sum(axis=1) - np.einsum("ni,nij,nj->n", dstep, mat, dstep)
        rho = (rss - rss_t) / np.where(pred > 0, pred, np.inf)
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        lam = np.where(ok, np.maximum(lam * shrink, 1e-15), lam * nu)
        nu = np.where(ok, 2.0, nu * 2.0)
        stuck = ~ok & (lam > 1e10)
        done |= stuck
        if ok.any():
            a_th = np.where(ok[:, None], trial, a_th)
            sub = np.flatnonzero(ok & ~done)
            if len(sub):
                g_s, m_s, r_s = system(a_th[sub], a_lx[sub], a_zero[sub], a_y[sub], a_w[sub], it >= newton_after)
                grad[sub], mat[sub], rss[sub] = g_s, m_s, r_s
        theta[act] = a_th
        converged[act[done]] = True
        if done.any():
            keep_idx = np.flatnonzero(~done)
            act = act[keep_idx]
            a_lx, a_zero, a_y, a_w = a_lx[keep_idx], a_zero[keep_idx], a_y[keep_idx], a_w[keep_idx]
            a_th, a_lo, a_hi, a_sc = a_th[keep_idx], a_lo[keep_idx], a_hi[keep_idx], a_sc[keep_idx]
            grad, mat, rss, lam, nu = grad[keep_idx], mat[keep_idx], rss[keep_idx], lam[keep_idx], nu[keep_idx]
    return theta, converged, n_iter


def _safe_solve(sysm: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Per-matrix solve for the rare batch that contains a singular system (least squares for that one only)."""
    out = np.zeros_like(rhs)
    for i in range(len(rhs)):
        try:
            out[i] = np.linalg.solve(sysm[i], rhs[i])
        except np.linalg.LinAlgError:
            out[i] = np.linalg.lstsq(sysm[i], rhs[i], rcond=None)[0]
    return out


def pin_drifting(theta: np.ndarray, converged: np.ndarray, lx: np.ndarray, zero: np.ndarray, y: np.ndarray,
                 w: np.ndarray, free: list[int], lower: np.ndarray, upper: np.ndarray, scale: np.ndarray,
                 n_iter: np.ndarray, lo_lx: np.ndarray, hi_lx: np.ndarray, *, steep: float = 5.0,
                 max_iter: int = 100) -> None:
    """Refit unconverged curves with their drifting parameters pinned at the bound they head for.

    Two least-squares limits lie at infinity and the optimiser creeps towards them along a flat, curved valley
    for thousands of iterations: a step-like curve (|b| > steep: b -> +-inf) and an effect that only starts at
    the edge of the tested range (e outside it: e -> 0 or inf, with the free asymptote running away). Such a
    parameter is pinned at its bound (the refit is kept when its RSS is not worse). Updates in place.
    """
    b, le = theta[:, B], theta[:, LE]
    pin = np.zeros(theta.shape, dtype=bool)
    target = theta.copy()
    if B in free:
        lim = np.where(b > 0, upper[:, B], lower[:, B])
        pin[:, B] = (np.abs(b) > steep) & np.isfinite(lim)
        target[:, B] = np.where(pin[:, B], lim, b)
    if LE in free:
        below, above = le < lo_lx, le > hi_lx
        lim = np.where(below, lower[:, LE], upper[:, LE])
        pin[:, LE] = (below | above) & np.isfinite(lim)
        target[:, LE] = np.where(pin[:, LE], lim, le)
    idx = np.flatnonzero(~converged & pin.any(axis=1))
    if not len(idx):
        return
    lo = np.where(pin[idx], target[idx], lower[idx])
    hi = np.where(pin[idx], target[idx], upper[idx])
    th, conv, it = levenberg_marquardt(target[idx], lx[idx], zero[idx], y[idx], w[idx], free, lo, hi,
                                       scale[idx], max_iter=max_iter)

    def rss(t):
        r = y[idx] - predict(t, lx[idx], zero[idx])
        return (w[idx] * r * r).sum(axis=1)

    better = conv & (rss(th) <= rss(theta[idx]) * (1 + 1e-12))
    theta[idx[better]] = th[better]
    converged[idx[better]] = True
    n_iter[idx] += it
