"""The CellTiter-Glo viability assay: seed -> (overnight) -> dose (vehicle-matched) -> 72 h -> CTG -> shake -> read."""

from __future__ import annotations

from labkit.labware.specs import ASSAY_PLATE, HS_ADAPTER, RESERVOIR
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.common import (DmsoSeries, Mirror, assay_wells, mirror_classes, mirror_layout, plan_series,
                                solvent_species)
from labkit.plan.stamps import build_arranged, stamp_distribute
from labkit.plan.steps import Delay, Latch, MoveLabware, Pause, Plan, Shake

CELL_ROLES = ("sample", "reference", "vehicle")
DOSED_ROLES = ("sample", "reference", "vehicle", "blank")
REMIX_EVERY = 24  # dispenses between re-mixes of a cell suspension
SHAKE_RPM = 500


def build_viability(config: BuildConfig, exp) -> Plan:
    """The viability plan: with 8-channels (column stamps for cells, medium, the mirrored series, dosing and
    CellTiter-Glo) on a deck arranged for their partial nozzle layouts where the layout allows a mirrored
    intermediate plate; else single-channel, and the plan's warnings say why."""
    b = Builder(config)
    v = exp.volumes
    plates = [(p, f"plate_{i + 1}") for i, p in enumerate(exp.plates)]
    found = mirror_layout(exp, plates, DOSED_ROLES, v.compound)
    if not config.multichannel:
        return build_arranged(config, lambda bb, slots: plan_viability(bb, exp, slots), set())
    multi = {b.pipette_class(v.cells, per_aspirate=2), b.pipette_class(v.well, per_aspirate=2),
             b.pipette_class(v.ctg, per_aspirate=2)}
    if not isinstance(found, Mirror):  # cells, medium and CellTiter-Glo by stamps; the series well by well
        plan = build_arranged(config, lambda bb, slots: plan_viability(bb, exp, slots), multi)
        if not any("no column stamps" in w for w in plan.warnings):
            plan.warnings.append(f"compound dosed one well at a time with a fresh tip each (no column stamps): "
                                 f"{found}")
        return plan
    multi |= mirror_classes(b, exp, v.compound)
    return build_arranged(config, lambda bb, slots: plan_viability(bb, exp, slots), multi)


