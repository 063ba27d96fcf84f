"""Default fits for normalized dose-response data: bounded asymptotes, per-curve model selection, derived metrics.

Normalized data (% activity, % viability) have a control window: vehicle = ``top`` (100 %) and full effect =
``bottom`` (0 %). A screening scientist does not let a curve's asymptotes run to +-10^6 % because five points
cannot pin them, so the defaults here are:

- **Bounds** (models ``ll4``/``ll3`` unless ``unbounded``): both asymptotes within
  [bottom, bottom + 1.5 (top - bottom)] (0 .. 150 %: a response cannot fall below the full-effect control by more
  than noise, and viability can exceed vehicle), |Hill| <= 10 (CurveCurator's bound), e within 1000x beyond the
  tested range. A parameter that ends on a bound is flagged ``at_bound``.
- **Model selection** (``model="auto"``, the default): every curve is fitted three ways, LL.4 (4 parameters,
  bounded), LL.3 with the top fixed at ``top`` (bottom free within the bounds) and LL.2 (top fixed at ``top``,
  bottom at ``bottom``). LL.4 is a candidate only with >= 8 points on >= 6 distinct doses (>= 4 residual df);
  among the candidates the smallest AICc wins (Akaike's criterion with the small-sample correction, which
  penalises a parameter the data cannot support). When the chosen model's free bottom is not approached within
  the tested range (no lower plateau: at the top dose the curve is less than 80 % of the way from top to bottom)
  the bottom cannot be estimated and LL.2 is used. Each curve reports ``model`` and ``model_reason``.

Derived metrics (all from the fitted curve of the chosen model, `derived`):
- ``ic50`` = e, the *relative* IC50 (half-way between the curve's own top and bottom), with its 95 % CI computed on
  the log scale (Wald on ln e: exp(ln e +- t se(ln e)), se(ln e) = se(e)/e), and ``pic50`` = -log10 e;
- ``abs_ic50``: the *absolute* IC50, where the fitted curve crosses bottom + (top - bottom)/2 (50 % of control);
  NaN ("n.d.") when it does not cross it within the tested range;
- ``emax``: the fitted response at the highest tested concentration;
- ``auc``: area under the fitted curve over the tested range on a log10-dose axis, normalized by the range width and
  the control window, (1 / (log10 hi - log10 lo)) * integral (f - bottom)/(top - bottom) dlog10 x: 1 = no effect,
  0 = full effect over the whole range.
"""

from __future__ import annotations

import numpy as np

from labkit.analysis.fit import E_DECADES, PLATEAU, FitResults, fit_curves

AUTO_MODELS = ("auto", "ll4", "ll3", "ll2")
CI_METHODS = ("wald", "profile")  # IC50 interval: Wald-t on ln e (default) or profile likelihood
HILL_MAX = 10.0  # |b| bound of the bounded models (CurveCurator's)
ASYMPTOTE_RANGE = (0.0, 1.5)  # asymptotes within bottom + (this) x (top - bottom)
LL4_MIN_POINTS = 8  # LL.4 is a candidate only with this many points ...
LL4_MIN_DOSES = 6  # ... on this many distinct concentrations (zero counts as one)
AICC_SUPPORT = 2.0  # candidates within this many AICc units of the best widen the IC50's CI
AUC_GRID = 65  # points of the trapezoid rule over the tested log-dose range


def default_bounds(top: float = 100.0, bottom: float = 0.0) -> dict[str, tuple[float, float]]:
    """The bounded models' bounds for data normalized to (top, bottom) controls."""
    span = top - bottom
    lo, hi = sorted((bottom + ASYMPTOTE_RANGE[0] * span, bottom + ASYMPTOTE_RANGE[1] * span))
    return {"b": (-HILL_MAX, HILL_MAX), "c": (lo, hi), "d": (lo, hi)}


