"""`labkit simulate PROTOCOL [--json] [--layout LAYOUT]`: analysis, cost, per-well ledger and layout verification."""

from __future__ import annotations

from pathlib import Path

import click

from labkit.cli_support import json_option, ui
from labkit.errors import LayoutError, SimulationError, SimulationTimeout


def _param(values: tuple[str, ...]) -> dict:
    """NAME=VALUE pairs -> runtime parameter values (true/false, numbers, else text)."""
    out: dict = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise SimulationError(f"--param expects NAME=VALUE, got {item!r}", field="--param")
        low = raw.strip().lower()
        if low in ("true", "false"):
            out[name] = low == "true"
        else:
            try:
                out[name] = int(raw)
            except ValueError:
                try:
                    out[name] = float(raw)
                except ValueError:
                    out[name] = raw
    return out


def _load_layout(path: str):
    """The Experiment of a layout file, or None with a reason."""
    try:
        from labkit.layout.io import load_experiment
    except ImportError as exc:  # pragma: no cover - the layout package is part of labkit
        return None, f"layout support is not available ({exc}); verification skipped"
    return load_experiment(path), ""


@click.command("simulate")
@click.argument("protocol", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option("--layout", type=click.Path(dir_okay=False, path_type=Path),
              help="Experiment file the protocol was made from: also verify the plate against it.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Runtime parameter value for the analysis (repeatable), e.g. --param dry_run=true.")
@click.option("--wells/--no-wells", default=True, show_default=True, help="Print the per-well ledger table.")
@click.option("--in-process", is_flag=True, help="Run the analysis in this process (faster, less isolated).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              help="Stop the analysis after this many seconds (a protocol that sleeps or loops forever).")
def simulate(protocol: Path, as_json: bool, layout: Path | None, params: tuple[str, ...], wells: bool,
             in_process: bool, timeout: float) -> int:
    """Run the Opentrons analysis on PROTOCOL, replay it into a per-well ledger and estimate its cost.

    Prints pass/fail with the engine's errors, tips used, aspirate/dispense counts, the estimated deck time and
    the per-well ledger; with --layout also checks every well against the layout (concentration within 1 %,
    equal DMSO within the limit, no overflow, no cross-contaminating tip) and against its assay's recipe (every
    component, the reagents after, the plate that is read, the timing), each check with its count, and says
    what was not checked. Exit 0 pass, 1 fail (or the analysis did not finish within --timeout), 2 bad input.

    The analysis executes the protocol's Python, as the Opentrons App and robot do: run protocols you did not
    write in a sandbox (a container or VM without your files or network).

    \b
    Example:
      labkit simulate protocols/kinase_panel_flex.py --layout layouts/kinase_panel.yaml
      labkit simulate protocols/kinase_panel_flex.py --json > kinase_flex.json
    """
    from labkit.simulate import simulate as run_simulation
    from labkit.simulate.cost import format_duration
    from labkit.simulate.verify import verify_experiment

    if not protocol.is_file():
        raise SimulationError("no such protocol file", file=protocol)
    layout_info, skip_reason = (None, "")
    if layout is not None:
        if not layout.is_file():
            raise LayoutError("no such layout file", file=layout)
        layout_info, skip_reason = _load_layout(str(layout))
    try:
        sim = run_simulation(protocol, in_process=in_process, rtp_values=_param(params) or None, timeout=timeout)
    except SimulationTimeout as exc:
        if in_process:  # the protocol's thread cannot be stopped from Python: end the process, not hang in it
            import os
            import sys

            from labkit.cli_support import dumps, error_doc

            if ui().json:
                click.echo(dumps(error_doc(exc, exc.exit_code)))
            click.echo(f"labkit: error: {exc}", err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.exit_code)
        raise
    report = None
    if layout_info is not None:
        report = verify_experiment(sim.ledger, layout_info, sim.timeline)
    ok = sim.ok and (report is None or report.ok)

    warnings = [str((c.get("params") or {}).get("message", "")) for c in sim.analysis.get("commands", [])
                if c.get("commandType") == "comment"
                and str((c.get("params") or {}).get("message", "")).startswith("Planner warning:")]
    if as_json:
        doc = {
            "planner_warnings": warnings,
            "protocol": str(protocol), "ok": ok,
            "analysis": {"result": sim.analysis.get("result"), "robot": sim.robot, "api_level": sim.api_level,
                         "commands": len(sim.analysis.get("commands", [])),
                         "errors": [{"message": e.message, "type": e.error_type, "command_index": e.command_index,
                                     "command_type": e.command_type, "line": e.line} for e in sim.errors]},
            "cost": sim.cost.to_dict(),
            "ledger": sim.ledger.to_dict(),
            "verify": report.to_dict() if report is not None else None,
        }
        if skip_reason:
            doc["verify_skipped"] = skip_reason
        ui().emit(doc)  # NaN / inf become null
        return 0 if ok else 1

    out = ui()
    c = sim.cost
    head = "PASS" if not sim.errors and sim.analysis.get("result") == "ok" else "FAIL"
    out.say(f"{protocol}: Opentrons analysis {head} ({sim.robot}, apiLevel {sim.api_level}, "
            f"{len(sim.analysis.get('commands', []))} commands)")
    for e in sim.errors:
        out.result(f"  engine error: {e}")
    for w in warnings:
        out.say(w.replace("Planner warning:", "PLANNER WARNING (the protocol does less than it could):", 1))
    out.say(f"tips used: {c.tips_used}   aspirates: {c.aspirates}   dispenses: {c.dispenses}   "
            f"mix cycles: {c.mix_cycles}   moves: {c.moves}")
    out.say(f"estimated deck time: {format_duration(c.time_s)} "
            f"({format_duration(c.time_without_delays_s)} without delays)")
    if c.pauses:
        out.say(f"manual steps ({len(c.pauses)}):")
        for msg in c.pauses:
            out.say(f"  - {msg}")
    if wells:
        tab = sim.ledger.table()
        if len(tab):
            tab = tab.assign(dmso=tab["dmso"].map(lambda v: f"{v:.3%}"),
                             hot=tab["hot"].map(lambda v: "hot" if v else ""),
                             overflow=tab["overflow"].map(lambda v: "OVERFLOW" if v else ""))
            tab = tab.drop(columns=["max_uL", "noncontact", "underflow_uL"])
            out.say("per-well ledger:")
            out.say(tab.to_string(index=False, max_colwidth=60))
    problems = sim.ledger.problems
    out.say(f"ledger: {len(problems)} problem(s)" + (" (listed under verify)" if problems and report else ""))
    shown = [] if report is not None else problems[:50]  # the verify report lists them too
    for p in shown:
        out.say(f"  - {p}")
    if len(problems) > len(shown) and report is None:
        out.say(f"  … and {len(problems) - len(shown)} more")
    if skip_reason:
        out.say(skip_reason)
    if report is not None:
        if report.ok:
            out.say(report.summary())
        else:
            out.result(report.summary())
    out.result(f"result: {'PASS' if ok else 'FAIL'}" + (f" ({protocol})" if out.quiet else ""))
    return 0 if ok else 1
