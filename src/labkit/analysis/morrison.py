"""Tight-binding inhibition: Morrison's quadratic, a batched Ki_app fit with a profile CI, Cheng–Prusoff, flags.

When the active enzyme concentration [E] is not far below the inhibitor's Ki_app, the inhibitor bound to the enzyme
depletes the free inhibitor and the classical (Hill / LL.4) IC50 stops measuring potency: for Morrison's model the
IC50 is exactly Ki_app + [E]/2 (Copeland, *Evaluation of Enzyme Inhibitors in Drug Discovery*, 2nd ed., ch. 7;
Morrison 1969, Biochim. Biophys. Acta 185:269–286). So no IC50 below [E]/2 can be observed, and an IC50 within a
few-fold of [E]/2 says more about the enzyme concentration than about the compound.

Model (fractional activity, total concentrations; all concentrations in one unit, e.g. molar):

    v_i / v_0 = 1 - ([E] + [I] + K - sqrt(([E] + [I] + K)^2 - 4 [E][I])) / (2 [E]),   K = Ki_app

evaluated as 1 - 2[I] / (S + sqrt((E - I)^2 + K (K + 2 (E + I)))) with S = E + I + K, which is exact, has no
cancellation, and reduces to K / (K + [I]) at [E] = 0.

Fit (``fit_morrison``): response = bottom + (top - bottom) * v_i/v_0 with [E] given per curve, least squares
sum_i w_i (y_i - f_i)^2 (w as in labkit.analysis.fit: weights multiply the squared residuals, "1/y" suits counts).
top (v_0, the vehicle signal) and bottom (background: the no-enzyme signal) enter linearly, so they are profiled
out exactly (variable projection, with optional fixed values or box bounds); the one nonlinear parameter, ln Ki_app,
is found on a grid and refined by golden-section search, for all curves at once. The 95 % CI of Ki_app is the
profile-likelihood interval of nonlinear least squares (Bates & Watts 1988, §6.1):
{K : RSS_profile(K) <= RSS_min (1 + F(0.95; 1, df) / df)}, which is the right shape on the log scale and honest
when the data bound Ki_app on one side only (a tight-binding curve gives an upper limit): a side the data do not
bound within the search range is NaN and the curve is flagged ``ci_open``. The Wald SE of ln Ki_app from the
profile curvature is reported too (``ki_app_log_se``).

Flags (';'-joined per curve in ``flags``): ``all_nan``, ``too_few_points`` (n < p + 1 or < 3 distinct
concentrations), ``flat`` (F-test against a constant, p > 0.05), ``poor_fit`` (R^2 < 0.8), ``at_bound`` (the
estimate is on the search range's edge), ``ci_open`` (a CI side is not bounded by the data).

Also here: ``cheng_prusoff`` (Ki from Ki_app for an ATP-competitive inhibitor), ``tight_binding`` (the flag for an
LL.4 result), ``potency_check`` (what enzyme concentration would measure an expected potency) and the radiometric
linear-range check ``atp_conversion`` (% ATP turned over in vehicle wells, from total-counts wells; > 15 % flags).
Sources: Copeland 2013 ch. 7; Morrison 1969; NCBI Assay Guidance Manual, "Basics of Enzymatic Assays for HTS" and
"Assay Development for Protein Kinase Enzymes" (initial-velocity conditions: < 10–15 % substrate conversion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from labkit.errors import FitError

FLAGS = ("all_nan", "too_few_points", "flat", "poor_fit", "at_bound", "ci_open")
TABLE_COLUMNS = ("n", "enzyme", "ki_app", "ki_app_ci_low", "ki_app_ci_high", "ki_app_log_se", "ic50", "top",
                 "bottom", "rse", "df", "r2", "flags")

TB_IC50_FACTOR = 10.0  # tight_binding: IC50 < 10 x [E]/2 (the IC50 cannot fall below [E]/2)
TB_HILL = -1.5  # tight_binding: a Hill slope steeper than this ...
TB_NEAR = 10.0  # ... with IC50 within this factor of [E] (stoichiometric titration looks steep)
POTENCY_FACTOR = 2.0  # potency_check: warn when the expected potency is below 2 x [E]
LINEAR_MAX = 0.15  # atp_conversion: vehicle wells above 15 % ATP conversion are outside the linear range
R2_POOR = 0.8
FLAT_P = 0.05
GRID = 81  # ln Ki_app grid points per curve
GOLDEN_ITER = 28  # the bracket (2 grid steps) shrinks 0.618^28 ~ 1e-6-fold
ROOT_ITER = 12  # Illinois steps for each CI limit (from a bracket one grid step wide)
CHUNK = 512  # curves per block (the grid step holds CHUNK x GRID x points floats)
THREADS_MAX = 4
K_DECADES = 3.0  # search range: Ki_app within 1000x beyond the tested concentrations and [E]


def fractional_activity(inhibitor, enzyme, ki_app) -> np.ndarray:
    """Morrison's v_i/v_0 at total inhibitor and active enzyme concentrations (broadcasts; one unit throughout)."""
    i, e, k = (np.asarray(v, dtype=float) for v in (inhibitor, enzyme, ki_app))
    s = e + i + k
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt((e - i) ** 2 + k * (k + 2.0 * (e + i)))
        bound_frac = np.where(i > 0, 2.0 * i / (s + root), 0.0)  # [EI] / [E] (or I/(I+K) at E = 0)
    return 1.0 - bound_frac


