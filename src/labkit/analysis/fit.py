"""Vectorised log-logistic dose-response fits (drc's LL.4 / LL.3) with drc-style standard errors and flags.

Model (drc's LL.4; e is the IC50 and Prism's HillSlope is -b):

    f(x) = c + (d - c) / (1 + exp(b (ln x - ln e)))

fitted in concentration, so zero-dose points count (x = 0 gives f = d when b > 0, f = c when b < 0).
Convention: d is the upper asymptote and c the lower one (d >= c when both are free: the equivalent
parameterisation (-b, d, c, e) of the same curve is turned into this one), so a decreasing curve has b > 0 and
an increasing one (e.g. % inhibition) b < 0. "top" = d, "bottom" = c. LL.3 is LL.4 with c fixed at 0.

Fitting is least squares, sum_i w_i (y_i - f(x_i))^2 (w = 1 without weights; weights multiply the squared
residuals, i.e. w = 1/variance as in nls or curve_fit(sigma=1/sqrt(w)), so "1/y" suits Poisson counts; drc's
newer `weights = s` divides the residuals by s, which is w = 1/s^2 here), by a batched damped Gauss-Newton /
Newton (Levenberg-Marquardt) over all curves at once: ln e is optimized internally, starting values come from
a (b, e) grid with the asymptotes profiled out by linear least squares, and default bounds |b| <= 20 and
e within 1000x beyond the tested range keep hopeless curves finite (a step function has b -> inf; an effect
only at the top dose has e -> inf with c -> -inf).

Standard errors are drc's: the exact Hessian H of the residual sum of squares in (b, c, d, e) at the optimum,
sigma^2 = RSS / df with df = n - p (p = free parameters), cov = 2 sigma^2 H^-1 (drc's vcov.drc:
solve(H / (2 sigma^2))), SE = sqrt(diag(cov)); CIs are Wald-t: est +- t(0.975, df) SE, on e itself.

Flags (';'-joined in `flags`, '' when clean; rules, applied per curve):
- ``all_nan``: no point with a finite concentration and response (and a positive weight). Nothing is fitted.
- ``too_few_points``: n < p + 1, or fewer than 3 distinct concentrations (zero counts as one). Not fitted.
- ``not_converged``: the optimizer stopped without meeting its step criterion within the iteration limit
  (also after refits with a drifting b or e pinned at its bound), or the Hessian at the solution is not
  positive definite / not finite (no standard errors). Typically an effect only at the top dose or two of an
  unbounded LL.4: fix the bottom or bound c to get an estimate.
- ``flat``: the F-test of the model against a constant (weighted mean) model,
  F = ((RSS0 - RSS) / (p - 1)) / (RSS / (n - p)), has p-value > 0.05 (as drc's noEffect): no effect shown.
  A response that is exactly constant gets c = d = its mean, b = e = NaN and only this flag.
- ``extrapolated``: e lies outside [lowest, highest] positive concentration tested.
- ``incomplete``: an asymptote that was estimated (not fixed) is not approached within the tested range:
  with q(x) = 1 / (1 + (x/e)^b), the fraction of the way from c to d, evaluated at the lowest and highest
  positive concentrations, the d side needs max(q) >= 0.8 and the c side min(q) <= 0.2.
- ``poor_fit``: not flat but R^2 < 0.8 (R^2 = 1 - RSS / RSS0, weighted): an effect the model does not describe.
- ``at_bound``: an estimated parameter ended on a bound: a user bound, or the defaults |b| <= 20 (a step-like
  curve) and e within 1000x beyond the tested range. Its SE is NaN; the others' SEs treat it as fixed.

Note for tables: read the column as df["flags"] (df.flags is a pandas attribute).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from labkit.analysis import fit_lm
from labkit.errors import FitError

PARAMS = ("b", "c", "d", "e")
MODELS = ("ll4", "ll3")
FLAGS = ("all_nan", "too_few_points", "not_converged", "flat", "extrapolated", "incomplete", "poor_fit",
         "at_bound")
TABLE_COLUMNS = ("n", "model", "b", "b_se", "c", "c_se", "d", "d_se", "e", "e_se", "ic50", "ic50_ci_low",
                 "ic50_ci_high", "pic50", "pic50_se", "abs_ic50", "emax", "auc", "hill", "rse", "df", "r2",
                 "converged", "n_outliers", "flags", "model_reason")

R2_POOR = 0.8  # poor_fit threshold
FLAT_P = 0.05  # flat: F-test p-value above this
PLATEAU = 0.2  # incomplete: an estimated asymptote must be approached to within this fraction
E_DECADES = 3.0  # default bound: e within 1000x beyond the tested range (keeps hopeless fits finite)
THREADS_MAX = 4  # worker threads for large batches (at most the CPUs available)
CHUNK_MIN = 2048  # curves per thread at least
MAX_ITER = 100  # Levenberg-Marquardt iterations before a curve counts as not converged
B_MAX = 20.0  # default bound on |b| (|b| = 20: a 2-fold dilution step spans 99.9999 % of the transition)


def ll4(x, b, c, d, e) -> np.ndarray:
    """The LL.4 model c + (d - c) / (1 + (x/e)^b), vectorised (broadcasts), exact at x = 0."""
    x, b, c, d, e = (np.asarray(v, dtype=float) for v in (x, b, c, d, e))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        u = np.power(x / e, b)
    return c + (d - c) / (1.0 + u)


@dataclass
class FitResults:
    """Fits of many curves: arrays indexed by curve, parameters in PARAMS order (b, c, d, e)."""

    model: str
    free: tuple[str, ...]  # names of the estimated parameters
    params: np.ndarray  # (n_curves, 4); NaN when not fitted
    se: np.ndarray  # (n_curves, 4); NaN for fixed parameters and when not available
    cov: np.ndarray  # (n_curves, 4, 4) covariance in (b, c, d, e); zero rows/cols for fixed parameters
    n: np.ndarray  # points used
    df: np.ndarray  # residual degrees of freedom n - p
    rss: np.ndarray  # (weighted) residual sum of squares
    rse: np.ndarray  # residual standard error sqrt(rss / df)
    r2: np.ndarray
    f_pvalue: np.ndarray  # F-test against a constant model
    converged: np.ndarray  # bool
    n_iter: np.ndarray
    conc_min: np.ndarray  # lowest positive concentration tested
    conc_max: np.ndarray  # highest concentration tested
    at_bound: np.ndarray  # bool: an estimated parameter ended on a bound (its SE is NaN)
    flags: list[str] = field(default_factory=list)  # ';'-joined per curve
    models: np.ndarray | None = None  # per-curve model label (labkit.analysis.models); None: `model` for all
    reasons: np.ndarray | None = None  # per-curve reason for that model
    n_outliers: np.ndarray | None = None  # points flagged as outliers and left out of the fit (outliers.py)
    outlier: np.ndarray | None = None  # (n_curves, n_points) bool: that point is an outlier
    ci_low: np.ndarray | None = None  # IC50 CI set by the model selection (union over well-supported models)
    ci_high: np.ndarray | None = None
    top_ref: float = 100.0  # control levels the derived metrics refer to (abs IC50 at their half-way point)
    bottom_ref: float = 0.0

    def __len__(self) -> int:
        return len(self.params)

    def param(self, name: str) -> np.ndarray:
        """One parameter for all curves."""
        return self.params[:, PARAMS.index(name)]

    @property
    def ic50(self) -> np.ndarray:
        """e, in the caller's concentration unit."""
        return self.params[:, 3]

    @property
    def hill(self) -> np.ndarray:
        """Prism's HillSlope, -b."""
        return -self.params[:, 0]

    @property
    def pic50(self) -> np.ndarray:
        """-log10(e) (a pIC50 when the concentrations are molar)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log10(self.params[:, 3])

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wald-t confidence limits (low, high), each (n_curves, 4), as drc's confint()."""
        from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

        with np.errstate(invalid="ignore"):
            q = special.stdtrit(np.where(self.df > 0, self.df, np.nan), 0.5 + level / 2.0)
        half = q[:, None] * self.se
        return self.params - half, self.params + half

    def predict(self, x) -> np.ndarray:
        """Fitted curves at concentrations x: (n_curves, len(x))."""
        x = np.asarray(x, dtype=float)[None, :]
        p = self.params
        return ll4(x, p[:, 0:1], p[:, 1:2], p[:, 2:3], p[:, 3:4])

    def predict_at(self, x: np.ndarray) -> np.ndarray:
        """Fitted values at per-curve concentrations x (n_curves, n_points); NaN where a curve has no fit."""
        p = self.params
        y = ll4(x, p[:, 0:1], p[:, 1:2], p[:, 2:3], p[:, 3:4])
        const = ~np.isfinite(p[:, 3]) & np.isfinite(p[:, 1])  # a constant response: c = d, no e
        return np.where(const[:, None], p[:, 1:2], y)

    _ROW_FIELDS = ("params", "se", "cov", "n", "df", "rss", "rse", "r2", "f_pvalue", "converged", "n_iter",
                   "conc_min", "conc_max", "at_bound")

    def take(self, idx: np.ndarray) -> FitResults:
        """The results of curves idx (a new FitResults)."""
        out = FitResults(model=self.model, free=self.free, flags=[self.flags[i] for i in idx],
                         **{k: getattr(self, k)[idx] for k in self._ROW_FIELDS})
        for k in ("models", "reasons", "n_outliers", "outlier", "ci_low", "ci_high"):
            v = getattr(self, k)
            setattr(out, k, None if v is None else v[idx])
        out.top_ref, out.bottom_ref = self.top_ref, self.bottom_ref
        return out

    def put(self, idx: np.ndarray, other: FitResults) -> None:
        """Replace the results of curves idx by other's (same length as idx), in place."""
        for k in self._ROW_FIELDS:
            getattr(self, k)[idx] = getattr(other, k)
        for j, i in enumerate(idx):
            self.flags[i] = other.flags[j]
        for k in ("models", "reasons"):
            if getattr(self, k) is not None and getattr(other, k) is not None:
                getattr(self, k)[idx] = getattr(other, k)
        for k in ("ci_low", "ci_high"):  # the selection's interval belongs to the fit it came with
            if getattr(self, k) is not None:
                getattr(self, k)[idx] = getattr(other, k) if getattr(other, k) is not None else np.nan

    def band(self, x, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise confidence band of the fitted curve at x (delta method, Wald-t), each (n_curves, len(x))."""
        from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

        x = np.asarray(x, dtype=float)
        theta = _to_internal(self.params)
        lx, zero = _log_conc(np.broadcast_to(x, (len(self), len(x))))
        with np.errstate(all="ignore"):
            f, jac = fit_lm.jacobian_e(theta, lx, zero)
            var = np.einsum("nmi,nij,nmj->nm", jac, np.nan_to_num(self.cov), jac)
            var[np.isnan(self.cov).any(axis=(1, 2))] = np.nan
            q = special.stdtrit(np.where(self.df > 0, self.df, np.nan), 0.5 + level / 2.0)
            half = q[:, None] * np.sqrt(np.maximum(var, 0.0))
        return f - half, f + half

    def to_frame(self) -> pd.DataFrame:
        """One row per curve with TABLE_COLUMNS; ic50's CI on the log scale (labkit.analysis.models.derived)."""
        from labkit.analysis.models import derived

        der = derived(self, top=self.top_ref, bottom=self.bottom_ref)
        n_out = self.n_outliers if self.n_outliers is not None else np.zeros(len(self), dtype=int)
        out = {"n": (self.n + n_out).astype(int),  # points measured; n_outliers of them left out of the fit
               "model": list(self.models) if self.models is not None else [self.model] * len(self)}
        for i, name in enumerate(PARAMS):
            out[name] = self.params[:, i]
            out[f"{name}_se"] = self.se[:, i]
        out.update(ic50=self.ic50, ic50_ci_low=der["ic50_ci_low"], ic50_ci_high=der["ic50_ci_high"],
                   pic50=self.pic50, pic50_se=der["pic50_se"], abs_ic50=der["abs_ic50"], emax=der["emax"],
                   auc=der["auc"], hill=self.hill, rse=self.rse, df=self.df.astype(int), r2=self.r2,
                   converged=self.converged.astype(bool),
                   n_outliers=(self.n_outliers if self.n_outliers is not None else np.zeros(len(self))).astype(int),
                   flags=list(self.flags),
                   model_reason=list(self.reasons) if self.reasons is not None else [""] * len(self))
        return pd.DataFrame(out, columns=list(TABLE_COLUMNS))


def fit_curves(conc: np.ndarray, response: np.ndarray, *, model: str = "ll4", fix_top: float | None = None,
               fix_bottom: float | None = None, weights: np.ndarray | None = None,
               bounds: dict[str, tuple[float, float]] | None = None, start: np.ndarray | None = None) -> FitResults:
    """Fit LL.4 / LL.3 to every row of (n_curves, n_points) arrays at once; NaN marks a missing point.

    start: optional (n_curves, 4) starting values in (b, c, d, e) (e.g. another model's fit); rows with a
    non-finite value get the grid search's start.
    """
    conc = np.atleast_2d(np.asarray(conc, dtype=float))
    y = np.atleast_2d(np.asarray(response, dtype=float))
    if conc.shape != y.shape:
        if conc.shape[0] == 1 and conc.shape[1] == y.shape[1]:
            conc = np.broadcast_to(conc, y.shape)
        else:
            raise FitError(f"conc has shape {conc.shape} but response has shape {y.shape}; expected the same "
                           "(n_curves, n_points)", field="conc")
    fixed = _fixed(model, fix_top, fix_bottom)
    user_bounds = _parse_bounds(bounds)
    for name, arr in (("conc", conc), ("response", y)):
        if np.isinf(arr).any():
            raise FitError(f"infinite {name} value; expected finite numbers (NaN marks a missing point)",
                           field=name)
    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    valid = np.isfinite(conc) & np.isfinite(y)
    if (conc[valid] < 0).any():
        raise FitError(f"negative concentration {conc[valid].min()!r}; expected concentrations >= 0", field="conc")
    bad_w = valid & ~(np.isfinite(w) & (w >= 0))
    if bad_w.any():
        raise FitError(f"weight {w[bad_w][0]!r} for a measured point; expected finite weights >= 0",
                       field="weights")
    valid &= w > 0
    w = np.where(valid, w, 0.0)
    yz = np.where(valid, y, 0.0)
    xz = np.where(valid, conc, np.nan)
    lx, zero = _log_conc(np.where(valid, conc, 1.0))
    zero &= valid
    ncur = len(y)
    free = [i for i in range(4) if i not in fixed]
    p = len(free)

    n = valid.sum(axis=1)
    with np.errstate(invalid="ignore"):
        pos = np.where(valid & (conc > 0), conc, np.nan)
        conc_min = _nan_reduce(np.fmin.reduce, pos)
        conc_max = _nan_reduce(np.fmax.reduce, xz)
    n_distinct = _count_distinct(xz)
    all_nan = n == 0
    too_few = ~all_nan & ((n < p + 1) | (n_distinct < 3))
    fit = ~all_nan & ~too_few

    params = np.full((ncur, 4), np.nan)
    se = np.full((ncur, 4), np.nan)
    cov = np.full((ncur, 4, 4), np.nan)
    rss = np.full(ncur, np.nan)
    r2 = np.full(ncur, np.nan)
    fp = np.full(ncur, np.nan)
    conv = np.zeros(ncur, dtype=bool)
    n_iter = np.zeros(ncur, dtype=int)
    not_pd = np.zeros(ncur, dtype=bool)
    at_bound = np.zeros(ncur, dtype=bool)

    idx = np.flatnonzero(fit)
    if len(idx):
        st = None
        if start is not None:
            st = _to_internal(np.broadcast_to(np.asarray(start, dtype=float), (ncur, 4)).copy())
        res = _fit_parallel(idx, lx, zero, yz, w, conc_min, conc_max, fixed, free, user_bounds, st)
        theta, conv[idx], n_iter[idx] = res["theta"], res["converged"], res["n_iter"]
        params[idx] = _from_internal(theta)
        se[idx], cov[idx], not_pd[idx] = res["se"], res["cov"], res["not_pd"]
        rss[idx], r2[idx], fp[idx] = res["rss"], res["r2"], res["f_pvalue"]
        at_bound[idx] = res["at_bound"]
    df = np.where(fit, n - p, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rse = np.where(df > 0, np.sqrt(rss / np.where(df > 0, df, 1)), np.nan)
    results = FitResults(model=model, free=tuple(PARAMS[i] for i in free), params=params, se=se, cov=cov, n=n,
                         df=df, rss=rss, rse=rse, r2=r2, f_pvalue=fp, converged=conv, n_iter=n_iter,
                         conc_min=conc_min, conc_max=conc_max, at_bound=at_bound)
    results.flags = _flags(results, all_nan, too_few, not_pd, fixed)
    return results


def fit_table(df: pd.DataFrame, *, curve: str | list[str], conc: str, response: str, model: str = "auto",
              fix_top: float | None = None, fix_bottom: float | None = None, weights: str | None = None,
              unbounded: bool = False, top: float = 100.0, bottom: float = 0.0,
              outlier_q: float | None = None, outlier_column: str | None = None, ci: str = "wald") -> pd.DataFrame:
    """Fit a long-form table (one row per point) and return one row per curve: keys + TABLE_COLUMNS.

    model / unbounded / top / bottom as labkit.analysis.models.fit_model (default: model selection with bounded
    asymptotes for data normalized to top = 100, bottom = 0; model="ll4", unbounded=True is drc's LL.4).
    outlier_q: ROUT outlier detection at this false-discovery rate (labkit.analysis.outliers); with
    outlier_column, df gets a bool column of that name marking each outlier point (nothing is dropped).
    """
    from labkit.analysis.models import fit_model

    keys = [curve] if isinstance(curve, str) else list(curve)
    if not keys:
        raise FitError("no curve column given; expected at least one", field="curve")
    clash = [k for k in keys if k in TABLE_COLUMNS]
    if clash:
        raise FitError(f"curve column {clash[0]!r} has the name of an output column; rename it "
                       f"(output columns: {', '.join(TABLE_COLUMNS)})", field=clash[0])
    check_table(df, keys, conc, response, weights)
    x = numeric_column(df, conc)
    y = numeric_column(df, response)
    w = None
    if weights is not None:
        if weights.lower().replace(" ", "") == "1/y":
            ok = np.isfinite(y) & np.isfinite(x)
            bad = ok & ~(y > 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise FitError(f"weights 1/y need a positive response, found {y[i]!r}", field=response,
                               line=_line(i))
            w = np.where(ok, 1.0 / np.where(y > 0, y, 1.0), np.nan)
        else:
            w = numeric_column(df, weights)
            bad = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(w) & (w >= 0))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise FitError(f"weight {df[weights].iloc[i]!r} is not a finite number >= 0", field=weights,
                               line=_line(i))
    neg = np.isfinite(x) & (x < 0)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise FitError(f"negative concentration {x[i]!r}; expected >= 0", field=conc, line=_line(i))
    grouped = df.groupby(keys, sort=False, dropna=False)
    gid = grouped.ngroup().to_numpy()
    pos = grouped.cumcount().to_numpy()
    ncur = int(gid.max()) + 1 if len(gid) else 0
    width = int(pos.max()) + 1 if len(pos) else 1
    cx = np.full((ncur, width), np.nan)
    cy = np.full((ncur, width), np.nan)
    cx[gid, pos], cy[gid, pos] = x, y
    cw = None
    if w is not None:
        cw = np.zeros((ncur, width))
        cw[gid, pos] = np.nan_to_num(w, nan=0.0)
    res = fit_model(cx, cy, model=model, fix_top=fix_top, fix_bottom=fix_bottom, weights=cw, unbounded=unbounded,
                    top=top, bottom=bottom, outlier_q=outlier_q, ci=ci)
    if outlier_column is not None:
        flag = np.zeros(len(df), dtype=bool)
        if res.outlier is not None and len(gid):
            flag = res.outlier[gid, pos]
        df[outlier_column] = flag
    first = df.drop_duplicates(subset=keys)[keys] if ncur else pd.DataFrame(columns=keys)
    key_frame = first.reset_index(drop=True)
    return pd.concat([key_frame, res.to_frame()], axis=1)


def check_table(df: pd.DataFrame, keys: list[str], conc: str, response: str, weights: str | None = None,
                file: str | None = None) -> None:
    """FitError naming the first missing column or non-numeric value (line = CSV line, header = line 1)."""
    cols = list(keys) + [conc, response]
    if weights is not None and weights.lower().replace(" ", "") != "1/y":
        cols.append(weights)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise FitError(f"column {missing[0]!r} not found; the table has columns {list(map(str, df.columns))}",
                       file=file, field=missing[0])
    for col in cols[len(keys):]:
        numeric_column(df, col, file=file)


def numeric_column(df: pd.DataFrame, col: str, file: str | None = None) -> np.ndarray:
    """A column as float (blank / NaN = missing); FitError at the first value that is not a number."""
    s = df[col]
    if pd.api.types.is_bool_dtype(s) or not (pd.api.types.is_numeric_dtype(s) or s.dtype == object):
        raise FitError(f"column is {s.dtype}, expected numbers", file=file, field=col)
    if pd.api.types.is_numeric_dtype(s):  # fast path: only infinities can be wrong
        arr = s.to_numpy(dtype=float)
        bad_inf = np.isinf(arr)
        if bad_inf.any():
            i = int(np.flatnonzero(bad_inf)[0])
            raise FitError(f"{s.iloc[i]!r} is not a finite number", file=file, line=_line(i), field=col)
        return arr
    num = pd.to_numeric(s, errors="coerce").astype(float)
    retry = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
    for i in np.flatnonzero(retry.to_numpy()):  # pandas refuses some texts Python reads ('0E400' = 0.0)
        try:
            num.iloc[i] = float(str(s.iloc[i]).strip())
        except ValueError:
            pass
    bad = (num.isna() & retry) | np.isinf(num.to_numpy(dtype=float))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FitError(f"{s.iloc[i]!r} is not a finite number", file=file, line=_line(i), field=col)
    return num.to_numpy(dtype=float)


# --- internals ---------------------------------------------------------------------------------------------

def _line(i: int) -> int:
    """CSV line of data row i (the header is line 1)."""
    return i + 2


def _fixed(model: str, fix_top: float | None, fix_bottom: float | None) -> dict[int, float]:
    model = str(model).lower()
    if model not in MODELS:
        raise FitError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}", field="model")
    fixed: dict[int, float] = {}
    if model == "ll3":
        if fix_bottom is not None and float(fix_bottom) != 0.0:
            raise FitError(f"model ll3 fixes the bottom at 0, but fix_bottom={fix_bottom!r}; use model ll4 with "
                           "fix_bottom for another value", field="fix_bottom")
        fixed[fit_lm.C] = 0.0
    for idx, value, name in ((fit_lm.C, fix_bottom, "fix_bottom"), (fit_lm.D, fix_top, "fix_top")):
        if value is not None:
            if not np.isfinite(float(value)):
                raise FitError(f"{name}={value!r}; expected a finite number", field=name)
            fixed[idx] = float(value)
    return fixed


def _parse_bounds(bounds: dict[str, tuple[float, float]] | None) -> dict[int, tuple[float, float]]:
    """User bounds by internal index, e's on ln e (they replace the defaults for that parameter)."""
    out: dict[int, tuple[float, float]] = {}
    for name, pair in (bounds or {}).items():
        if name not in PARAMS:
            raise FitError(f"bounds for unknown parameter {name!r}; expected some of {', '.join(PARAMS)}",
                           field="bounds")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise FitError(f"bounds for {name} are {pair!r}; expected (low, high) numbers", field="bounds") from None
        if not lo <= hi:
            raise FitError(f"bounds for {name} are ({lo}, {hi}); expected low <= high", field="bounds")
        if name == "e":
            lo = np.log(lo) if lo > 0 else -np.inf
            hi = np.log(hi) if hi > 0 else -np.inf
        out[PARAMS.index(name)] = (lo, hi)
    return out


def _log_conc(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ln x with 0 where x == 0, x == 0)."""
    zero = x == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.where(zero | ~np.isfinite(x), 0.0, np.log(np.where(x > 0, x, 1.0)))
    return lx, zero


def _nan_reduce(fn, a: np.ndarray) -> np.ndarray:
    out = fn(a, axis=1) if a.shape[1] else np.full(a.shape[0], np.nan)
    return out


def _count_distinct(x: np.ndarray) -> np.ndarray:
    """Distinct finite values per row."""
    s = np.sort(x, axis=1)  # NaN last
    fin = np.isfinite(s)
    new = fin.copy()
    new[:, 1:] &= s[:, 1:] != s[:, :-1]
    return new.sum(axis=1)


def _to_internal(params: np.ndarray) -> np.ndarray:
    th = params.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        th[:, 3] = np.log(params[:, 3])
    return th


def _from_internal(theta: np.ndarray) -> np.ndarray:
    p = theta.copy()
    p[:, 3] = np.exp(theta[:, 3])
    return p


def _fit_parallel(idx, lx, zero, y, w, conc_min, conc_max, fixed, free, bounds, start=None) -> dict:
    """_fit_subset over chunks of curves in threads (NumPy releases the GIL); results do not depend on it."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    threads = max(1, min(cores, THREADS_MAX, len(idx) // CHUNK_MIN))

    def run(part):
        with np.errstate(all="ignore"):
            return _fit_subset(lx[part], zero[part], y[part], w[part], conc_min[part], conc_max[part], fixed, free,
                               bounds, None if start is None else start[part])

    if threads == 1:
        return run(idx)
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(idx, 2 * threads)  # a few chunks per thread evens out slow ones
    with ThreadPoolExecutor(threads) as pool:
        outs = list(pool.map(run, parts))
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}


