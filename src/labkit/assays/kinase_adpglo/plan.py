"""The ADP-Glo kinase assay (Promega TM313): DMSO series -> buffer intermediate -> white assay plate -> kinase mix ->
ATP start -> ADP-Glo Reagent (stop + ATP depletion, 40 min) -> Kinase Detection Reagent (30–60 min) -> read.

Everything runs at room temperature (TM313), so no temperature module. The ADP-Glo Reagent stops the reaction, so it
goes in the order of the ATP start, and the wait between them is the nominal reaction time less half of the start
and stop work: every well then reacts for about the nominal time. Single-channel pipettes throughout: a 384-well
plate at TM313's 5 µL reaction is worked well by well.
"""

from __future__ import annotations

from labkit.assays.kinase_adpglo.models import ADP_GLO, DETECTION
from labkit.labware.specs import ASSAY_PLATE, RESERVOIR, TUBES
from labkit.plan.builder import Builder
from labkit.plan.common import (COMPOUND_ROLES, DmsoSeries, assay_wells, dosing_moves, plan_series, solvent_species,
                                 well_loc)
from labkit.plan.steps import Delay, Pause
from labkit.units import si_conc

CONTROL_ROLES = ("vehicle", "positive")
ASSAY_ROLES = COMPOUND_ROLES + CONTROL_ROLES
NO_ENZYME = ("positive", "blank")  # wells that get the substrate without kinase (100 % inhibition)
TRAVEL_MM = 150.0  # typical head travel between labware, for the reaction-time estimate



def work_seconds(b: Builder, steps: list) -> float:
    """Deck time of liquid-handling steps by the simulator's time model (labkit.simulate.cost), roughly: tips,
    aspirate / dispense at the default flow rate, a move between labware for every pick-up, aspirate, first dispense
    and drop (the XY distance taken as TRAVEL_MM), and a short hop between the dispenses of one aspirate."""
    from labkit.simulate import cost as T

    move = T.MOVE_BETWEEN_S + TRAVEL_MM / T.GANTRY_MM_S
    total = 0.0
    for step in steps:
        flow = b.spec(step.pipette).flow_ul_s or 1.0
        for st in getattr(step, "strokes", ()):
            total += (T.PICK_UP_TIP_S + move if st.tip is not None else 0.0) + (T.DROP_TIP_S + move if st.drop else 0)
            total += 2 * move + T.ASPIRATE_S + st.volume / flow
            total += sum(T.DISPENSE_S + d.volume / flow for d in st.dispenses)
            total += (len(st.dispenses) - 1) * (T.MOVE_WITHIN_S + 4.5 / T.GANTRY_MM_S)
            total += T.BLOWOUT_S + move if st.blow_out else 0.0
    return total


def _atp_name(exp, t) -> str:
    """Display name of a target's ATP start mix (one per ATP concentration)."""
    return "ATP start mix" if len({x.atp for x in exp.targets}) == 1 else f"ATP start mix {si_conc(t.atp)}"


