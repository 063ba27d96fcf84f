"""The radiometric kinase assay with the Flex 96-channel: one round per reaction plate, five whole-plate stamps.

Per plate the operator puts on the deck, fresh: three patterned plates laid out like the reaction plate — the
compound intermediate in assay buffer, the kinase mixes (no-enzyme wells: substrate only) and the hot ATP — and five
racks of 50 µL tips; the plate goes on the temperature module. The 96-channel then stamps compound, kinase mix,
(pre-incubation) hot ATP, (reaction) phosphoric acid stop from a one-trough reservoir, and — once the operator has
swapped the empty hot plate for the P81 filter plate — the stopped reactions onto the filter plate. Every stamp has
fresh tips that go to the trash (radiation hygiene: a tip that met hot ATP touches one more well at most); hot ATP
and stop are dispensed at the well top without touching the reaction. Wells the layout leaves empty get assay buffer
from every patterned plate (a stamp fills all 96), so nothing hot or enzymatic goes where the layout has nothing.
"""

from __future__ import annotations

from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.common import COMPOUND_ROLES, solvent_species
from labkit.plan.stamp96 import WELLS_96, Stamper
from labkit.plan.steps import Delay, Plan, SetTemperature
from labkit.units import si_conc

CONTROL_ROLES = ("vehicle", "positive", "blank")
ASSAY_ROLES = COMPOUND_ROLES + CONTROL_ROLES
HOT = "HOT [γ-33P]ATP mix (radioactive)"
# Flex deck (temperature module D1, trash bin A3): the tip-rack adapter in the middle, five racks behind and beside
# it, the patterned plates and the stop trough in front; the filter plate takes the hot plate's slot once it is empty
ADAPTER, RACKS = "C2", ("A1", "A2", "B1", "B2", "C1")
INTER, ENZYME, HOT_SLOT, STOP = "D2", "C3", "B3", "D3"


def _hot_name(exp, t) -> str:
    return HOT if len({x.atp for x in exp.targets}) == 1 else f"{HOT} {si_conc(t.atp)} ATP"


def intermediate_liquids(b: Builder, exp, diluent: str, diluent_species: dict[str, float]) -> dict:
    """(compound, point) / ('', 0) -> the liquid of a patterned intermediate well: the point in the diluent at the
    scheme's intermediate concentration and solvent fraction (the vehicle: solvent alone)."""
    v = exp.volumes
    frac = v.intermediate_solvent / (v.intermediate_solvent + v.intermediate_diluent)
    solvent = exp.compounds[0].solvent

    def composition(extra: dict[str, float], solv: str) -> dict[str, float]:
        comp = dict(extra)
        for sp, x in solvent_species(solv).items():
            comp[sp] = comp.get(sp, 0.0) + x * frac
        for sp, x in diluent_species.items():
            comp[sp] = comp.get(sp, 0.0) + x * (1 - frac)
        return comp

    out = {("", 0): b.liquid(f"Vehicle intermediate: {frac:.3g} {solvent} in {diluent}",
                             f"{solvent} {v.intermediate_solvent:g} µL + {diluent} {v.intermediate_diluent:g} µL, as "
                             "the compound intermediates are made", composition({}, solvent))}
    for c in exp.compounds:
        s = exp.scheme(c)
        for k, conc in enumerate(s.intermediate):
            out[(c.name, k)] = b.liquid(
                f"{c.name} point {k + 1} intermediate {si_conc(conc)}",
                f"{c.name} {si_conc(conc)} in {diluent} ({frac:.3g} {c.solvent}): {v.intermediate_solvent:g} µL of "
                f"the {si_conc(s.source[k])} {c.solvent} series + {v.intermediate_diluent:g} µL {diluent}",
                composition({f"compound:{c.name}": conc}, c.solvent))
    return out


