"""What the radiometric kinase plans share: the assay roles, the kinase and hot ATP mixes, the total-counts spots,
the P81 wash and the radioactive-waste texts, and which pipette stops (plan.py, stamped.py, pair.py, plan96.py)."""

from __future__ import annotations

from collections import defaultdict

from labkit.labware.specs import FILTER_PLATE, INTERMEDIATE_PLATE
from labkit.plan.arrange import moved_in_slot
from labkit.plan.builder import Builder
from labkit.plan.common import COMPOUND_ROLES, assay_wells
from labkit.plan.steps import Loc, MoveLabware, Pause
from labkit.units import si_conc

CONTROL_ROLES = ("vehicle", "no_enzyme", "positive", "blank")


ASSAY_ROLES = COMPOUND_ROLES + CONTROL_ROLES


HOT = "HOT [γ-33P]ATP mix (radioactive)"


HOT_PLATE = INTERMEDIATE_PLATE  # hot mix for an 8-channel: a column of this plate, a well per row


START_MIX_CYCLES = 1  # the hot start and the acid stop: into the liquid, then one mix cycle at the aqueous rate


STOP_MIX_CYCLES = 1


def _hot_name(exp, t) -> str:
    """Display name of a target's hot ATP mix (one per ATP concentration)."""
    return HOT if len({x.atp for x in exp.targets}) == 1 else f"{HOT} {si_conc(t.atp)} ATP"


def kinase_mixes(b: Builder, exp) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Per target: the kinase + substrate mix, the no-enzyme (substrate only) mix and the hot ATP mix, at the
    strengths that give the layout's final concentrations in the well."""
    v, cond = exp.volumes, exp.conditions
    scale, atp_scale = v.well / v.enzyme_mix, v.well / v.atp_mix
    enzyme_mix, blank_mix, hot_mix = {}, {}, {}
    for t in exp.targets:
        enzyme_mix[t.name] = b.liquid(
            f"{t.name} kinase + {t.substrate} mix",
            f"{t.name} {si_conc(t.enzyme * scale)} + {t.substrate} {t.substrate_text(scale)} in assay "
            f"buffer ({scale:g}× the final {si_conc(t.enzyme)} / {t.substrate_text()}); keep on ice",
            {f"enzyme:{t.name}": t.enzyme * scale, "substrate": t.substrate_conc * scale, "buffer": 1.0})
        blank_mix[t.name] = b.liquid(
            f"No-enzyme control: {t.substrate} {t.substrate_text(scale)}",
            f"{t.substrate} {t.substrate_text(scale)} in assay buffer, no kinase (100 % inhibition "
            "control)", {"substrate": t.substrate_conc * scale, "buffer": 1.0})
    for t in exp.targets:
        hot_mix[t.name] = b.liquid(
            _hot_name(exp, t), f"RADIOACTIVE. ATP {si_conc(t.atp * atp_scale)} with "
            f"{cond.hot_atp_uci_per_well / v.atp_mix:.3g} µCi/µL [γ-33P]ATP ({cond.hot_atp_uci_per_well:g} µCi per well) in assay buffer; "
            "handle behind shielding",
            {"atp": t.atp * atp_scale, "atp33": cond.hot_atp_uci_per_well / v.atp_mix, "buffer": 1.0})
    return enzyme_mix, blank_mix, hot_mix


def _atp_groups(exp, plate) -> dict[str, str]:
    """Well -> hot-mix name for every assay well of a plate (wells without a target take the first mix)."""
    targets = {t.name: t for t in exp.targets}
    first = _hot_name(exp, exp.targets[0])
    return {w.name: _hot_name(exp, targets[w.target]) if w.target else first
            for w in assay_wells(exp, plate.id, ASSAY_ROLES)}


def _total_counts(b: Builder, exp, p, filt: str, hot: str) -> None:
    """Total counts: one reaction's hot ATP mix (volumes.atp_mix) spotted straight onto the P81 filter plate in the
    plate's total_counts wells, not through a reaction, so that counts of the (unwashed) spot against the vehicle
    wells give % ATP conversion. The aliquot is its own small tube, loaded at a pause just before (the hot mix of
    the start has been standing since the pre-incubation)."""
    v, cond = exp.volumes, exp.conditions
    targets = {t.name: t for t in exp.targets}
    first = exp.targets[0]
    by_mix: dict[str, list[str]] = defaultdict(list)
    for w in sorted(exp.wells[p.id], key=lambda w: (w.col, w.row)):
        if w.role == "total_counts":
            t = targets.get(w.target, first)
            by_mix[f"{_hot_name(exp, t)}, total-counts aliquot for {p.id}"].append(w.name)
    if not by_mix:
        return
    atp_scale = v.well / v.atp_mix
    liquids = []
    for name, names in by_mix.items():
        t = next(targets.get(w.target, first) for w in exp.wells[p.id] if w.name == names[0])
        liquids.append(b.liquid(name, f"RADIOACTIVE. The start's hot ATP mix (ATP {si_conc(t.atp * atp_scale)}, "
                                f"{cond.hot_atp_uci_per_well / v.atp_mix:.3g} µCi/µL), a small aliquot for the "
                                "total-counts wells", {"atp": t.atp * atp_scale,
                                                       "atp33": cond.hot_atp_uci_per_well / v.atp_mix,
                                                       "buffer": 1.0}))
    b.add(Pause(f"{p.id}: put the total-counts aliquot(s) of hot ATP mix ({', '.join(liquids)}) on the deck now "
                "and resume", loads=tuple(liquids)))
    for liquid, names in zip(liquids, by_mix.values()):
        pip = b.choose(v.atp_mix, per_aspirate=len(names))
        b.distribute(f"{p.id}: total counts — {v.atp_mix:g} µL {liquid} straight onto the P81 filter, wells "
                     f"{', '.join(names)} (keep them out of the wash: cover them with sealing tape while the plate is "
                     "washed, uncover before the scintillant), a fresh tip every aspirate", pip, b.pool(hot, liquid),
                     [Loc(filt, w) for w in names], v.atp_mix, tip_per_stroke=True)


