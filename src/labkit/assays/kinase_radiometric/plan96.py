"""The radiometric kinase assay with the Flex 96-channel: one round per reaction plate, whole-plate stamps.

Per plate the operator puts on the deck the reaction plate (on the temperature module), its patterned solvent plate
(each well its assay well's point of the DMSO series, every other well DMSO), a plate with assay buffer in every
well and four racks of 50 µL tips. The 96-channel stamps the series into the buffer (mixed: the intermediate, laid
out like the reaction plate) and, with the same tips, the intermediate into the reaction plate. At a second pause
the operator takes the solvent and intermediate plates away and puts the patterned kinase-mix plate (no-enzyme
wells: substrate only) and the patterned hot ATP plate, both fresh from ice, and the P81 filter plate; the
96-channel stamps kinase mix, (pre-incubation) hot ATP, (reaction) phosphoric acid stop from a one-trough reservoir
and, with the stop's tips (they touched nothing but the acid), mixes every stopped reaction and moves it onto the
same well of the filter plate. Total-counts wells (one reaction's hot ATP spotted straight onto the filter, not
through a reaction): the operator swaps the empty hot plate for a plate holding a fresh aliquot of the hot mix in
those wells, and the 96-channel spots each with its front-right nozzle alone (SINGLE layout, API 2.20) and a fresh
single tip from a rack standing on the deck (a partial pick-up cannot use the tip-rack adapter). A partial layout
needs low labware behind and left of where it works (the Opentrons analysis checks it), hence the deck: three of
the four full racks in the staging-area slots B4-D4 (the gripper brings each to the adapter), the single rack in D3,
the aliquot in C3, the filter plate in D2, the stop trough in C1 and the patterned plates in B2.

Every stamp after the compound has fresh tips that go to the trash (radiation hygiene: a tip that met hot ATP
touches one more well at most); hot ATP and stop are dispensed at the well top without touching the reaction.
Wells the layout leaves empty get DMSO in buffer, assay buffer and stop (a stamp fills all 96), never compound,
kinase or hot ATP; the total-counts wells of the reaction plate too (their spot on the filter comes from the
aliquot). Labware that leaves a slot between plates is listed in the next pause instead of a stop of its own.
"""

from __future__ import annotations

from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.common import (ASSAY_ROLES, COVER_NOTE, WASH, WASTE_LABEL, _waste_note,
                                                     _waste_text, kinase_mixes)
from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.stamp96 import (PATTERN_PLATE, WELLS_96, Stamper, intermediate_plates, mix_for, series_liquids,
                                 stamp_intermediate, tips_for)
from labkit.plan.steps import Delay, Loc, Plan, SetTemperature

# Flex deck (temperature module D1, trash bin A3): the tip-rack adapter in A2, one rack in A1 and three in the
# staging-area slots B4, C4 and D4 (the gripper reaches them, the pipette does not need to), so everything the
# single nozzle works near stays low: the single tips in D3, the hot plate (later the total-counts aliquot) in C3,
# the intermediate (later the filter plate) in D2, the stop trough in C1 and the patterned plates in B2; the rest of
# the 96-channel's head stands behind and left of its front-right nozzle
ADAPTER, RACKS = "A2", ("A1", "B4", "C4", "D4")
INTER, ENZYME, HOT_SLOT, STOP, SINGLE = "D2", "B2", "C3", "C1", "D3"
SERIES = ENZYME  # the solvent plate stands where the kinase-mix plate goes once the intermediate is made
FILTER_SLOT = INTER  # the filter plate takes the intermediate's slot
WASTE_SLOT = "B1"  # a second trash bin for hot tips (radioactive waste)


