"""`labkit fit` (generic dose-response fitting of a long-form table) and `labkit analyze`."""

from __future__ import annotations

from pathlib import Path

import click

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


@click.command("fit", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--curve", "curve", multiple=True,
              help="Column identifying a curve (repeat for a composite key, e.g. --curve compound --curve target); "
                   "without it the whole table is one curve, named after the file.")
@click.option("--conc", required=True, help="Concentration column (any unit; 0 = vehicle, counts as a point).")
@click.option("--response", required=True, help="Response column.")
@click.option("--model", type=click.Choice(["ll4", "ll3"], case_sensitive=False), default="ll4", show_default=True,
              help="ll4: b, c, d, e; ll3: bottom c fixed at 0.")
@click.option("--fix-top", type=float, default=None, help="Fix the upper asymptote d at this value.")
@click.option("--fix-bottom", type=float, default=None, help="Fix the lower asymptote c at this value.")
@click.option("--weights", default=None, help="'1/y' (e.g. for counts) or a column of weights.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output CSV: one row per curve.")
def fit(table: Path, curve: tuple[str, ...], conc: str, response: str, model: str, fix_top: float | None,
        fix_bottom: float | None, weights: str | None, output: Path) -> int:
    """Fit log-logistic dose-response curves (drc's LL.4 / LL.3) to a long-form table, one row per point.

    Writes one row per curve: the curve key(s), n, b, c, d, e with standard errors (drc's, from the exact
    Hessian), ic50 (= e) with its 95 % CI, hill (= -b), pic50 (-log10 e), rse, df, r2, converged and flags
    (all_nan, too_few_points, not_converged, flat, extrapolated, incomplete, poor_fit, at_bound).

    \b
    Example:
      labkit fit doses.csv --curve compound --curve target --conc conc_M --response inhibition \\
          --fix-top 100 --fix-bottom 0 -o ic50.csv
    """
    from labkit.analysis.fit import check_table, fit_table

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
        out = fit_table(df, curve=keys, conc=conc, response=response, model=model.lower(), fix_top=fix_top,
                        fix_bottom=fix_bottom, weights=weights)
    except FitError as exc:
        if exc.file is None:
            exc.file = str(table)
        raise
    from labkit.safety import atomic_write_text, guard_output

    guard_output(output, [table])
    atomic_write_text(output, out.to_csv(index=False))
    flagged = int((out["flags"] != "").sum())
    click.echo(f"fitted {len(out)} curve(s) from {table}, {flagged} flagged -> {output}", err=True)
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


def _g(x: object, spec: str = ".3g") -> str:
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

    rows = [[r["compound"], r[gcol], str(r["n"]), "n.d." if nd(r) else _g(r["ic50_nM"], "sig3"),
             "-" if nd(r) else f"{_g(r['ic50_ci_low_nM'], 'sig3')}-{_g(r['ic50_ci_high_nM'], 'sig3')}",
             _g(r["hill"], ".2f"),
             _g(r["top"], ".1f"), _g(r["bottom"], ".1f"), _g(r["r2"], ".3f"), _g(r["z_prime"], ".2f"),
             r["flags"] or ""] for r in result.results.to_dict("records")]
    out = [f"Results: IC50 in nM with 95 % CI; response = {result.spec.response_label}",
           _text_table(rows, ["compound", gcol, "n", "IC50", "95% CI", "Hill", "top", "bottom", "R2", "Z'",
                              "flags"], right={2, 3, 5, 6, 7, 8, 9}), ""]
    low = result.spec.low_role
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
@click.option("--title", default=None, help="Report title (default: the experiment name).")
@click.option("--value", "value", default=None, metavar="COLUMN",
              help="Long tables: the value column, when several numeric columns could be it.")
@click.option("--read", "read", default=None, metavar="NAME",
              help="Multi-read files (e.g. two filters, a plate pasted twice): the read to analyse (name, number "
                   "or a unique part).")
@click.option("--partial", is_flag=True,
              help="Accept counter grids with fewer rows than their plate format (plates read in part).")
@click.option("--force", is_flag=True,
              help="Analyze even a readout whose unit cannot come from the layout's assay (e.g. RLU for 33P) "
                   "or whose plate barcodes name no layout plate, or numbered plates that do not match the "
                   "layout's plates one to one (joined in order; the mapping is printed).")
@click.option("--plate-map", "plate_map", multiple=True, metavar="READOUT=LAYOUT",
              help="Readout plate READOUT is layout plate LAYOUT (repeatable); FILE#READOUT names the plate of "
                   "one file when several files number their plates 1, 2 ...")
@click.option("--db", default=None, metavar="PATH|URL",
              help="Run store to record the analysis in: a SQLite file or postgresql://… URL "
                   "(default: $LABKIT_DB, else labkit.sqlite in your data directory).")
@click.option("--no-store", is_flag=True, help="Do not record the analysis in the run store.")
@click.option("--protocol", "protocol", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The Opentrons protocol the plates were made with: its SHA-256 and robot go into the run store.")
def analyze(readouts: tuple[Path, ...], layout: Path, out_dir: Path, fix_top: float | None,
            fix_bottom: float | None, title: str | None, value: str | None, read: str | None, partial: bool,
            force: bool, plate_map: tuple[str, ...], db: str | None, no_store: bool, protocol: Path | None) -> int:
    """Normalise reader exports to the on-plate controls, fit LL.4 per compound x target / cell line, and
    write data.csv, results.csv/.parquet, qc.csv, PNGs and a self-contained report.html.

    Kinase curves are fitted to % activity (100 - % inhibition), viability curves to % viability; both have
    top = vehicle side, so --fix-top --fix-bottom fixes them at 100 and 0.

    \b
    Example:
      labkit analyze counts.csv --layout layouts/kinase_panel.yaml -o out/kinase
      labkit analyze ctg.csv --layout layouts/viability_km12.yaml -o out/ctg --fix-top --fix-bottom
    """
    from labkit.analysis.pipeline import analyze_files
    from labkit.readout.cli import _plate_map

    from labkit.safety import guard_output_dir

    guard_output_dir(out_dir, [*readouts, layout])
    result, paths = analyze_files(list(readouts), layout, out_dir, fix_top=fix_top, fix_bottom=fix_bottom,
                                  title=title, value=value, read=read, partial=partial, force=force,
                                  plate_map=_plate_map(plate_map))
    click.echo(summary_text(result))
    click.echo(f"\nwrote {len(paths)} files to {out_dir}; open {paths['report']}")
    if not no_store:  # the run store (labkit.store): one transaction, after every output is written
        from labkit.store.record import protocol_info, record_result

        click.echo(record_result(result, layout=layout, readouts=list(readouts), db=db,
                                 protocol=protocol_info(protocol) if protocol else None,
                                 options={"value": value, "read": read, "partial": partial, "force": force,
                                          "plate_map": list(plate_map)}).message())
    return 0
