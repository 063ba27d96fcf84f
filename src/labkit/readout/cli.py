"""`labkit import`: a reader / counter export -> tidy CSV, optionally joined to its layout."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from labkit.errors import ReadoutError
from labkit.readout.detect import FORMATS


def _plate_map(items: tuple[str, ...]) -> dict[str, str] | None:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ReadoutError(f"--plate-map wants READOUT_PLATE=LAYOUT_PLATE, got {item!r}", field="plate-map")
        out[key.strip()] = value.strip()
    return out or None


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
@click.option("--plate-map", "plate_map", multiple=True, metavar="READOUT=LAYOUT",
              help="Join readout plate READOUT to layout plate LAYOUT (repeatable); default: by id; plates "
                   "numbered 1..n join the layout's plates by number when that is unambiguous (the mapping "
                   "is printed), else labkit refuses and asks for --plate-map.")
@click.option("--value", "value", default=None, metavar="COLUMN",
              help="Long tables: the value column, when several numeric columns could be it (labkit never "
                   "guesses).")
@click.option("--read", "read", default=None, metavar="NAME",
              help="Multi-read files (e.g. two filters): keep only this read (name, number, or a unique part "
                   "of the name); default: keep every read, in the 'read' column.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output CSV (default: standard output).")
@click.option("--partial", is_flag=True,
              help="Accept counter grids or lists with fewer wells than their plate format (plates read in part).")
@click.option("--force", is_flag=True,
              help="With --layout: join even a readout whose unit cannot come from the layout's assay, or whose "
                   "plates name no layout plate (joined in order), as `labkit analyze --force` does.")
def import_cmd(readout: Path, fmt: str, plate: str | None, layout: Path | None, plate_map: tuple[str, ...],
               value: str | None, read: str | None, output: Path | None, partial: bool, force: bool) -> int:
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

    \b
    Example:
      labkit import counts/KIN-1.csv -o out/KIN-1_readout.csv
      labkit import ctg.csv --layout layouts/viability_km12.yaml -o out/km12_joined.csv
    """
    from labkit.readout import read_with_info

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df, info = read_with_info(readout, format=fmt, plate=plate, value=value, read=read, partial=partial)
        click.echo(f"format: {info['format']} ({info['reason']})", err=True)
        click.echo(f"how: {info['note']}", err=True)
        for line in how_read(info):
            click.echo(line, err=True)
        if read is not None and not info["read"]:
            click.echo(f"reads: the file has one read; --read {read!r} changed nothing", err=True)
        notes: list[str] = []
        if layout is not None:  # the same consistency refusals as `labkit analyze` (one shared function)
            from labkit.layout.io import load_experiment
            from labkit.readout.join import join_checked

            exp = load_experiment(layout)
            df, notes = join_checked([(readout, df)], exp.wells_table(), exp.assay, plate_map=_plate_map(plate_map),
                                     force=force, one_read=False)
        elif plate_map or force:
            raise ReadoutError(f"{'--plate-map' if plate_map else '--force'} only makes sense with --layout",
                               field="plate-map" if plate_map else "force")
    for n in notes:
        if n not in {str(w.message) for w in caught}:
            click.echo(f"note: {n}", err=True)
    for w in caught:
        if issubclass(w.category, Warning) and str(w.message).endswith(info["note"]):
            continue  # already printed as 'how:'
        if w.category.__module__.startswith("labkit"):
            click.echo(f"warning: {w.message}", err=True)
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
    click.echo(f"{len(df)} wells on {len(plates)} plate(s) ({', '.join(plates)}): {summary}"
               + (f" -> {output}" if output else ""), err=True)
    return 0
