"""The radiometric kinase assay: DMSO series -> buffer intermediate -> reaction plate -> ATP start -> stop -> filter."""

from __future__ import annotations

from collections import defaultdict

from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE, RESERVOIR, TUBES
from labkit.plan.builder import Builder
from labkit.plan.common import COMPOUND_ROLES, DmsoSeries, assay_wells, dosing_moves, solvent_species, well_loc
from labkit.plan.steps import Delay, Loc, MoveLabware, Pause, SetTemperature
from labkit.units import si_conc

CONTROL_ROLES = ("vehicle", "positive", "blank")
ASSAY_ROLES = COMPOUND_ROLES + CONTROL_ROLES
HOT = "HOT [γ-33P]ATP mix (radioactive)"


def plan_kinase(b: Builder, exp) -> None:
    """Add the kinase-assay steps to the builder."""
    v, cond = exp.volumes, exp.conditions
    robot = b.robot
    well_vol = v.well
    scale = well_vol / v.enzyme_mix
    atp_scale = well_vol / v.atp_mix
    solvent = exp.compounds[0].solvent
    temp = b.module("temp", "temperature module gen2", robot.temperature_slot)
    plates = []
    for i, p in enumerate(exp.plates):
        plates.append((p, b.labware(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id)))
    res = b.labware("reservoir", RESERVOIR, label="DMSO, assay buffer, stop")
    tubes = b.labware("tubes", TUBES, label="kinase and control mixes")
    hot = b.labware("hot", TUBES, label="HOT: [γ-33P]ATP (radioactive)")
    series = DmsoSeries(b, exp, res, "Assay buffer", "assay buffer")
    filters = [b.offdeck(f"filter_{i + 1}", FILTER_PLATE, label=f"{p.id} P81 filter") for i, (p, _k) in
               enumerate(plates)]

    # liquids
    dmso = b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))
    buffer = b.liquid("Assay buffer", "kinase assay buffer (e.g. 20 mM HEPES pH 7.5, 10 mM MgCl2, 1 mM EGTA, "
                      "0.01 % Brij-35, 2 mM DTT)", {"buffer": 1.0})
    stop = b.liquid("Stop: 3 % phosphoric acid", "3 % (v/v) H3PO4 in water; stops the reaction and binds the "
                    "phosphopeptide to the P81 paper", {"stop": 1.0})
    targets = {t.name: t for t in exp.targets}
    enzyme_mix, blank_mix, hot_mix = {}, {}, {}
    for t in exp.targets:
        enzyme_mix[t.name] = b.liquid(
            f"{t.name} kinase + {t.substrate} mix",
            f"{t.name} {si_conc(t.enzyme * scale)} + {t.substrate} {si_conc(t.substrate_conc * scale)} in assay "
            f"buffer ({scale:g}× the final {si_conc(t.enzyme)} / {si_conc(t.substrate_conc)}); keep on ice",
            {f"enzyme:{t.name}": t.enzyme * scale, "substrate": t.substrate_conc * scale, "buffer": 1.0})
        key = (t.substrate, t.substrate_conc)
        blank_mix[t.name] = b.liquid(
            f"No-enzyme control: {t.substrate} {si_conc(t.substrate_conc * scale)}",
            f"{t.substrate} {si_conc(t.substrate_conc * scale)} in assay buffer, no kinase (100 % inhibition "
            "control)", {"substrate": key[1] * scale, "buffer": 1.0})
    atps = sorted({t.atp for t in exp.targets})
    for t in exp.targets:
        name = HOT if len(atps) == 1 else f"{HOT} {si_conc(t.atp)} ATP"
        hot_mix[t.name] = b.liquid(
            name, f"RADIOACTIVE. ATP {si_conc(t.atp * atp_scale)} with {cond.hot_atp_uci_per_well / v.atp_mix:.3g} "
            f"µCi/µL [γ-33P]ATP ({cond.hot_atp_uci_per_well:g} µCi per well) in assay buffer; "
            "handle behind shielding",
            {"atp": t.atp * atp_scale, "atp33": cond.hot_atp_uci_per_well / v.atp_mix, "buffer": 1.0})

    # what each assay well draws from the intermediate plate
    needs: dict[tuple[str, int], float] = defaultdict(float)
    for p, _k in plates:
        for w in assay_wells(exp, p.id, ASSAY_ROLES):
            needs[(w.compound, w.point) if w.role in COMPOUND_ROLES else ("", 0)] += v.compound
    series.plan_intermediates(dict(sorted(needs.items(), key=lambda kv: (kv[0][0] == "", kv[0]))))
    series.top_loads()
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    b.add(SetTemperature(temp, cond.temperature_c))
    res_dmso = b.reservoir_well(res, dmso)
    series.run(res_dmso, b.plan.tip_policy)

    for (p, key), filt in zip(plates, filters):
        slot = b.plan.labware_by_key()[key].slot
        b.comment(f"Plate {p.id}: reaction at {cond.temperature_c:g} °C on the temperature module")
        b.add(MoveLabware(key, temp, robot.gripper, f"Put reaction plate {p.id} on the temperature module"))
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        # compound / vehicle: fresh tip for every well (contact)
        moves = dosing_moves(series, key, wells, v.compound)
        pip = b.choose(v.compound)
        b.transfer(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into "
                   f"every assay well, a fresh tip each", pip, moves, new_tip="always")
        # kinase + substrate (no-enzyme control: substrate only), non-contact multi-dispense
        for tname in targets:
            tw = [well_loc(key, w) for w in wells if w.target == tname and w.role not in ("positive", "blank")]
            cw = [well_loc(key, w) for w in wells if w.target == tname and w.role in ("positive", "blank")]
            for liquid, dests in ((enzyme_mix[tname], tw), (blank_mix[tname], cw)):
                if dests:
                    pip = b.choose(v.enzyme_mix, per_aspirate=len(dests))
                    b.distribute(f"{p.id}: {v.enzyme_mix:g} µL {liquid}", pip, b.pool(tubes, liquid), dests,
                                 v.enzyme_mix)
        other = [w for w in wells if not w.target]
        if other:
            dests = [well_loc(key, w) for w in other]
            pip = b.choose(v.enzyme_mix, per_aspirate=len(dests))
            b.distribute(f"{p.id}: {v.enzyme_mix:g} µL assay buffer (wells without a target)", pip,
                         b.pool(res, buffer), dests, v.enzyme_mix)
        buf = [well_loc(key, w) for w in sorted(exp.wells[p.id], key=lambda w: (w.col, w.row)) if w.role == "buffer"]
        if buf:
            pip = b.choose(well_vol, per_aspirate=len(buf))
            b.distribute(f"{p.id}: {well_vol:g} µL assay buffer into the buffer wells", pip, b.pool(res, buffer),
                         buf, well_vol)
        if cond.preincubation_min > 0:
            b.add(Delay(cond.preincubation_min, f"{p.id}: pre-incubation of compound and kinase, "
                                                f"{cond.preincubation_min:g} min"))
        # start: hot ATP, fresh tip every aspirate, straight to the trash
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to the trash")
        for tname in targets:
            dests = [well_loc(key, w) for w in wells if w.target == tname]
            if dests:
                pip = b.choose(v.atp_mix, per_aspirate=len(dests))
                b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {hot_mix[tname]} ({tname} wells), non-contact, "
                             "a fresh tip every aspirate", pip, b.pool(hot, hot_mix[tname]), dests, v.atp_mix,
                             tip_per_stroke=True)
        rest = [well_loc(key, w) for w in wells if not w.target]
        if rest:
            first_hot = hot_mix[next(iter(targets))]
            pip = b.choose(v.atp_mix, per_aspirate=len(rest))
            b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {first_hot}", pip, b.pool(hot, first_hot), rest,
                         v.atp_mix, tip_per_stroke=True)
        b.add(Delay(cond.reaction_min, f"{p.id}: kinase reaction, {cond.reaction_min:g} min at "
                                       f"{cond.temperature_c:g} °C"))
        dests = [well_loc(key, w) for w in wells]
        pip = b.choose(v.stop, per_aspirate=len(dests))
        b.distribute(f"{p.id}: stop — {v.stop:g} µL phosphoric acid, non-contact, a fresh tip every aspirate", pip,
                     b.pool(res, stop), dests, v.stop, tip_per_stroke=True)
        b.add(MoveLabware(filt, slot, False, f"Put the P81 filter plate for {p.id} in slot {slot}"))
        pip = b.choose(v.filter_transfer)
        b.transfer(f"{p.id}: {v.filter_transfer:g} µL of each stopped reaction onto the P81 filter plate, a fresh "
                   "tip every well", pip, [(well_loc(key, w), Loc(filt, w.name), v.filter_transfer)
                                           for w in wells if p.format == 96], new_tip="always")
        b.add(MoveLabware(key, "offdeck", robot.gripper and False, f"Take reaction plate {p.id} off the "
                                                                   "temperature module (radioactive waste)"))
        b.add(Pause(f"{p.id}: take the P81 filter plate from slot {slot}; wash it 3-4× with 0.75 % phosphoric "
                    "acid on a vacuum manifold, rinse with acetone, dry, add scintillant and count (CPM) on the "
                    "MicroBeta2 / TopCount. Resume to continue."))
    b.add(SetTemperature(temp, None))