# The P81 wash (Hastie, McLauchlan & Cohen, "Assay of protein kinases using radiolabeled ATP: a user's guide",
# Nat Protoc 1:968-971, 2006: 75 mM (≈ 0.75 %) phosphoric acid washes, then acetone; MultiScreen-PH filter plates
# on a vacuum manifold take ~200 µL per wash and well): volumes and counts for the operator.
WASH = ("wash it on a vacuum manifold 5 × 200 µL per well of 0.75 % phosphoric acid (75 mM), then 1 × 100 µL "
        "acetone; dry 15 min (air or warm air), seal the underdrain, add 50 µL scintillant per well "
        "(e.g. MicroScint-20) and count (CPM) on the MicroBeta2 / TopCount")


WASTE_LABEL = "RADIOACTIVE WASTE: hot tips (empty, lined 1-well reservoir)"


# Hot reservoirs stay uncovered on the deck: the OT-2 cannot move a lid, and the Flex gripper handles lids only
# from API 2.23 on (load_lid_stack, move_lid; labkit's protocols stay at 2.20, and Opentrons defines lids for PCR
# plates only). The operator shields the hot ATP instead (see README).
COVER_NOTE = ("the hot ATP stands uncovered on the deck between uses (the OT-2 cannot move a lid; the Flex gripper "
              "moves lids only from API 2.23, above these protocols' 2.20): keep it behind an acrylic beta shield and "
              "bring it only at its pause")


def _filter_slot(b: Builder, plate_slot: str) -> str:
    """Slot for the filter plates on an unarranged deck: the reaction plate's (left for the temperature module), or
    one slot taken for all of them when the plate waited off the working deck."""
    if plate_slot not in ("offdeck", *b.robot.staging):
        return plate_slot
    key = moved_in_slot(FILTER_PLATE)
    return next((s for s, k in b.deck.owner.items() if k == key), None) or b.deck.take(key)


def _waste_text(waste) -> str:
    """Where hot tips go, for the operator."""
    if waste is None:
        return "the shared trash (no deck slot is free for a radioactive-waste container: treat the trash as " \
               "radioactive waste)"
    if waste.kind == "bin":
        return f"the radioactive-waste trash bin in slot {waste.slot} (not the shared trash)"
    return f"the radioactive-waste container in slot {waste.slot} (not the shared trash)"


def _waste_note(waste) -> str:
    """The operator's note on the radioactive waste of the deck."""
    if waste is None:
        return ("RADIOACTIVE WASTE: no deck slot is free for a dedicated container, so hot tips go to the shared "
                "trash: line it, and empty and monitor it as radioactive waste after the run")
    if waste.kind == "bin":
        return (f"RADIOACTIVE WASTE: put a second, lined trash bin in slot {waste.slot} and label it; every hot tip "
                "goes there, not to the shared trash")
    return (f"RADIOACTIVE WASTE: put an empty 1-well reservoir (nest_1_reservoir_195ml), lined with a bag and "
            f"labelled, in slot {waste.slot}; every hot tip is dropped into it, not into the fixed trash")


def _after_filter(b: Builder, p, key: str, filt: str, slot: str, filter_slot: str, last: bool) -> None:
    """The reaction plate off the deck (radioactive waste), then the filter plate to the wash (a pause)."""
    b.add(MoveLabware(key, "offdeck", False, f"Take reaction plate {p.id} off the temperature module (radioactive "
                                             "waste)"))
    wash = f"{p.id}: take the P81 filter plate from slot {filter_slot}; {WASH}. Resume to continue."
    if filter_slot != slot and not last:  # the next filter plate goes in the same slot
        b.add(MoveLabware(filt, "offdeck", False, wash))
    else:
        b.add(Pause(wash))


def _stop_class(b: Builder, exp) -> str:
    """The pipette class of the stop + filter transfer (one tip for both): the one for the larger volume, or the
    large one when that would share the ATP start's tip racks (the start and the stop of a plate then need more
    than one rack between them, and no rack change may fall inside the timed reaction)."""
    v = exp.volumes
    cls = b.pipette_class(max(v.stop, v.filter_transfer))
    if cls == b.pipette_class(v.atp_mix) == "small":
        from labkit.labware.specs import PIPETTES

        large = PIPETTES[b.robot.large_single]
        if large.min_ul <= min(v.stop, v.filter_transfer) and max(v.stop, v.filter_transfer) <= large.max_ul:
            return "large"
    return cls
