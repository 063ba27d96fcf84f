"""The CellTiter-Glo viability assay: seed -> (overnight) -> dose (vehicle-matched) -> 72 h -> CTG -> shake -> read.

Cells grow in white opaque tissue-culture plates: CellTiter-Glo is read in opaque-walled plates (Promega TB288).
A time-zero plate (layout `time_zero`, for GR metrics) is seeded by the robot from the same suspension, in the same
step as the assay plates, and read by hand at the time of dosing: the operator takes it off the deck at the pause
before dosing, lets it reach room temperature, adds CellTiter-Glo with a multichannel pipette and reads it while the
robot doses (the reservoir then holds warm medium and DMSO, and the 30 min equilibration of that plate must not hold
up the dosing of the others). Kill-control wells (layout `kill_control`) get the kill-control solution instead of
the intermediate.
"""

from __future__ import annotations

from labkit.labware.specs import HS_ADAPTER, RESERVOIR, WHITE_TC_NAME, WHITE_TC_PLATE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.common import (DmsoSeries, Mirror, assay_wells, mirror_classes, mirror_layout, plan_series,
                                solvent_species)
from labkit.plan.stamps import build_arranged, stamp_distribute
from labkit.plan.steps import Delay, Latch, Loc, MoveLabware, Pause, Plan, Shake

CELL_ROLES = ("sample", "reference", "vehicle", "kill")
DOSED_ROLES = ("sample", "reference", "vehicle", "blank")  # dosed from the intermediate plate
CTG_ROLES = DOSED_ROLES + ("kill",)  # kill wells are dosed with the kill control instead
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


