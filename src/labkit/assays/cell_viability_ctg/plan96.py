"""The CellTiter-Glo viability assay with the Flex 96-channel: seed, dose and CellTiter-Glo as whole-plate stamps.

Each assay plate comes to the deck three times (seeding, dosing, read-out) and goes back to the incubator in
between. Seeding stamps from a patterned cell plate laid out like the assay plate (cell wells: the suspension,
re-mixed in every well just before the aspirate; blank, edge and empty wells: medium). Dosing: the 96-channel stamps
a patterned solvent plate (each well its assay well's point of the DMSO series, kill-control wells the kill control
in DMSO at its final concentration / the DMSO fraction, every other well DMSO) into a plate
of medium, mixed — the intermediate, laid out like the assay plate — and with the same tips the intermediate onto
the cells (every well ends at the same medium volume and DMSO fraction). CellTiter-Glo comes from a one-trough
reservoir with one set of tips for all plates (dispensed at the well top, never touching the wells); then the
gripper shakes each plate on the heater-shaker.
"""

from __future__ import annotations

from labkit.assays.cell_viability_ctg.plan import cell_suspensions
from labkit.errors import PlanError
from labkit.labware.specs import HS_ADAPTER, WHITE_TC_PLATE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.stamp96 import (WELLS_96, Stamper, intermediate_plates, mix_for, series_liquids,
                                 stamp_intermediate)
from labkit.plan.steps import Delay, Latch, MoveLabware, Plan, Shake

CELL_ROLES = ("sample", "reference", "vehicle", "kill")
DOSED_ROLES = ("sample", "reference", "vehicle", "blank", "kill")
SHAKE_RPM = 500
# Flex deck (heater-shaker D1, trash bin A3): the 96-channel does not work next to the heater-shaker (C1, D2)
ADAPTER, SEED_RACK, DOSE_RACK, CTG_RACK = "C2", "A1", "A2", "B1"
PLATE, SOURCE, INTER, CTG = "B2", "C3", "B3", "D3"


