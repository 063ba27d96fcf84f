"""`labkit runs list / show / export` and `labkit history`: the run store from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from labkit.cli_support import json_option, ui
from labkit.errors import LabkitError

if TYPE_CHECKING:  # pragma: no cover - typing only (SQLAlchemy is imported when the store is opened)
    from labkit.store.models import Base

DB_HELP = ("Run store: a SQLite file path or a postgresql://USER:PASSWORD@HOST/DB URL "
           "(default: $LABKIT_DB, else labkit.sqlite in your data directory).")


def db_option(f):  # noqa: ANN001, ANN201
    """The shared --db option."""
    return click.option("--db", "db", default=None, metavar="PATH|URL", help=DB_HELP)(f)


def _open(db: str | None):
    from labkit.store.db import open_store

    return open_store(db)


@click.group("runs", context_settings={"help_option_names": ["-h", "--help"]})
def runs() -> None:
    """List, show and export the analyses recorded in the run store.

    \b
    Example:
      labkit runs list --assay kinase_radiometric
      labkit runs show 3
      labkit runs export fits -o fits.parquet
    """


@runs.command("list")
@db_option
@click.option("--assay", default=None, help="Only runs of this assay (e.g. kinase_radiometric).")
@click.option("--all-versions", is_flag=True, help="Also list runs superseded by a re-analysis.")
@json_option
def list_cmd(db: str | None, assay: str | None, all_versions: bool, as_json: bool) -> int:
    """One line per recorded run: id, version, when, who, assay, experiment, plates, curves, QC."""
    from labkit.store.history import load_tables

    store = _open(db)
    try:
        t = load_tables(store, assay=assay, all_versions=all_versions)["runs"]
    finally:
        store.close()
    out = ui()
    if out.json:
        out.emit({"ok": True, "store": store.display, "runs": t})
        return 0
    out.say(f"store: {store.display}")
    if t.empty:
        out.result("no runs recorded" + (f" for assay {assay}" if assay else ""))
        return 0
    click.echo(f"{'run':>5} {'ver':>3}  {'recorded (UTC)':<16}  {'user':<10} {'assay':<20} {'plates':>6} {'curves':>6}  "
               f"{'QC':<4}  experiment")
    for r in t.itertuples(index=False):
        qc = "-" if r.qc_pass is None or r.qc_pass != r.qc_pass else ("pass" if r.qc_pass else "FAIL")
        click.echo(f"{r.id:>5} {r.version:>3}  {r.created_at:%Y-%m-%d %H:%M}  {str(r.user)[:10]:<10} "
                   f"{r.assay:<20} {r.n_plates:>6} {r.n_fits:>6}  {qc:<4}  {r.experiment}")
    return 0


@runs.command("show")
@click.argument("run_id", type=int)
@db_option
@json_option
def show_cmd(run_id: int, db: str | None, as_json: bool) -> int:
    """A run in full: experiment, protocol, readout files, plate QC and fits."""
    from labkit.store.models import Run

    store = _open(db)
    try:
        with store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise LabkitError(f"no run {run_id} in {store.display}; `labkit runs list` shows the runs",
                                  field="run")
            if ui().json:
                ui().emit({"ok": True, "store": store.display, "run": _row(run),
                           **{name: [_row(x) for x in getattr(run, name)] for name in ("readouts", "plate_qc", "fits")}})
            else:
                click.echo(_show_text(run))
    finally:
        store.close()
    return 0


def _row(obj: Base) -> dict:
    """A stored row (a Run, Readout, PlateQC or Fit) as a plain mapping of its columns."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _g(x: object, spec: str = ".3g") -> str:
    return "-" if x is None else format(x, spec)