def _between_stamps(flow: float, volume: float) -> float:
    """Minutes of work between one timed 96-channel stamp and the next, by the simulator's time model: the drop, two
    gripper moves of racks, the pick-up and the next stamp's aspirate and dispense of `volume` at `flow` (the engine
    runs the 96-channel at its 1000 µL-tip default, 160 µL/s), four moves between labware."""
    from labkit.simulate import cost as T

    return (T.DROP_TIP_S + 2 * T.GRIPPER_MOVE_S + T.PICK_UP_TIP_96_S + T.ASPIRATE_S + T.DISPENSE_S
            + 2 * volume / flow + 4 * (T.MOVE_BETWEEN_S + 150.0 / T.GANTRY_MM_S)) / 60


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
    spots = {p.id: [w for w in sorted(exp.wells[p.id], key=lambda w: (w.col, w.row)) if w.role == "total_counts"]
             for p in exp.plates}

    res_stop = s.trough("stop_trough", STOP, "stop: 3 % phosphoric acid", stop)
    if any(spots.values()):
        s.single_rack(SINGLE, tips_for(v.atp_mix))
    tip_ul = float(s.tiprack.rsplit("_", 1)[-1].removesuffix("ul"))
    b.plan.notes += [
        "96-channel: every reagent that differs between wells comes from a plate laid out exactly like its reaction "
        "plate: per reaction plate a solvent plate (NEST 96 PCR: each well its assay well's point of the DMSO "
        "series, every other well DMSO), a kinase-mix plate (Corning 96 flat; no-enzyme wells: substrate only) and a "
        "hot ATP plate; wells the layout leaves empty hold assay buffer. Prepare them by hand or with an 8-channel; "
        "the deck's liquids give every well and volume. Also per plate a Corning 96 flat plate with assay buffer in "
        "every well, for the intermediate the robot makes",
        f"96-channel: {len(RACKS)} racks of 50 µL tips per reaction plate, put in slots {', '.join(RACKS)}; the "
        f"gripper moves each onto the Flex 96 tip-rack adapter in slot {ADAPTER} (needed for a full 96-tip pick-up) "
        "and back, empty. Slots B4, C4 and D4 are staging-area slots: set the deck configuration to a staging area "
        "slot in cutouts B3, C3 and D3 (the trash bin stays in A3)",
    ]
    # hot tips into a second trash bin in B1, the one column-1/3 slot this deck leaves free (B3-D3 carry staging areas)
    b.plan.notes += [_waste_note(b.hot_waste(WASTE_LABEL, slot=WASTE_SLOT)), COVER_NOTE]
    if any(spots.values()):
        b.plan.notes.append(
            f"96-channel: total-counts wells are spotted one at a time by the pipette's front-right nozzle alone (a "
            f"partial pick-up of single tips from the rack in slot {SINGLE}, which stands on the deck, not on the "
            f"adapter); keep slots B3, C2, C3, D2 and D3 free of tip racks and tall labware")
    if len(exp.plates) > 1:  # issue 12: only the 8-channel Flex plan interleaves two plates
        b.plan.notes.append(
            "96-channel: the plates run one after another, not interleaved: each plate's four tip racks fill slot A1 "
            "and the staging-area slots B4, C4 and D4, where an interleaved run keeps the second plate and the "
            "spare tip racks, and a 96-tip pick-up needs the adapter slot between uses (plan with the 8-channels, "
            "`--pipettes standard`, to interleave two plates)")
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    b.add(SetTemperature(temp, cond.temperature_c))
    last_filter = ""
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
        s.clear(SERIES, quiet=True)
        s.clear(INTER, quiet=True)
        mixes = s.pattern(f"mixes_{n + 1}", ENZYME, f"{p.id} kinase mixes (patterned)", mix_of, v.enzyme_mix)
        mixes += s.pattern(f"hot_{n + 1}", HOT_SLOT, f"HOT: {p.id} [γ-33P]ATP (patterned, radioactive)", hot_of,
                           v.atp_mix)
        filt = s.put(f"filter_{n + 1}", FILTER_PLATE, FILTER_SLOT, f"{p.id} P81 filter")
        s.pause(f"{p.id}: put its patterned kinase-mix plate in slot {ENZYME} and its patterned hot ATP plate in "
                f"slot {HOT_SLOT}, both fresh from ice (see the deck's liquids for every well), and its P81 filter "
                f"plate in slot {FILTER_SLOT}; then resume", tuple(mixes))
        s.stamp(f"{p.id}: {v.enzyme_mix:g} µL kinase + substrate mix (no-enzyme wells: substrate only), "
                "non-contact (96-channel stamp)", racks[1], f"mixes_{n + 1}", plate, v.enzyme_mix, top=True)
        if cond.preincubation_min > 0:  # less the work between the mix stamp and the start's
            work = _between_stamps(b.spec(s.pip).flow_ul_s, v.atp_mix)
            pre = round(max(cond.preincubation_min - work, 0.0), 1)
            b.add(Delay(pre, f"{p.id}: pre-incubation of compound and kinase, {cond.preincubation_min:g} min (this "
                             f"wait {pre:g} min + about {work:.1f} min of rack moves)"))
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to "
                  f"{_waste_text(b.plan.hot_waste)}")
        hot_at = len(b.plan.steps)
        s.stamp(f"{p.id}: start — {v.atp_mix:g} µL hot ATP mix into every well, non-contact (96-channel stamp)",
                racks[2], f"hot_{n + 1}", plate, v.atp_mix, top=True)
        work = _between_stamps(b.spec(s.pip).flow_ul_s, v.stop)  # ATP start -> stop
        wait = round(max(cond.reaction_min - work, 0.0), 1)
        b.add(Delay(wait, f"{p.id}: kinase reaction, {cond.reaction_min:g} min at {cond.temperature_c:g} °C from the "
                          f"ATP start to the stop (this wait {wait:g} min + about {work:.1f} min of rack moves)"))
        s.stamp(f"{p.id}: stop — {v.stop:g} µL phosphoric acid into every well, non-contact (96-channel stamp; the "
                "tips stay on for the filter transfer)", racks[3], res_stop, plate, v.stop, top=True, keep_tips=True)
        s.stamp(f"{p.id}: every stopped reaction mixed, then {v.filter_transfer:g} µL of it onto the same well of the "
                "P81 filter plate (96-channel stamp, the stop's tips)", racks[3], plate, filt, v.filter_transfer,
                mix_before=mix_for(v.well + v.stop, tip_ul))
        s.clear(HOT_SLOT, quiet=True)
        if spots[p.id]:
            _key, pairs, aliquot = _total_counts96(s, exp, p, spots[p.id], hot_mix, first_target, n + 1)
            wells_at = sorted({a.well for a, _f in pairs}, key=lambda w: "HGFEDCBA".index(w[0]))
            s.pause(f"{p.id}: RADIOACTIVE — put the total-counts aliquot plate (a fresh aliquot of the hot ATP mix in "
                    f"well{'s' if len(wells_at) > 1 else ''} {', '.join(wells_at)}; see the deck's liquids) in slot "
                    f"{HOT_SLOT}; then resume", tuple(aliquot))
            s.spot(f"{p.id}: total counts — {v.atp_mix:g} µL hot ATP mix straight onto the P81 filter, wells "
                   f"{', '.join(w.name for w in spots[p.id])} (single nozzle, a fresh tip each; keep them out of the "
                   "wash: cover them with sealing tape while the plate is washed, uncover before the scintillant)",
                   pairs, v.atp_mix)
            s.clear(HOT_SLOT, quiet=True)
        b.to_hot_waste(hot_at)
        s.take_away(plate, f"Take reaction plate {p.id} off the temperature module (radioactive waste)")
        wash = (f"the P81 filter plate of {p.id} from slot {FILTER_SLOT} to the wash: {WASH}")
        if n + 1 < len(exp.plates):
            s.take_away(filt, wash, quiet=True)
            for slot in (*RACKS, ENZYME):
                s.clear(slot, quiet=True)
        last_filter = wash
    if last_filter:
        s.take_away(f"filter_{len(exp.plates)}", f"{last_filter[0].upper()}{last_filter[1:]}. Resume to continue.")
    b.add(SetTemperature(temp, None))
    return b.finish()


