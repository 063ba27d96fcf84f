"""Dose-response and plate figures as PNG (matplotlib Agg, imported lazily; no pyplot, no global state).

curve_png:   one curve — replicate points, mean ± SD, fitted LL.4, IC50 marker and its 95 % CI band,
             log concentration axis in nM with zero-dose points on a broken-axis stub labelled 0.
grid_png:    all curves as small multiples with a shared y axis.
heatmap_png: one plate — raw signal, normalized response and deviation from expectation (fit for series
             wells, 100 / 0 for the controls) side by side; the deviation panel shows edge effects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from labkit.tables import PLATE_FORMATS, row_index, row_letters

if TYPE_CHECKING:  # pragma: no cover - typing only (matplotlib is imported when a figure is drawn)
    from matplotlib.typing import RcKeyType

# a quiet, print-friendly palette
INK = "#222222"
FIT = "#1f4e79"
POINT = "#5b8db8"
MEAN = "#1f4e79"
IC50 = "#c0392b"
BAND = "#f0b27a"
EXCLUDED = "#c0392b"
OUTLIER = "#d35400"  # ROUT outliers
REF_LINE = "#9a9a9a"
REPLICATE_MARKERS = ("o", "s", "^", "D", "v", "P")
ROLE_LETTER = {"vehicle": "V", "positive": "P", "no_enzyme": "N", "total_counts": "C", "blank": "B", "kill": "K",
               "reference": "R"}

RC: dict[RcKeyType, Any] = {  # matplotlib's rcParams for every figure
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "legend.fontsize": 7, "axes.linewidth": 0.8,
    "xtick.direction": "out", "ytick.direction": "out", "axes.spines.top": False, "axes.spines.right": False,
    "svg.hashsalt": "labkit", "path.simplify": True,
}
DPI = 150
PNG_META = {"Software": None}


def _figure(width: float, height: float,
            layout: Literal["constrained", "compressed", "tight"] | None = "constrained"):  # noqa: ANN202
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata=PNG_META, facecolor="white")
    return path


def _num(fit: Mapping, key: str) -> float:
    try:
        v = float(fit.get(key, float("nan")))
    except (TypeError, ValueError):
        return float("nan")
    return v


def format_nm(x_m: float) -> str:
    """A molar concentration as nM text with 3 significant figures ('1.73', '0.0412', '1.2e+04')."""
    if not np.isfinite(x_m):
        return "n/a"
    v = float(f"{x_m * 1e9:.3g}")
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return text.replace("-", "−")


NO_IC50_FLAGS = ("flat", "all_nan", "too_few_points")


def _no_ic50(fit: Mapping) -> str | None:
    """The flag that makes an IC50 meaningless (no effect, nothing fitted), else None."""
    flags = str(fit.get("flags", "") or "").split(";")
    return next((f for f in NO_IC50_FLAGS if f in flags), None)


def ic50_text(fit: Mapping) -> str:
    """'IC50 1.73 nM (95% CI 1.41–2.12)' from a fit row."""
    e = _num(fit, "ic50")
    why = _no_ic50(fit)
    if why == "flat":
        return "no effect (flat): IC50 not determined"
    if why or not np.isfinite(e):
        return "IC50 not determined"
    lo, hi = _num(fit, "ic50_ci_low"), _num(fit, "ic50_ci_high")
    ci = f" (95% CI {format_nm(lo)}–{format_nm(hi)})" if np.isfinite(lo) and np.isfinite(hi) else " (CI n/a)"
    return f"IC50 {format_nm(e)} nM{ci}"


def _x_layout(conc_m: np.ndarray) -> tuple[float, float, float, float, float | None]:
    """(lowest, highest positive conc in nM, left, right x limit, x position of the zero-dose stub or None)."""
    pos = conc_m[np.isfinite(conc_m) & (conc_m > 0)] * 1e9
    lo, hi = (float(pos.min()), float(pos.max())) if pos.size else (0.1, 1000.0)
    has_zero = bool(np.any(conc_m == 0))
    x0 = lo / 10 ** 1.6 if has_zero else None
    left = (x0 / 10 ** 0.35) if x0 else lo / 10 ** 0.45
    return lo, hi, left, hi * 10 ** 0.45, x0


def _ylim(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    lo = min(-15.0, float(v.min()) - 8) if v.size else -15.0
    hi = max(125.0, float(v.max()) + 8) if v.size else 125.0
    return lo, hi


def _format_x(ax, left: float, right: float, x0: float | None, lo: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.set_xlim(left, right)
    majors = [10.0 ** k for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(right)) + 1)]
    majors = [m for m in majors if lo / 10 ** 0.5 <= m <= right]
    ticks = ([x0] if x0 else []) + majors
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "0" if x0 and abs(v - x0) < 1e-12 * max(v, 1e-300)
                                               else f"{v:g}"))
    minor = LogLocator(base=10, subs=[float(k) for k in range(2, 10)])
    if x0:
        cut = math.sqrt(x0 * lo)
        all_minor = [m for m in minor.tick_values(left, right) if m > cut * 1.3]
        ax.xaxis.set_minor_locator(FixedLocator(all_minor))
    else:
        ax.xaxis.set_minor_locator(minor)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if x0:  # axis break marks between the zero-dose stub and the series
        cut = math.sqrt(x0 * lo)
        kw = dict(transform=ax.get_xaxis_transform(), color=INK, lw=0.8, clip_on=False)
        for dx in (0.93, 1.07):
            ax.plot([cut * dx / 1.08, cut * dx * 1.08], [-0.02, 0.02], **kw)


def _draw_curve(ax, points: pd.DataFrame, fit: Mapping | None, ylabel: str, *, compact: bool,
                ylim: tuple[float, float] | None = None) -> None:
    from labkit.analysis.fit import ll4

    conc = points["conc_M"].to_numpy(float)
    resp = points["response"].to_numpy(float)
    lo, hi, left, right, x0 = _x_layout(conc)
    xs = np.where(conc > 0, conc * 1e9, x0 if x0 else np.nan)
    ok = np.isfinite(resp) & np.isfinite(xs)
    ylo, yhi = ylim or _ylim(resp)
    for level in (0.0, 100.0):
        ax.axhline(level, color=REF_LINE, lw=0.6, ls=(0, (2, 2)), zorder=0)
    # CI band and IC50 marker first so the data sit on top
    b, c, d, e = (_num(fit, k) for k in ("b", "c", "d", "e")) if fit is not None else (np.nan,) * 4
    have_fit = all(np.isfinite(v) for v in (b, c, d, e)) and e > 0
    e_nm = e * 1e9 if have_fit else np.nan
    show_ic50 = have_fit and fit is not None and _no_ic50(fit) is None
    if have_fit and fit is not None:
        ci_lo, ci_hi = _num(fit, "ic50_ci_low") * 1e9, _num(fit, "ic50_ci_high") * 1e9
        band_left = lo / 10 ** 0.45 if x0 else left
        if show_ic50 and np.isfinite(ci_lo) and np.isfinite(ci_hi) and 0 < ci_lo < ci_hi:
            a, z = max(ci_lo, band_left), min(ci_hi, right)
            if z > a:
                ax.axvspan(a, z, color=BAND, alpha=0.35, lw=0, zorder=0.5, label="IC50 95% CI")
        xx = np.logspace(math.log10(lo) - 0.45, math.log10(right), 300)
        label = f"{fit.get('model') or 'LL.4'} fit" if isinstance(fit.get("model"), str) else "LL.4 fit"
        ax.plot(xx, ll4(xx, b, c, d, e_nm), color=FIT, lw=1.6, zorder=3, label=label)
        if show_ic50 and left < e_nm < right:
            y50 = (c + d) / 2
            ax.plot([e_nm, e_nm], [ylo, y50], color=IC50, lw=0.9, ls=(0, (4, 2)), zorder=2.5)
            ax.plot([e_nm], [y50], marker="D", ms=4.5 if compact else 6, color=IC50, mec="white", mew=0.7,
                    zorder=5, ls="none", label="IC50")
    # outliers (ROUT): a distinct marker, left out of the fit and of mean ± SD, never hidden
    out = points["outlier"].fillna(False).to_numpy(bool) if "outlier" in points else np.zeros(len(points), bool)
    if (ok & out).any():
        ax.plot(xs[ok & out], resp[ok & out], ls="none", marker="X", ms=5 if compact else 7, color=OUTLIER,
                mec="white", mew=0.5, zorder=7, label="outlier (not fitted)")
    ok = ok & ~out
    # replicate scatter
    reps = points["replicate"].to_numpy() if "replicate" in points else np.ones(len(points))
    for k, rep in enumerate(sorted(set(reps[ok].tolist()))):
        m = ok & (reps == rep)
        ax.plot(xs[m], resp[m], ls="none", marker=REPLICATE_MARKERS[k % len(REPLICATE_MARKERS)],
                ms=3.2 if compact else 4.2, mfc="none", mec=POINT, mew=0.9, alpha=0.9, zorder=4,
                label=f"replicate {rep}")
    # mean ± SD per concentration
    if ok.any():
        tab = pd.DataFrame({"x": xs[ok], "y": resp[ok]}).groupby("x")["y"].agg(["mean", "std", "count"])
        sd = tab["std"].where(tab["count"] > 1, 0.0).fillna(0.0)
        ax.errorbar(tab.index.to_numpy(), tab["mean"], yerr=sd, ls="none", marker="o",
                    ms=3.4 if compact else 4.6, color=MEAN, mec="white", mew=0.5, elinewidth=0.9, capsize=2,
                    zorder=6, label="mean ± SD")
    # excluded wells (flag != ok): ticks at the bottom, never plotted as values
    exc = points["excluded"].astype(str).to_numpy() if "excluded" in points else np.array([""] * len(points))
    bad = (exc != "") & np.isfinite(xs)
    if bad.any():
        ax.plot(xs[bad], np.full(bad.sum(), 0.035), ls="none", marker="x", ms=4.5, mew=1.1, color=EXCLUDED,
                transform=ax.get_xaxis_transform(), zorder=7, clip_on=False,
                label=f"excluded ({', '.join(sorted(set(exc[bad])))})")
    ax.set_ylim(ylo, yhi)
    _format_x(ax, left, right, x0, lo)
    ax.set_xlabel("concentration (nM)")
    ax.set_ylabel(ylabel)
    ax.tick_params(length=3, width=0.7)
    ax.tick_params(which="minor", length=1.8, width=0.5)


def curve_png(points: pd.DataFrame, fit: Mapping | None, path: str | Path, *, title: str,
              ylabel: str = "% activity") -> Path:
    """One dose-response curve as a PNG: points (columns conc_M, response, replicate, excluded) and a fit row."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure(4.6, 3.5, layout=None)  # fixed margins: fast, and every curve PNG has the same geometry
        fig.subplots_adjust(left=0.125, right=0.975, bottom=0.13, top=0.84)
        ax = fig.subplots()
        _draw_curve(ax, points, fit, ylabel, compact=False)
        sub = ic50_text(fit) if fit is not None else "not fitted"
        if fit is not None:
            hill, r2 = _num(fit, "hill"), _num(fit, "r2")
            if np.isfinite(hill) and np.isfinite(r2):
                sub += f"\nHill {hill:.2f} · R² {r2:.3f}".replace("-", "−")
            flags = str(fit.get("flags", "") or "")
            if flags and flags != "nan":
                sub += f" · flags: {flags.replace(';', ', ')}"
        fig.suptitle(title, x=0.02, y=0.985, ha="left", va="top", fontweight="bold", fontsize=10)
        ax.set_title(sub, loc="left", fontsize=7.5, color="#444444")
        ax.legend(loc="best", frameon=False, handlelength=1.3, borderaxespad=0.3, labelspacing=0.3,
                  fontsize=6.5)
        return _save(fig, Path(path))