def morrison_ic50(enzyme, ki_app) -> np.ndarray:
    """The IC50 of Morrison's model, Ki_app + [E]/2 (exact)."""
    return np.asarray(ki_app, dtype=float) + 0.5 * np.asarray(enzyme, dtype=float)


def cheng_prusoff(ki_app, atp, km_atp) -> np.ndarray:
    """Ki of an ATP-competitive inhibitor from Ki_app measured at [ATP]: Ki_app / (1 + [ATP]/Km(ATP))."""
    atp, km = np.asarray(atp, dtype=float), np.asarray(km_atp, dtype=float)
    if np.any(~np.isfinite(atp) | (atp < 0)):
        raise FitError(f"ATP concentration {atp!r}; expected a finite value >= 0", field="atp")
    if np.any(~np.isfinite(km) | (km <= 0)):
        raise FitError(f"Km(ATP) {km!r}; expected a finite value > 0", field="km_atp")
    return np.asarray(ki_app, dtype=float) / (1.0 + atp / km)


def tight_binding(ic50, hill, enzyme) -> np.ndarray:
    """Bool per curve: IC50 < 10 x [E]/2, or Hill slope steeper than -1.5 with IC50 within 10x of [E]."""
    ic50, hill, e = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (ic50, hill, enzyme)))
    with np.errstate(invalid="ignore"):
        low = ic50 < TB_IC50_FACTOR * e / 2.0
        steep = (hill < TB_HILL) & (ic50 <= TB_NEAR * e)
    return (e > 0) & (low | steep)


def tight_binding_reason(ic50: float, hill: float, enzyme: float) -> str:
    """Why a curve is flagged tight_binding, for a scientist ('' when it is not)."""
    from labkit.units import si_conc

    if not tight_binding(ic50, hill, enzyme):
        return ""
    parts = []
    if ic50 < TB_IC50_FACTOR * enzyme / 2.0:
        parts.append(f"IC50 {si_conc(ic50)} is below 10 x [E]/2 = {si_conc(TB_IC50_FACTOR * enzyme / 2.0)}")
    if hill < TB_HILL and ic50 <= TB_NEAR * enzyme:
        parts.append(f"Hill slope {hill:.2f} is steeper than {TB_HILL} with IC50 near [E] = {si_conc(enzyme)}")
    return ("tight binding: " + "; ".join(parts) + f". The IC50 cannot fall below [E]/2 = {si_conc(enzyme / 2)}: "
            "report Ki_app from a Morrison fit with [E] known, or repeat with less enzyme")


def potency_check(expected: float, enzyme: float, *, compound: str = "compound", target: str = "target"
                  ) -> str | None:
    """A warning when an expected potency (molar) is below 2x the active enzyme (molar), naming the [E] to use."""
    from labkit.units import si_conc

    if not (np.isfinite(expected) and expected > 0):
        raise FitError(f"expected potency {expected!r} for {compound} on {target}; expected a value > 0",
                       field="potency")
    if not (np.isfinite(enzyme) and enzyme >= 0):
        raise FitError(f"enzyme concentration {enzyme!r} for {target}; expected a value >= 0", field="enzyme")
    if expected >= POTENCY_FACTOR * enzyme:
        return None
    need = expected / POTENCY_FACTOR
    return (f"{compound} on {target}: expected potency {si_conc(expected)} is below {POTENCY_FACTOR:g} x the active "
            f"enzyme {si_conc(enzyme)}; under tight binding the IC50 cannot fall below [E]/2 = "
            f"{si_conc(enzyme / 2)}, so this assay cannot measure it. Use at most {si_conc(need)} active enzyme "
            "(or fit Morrison's model with [E] known)")


