"""`labkit layout validate|show|schema`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from labkit.cli_support import json_option, ui
from labkit.errors import LabkitError


@click.group()
def layout() -> None:
    """Validate, show and describe plate layouts (experiment files in layouts/).

    \b
    Example:
      labkit layout validate layouts/*.yaml
      labkit layout show layouts/kinase_panel.yaml --png out/maps
      labkit layout schema > layout.schema.json
    """


@layout.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--robot", "robots", type=click.Choice(["ot2", "flex"]), multiple=True,
              help="robots the layout must run on (default: both); the planner is run for each")
@json_option
def validate(files: tuple[Path, ...], robots: tuple[str, ...], as_json: bool) -> int:
    """Check experiment files; print every problem with its line and field path.

    Also plans each layout for the robots (default OT-2 and Flex): a layout the planner cannot run is refused
    here, with what is not supported and what to change, not later by `labkit protocol`.

    \b
    Example:
      labkit layout validate layouts/*.yaml
      labkit layout validate layouts/*.yaml --json   # {"ok", "files": [{"file", "ok", "assay", ...}]}
    """
    from labkit.cli_support import error_doc
    from labkit.layout.io import load_experiment
    from labkit.plan import PROTOCOL_FORMATS, build_plan

    out = ui()
    bad = []
    reports: list[dict] = []
    for f in files:
        planned: list[str] = []
        try:
            exp = load_experiment(f)
            analysis_only = any(p.format not in PROTOCOL_FORMATS for p in exp.plates)
            for robot in () if analysis_only else robots or ("ot2", "flex"):
                try:
                    plan = build_plan(exp, robot)
                except LabkitError as exc:
                    raise LabkitError(f"the {'OT-2' if robot == 'ot2' else 'Flex'} cannot run this layout: "
                                      f"{exc.message}", file=f, field=exc.field, problems=exc.problems) from None
                planned.append(robot)
                for w in plan.warnings:
                    out.detail(f"{f} ({robot}): planner warning: {w}")
        except LabkitError as exc:
            if not out.json:
                click.echo(f"labkit: error: {exc}", err=True)
            bad.append(f)
            reports.append({"file": str(f), "ok": False, "error": error_doc(exc, exc.exit_code)["error"]})
            continue
        advisories = exp.advisories()
        for msg in advisories:  # warnings: the layout runs, but a scientist should know (exit 0)
            out.warn(f"{f}: warning: {msg}")
        n = {p.id: sum(1 for w in exp.wells[p.id] if w.role not in ("empty", "buffer")) for p in exp.plates}
        reports.append({"file": str(f), "ok": True, "assay": exp.assay, "assay_wells": n,
                        "analysis_only": analysis_only, "robots_planned": planned, "warnings": advisories,
                        "error": None})
        out.say(f"{f}: ok ({exp.assay}, {len(exp.plates)} plate(s), assay wells per plate: "
                + ", ".join(f"{k} {v}" for k, v in n.items()) + ")"
                + ("; analysis only: no protocol for 1536-well plates" if analysis_only else "")
                + _time_zero_text(exp))
    if out.json:
        out.emit({"ok": not bad, "files": reports})
    elif out.quiet:
        out.result(f"{len(files) - len(bad)} of {len(files)} layout(s) ok")
    return 2 if bad else 0


@layout.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--png", "png_dir", type=click.Path(file_okay=False, path_type=Path),
              help="also write one PNG plate map per plate into this folder")
@click.option("--table", is_flag=True, help="print the wells table (CSV) instead of the map")
@json_option
def show(file: Path, png_dir: Path | None, table: bool, as_json: bool) -> None:
    """Print the plate maps (and dilution schemes) of an experiment file.

    \b
    Example:
      labkit layout show layouts/viability_km12.yaml --png out/maps
    """
    from labkit.layout.io import load_experiment
    from labkit.layout.render import map_plates, plate_png, text_map

    exp = load_experiment(file)
    out = ui()
    doc = {"file": str(file), "name": exp.name, "assay": exp.assay,
           "plates": [{"id": p.id, "format": p.format} for p in exp.plates],
           "dilutions": {c.name: exp.scheme(c).describe() for c in exp.compounds}, "wells": exp.wells_table(),
           "png": []}
    if table and not out.json:
        click.echo(exp.wells_table().to_csv(index=False), nl=False)
        return
    if not table:  # the maps are this command's product: printed with -q too (not with --json)
        out.result(f"{exp.name}: {exp.assay}")
        for c in exp.compounds:
            out.result("  " + exp.scheme(c).describe())
        for plate_id in map_plates(exp):  # the assay plates, then a time-zero plate
            out.result("")
            out.result(text_map(exp, plate_id))
    if png_dir is not None:  # all maps or none; a plate id never leaves the folder ('x/../y' -> 'x_.._y')
        from labkit.safety import guard_output_dir, inside, safe_name, staged_dir

        names: dict[str, str] = {}
        for i, plate_id in enumerate(map_plates(exp)):
            name = f"{safe_name(file.stem)}_{safe_name(plate_id, 'plate')}"
            names[plate_id] = f"{name}_{i + 1}.png" if f"{name}.png" in names.values() else f"{name}.png"
        guard_output_dir(png_dir, [file], tuple(names.values()), folders=())
        with staged_dir(png_dir) as stage:
            for plate_id in names:
                plate_png(exp, plate_id, inside(stage, names[plate_id]))
        doc["png"] = [png_dir / name for name in names.values()]
        for name in names.values():
            out.result(f"wrote {png_dir / name}")
    if out.json:
        out.emit(doc)


@layout.command()
def schema() -> None:
    """Print the JSON Schema of the experiment file format (for editor autocompletion).

    \b
    Example:
      labkit layout schema > layout.schema.json
    """
    from labkit.layout.io import schema_text

    click.echo(schema_text())


def _time_zero_text(exp: Any) -> str:
    """'; time-zero plate T0 (6 wells, for GR)' for a layout with a time-zero plate, else ''."""
    tz = getattr(exp, "time_zero", None)
    return f"; time-zero plate {tz.plate} ({len(exp.time_zero_wells())} wells, for GR)" if tz is not None else ""