def _total_counts96(s: Stamper, exp, p, spots: list, hot_mix: dict[str, str], first_target: str, n: int
                    ) -> tuple[str, list[tuple[Loc, Loc]], list[str]]:
    """The total-counts aliquot plate of a reaction plate put in the hot plate's slot: a fresh aliquot of each hot
    mix the spots need in one well of its last column (H12, G12, …: there the rest of the head stays over the
    plate and the slot behind it); returns its key, the (aliquot well, filter well) pairs and its liquids."""
    from labkit.plan.builder import round_up
    from labkit.labware.specs import LABWARE, OVERAGE

    v = exp.volumes
    key = f"spots_{n}"
    s.put(key, PATTERN_PLATE, HOT_SLOT, f"HOT: {p.id} total-counts aliquot (radioactive)")
    by_mix: dict[str, list[str]] = {}
    for w in spots:
        by_mix.setdefault(hot_mix[w.target or first_target], []).append(w.name)
    if len(by_mix) > 8:
        raise PlanError(f"plate {p.id}: total-counts wells of more than 8 hot ATP mixes; the 96-channel plan holds "
                        "their aliquots in one plate column")
    pairs: list[tuple[Loc, Loc]] = []
    for i, (liquid, names) in enumerate(by_mix.items()):
        well = f"{'HGFEDCBA'[i]}12"
        s.b.load(liquid, Loc(key, well), round_up(len(names) * v.atp_mix * (1 + OVERAGE)
                                                  + LABWARE[PATTERN_PLATE].dead_ul, 5.0))
        pairs += [(Loc(key, well), Loc(f"filter_{n}", name)) for name in names]
    return key, pairs, list(by_mix)