def aicc(rss: np.ndarray, n: np.ndarray, p: int) -> np.ndarray:
    """Small-sample AIC of a least-squares fit with p curve parameters (+1 for the variance)."""
    k = p + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = n * np.log(np.maximum(rss, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    return np.where(n - k - 1 > 0, out, np.inf)


def fit_model(conc: np.ndarray, response: np.ndarray, *, model: str = "auto", top: float = 100.0,
              bottom: float = 0.0, weights: np.ndarray | None = None, unbounded: bool = False,
              fix_top: float | None = None, fix_bottom: float | None = None,
              outlier_q: float | None = None, ci: str = "wald") -> FitResults:
    """Fit normalized curves with labkit's defaults (see the module docstring); `model` one of AUTO_MODELS.

    ``unbounded=True`` with ``model="ll4"`` is drc's LL.4 (the parity option). fix_top / fix_bottom fix an
    asymptote in any model (auto then chooses among the models that keep it). outlier_q: ROUT outlier removal
    at this false-discovery rate (labkit.analysis.outliers); the results then carry `outlier` and `n_outliers`.
    """
    kw = dict(model=model, top=top, bottom=bottom, unbounded=unbounded, fix_top=fix_top, fix_bottom=fix_bottom)
    conc = np.atleast_2d(np.asarray(conc, dtype=float))
    response = np.atleast_2d(np.asarray(response, dtype=float))
    if conc.shape != response.shape and conc.shape[0] == 1 and conc.shape[1] == response.shape[1]:
        conc = np.broadcast_to(conc, response.shape)
    if ci not in CI_METHODS:
        from labkit.errors import FitError

        raise FitError(f"unknown confidence interval {ci!r}; expected one of {', '.join(CI_METHODS)}", field="ci")
    res = _fit_model(conc, response, weights=weights, **kw)
    if outlier_q is not None and len(res):
        res = _remove_outliers(res, conc, response, weights, outlier_q, kw)
    if ci == "profile" and len(res):  # profile likelihood of the chosen model (labkit.analysis.profile)
        from labkit.analysis.profile import profile_ci

        res.ci_low, res.ci_high = profile_ci(res, conc, response, weights, bounded=not unbounded)
    return res


def _remove_outliers(res: FitResults, conc, y, weights, q: float, kw: dict) -> FitResults:
    """ROUT (labkit.analysis.outliers): robust refit of screened curves, FDR test, refit without the outliers."""
    from labkit.analysis import outliers as rout

    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    valid = np.isfinite(conc) & np.isfinite(y) & (w > 0)
    sw = np.sqrt(np.where(valid, w, 0.0))
    k = np.array([_n_free(m) for m in res.models]) if res.models is not None else np.full(len(res), 4)
    r = np.where(valid, sw * (y - res.predict_at(conc)), 0.0)
    s = rout.robust_sd(r, valid, k)
    with np.errstate(invalid="ignore"):
        screen = (np.abs(r) > rout.SCREEN * s[:, None]).any(axis=1) & np.isfinite(res.params[:, 3])
    res.outlier = np.zeros(y.shape, dtype=bool)
    res.n_outliers = np.zeros(len(res), dtype=int)
    idx = np.flatnonzero(screen)
    if not len(idx):
        return res
    cx, cy, cw, cv = conc[idx], y[idx], np.where(valid[idx], w[idx], 0.0), valid[idx]
    sub = res.take(idx)
    labels = (sub.models.copy() if sub.models is not None else np.array([res.model] * len(idx), dtype=object))
    bounds = None if kw["unbounded"] else default_bounds(kw["top"], kw["bottom"])
    for _ in range(rout.ROBUST_ITER):  # IRLS on each curve's chosen model, warm-started
        rr = np.where(cv, np.sqrt(cw) * (cy - sub.predict_at(cx)), 0.0)
        rw = cw * rout.cauchy_weights(rr, cv, k[idx], np.where(cv, np.sqrt(cw) * cy, 0.0))
        for lab in sorted(set(labels)):
            g = np.flatnonzero(labels == lab)
            ft, fb = _parse_label(lab)
            part = fit_curves(cx[g], cy[g], fix_top=ft, fix_bottom=fb, weights=rw[g], start=sub.params[g],
                              bounds=_drop_fixed(bounds, ft, fb))
            ok = np.isfinite(part.params[:, 0]) | np.isfinite(part.params[:, 1])
            if ok.any():
                sub.put(g[ok], part.take(np.flatnonzero(ok)))
    rr = np.where(cv, np.sqrt(cw) * (cy - sub.predict_at(cx)), 0.0)
    mask = rout.rout_mask(rr, cv, k[idx], q)
    hit = mask.any(axis=1)
    if not hit.any():
        return res
    refit = _fit_model(cx[hit], cy[hit], weights=np.where(mask[hit], 0.0, cw[hit]), **kw)
    rows = idx[hit]
    res.put(rows, refit)
    res.outlier[rows] = mask[hit]
    res.n_outliers[rows] = mask[hit].sum(axis=1)
    for i in rows:
        res.flags[i] = ";".join([f for f in res.flags[i].split(";") if f] + [f"outliers:{res.n_outliers[i]}"])
    return res


def _fallback_needed(cands: list[FitResults], specs: list, first: FitResults) -> np.ndarray:
    """Curves for which a fixed-bottom fallback may be chosen: the free-bottom fits so far failed or do not reach
    their bottom, or LL.4 is not a candidate (too few points) -- a cheap superset of what _fit_model uses."""
    out = np.zeros(len(first), dtype=bool)
    for (_ft, fb), res in zip(specs, cands):
        if fb is None:
            out |= ~res.converged | _bottom_not_reached(res) | np.array(["not_converged" in f for f in res.flags], dtype=bool)
    n = first.n
    return out | (n < LL4_MIN_POINTS + 2)


def _fit_rows(conc, response, need: np.ndarray, *, start, **kw) -> FitResults:
    """fit_curves on the rows `need` only (from `start`; from the grid search where that does not converge); the
    other rows are left unfitted (not converged, RSS NaN)."""
    if need.all():
        res = fit_curves(conc, response, start=start, **kw)
        bad = ~res.converged | np.array(["not_converged" in f for f in res.flags], dtype=bool)
        redo = np.flatnonzero(bad & (res.n > 0))
        if len(redo):
            kw2 = {k: (v[redo] if (k == "weights" and v is not None and np.ndim(v) == 2) else v)
                   for k, v in kw.items()}
            again = fit_curves(conc[redo], response[redo], **kw2)
            better = again.converged & ~(again.rss > res.rss[redo] * (1 + 1e-9))
            better |= again.converged & ~res.converged[redo]
            if better.any():
                res.put(redo[better], again.take(np.flatnonzero(better)))
        return res
    idx = np.flatnonzero(need)
    part = _fit_rows(conc[idx], response[idx], np.ones(len(idx), dtype=bool), start=start[idx],
                     **{k: (v[idx] if (k == "weights" and v is not None and np.ndim(v) == 2) else v)
                        for k, v in kw.items()})
    n = len(need)
    full = FitResults(model=part.model, free=part.free, params=np.full((n, 4), np.nan),
                      se=np.full((n, 4), np.nan), cov=np.full((n, 4, 4), np.nan), n=np.zeros(n, dtype=int),
                      df=np.zeros(n, dtype=int), rss=np.full(n, np.nan), rse=np.full(n, np.nan),
                      r2=np.full(n, np.nan), f_pvalue=np.full(n, np.nan), converged=np.zeros(n, dtype=bool),
                      n_iter=np.zeros(n, dtype=int), conc_min=np.full(n, np.nan), conc_max=np.full(n, np.nan),
                      at_bound=np.zeros(n, dtype=bool), flags=["not_fitted"] * n)
    full.put(idx, part)
    return full


def _nested_start(res: FitResults, fix_top: float | None, fix_bottom: float | None, spec0: tuple, conc, y,
                  weights) -> np.ndarray:
    """Starting values for a candidate that fixes more asymptotes than res's model: res's fit moved onto the
    constraint by the constrained Newton step of res's quadratic model (the Lagrange step with res's covariance,
    which is proportional to the inverse Hessian: theta - cov[:, k] (theta_k - v) / cov[k, k] for each newly fixed
    k), which is second-order close to the candidate's optimum when the step is small. It is used only where it
    keeps b's sign and lowers the RSS below that of res's fit with the asymptote simply set (a steep curve's
    quadratic model can throw b far off), and where res's covariance is usable (no parameter on a bound)."""
    st = res.params.copy()
    new = [(k, v) for k, v, old in ((2, fix_top, spec0[0]), (1, fix_bottom, spec0[1]))
           if v is not None and old is None]  # (index, value) of the asymptotes this candidate fixes
    plain = st.copy()
    for k, v in new:
        plain[:, k] = v
    if not new:
        return plain
    cov = res.cov
    with np.errstate(all="ignore"):
        ok = np.isfinite(cov).all(axis=(1, 2)) & ~res.at_bound & np.isfinite(st).all(axis=1)
        if len(new) == 1:
            k, v = new[0]
            step = -cov[:, :, k] * ((st[:, k] - v) / cov[:, k, k])[:, None]
        else:  # both asymptotes: the 2x2 constraint block
            ks = [k for k, _ in new]
            vs = np.array([v for _, v in new])
            blk = cov[:, ks][:, :, ks]
            lam = np.linalg.solve(np.where(ok[:, None, None], blk, np.eye(2)), (st[:, ks] - vs)[..., None])[..., 0]
            step = -np.einsum("nij,nj->ni", cov[:, :, ks], lam)
        step[:, 3] = st[:, 3] * np.expm1(step[:, 3] / st[:, 3])  # e's step taken on ln e
        moved = st + step
        for k, v in new:
            moved[:, k] = v
        b_ok = np.abs(moved[:, 0]) <= HILL_MAX
        e_ok = (moved[:, 3] >= res.conc_min / 10 ** E_DECADES) & (moved[:, 3] <= res.conc_max * 10 ** E_DECADES)
        ok &= np.isfinite(moved).all(axis=1) & b_ok & e_ok & (np.sign(moved[:, 0]) == np.sign(st[:, 0]))
        if ok.any():
            rss_moved, rss_plain = _rss_at([moved, plain], conc, y, weights)
            ok &= rss_moved < rss_plain
    return np.where(ok[:, None], moved, plain)


def _rss_at(params: list[np.ndarray], conc: np.ndarray, y: np.ndarray, weights) -> list[np.ndarray]:
    """Weighted RSS of LL.4 curves over the measured points, for each (n, 4) parameter set in params."""
    from labkit.analysis import fit_lm
    from labkit.analysis.fit import _log_conc

    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    valid = np.isfinite(conc) & np.isfinite(y) & (w > 0)
    lx, zero = _log_conc(np.where(valid, conc, 1.0))
    w, y = np.where(valid, w, 0.0), np.where(valid, y, 0.0)
    out = []
    for p in params:
        th = p.copy()
        with np.errstate(all="ignore"):
            th[:, 3] = np.log(p[:, 3])
            r = y - fit_lm.predict(th, lx, zero)
            out.append(fit_lm._rs(np.where(valid, w * r * r, 0.0)))
    return out


def _bottom_at_control(res: FitResults, bounds: dict, bottom: float) -> None:
    """A free bottom held at its lower bound = the full-effect control level is that control's value, not a fit
    stuck on a limit: drop `at_bound` there (when nothing else is on a bound) and say so in the reason."""
    lo = bounds["c"][0]
    if lo != bottom:
        return
    b, c, d, e = (res.params[:, k] for k in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        other = (np.abs(b) >= HILL_MAX * (1 - 1e-9)) | (d >= bounds["d"][1] * (1 - 1e-12)) | (c >= bounds["c"][1])
        other |= (e <= res.conc_min / 10 ** E_DECADES * (1 + 1e-9)) | (e >= res.conc_max * 10 ** E_DECADES * (1 - 1e-9))
    held = (c == lo) & ~other
    if res.models is not None:
        held &= np.array(["bottom=" not in m for m in res.models], dtype=bool)
    for i in np.flatnonzero(held):
        if "at_bound" in res.flags[i]:
            res.flags[i] = ";".join(f for f in res.flags[i].split(";") if f and f != "at_bound")
            if res.reasons is not None:
                res.reasons[i] = f"{res.reasons[i]}; bottom held at the full-effect control ({bottom:g})"


def _parse_label(label: str) -> tuple[float | None, float | None]:
    """(fix_top, fix_bottom) of a model label made by _label."""
    import re

    top = re.search(r"top=([^,)]+)", label)
    bot = re.search(r"bottom=([^,)]+)", label)
    return (float(top.group(1)) if top else None, float(bot.group(1)) if bot else None)


def _n_free(label: str) -> int:
    return 4 - label.count("=")


def _fit_model(conc, response, *, model, top, bottom, weights, unbounded, fix_top, fix_bottom) -> FitResults:
    from labkit.errors import FitError

    model = str(model).lower()
    if model not in AUTO_MODELS:
        raise FitError(f"unknown model {model!r}; expected one of {', '.join(AUTO_MODELS)}", field="model")
    bounds = None if unbounded else default_bounds(top, bottom)
    if model == "ll2":
        fix_top = top if fix_top is None else fix_top
        fix_bottom = bottom if fix_bottom is None else fix_bottom
    if model in ("ll4", "ll3", "ll2"):
        ll = "ll3" if model == "ll3" else "ll4"  # ll3 is drc's: bottom fixed at 0
        res = fit_curves(conc, response, model=ll, fix_top=fix_top, fix_bottom=fix_bottom, weights=weights,
                         bounds=_drop_fixed(bounds, fix_top, 0.0 if ll == "ll3" else fix_bottom))
        label = _label(fix_top, 0.0 if ll == "ll3" else fix_bottom)
        res.models = np.array([label] * len(res), dtype=object)
        res.reasons = np.array(["chosen by the user"] * len(res), dtype=object)
        res.model = label
        res.top_ref, res.bottom_ref = top, bottom
        if bounds is not None:
            _bottom_at_control(res, bounds, bottom)
        return res

    # auto: candidates keep what the user fixed; (label, fix_top, fix_bottom)
    t = top if fix_top is None else fix_top
    b0 = bottom if fix_bottom is None else fix_bottom
    specs = [(fix_top, fix_bottom), (t, fix_bottom), (fix_top, b0), (t, b0)]
    specs = list(dict.fromkeys(specs))  # a user-fixed asymptote merges candidates
    fixed_b = np.array([fb is not None for _, fb in specs])
    # the first candidate gets the grid search; the others start from its fit (asymptotes set to their fixed
    # values); the fixed-bottom fallbacks are fitted only for curves that may need them (below)
    first = fit_curves(conc, response, fix_top=specs[0][0], fix_bottom=specs[0][1], weights=weights,
                       bounds=_drop_fixed(bounds, *specs[0]))
    cands = [first]
    for ft, fb in specs[1:]:
        need = np.ones(len(first), dtype=bool)
        if fb is not None and not fixed_b[0]:
            need = _fallback_needed(cands, specs, first)
        st = np.full((len(first), 4), np.nan)
        rows = np.flatnonzero(need)
        if len(rows):
            w_rows = weights[rows] if (weights is not None and np.ndim(weights) == 2) else weights
            st[rows] = _nested_start(first.take(rows) if len(rows) < len(first) else first, ft, fb, specs[0],
                                     conc[rows], response[rows], w_rows)
        cands.append(_fit_rows(conc, response, need, fix_top=ft, fix_bottom=fb, weights=weights,
                               bounds=_drop_fixed(bounds, ft, fb), start=st))
    n = cands[0].n
    nc = len(n)
    distinct = _distinct_doses(conc, response, nc)
    enough = (n >= LL4_MIN_POINTS) & (distinct >= LL4_MIN_DOSES)
    per_model = []
    for (ft, fb), res in zip(specs, cands):
        ok = res.converged & np.isfinite(res.rss) & np.array(["not_converged" not in f for f in res.flags], dtype=bool)
        if ft is None and fb is None:
            ok &= enough
        per_model.append(np.where(ok, aicc(res.rss, res.n, len(res.free)), np.inf))
    scores = np.array(per_model)
    # no lower plateau: a free bottom that the curve does not approach cannot be estimated -> only fixed bottoms
    no_plateau = np.zeros(nc, dtype=bool)
    if not fixed_b.all():
        free_scores = np.where(fixed_b[:, None], np.inf, scores)  # the best model with a free bottom
        first = _select(cands, np.argmin(free_scores, axis=0))
        no_plateau = np.isfinite(free_scores).any(axis=0) & _bottom_not_reached(first) & np.isfinite(scores[fixed_b]).any(axis=0)
        scores[np.ix_(~fixed_b, no_plateau)] = np.inf
        # with a lower plateau the bottom is estimated (a fixed bottom is only the fallback)
        ok_free = np.isfinite(free_scores).any(axis=0)
        scores[np.ix_(fixed_b, ~no_plateau & ok_free)] = np.inf
    choice = np.argmin(scores, axis=0)  # ties: the earlier candidate (more parameters)
    none_ok = ~np.isfinite(scores).any(axis=0)
    choice = np.where(none_ok, len(cands) - 1, choice)
    sel = _select(cands, choice)
    ks = np.array([len(r.free) for r in cands])[choice]
    reasons = np.empty(nc, dtype=object)
    few = ~none_ok & ~no_plateau & (ks < 4) & (fix_top is None and fix_bottom is None) & ~enough
    for k in np.unique(ks).tolist():  # the common reasons set per group, the per-curve one in a loop
        reasons[ks == k] = f"AICc prefers {k} parameters"
        reasons[(ks == k) & no_plateau] = (f"no lower plateau within the tested range: bottom fixed at {b0:g}; "
                                           f"AICc chose {k} parameters")
    for i in np.flatnonzero(few).tolist():
        reasons[i] = (f"too few points for 4 parameters ({int(n[i])} points, {int(distinct[i])} doses); "
                      f"AICc chose {ks[i]}")
    reasons[none_ok] = "no model could be fitted"
    sel.models = np.array([_label(*sp) for sp in specs], dtype=object)[choice]
    sel.reasons = reasons
    # the IC50's CI accounts for the choice: the union of the intervals of every candidate within 2 AICc units
    # of the chosen one (Burnham & Anderson: models the data support about as well); the chosen model's own
    # interval alone undercovers when noise made a parameter look needed (measured: 83 % for those curves)
    # (only when the chosen model has an interval of its own: a chosen IC50 on a bound has none, and a union of
    # the other candidates' intervals need not contain it)
    lows, highs, own = [], [], []
    best = scores[choice, np.arange(nc)]
    for k, res_k in enumerate(cands):
        lo_k, hi_k = log_ci(res_k)
        near = np.isfinite(scores[k]) & (scores[k] <= best + AICC_SUPPORT) & np.isfinite(lo_k)
        lows.append(np.where(near, lo_k, np.inf))
        highs.append(np.where(near, hi_k, -np.inf))
        own.append(np.isfinite(lo_k) & np.isfinite(hi_k))
    lo_u, hi_u = np.min(lows, axis=0), np.max(highs, axis=0)
    ok_u = np.isfinite(lo_u) & np.isfinite(hi_u) & np.array(own)[choice, np.arange(nc)]
    sel.ci_low, sel.ci_high = np.where(ok_u, lo_u, np.nan), np.where(ok_u, hi_u, np.nan)
    if bounds is not None:
        _bottom_at_control(sel, bounds, b0)
    sel.model = "auto"
    sel.top_ref, sel.bottom_ref = top, bottom
    return sel


def t_quantile(df: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Student's t quantile 0.5 + level/2 per curve's df (NaN for df <= 0), computed once per distinct df."""
    from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

    df = np.asarray(df)
    vals, inv = np.unique(df, return_inverse=True)
    with np.errstate(all="ignore"):
        q = special.stdtrit(np.where(vals > 0, vals, np.nan).astype(float), 0.5 + level / 2.0)
    return q[inv.reshape(df.shape)]


def log_ci(res: FitResults, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The IC50's Wald-t interval on ln e: exp(ln e +- t(df) se(e)/e), per curve."""
    e = res.params[:, 3]
    with np.errstate(all="ignore"):
        se_le = res.se[:, 3] / e
        q = t_quantile(res.df, level)
        return e * np.exp(-q * se_le), e * np.exp(q * se_le)


def derived(res: FitResults, *, top: float = 100.0, bottom: float = 0.0, level: float = 0.95) -> dict:
    """abs_ic50, emax, auc and the log-scale IC50 CI (ic50_ci_low/high, pic50_se) per curve (module docstring)."""
    b, c, d, e = (res.params[:, k] for k in range(4))
    half = bottom + 0.5 * (top - bottom)
    with np.errstate(all="ignore"):
        # f(x) = half  <=>  (x/e)^b = (d - half)/(half - c)
        ratio = (d - half) / (half - c)
        x50 = e * ratio ** (1.0 / b)
        ok = (ratio > 0) & np.isfinite(x50) & (x50 >= res.conc_min * (1 - 1e-9)) & (x50 <= res.conc_max * (1 + 1e-9))
        abs_ic50 = np.where(ok, x50, np.nan)
        emax = c + (d - c) / (1.0 + (res.conc_max / e) ** b)
        emax = np.where(np.isfinite(e), emax, np.where(np.isfinite(c), c, np.nan))
        lo, hi = np.log10(res.conc_min), np.log10(res.conc_max)
        grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, AUC_GRID)[None, :]
        # (10^grid / e)^b as one exp (a power of an (n, AUC_GRID) array is several times slower)
        f = c[:, None] + (d - c)[:, None] / (1.0 + np.exp(b[:, None] * (grid * np.log(10.0) - np.log(e)[:, None])))
        const = ~np.isfinite(e) & np.isfinite(c)
        f = np.where(const[:, None], c[:, None], f)
        auc = np.trapz((f - bottom) / (top - bottom), dx=1.0 / (AUC_GRID - 1), axis=1)
        auc = np.where(hi > lo, auc, np.nan)
        se_le = res.se[:, 3] / e
        q = t_quantile(res.df, level)
        ci_lo, ci_hi = e * np.exp(-q * se_le), e * np.exp(q * se_le)
        if res.ci_low is not None and res.ci_high is not None:  # model selection's (wider) interval
            have = np.isfinite(res.ci_low) & np.isfinite(res.ci_high)
            ci_lo, ci_hi = np.where(have, res.ci_low, ci_lo), np.where(have, res.ci_high, ci_hi)
    return {"abs_ic50": abs_ic50, "emax": emax, "auc": auc, "ic50_ci_low": ci_lo, "ic50_ci_high": ci_hi,
            "pic50_se": se_le / np.log(10.0)}


# --- internals ---------------------------------------------------------------------------------------------

def _label(fix_top: float | None, fix_bottom: float | None) -> str:
    if fix_top is None and fix_bottom is None:
        return "ll4"
    if fix_top is not None and fix_bottom is not None:
        return f"ll2(top={fix_top:.12g},bottom={fix_bottom:.12g})"
    if fix_top is not None:
        return f"ll3(top={fix_top:.12g})"
    return f"ll3(bottom={fix_bottom:.12g})"


def _drop_fixed(bounds, fix_top, fix_bottom):
    if bounds is None:
        return None
    out = dict(bounds)
    if fix_top is not None:
        out.pop("d", None)
    if fix_bottom is not None:
        out.pop("c", None)
    return out


def _distinct_doses(conc: np.ndarray, y: np.ndarray, nc: int) -> np.ndarray:
    from labkit.analysis.fit import _count_distinct

    if conc.shape != y.shape:
        conc = np.broadcast_to(conc, y.shape)
    return _count_distinct(np.where(np.isfinite(y), conc, np.nan))


def _bottom_not_reached(res: FitResults) -> np.ndarray:
    """The curve does not get within PLATEAU of its bottom c at the tested doses (the c side is extrapolated)."""
    b, e = res.params[:, 0], res.params[:, 3]
    with np.errstate(all="ignore"):
        q_lo = 1.0 / (1.0 + (res.conc_min / e) ** b)
        q_hi = 1.0 / (1.0 + (res.conc_max / e) ** b)
        return np.isfinite(e) & ~(np.fmin(q_lo, q_hi) <= PLATEAU)


def _select(results: list[FitResults], choice: np.ndarray) -> FitResults:
    """Per curve, the FitResults row of results[choice[i]]."""
    groups = [(k, np.flatnonzero(choice == k)) for k in range(1, len(results))]

    def pick(name):  # results[0]'s rows, the others' where chosen (no stack of every candidate)
        out = getattr(results[0], name).copy()
        for k, idx in groups:
            if len(idx):
                out[idx] = getattr(results[k], name)[idx]
        return out

    arrays = {name: pick(name) for name in ("params", "se", "cov", "n", "df", "rss", "rse", "r2", "f_pvalue",
                                             "converged", "n_iter", "conc_min", "conc_max", "at_bound")}
    flags = list(results[0].flags)
    for k, idx in groups:
        fk = results[k].flags
        for i in idx.tolist():
            flags[i] = fk[i]
    free = tuple(p for p in ("b", "c", "d", "e"))
    return FitResults(model="auto", free=free, flags=flags, **arrays)