def _fit_subset(lx, zero, y, w, conc_min, conc_max, fixed, free, bounds, start=None) -> dict:
    """Fit curves that have enough points; all arrays restricted to those curves."""
    from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

    ncur = len(y)
    lo_lx = np.log(conc_min)
    hi_lx = np.log(conc_max)
    lower = np.empty((ncur, 4))
    upper = np.empty((ncur, 4))
    lower[:, 0], upper[:, 0] = -B_MAX, B_MAX
    lower[:, 1:3], upper[:, 1:3] = -np.inf, np.inf
    lower[:, 3] = lo_lx - E_DECADES * np.log(10.0)
    upper[:, 3] = hi_lx + E_DECADES * np.log(10.0)
    for k, (lo, hi) in bounds.items():
        lower[:, k], upper[:, k] = lo, hi
    for k, v in fixed.items():
        lower[:, k] = upper[:, k] = v

    grid = np.ones(ncur, dtype=bool) if start is None else ~np.isfinite(start).all(axis=1)
    theta0 = np.empty((ncur, 4))
    if start is not None:
        theta0[~grid] = start[~grid]
    if grid.any():
        theta0[grid] = fit_lm.start_values(lx[grid], zero[grid], y[grid], w[grid], fixed,
                                           np.where(np.isfinite(lo_lx), lo_lx, hi_lx)[grid],
                                           np.where(np.isfinite(hi_lx), hi_lx, lo_lx)[grid], lower[grid], upper[grid])
    for k, v in fixed.items():
        theta0[:, k] = v
    theta0 = np.clip(theta0, lower, upper)
    sw = w.sum(axis=1)
    ybar = (w * y).sum(axis=1) / sw
    yspread = np.sqrt((w * (y - ybar[:, None]) ** 2).sum(axis=1) / sw)
    scale = np.empty((ncur, 4))
    scale[:, 0] = 1.0
    scale[:, 1] = scale[:, 2] = np.maximum(yspread, np.abs(ybar)) + 1e-300
    scale[:, 3] = 1.0
    # a given start (another model's fit, a previous IRLS round) is near its minimum: Newton from the first step
    theta, conv, n_iter = fit_lm.levenberg_marquardt(theta0, lx, zero, y, w, free, lower, upper, scale,
                                                     max_iter=MAX_ITER, newton_after=np.where(grid, 10, 0))
    fit_lm.pin_drifting(theta, conv, lx, zero, y, w, free, lower, upper, scale, n_iter, lo_lx, hi_lx)
    if fit_lm.C not in fixed and fit_lm.D not in fixed:  # convention: d is the upper asymptote
        swap = theta[:, 2] < theta[:, 1]
        theta[swap, 0] *= -1.0
        theta[swap, 1], theta[swap, 2] = theta[swap, 2].copy(), theta[swap, 1].copy()

    rss, m_full = fit_lm.rss_hessian_e(theta, lx, zero, y, w)
    p = len(free)
    df = (w > 0).sum(axis=1) - p
    fi = np.array(free)
    m = m_full[:, fi[:, None], fi[None, :]]
    lo_f, hi_f, th_f = lower[:, fi], upper[:, fi], theta[:, fi]  # internal: e's bounds are on ln e
    at_bound = (th_f <= lo_f) | (th_f >= hi_f)
    minv, not_pd = _sym_inverse(m, at_bound)
    sigma2 = rss / df
    cov_f = sigma2[:, None, None] * minv  # = 2 sigma^2 H^-1 with H = 2 m the Hessian of the RSS
    cov = np.zeros((ncur, 4, 4))
    cov[:, fi[:, None], fi[None, :]] = cov_f
    cov[not_pd] = np.nan
    se = np.full((ncur, 4), np.nan)
    se[:, fi] = np.where(at_bound, np.nan, np.sqrt(np.diagonal(cov_f, axis1=1, axis2=2)))
    se[not_pd] = np.nan

    rss0 = (w * (y - ybar[:, None]) ** 2).sum(axis=1)
    r2 = np.where(rss0 > 0, 1.0 - rss / np.where(rss0 > 0, rss0, 1.0), np.nan)
    fstat = ((rss0 - rss) / max(p - 1, 1)) / (rss / df)
    fstat = np.where(rss <= 0, np.inf, np.maximum(fstat, 0.0))
    fpv = np.where(df > 0, special.fdtrc(max(p - 1, 1), np.where(df > 0, df, 1), fstat), np.nan)
    fpv = np.where(rss0 <= 0, 1.0, fpv)  # a perfectly constant response shows no effect
    bad = ~np.isfinite(theta).all(axis=1)
    conv &= ~bad
    # a constant response (free asymptotes): c = d = its mean, no slope, no IC50; flagged flat, nothing else
    const = (rss0 <= 1e-24 * np.maximum((w * y * y).sum(axis=1), 1e-300)) & (len(fixed) == 0)
    if const.any():
        theta[const] = np.column_stack([np.full(ncur, np.nan), ybar, ybar, np.full(ncur, np.nan)])[const]
        se[const], cov[const] = np.nan, np.nan
        conv[const], bad[const], not_pd[const], at_bound[const] = True, False, False, False
        rss[const] = 0.0
    return dict(theta=theta, converged=conv, n_iter=n_iter, se=se, cov=cov, not_pd=not_pd | bad, rss=rss,
                r2=r2, f_pvalue=fpv, at_bound=at_bound.any(axis=1))


