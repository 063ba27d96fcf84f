"""Growth-rate inhibition (GR) metrics from a time-zero read (Hafner, Niepel, Chung & Sorger 2016, Nat Methods
13:521; definitions as grcalculator.org / the GRmetrics package).

With x(c) the cell number after the assay at concentration c, x_ctrl that of the vehicle wells and x0 that at the
time of dosing (the time-zero plate):

    GR(c) = 2 ^ ( log2(x(c) / x0) / log2(x_ctrl / x0) ) - 1

1 = no effect, 0 = complete cytostasis (no net growth), -1 = every cell killed. Cell numbers are the luminescence
minus the background: the blank (no-cell) wells' mean when the layout has blanks (per plate and cell line, as the
normalization uses them; the time-zero plate takes the mean of all of that cell line's blanks), else 0 (a kill
control is cells, not background). A well whose signal is at or below background gets GR = -1 (counted in a note).

Per compound x cell line the GR values are fitted to GR(c) = GRinf + (1 - GRinf) / (1 + (c / GEC50)^h) (labkit's
LL.4 fitter with the top fixed at 1; GRinf within [-1, 1], h within [0.1, 5], as GRmetrics), giving

- ``gr50``: the concentration where the fitted curve crosses GR = 0.5, GEC50 ((1 - GRinf)/(0.5 - GRinf) - 1)^(1/h);
  NaN (n.d.) when GRinf >= 0.5 (the curve never gets there) or the fit is flat;
- ``gr_inf``, ``gec50``, ``gr_hill``: the fit's parameters;
- ``gr_max``: the mean GR value at the highest tested concentration (measured, as GRmetrics);
- ``gr_aoc``: the area over the GR curve, the mean GR per tested concentration integrated as 1 - GR by the
  trapezoid rule over log10 concentration and divided by the log10 range (as GRmetrics): 0 = no effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

T0_ROLE = "time_zero"
FIT_ROLES = ("sample", "reference")
GR_BOUNDS = {"c": (-1.0, 1.0), "b": (0.1, 5.0)}  # GRinf, Hill (GRmetrics' bounds)
GR_COLUMNS = ["gr50_M", "gr50_nM", "gr_max", "gr_aoc", "gr_inf", "gec50_M", "gr_hill", "gr_r2", "gr_n", "gr_flags"]


@dataclass
class GRResult:
    """GR value per well (`gr` column, NaN where none), one row of metrics per curve, and notes."""

    data: pd.DataFrame
    metrics: pd.DataFrame
    time_zero: pd.DataFrame  # per cell line: t0 wells, mean signal, background, x0
    notes: list[str] = field(default_factory=list)


def gr_value(x: np.ndarray | float, x0: np.ndarray | float, xctrl: np.ndarray | float) -> np.ndarray:
    """GR(c) = 2^(log2(x/x0) / log2(xctrl/x0)) - 1 (background-free cell numbers); -1 where x <= 0."""
    x, x0, xctrl = (np.asarray(v, dtype=float) for v in (x, x0, xctrl))
    with np.errstate(divide="ignore", invalid="ignore"):
        gr = np.exp2(np.log2(x / x0) / np.log2(xctrl / x0)) - 1.0
    return np.where(x <= 0, -1.0, gr)


def gr50_of(gr_inf: np.ndarray, gec50: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Where GRinf + (1 - GRinf)/(1 + (c/GEC50)^h) = 0.5; NaN when GRinf >= 0.5."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = gec50 * ((1.0 - gr_inf) / (0.5 - gr_inf) - 1.0) ** (1.0 / h)
    return np.where(gr_inf < 0.5, out, np.nan)


def has_time_zero(data: pd.DataFrame) -> bool:
    """Whether the joined table holds time-zero wells with a value."""
    return bool(((data["role"] == T0_ROLE) & np.isfinite(data["value"].to_numpy(float))).any())


def compute_gr(data: pd.DataFrame, controls: pd.DataFrame, group_col: str, low_role: str) -> GRResult:
    """GR value of every sample / reference well and the GR metrics of every compound x cell line curve.

    data: the normalized table (value, role, compound, conc_M, plate, group column, excluded); controls: the
    control statistics the normalization used (plate, group, role, mean). low_role: the 0 % control ('blank'
    means background; anything else: no background is subtracted).
    """
    notes: list[str] = []
    out = data.copy()
    out["gr"] = np.nan
    t0 = out[(out["role"] == T0_ROLE) & (out["excluded"] == "")]
    bg_of: dict[tuple[str, str], float] = {}
    bg_line: dict[str, float] = {}
    if low_role == "blank":
        blank = controls[controls["role"] == "blank"]
        for r in blank.itertuples(index=False):
            bg_of[(str(r.plate), str(getattr(r, group_col)))] = float(r.mean)
        for line, sub in out[(out["role"] == "blank") & (out["excluded"] == "")].groupby(group_col):
            bg_line[str(line)] = float(sub["value"].mean())
        if "" in bg_line:  # plate-shared blanks serve every cell line without its own
            for line in t0[group_col].unique():
                bg_line.setdefault(str(line), bg_line[""])
    rows = []
    x0_of: dict[str, float] = {}
    for line, sub in t0.groupby(group_col, sort=True):
        line = str(line)
        mean = float(sub["value"].mean())
        bg = bg_line.get(line, 0.0)
        x0 = mean - bg
        rows.append({group_col: line, "plate": ";".join(sorted(set(sub["plate"]))), "wells": int(len(sub)),
                     "mean": mean, "cv_pct": float(100 * sub["value"].std(ddof=1) / mean) if len(sub) > 1 and mean
                     else float("nan"), "background": bg, "x0": x0})
        if x0 > 0:
            x0_of[line] = x0
        else:
            notes.append(f"time zero, {group_col.replace('_', ' ')} {line}: mean signal {mean:.4g} is not above the "
                         f"background {bg:.4g}; no GR values")
    t0_table = pd.DataFrame(rows, columns=[group_col, "plate", "wells", "mean", "cv_pct", "background", "x0"])
    veh = controls[controls["role"] == "vehicle"]
    xctrl_of = {(str(r.plate), str(getattr(r, group_col))): float(r.mean) for r in veh.itertuples(index=False)}
    series = (out["role"].isin(FIT_ROLES) & (out["excluded"] == "")).to_numpy()
    lines = out[group_col].astype(str).to_numpy()
    plates = out["plate"].astype(str).to_numpy()
    x = out["value"].to_numpy(float)
    gr = np.full(len(out), np.nan)
    no_growth: set[str] = set()
    n_floor = 0
    for i in np.flatnonzero(series):
        line, plate = lines[i], plates[i]
        if line not in x0_of or (plate, line) not in xctrl_of:
            continue
        bg = bg_of.get((plate, line), bg_of.get((plate, ""), 0.0)) if low_role == "blank" else 0.0
        xc = xctrl_of[(plate, line)] - bg
        if not xc > x0_of[line]:
            no_growth.add(f"{plate}/{line}")
            continue
        xi = x[i] - bg
        n_floor += int(xi <= 0)
        gr[i] = gr_value(xi, x0_of[line], xc)
    out["gr"] = gr
    if no_growth:
        notes.append(f"no GR values where the vehicle wells did not grow beyond time zero: {', '.join(sorted(no_growth))}")
    if n_floor:
        notes.append(f"{n_floor} well(s) at or below background: GR = -1 (every cell killed)")
    metrics = fit_gr(out, group_col)
    return GRResult(out, metrics, t0_table, notes)


def fit_gr(data: pd.DataFrame, group_col: str) -> pd.DataFrame:
    """Fit the GR curve of every compound x group with GR values; one row of GR metrics each (GR_COLUMNS)."""
    from labkit.analysis.fit import fit_curves

    pts = data[data["role"].isin(FIT_ROLES) & np.isfinite(data["gr"].to_numpy(float))]
    keys, xs, ys = [], [], []
    for key, sub in pts.groupby(["compound", group_col], sort=True):
        keys.append(key)
        xs.append(sub["conc_M"].to_numpy(float))
        ys.append(sub["gr"].to_numpy(float))
    cols = ["compound", group_col, *GR_COLUMNS]
    if not keys:
        return pd.DataFrame(columns=cols)
    width = max(len(v) for v in xs)
    cx = np.full((len(keys), width), np.nan)
    cy = np.full((len(keys), width), np.nan)
    for i, (a, b) in enumerate(zip(xs, ys)):
        cx[i, :len(a)], cy[i, :len(b)] = a, b
    res = fit_curves(cx, cy, fix_top=1.0, bounds=GR_BOUNDS)
    b, c, e = res.params[:, 0], res.params[:, 1], res.params[:, 3]
    flat = np.array(["flat" in f for f in res.flags], dtype=bool)
    gr50 = np.where(flat, np.nan, gr50_of(c, e, b))
    rows = []
    for i, (comp, group) in enumerate(keys):
        gmax, aoc = _observed(xs[i], ys[i])
        rows.append({"compound": comp, group_col: group, "gr50_M": gr50[i], "gr50_nM": gr50[i] * 1e9,
                     "gr_max": gmax, "gr_aoc": aoc, "gr_inf": c[i], "gec50_M": e[i], "gr_hill": b[i],
                     "gr_r2": res.r2[i], "gr_n": int(res.n[i]), "gr_flags": res.flags[i]})
    return pd.DataFrame(rows, columns=cols)


def _observed(conc: np.ndarray, gr: np.ndarray) -> tuple[float, float]:
    """(GRmax, GR_AOC) from the measured GR values: mean per concentration over the positive concentrations."""
    ok = np.isfinite(conc) & np.isfinite(gr) & (conc > 0)
    if not ok.any():
        return float("nan"), float("nan")
    levels = np.unique(conc[ok])
    means = np.array([gr[ok][conc[ok] == lv].mean() for lv in levels])
    gmax = float(means[-1])
    if len(levels) < 2:
        return gmax, float("nan")
    lx = np.log10(levels)
    aoc = float(np.sum((1.0 - (means[1:] + means[:-1]) / 2.0) * np.diff(lx)) / (lx[-1] - lx[0]))
    return gmax, aoc


def gr_png(result: Any, path: Any) -> Any:
    """One panel per compound x group: GR values, the fitted GR curve and GR50 (PNG at path; returns the path)."""
    from pathlib import Path

    from labkit.analysis.plots import _figure, _save

    gr = result.gr
    gcol = result.group_col
    m = gr.metrics
    n = max(len(m), 1)
    ncol = min(n, 3)
    nrow = (n + ncol - 1) // ncol
    fig = _figure(3.4 * ncol, 2.8 * nrow)
    d = gr.data
    for k, r in enumerate(m.to_dict("records")):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        pts = d[d["role"].isin(FIT_ROLES) & (d["compound"] == r["compound"]) & (d[gcol] == r[gcol])]
        pts = pts[np.isfinite(pts["gr"].to_numpy(float)) & (pts["conc_M"] > 0)]
        ax.scatter(pts["conc_M"], pts["gr"], s=12, facecolors="none", edgecolors="#1f77b4")
        if len(pts):
            lo, hi = float(pts["conc_M"].min()), float(pts["conc_M"].max())
            xs = np.logspace(np.log10(lo) - 0.3, np.log10(hi) + 0.3, 200)
            if np.isfinite(r["gec50_M"]):
                ys = r["gr_inf"] + (1 - r["gr_inf"]) / (1 + (xs / r["gec50_M"]) ** r["gr_hill"])
                ax.plot(xs, ys, color="#1f77b4")
            if np.isfinite(r["gr50_M"]):
                ax.plot([r["gr50_M"]], [0.5], marker="D", color="#d62728", ms=5)
        ax.set_xscale("log")
        ax.axhline(0.5, ls=":", color="grey", lw=0.8)
        ax.axhline(0.0, ls=":", color="black", lw=0.8)
        ax.set_ylim(-1.05, 1.3)
        g50 = f"GR50 {r['gr50_nM']:.3g} nM" if np.isfinite(r["gr50_nM"]) else "GR50 n.d."
        ax.set_title(f"{r['compound']} · {r[gcol]}\n{g50}, GRmax {r['gr_max']:.2f}", fontsize=8)
        ax.set_xlabel("concentration (M)", fontsize=8)
        ax.set_ylabel("GR value", fontsize=8)
        ax.tick_params(labelsize=7)
    return _save(fig, Path(path))