@dataclass
class Conversion:
    """% ATP conversion of vehicle wells from total-counts wells (radiometric linear-range check)."""

    fraction: np.ndarray  # product / ATP in the reaction, per vehicle well or group
    specific_activity: float  # CPM per pmol ATP (when atp_pmol given, else NaN)
    product_pmol: np.ndarray  # (NaN without atp_pmol)
    over: np.ndarray  # bool: fraction > LINEAR_MAX

    def message(self, where: str = "vehicle wells") -> str:
        """A warning for a scientist ('' when within the linear range)."""
        if not self.over.any():
            return ""
        worst = float(np.nanmax(self.fraction))
        return (f"{where}: {worst:.0%} of the ATP was converted (> {LINEAR_MAX:.0%}): the reaction is outside "
                "its linear (initial-velocity) range, which biases IC50s; shorten the reaction or lower the enzyme")


def atp_conversion(vehicle_cpm, total_cpm, *, background_cpm=0.0, vehicle_spotted: float = 1.0,
                   total_spotted: float = 1.0, atp_pmol: float | None = None) -> Conversion:
    """Fraction of ATP turned over: (vehicle - background) / spotted share vs total counts / spotted share.

    total_cpm: the total-counts wells (hot ATP mix spotted without washing), averaged; vehicle_spotted and
    total_spotted: the share of one reaction's hot ATP that reached the filter in each (e.g. 40 of 50 uL
    transferred: 0.8). atp_pmol: ATP in one reaction, to give the specific activity (CPM/pmol) and product (pmol).
    """
    veh = np.asarray(vehicle_cpm, dtype=float)
    tot = float(np.nanmean(np.asarray(total_cpm, dtype=float)))
    bg = np.asarray(background_cpm, dtype=float)
    if not (np.isfinite(tot) and tot > 0):
        raise FitError(f"total counts {tot!r} CPM; expected a positive mean of the total_counts wells",
                       field="total_counts")
    for name, v in (("vehicle_spotted", vehicle_spotted), ("total_spotted", total_spotted)):
        if not (0 < v <= 1):
            raise FitError(f"{name}={v!r}; expected a fraction in (0, 1]", field=name)
    total_reaction = tot / total_spotted  # CPM of one reaction's ATP
    frac = (veh - bg) / vehicle_spotted / total_reaction
    sa = np.nan
    product = np.full(np.shape(frac), np.nan)
    if atp_pmol is not None:
        if not (np.isfinite(atp_pmol) and atp_pmol > 0):
            raise FitError(f"atp_pmol={atp_pmol!r}; expected ATP per reaction > 0 pmol", field="atp_pmol")
        sa = total_reaction / atp_pmol
        product = frac * atp_pmol
    with np.errstate(invalid="ignore"):
        over = np.asarray(frac > LINEAR_MAX)
    return Conversion(fraction=np.asarray(frac), specific_activity=float(sa), product_pmol=np.asarray(product),
                      over=over)


# --- the fit -----------------------------------------------------------------------------------------------

