"""`labkit import`: a reader / counter export -> tidy CSV, optionally joined to its layout."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from labkit.cli_support import json_option, parse_plate_map, plate_map_option, read_option, ui, value_option
from labkit.errors import ReadoutError
from labkit.readout.detect import FORMATS


def how_read(info: dict) -> list[str]:
    """The lines that say which columns / reads of a file were used and what was found but not used."""
    out = [f"columns: {c}" for c in info.get("columns", [])]
    reads = info.get("reads", [])
    if len(reads) > 1:
        listed = ", ".join(f"{r!r}" + (" (used)" if r == info.get("read") else "") for r in reads)
        tail = "" if info.get("read") else "; all kept (column 'read'), choose one with --read NAME"
        out.append(f"reads: {len(reads)} found: {listed}{tail}")
    if info.get("unused"):
        out.append(f"not used: {', '.join(info['unused'])}")
    return out


@click.command("import", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("readout", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", *FORMATS]), help="Override the auto-detected format.")
@click.option("--plate", default=None, help="Keep only this plate (id / barcode, or 1-based number); "
              "a one-plate file is given this plate id.")
@click.option("--layout", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Experiment / layout file: join every well to its role, compound, concentration...")
@plate_map_option
@value_option
@read_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output CSV (default: standard output).")
@click.option("--partial", is_flag=True,
              help="Accept counter grids or lists with fewer wells than their plate format (plates read in part).")
@click.option("--force", is_flag=True,
              help="With --layout: join even a readout whose unit cannot come from the layout's assay, or whose "
                   "plates name no layout plate (joined in order), as `labkit analyze --force` does.")
@json_option
def import_cmd(readout: Path, fmt: str, plate: str | None, layout: Path | None, plate_map: tuple[str, ...],
               value: str | None, read: str | None, output: Path | None, partial: bool, force: bool,
               as_json: bool) -> int:
    """Import a plate-reader / scintillation-counter export as a tidy table (one row per well).

    \b
    Formats (auto-detected; the choice and the reason are printed):
      microbeta  PerkinElmer MicroBeta / MicroBeta2 / TopCount (grid or list)
      envision   PerkinElmer EnVision CSV
      mars       BMG LABTECH MARS (CLARIOstar, PHERAstar)
      gen5       Agilent / BioTek Gen5 text export
      softmax    Molecular Devices SoftMax Pro text export
      tecan      Tecan Magellan / Spark (i-control)
      grid       generic plate grids (CSV, TSV, XLSX)
      long       generic table with a well column
    Markers become flags (OVRFLW/SAT -> overflow, MISSED/- -> missing, * -> invalid), never numbers;
    blank cells are not measured and are left out (a counter plate that is blank throughout keeps its wells,
    flagged missing; a counter grid short of its format's rows is refused unless --partial). Output
    columns: source, plate, well, row, column, value, unit, read, flag (+ the layout columns with --layout).
    Without -o the table goes to standard output; --json (which needs -o) prints what was read instead.

    \b
    Example:
      labkit import counts/KIN-1.csv -o out/KIN-1_readout.csv
      labkit import ctg.csv --layout layouts/viability_km12.yaml -o out/km12_joined.csv
      labkit import counts/KIN-1.csv -o out/KIN-1_readout.csv --json   # {"format", "wells", "flags", ...}
    """
    from labkit.readout import read_with_info

    out = ui()
    if out.json and output is None:
        raise ReadoutError("--json prints the import summary on standard output; give -o FILE for the table",
                           field="output")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df, info = read_with_info(readout, format=fmt, plate=plate, value=value, read=read, partial=partial)
        out.say(f"format: {info['format']} ({info['reason']})", err=True)
        out.say(f"how: {info['note']}", err=True)
        for line in how_read(info):
            out.say(line, err=True)
        if read is not None and not info["read"]:
            out.warn(f"reads: the file has one read; --read {read!r} changed nothing")
        notes: list[str] = []
        if layout is not None:  # the same consistency refusals as `labkit analyze` (one shared function)
            from labkit.layout.io import load_experiment
            from labkit.readout.join import join_checked

            exp = load_experiment(layout)
            df, notes = join_checked([(readout, df)], exp.wells_table(), exp.assay, plate_map=parse_plate_map(plate_map),
                                     force=force, one_read=False)
        elif plate_map or force:
            raise ReadoutError(f"{'--plate-map' if plate_map else '--force'} only makes sense with --layout",
                               field="plate-map" if plate_map else "force")
    shown_notes = [n for n in notes if n not in {str(w.message) for w in caught}]
    for n in shown_notes:
        out.warn(f"note: {n}")
    labkit_warnings: list[str] = []
    for w in caught:
        if issubclass(w.category, Warning) and str(w.message).endswith(info["note"]):
            continue  # already printed as 'how:'
        if w.category.__module__.startswith("labkit"):
            labkit_warnings.append(str(w.message))
            out.warn(f"warning: {w.message}")
        else:  # library warnings (deprecations...) are not the user's business: normal filters decide
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    flags = df["flag"].value_counts().to_dict()
    plates = list(dict.fromkeys(df["plate"]))
    summary = ", ".join(f"{k} {flags[k]}" for k in ("ok", "overflow", "missing", "invalid") if k in flags)
    if output is None:
        df.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        from labkit.safety import atomic_write_text, guard_output

        guard_output(output, [readout] + ([layout] if layout else []))
        atomic_write_text(output, df.to_csv(index=False, lineterminator="\n"))
    out.result(f"{len(df)} wells on {len(plates)} plate(s) ({', '.join(plates)}): {summary}"
               + (f" -> {output}" if output else ""), err=True)
    if out.json:
        out.emit({"ok": True, "readout": readout, "format": info["format"], "reason": info["reason"],
                  "how": info["note"], "columns": info.get("columns", []), "reads": info.get("reads", []),
                  "read": info.get("read"), "unused": info.get("unused", []), "wells": len(df), "plates": plates,
                  "flags": {k: int(v) for k, v in flags.items()}, "layout": layout, "output": output,
                  "notes": shown_notes, "warnings": labkit_warnings})
    return 0
