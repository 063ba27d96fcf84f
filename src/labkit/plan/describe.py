"""The plan as text a person reads (`labkit protocol … --print-plan`)."""

from __future__ import annotations

from labkit.plan.steps import (Comment, Delay, Distribute, Latch, LoadLabware, MoveLabware, Pause, Plan, SetTemperature,
                               Shake, Transfer)


def describe(plan: Plan) -> str:
    """Deck, pipettes, liquids to load, then the numbered steps with volumes, wells and tips."""
    out = [f"# {plan.name} — {plan.robot_type}, tip policy {plan.tip_policy}", ""]
    out.append("Deck:")
    for m in plan.modules:
        out.append(f"  slot {m.slot:>3}: {m.name} [{m.key}]")
    for lw in plan.labware:
        where = f"slot {lw.slot:>3}" if lw.slot and lw.slot != "offdeck" else (
            "off deck" if lw.slot == "offdeck" else f"on {lw.module}")
        later = "" if lw.initial else " (replacement, loaded during the run)"
        out.append(f"  {where}: {lw.load_name} [{lw.key}]{' ' + repr(lw.label) if lw.label else ''}{later}")
    out.append("Pipettes:")
    tips = plan.tips_used()
    for p in plan.pipettes:
        out.append(f"  {p.mount}: {p.name} ({tips.get(p.key, 0)} tip pick-ups)")
    out.append(f"  {plan.tips()} tips in all")
    out.append("Load before the run:")
    from labkit.protocol.emit import _late_loads

    late = {(x[0], x[1], x[2]) for lds in _late_loads(plan).values() for x in lds}  # as the protocol loads them
    batch = {(name, key) for s in plan.steps if isinstance(s, Pause) and s.labware for key in s.labware
             for name in s.loads}
    for ld in plan.loads:
        when = ("" if (ld.liquid, ld.loc.labware, ld.loc.well) not in late else
                "  (with its batch's labware, at the pause)" if (ld.liquid, ld.loc.labware) in batch else
                "  (at the pause before its plate, fresh)")
        out.append(f"  {ld.volume:8.1f} µL  {ld.liquid}  -> {ld.loc.labware} {ld.loc.well}{when}")
    for note in plan.notes:
        out.append(f"  note: {note}")
    for warning in plan.warnings:
        out.append(f"  PLANNER WARNING: {warning}")
    out.append("Steps:")
    pips = {p.key: p.name for p in plan.pipettes}
    for i, s in enumerate(plan.steps, 1):
        if isinstance(s, (Transfer, Distribute)):
            kind = "transfer" if isinstance(s, Transfer) else "multi-dispense"
            if s.nozzles:
                one = "front-right nozzle H12" if "96" in pips.get(s.pipette, "") else "front nozzle"
                kind += f" ({one} only)" if s.nozzles == 1 else f" ({s.nozzles} nozzles, part columns)"
            n_tips = sum(1 for st in s.strokes if st.tip is not None)
            n_disp = sum(len(st.dispenses) for st in s.strokes)
            first = s.strokes[0]
            mix = first.mix_after or first.mix_before
            how = f"; mixes {mix[0]} × {mix[1]:g} µL at {first.mix_rate:g}× the default flow rate" if mix else ""
            out.append(f"  {i:3}. {kind} [{s.pipette}] {s.text} — {len(s.strokes)} aspirate(s), {n_disp} "
                       f"dispense(s), {n_tips} tip(s); first: {first.volume:g} µL from {first.source} -> "
                       f"{', '.join(str(d.loc) for d in first.dispenses[:4])}{' …' if len(first.dispenses) > 4 else ''}"
                       f"{how}")
        elif isinstance(s, Comment):
            out.append(f"  {i:3}. comment: {s.text}")
        elif isinstance(s, Pause):
            out.append(f"  {i:3}. PAUSE: {s.text}")
        elif isinstance(s, Delay):
            out.append(f"  {i:3}. delay {s.minutes:g} min: {s.text}")
        elif isinstance(s, SetTemperature):
            out.append(f"  {i:3}. {s.module}: " + (f"set {s.celsius:g} °C" if s.celsius is not None else "off"))
        elif isinstance(s, Shake):
            out.append(f"  {i:3}. {s.module}: shake {s.rpm} rpm for {s.minutes:g} min")
        elif isinstance(s, Latch):
            out.append(f"  {i:3}. {s.module}: {'open' if s.open else 'close'} latch")
        elif isinstance(s, MoveLabware):
            out.append(f"  {i:3}. move {s.labware} -> {s.to} ({'gripper' if s.gripper else 'by hand'}) {s.text}")
        elif isinstance(s, LoadLabware):
            out.append(f"  {i:3}. load {s.key}")
    return "\n".join(out) + "\n"
