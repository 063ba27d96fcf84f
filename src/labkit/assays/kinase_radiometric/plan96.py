"""The radiometric kinase assay with the Flex 96-channel: one round per reaction plate, six whole-plate stamps.

Per plate the operator puts on the deck the reaction plate (on the temperature module), its patterned solvent plate
(each well its assay well's point of the DMSO series, every other well DMSO), a plate with assay buffer in every
well and five racks of 50 µL tips. The 96-channel stamps the series into the buffer (mixed: the intermediate, laid
out like the reaction plate) and, with the same tips, the intermediate into the reaction plate. At a second pause
the operator swaps the solvent plate for the patterned kinase-mix plate (no-enzyme wells: substrate only) and puts
the patterned hot ATP plate, both fresh from ice; the 96-channel stamps kinase mix, (pre-incubation) hot ATP,
(reaction) phosphoric acid stop from a one-trough reservoir, and — once the operator has swapped the empty hot plate
for the P81 filter plate — the stopped reactions onto the filter plate. Every stamp after the compound has fresh
tips that go to the trash (radiation hygiene: a tip that met hot ATP touches one more well at most); hot ATP and
stop are dispensed at the well top without touching the reaction. Wells the layout leaves empty get DMSO in buffer,
assay buffer and stop (a stamp fills all 96), never compound, kinase or hot ATP.
"""

from __future__ import annotations

from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.plan import ASSAY_ROLES, COVER_NOTE, kinase_mixes
from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.stamp96 import WELLS_96, Stamper, intermediate_plates, series_liquids, stamp_intermediate
from labkit.plan.steps import Delay, Plan, SetTemperature

# Flex deck (temperature module D1, trash bin A3): the tip-rack adapter in the middle, five racks behind and beside
# it, the patterned plates and the stop trough in front; the filter plate takes the hot plate's slot once it is empty
ADAPTER, RACKS = "C2", ("A1", "A2", "B1", "B2", "C1")
INTER, ENZYME, HOT_SLOT, STOP = "D2", "C3", "B3", "D3"
SERIES = ENZYME  # the solvent plate stands where the kinase-mix plate goes once the intermediate is made