def build_viability96(config: BuildConfig, exp) -> Plan:
    """The viability plan for the Flex 96-channel (see the module doc)."""
    v, cond = exp.volumes, exp.conditions
    if min(v.cells, v.compound, v.ctg) < 5.0:
        raise PlanError("the 96-channel pipette moves 5 µL at least; volumes.cells, compound and ctg must be 5 µL or "
                        "more", field="volumes")
    b = Builder(config)
    if b.robot.heater_shaker_slot is None:
        raise PlanError(f"the 96-channel viability plan needs a heater-shaker slot, which the {b.robot.key} deck has not")
    hs = b.module("hs", "heaterShakerModuleV1", b.robot.heater_shaker_slot)
    adapter = b.adapter("hs_adapter_1", HS_ADAPTER[WHITE_TC_PLATE[96]], hs)
    s = Stamper(b, max(v.cells, v.compound, v.ctg), ADAPTER)
    tip_ul = float(s.tiprack.rsplit("_", 1)[-1].removesuffix("ul"))

    medium = b.liquid("Medium", "complete growth medium, 37 °C; also in every patterned-plate well that gets no "
                      "cells or compound", {"medium": 1.0})
    ctg = b.liquid("CellTiter-Glo", "CellTiter-Glo 2.0 reagent at room temperature", {"ctg": 1.0})
    cells = cell_suspensions(b, exp)
    series = series_liquids(b, exp)
    roles = {}
    if exp.kill_control is not None and any(w.role == "kill" for p in exp.plates for w in exp.wells[p.id]):
        from labkit.plan.common import solvent_species
        from labkit.units import si_conc

        k, solvent = exp.kill_control, exp.compounds[0].solvent
        source = k.conc / exp.scheme(exp.compounds[0]).solvent_fraction  # diluted like a series point
        comp = {f"compound:{k.compound}": source}
        comp.update(solvent_species(solvent))
        roles["kill"] = b.liquid(f"{k.compound} {si_conc(source)} in {solvent} (kill control)",
                                 f"Prepare by hand: the {si_conc(k.stock)} {k.compound} stock diluted in {solvent} to "
                                 f"{si_conc(source)}; the kill wells end at {si_conc(k.conc)} with the plate's "
                                 f"{solvent} fraction", comp)
    adherent = any(c.growth == "adherent" for c in exp.cell_lines)
    plates = [b.offdeck(f"plate_{i + 1}", WHITE_TC_PLATE[p.format], label=p.id) for i, p in enumerate(exp.plates)]
    trough = s.trough("ctg_trough", CTG, "CellTiter-Glo", ctg)
    ctg_rack = s.rack(CTG_RACK)
    b.plan.notes += [
        "96-channel: per assay plate a patterned cell plate (Corning 96 flat; cell wells: the suspension; blank, edge "
        "and empty wells: medium) and a patterned solvent plate (NEST 96 PCR: each well its assay well's point of "
        "the DMSO series, every other well DMSO), laid out exactly like the assay plate, and a Corning 96 flat plate "
        "with medium in every well for the intermediate the robot makes; prepare them by hand or with an 8-channel "
        "(the deck's liquids give every well and volume)",
        f"96-channel: racks of {tip_ul:g} µL tips in slots {SEED_RACK} (seeding), {DOSE_RACK} (dosing) and "
        f"{CTG_RACK} (CellTiter-Glo, all plates); the gripper moves each onto the Flex 96 tip-rack adapter in slot "
        f"{ADAPTER} (needed for a full 96-tip pick-up) and back",
    ]
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")

    # 1. seed
    for n, p in enumerate(exp.plates):
        pattern = {w: medium for w in WELLS_96}
        for w in exp.wells[p.id]:
            if w.role in CELL_ROLES and w.cell_line:
                pattern[w.name] = cells[w.cell_line]
        rack = s.rack(SEED_RACK)
        loads = s.pattern(f"cells_{n + 1}", SOURCE, f"{p.id} cells (patterned)", pattern, v.cells)
        s.move_in(plates[n], PLATE, f"Put the empty assay plate {p.id} in slot {PLATE}")
        s.pause(f"{p.id}: seeding. Put its patterned cell plate (freshly mixed) in slot {SOURCE} and a full rack of "
                f"{tip_ul:g} µL tips in slot {SEED_RACK}; then resume", tuple(loads))
        s.stamp(f"{p.id}: seed {v.cells:g} µL cells (blank, edge and empty wells: medium), each well re-mixed just "
                "before (96-channel stamp)", rack, f"cells_{n + 1}", plates[n], v.cells, top=True,
                mix_before=mix_for(v.cells, tip_ul))
        s.take_away(plates[n], f"{p.id} seeded: into the incubator (37 °C, 5 % CO2)"
                    + (" overnight so the cells attach" if adherent else ""))
    tz = exp.time_zero
    if tz is not None:  # the time-zero plate (GR metrics): stamped from its own patterned plate of the same suspension
        if (tz.format or 96) != 96:
            raise PlanError("the 96-channel plan makes a 96-well time-zero plate only", field="time_zero.format")
        t0_plate = b.offdeck("plate_t0", WHITE_TC_PLATE[96], label=tz.plate)
        line_of = dict(exp.time_zero_wells())
        pattern = {w: (cells[line_of[w]] if w in line_of else medium) for w in WELLS_96}
        rack = s.rack(SEED_RACK)
        loads = s.pattern("cells_t0", SOURCE, f"{tz.plate} cells (patterned)", pattern, v.cells)
        s.move_in(t0_plate, PLATE, f"Put the empty time-zero plate {tz.plate} in slot {PLATE}")
        s.pause(f"{tz.plate}: seeding the time-zero plate. Put its patterned cell plate (the same suspension, freshly "
                f"mixed) in slot {SOURCE} and a full rack of {tip_ul:g} µL tips in slot {SEED_RACK}; then resume",
                tuple(loads))
        s.stamp(f"{tz.plate}: seed {v.cells:g} µL cells into the time-zero wells (other wells: medium; 96-channel "
                "stamp)", rack, "cells_t0", t0_plate, v.cells, top=True, mix_before=mix_for(v.cells, tip_ul))
        s.take_away(t0_plate, f"{tz.plate} seeded: into the incubator; at the time of dosing read it by hand "
                    "(CellTiter-Glo equal to the medium volume, shake, 10 min, read with plate id "
                    f"{tz.plate}): the cell number at dosing for GR metrics")
    if not adherent:
        b.comment("Suspension cells: dosed the same day")
    # 2. dose
    for n, p in enumerate(exp.plates):
        rack = s.rack(DOSE_RACK)
        src, inter, loads = intermediate_plates(s, exp, p.id, n + 1, series, medium, "medium", SOURCE, INTER,
                                                roles)
        s.move_in(plates[n], PLATE, f"Put assay plate {p.id} back in slot {PLATE}")
        s.pause(f"{p.id}: dosing. Put its patterned DMSO-series plate in slot {SOURCE}, a plate with medium in every "
                f"well in slot {INTER} (see the deck's liquids for every well) and a full rack of {tip_ul:g} µL tips "
                f"in slot {DOSE_RACK}; then resume", tuple(loads))
        stamp_intermediate(s, exp, p.id, src, inter, "medium", rack)
        s.stamp(f"{p.id}: dose {v.compound:g} µL intermediate into every well (vehicle and blank wells: solvent in "
                "medium; 96-channel stamp, the same tips)", rack, inter, plates[n], v.compound)
        s.take_away(plates[n], f"{p.id} dosed: incubate {cond.incubation_h:g} h at 37 °C, 5 % CO2")
    s.pause(f"Dosing done. After the {cond.incubation_h:g} h incubation fill the reservoir in slot {CTG} with "
            "CellTiter-Glo at room temperature and resume", (ctg,))
    # 3. CellTiter-Glo, shake, read
    for n, p in enumerate(exp.plates):
        last = n == len(exp.plates) - 1
        s.move_in(plates[n], PLATE, f"Put assay plate {p.id} in slot {PLATE}")
        if cond.equilibrate_min > 0:
            b.add(Delay(cond.equilibrate_min, f"{p.id}: equilibrate to room temperature, {cond.equilibrate_min:g} "
                                              "min"))
        s.stamp(f"{p.id}: {v.ctg:g} µL CellTiter-Glo (= the medium volume) into every well, non-contact "
                "(96-channel stamp" + ("" if n == 0 else ", the same tips") + ")", ctg_rack, trough, plates[n],
                v.ctg, top=True, keep_tips=not last)
        b.add(Latch(hs, True))
        b.add(MoveLabware(plates[n], adapter, True, f"{p.id} onto the heater-shaker"))
        b.add(Latch(hs, False))
        b.add(Shake(hs, SHAKE_RPM, cond.shake_min))
        b.add(Latch(hs, True))
        b.add(MoveLabware(plates[n], PLATE, True, f"{p.id} back to slot {PLATE}"))
        b.add(Latch(hs, False))
        if cond.signal_delay_min > 0:
            b.add(Delay(cond.signal_delay_min, f"Let the luminescence signal settle, {cond.signal_delay_min:g} min"))
        s.take_away(plates[n], f"Read luminescence (RLU) of {p.id} on the plate reader")
    return b.finish()