def _sym_inverse(m: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of symmetric (n, p, p) matrices (scaled to a unit diagonal); flags non-positive-definite ones
    (smallest eigenvalue <= 1e-12 x the largest).

    Parameters marked in drop (n, p) are held fixed: their rows and columns are left out (zero in the result).
    """
    d = np.sqrt(np.abs(np.diagonal(m, axis1=1, axis2=2)))
    d = np.where(drop, 1.0, d)
    good_d = np.isfinite(d).all(axis=1) & (d > 0).all(axis=1)
    d = np.where(good_d[:, None], d, 1.0)
    ms = m / d[:, :, None] / d[:, None, :]
    keep = ~drop
    eye = np.eye(m.shape[1])
    ms = np.where(keep[:, :, None] & keep[:, None, :], ms, 0.0) + drop[:, :, None] * eye
    ms = np.where(good_d[:, None, None] & np.isfinite(ms), ms, eye)
    # fast path, Cholesky: where it succeeds, ms is positive definite with eigenvalues <= trace = p, and the
    # smallest is >= 1 / ||ms^-1||_F; when that bound already clears the test below, the eigendecomposition
    # cannot flag the row (only ill-conditioned or failing rows take the eigendecomposition)
    p = m.shape[1]
    cols = [fit_lm._chol_solve(ms, np.broadcast_to(eye[k], (len(ms), p)).copy()) for k in range(p)]
    inv = np.stack([c[0] for c in cols], axis=2)
    with np.errstate(all="ignore"):
        fro = np.sqrt(np.einsum("nij,nij->n", inv, inv))
        fast = cols[0][1] & good_d & np.isfinite(fro) & (1.0 / fro > 1e-10 * p)
    not_pd = ~good_d.copy()
    slow = np.flatnonzero(~fast)
    if len(slow):
        vals, vecs = np.linalg.eigh(ms[slow])
        not_pd[slow] |= vals[:, 0] <= 1e-12 * np.abs(vals[:, -1])
        inv_vals = np.where(not_pd[slow][:, None], np.nan, 1.0 / np.where(vals > 0, vals, 1.0))
        inv[slow] = np.einsum("nij,nj,nkj->nik", vecs, inv_vals, vecs)
    inv = np.where(keep[:, :, None] & keep[:, None, :], inv, 0.0)
    return inv / d[:, :, None] / d[:, None, :], not_pd


def _flags(res: FitResults, all_nan, too_few, not_pd, fixed: dict[int, float]) -> list[str]:
    """';'-joined flags per curve, rules as in the module docstring."""
    fitted = ~all_nan & ~too_few
    b, e = res.params[:, 0], res.params[:, 3]
    with np.errstate(all="ignore"):
        not_conv = fitted & (~res.converged | not_pd)
        flat = fitted & ~(res.f_pvalue <= FLAT_P)
        extrap = fitted & np.isfinite(e) & ((e < res.conc_min) | (e > res.conc_max))
        q_lo = 1.0 / (1.0 + (res.conc_min / e) ** b)
        q_hi = 1.0 / (1.0 + (res.conc_max / e) ** b)
        no_d = (fit_lm.D not in fixed) & ~(np.fmax(q_lo, q_hi) >= 1.0 - PLATEAU)
        no_c = (fit_lm.C not in fixed) & ~(np.fmin(q_lo, q_hi) <= PLATEAU)
        incomplete = fitted & np.isfinite(e) & (no_d | no_c)
        poor = fitted & ~flat & (res.r2 < R2_POOR)
    cols = [("all_nan", all_nan), ("too_few_points", too_few), ("not_converged", not_conv), ("flat", flat),
            ("extrapolated", extrap), ("incomplete", incomplete), ("poor_fit", poor),
            ("at_bound", fitted & res.at_bound)]
    code = np.zeros(len(res), dtype=np.int64)  # one bit per flag; the text built once per combination
    for bit, (_, mask) in enumerate(cols):
        code |= mask.astype(np.int64) << bit
    text = {int(c): ";".join(name for bit, (name, _) in enumerate(cols) if int(c) >> bit & 1)
            for c in np.unique(code)}
    return [text[c] for c in code.tolist()]