def plan_viability(b: Builder, exp, slots: dict[str, str] | None = None) -> None:
    """Add the viability-assay steps to the builder (slots: an arranged deck, see plan.stamps.build_arranged)."""
    at = (slots or {}).get
    v, cond = exp.volumes, exp.conditions
    robot = b.robot
    solvent = exp.compounds[0].solvent
    hs = None
    if robot.heater_shaker_slot:
        hs = b.module("hs", "heaterShakerModuleV1", robot.heater_shaker_slot)
    plates = []
    for i, p in enumerate(exp.plates):
        plates.append((p, b.labware(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id, slot=at(f"plate_{i + 1}"))))
    adapters: dict[str, str | None] = {}
    if hs:
        for p, _k in plates:
            name = HS_ADAPTER[ASSAY_PLATE[p.format]]
            if name not in adapters:
                adapters[name] = b.adapter(f"hs_adapter_{len(adapters) + 1}", name, hs) if not adapters else None
        adapters = {name: key for name, key in adapters.items() if key}
    res = b.labware("reservoir", RESERVOIR, label="medium, cells, DMSO, CellTiter-Glo", slot=at("reservoir"))
    series = DmsoSeries(b, exp, res, "Medium", "medium", slots)

    dmso = b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))
    medium = b.liquid("Medium", "complete growth medium, 37 °C", {"medium": 1.0})
    ctg = b.liquid("CellTiter-Glo", "CellTiter-Glo 2.0 reagent at room temperature", {"ctg": 1.0})
    cells = {}
    for c in exp.cell_lines:
        per_ul = c.cells_per_well / v.cells
        cells[c.name] = b.liquid(f"{c.name} cells", f"{c.name} ({c.growth}) at {per_ul * 1000:.4g} cells/mL in "
                                 f"medium ({c.cells_per_well} cells in {v.cells:g} µL); keep mixed",
                                 {f"cells:{c.name}": per_ul, "medium": 1.0})
    lines = {c.name: c for c in exp.cell_lines}
    adherent = any(c.growth == "adherent" for c in exp.cell_lines)

    plan_series(series, exp, plates, DOSED_ROLES, v.compound)
    for note in list(b.plan.notes):
        b.comment(f"Before dosing: {note}")

    # 1. seed: cells (re-mixed while dispensing), medium for blanks and edge wells
    for p, key in plates:
        for name, line in lines.items():
            dests = [w.name for w in assay_wells(exp, p.id, CELL_ROLES) if w.cell_line == name]
            if dests:
                pip = b.choose(v.cells, per_aspirate=len(dests))
                mixv = min(b.spec(pip).max_ul, 200.0)
                stamp_distribute(b, f"{p.id}: seed {v.cells:g} µL {name} cells ({line.growth}), re-mixed every "
                                 f"{REMIX_EVERY} dispenses", pip, b.pool(res, cells[name]), key, dests, v.cells,
                                 mix=(3, mixv), remix_every=REMIX_EVERY)
        blanks = [w.name for w in assay_wells(exp, p.id, ("blank",))]
        if blanks:
            pip = b.choose(v.cells, per_aspirate=len(blanks))
            stamp_distribute(b, f"{p.id}: {v.cells:g} µL medium into the blank (no cells) wells", pip,
                             b.pool(res, medium), key, blanks, v.cells)
        edge = [w.name for w in assay_wells(exp, p.id, ("buffer",))]
        if edge:
            pip = b.choose(v.well, per_aspirate=len(edge))
            stamp_distribute(b, f"{p.id}: {v.well:g} µL medium into the edge (buffer) wells", pip,
                             b.pool(res, medium), key, edge, v.well)
    if adherent:
        b.add(Pause("Seeding done. Incubate the plate(s) overnight (37 °C, 5 % CO2) so the cells attach; then put "
                    "them back in the same slots with fresh solvent and medium in the reservoir, and resume.", phase=True))
    else:
        b.comment("Suspension cells: dosed the same day")

    # 2. compound series and intermediates in medium
    series.run(b.reservoir_well(res, dmso), b.plan.tip_policy)

    # 3. dose: fresh tip every well (or every column stamp)
    for p, key in plates:
        series.dose(f"{p.id}: dose {v.compound:g} µL intermediate (vehicle and blank wells: {solvent} in medium)",
                    key, assay_wells(exp, p.id, DOSED_ROLES), v.compound)
    b.add(Pause(f"Dosing done. Incubate {cond.incubation_h:g} h at 37 °C, 5 % CO2; then put the plate(s) back in "
                "the same slots, with CellTiter-Glo at room temperature in the reservoir, and resume.", phase=True))
    if cond.equilibrate_min > 0:
        b.add(Delay(cond.equilibrate_min, f"Equilibrate plate(s) and CellTiter-Glo to room temperature, "
                                          f"{cond.equilibrate_min:g} min"))
    for p, key in plates:
        dests = [w.name for w in assay_wells(exp, p.id, DOSED_ROLES)]
        pip = b.choose(v.ctg, per_aspirate=len(dests))
        stamp_distribute(b, f"{p.id}: {v.ctg:g} µL CellTiter-Glo (= the medium volume), non-contact", pip,
                         b.pool(res, ctg), key, dests, v.ctg)
        if hs:
            adapter = adapters.get(HS_ADAPTER[ASSAY_PLATE[p.format]])
            if adapter is None:
                b.add(Pause(f"{p.id}: shake on an orbital shaker for {cond.shake_min:g} min, then put it back"))
                continue
            slot = b.plan.labware_by_key()[key].slot
            b.add(Latch(hs, True))
            b.add(MoveLabware(key, adapter, True, f"{p.id} onto the heater-shaker"))
            b.add(Latch(hs, False))
            b.add(Shake(hs, SHAKE_RPM, cond.shake_min))
            b.add(Latch(hs, True))
            b.add(MoveLabware(key, slot, True, f"{p.id} back to slot {slot}"))
            b.add(Latch(hs, False))
        else:
            b.add(Pause(f"{p.id}: shake on an orbital shaker for {cond.shake_min:g} min to lyse the cells, then put "
                        "it back and resume"))
    if cond.signal_delay_min > 0:
        b.add(Delay(cond.signal_delay_min, f"Let the luminescence signal settle, {cond.signal_delay_min:g} min"))
    b.add(Pause("Read luminescence (RLU) on the plate reader: " + ", ".join(p.id for p, _k in plates)))
