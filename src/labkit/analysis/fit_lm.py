"""Batched damped Gauss-Newton / Newton (Levenberg-Marquardt) for the log-logistic model, many curves at once.

Internal parameter vector per curve: theta = (b, c, d, le) with le = ln(e). The model is
    f(x) = c + (d - c) * g,   g = 1 / (1 + exp(z)),   z = b * (ln x - le)
and at x = 0 the limit is taken exactly (z = -inf for b > 0, so f = d; z = +inf for b < 0, so f = c).

Data arrays are (n_curves, n_points): lx = ln x (0 where x == 0 or missing), zero = (x == 0), y (0 where
missing) and w (the weight; 0 where missing), so missing points contribute nothing. Every curve has its own
damping factor and stops on its own; converged curves leave the working set.
"""

from __future__ import annotations

import numpy as np

B, C, D, LE = 0, 1, 2, 3
NEWTON_NEAR = 1e-3  # switch a curve to Newton steps once an accepted step lowers its RSS by less than this
RSS_ROUNDING = 1e-14  # relative rounding of a curve's RSS (a sum of squares of a few residuals)

# starting-value grid: b values (both signs when an asymptote is fixed) x ln(e) across the tested range
_B_GRID = (0.6, 1.2, 2.5, 5.0)
_LE_INSIDE = 8  # grid points for ln(e) inside the tested range, plus one decade either side


def _rs(a: np.ndarray) -> np.ndarray:
    """Row sums of a 2-D float array: einsum is several times faster than .sum(axis=1) on short rows (and,
    unlike a BLAS a @ ones, gives a row the same bits whatever the other rows are)."""
    return np.einsum("ij->i", a)


