"""`labkit protocol`: layout -> checked plan -> standalone Opentrons protocol."""

from __future__ import annotations

from pathlib import Path

import click

from labkit.api import generate, make_protocol
from labkit.cli_support import json_option, ui

ROBOT_CHOICES = ("ot2", "flex")
__all__ = ["ROBOT_CHOICES", "generate", "protocol", "protocol_path", "regenerate_all"]


def protocol_path(layout: str | Path, robot: str, out_dir: str | Path, pipettes: str = "standard") -> Path:
    """protocols/<layout stem>_<robot>.py (the Flex 96-channel's: <layout stem>_flex96.py)."""
    suffix = f"{robot}96" if str(pipettes) == "96" else robot
    return Path(out_dir) / f"{Path(layout).stem}_{suffix}.py"


def regenerate_all(layouts_dir: str | Path = "layouts", out_dir: str | Path = "protocols") -> list[Path]:
    """(Re)write the protocol of every layouts/*.yaml for both robots (layouts with 1536-well plates, which are
    analysis-only, are skipped), and the Flex 96-channel's for the layouts it can run (plan.stamp96.unsupported96);
    returns the paths written.

    All or nothing: every layout is validated and every protocol generated before the first file is written;
    if any layout fails, the error lists every failing file and protocols/ is left as it was.
    """
    from labkit.errors import LabkitError
    from labkit.layout.io import load_experiment
    from labkit.plan import PROTOCOL_FORMATS
    from labkit.plan.stamp96 import unsupported96
    from labkit.progress import track
    from labkit.safety import atomic_write_text, output_dir, staged_dir

    layouts = sorted(Path(layouts_dir).glob("*.yaml"))
    if not layouts:
        raise LabkitError("no *.yaml layouts in this folder; run --all from the project folder", file=layouts_dir)
    texts: dict[Path, str] = {}
    failed: list[str] = []
    for layout in track(layouts, desc="protocols", unit="layout"):
        try:
            exp = load_experiment(layout)
            if any(p.format not in PROTOCOL_FORMATS for p in exp.plates):
                continue  # an analysis-only layout (1536-well): no protocol, by design
        except LabkitError as exc:
            failed.append(str(exc))
            continue
        jobs = [(robot, "standard") for robot in ROBOT_CHOICES]
        jobs += [] if unsupported96(exp) else [("flex", "96")]
        for robot, pipettes in jobs:
            try:
                texts[protocol_path(layout, robot, out_dir, pipettes)] = generate(layout, robot, pipettes=pipettes)
            except LabkitError as exc:
                what = robot if pipettes == "standard" else f"{robot}, 96-channel"
                failed.append(f"{layout} ({what}): {exc}" if exc.file is None else f"{exc} [{what}]")
                break
    if failed:
        raise LabkitError(f"{len(failed)} of {len(layouts)} layout(s) failed; no protocol was written",
                          file=layouts_dir, problems=failed)
    out = output_dir(out_dir)
    with staged_dir(out) as stage:
        for path, text in texts.items():
            atomic_write_text(stage / path.name, text)
    return list(texts)


@click.command("protocol")
@click.argument("layout", type=click.Path(dir_okay=False), required=False)
@click.option("--robot", type=click.Choice(ROBOT_CHOICES), default="ot2", show_default=True, help="Target robot.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the protocol here (default: stdout).")
@click.option("--tip-policy", type=click.Choice(["per_step", "per_series"]), default="per_step", show_default=True,
              help="per_step: a fresh tip for every dilution step; per_series: one tip along a series.")
@click.option("--multichannel/--single-channel", default=True, show_default=True,
              help="Use 8-channel pipettes for whole and part columns where that saves time at no tip cost "
                   "(--single-channel: single-channel pipettes only).")
@click.option("--pipettes", type=click.Choice(["standard", "96"]), default="standard", show_default=True,
              help="standard: single- and 8-channel pipettes; 96: the Flex 96-channel (whole-plate stamps from "
                   "patterned source plates, tip racks moved by the gripper; --robot flex, 96-well plates, kinase "
                   "and viability assays).")
@click.option("--print-plan", is_flag=True, help="Print the plan for a person instead of the protocol.")
@click.option("--all", "all_", is_flag=True, help="Regenerate protocols/ for every layouts/*.yaml and both robots.")
@json_option
def protocol(layout: str | None, robot: str, output: str | None, tip_policy: str, multichannel: bool,
             pipettes: str, print_plan: bool, all_: bool, as_json: bool) -> int:
    """Generate a standalone Opentrons protocol (API 2.20) from a layout.

    \b
    Example:
      labkit protocol layouts/kinase_panel.yaml --robot flex -o kinase_flex.py
      labkit protocol layouts/dilution_tutorial.yaml --print-plan
      labkit protocol layouts/kinase_panel.yaml --single-channel -o kinase_1ch.py
      labkit protocol layouts/kinase_panel.yaml --robot flex --pipettes 96 -o kinase_flex96.py
      labkit protocol --all            # rebuild protocols/ from layouts/
      labkit protocol layouts/kinase_panel.yaml -o k.py --json   # {"output", "sha256", "warnings", ...}

    With --json and no -o the protocol text is in the document ("protocol"); with --print-plan, the plan
    ("plan_text"). -v prints the planner's warnings (where the protocol does less than it could).
    """
    import hashlib

    from labkit.errors import LabkitError

    out = ui()
    if all_:
        written = regenerate_all()
        for path in written:
            out.say(f"wrote {path}")
        if out.json:
            out.emit({"ok": True, "wrote": written})
        elif out.quiet:
            out.result(f"wrote {len(written)} protocol(s) to {written[0].parent if written else 'protocols'}")
        return 0
    if layout is None:
        raise LabkitError("give a LAYOUT file (or --all)")
    from labkit.api import load

    made = make_protocol(load(layout), robot, tip_policy=tip_policy, multichannel=multichannel, pipettes=pipettes)
    for w in made.plan.warnings:
        out.detail(f"planner warning: {w}")
    for n in made.plan.notes:
        out.detail(f"note: {n}")
    plan_text = made.describe() if print_plan else None
    if print_plan and not out.json:
        click.echo(plan_text, nl=False)
    elif output:
        made.write(output)
        out.result(f"wrote {output}", err=True)
    elif not out.json:
        click.echo(made.text, nl=False)
    if out.json:
        out.emit({"ok": True, "layout": layout, "robot": robot, "output": output if output and not print_plan
                  else None, "sha256": hashlib.sha256(made.text.encode("utf-8")).hexdigest(),
                  "bytes": len(made.text.encode("utf-8")), "warnings": made.plan.warnings, "notes": made.plan.notes,
                  "protocol": None if output or print_plan else made.text, "plan_text": plan_text})
    return 0