def intermediate_pattern(exp, plate_id: str, liquids: dict, filler: str, roles: tuple[str, ...]) -> dict[str, str]:
    """Well -> liquid of a plate's patterned intermediate: each dosed well its compound point (controls the
    vehicle), every other well the filler."""
    out = {w: filler for w in WELLS_96}
    for w in exp.wells[plate_id]:
        if w.role in COMPOUND_ROLES:
            out[w.name] = liquids[(w.compound, w.point)]
        elif w.role in roles:
            out[w.name] = liquids[("", 0)]
    return out


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
    well_vol = v.well
    scale, atp_scale = well_vol / v.enzyme_mix, well_vol / v.atp_mix
    solvent = exp.compounds[0].solvent

    buffer = b.liquid("Assay buffer", "kinase assay buffer (e.g. 20 mM HEPES pH 7.5, 10 mM MgCl2, 1 mM EGTA, "
                      "0.01 % Brij-35, 2 mM DTT); also in every patterned-plate well the layout leaves empty",
                      {"buffer": 1.0})
    stop = b.liquid("Stop: 3 % phosphoric acid", "3 % (v/v) H3PO4 in water; stops the reaction and binds the "
                    "phosphopeptide to the P81 paper", {"stop": 1.0})
    inter = intermediate_liquids(b, exp, "assay buffer", {"buffer": 1.0})
    enzyme_mix, blank_mix, hot_mix = {}, {}, {}
    for t in exp.targets:
        enzyme_mix[t.name] = b.liquid(
            f"{t.name} kinase + {t.substrate} mix",
            f"{t.name} {si_conc(t.enzyme * scale)} + {t.substrate} {si_conc(t.substrate_conc * scale)} in assay "
            f"buffer ({scale:g}× the final {si_conc(t.enzyme)} / {si_conc(t.substrate_conc)}); keep on ice",
            {f"enzyme:{t.name}": t.enzyme * scale, "substrate": t.substrate_conc * scale, "buffer": 1.0})
        blank_mix[t.name] = b.liquid(
            f"No-enzyme control: {t.substrate} {si_conc(t.substrate_conc * scale)}",
            f"{t.substrate} {si_conc(t.substrate_conc * scale)} in assay buffer, no kinase (100 % inhibition "
            "control)", {"substrate": t.substrate_conc * scale, "buffer": 1.0})
    for t in exp.targets:
        hot_mix[t.name] = b.liquid(
            _hot_name(exp, t), f"RADIOACTIVE. ATP {si_conc(t.atp * atp_scale)} with "
            f"{cond.hot_atp_uci_per_well / v.atp_mix:.3g} µCi/µL [γ-33P]ATP ({cond.hot_atp_uci_per_well:g} µCi per "
            "well) in assay buffer; handle behind shielding",
            {"atp": t.atp * atp_scale, "atp33": cond.hot_atp_uci_per_well / v.atp_mix, "buffer": 1.0})
    first_target = exp.targets[0].name

    res_stop = s.trough("stop_trough", STOP, "stop: 3 % phosphoric acid", stop)
    filters = [b.offdeck(f"filter_{i + 1}", FILTER_PLATE, label=f"{p.id} P81 filter") for i, p in
               enumerate(exp.plates)]
    b.plan.notes += [
        "96-channel: every reagent that differs between wells comes from a plate laid out exactly like its reaction "
        "plate (Corning 96 flat): per reaction plate an intermediate plate (each well holds its assay well's compound "
        "point in assay buffer, vehicle and no-enzyme wells the vehicle intermediate), a kinase-mix plate "
        "(no-enzyme wells: substrate only) and a hot ATP plate; wells the layout leaves empty hold assay buffer. "
        "Prepare them by hand or with an 8-channel; the deck's liquids give every well and volume",
        f"96-channel: {len(RACKS)} racks of 50 µL tips per reaction plate, put in slots {', '.join(RACKS)}; the "
        f"gripper moves each onto the Flex 96 tip-rack adapter in slot {ADAPTER} (needed for a full 96-tip pick-up) "
        "and back, empty",
    ]
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
                    mix_of[name] = blank_mix[t] if w.role in ("positive", "blank") else enzyme_mix[t]
        key = f"inter_{n + 1}"
        loads = s.pattern(key, INTER, f"{p.id} intermediate (patterned, in assay buffer)",
                          intermediate_pattern(exp, p.id, inter, buffer, ASSAY_ROLES), v.compound)
        loads += s.pattern(f"mixes_{n + 1}", ENZYME, f"{p.id} kinase mixes (patterned)", mix_of, v.enzyme_mix)
        loads += s.pattern(f"hot_{n + 1}", HOT_SLOT, f"HOT: {p.id} [γ-33P]ATP (patterned, radioactive)", hot_of,
                           v.atp_mix)
        plate = s.put_on(f"plate_{n + 1}", ASSAY_PLATE[p.format], temp, p.id)
        s.pause(f"{p.id}: put the empty reaction plate {p.id} on the temperature module ({cond.temperature_c:g} °C), "
                f"its patterned plates — intermediate in slot {INTER}, kinase mixes in {ENZYME} and hot ATP in "
                f"{HOT_SLOT}, mixes and ATP fresh from ice (see the deck's liquids for every well) — and "
                f"{len(RACKS)} full racks of 50 µL tips in slots {', '.join(RACKS)}; then resume", tuple(loads))
        s.stamp(f"{p.id}: {v.compound:g} µL compound intermediate into every well (96-channel stamp)", racks[0], key,
                plate, v.compound)
        s.stamp(f"{p.id}: {v.enzyme_mix:g} µL kinase + substrate mix (no-enzyme wells: substrate only), "
                "non-contact (96-channel stamp)", racks[1], f"mixes_{n + 1}", plate, v.enzyme_mix, top=True)
        if cond.preincubation_min > 0:
            b.add(Delay(cond.preincubation_min, f"{p.id}: pre-incubation of compound and kinase, "
                                                f"{cond.preincubation_min:g} min"))
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to the trash")
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
    if not exp.targets:
        raise PlanError("a kinase assay needs at least one target", field="targets")
    del solvent
    return b.finish()