def plan_adpglo(b: Builder, exp) -> None:
    """Add the ADP-Glo steps to the builder."""
    v, cond = exp.volumes, exp.conditions
    well_vol = v.well
    scale, atp_scale = well_vol / v.enzyme_mix, well_vol / v.atp_mix
    solvent = exp.compounds[0].solvent
    plates = [(p, b.labware(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id)) for i, p in enumerate(exp.plates)]
    res = b.labware("reservoir", RESERVOIR, label="DMSO, kinase buffer, ADP-Glo Reagent, Kinase Detection Reagent")
    tubes = b.labware("tubes", TUBES, label="kinase mixes, no-enzyme mixes, ATP")
    series = DmsoSeries(b, exp, res, "Kinase buffer", "kinase buffer")

    dmso = b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))
    buffer = b.liquid("Kinase buffer", "kinase reaction buffer (e.g. 40 mM Tris pH 7.5, 20 mM MgCl2, 0.1 mg/mL BSA, "
                      "50 µM DTT; Promega TM313)", {"buffer": 1.0})
    adp_glo = b.liquid("ADP-Glo Reagent", "ADP-Glo™ Reagent at room temperature (stops the reaction, depletes the "
                       "ATP left)", {ADP_GLO: 1.0})
    detection = b.liquid("Kinase Detection Reagent", "Kinase Detection Reagent (Kinase Detection Buffer + "
                         "Substrate, reconstituted) at room temperature", {DETECTION: 1.0})
    targets = {t.name: t for t in exp.targets}
    enzyme_mix, blank_mix, atp_mix = {}, {}, {}
    for t in exp.targets:
        enzyme_mix[t.name] = b.liquid(
            f"{t.name} kinase + {t.substrate} mix",
            f"{t.name} {si_conc(t.enzyme * scale)} + {t.substrate} {si_conc(t.substrate_conc * scale)} in kinase "
            f"buffer ({scale:g}× the final {si_conc(t.enzyme)} / {si_conc(t.substrate_conc)}); keep on ice",
            {f"enzyme:{t.name}": t.enzyme * scale, "substrate": t.substrate_conc * scale, "buffer": 1.0})
        blank_mix[t.name] = b.liquid(
            f"No-enzyme control: {t.substrate} {si_conc(t.substrate_conc * scale)}",
            f"{t.substrate} {si_conc(t.substrate_conc * scale)} in kinase buffer, no kinase (100 % inhibition "
            "control)", {"substrate": t.substrate_conc * scale, "buffer": 1.0})
        atp_mix[t.name] = b.liquid(
            _atp_name(exp, t), f"ultrapure ATP {si_conc(t.atp * atp_scale)} in kinase buffer ({atp_scale:g}× the final "
            f"{si_conc(t.atp)}, at Km(ATP))", {"atp": t.atp * atp_scale, "buffer": 1.0})

    plan_series(series, exp, plates, ASSAY_ROLES, v.compound)
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    series.run(b.reservoir_well(res, dmso), b.plan.tip_policy)

    for p, key in plates:
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        b.comment(f"Plate {p.id}: kinase reaction at room temperature in a white plate (Promega TM313)")
        moves = dosing_moves(series, key, wells, v.compound)
        b.transfer(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into every "
                   "assay well, a fresh tip each", b.choose(v.compound), moves, new_tip="always")
        fresh = sorted({enzyme_mix[w.target] for w in wells if w.target and w.role not in NO_ENZYME})
        b.add(Pause(f"{p.id}: put the kinase mixes ({', '.join(fresh)}) on the deck now, fresh from ice (see the "
                    "deck's liquids for wells and volumes), and resume", loads=tuple(fresh)))
        # kinase + substrate (no-enzyme control: substrate only), non-contact multi-dispense
        for tname in targets:
            tw = [well_loc(key, w) for w in wells if w.target == tname and w.role not in NO_ENZYME]
            cw = [well_loc(key, w) for w in wells if w.target == tname and w.role in NO_ENZYME]
            for liquid, dests in ((enzyme_mix[tname], tw), (blank_mix[tname], cw)):
                if dests:
                    pip = b.choose(v.enzyme_mix, per_aspirate=len(dests))
                    b.distribute(f"{p.id}: {v.enzyme_mix:g} µL {liquid}", pip, b.pool(tubes, liquid), dests,
                                 v.enzyme_mix)
        other = [well_loc(key, w) for w in wells if not w.target]
        if other:
            b.distribute(f"{p.id}: {v.enzyme_mix:g} µL kinase buffer (wells without a target)",
                         b.choose(v.enzyme_mix, per_aspirate=len(other)), b.pool(res, buffer), other, v.enzyme_mix)
        buf = [well_loc(key, w) for w in sorted(exp.wells[p.id], key=lambda w: (w.col, w.row)) if w.role == "buffer"]
        if buf:
            b.distribute(f"{p.id}: {well_vol:g} µL kinase buffer into the buffer wells",
                         b.choose(well_vol, per_aspirate=len(buf)), b.pool(res, buffer), buf, well_vol)
        # the timed part (ATP start ... ADP-Glo Reagent) must not stop for a tip-rack change: change racks before it
        start_pip = b.choose(v.atp_mix, per_aspirate=len(wells))
        stop_pip = b.choose(v.adp_glo, per_aspirate=len(wells))
        groups: dict[str, list] = {}
        first_atp = atp_mix[exp.targets[0].name]
        for w in wells:
            groups.setdefault(atp_mix[w.target] if w.target else first_atp, []).append(well_loc(key, w))
        b.prepare_tips(start_pip, [b.nozzles(start_pip, 1)] * len(groups), "the ATP start")
        b.prepare_tips(stop_pip, [b.nozzles(stop_pip, 1)], "the ADP-Glo Reagent")
        if cond.preincubation_min > 0:
            b.add(Delay(cond.preincubation_min, f"{p.id}: pre-incubation of compound and kinase, "
                                                f"{cond.preincubation_min:g} min at room temperature"))
        start_at = len(b.plan.steps)
        for liquid, dests in groups.items():
            b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {liquid} ({len(dests)} wells), non-contact", start_pip,
                         b.pool(tubes, liquid), dests, v.atp_mix)
        wait_at = len(b.plan.steps)
        b.add(Delay(cond.reaction_min, ""))
        dests = [well_loc(key, w) for w in wells]
        # at the start's pace (no more wells per aspirate than the start), so every well reacts about as long
        b.distribute(f"{p.id}: stop — {v.adp_glo:g} µL ADP-Glo Reagent (= the reaction volume), non-contact, in the "
                     "order and at the pace of the start", stop_pip, b.pool(res, adp_glo), dests, v.adp_glo,
                     max_per_stroke=b.per_stroke(start_pip, v.atp_mix))
        work = (work_seconds(b, b.plan.steps[start_at:wait_at]) + work_seconds(b, b.plan.steps[wait_at + 1:])) / 2
        wait = round(max(cond.reaction_min - work / 60, 0.0), 1)
        b.plan.steps[wait_at] = Delay(wait, f"{p.id}: kinase reaction, {cond.reaction_min:g} min at room temperature "
                                            f"from the ATP start to the ADP-Glo Reagent (this wait {wait:g} min + "
                                            f"about {work / 60:.1f} min of start and stop work)")
        b.add(Delay(cond.depletion_min, f"{p.id}: ATP depletion by the ADP-Glo Reagent, {cond.depletion_min:g} min "
                                        "at room temperature (TM313)"))
        b.distribute(f"{p.id}: {v.detection:g} µL Kinase Detection Reagent (= 2× the reaction volume), non-contact",
                     b.choose(v.detection, per_aspirate=len(dests)), b.pool(res, detection), dests, v.detection)
        b.add(Delay(cond.detection_min, f"{p.id}: luminescence develops, {cond.detection_min:g} min at room "
                                        "temperature (TM313: 30–60 min)"))
        b.add(Pause(f"{p.id}: read luminescence (RLU, 0.25–1 s per well) on the plate reader now, within "
                    f"{cond.detection_max_min - cond.detection_min:g} min, then resume"))