def _show_text(run) -> str:  # noqa: ANN001
    lines = [f"run {run.id} (version {run.version}" + (f", re-analysis of run {run.previous_id})" if run.previous_id
                                                      else ")"),
             f"  recorded    {run.created_at:%Y-%m-%d %H:%M:%S} UTC by {run.user or '?'} on {run.host or '?'}",
             f"  assay       {run.assay}: {run.experiment}",
             f"  layout      {run.layout_path} (sha256 {run.layout_sha256[:12]}…)",
             "  protocol    " + (f"{run.protocol_path} ({run.robot}, sha256 {(run.protocol_sha256 or '')[:12]}…), "
                                  f"simulation {'ok' if run.simulation_ok else 'FAILED' if run.simulation_ok is False else '?'}"
                                  if run.protocol_path else "not recorded (labkit analyze does not know it)"),
             f"  software    labkit {run.labkit_version}, opentrons {run.opentrons_version or '-'}",
             f"  options     {run.options}",
             "  readouts"]
    for r in run.readouts:
        meta = ", ".join(f"{k}: {v}" for k, v in r.meta.items() if k != "detected_because")
        lines.append(f"    {r.path} ({r.format or '?'}, {r.bytes} bytes, sha256 {r.sha256[:12]}…)"
                     + (f" {meta}" if meta else ""))
    lines.append("  plate QC")
    for q in run.plate_qc:
        lines.append(f"    {q.plate:<10} {q.group_name:<10} Z′ {_g(q.z_prime, '.3f')}  vehicle {_g(q.vehicle_mean)} "
                     f"(CV {_g(q.vehicle_cv_pct, '.1f')} %)  {q.low_role} {_g(q.low_mean)}  {q.flags or 'ok'}")
    lines.append("  fits")
    for f in run.fits:
        ic = "-" if f.ic50_m is None else f"{f.ic50_m * 1e9:.3g} nM"
        ci = "" if f.ic50_ci_low_m is None or f.ic50_ci_high_m is None else \
            f" [{f.ic50_ci_low_m * 1e9:.3g}, {f.ic50_ci_high_m * 1e9:.3g}]"
        lines.append(f"    {f.compound:<16} {f.group_name:<10} IC50 {ic}{ci}  Hill {_g(f.hill, '.2f')}  "
                     f"R² {_g(f.r2, '.3f')}  {f.flags or ''}")
    if run.notes:
        lines += ["  notes"] + [f"    - {n}" for n in run.notes]
    return "\n".join(lines)


@runs.command("export")
@click.argument("table", type=click.Choice(["runs", "readouts", "plate_qc", "fits"]))
@db_option
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV or Parquet file (by extension).")
@click.option("--run", "run_ids", type=int, multiple=True, help="Only these runs (repeat).")
@json_option
def export_cmd(table: str, db: str | None, output: Path, run_ids: tuple[int, ...], as_json: bool) -> int:
    """Export a table of the store as CSV or Parquet (JSON columns spread into columns)."""
    from labkit.store.export import export_table

    store = _open(db)
    try:
        n = export_table(store, table, output, run_ids=list(run_ids) or None)
    finally:
        store.close()
    ui().result(f"wrote {n} {table} row(s) to {output}", err=True)
    if ui().json:
        ui().emit({"ok": True, "store": store.display, "table": table, "rows": n, "output": output})
    return 0


@click.command("history", context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option("--assay", default=None, help="Only this assay (default: every assay in the store).")
@click.option("--reference", default=None, metavar="COMPOUND",
              help="Reference compound for the pIC50 chart (default: the layouts' 'reference' compound, "
                   "else the compound in most runs).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("history"),
              show_default=True, help="Folder for history.html, the PNG charts and the CSV tables.")
@click.option("--baseline", type=click.IntRange(3, None), default=20, show_default=True,
              help="Runs that fix the control limits once the history is that long.")
@click.option("--fail-on-out-of-control", "fail_ooc", is_flag=True,
              help="Exit 1 when any run is out of control (for a scheduled check); the report is written first.")
@json_option
def history(db: str | None, assay: str | None, reference: str | None, out_dir: Path, baseline: int,
            fail_ooc: bool, as_json: bool) -> int:
    """Control charts (Z′, vehicle and no-enzyme / no-cell signal, reference pIC50 with mean ± 3 SD and
    Westgard run rules), compound potency across runs (geometric mean, 95 % CI, MSR) and runs out of control.

    Exit 0 (also when runs are out of control: the report says which), 1 with --fail-on-out-of-control when a
    run is out of control, 2 bad input.

    \b
    Example:
      labkit history -o out/history
      labkit history --assay kinase_radiometric --reference staurosporine --db postgresql://lab@db/labkit
      labkit -q history -o out/history --fail-on-out-of-control   # a nightly check
    """
    from labkit.store.history import summary_text, write_history

    store = _open(db)
    try:
        hs, paths = write_history(store, out_dir, assay=assay, reference=reference, baseline=baseline)
    finally:
        store.close()
    out = ui()
    flagged = [{"assay": h.assay, "run_id": int(f.run_id), "reasons": f.reasons}
               for h in hs for f in h.flagged.itertuples(index=False)]
    out.say(f"store: {store.display}")
    out.say(summary_text(hs))
    if out.quiet:
        for f in flagged:
            out.result(f"OUT OF CONTROL {f['assay']} run {f['run_id']}: {f['reasons']}")
    out.result(("" if out.quiet else "\n") + f"wrote {len(paths)} files to {out_dir}; open {paths['html']}")
    if out.json:
        out.emit({"ok": not flagged, "store": store.display, "out_dir": out_dir, "files": paths,
                  "assays": [{"assay": h.assay, "runs": len(h.runs), "reference": h.reference,
                              "potency": h.potency, "notes": h.notes,
                              **{f"potency_{x.label.lower()}": x.potency for x in h.extra}} for h in hs],
                  "out_of_control": flagged})
    return 1 if fail_ooc and flagged else 0
