"""The analysis pipeline: joined table -> normalize -> QC -> LL.4 fits -> results; and writing every output.

analyze_joined(joined, assay)        -> AnalysisResult (data, results, qc, plates, controls, fits, notes)
write_outputs(result, out_dir, ...)  -> {name: path}: data.csv, results.csv/.parquet, qc.csv, plates.csv,
                                        controls.csv, curves/*.png, curves_grid.png, heatmaps/*.png, report.html
analyze_files(readouts, layout, out) -> both, from files (labkit.readout + labkit.layout, imported lazily)

Curves are one per (compound, target) for kinase assays and one per (compound, cell line) for viability,
pooled over plates (each plate is normalized to its own controls first). Kinase curves are fitted to % activity
(100 - % inhibition) so that, as for % viability, top = vehicle side and bottom = full-effect side; the IC50
and |Hill| are the same as for a fit of % inhibition, and the Hill slope is reported as Prism's (-b, negative
for an inhibitor).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from labkit.analysis.normalize import FIT_ROLES, AssaySpec, normalize
from labkit.analysis.qc import Z_PRIME_MIN, control_qc, plate_summary
from labkit.errors import LabkitError, ReadoutError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from labkit.analysis.gr import GRResult

RESULT_COLUMNS = ["compound", "{group}", "role", "plates", "n", "n_excluded", "n_outliers", "model", "ic50_M",
                  "ic50_nM", "ic50_ci_low_M", "ic50_ci_high_M", "ic50_ci_low_nM", "ic50_ci_high_nM", "pic50",
                  "pic50_se", "abs_ic50_M", "abs_ic50_nM", "emax", "auc", "hill", "hill_se", "top", "top_se",
                  "bottom", "bottom_se", "r2", "rse", "df", "converged", "z_prime", "weights", "flags",
                  "model_reason"]
OUTLIER_Q = 0.01  # ROUT false-discovery rate when outlier detection is asked for (labkit.analysis.outliers)
# readout units whose noise is Poisson (variance = mean): their curves are fitted with weights 1 / signal.
# Chosen by the unit the reader reports, not by the assay: luminescence (RLU) noise is not count-like.
POISSON_UNITS = {"cpm", "ccpm", "dpm", "counts", "count"}


@dataclass
class AnalysisResult:
    """Everything one analysis produced: the normalized per-well data, one result row per curve, and QC."""

    assay: str
    spec: AssaySpec
    data: pd.DataFrame      # joined table + excluded, response (% activity / % viability), expected, deviation
    results: pd.DataFrame   # one row per curve (RESULT_COLUMNS, {group} = target or cell_line)
    qc: pd.DataFrame        # one row per plate x target / cell line (Z', S/B, CV %, n, flags)
    plates: pd.DataFrame    # one row per plate (wells, excluded by flag, unassigned, worst Z', pass)
    controls: pd.DataFrame  # the control wells' statistics each normalization used
    fits: pd.DataFrame      # fit_table's raw output
    notes: list[str] = field(default_factory=list)
    fix_top: float | None = None
    fix_bottom: float | None = None
    model: str = "auto"
    unbounded: bool = False
    outlier_q: float | None = None
    conversion: pd.DataFrame = field(default_factory=pd.DataFrame)  # kinase: % ATP conversion per plate x target
    gr: GRResult | None = None  # GR metrics when the readout has a time-zero plate (labkit.analysis.gr)
    ci: str = "wald"  # the IC50 interval: 'wald' (on ln e) or 'profile' (profile likelihood)

    @property
    def group_col(self) -> str:
        """'target' (kinase) or 'cell_line' (viability)."""
        return self.spec.group_col

    def curve_points(self, compound: str, group: str) -> pd.DataFrame:
        """The wells of one curve (fitted and excluded)."""
        d = self.data
        return d[d["role"].isin(FIT_ROLES) & (d["compound"] == compound) & (d[self.group_col] == group)]


def unit_notes(joined: pd.DataFrame, assay: str) -> list[str]:
    """A note when the readout's measurement kind is not what the assay's reader gives (e.g. RLU for 33P); each
    assay kind lists its units (labkit.assays, `readout_units`)."""
    from labkit.assays import get

    expected = get(assay).readout_units
    if not expected or "unit" not in joined.columns:
        return []
    units = sorted({str(u) for u in joined["unit"].dropna() if str(u).strip()})
    odd = [u for u in units if u.strip().lower() not in expected]
    if not odd:
        return []
    return [f"the readout is in {', '.join(odd)}, not what a {assay} read-out gives "
            f"({', '.join(sorted(expected))}): is this the right file for this layout?"]


def analyze_joined(joined: pd.DataFrame, assay: str, *, fix_top: float | None = None,
                   fix_bottom: float | None = None, model: str = "auto", unbounded: bool = False,
                   outlier_q: float | None = None, low_role: str | None = None, ci: str = "wald",
                   experiment=None) -> AnalysisResult:
    """Normalize a joined readout to its controls, run plate QC and fit per compound x target / cell line.

    model / unbounded as labkit.analysis.models.fit_model (default: per-curve model selection, bounded);
    outlier_q: ROUT outlier detection at this false-discovery rate (None: off). Counts are Poisson-weighted.
    low_role: the layout's 0 % control when it is not the kind's own (labkit.analysis.normalize.normalize).
    ci: the IC50 interval, 'wald' (on ln e) or 'profile' (profile likelihood, labkit.analysis.profile).
    With time-zero wells (a viability layout's time_zero plate) the results also carry GR metrics
    (labkit.analysis.gr).
    experiment: the layout the readout was joined to; with it the assay kind adds what it knows (kinase: the
    Morrison Ki_app / Cheng–Prusoff Ki at the layout's [E], ATP and Km, tight_binding, % ATP conversion).
    """
    from labkit.analysis.fit import fit_table, ll4

    norm = normalize(joined, assay, low_role)
    spec = norm.spec
    data, gcol = norm.data, spec.group_col
    qc = control_qc(norm)
    notes = list(norm.notes) + unit_notes(joined, assay)
    series = data[data["role"].isin(FIT_ROLES)]
    if series.empty:
        raise LabkitError("nothing to fit: no well has role 'sample' or 'reference' (is the layout the right one "
                          "for this readout?)", field="role")
    no_conc = (series["conc_M"].isna() | (series["conc_M"] < 0)).to_numpy()
    if no_conc.any():
        notes.append(f"{int(no_conc.sum())} sample/reference well(s) without a valid concentration were not fitted: "
                     + ", ".join((series.loc[no_conc, "plate"] + ":" + series.loc[no_conc, "well"]).tolist()[:12]))
    dropped = series[no_conc]
    # a curve keeps its rows (NaN concentration = a missing point for the fitter), so it is never lost
    series = series.assign(conc_M=series["conc_M"].where(~no_conc))
    series = series.sort_values(["compound", gcol, "conc_M", "plate", "well"], kind="stable")
    weights, wnote = _weights(series)
    if wnote:
        notes.append(wnote)
    series = series.assign(_w=weights) if weights is not None else series
    fits = fit_table(series, curve=["compound", gcol], conc="conc_M", response="response",
                     fix_top=fix_top, fix_bottom=fix_bottom, weights="_w" if weights is not None else None,
                     outlier_q=outlier_q, outlier_column="_outlier", model=model, unbounded=unbounded, ci=ci)
    fits = fits.sort_values(["compound", gcol], kind="stable").reset_index(drop=True)
    fits["weights"] = "1/signal (Poisson)" if weights is not None else "none"
    data = data.assign(outlier=False)
    data.loc[series.index, "outlier"] = series["_outlier"].to_numpy(bool)
    results = _results(series, fits, qc, spec, dropped)
    data = _expected(data, fits, spec, ll4)
    gr = None
    from labkit.analysis.gr import has_time_zero

    if gcol == "cell_line" and has_time_zero(data):
        from labkit.analysis.gr import GR_COLUMNS, compute_gr

        gr = compute_gr(data, norm.controls, gcol, spec.low_role)
        data = gr.data
        notes += gr.notes
        results = results.merge(gr.metrics, on=["compound", gcol], how="left")
        results["gr_flags"] = results["gr_flags"].fillna("no_gr_values")
        results = results[[c for c in results.columns if c not in GR_COLUMNS] + GR_COLUMNS]
    plates = plate_summary(data, qc)
    result = AnalysisResult(assay=spec.assay, spec=spec, data=data, results=results, qc=qc, plates=plates,
                            controls=norm.controls, fits=fits, notes=notes, fix_top=fix_top, fix_bottom=fix_bottom,
                            model=model, unbounded=unbounded, outlier_q=outlier_q, gr=gr, ci=ci)
    if experiment is not None:
        experiment.assay_kind.augment(result, experiment)
    return result


def _weights(series: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    """Poisson weights 1 / raw signal when every unit of the series is a count unit (POISSON_UNITS), else none."""
    if "unit" not in series.columns or "value" not in series.columns:
        return None, ""
    units = {str(u).strip().lower() for u in series["unit"].dropna() if str(u).strip()}
    if not units or not units <= POISSON_UNITS:
        return None, ""
    raw = series["value"].to_numpy(float)
    w = 1.0 / np.maximum(np.where(np.isfinite(raw), raw, 1.0), 1.0)
    return w, (f"counts ({', '.join(sorted(units))}) are Poisson: curves fitted with weights 1/signal")


def _results(series: pd.DataFrame, fits: pd.DataFrame, qc: pd.DataFrame, spec: AssaySpec,
             dropped: pd.DataFrame) -> pd.DataFrame:
    gcol = spec.group_col
    rows = []
    for f in fits.to_dict("records"):
        pts = series[(series["compound"] == f["compound"]) & (series[gcol] == f[gcol])]
        plates = sorted(set(pts["plate"]))
        zq = qc[qc["plate"].isin(plates) & (qc[gcol] == f[gcol])]["z_prime"].to_numpy(float)
        zmin = float(np.nanmin(zq)) if zq.size and np.isfinite(zq).any() else float("nan")
        n_exc = int((pts["excluded"] != "").sum())
        flags = [s for s in str(f.get("flags") or "").split(";") if s]
        if not spec.low_role:
            pass  # no 0 % control (fitted bottom): Z' is not defined; the QC table says so
        elif not (np.isfinite(zmin) and zmin >= Z_PRIME_MIN):
            flags.append(f"plate_z_prime<{Z_PRIME_MIN:g}")
        if n_exc:
            flags.append(f"excluded_wells:{n_exc}")
        n_noconc = int(((dropped["compound"] == f["compound"]) & (dropped[gcol] == f[gcol])).sum())
        if n_noconc:
            flags.append(f"no_concentration:{n_noconc}")
        e, lo, hi = (float(f[k]) for k in ("ic50", "ic50_ci_low", "ic50_ci_high"))
        roles = sorted(set(pts["role"]))
        a50 = float(f["abs_ic50"])
        rows.append({"compound": f["compound"], gcol: f[gcol], "role": "+".join(roles), "plates": ";".join(plates),
                     "n": int(f["n"]), "n_excluded": n_exc, "n_outliers": int(f["n_outliers"]),
                     "model": f["model"], "ic50_M": e, "ic50_nM": e * 1e9,
                     "ic50_ci_low_M": lo, "ic50_ci_high_M": hi, "ic50_ci_low_nM": lo * 1e9,
                     "ic50_ci_high_nM": hi * 1e9, "pic50": float(f["pic50"]), "pic50_se": float(f["pic50_se"]),
                     "abs_ic50_M": a50, "abs_ic50_nM": a50 * 1e9, "emax": float(f["emax"]),
                     "auc": float(f["auc"]), "hill": float(f["hill"]),
                     "hill_se": float(f["b_se"]), "top": float(f["d"]), "top_se": float(f["d_se"]),
                     "bottom": float(f["c"]), "bottom_se": float(f["c_se"]), "r2": float(f["r2"]),
                     "rse": float(f["rse"]), "df": int(f["df"]) if np.isfinite(f["df"]) else -1,
                     "converged": bool(f["converged"]), "z_prime": zmin, "weights": f["weights"],
                     "flags": ";".join(flags), "model_reason": f["model_reason"]})
    cols = [c.replace("{group}", gcol) for c in RESULT_COLUMNS]
    return pd.DataFrame(rows, columns=cols)


def _expected(data: pd.DataFrame, fits: pd.DataFrame, spec: AssaySpec, ll4) -> pd.DataFrame:
    """Add `expected` (fitted curve for series wells, 100 / 0 for the controls) and `deviation` = response - it."""
    gcol = spec.group_col
    out = data.copy()
    exp = np.full(len(out), np.nan)
    exp[(out["role"] == "vehicle").to_numpy()] = 100.0
    exp[(out["role"] == spec.low_role).to_numpy()] = 0.0
    key = out["compound"] + "\x1f" + out[gcol]
    for f in fits.to_dict("records"):
        m = (out["role"].isin(FIT_ROLES) & (key == f["compound"] + "\x1f" + f[gcol])).to_numpy()
        if m.any() and all(np.isfinite(float(f[k])) for k in ("b", "c", "d", "e")):
            exp[m] = ll4(out.loc[m, "conc_M"].to_numpy(float), f["b"], f["c"], f["d"], f["e"])
    # wells with no value (excluded) or not normalized have no expectation to compare with
    exp[~np.isfinite(out["response"].to_numpy(float))] = np.nan
    out["expected"] = exp
    out["deviation"] = out["response"] - out["expected"]
    return out


# --- outputs ---------------------------------------------------------------------------------------------

def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")
    return s or "curve"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _input_rows(inputs: dict) -> list[dict]:
    rows = []
    for kind, value in (inputs or {}).items():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            p = Path(item)
            if p.is_file():
                rows.append({"kind": str(kind), "path": str(item), "bytes": p.stat().st_size,
                             "sha256": sha256_file(p)})
            else:
                rows.append({"kind": str(kind), "path": str(item), "bytes": None, "sha256": ""})
    return rows


def write_outputs(result: AnalysisResult, out_dir: str | Path, *, title: str = "Dose-response analysis",
                  inputs: dict | None = None) -> dict[str, Path]:
    """Write the tidy data, results (CSV + Parquet), QC tables, PNGs and a self-contained report.html."""
    from labkit.analysis import plots, report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    tables = {"data": ("data.csv", result.data), "results_csv": ("results.csv", result.results),
              **({"conversion": ("atp_conversion.csv", result.conversion)} if len(result.conversion) else {}),
              "qc": ("qc.csv", result.qc), "plates": ("plates.csv", result.plates),
              "controls": ("controls.csv", result.controls)}
    for name, (fname, df) in tables.items():
        df.to_csv(out / fname, index=False, lineterminator="\n")
        paths[name] = out / fname
    try:
        result.results.to_parquet(out / "results.parquet", index=False)
    except ImportError as exc:  # pyarrow missing or broken
        raise LabkitError(f"cannot write results.parquet: {exc}; install a pyarrow that works with this numpy") from exc
    paths["results_parquet"] = out / "results.parquet"

    gcol, ylabel = result.group_col, result.spec.response_label
    fits = {(f["compound"], f[gcol]): f for f in result.fits.to_dict("records")}
    curves, used = [], set()
    from labkit.progress import track

    for row in track(result.results.to_dict("records"), desc="curve plots", unit="curve"):
        key = (row["compound"], row[gcol])
        pts = result.curve_points(*key)
        fit = dict(fits.get(key, {}))
        fit["flags"] = row["flags"]
        title_c = f"{key[0]} · {key[1]}" if key[1] else key[0]
        slug = _slug(f"{key[0]}_{key[1]}") if key[1] else _slug(key[0])
        while slug in used:
            slug += "_"
        used.add(slug)
        p = plots.curve_png(pts, fit, out / "curves" / f"{slug}.png", title=title_c, ylabel=ylabel)
        paths[f"curve:{key[0]}|{key[1]}"] = p
        curves.append((pts, fit, title_c, p))
    paths["grid"] = plots.grid_png([(p, f, t) for p, f, t, _ in curves], out / "curves_grid.png", ylabel=ylabel)
    heatmaps = []
    raw_label = _raw_label(result.data)
    for plate, sub in result.data.groupby("plate", sort=True):
        p = plots.heatmap_png(sub, out / "heatmaps" / f"plate_{_slug(str(plate))}.png", title=f"plate {plate}",
                              raw_label=raw_label, response_label=ylabel)
        paths[f"heatmap:{plate}"] = p
        heatmaps.append((str(plate), p))
    gr_figure = None
    if result.gr is not None and len(result.gr.metrics):  # GR metrics (a time-zero plate): figure + time-zero table
        from labkit.analysis.gr import gr_png

        gr_figure = paths["gr"] = Path(gr_png(result, out / "gr_curves.png"))
        result.gr.time_zero.to_csv(out / "time_zero.csv", index=False, lineterminator="\n")
        paths["time_zero"] = out / "time_zero.csv"
    html = report.render(result, title=title, grid=paths["grid"], curves=[(t, p) for _, _, t, p in curves],
                         heatmaps=heatmaps, inputs=_input_rows(inputs or {}), layout_text=_layout_text(inputs),
                         gr_figure=gr_figure)
    (out / "report.html").write_text(html, encoding="utf-8")
    paths["report"] = out / "report.html"
    return paths


def _raw_label(data: pd.DataFrame) -> str:
    units = sorted(set(data.get("unit", pd.Series(dtype=str)).dropna().astype(str)) - {""})
    return "/".join(units) if units else "signal"


def _layout_text(inputs: dict | None) -> str | None:
    layout = (inputs or {}).get("layout")
    if isinstance(layout, (list, tuple)):
        layout = layout[0] if layout else None
    if layout is None or not Path(layout).is_file() or Path(layout).stat().st_size > 200_000:
        return None
    try:
        return Path(layout).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def duplicate_readings(readout: pd.DataFrame, keys: list[str] | None = None) -> list[str]:
    """One line per plate with wells read more than once (per `keys`): how many wells, which reads / files."""
    dup = readout[readout.duplicated(keys or ["plate", "well"], keep=False)]
    out = []
    for plate, sub in dup.groupby("plate", sort=False):
        how = sorted({f"read {r!r} in {s}" if r else f"{s}" for r, s in zip(sub["read"], sub["source"])})
        out.append(f"plate {plate}: {sub['well'].nunique()} well(s) read more than once ({'; '.join(how)})")
    return out


def check_readout_fits(joined: pd.DataFrame, assay: str, readouts: list[str | Path], force: bool) -> list[str]:
    """Refuse (exit 2) a readout whose measurement kind cannot come from this assay, unless forced (then a note)."""
    notes = unit_notes(joined, assay)
    if notes and not force:
        raise ReadoutError(notes[0] + " Refusing to use it with this layout; pass --force if it really is",
                           file=", ".join(str(p) for p in readouts), field="unit")
    return notes


def analyze_readouts(readouts: list[str | Path], experiment, *, fix_top: float | None = None,
                     fix_bottom: float | None = None, model: str = "auto", unbounded: bool = False,
                     outlier_q: float | None = None, value: str | None = None, read: str | None = None,
                     partial: bool = False, force: bool = False, plate_map: dict[str, str] | None = None,
                     ci: str = "wald") -> tuple[AnalysisResult, object]:
    """Read instrument exports, join them to an experiment (an Experiment, or its layout file) and analyze them;
    returns (result, experiment). Nothing is written.

    model / unbounded / outlier_q as analyze_joined.
    value: the value column of long tables (--value); read: the read of multi-read files (--read).
    Bad input is refused (ReadoutError, exit 2): a file with several reads unless `read` picks one; a well read
    more than once (the same plate in two files); a readout whose unit cannot come from the layout's assay
    (RLU for a radiometric kinase layout), or plate barcodes that name no layout plate, unless `force` (or
    `plate_map` {readout id: layout id}). `partial` accepts a counter grid short of its plate format's rows.
    """
    from labkit.layout.io import load_experiment
    from labkit.readout import read_for_analysis
    from labkit.readout.join import join_checked

    if not readouts:
        raise LabkitError("no readout file given; expected one or more instrument exports")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not hasattr(experiment, "wells_table"):
            experiment = load_experiment(experiment)
        wells = experiment.wells_table()
        tables = [(path, read_for_analysis(path, value=value, read=read, partial=partial)) for path in readouts]
        joined, _ = join_checked(tables, wells, experiment.assay, plate_map=plate_map, force=force)  # notes: warned
    result = analyze_joined(joined, experiment.assay, fix_top=fix_top, fix_bottom=fix_bottom, model=model,
                            unbounded=unbounded, outlier_q=outlier_q,
                            low_role=getattr(experiment, "low_control", None) or None, ci=ci,
                            experiment=experiment)
    tz = getattr(experiment, "time_zero", None)
    if tz is not None and result.gr is None:
        result.notes.append(f"the layout has a time-zero plate ({tz.plate}) but the readout has no value for it: no "
                            "GR metrics (pass the time-zero plate's export along with the assay plates')")
    ours = [w for w in caught if w.category.__module__.startswith("labkit") or "/labkit/" in w.filename]
    for w in caught:  # library warnings (deprecations ...) are not the user's business: pass them on
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result.notes[:0] = list(dict.fromkeys(str(w.message) for w in ours))
    return result, experiment


def write_outputs_staged(result: AnalysisResult, out_dir: str | Path, *, title: str,
                         inputs: dict | None = None) -> dict[str, Path]:
    """write_outputs, all outputs or none: written to a staging folder, then moved into out_dir."""
    from labkit.safety import staged_dir

    with staged_dir(out_dir) as stage:
        staged = write_outputs(result, stage, title=title, inputs=inputs)
    return {k: Path(out_dir) / p.relative_to(stage) for k, p in staged.items()}


def analyze_files(readouts: list[str | Path], layout_path: str | Path, out_dir: str | Path, *,
                  fix_top: float | None = None, fix_bottom: float | None = None,
                  title: str | None = None, **options) -> tuple[AnalysisResult, dict[str, Path]]:
    """Read instrument exports and a layout, join them, analyze and write all outputs to out_dir (all or none);
    options as analyze_readouts (value, read, partial, force, plate_map)."""
    result, experiment = analyze_readouts(readouts, layout_path, fix_top=fix_top, fix_bottom=fix_bottom, **options)
    name = getattr(experiment, "name", None) or Path(layout_path).stem
    paths = write_outputs_staged(result, out_dir, title=title or f"{name}: dose-response analysis",
                                 inputs={"readout": [str(p) for p in readouts], "layout": str(layout_path)})
    return result, paths