@dataclass
class MorrisonResults:
    """Morrison fits of many curves: arrays indexed by curve (concentrations in the caller's unit)."""

    enzyme: np.ndarray
    ki_app: np.ndarray
    ki_app_ci_low: np.ndarray  # NaN: the data do not bound Ki_app from below (flag ci_open)
    ki_app_ci_high: np.ndarray
    ki_app_log_se: np.ndarray  # Wald SE of ln Ki_app from the profile curvature
    top: np.ndarray
    bottom: np.ndarray
    n: np.ndarray
    df: np.ndarray
    rss: np.ndarray
    rse: np.ndarray
    r2: np.ndarray
    f_pvalue: np.ndarray
    k_lower: np.ndarray  # the search range of Ki_app
    k_upper: np.ndarray
    at_bound: np.ndarray  # bool: the estimate is on the search range's edge (that CI side is NaN)
    level: float = 0.95
    flags: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ki_app)

    @property
    def ic50(self) -> np.ndarray:
        """The model's IC50, Ki_app + [E]/2."""
        return morrison_ic50(self.enzyme, self.ki_app)

    def ki(self, atp, km_atp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Ki, CI low, CI high) by Cheng–Prusoff for an ATP-competitive inhibitor at [ATP] with Km(ATP)."""
        return (cheng_prusoff(self.ki_app, atp, km_atp), cheng_prusoff(self.ki_app_ci_low, atp, km_atp),
                cheng_prusoff(self.ki_app_ci_high, atp, km_atp))

    def predict(self, x) -> np.ndarray:
        """Fitted curves at concentrations x: (n_curves, len(x))."""
        m = fractional_activity(np.asarray(x, dtype=float)[None, :], self.enzyme[:, None], self.ki_app[:, None])
        return self.bottom[:, None] + (self.top - self.bottom)[:, None] * m

    def to_frame(self) -> pd.DataFrame:
        """One row per curve with TABLE_COLUMNS."""
        return pd.DataFrame({
            "n": self.n.astype(int), "enzyme": self.enzyme, "ki_app": self.ki_app,
            "ki_app_ci_low": self.ki_app_ci_low, "ki_app_ci_high": self.ki_app_ci_high,
            "ki_app_log_se": self.ki_app_log_se, "ic50": self.ic50, "top": self.top, "bottom": self.bottom,
            "rse": self.rse, "df": self.df.astype(int), "r2": self.r2, "flags": list(self.flags)},
            columns=list(TABLE_COLUMNS))


def fit_morrison(conc, response, enzyme, *, weights=None, fix_top: float | None = None,
                 fix_bottom: float | None = None, top_bounds: tuple[float, float] | None = None,
                 bottom_bounds: tuple[float, float] | None = None,
                 ki_bounds: tuple[float, float] | None = None, level: float = 0.95,
                 enzyme_error: float = 0.0) -> MorrisonResults:
    """Fit Morrison's model (Ki_app; top and bottom free, fixed or bounded) to every row of (n_curves, n_points).

    enzyme: active enzyme concentration, scalar or one per curve, in the unit of conc. NaN marks a missing point;
    zero concentration (vehicle) counts. ki_bounds replaces the default search range (1000x beyond the tested
    concentrations and [E]). enzyme_error: uncertainty of the active [E] as a log-scale SD (0.2 ~ +-20 %); the CI
    then spans the profile CIs at [E] x exp(+-z enzyme_error) too (z of the level), since under tight binding
    Ki_app leans on [E]. Fix (or bound) the bottom at the no-enzyme background when a compound may be inactive:
    with top and bottom both free a flat curve identifies nothing (both CI sides NaN, flags flat;ci_open).
    """
    from scipy import stats

    x = np.atleast_2d(np.asarray(conc, dtype=float))
    y = np.atleast_2d(np.asarray(response, dtype=float))
    if x.shape != y.shape:
        if x.shape[0] == 1 and x.shape[1] == y.shape[1]:
            x = np.broadcast_to(x, y.shape)
        else:
            raise FitError(f"conc has shape {x.shape} but response has shape {y.shape}; expected the same "
                           "(n_curves, n_points)", field="conc")
    ncur = len(y)
    e_in = np.asarray(enzyme, dtype=float)
    if e_in.ndim > 1 or (e_in.ndim == 1 and len(e_in) not in (1, ncur)):
        raise FitError(f"enzyme has shape {e_in.shape}; expected one value or one per curve ({ncur})",
                       field="enzyme")
    e = np.broadcast_to(e_in.reshape(-1) if e_in.ndim else e_in, (ncur,)).copy()
    if not (np.isfinite(enzyme_error) and enzyme_error >= 0):
        raise FitError(f"enzyme_error={enzyme_error!r}; expected a log-scale SD >= 0 (0.2 ~ +-20 %)",
                       field="enzyme_error")
    if np.any(~np.isfinite(e) | (e < 0)):
        raise FitError(f"enzyme concentration {e[~np.isfinite(e) | (e < 0)][0]!r}; expected the active enzyme "
                       "concentration >= 0, in the unit of conc", field="enzyme")
    for name, arr in (("conc", x), ("response", y)):
        if np.isinf(arr).any():
            raise FitError(f"infinite {name} value; expected finite numbers (NaN marks a missing point)", field=name)
    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    valid = np.isfinite(x) & np.isfinite(y)
    if (x[valid] < 0).any():
        raise FitError(f"negative concentration {x[valid].min()!r}; expected concentrations >= 0", field="conc")
    if (valid & ~(np.isfinite(w) & (w >= 0))).any():
        raise FitError("a weight is negative or not finite; expected finite weights >= 0", field="weights")
    if not 0 < level < 1:
        raise FitError(f"level={level!r}; expected a confidence level between 0 and 1", field="level")
    lin = _Linear(fix_top, fix_bottom, top_bounds, bottom_bounds)
    valid &= w > 0
    w = np.where(valid, w, 0.0)
    yz = np.where(valid, y, 0.0)
    xz = np.where(valid, x, 0.0)
    p = 1 + lin.n_free
    n = valid.sum(axis=1)
    with np.errstate(invalid="ignore"):
        pos = np.where(valid & (x > 0), x, np.nan)
        cmin = np.fmin.reduce(pos, axis=1) if x.shape[1] else np.full(ncur, np.nan)
        cmax = np.fmax.reduce(pos, axis=1) if x.shape[1] else np.full(ncur, np.nan)
    distinct = _count_distinct(np.where(valid, x, np.nan))
    all_nan = n == 0
    too_few = ~all_nan & ((n < p + 1) | (distinct < 3) | ~np.isfinite(cmin))
    ok = ~all_nan & ~too_few

    out = {k: np.full(ncur, np.nan) for k in ("ki", "lo", "hi", "se", "top", "bottom", "rss", "klo", "khi", "atb")}
    idx = np.flatnonzero(ok)
    if len(idx):
        if ki_bounds is not None:
            klo_v, khi_v = (float(v) for v in ki_bounds)
            if not (0 < klo_v < khi_v and np.isfinite(khi_v)):
                raise FitError(f"ki_bounds={ki_bounds!r}; expected 0 < low < high", field="ki_bounds")
            lk_lo, lk_hi = np.full(len(idx), np.log(klo_v)), np.full(len(idx), np.log(khi_v))
        else:
            ref_lo = np.where(e[idx] > 0, np.fmin(cmin[idx], e[idx]), cmin[idx])
            lk_lo = np.log(ref_lo) - K_DECADES * np.log(10.0)
            lk_hi = np.log(np.fmax(cmax[idx], e[idx])) + K_DECADES * np.log(10.0)
        res = _fit_chunks(idx, xz, yz, w, e, lk_lo, lk_hi, lin, n - p, level)
        if enzyme_error > 0:
            z = stats.norm.ppf(0.5 + level / 2.0)
            for factor in (np.exp(-z * enzyme_error), np.exp(z * enzyme_error)):
                alt = _fit_chunks(idx, xz, yz, w, e * factor, lk_lo, lk_hi, lin, n - p, level)
                res["lo"] = np.fmin(res["lo"], alt["lo"]) + 0 * alt["lo"]  # NaN (open) stays open
                res["hi"] = np.fmax(res["hi"], alt["hi"]) + 0 * alt["hi"]
        for k in res:
            out[k][idx] = res[k]
    df = np.where(ok, n - p, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rse = np.where(df > 0, np.sqrt(out["rss"] / np.where(df > 0, df, 1)), np.nan)
        sw = np.where(valid, w, 0.0).sum(axis=1)
        ybar = (w * yz).sum(axis=1) / np.where(sw > 0, sw, 1.0)
        rss0 = (w * (yz - ybar[:, None]) ** 2).sum(axis=1)
        r2 = np.where(ok & (rss0 > 0), 1.0 - out["rss"] / np.where(rss0 > 0, rss0, 1.0), np.nan)
        fstat = ((rss0 - out["rss"]) / max(p - 1, 1)) / (out["rss"] / np.where(df > 0, df, 1))
        fstat = np.where(out["rss"] <= 0, np.inf, np.maximum(fstat, 0.0))
        fpv = np.where(ok, stats.f.sf(fstat, max(p - 1, 1), np.where(df > 0, df, 1)), np.nan)
        fpv = np.where(ok & (rss0 <= 0), 1.0, fpv)
    results = MorrisonResults(enzyme=e, ki_app=out["ki"], ki_app_ci_low=out["lo"], ki_app_ci_high=out["hi"],
                              ki_app_log_se=out["se"], top=out["top"], bottom=out["bottom"], n=n, df=df,
                              rss=out["rss"], rse=rse, r2=r2, f_pvalue=fpv, k_lower=np.exp(out["klo"]),
                              k_upper=np.exp(out["khi"]), at_bound=out["atb"] == 1.0, level=level)
    results.flags = _flags(results, all_nan, too_few, ok, p)
    return results


KI_COLUMNS = ("atp", "km_atp", "ki", "ki_ci_low", "ki_ci_high")


def fit_morrison_table(df: pd.DataFrame, *, curve: str | list[str], conc: str, response: str,
                       enzyme: str | float, weights: str | None = None, atp: str | float | None = None,
                       km_atp: str | float | None = None, **options) -> pd.DataFrame:
    """Fit a long-form table (one row per point): one row per curve with keys + TABLE_COLUMNS (+ Ki columns).

    enzyme, atp, km_atp: a column (constant within each curve) or one number for all; with atp and km_atp the
    Cheng–Prusoff Ki and its CI are added. weights: a column or "1/y". options go to fit_morrison.
    """
    from labkit.analysis.fit import check_table, numeric_column

    keys = [curve] if isinstance(curve, str) else list(curve)
    if not keys:
        raise FitError("no curve column given; expected at least one", field="curve")
    clash = [k for k in keys if k in TABLE_COLUMNS + KI_COLUMNS]
    if clash:
        raise FitError(f"curve column {clash[0]!r} has the name of an output column; rename it", field=clash[0])
    if (atp is None) != (km_atp is None):
        raise FitError("give both atp and km_atp for Ki (Cheng–Prusoff), or neither", field="atp" if atp is None
                       else "km_atp")
    check_table(df, keys, conc, response, weights)
    x, y = numeric_column(df, conc), numeric_column(df, response)
    grouped = df.groupby(keys, sort=False, dropna=False)
    gid = grouped.ngroup().to_numpy()
    pos = grouped.cumcount().to_numpy()
    ncur = int(gid.max()) + 1 if len(gid) else 0
    width = int(pos.max()) + 1 if len(pos) else 1

    def per_curve(value, name):
        if isinstance(value, str):
            if value not in df.columns:
                raise FitError(f"column {value!r} not found; the table has columns {list(map(str, df.columns))}",
                               field=value)
            v = numeric_column(df, value)
            first = np.full(ncur, np.nan)
            first[gid[::-1]] = v[::-1]  # the first row of each curve
            differs = np.flatnonzero(~np.isclose(v, first[gid], rtol=1e-12, atol=0.0, equal_nan=True))
            if len(differs):
                i = int(differs[0])
                raise FitError(f"{name} {v[i]!r} differs from {first[gid[i]]!r} earlier in the same curve; "
                               f"expected one {name} per curve", field=value, line=i + 2)
            return first
        return np.full(ncur, float(value))

    e = per_curve(enzyme, "enzyme")
    cx, cy = np.full((ncur, width), np.nan), np.full((ncur, width), np.nan)
    cx[gid, pos], cy[gid, pos] = x, y
    cw = None
    if weights is not None:
        cw = np.zeros((ncur, width))
        if weights.lower().replace(" ", "") == "1/y":
            ok = np.isfinite(x) & np.isfinite(y)
            bad = ok & ~(y > 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise FitError(f"weights 1/y need a positive response, found {y[i]!r}", field=response, line=i + 2)
            cw[gid, pos] = np.where(ok, 1.0 / np.where(y > 0, y, 1.0), 0.0)
        else:
            cw[gid, pos] = np.nan_to_num(numeric_column(df, weights), nan=0.0)
    res = fit_morrison(cx, cy, e, weights=cw, **options)
    first = df.drop_duplicates(subset=keys)[keys] if ncur else pd.DataFrame(columns=keys)
    out = pd.concat([first.reset_index(drop=True), res.to_frame()], axis=1)
    if atp is not None:
        a, k = per_curve(atp, "atp"), per_curve(km_atp, "km_atp")
        ki, lo, hi = res.ki(a, k)
        out = out.assign(atp=a, km_atp=k, ki=ki, ki_ci_low=lo, ki_ci_high=hi)
    return out


class _Linear:
    """top and bottom: free, fixed or box-bounded; solved exactly for each Ki_app (variable projection)."""

    def __init__(self, fix_top, fix_bottom, top_bounds, bottom_bounds):
        self.fix_top = None if fix_top is None else float(fix_top)
        self.fix_bottom = None if fix_bottom is None else float(fix_bottom)
        for name, v in (("fix_top", self.fix_top), ("fix_bottom", self.fix_bottom)):
            if v is not None and not np.isfinite(v):
                raise FitError(f"{name}={v!r}; expected a finite number", field=name)
        self.top_b = _bounds("top_bounds", top_bounds)
        self.bot_b = _bounds("bottom_bounds", bottom_bounds)
        self.n_free = (self.fix_top is None) + (self.fix_bottom is None)

    def solve(self, m, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(top, bottom, rss) minimising sum w (y - bottom - (top - bottom) m)^2 along the last axis."""
        a, b = 1.0 - m, m  # y ~ bottom * a + top * b
        ft, fb = self.fix_top, self.fix_bottom
        if ft is not None and fb is not None:
            top = np.full(m.shape[:-1], ft)
            bot = np.full(m.shape[:-1], fb)
        elif ft is not None:
            top = np.full(m.shape[:-1], ft)
            bot = np.clip(_one(a, y - ft * b, w), *self.bot_b)
        elif fb is not None:
            bot = np.full(m.shape[:-1], fb)
            top = np.clip(_one(b, y - fb * a, w), *self.top_b)
        else:
            top, bot = self._two(a, b, y, w)
        r = y - bot[..., None] * a - top[..., None] * b
        return top, bot, (w * r * r).sum(axis=-1)

    def _two(self, a, b, y, w):
        saa, sbb, sab = (w * a * a).sum(-1), (w * b * b).sum(-1), (w * a * b).sum(-1)
        say, sby = (w * a * y).sum(-1), (w * b * y).sum(-1)
        det = saa * sbb - sab * sab
        with np.errstate(divide="ignore", invalid="ignore"):
            bot = (say * sbb - sby * sab) / det
            top = (sby * saa - say * sab) / det
        singular = ~(np.abs(det) > 1e-12 * np.maximum(saa * sbb, 1e-300))
        # singular (no curvature in the design, e.g. Ki far off the range): one shared level
        lvl = (say + sby) / np.maximum(saa + sbb + 2 * sab, 1e-300)
        bot = np.where(singular, lvl, bot)
        top = np.where(singular, lvl, top)
        (tlo, thi), (blo, bhi) = self.top_b, self.bot_b
        if np.isinf([tlo, thi, blo, bhi]).all():
            return top, bot
        feasible = (top >= tlo) & (top <= thi) & (bot >= blo) & (bot <= bhi)
        best_t, best_b = top.copy(), bot.copy()
        best = np.where(feasible, _rss2(a, b, y, w, top, bot), np.inf)
        cands = []
        for tv in (tlo, thi):  # top on a bound, bottom re-optimized within its bounds
            if np.isfinite(tv):
                cands.append((np.full_like(top, tv), np.clip(_one(a, y - tv * b, w), blo, bhi)))
        for bv in (blo, bhi):
            if np.isfinite(bv):
                cands.append((np.clip(_one(b, y - bv * a, w), tlo, thi), np.full_like(bot, bv)))
        for tc, bc in cands:
            r = _rss2(a, b, y, w, tc, bc)
            better = r < best
            best = np.where(better, r, best)
            best_t = np.where(better, tc, best_t)
            best_b = np.where(better, bc, best_b)
        return best_t, best_b