def build_kinase96(config: BuildConfig, exp) -> Plan:
    """The kinase-assay plan for the Flex 96-channel (see the module doc)."""
    v, cond = exp.volumes, exp.conditions
    if min(v.compound, v.enzyme_mix, v.atp_mix, v.stop, v.filter_transfer) < 5.0:
        raise PlanError("the 96-channel pipette moves 5 µL at least; every kinase volume (compound, enzyme_mix, "
                        "atp_mix, stop, filter_transfer) must be 5 µL or more", field="volumes")
    b = Builder(config)
    robot = b.robot
    temp = b.module("temp", "temperature module gen2", robot.temperature_slot)
    s = Stamper(b, max(v.compound, v.enzyme_mix, v.atp_mix, v.stop, v.filter_transfer), ADAPTER)

    buffer = b.liquid("Assay buffer", "kinase assay buffer (e.g. 20 mM HEPES pH 7.5, 10 mM MgCl2, 1 mM EGTA, "
                      "0.01 % Brij-35, 2 mM DTT); also in every patterned-plate well the layout leaves empty",
                      {"buffer": 1.0})
    stop = b.liquid("Stop: 3 % phosphoric acid", "3 % (v/v) H3PO4 in water; stops the reaction and binds the "
                    "phosphopeptide to the P81 paper", {"stop": 1.0})
    series = series_liquids(b, exp)
    enzyme_mix, blank_mix, hot_mix = kinase_mixes(b, exp)
    first_target = exp.targets[0].name

    res_stop = s.trough("stop_trough", STOP, "stop: 3 % phosphoric acid", stop)
    filters = [b.offdeck(f"filter_{i + 1}", FILTER_PLATE, label=f"{p.id} P81 filter") for i, p in
               enumerate(exp.plates)]
    b.plan.notes += [
        "96-channel: every reagent that differs between wells comes from a plate laid out exactly like its reaction "
        "plate: per reaction plate a solvent plate (NEST 96 PCR: each well its assay well's point of the DMSO "
        "series, every other well DMSO), a kinase-mix plate (Corning 96 flat; no-enzyme wells: substrate only) and a "
        "hot ATP plate; wells the layout leaves empty hold assay buffer. Prepare them by hand or with an 8-channel; "
        "the deck's liquids give every well and volume. Also per plate a Corning 96 flat plate with assay buffer in "
        "every well, for the intermediate the robot makes",
        f"96-channel: {len(RACKS)} racks of 50 µL tips per reaction plate, put in slots {', '.join(RACKS)}; the "
        f"gripper moves each onto the Flex 96 tip-rack adapter in slot {ADAPTER} (needed for a full 96-tip pick-up) "
        "and back, empty",
    ]
    # the 96-channel deck has all twelve slots taken (trash A3, temperature module D1, adapter, five racks, four
    # plates), and a trash bin fixture cannot stand in a staging slot: no radioactive-waste container fits
    b.plan.warnings.append(f"no radioactive-waste container on the 96-channel deck (every slot is taken: trash A3, "
                           f"temperature module D1, tip-rack adapter {ADAPTER}, racks {', '.join(RACKS)}, plates "
                           f"{INTER}, {ENZYME}, {HOT_SLOT}, {STOP}): hot tips go to the shared trash bin")
    b.plan.notes.append("RADIOACTIVE WASTE: the 96-channel deck has no free slot for a dedicated container, so hot "
                        "tips go to the trash bin in A3: line it, and empty and monitor it as radioactive waste after "
                        "the run; " + COVER_NOTE)
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    b.add(SetTemperature(temp, cond.temperature_c))
    from labkit.simulate import cost as T

    for n, p in enumerate(exp.plates):
        wells = {w.name: w for w in exp.wells[p.id]}
        racks = [s.rack(slot) for slot in RACKS]
        mix_of = {w: buffer for w in WELLS_96}
        hot_of = {w: buffer for w in WELLS_96}
        for name, w in wells.items():
            if w.role in ASSAY_ROLES:
                t = w.target or first_target
                hot_of[name] = hot_mix[t]
                if w.target:
                    mix_of[name] = blank_mix[t] if w.role in NO_ENZYME_ROLES else enzyme_mix[t]
        src, key, loads = intermediate_plates(s, exp, p.id, n + 1, series, buffer, "assay buffer", SERIES, INTER)
        plate = s.put_on(f"plate_{n + 1}", ASSAY_PLATE[p.format], temp, p.id)
        s.pause(f"{p.id}: put the empty reaction plate {p.id} on the temperature module ({cond.temperature_c:g} °C), "
                f"its patterned DMSO-series plate in slot {SERIES}, a plate with assay buffer in every well in slot "
                f"{INTER} (see the deck's liquids for every well) and {len(RACKS)} full racks of 50 µL tips in slots "
                f"{', '.join(RACKS)}; then resume", tuple(loads))
        stamp_intermediate(s, exp, p.id, src, key, "assay buffer", racks[0])
        s.stamp(f"{p.id}: {v.compound:g} µL compound intermediate into every well (96-channel stamp, the same tips)",
                racks[0], key, plate, v.compound)
        mixes = s.pattern(f"mixes_{n + 1}", ENZYME, f"{p.id} kinase mixes (patterned)", mix_of, v.enzyme_mix)
        mixes += s.pattern(f"hot_{n + 1}", HOT_SLOT, f"HOT: {p.id} [γ-33P]ATP (patterned, radioactive)", hot_of,
                           v.atp_mix)
        s.pause(f"{p.id}: put its patterned kinase-mix plate in slot {ENZYME} and its patterned hot ATP plate in "
                f"slot {HOT_SLOT}, both fresh from ice (see the deck's liquids for every well); then resume",
                tuple(mixes))
        s.stamp(f"{p.id}: {v.enzyme_mix:g} µL kinase + substrate mix (no-enzyme wells: substrate only), "
                "non-contact (96-channel stamp)", racks[1], f"mixes_{n + 1}", plate, v.enzyme_mix, top=True)
        if cond.preincubation_min > 0:
            b.add(Delay(cond.preincubation_min, f"{p.id}: pre-incubation of compound and kinase, "
                                                f"{cond.preincubation_min:g} min"))
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to the trash "
                  "(the radioactive waste of this deck: see the note before the run)")
        s.stamp(f"{p.id}: start — {v.atp_mix:g} µL hot ATP mix into every well, non-contact (96-channel stamp)",
                racks[2], f"hot_{n + 1}", plate, v.atp_mix, top=True)
        # ATP start -> stop: the drop, two gripper moves of racks, the pick-up and the stop's aspirate and dispense
        flow = b.spec(s.pip).flow_ul_s  # the engine runs the 96-channel at its 1000 µL-tip default (160 µL/s)
        work = (T.DROP_TIP_S + 2 * T.GRIPPER_MOVE_S + T.PICK_UP_TIP_96_S + T.ASPIRATE_S + T.DISPENSE_S
                + 2 * v.stop / flow + 4 * (T.MOVE_BETWEEN_S + 150.0 / T.GANTRY_MM_S)) / 60
        wait = round(max(cond.reaction_min - work, 0.0), 1)
        b.add(Delay(wait, f"{p.id}: kinase reaction, {cond.reaction_min:g} min at {cond.temperature_c:g} °C from the "
                          f"ATP start to the stop (this wait {wait:g} min + about {work:.1f} min of rack moves)"))
        s.stamp(f"{p.id}: stop — {v.stop:g} µL phosphoric acid into every well, non-contact (96-channel stamp)",
                racks[3], res_stop, plate, v.stop, top=True)
        s.take_away(f"hot_{n + 1}", f"RADIOACTIVE: take the empty hot ATP plate of {p.id} from slot {HOT_SLOT} to "
                                    "the radioactive waste")
        s.move_in(filters[n], HOT_SLOT, f"Put the P81 filter plate for {p.id} in slot {HOT_SLOT}")
        s.stamp(f"{p.id}: {v.filter_transfer:g} µL of every stopped reaction onto the same well of the P81 filter "
                "plate (96-channel stamp)", racks[4], plate, filters[n], v.filter_transfer)
        s.take_away(plate, f"Take reaction plate {p.id} off the temperature module (radioactive waste)")
        wash = (f"{p.id}: take the P81 filter plate from slot {HOT_SLOT}; wash it 3-4× with 0.75 % phosphoric acid "
                "on a vacuum manifold, rinse with acetone, dry, add scintillant and count (CPM) on the MicroBeta2 / "
                "TopCount. Resume to continue.")
        s.take_away(filters[n], wash)
    b.add(SetTemperature(temp, None))
    return b.finish()