def logistic(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """g = 1/(1 + exp(b (ln x - le))) for every point, exact at x = 0; theta is (n, 4)."""
    b = theta[:, B:B + 1]
    z = b * (lx - theta[:, LE:LE + 1])
    if zero.any():
        z = np.where(zero, np.copysign(np.inf, -b), z)
    with np.errstate(over="ignore"):  # exp(z) = inf gives g = 0, the limit (numpy's exp is ~4x scipy's expit)
        return 1.0 / (1.0 + np.exp(z))


def predict(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Model values for every point; theta is (n, 4) in (b, c, d, le)."""
    g = logistic(theta, lx, zero)
    return theta[:, C:C + 1] + (theta[:, D:D + 1] - theta[:, C:C + 1]) * g


def _derivs(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray, free, g: np.ndarray | None = None) -> tuple:
    """(f, J, g, s, t): model, df/d(free params in b, c, d, le) as (n, m, p), g, s = g (1 - g), t = ln x - le.

    g: logistic(theta, lx, zero) when the caller has it already (the same numbers: it is not recomputed)."""
    if g is None:
        g = logistic(theta, lx, zero)
    s = g * (1.0 - g)  # exactly 0 at x = 0 (g is 0 or 1 there), which also kills the placeholder t
    c = theta[:, C:C + 1]
    dd = theta[:, D:D + 1] - c
    t = lx - theta[:, LE:LE + 1]
    jac = np.empty(g.shape + (len(free),))
    for col, k in enumerate(free):
        if k == B:
            jac[..., col] = -dd * s * t
        elif k == C:
            jac[..., col] = 1.0 - g
        elif k == D:
            jac[..., col] = g
        else:
            jac[..., col] = dd * s * theta[:, B:B + 1]
    return c + dd * g, jac, g, s, t


def _curvature(theta: np.ndarray, g: np.ndarray, s: np.ndarray, t: np.ndarray, wr: np.ndarray) -> np.ndarray:
    """sum_i w_i r_i d2f_i / dtheta2 in (b, c, d, le), (n, 4, 4), from five weighted sums per curve."""
    b = theta[:, B]
    dd = theta[:, D] - theta[:, C]
    q = wr * s
    h = 1.0 - 2.0 * g
    qh = q * h
    s_q, s_qt, s_qh = _rs(q), _rs(q * t), _rs(qh)
    s_qht, s_qht2 = _rs(qh * t), _rs(qh * t * t)
    k = np.zeros((len(b), 4, 4))
    k[:, B, B] = dd * s_qht2
    k[:, B, C] = k[:, C, B] = s_qt
    k[:, B, D] = k[:, D, B] = -s_qt
    k[:, B, LE] = k[:, LE, B] = dd * (s_q - b * s_qht)
    k[:, C, LE] = k[:, LE, C] = -b * s_q
    k[:, D, LE] = k[:, LE, D] = b * s_q
    k[:, LE, LE] = dd * b * b * s_qh
    return k


def jacobian_e(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f, J): model values and df/d(b, c, d, e) as (n, m, 4)."""
    f, jac, _, _, _ = _derivs(theta, lx, zero, (B, C, D, LE))
    jac[..., LE] /= np.exp(theta[:, LE:LE + 1])
    return f, jac


def rss_hessian_e(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray, y: np.ndarray, w: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(RSS, M): weighted RSS and half its exact Hessian in (b, c, d, e), M = sum w (J J' - r d2f), (n, 4, 4)."""
    f, jac, g, s, t = _derivs(theta, lx, zero, (B, C, D, LE))
    r = y - f
    wr = w * r
    m = np.matmul((jac * w[..., None]).transpose(0, 2, 1), jac) - _curvature(theta, g, s, t, wr)
    grad_le = _rs(wr * jac[..., LE])
    # le = ln e: d/de = (1/e) d/dle and d2/de2 = (d2/dle2 - d/dle) / e^2 (the gradient term of the latter)
    inv_e = np.exp(-theta[:, LE])
    m[:, LE, :] *= inv_e[:, None]
    m[:, :, LE] *= inv_e[:, None]
    m[:, LE, LE] += grad_le * inv_e * inv_e
    return _rs(wr * r), m


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
    sw = _rs(w)
    ybar = _rs(w * y) / np.where(sw > 0, sw, 1.0)
    wy, wyy = w * y, _rs(w * y * y)
    best = np.full((n, 4), np.nan)
    best_rss = np.full(n, np.inf)
    theta = np.zeros((n, 4))
    mid = 0.5 * (lo_lx + hi_lx)[:, None]
    for sign in signs:
        for bv in _B_GRID:
            theta[:, B] = np.clip(sign * bv, lower[:, B], upper[:, B])
            b = theta[:, B:B + 1]
            # exp(b (ln x - le)) = exp(b (ln x - mid)) exp(-b (le - mid)): one exp per b, not per grid point
            # (x = 0: g = 1 for b > 0, 0 for b < 0, as in logistic())
            with np.errstate(over="ignore", under="ignore"):
                ex = np.exp(b * (lx - mid))
            if zero.any():
                ex = np.where(zero, np.where(np.copysign(1.0, -b) < 0, 0.0, np.inf), ex)
            for le in le_grid:
                theta[:, LE] = np.clip(le, lower[:, LE], upper[:, LE])
                with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                    g = 1.0 / (1.0 + ex * np.exp(-b * (theta[:, LE:LE + 1] - mid)))
                if np.isnan(g).any():  # inf * 0 at an extreme (b, le): the direct form
                    g = logistic(theta, lx, zero)
                # f = c (1 - g) + d g: RSS from weighted sums, no residual array needed
                wg = w * g
                s1, sg, sgg = sw, _rs(wg), _rs(wg * g)
                sy, sgy = _rs(wy), _rs(wg * y)
                saa, sag, say = s1 - 2 * sg + sgg, sg - sgg, sy - sgy
                c, d = _profile_asymptotes(saa, sag, sgg, say, sgy, fixed, ybar)
                c = np.clip(c, lower[:, C], upper[:, C])
                d = np.clip(d, lower[:, D], upper[:, D])
                rss = wyy - 2 * (c * say + d * sgy) + c * c * saa + 2 * c * d * sag + d * d * sgg
                better = rss < best_rss
                best_rss = np.where(better, rss, best_rss)
                best[better] = np.column_stack([theta[:, B], c, d, theta[:, LE]])[better]
    return best


def _profile_asymptotes(saa, sag, sgg, say, sgy, fixed: dict[int, float], ybar) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares c, d for f = c a + d g from the weighted sums (fixed ones kept; ybar when degenerate)."""
    n = len(saa)
    tiny = 1e-12 * np.maximum(saa + 2 * sag + sgg, 1e-300)
    if C in fixed and D in fixed:
        return np.full(n, fixed[C]), np.full(n, fixed[D])
    if C in fixed:
        c = np.full(n, fixed[C])
        ok = sgg > tiny
        return c, np.where(ok, (sgy - c * sag) / np.where(ok, sgg, 1.0), ybar)
    if D in fixed:
        d = np.full(n, fixed[D])
        ok = saa > tiny
        return np.where(ok, (say - d * sag) / np.where(ok, saa, 1.0), ybar), d
    det = saa * sgg - sag * sag
    ok = det > 1e-10 * np.maximum(saa * sgg, 1e-300)
    safe = np.where(ok, det, 1.0)
    return (np.where(ok, (sgg * say - sag * sgy) / safe, ybar),
            np.where(ok, (saa * sgy - sag * say) / safe, ybar))


def _chol_solve(a: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a x = rhs for a stack of small symmetric matrices by Cholesky; (x, positive_definite).

    Unrolled over the (at most 4 x 4) entries, each a contiguous (n,) array: several times faster than slicing
    the (n, p, p) stack column by column."""
    n, p = rhs.shape
    at = np.ascontiguousarray(a.reshape(n, p * p).T)  # at[i * p + j] = a[:, i, j]
    bt = np.ascontiguousarray(rhs.T)
    low: dict[tuple[int, int], np.ndarray] = {}
    pd_ok = np.ones(n, dtype=bool)
    for j in range(p):
        s = at[j * p + j]
        if j:
            acc = low[j, 0] * low[j, 0]
            for k in range(1, j):
                acc = acc + low[j, k] * low[j, k]
            s = s - acc
        good = s > 0
        pd_ok &= good
        ljj = np.sqrt(np.where(good, s, 1.0))
        low[j, j] = ljj
        for i in range(j + 1, p):
            v = at[i * p + j]
            if j:
                acc = low[i, 0] * low[j, 0]
                for k in range(1, j):
                    acc = acc + low[i, k] * low[j, k]
                v = v - acc
            low[i, j] = v / ljj
    z: list[np.ndarray] = [np.empty(0)] * p
    for i in range(p):
        v = bt[i]
        if i:
            acc = low[i, 0] * z[0]
            for k in range(1, i):
                acc = acc + low[i, k] * z[k]
            v = v - acc
        z[i] = v / low[i, i]
    x: list[np.ndarray] = [np.empty(0)] * p
    for i in reversed(range(p)):
        v = z[i]
        if i < p - 1:
            acc = low[i + 1, i] * x[i + 1]
            for k in range(i + 2, p):
                acc = acc + low[k, i] * x[k]
            v = v - acc
        x[i] = v / low[i, i]
    out = np.stack(x, axis=1)
    return np.where(pd_ok[:, None], out, 0.0), pd_ok


def levenberg_marquardt(theta: np.ndarray, lx: np.ndarray, zero: np.ndarray, y: np.ndarray, w: np.ndarray,
                        free: list[int], lower: np.ndarray, upper: np.ndarray, scale: np.ndarray, *,
                        max_iter: int = 200, xtol: float = 1e-10, newton_after: int | np.ndarray = 10
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise sum w (y - f)^2 for every curve; returns (theta, converged, n_iter).

    Damped Gauss-Newton (J'WJ) for the first `newton_after` iterations (per curve when an (n,) array: 0 for a
    start already near its minimum, e.g. another model's fit moved onto this one), then damped Newton on the exact
    Hessian (large-residual and strongly curved problems crawl under Gauss-Newton); Marquardt scaling and
    Nielsen's update of the per-curve damping. lower/upper are (n, 4) bounds in (b, c, d, le) (+-inf when
    none): a parameter on a bound that the gradient pushes against is held for the step, the others are
    clipped into the box. A curve converges when an accepted step changes every free parameter by less than
    xtol * (|theta| + scale) (scale is (n, 4)), when the lightly damped quadratic model predicts a decrease of
    the RSS below its rounding (RSS_ROUNDING x RSS: a minimum to working precision), or when no step lowers the
    RSS any more at the largest damping. Curves still moving after max_iter are returned with converged = False.
    """
    n = theta.shape[0]
    p = len(free)
    fi = np.array(free)
    theta = np.clip(theta.copy(), lower, upper)
    converged = np.zeros(n, dtype=bool)
    n_iter = np.zeros(n, dtype=int)
    act = np.arange(n)
    # compacted working copies for the active curves
    a_lx, a_zero, a_y, a_w = lx, zero, y, w
    a_th, a_lo, a_hi, a_sc = theta, lower[:, fi], upper[:, fi], scale[:, fi]  # bounds, scale: free columns
    a_na = np.broadcast_to(np.asarray(newton_after), (n,))
    lam = np.full(n, 1e-3)
    nu = np.full(n, 2.0)
    eye = np.eye(p)
    unit_w = bool((w == 1.0).all())  # unweighted, nothing missing: J'WJ = J'J

    def system(th, lx_, zero_, y_, w_, exact, g=None):
        f, jac, g, s, t = _derivs(th, lx_, zero_, free, g)
        r = y_ - f
        wr = w_ * r
        mat = np.matmul((jac if unit_w else jac * w_[..., None]).transpose(0, 2, 1), jac)
        if exact.all():  # Newton: half the exact Hessian of the RSS instead of Gauss-Newton's J'WJ
            k = _curvature(th, g, s, t, wr)
            mat -= k if p == 4 else k[:, fi[:, None], fi[None, :]]
        elif exact.any():
            ex = np.flatnonzero(exact)
            mat[ex] -= _curvature(th[ex], g[ex], s[ex], t[ex], wr[ex])[:, fi[:, None], fi[None, :]]
        return np.matmul(jac.transpose(0, 2, 1), wr[..., None])[..., 0], mat, _rs(wr * r)

    grad, mat, rss = system(a_th, a_lx, a_zero, a_y, a_w, a_na <= 0)
    for it in range(1, max_iter + 1):
        if len(act) == 0:
            break
        n_iter[act] = it
        th_f = a_th[:, fi]
        lo_f, hi_f = a_lo, a_hi
        frozen = ((th_f <= lo_f) & (grad < 0)) | ((th_f >= hi_f) & (grad > 0))
        diag = np.abs(np.diagonal(mat, axis1=1, axis2=2))
        dscale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        sysm = mat + (lam[:, None] * dscale)[:, :, None] * eye
        rhs = np.where(frozen, 0.0, grad)
        fz = np.flatnonzero(frozen.any(axis=1))
        if len(fz):  # a frozen parameter's row and column become the identity's (its step is 0)
            keep = ~frozen[fz]
            sysm[fz] = sysm[fz] * (keep[:, :, None] & keep[:, None, :]) + frozen[fz][:, :, None] * eye
        step, pd_ok = _chol_solve(sysm, rhs)
        trial = a_th.copy()
        new_f = np.clip(th_f + step, lo_f, hi_f)
        trial[:, fi] = new_f
        g_t = logistic(trial, a_lx, a_zero)  # kept: the accepted curves' next system reuses it
        r_t = a_y - (trial[:, C:C + 1] + (trial[:, D:D + 1] - trial[:, C:C + 1]) * g_t)  # = predict(trial, ...)
        rss_t = _rs(r_t * r_t if unit_w else a_w * r_t * r_t)
        dstep = new_f - th_f
        small = (np.abs(dstep) <= xtol * (np.abs(th_f) + a_sc)).all(axis=1)
        # a step must lower the RSS (or be negligible): on a plateau of the RSS (a step function between two
        # doses) equal-RSS steps would otherwise wander for ever
        pred = 2.0 * _rs(dstep * grad) - _rs(dstep * np.matmul(mat, dstep[..., None])[..., 0])
        # a minimum to working precision: the (lightly damped) quadratic model predicts an RSS decrease below the
        # rounding of the RSS itself, so no step can be verified to lower it (otherwise such steps are rejected
        # on rounding noise and the damping climbs for several iterations before the curve stops)
        tol_r = RSS_ROUNDING * rss
        negligible = pd_ok & (lam <= 1e-2) & (pred <= tol_r)
        ok = pd_ok & np.isfinite(rss_t) & ((rss_t < rss) | ((rss_t <= rss + tol_r) & (small | negligible)))
        done = ok & (small | negligible)
        # Nielsen's damping update from the gain ratio (actual / predicted RSS reduction)
        rho = (rss - rss_t) / np.where(pred > 0, pred, np.inf)
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        lam = np.where(ok, np.maximum(lam * shrink, 1e-15), lam * nu)
        nu = np.where(ok, 2.0, nu * 2.0)
        done |= ~ok & (lam > 1e10)  # stuck: no step lowers the RSS
        if ok.any():
            a_th = np.where(ok[:, None], trial, a_th)
        theta[act] = a_th
        if done.any():  # finished curves leave the working set first (fewer rows for the next system)
            converged[act[done]] = True
            keep_idx = np.flatnonzero(~done)
            act = act[keep_idx]
            a_lx, a_zero, a_y, a_w = a_lx[keep_idx], a_zero[keep_idx], a_y[keep_idx], a_w[keep_idx]
            a_th, a_lo, a_hi, a_sc = a_th[keep_idx], a_lo[keep_idx], a_hi[keep_idx], a_sc[keep_idx]
            a_na = a_na[keep_idx]
            grad, mat, rss, lam, nu = grad[keep_idx], mat[keep_idx], rss[keep_idx], lam[keep_idx], nu[keep_idx]
            ok, rss_t, g_t = ok[keep_idx], rss_t[keep_idx], g_t[keep_idx]
        if ok.any():
            # Newton once Gauss-Newton has had newton_after iterations, or earlier near the minimum
            # (an accepted step that lowered the RSS by less than a relative 1e-3)
            near = rss_t > rss * (1.0 - NEWTON_NEAR)
            if ok.all():  # the common case: no row selection to copy
                grad, mat, rss = system(a_th, a_lx, a_zero, a_y, a_w, near | (it >= a_na), g_t)
            else:
                sub = np.flatnonzero(ok)
                grad[sub], mat[sub], rss[sub] = system(a_th[sub], a_lx[sub], a_zero[sub], a_y[sub], a_w[sub],
                                                       near[sub] | (it >= a_na[sub]), g_t[sub])
    return theta, converged, n_iter


def pin_drifting(theta: np.ndarray, converged: np.ndarray, lx: np.ndarray, zero: np.ndarray, y: np.ndarray,
                 w: np.ndarray, free: list[int], lower: np.ndarray, upper: np.ndarray, scale: np.ndarray,
                 n_iter: np.ndarray, lo_lx: np.ndarray, hi_lx: np.ndarray, *, steep: float = 5.0,
                 max_iter: int = 100) -> None:
    """Refit unconverged curves with their drifting parameters pinned at the bound they head for.

    Two least-squares limits lie at infinity and the optimizer creeps towards them along a flat, curved valley
    for thousands of iterations: a step-like curve (|b| > steep: b -> +-inf) and an effect that only starts at
    the edge of the tested range (e outside it: e -> 0 or inf, with the free asymptote running away). Such a
    parameter is pinned at its bound: b alone, e alone, then both; the converged refit with the lowest RSS is
    kept when its RSS is not worse than where the curve stopped. Updates in place.
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

    def rss(t):
        r = y[idx] - predict(t, lx[idx], zero[idx])
        return _rs(w[idx] * r * r)

    best, best_rss = theta[idx].copy(), rss(theta[idx]) * (1 + 1e-12)
    found = np.zeros(len(idx), dtype=bool)
    for which in ((B,), (LE,), (B, LE)):
        sel = np.zeros(4, dtype=bool)
        sel[list(which)] = True
        pin_k = pin[idx] & sel
        if not pin_k.any():
            continue
        start = np.where(pin_k, target[idx], theta[idx])
        lo = np.where(pin_k, target[idx], lower[idx])
        hi = np.where(pin_k, target[idx], upper[idx])
        th, conv, it = levenberg_marquardt(start, lx[idx], zero[idx], y[idx], w[idx], free, lo, hi, scale[idx],
                                           max_iter=max_iter)
        n_iter[idx] += np.where(pin_k.any(axis=1), it, 0)
        r_new = rss(th)
        better = conv & pin_k.any(axis=1) & (r_new <= best_rss)
        best[better], best_rss[better], found[better] = th[better], r_new[better], True
    theta[idx[found]] = best[found]
    converged[idx[found]] = True