def grid_png(curves: Sequence[tuple[pd.DataFrame, Mapping | None, str]], path: str | Path, *,
             ylabel: str = "% activity", ncols: int = 4) -> Path:
    """All curves as small multiples (points, fit, IC50 and CI band) with a shared y range."""
    import matplotlib

    n = max(len(curves), 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    allv = np.concatenate([p["response"].to_numpy(float) for p, _, _ in curves]) if curves else np.array([])
    ylim = _ylim(allv)
    with matplotlib.rc_context(RC):
        width, height = 2.75 * ncols, 2.35 * nrows + 0.1
        fig = _figure(width, height, layout=None)  # fixed margins (in inches): constrained layout is slow here
        gap_w, gap_h = 0.62, 0.92  # inches between panels: y tick labels + label; x label + next titles
        ax_w = (width - 0.68 - (ncols - 1) * gap_w) / ncols
        ax_h = (height - 0.82 - (nrows - 1) * gap_h) / nrows
        fig.subplots_adjust(left=0.56 / width, right=1 - 0.12 / width, top=1 - 0.42 / height,
                            bottom=0.40 / height, wspace=gap_w / ax_w, hspace=gap_h / ax_h)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, (points, fit, title) in zip(axes, curves):
            _draw_curve(ax, points, fit, ylabel, compact=True, ylim=ylim)
            ax.set_title(title, fontsize=8.5, loc="left", fontweight="bold", pad=13)
            text = ic50_text(fit).replace("(95% CI ", "(") if fit is not None else "not fitted"
            ax.text(0.0, 1.015, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=6.5,
                    color="#333333")
            ax.set_xlabel("nM", fontsize=7)
            ax.set_ylabel(ylabel, fontsize=7)
        for ax in axes[len(curves):]:
            ax.set_visible(False)
        return _save(fig, Path(path))


def plate_shape(rows: Sequence[str], cols: Sequence[int]) -> tuple[int, int]:
    """The smallest standard plate format (rows, columns) holding these wells."""
    need_r = max((row_index(r) + 1 for r in rows), default=1)
    need_c = max((int(c) for c in cols), default=1)
    for fmt in sorted(PLATE_FORMATS):
        nr, nc = PLATE_FORMATS[fmt]
        if nr >= need_r and nc >= need_c:
            return nr, nc
    return need_r, need_c


def _grid(plate: pd.DataFrame, column: str, shape: tuple[int, int]) -> np.ndarray:
    g = np.full(shape, np.nan)
    r = plate["row"].map(row_index).to_numpy(int)
    c = plate["column"].to_numpy(int) - 1
    g[r, c] = plate[column].to_numpy(float)
    return g


def edge_rings(plate: pd.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    """Distance of each well from the plate edge in wells (0 = outer ring)."""
    nr, nc = shape
    r = plate["row"].map(row_index).to_numpy(int)
    c = plate["column"].to_numpy(int) - 1
    return np.minimum(np.minimum(r, nr - 1 - r), np.minimum(c, nc - 1 - c))


def _heat(fig, ax, cax, matplotlib, plate, col, label, cmap_name, lim, shape, big):
    nr, nc = shape
    grid = _grid(plate, col, shape)
    cmap = matplotlib.colormaps[cmap_name].with_extremes(bad="#e6e6e6")
    if lim is None:
        fin = grid[np.isfinite(grid)]
        lim = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=lim[0], vmax=lim[1], aspect="equal",
                   interpolation="nearest")
    cb = fig.colorbar(im, cax=cax)
    cb.ax.tick_params(labelsize=6.5, length=2)
    cb.outline.set_linewidth(0.5)
    step = 2 if big else 1
    ax.set_xticks(range(0, nc, step), [str(i + 1) for i in range(0, nc, step)])
    ax.set_yticks(range(0, nr, step), row_letters(nr)[::step])
    ax.tick_params(length=0, labelsize=6 if big else 7, labeltop=True, labelbottom=False)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_title(label, fontsize=8.5, loc="left")
    fs = 4.8 if big else 6.5
    for rec in plate[["row", "column", "role", "excluded"]].itertuples(index=False):
        r, c = row_index(rec.row), int(rec.column) - 1
        if rec.excluded:
            ax.text(c, r, "×", ha="center", va="center", fontsize=fs + 3, color="#c0392b", fontweight="bold")
        elif rec.role in ROLE_LETTER:
            v = grid[r, c]
            rgb = im.cmap(im.norm(v))[:3] if np.isfinite(v) else (0.9, 0.9, 0.9)
            dark = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] > 0.5
            ax.text(c, r, ROLE_LETTER[rec.role], ha="center", va="center", fontsize=fs,
                    color="#222222" if dark else "white")


