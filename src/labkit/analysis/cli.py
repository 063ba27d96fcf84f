"""`labkit fit` (generic dose-response fitting of a long-form table) and `labkit analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from labkit.cli_support import json_option, parse_plate_map, plate_map_option, read_option, ui, value_option
from labkit.errors import FitError

# --- labkit fit --------------------------------------------------------------------------------------------


def _read_table(path: Path):
    """A CSV (or TSV / Parquet by extension) as a DataFrame; FitError when it cannot be read."""
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise FitError(f"cannot read the table: {exc}", file=path) from None


def csv_text(df) -> str:  # noqa: ANN001 - a DataFrame (pandas imported lazily)
    """df.to_csv(index=False), byte for byte, ~2x faster for float/int/bool/text columns (pandas formats floats
    through numpy's str, which is Python's repr: shortest round-trip; the csv module quotes as pandas does).
    Other column types (dates, categories ...) go through pandas."""
    import csv
    import io
    import os

    import numpy as np

    if not all(isinstance(c, str) for c in df.columns) or not df.columns.is_unique:
        return df.to_csv(index=False)
    cols = []
    for name in df.columns:
        s = df[name]
        kind = s.dtype.kind
        if kind == "f" and s.dtype == np.float64:
            v = s.to_numpy()
            txt = list(map(repr, v.tolist()))
            for i in np.flatnonzero(np.isnan(v)).tolist():
                txt[i] = ""
        elif kind in "iub" and isinstance(s.dtype, np.dtype):  # not pandas' nullable Int64 (<NA>)
            txt = list(map(str, s.tolist()))
        elif kind == "O" and all(isinstance(x, str) for x in s.tolist()):
            txt = s.tolist()
        else:
            return df.to_csv(index=False)
        cols.append(txt)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
    out.writerow(list(df.columns))
    out.writerows(zip(*cols))
    return buf.getvalue()


FIT_CHUNK = 500  # fewest curves per step of the progress bar (each curve is fitted on its own: no figure changes)


def fit_with_progress(df, keys: list[str], *, outlier_column: str | None = None, chunk: int = FIT_CHUNK,
                      **kw: Any):  # noqa: ANN201
    """fit_table on the curves of df, a chunk of curves at a time with a progress bar when bars are on (the
    result is the same as one fit_table call: each curve is fitted on its own); FitError lines are the table's."""
    import numpy as np
    import pandas as pd

    from labkit.analysis.fit import fit_table
    from labkit.progress import bar, enabled

    gid = df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    ncur = int(gid.max()) + 1 if len(gid) else 0
    if ncur <= chunk or not enabled():
        return fit_table(df, curve=keys, outlier_column=outlier_column, **kw)
    chunk = max(chunk, -(-ncur // 20))  # at most 20 steps: each fit_table call has a fixed cost
    parts = []
    flags = np.zeros(len(df), dtype=bool)
    with bar(ncur, desc="fitting", unit="curve") as advance:
        for start in range(0, ncur, chunk):
            rows = (gid >= start) & (gid < start + chunk)
            sub = df[rows].reset_index(drop=True)
            try:
                parts.append(fit_table(sub, curve=keys, outlier_column=outlier_column, **kw))
            except FitError as exc:
                if exc.line is not None:  # the chunk's CSV line -> the table's (header = line 1)
                    exc.line = int(np.flatnonzero(rows)[exc.line - 2]) + 2
                raise
            if outlier_column is not None:
                flags[rows] = sub[outlier_column].to_numpy(dtype=bool)
            advance(min(chunk, ncur - start))
    if outlier_column is not None:
        df[outlier_column] = flags
    return pd.concat(parts, ignore_index=True)


@click.command("fit", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--curve", "curve", multiple=True,
              help="Column identifying a curve (repeat for a composite key, e.g. --curve compound --curve target); "
                   "without it the whole table is one curve, named after the file.")
@click.option("--conc", required=True, help="Concentration column (any unit; 0 = vehicle, counts as a point).")
@click.option("--response", required=True, help="Response column.")
@click.option("--model", type=click.Choice(["auto", "ll4", "ll3", "ll2"], case_sensitive=False), default="auto",
              show_default=True,
              help="auto: per curve LL.4 / LL.3 (top fixed) / LL.2 by AICc, bottom fixed when there is no lower "
                   "plateau (for data normalized to --top/--bottom); ll4: b, c, d, e; ll3: bottom fixed at 0; "
                   "ll2: top and bottom fixed.")
@click.option("--unbounded", is_flag=True,
              help="No bounds on the asymptotes and drc's |b| <= 20 (with --model ll4: drc's LL.4, for raw data).")
@click.option("--top", "top_ref", type=float, default=100.0, show_default=True,
              help="Response of the vehicle control (100 %% of control): bounds, fixed top, absolute IC50, AUC.")
@click.option("--bottom", "bottom_ref", type=float, default=0.0, show_default=True,
              help="Response of the full-effect control (0 %% of control).")
@click.option("--outliers", "outlier_q", type=float, default=None, metavar="Q",
              help="ROUT outlier detection at false-discovery rate Q (e.g. 0.01): outliers left out of the fit, "
                   "counted in n_outliers and flagged.")
@click.option("--ci", "ci", type=click.Choice(["wald", "profile"], case_sensitive=False), default="wald",
              show_default=True, help="IC50 95 %% CI: Wald-t on ln e, or profile likelihood (slower, ~3x).")
@click.option("--fix-top", type=float, default=None, help="Fix the upper asymptote d at this value.")
@click.option("--fix-bottom", type=float, default=None, help="Fix the lower asymptote c at this value.")
@click.option("--weights", default=None, help="'1/y' (e.g. for counts) or a column of weights.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output CSV: one row per curve.")
@click.option("--points-out", "points_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the input table with an 'outlier' column (True for points --outliers left out).")
@json_option
def fit(table: Path, curve: tuple[str, ...], conc: str, response: str, model: str, unbounded: bool,
        top_ref: float, bottom_ref: float, outlier_q: float | None, fix_top: float | None,
        fix_bottom: float | None, weights: str | None, output: Path, points_out: Path | None, as_json: bool,
        ci: str) -> int:
    """Fit log-logistic dose-response curves (drc's LL.4 / LL.3) to a long-form table, one row per point.

    Default: data normalized to % of control (vehicle 100, full effect 0), bounded asymptotes (0-150 %) and
    |Hill| <= 10, and per curve the model its data support (model, model_reason). Raw signals (or drc
    parity): --model ll4 --unbounded.

    Writes one row per curve: the curve key(s), n, model, b, c, d, e with standard errors (drc's, from the exact
    Hessian), ic50 (= e, relative IC50) with its 95 % CI (on the log scale), pic50 (-log10 e) and its SE,
    abs_ic50 (where the curve crosses 50 % of control), emax (response at the top dose), auc (normalized,
    log dose), hill (= -b), rse, df, r2, converged, n_outliers, flags (all_nan, too_few_points, not_converged,
    flat, extrapolated, incomplete, poor_fit, at_bound, outliers:k) and model_reason.

    \b
    Example:
      labkit fit doses.csv --curve compound --curve target --conc conc_M --response pct_activity -o ic50.csv
      labkit fit rye.csv --conc conc --response rootl --model ll4 --unbounded -o drc.csv
      labkit fit doses.csv --curve compound --conc conc_M --response pct -o ic50.csv --json  # rows as JSON too
    """
    from labkit.analysis.fit import check_table

    df = _read_table(table)
    if df.empty:
        raise FitError(f"the table has no rows (columns: {', '.join(map(str, df.columns)) or 'none'}); "
                       "expected one row per dose-response point", file=table)
    keys = list(curve)
    if not keys:
        keys = ["curve"]
        if "curve" in df.columns:
            raise FitError("no --curve given and the table already has a column 'curve'; name it with --curve",
                           file=table)
        df.insert(0, "curve", table.stem)
    check_table(df, keys, conc, response, weights, file=str(table))
    try:
        out = fit_with_progress(df, keys, conc=conc, response=response, model=model.lower(), fix_top=fix_top,
                                fix_bottom=fix_bottom, weights=weights, unbounded=unbounded, top=top_ref,
                                bottom=bottom_ref, outlier_q=outlier_q,
                                outlier_column="outlier" if points_out is not None else None, ci=ci.lower())
    except FitError as exc:
        if exc.file is None:
            exc.file = str(table)
        raise
    from labkit.safety import atomic_write_text, guard_output

    guard_output(output, [table])
    if points_out is not None:
        guard_output(points_out, [table, output])
    atomic_write_text(output, csv_text(out))
    if points_out is not None:
        atomic_write_text(points_out, df.to_csv(index=False))
    flagged = int((out["flags"] != "").sum())
    ui().result(f"fitted {len(out)} curve(s) from {table}, {flagged} flagged -> {output}", err=True)
    if ui().json:
        ui().emit({"ok": True, "table": table, "output": output, "points_out": points_out, "curves": len(out),
                   "flagged": flagged, "results": out})
    return 0


# --- labkit analyze ----------------------------------------------------------------------------------------
# (owned by the pipeline / report part: summary_text and the analyze command)


def _text_table(rows: list[list[str]], headers: list[str], right: set[int] | None = None) -> str:
    """A plain fixed-width table for the terminal."""
    right = right or set()
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _g(x: Any, spec: str = ".3g") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if v != v:
        return "-"
    if spec == "sig3":
        v = float(f"{v:.3g}")
        return f"{v:,.0f}" if 1000 <= abs(v) < 1e12 else f"{v:.3g}"
    return format(v, spec)


def summary_text(result) -> str:
    """The results table, plate QC and notes of an AnalysisResult as terminal text."""
    gcol = result.group_col
    from labkit.analysis.plots import NO_IC50_FLAGS

    def nd(r: dict) -> bool:
        return bool(set(str(r["flags"] or "").split(";")) & set(NO_IC50_FLAGS))

    def absolute(r: dict) -> str:
        v = r.get("abs_ic50_nM", float("nan"))
        return "n.d." if nd(r) or not v == v else _g(v, "sig3")

    rows = [[r["compound"], r[gcol], str(r["n"]), "n.d." if nd(r) else _g(r["ic50_nM"], "sig3"),
             "-" if nd(r) else f"{_g(r['ic50_ci_low_nM'], 'sig3')}-{_g(r['ic50_ci_high_nM'], 'sig3')}",
             absolute(r), _g(r["hill"], ".2f"),
             _g(r["top"], ".1f"), _g(r["bottom"], ".1f"), _g(r["r2"], ".3f"), _g(r["z_prime"], ".2f"),
             str(r.get("model", "")), r["flags"] or ""] for r in result.results.to_dict("records")]
    out = [f"Results: IC50 (relative) and absolute IC50 (50 % of control) in nM, 95 % CI; "
           f"response = {result.spec.response_label}",
           _text_table(rows, ["compound", gcol, "n", "IC50", "95% CI", "abs IC50", "Hill", "top", "bottom", "R2",
                              "Z'", "model", "flags"], right={2, 3, 5, 6, 7, 8, 9, 10}), ""]
    if "ki_app_nM" in result.results.columns:  # kinase: Morrison Ki_app given [E], Cheng–Prusoff Ki
        krows = [[r["compound"], r[gcol], _g(r["enzyme_M"] * 1e9, "sig3"), _g(r["ic50_nM"], "sig3"),
                  _g(r["ki_app_nM"], "sig3"), f"{_g(r['ki_app_ci_low_nM'], 'sig3')}-{_g(r['ki_app_ci_high_nM'], 'sig3')}",
                  _g(r["ki_nM"], "sig3"), f"{_g(r['ki_ci_low_nM'], 'sig3')}-{_g(r['ki_ci_high_nM'], 'sig3')}",
                  "yes" if r["tight_binding"] else "no"] for r in result.results.to_dict("records")]
        out += ["Tight binding: Ki_app (Morrison, given the active [E]) and Ki (Cheng-Prusoff) in nM, 95 % CI",
                _text_table(krows, ["compound", gcol, "[E]", "IC50", "Ki_app", "95% CI", "Ki", "95% CI",
                                    "tight_binding"], right={2, 3, 4, 6}), ""]
    conv = getattr(result, "conversion", None)
    if conv is not None and len(conv):
        crows = [[c["plate"], c["target"], _g(c["vehicle_mean"], ",.0f"), _g(c["total_counts_mean"], ",.0f"),
                  _g(c["atp_conversion_pct"], ".1f"), c["flags"] or "ok"] for c in conv.to_dict("records")]
        out += ["ATP conversion in the vehicle wells (linear range: <= 15 %)",
                _text_table(crows, ["plate", "target", "vehicle CPM", "total counts CPM", "% converted", "flags"],
                            right={2, 3, 4}), ""]
    if getattr(result, "gr", None) is not None:  # GR metrics (a time-zero plate), next to the IC50
        grows = [[r["compound"], r[gcol], "n.d." if not r["gr50_nM"] == r["gr50_nM"] else _g(r["gr50_nM"], "sig3"),
                  _g(r["gr_max"], ".2f"), _g(r["gr_aoc"], ".2f"), _g(r["gr_inf"], ".2f"), _g(r["gr_hill"], ".2f"),
                  "n.d." if nd(r) else _g(r["ic50_nM"], "sig3"), r["gr_flags"] or ""]
                 for r in result.results.to_dict("records")]
        out += ["GR metrics (Hafner et al. 2016; time-zero plate): GR50 and IC50 in nM",
                _text_table(grows, ["compound", gcol, "GR50", "GRmax", "GR_AOC", "GRinf", "h", "IC50", "GR flags"],
                            right={2, 3, 4, 5, 6, 7}), ""]
    low = result.spec.low_role or "low"  # no 0 % control (fitted bottom): the qc table names it "low"
    qrows = [[q["plate"], q[gcol], str(q["vehicle_n"]), _g(q["vehicle_cv_pct"], ".1f"), str(q[f"{low}_n"]),
              _g(q[f"{low}_cv_pct"], ".1f"), _g(q["signal_background"], ".1f"), _g(q["z_prime"], ".3f"),
              q["flags"] or "ok"] for q in result.qc.to_dict("records")]
    out += ["Plate QC: Z' >= 0.5 passes",
            _text_table(qrows, ["plate", gcol, "vehicle n", "CV%", f"{low} n", "CV%", "S/B", "Z'", "flags"],
                        right={2, 3, 4, 5, 6, 7})]
    for p in result.plates.to_dict("records"):
        out.append(f"plate {p['plate']}: {p['wells']} wells read, {p['wells'] - p['ok']} excluded, "
                   f"{p['unassigned']} unassigned, QC {'pass' if p['qc_pass'] else 'FAIL'}")
    if result.notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(out)


@click.command("analyze", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("readouts", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", "layout", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The experiment / layout file the plates were run with.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (created if needed).")
@click.option("--fix-top", type=float, default=None, is_flag=False, flag_value=100.0, metavar="[V]",
              help="Fix the top asymptote (vehicle side) at V; a bare --fix-top (after the files) fixes it at 100.")
@click.option("--fix-bottom", type=float, default=None, is_flag=False, flag_value=0.0, metavar="[V]",
              help="Fix the bottom asymptote (full-effect side) at V; a bare --fix-bottom fixes it at 0.")
@click.option("--model", type=click.Choice(["auto", "ll4", "ll3", "ll2"], case_sensitive=False), default="auto",
              show_default=True, help="auto: per curve the model its data support (see labkit fit --help).")
@click.option("--unbounded", is_flag=True, help="No bounds on the asymptotes (with --model ll4: drc's LL.4).")
@click.option("--outliers", "outlier_q", type=float, default=None, is_flag=False, flag_value=0.01, metavar="[Q]",
              help="ROUT outlier detection at false-discovery rate Q (a bare --outliers: 1 %%); outliers are "
                   "flagged in data.csv, drawn in the plots and left out of the fits.")
@click.option("--ci", "ci", type=click.Choice(["wald", "profile"], case_sensitive=False), default="wald",
              show_default=True, help="IC50 95 %% CI: Wald-t on ln e, or profile likelihood (slower, ~3x).")
@click.option("--title", default=None, help="Report title (default: the experiment name).")
@value_option
@read_option
@click.option("--partial", is_flag=True,
              help="Accept counter grids with fewer rows than their plate format (plates read in part).")
@click.option("--force", is_flag=True,
              help="Analyze even a readout whose unit cannot come from the layout's assay (e.g. RLU for 33P) "
                   "or whose plate barcodes name no layout plate, or numbered plates that do not match the "
                   "layout's plates one to one (joined in order; the mapping is printed).")
@plate_map_option
@click.option("--db", default=None, metavar="PATH|URL",
              help="Run store to record the analysis in: a SQLite file or postgresql://… URL "
                   "(default: $LABKIT_DB, else labkit.sqlite in your data directory).")
@click.option("--no-store", is_flag=True, help="Do not record the analysis in the run store.")
@click.option("--protocol", "protocol", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The Opentrons protocol the plates were made with: its SHA-256 and robot go into the run store.")
@json_option
def analyze(readouts: tuple[Path, ...], layout: Path, out_dir: Path, fix_top: float | None,
            fix_bottom: float | None, model: str, unbounded: bool, outlier_q: float | None,
            title: str | None, value: str | None, read: str | None, partial: bool, force: bool,
            plate_map: tuple[str, ...], db: str | None, no_store: bool, protocol: Path | None, as_json: bool,
            ci: str) -> int:
    """Normalize reader exports to the on-plate controls, fit each compound x target / cell line (by default the
    model its data support, asymptotes bounded to 0-150 %), and write data.csv, results.csv/.parquet, qc.csv,
    PNGs and a self-contained report.html.

    Kinase curves are fitted to % activity (100 - % inhibition), viability curves to % viability; both have
    top = vehicle side, so --fix-top --fix-bottom fixes them at 100 and 0.

    \b
    Example:
      labkit analyze counts.csv --layout layouts/kinase_panel.yaml -o out/kinase
      labkit analyze ctg.csv --layout layouts/viability_km12.yaml -o out/ctg --fix-top --fix-bottom
      labkit analyze counts.csv --layout layouts/kinase_panel.yaml -o out/kinase --json   # results, QC, files
    """
    from labkit.analysis.pipeline import analyze_files
    from labkit.safety import guard_output_dir

    out = ui()
    guard_output_dir(out_dir, [*readouts, layout])
    result, paths = analyze_files(list(readouts), layout, out_dir, fix_top=fix_top, fix_bottom=fix_bottom,
                                  title=title, model=model.lower(), unbounded=unbounded, outlier_q=outlier_q,
                                  value=value, read=read, partial=partial, force=force,
                                  plate_map=parse_plate_map(plate_map), ci=ci.lower())
    out.say(summary_text(result))
    out.result(("" if out.quiet else "\n") + f"wrote {len(paths)} files to {out_dir}; open {paths['report']}")
    recorded = None
    if not no_store:  # the run store (labkit.store): one transaction, after every output is written
        from labkit.store.record import protocol_info, record_result

        recorded = record_result(result, layout=layout, readouts=list(readouts), db=db,
                                 protocol=protocol_info(protocol) if protocol else None,
                                 options={"model": model, "unbounded": unbounded, "outlier_q": outlier_q,
                                          "value": value, "read": read, "partial": partial, "force": force,
                                          "plate_map": list(plate_map), "ci": ci.lower()})
        out.say(recorded.message())
    if out.json:
        out.emit({"ok": True, "assay": result.assay, "layout": layout, "readouts": list(readouts),
                  "out_dir": out_dir, "report": paths["report"],
                  "files": {k: v for k, v in paths.items() if not k.startswith("curve:")},
                  "results": result.results, "qc": result.qc, "plates": result.plates, "notes": result.notes,
                  "run": None if recorded is None else {"id": recorded.run_id, "version": recorded.version,
                                                        "created": recorded.created, "store": recorded.store}})
    return 0


# --- labkit combine ----------------------------------------------------------------------------------------

@click.command("combine", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("tables", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, required=True,
              help="Column identifying a compound x target (repeat for a composite key).")
@click.option("--ic50", "ic50", default="ic50_M", show_default=True, help="IC50 column (any unit; > 0).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output CSV: one row per key.")
@json_option
def combine(tables: tuple[Path, ...], keys: tuple[str, ...], ic50: str, output: Path, as_json: bool) -> int:
    """Combine independent runs (results.csv of several `labkit analyze` / `labkit fit` runs, or one table with
    a row per run): geometric-mean IC50 with its 95 % CI per compound x target, and the minimum significant
    ratio MSR = 10^(2 sqrt(2) s), s the pooled SD of log10 IC50 (NCBI Assay Guidance Manual).

    \b
    Example:
      labkit combine run1/results.csv run2/results.csv run3/results.csv --key compound --key target -o msr.csv
    """
    import pandas as pd

    from labkit.analysis.combine import combine_runs
    from labkit.safety import atomic_write_text, guard_output

    frames = [_read_table(t).assign(_run=str(t)) for t in tables]
    df = pd.concat(frames, ignore_index=True)
    from labkit.errors import LabkitError

    try:
        out, summary = combine_runs(df, keys=list(keys), ic50=ic50)
    except LabkitError as exc:  # it names the column; add the files
        if exc.file is None:
            exc.file = ", ".join(map(str, tables))
        raise
    guard_output(output, list(tables))
    atomic_write_text(output, csv_text(out))
    msr_text = (f"MSR {summary['msr']:.2f} (pooled SD of log10 IC50 {summary['pooled_sd_log10']:.3f} on "
                f"{summary['pooled_df']} df)" if summary["pooled_df"] else
                "MSR not estimable: no compound x target has >= 2 runs with an IC50")
    ui().result(f"combined {len(df)} run result(s) into {len(out)} compound(s); {msr_text} -> {output}", err=True)
    if ui().json:
        ui().emit({"ok": True, "tables": list(tables), "output": output, "run_results": len(df), "keys": len(out),
                   "msr": summary["msr"] if summary["pooled_df"] else None,
                   "pooled_sd_log10": summary["pooled_sd_log10"] if summary["pooled_df"] else None,
                   "pooled_df": summary["pooled_df"], "rows": out})
    return 0