def cell_suspensions(b: Builder, exp) -> dict[str, str]:
    """Per cell line: its suspension at the strength that puts `cells_per_well` into `volumes.cells` µL."""
    v, cells = exp.volumes, {}
    for c in exp.cell_lines:
        per_ul = c.cells_per_well / v.cells
        cells[c.name] = b.liquid(f"{c.name} cells", f"{c.name} ({c.growth}) at {per_ul * 1000:.4g} cells/mL in "
                                 f"medium ({c.cells_per_well} cells in {v.cells:g} µL); keep mixed",
                                 {f"cells:{c.name}": per_ul, "medium": 1.0})
    return cells


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
        plates.append((p, b.labware(f"plate_{i + 1}", WHITE_TC_PLATE[p.format], label=p.id,
                                    slot=at(f"plate_{i + 1}"))))
    b.comment("Assay plates: " + "; ".join(sorted({WHITE_TC_NAME[p.format] for p, _k in plates})) + " (opaque "
              "walls for luminescence, Promega TB288)")
    tz = exp.time_zero
    t0_key = None
    if tz is not None:
        t0_key = b.labware("plate_t0", WHITE_TC_PLATE[tz.format or exp.plates[0].format], label=tz.plate,
                           slot=at("plate_t0"))
    adapters: dict[str, str | None] = {}
    if hs:
        for p, _k in plates:
            name = HS_ADAPTER[WHITE_TC_PLATE[p.format]]
            if name not in adapters:
                adapters[name] = b.adapter(f"hs_adapter_{len(adapters) + 1}", name, hs) if not adapters else None
        adapters = {name: key for name, key in adapters.items() if key}
    res = b.labware("reservoir", RESERVOIR, label="medium, cells, DMSO, CellTiter-Glo", slot=at("reservoir"))
    series = DmsoSeries(b, exp, res, "Medium", "medium", slots)

    dmso = b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))
    medium = b.liquid("Medium", "complete growth medium, 37 °C", {"medium": 1.0})
    ctg = b.liquid("CellTiter-Glo", "CellTiter-Glo 2.0 reagent at room temperature", {"ctg": 1.0})
    cells = cell_suspensions(b, exp)
    lines = {c.name: c for c in exp.cell_lines}
    kill = None
    if exp.kill_control is not None and any(w.role == "kill" for p in exp.plates for w in exp.wells[p.id]):
        k, frac = exp.kill_control, exp.scheme(exp.compounds[0]).solvent_fraction
        fold = v.well / v.compound
        kill = b.liquid(f"{k.compound} (kill control)", f"Prepare by hand: {k.compound} at {k.conc * fold * 1e6:.4g} "
                        f"µM in medium with {frac * fold:.2%} {solvent} (the {k.stock * 1e3:g} mM stock diluted in "
                        f"{solvent} to {k.conc / frac * 1e3:.4g} mM, then 1:{1 / (frac * fold):.4g} in medium), so "
                        f"the kill wells end at {k.conc * 1e6:g} µM with the plate's {frac:.2%} {solvent}",
                        {f"compound:{k.compound}": k.conc * fold, f"solvent:{solvent}": frac * fold, "medium": 1.0})
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
        if t0_key is not None and tz is not None and p is exp.plates[0]:
            t0_wells = exp.time_zero_wells()
            for name in lines:
                dests = [w for w, cl in t0_wells if cl == name]
                if dests:
                    pip = b.choose(v.cells, per_aspirate=len(dests))
                    stamp_distribute(b, f"{tz.plate}: seed {v.cells:g} µL {name} cells into the time-zero wells "
                                     "(the same suspension)", pip, b.pool(res, cells[name]), t0_key, dests, v.cells,
                                     mix=(3, min(b.spec(pip).max_ul, 200.0)), remix_every=REMIX_EVERY)
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
    if tz is not None:
        b.add(Pause(f"Time-zero plate {tz.plate}: take it off the deck now (the time of dosing) and read it by hand: "
                    f"{cond.equilibrate_min:g} min to room temperature, {v.cells:g} µL CellTiter-Glo into each of its "
                    f"{len(exp.time_zero_wells())} cell wells (= the medium volume), {cond.shake_min:g} min orbital "
                    f"shake, {cond.signal_delay_min:g} min, read luminescence (RLU) and export it with plate id "
                    f"{tz.plate}: the cell number at dosing for GR metrics. Resume to dose."))

    # 2. compound series and intermediates in medium
    series.run(b.reservoir_well(res, dmso), b.plan.tip_policy)

    # 3. dose: fresh tip every well (or every column stamp)
    for p, key in plates:
        series.dose(f"{p.id}: dose {v.compound:g} µL intermediate (vehicle and blank wells: {solvent} in medium)",
                    key, assay_wells(exp, p.id, DOSED_ROLES), v.compound)
        kills = [Loc(key, w.name) for w in assay_wells(exp, p.id, ("kill",))]
        if kills and kill is not None:
            b.transfer(f"{p.id}: {v.compound:g} µL kill control into the kill wells, a fresh tip every well",
                       b.choose(v.compound), [(b.pool(res, kill), d, v.compound) for d in kills], new_tip="always")
    b.add(Pause(f"Dosing done. Incubate {cond.incubation_h:g} h at 37 °C, 5 % CO2; then put the plate(s) back in "
                "the same slots, with CellTiter-Glo at room temperature in the reservoir, and resume.", phase=True))
    if cond.equilibrate_min > 0:
        b.add(Delay(cond.equilibrate_min, f"Equilibrate plate(s) and CellTiter-Glo to room temperature, "
                                          f"{cond.equilibrate_min:g} min"))
    for p, key in plates:
        dests = [w.name for w in assay_wells(exp, p.id, CTG_ROLES)]
        pip = b.choose(v.ctg, per_aspirate=len(dests))
        stamp_distribute(b, f"{p.id}: {v.ctg:g} µL CellTiter-Glo (= the medium volume), non-contact", pip,
                         b.pool(res, ctg), key, dests, v.ctg)
        if hs:
            adapter = adapters.get(HS_ADAPTER[WHITE_TC_PLATE[p.format]])
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