def _rings(ax, plate: pd.DataFrame, shape: tuple[int, int]) -> None:
    ring = edge_rings(plate, shape)
    dev = plate["deviation"].to_numpy(float) if "deviation" in plate else np.full(len(plate), np.nan)
    ok = np.isfinite(dev)
    ks = np.array(sorted(set(ring[ok].tolist()))) if ok.any() else np.array([0])
    means = np.array([dev[ok & (ring == k)].mean() if (ok & (ring == k)).any() else np.nan for k in ks])
    sds = np.array([dev[ok & (ring == k)].std(ddof=1) if (ok & (ring == k)).sum() > 1 else 0.0 for k in ks])
    ns = np.array([int((ok & (ring == k)).sum()) for k in ks])
    colors = ["#c0392b" if k == 0 else "#5b8db8" for k in ks]
    ax.bar(ks, np.nan_to_num(means), yerr=np.where(np.isfinite(sds), sds, 0.0), color=colors, width=0.7,
           error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#444444"})
    ax.axhline(0, color=INK, lw=0.7)
    ax.set_xticks(ks, ["edge" if k == 0 else str(k) for k in ks])
    ax.set_xlabel("wells from the plate edge")
    ax.set_ylabel("mean deviation (% points)")
    lim = max(10.0, float(np.nanmax(np.abs(means) + np.nan_to_num(sds))) * 1.25 if np.isfinite(means).any() else 10)
    ax.set_ylim(-lim, lim)
    for k, _m, n in zip(ks, means, ns):
        if n:
            ax.text(k, -lim * 0.95, f"n={n}", ha="center", va="bottom", fontsize=6, color="#555555")
    ax.set_title("edge profile: deviation by ring (mean ± SD)", fontsize=8.5, loc="left")


def heatmap_png(plate: pd.DataFrame, path: str | Path, *, title: str, raw_label: str = "signal",
                response_label: str = "% activity") -> Path:
    """Plate figure: raw, normalized and deviation heatmaps plus the deviation by distance from the edge.

    plate has columns row, column, role, value, response, deviation, excluded; deviation is the well's
    response minus its expectation (fitted curve for series wells, 100 / 0 for the controls).
    """
    import matplotlib

    shape = plate_shape(plate["row"].tolist(), plate["column"].tolist())
    nr, nc = shape
    big = nr > 8
    cell = 0.215 if big else 0.34
    hw, hh = nc * cell, nr * cell  # heatmap size in inches; fixed geometry (constrained layout is slow)
    left, cb_gap, cb_w, cb_lab, col_gap = 0.35, 0.08, 0.12, 0.62, 0.3
    top, head, row_gap, bottom = 0.32, 0.42, 0.22, 0.5
    x0, x1 = left, left + hw + cb_gap + cb_w + cb_lab + col_gap
    width = x1 + hw + cb_gap + cb_w + cb_lab
    height = top + head + hh + row_gap + head + hh + bottom
    y_top = height - top - head - hh
    y_bot = y_top - row_gap - head - hh

    def box(x, y, w, h):
        return [x / width, y / height, w / width, h / height]

    with matplotlib.rc_context(RC):
        fig = _figure(width, height, layout=None)
        panels = [(x0, y_top, "value", f"raw {raw_label}", "viridis", None),
                  (x1, y_top, "response", f"normalized ({response_label})", "viridis", (0.0, 100.0))]
        if "deviation" in plate:
            panels.append((x0, y_bot, "deviation", "deviation from fit / control target (% points)", "RdBu_r",
                           (-25.0, 25.0)))
        for x, y, col, label, cmap, lim in panels:
            ax = fig.add_axes(box(x, y, hw, hh))
            cax = fig.add_axes(box(x + hw + cb_gap, y + 0.05 * hh, cb_w, 0.9 * hh))
            _heat(fig, ax, cax, matplotlib, plate, col, label, cmap, lim, shape, big)
        if "deviation" in plate:
            _rings(fig.add_axes(box(x1 + 0.55, y_bot, hw + cb_gap + cb_w - 0.55, hh)), plate, shape)
        fig.text(0.1 / width, 1 - 0.08 / height, f"{title}   ·   V vehicle, N no-enzyme, P positive, C total counts, B blank, "
                 "R reference, × excluded, grey = no value", fontsize=9, ha="left", va="top")
        return _save(fig, Path(path))