def _bounds(name, pair) -> tuple[float, float]:
    if pair is None:
        return (-np.inf, np.inf)
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise FitError(f"{name}={pair!r}; expected (low, high) numbers", field=name) from None
    if not lo <= hi:
        raise FitError(f"{name}=({lo}, {hi}); expected low <= high", field=name)
    return lo, hi


def _one(basis, target, w) -> np.ndarray:
    """Least-squares coefficient of one basis vector along the last axis."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (w * basis * target).sum(-1) / np.maximum((w * basis * basis).sum(-1), 1e-300)


def _rss2(a, b, y, w, top, bot) -> np.ndarray:
    r = y - bot[..., None] * a - top[..., None] * b
    return (w * r * r).sum(-1)


def _fit_chunks(idx, x, y, w, e, lk_lo, lk_hi, lin: _Linear, df, level) -> dict:
    """_fit over chunks of curves (bounded memory), in threads for large batches; results do not depend on it."""
    import os

    parts = [np.arange(i, min(i + CHUNK, len(idx))) for i in range(0, len(idx), CHUNK)]

    def run(part):
        sel = idx[part]
        return _fit(x[sel], y[sel], w[sel], e[sel], lk_lo[part], lk_hi[part], lin, df[sel], level)

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    threads = max(1, min(cores, THREADS_MAX, len(parts)))
    if threads == 1:
        outs = [run(part) for part in parts]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            outs = list(pool.map(run, parts))
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}


def _fit(x, y, w, e, lk_lo, lk_hi, lin: _Linear, df, level) -> dict:
    """Grid + golden section on ln Ki_app with the linear parameters profiled out; profile CI by regula falsi."""
    from scipy import stats

    def prof(lk):  # lk: (n,) or (n, g) -> rss of the same shape
        lk2 = lk if lk.ndim == 2 else lk[:, None]
        m = fractional_activity(x[:, None, :], e[:, None, None], np.exp(lk2)[:, :, None])
        _, _, r = lin.solve(m, y[:, None, :], w[:, None, :])
        return r if lk.ndim == 2 else r[:, 0]

    ncur = len(y)
    rows = np.arange(ncur)
    t = np.linspace(0.0, 1.0, GRID)
    grid = lk_lo[:, None] + (lk_hi - lk_lo)[:, None] * t[None, :]
    with np.errstate(all="ignore"):
        rss_grid = prof(grid)
    rss_grid = np.where(np.isfinite(rss_grid), rss_grid, np.inf)
    j = np.argmin(rss_grid, axis=1)
    a = grid[rows, np.maximum(j - 1, 0)]
    b = grid[rows, np.minimum(j + 1, GRID - 1)]
    # golden-section search in [a, b] (the grid bracket around the minimum)
    g = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - g * (b - a), a + g * (b - a)
    with np.errstate(all="ignore"):
        fc, fd = prof(c), prof(d)
        for _ in range(GOLDEN_ITER):
            left = fc < fd  # the minimum lies in [a, d]: drop (d, b]; else drop [a, c)
            a, b = np.where(left, a, c), np.where(left, d, b)
            c_new = np.where(left, b - g * (b - a), d)
            d_new = np.where(left, c, a + g * (b - a))
            fe = prof(np.where(left, c_new, d_new))  # one new point per curve and iteration
            fc, fd = np.where(left, fe, fd), np.where(left, fc, fe)
            c, d = c_new, d_new
    lk = 0.5 * (a + b)
    with np.errstate(all="ignore"):
        rss_min = prof(lk)
    # the grid point can beat the refined one at a bound (monotone profile): keep the better
    gbest = rss_grid[rows, j]
    use_grid = gbest < rss_min
    lk = np.where(use_grid, grid[rows, j], lk)
    rss_min = np.where(use_grid, gbest, rss_min)
    with np.errstate(all="ignore"):
        m = fractional_activity(x, e[:, None], np.exp(lk)[:, None])
        top, bot, _ = lin.solve(m, y, w)
        # Wald SE of ln Ki_app from the profile curvature (central second difference)
        h = 1e-3 * np.maximum(1.0, np.abs(lk))
        curv = (prof(lk + h) - 2 * rss_min + prof(lk - h)) / (h * h)
        sigma2 = rss_min / np.where(df > 0, df, np.nan)
        se = np.sqrt(2.0 * sigma2 / curv)
        se = np.where(np.isfinite(se) & (curv > 0), se, np.nan)
        fq = stats.f.ppf(level, 1, np.where(df > 0, df, np.nan))
        thresh = rss_min * (1.0 + fq / np.where(df > 0, df, np.nan)) + 1e-300
    lo = _crossing(prof, grid, rss_grid, lk, rss_min, thresh, side=-1)
    hi = _crossing(prof, grid, rss_grid, lk, rss_min, thresh, side=+1)
    tol = 1e-3 * (lk_hi - lk_lo) / (GRID - 1)  # the golden search ends within ~1e-6 grid steps of a bound
    at_lo, at_hi = lk <= lk_lo + tol, lk >= lk_hi - tol
    lo = np.where(at_lo, np.nan, lo)
    hi = np.where(at_hi, np.nan, hi)
    return dict(ki=np.exp(lk), lo=np.exp(lo), hi=np.exp(hi), se=se, top=top, bottom=bot, rss=rss_min,
                klo=lk_lo, khi=lk_hi, atb=(at_lo | at_hi).astype(float))


def _crossing(prof, grid, rss_grid, lk, rss_min, thresh, side: int) -> np.ndarray:
    """ln K where the profile RSS crosses thresh on one side of the minimum lk; NaN if it does not within range."""
    ncur, ng = grid.shape
    rows = np.arange(ncur)
    beyond = (grid - lk[:, None]) * side > 0
    above = beyond & (rss_grid > thresh[:, None])
    if side > 0:
        k = np.where(above.any(axis=1), np.argmax(above, axis=1), -1)
    else:
        k = np.where(above.any(axis=1), ng - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    found = k >= 0
    kk = np.where(found, k, 0)
    outer = grid[rows, kk]
    prev = grid[rows, np.clip(kk - side, 0, ng - 1)]
    inner = np.where((prev - lk) * side > 0, prev, lk)  # between the minimum and the first grid point above
    f_in = np.where((prev - lk) * side > 0, rss_grid[rows, np.clip(kk - side, 0, ng - 1)], rss_min) - thresh
    f_out = rss_grid[rows, kk] - thresh
    # Illinois (modified regula falsi): a stays below the threshold, b above; superlinear and bracketed
    a, b, fa, fb = inner, outer, np.minimum(f_in, 0.0), f_out
    last = np.zeros(ncur, dtype=int)
    c = 0.5 * (a + b)
    with np.errstate(all="ignore"):
        for _ in range(ROOT_ITER):
            denom = fb - fa
            c = np.where(np.isfinite(denom) & (denom > 0), b - fb * (b - a) / denom, 0.5 * (a + b))
            c = np.clip(c, np.minimum(a, b), np.maximum(a, b))
            fc = prof(c) - thresh
            up = fc > 0
            fa = np.where(up & (last == 1), 0.5 * fa, fa)
            fb = np.where(~up & (last == -1), 0.5 * fb, fb)
            b, fb = np.where(up, c, b), np.where(up, fc, fb)
            a, fa = np.where(up, a, c), np.where(up, fa, fc)
            last = np.where(up, 1, -1)
    return np.where(found, c, np.nan)


def _count_distinct(x: np.ndarray) -> np.ndarray:
    s = np.sort(x, axis=1)
    fin = np.isfinite(s)
    new = fin.copy()
    new[:, 1:] &= s[:, 1:] != s[:, :-1]
    return new.sum(axis=1)


def _flags(res: MorrisonResults, all_nan, too_few, ok, p) -> list[str]:
    with np.errstate(invalid="ignore"):
        flat = ok & ~(res.f_pvalue <= FLAT_P)
        poor = ok & ~flat & (res.r2 < R2_POOR)
        at_bound = ok & res.at_bound
        ci_open = ok & (np.isnan(res.ki_app_ci_low) | np.isnan(res.ki_app_ci_high))
    cols = [("all_nan", all_nan), ("too_few_points", too_few), ("flat", flat), ("poor_fit", poor),
            ("at_bound", at_bound), ("ci_open", ci_open)]
    out = [""] * len(res)
    for i in np.flatnonzero(np.any([mask for _, mask in cols], axis=0)):
        out[i] = ";".join(name for name, mask in cols if mask[i])
    return out
