"""The radiometric kinase assay: DMSO series -> buffer intermediate -> reaction plate -> ATP start -> stop -> filter.

Column stamps (where the layout allows a mirrored intermediate plate, `_stamped`): the series and the intermediate
plate by whole columns (plan.common.Mirror), compound into the still-empty wells by stamps of each dose's column,
the kinase mixes from reagent-plate columns laid out like the kinase rows (plan.stamps.RowReagent), then per column
run in one order the hot ATP start into the liquid, mixed (a fresh tip every stamp), and the acid stop, mixed, with
the stopped reaction going onto the P81 filter plate with the same tip (issue 10's practice). Otherwise: the hot
start and the filter transfer go column by column wherever that takes no more tips than single wells, the rest
well by well (the plan's warnings say so). A partially configured 8-channel needs a deck without tall labware
behind what it works (plan.deck), so the deck is arranged from a first, unconstrained build of the same plan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any

from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.timing import (HOT_LEAD_MIN, TIMED_PER_ASPIRATE, pace_band, plate_slot,
                                                     preincubation_spread, preincubation_steps, reaction_spread,
                                                     timed_pauses, timed_waits)
from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE, INTERMEDIATE_PLATE, PIPETTES, RESERVOIR, TUBES
from labkit.plan.arrange import moved_in_slot
from labkit.plan.clock import first_times, pace
from labkit.plan.builder import WASTE_KEY, BuildConfig, Builder, Pool, RowPool, per_stroke
from labkit.plan.columns import runs, split
from labkit.plan.common import (COMPOUND_ROLES, DmsoSeries, Mirror, assay_wells, mirror_classes, mirror_layout,
                                 plan_series, solvent_species, well_loc)
from labkit.plan.common import mix_volume
from labkit.plan.stamps import (MAIN, RowReagent, build_arranged, by_nozzles, describe, group_runs,
                                row_reagent_runs, stamp_distribute)
from labkit.wells import parse_well
from labkit.plan.steps import Delay, LoadLabware, Loc, MoveLabware, Pause, Plan, SetTemperature
from labkit.units import si_conc
from labkit.wells import split_well

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


def _steps(strokes: list[list]) -> list[list]:
    """Consecutive strokes with the same nozzles and group merged into the runs of one step, in column order."""
    out: list[list] = []
    for stroke in strokes:
        if out and (out[-1][0].nozzles, out[-1][0].group) == (stroke[0].nozzles, stroke[0].group):
            out[-1] += stroke
        else:
            out.append(list(stroke))
    return out


def _where(runs_: list) -> str:
    """'columns 7–12 rows A–F (6 nozzles)' for the runs of one step."""
    first, last, k = runs_[0], runs_[-1], runs_[0].nozzles
    cols = f"columns {first.column}–{last.column}" if len(runs_) > 1 else f"column {first.column}"
    rows = "" if k == 8 else f" rows {split_well(first.wells[0])[0]}–{split_well(first.wells[-1])[0]}"
    return f"{cols}{rows} ({'8-channel' if k == 8 else f'{k} nozzles'})"


def _atp_work(b: Builder, pip: str, found: list, volume: float) -> tuple[list, dict[str, list[str]], list[int]]:
    """The ATP start of one plate: 8-channel strokes (runs of a liquid), single wells per liquid, and the nozzles
    of every tip pick-up it takes (for `Builder.prepare_tips`)."""
    per = min(b.per_stroke(pip, volume), TIMED_PER_ASPIRATE)
    strokes, rest = split(found, per) if b.spec(pip).channels == 8 else ([], found)
    single: dict[str, list[str]] = defaultdict(list)
    for run in rest:
        single[str(run.group)] += list(run.wells)
    pickups = [b.nozzles(pip, s[0].nozzles) for s in strokes]
    pickups += [b.nozzles(pip, 1)] * sum(-(-len(w) // per) for w in single.values())
    return strokes, dict(single), pickups


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


def multi_classes(b: Builder, exp) -> set[str]:
    """Pipette classes whose 8-channel column work (ATP start, filter transfer) saves pick-ups at no tip cost."""
    v = exp.volumes
    out = set()
    for p in exp.plates:
        n_rows = 16 if p.format == 384 else 8
        groups = _atp_groups(exp, p)
        cls = b.pipette_class(v.atp_mix, per_aspirate=len(groups))
        spec = PIPETTES[b.robot.small_multi if cls == "small" else b.robot.large_multi]
        if split(runs(n_rows, groups), per_stroke(spec, v.atp_mix))[0]:
            out.add(cls)
        if p.format == 96 and split(runs(8, {w: True for w in groups}))[0]:
            out.add(b.pipette_class(v.filter_transfer))
    plates = [(p, f"plate_{i + 1}") for i, p in enumerate(exp.plates)]
    if isinstance(mirror_layout(exp, plates, ASSAY_ROLES, v.compound), Mirror):
        # column stamps all through: the mirrored series, the kinase mixes, the ATP start, the stop and filter
        out |= mirror_classes(b, exp, v.compound)
        out |= {b.pipette_class(v.enzyme_mix), b.pipette_class(v.atp_mix), _stop_class(b, exp)}
    return out


def build_kinase(config: BuildConfig, exp) -> Plan:
    """The kinase-assay plan: 8-channels where column work pays and the deck allows. A first (probe) build with
    those 8-channels says which labware they work with partial layouts; the final build runs on a deck arranged
    for that (or, when no such deck exists, with single-channel pipettes only, and a warning says so)."""
    for i, p in enumerate(exp.plates):
        if p.format != 96:
            raise PlanError(f"plate {p.id} is a {p.format}-well plate: the radiometric kinase assay runs on 96-well "
                            "plates only, because each reaction goes well by well onto a 96-well P81 filter plate "
                            "(MultiScreen-PH); use format: 96", field=f"plates[{i}].format")
    multi = multi_classes(Builder(config), exp) if config.multichannel else set()
    why_not = ""
    robot = Builder(config).robot
    if len(exp.plates) >= 2 and not robot.gripper:
        why_not = ("the OT-2 has no gripper, so the tip racks a second plate's start and stop need would be changed by "
                   "hand while the first plate reacts (no pause may fall inside a reaction)")
    elif len(exp.plates) > 2:
        why_not = (f"labkit interleaves two plates at a time (two temperature modules); these {len(exp.plates)} "
                   "plates on one deck run one after another")
    elif len(exp.plates) == 2 and not multi:
        why_not = "interleaving needs the 8-channel column stamps (the plan works single wells)"
    if len(exp.plates) == 2 and robot.gripper and multi:
        # two plates side by side on two temperature modules (`_pair_stamped`), where a deck for it exists
        from labkit.plan.checks import check_plan

        for slot in PAIR_SLOTS:
            try:
                plan = build_arranged(config, partial(_pair_plan, exp=exp, pair_slot=slot), multi)
                if "temp2" in {m.key for m in plan.modules}:
                    check_plan(plan)  # e.g. a partial nozzle layout over one module's plate would hit the other
                    return plan
            except _NoPair as exc:  # not for want of a slot: no other slot helps
                why_not = exc.message
                break
            except PlanError as exc:
                why_not = f"no deck with a second temperature module passes the plan's checks ({exc.message})"
                continue
            why_not = "no deck with a second temperature module lets the 8-channels work single wells and part columns"
    return build_arranged(config, lambda b, slots: _plan(b, exp, slots, why_not=why_not), multi)


def _pair_plan(b: Builder, slots: dict[str, str] | None, *, exp, pair_slot: str) -> None:
    """`_plan` with the second temperature module in `pair_slot` (for build_arranged)."""
    _plan(b, exp, slots, pair_slot=pair_slot)


def _plan(b: Builder, exp, slots: dict[str, str] | None, pair_slot: str | None = None, why_not: str = "") -> None:
    """The kinase steps; slots: an arranged deck (plan.arrange; the filter plates share one slot) or None.
    pair_slot: a second temperature module's slot, for two plates interleaved (`_pair_stamped`); why_not: why a
    run of two plates is not interleaved (a note)."""
    v, cond = exp.volumes, exp.conditions
    robot = b.robot
    well_vol = v.well
    solvent = exp.compounds[0].solvent
    at = (slots or {}).get
    temp = b.module("temp", "temperature module gen2", robot.temperature_slot)
    for key, name, slot in b.config.modules:  # the run's other batches use it (plan.batches): kept, unused here
        if key not in {m.key for m in b.plan.modules} and key != (pair_slot and "temp2"):
            b.module(key, name, slot)
    plates = []
    for i, p in enumerate(exp.plates):
        # the reaction plates wait off the working deck (Flex: staging area; OT-2: off the deck, put on the module by
        # hand at its move), which leaves a slot for the radioactive waste
        plates.append((p, b.parked(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id, slot=at(f"plate_{i + 1}"))))
    stamped = _stamped(b, exp, plates)
    temp2 = None
    if pair_slot and not stamped and b.allow_multi and b.multi:
        raise _NoPair("interleaving is built on the column stamps, and this layout's plates are dosed well by well")
    if pair_slot and stamped and len(plates) == 2:
        temp2 = b.module("temp2", "temperature module gen2", pair_slot)
    atp_class = b.pipette_class(v.atp_mix) if stamped else b.pipette_class(v.atp_mix, per_aspirate=2)
    res = b.labware("reservoir", RESERVOIR, label="DMSO, assay buffer, stop", slot=at("reservoir"))
    if stamped:  # the kinase mixes in plate columns whose rows match the assay plates' kinase rows
        tubes = b.labware("tubes", HOT_PLATE, label="kinase and control mixes, a column per plate laid out like its "
                          "kinase rows", slot=at("tubes"))
    else:
        tubes = b.labware("tubes", TUBES, label="kinase and control mixes", slot=at("tubes"))
    # an 8-channel draws the hot mix from a column of a plate, a well per row (little dead volume, like an 8-tube
    # strip); single channels from a tube
    if atp_class in b.multi:
        hot = b.labware("hot", HOT_PLATE, label="HOT: [γ-33P]ATP (radioactive), a well per row", slot=at("hot"))
    else:
        hot = b.labware("hot", TUBES, label="HOT: [γ-33P]ATP (radioactive)", slot=at("hot"))
    series = DmsoSeries(b, exp, res, "Assay buffer", "assay buffer", slots)
    waste = b.hot_waste(WASTE_LABEL, slot=at(WASTE_KEY))
    b.plan.notes.append(_waste_note(waste))
    b.plan.notes.append(COVER_NOTE)
    filters = [b.offdeck(f"filter_{i + 1}", FILTER_PLATE, label=f"{p.id} P81 filter") for i, (p, _k) in
               enumerate(plates)]

    # liquids
    dmso = b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))
    buffer = b.liquid("Assay buffer", "kinase assay buffer (e.g. 20 mM HEPES pH 7.5, 10 mM MgCl2, 1 mM EGTA, "
                      "0.01 % Brij-35, 2 mM DTT)", {"buffer": 1.0})
    stop = b.liquid("Stop: 3 % phosphoric acid", "3 % (v/v) H3PO4 in water; stops the reaction and binds the "
                    "phosphopeptide to the P81 paper", {"stop": 1.0})
    targets = {t.name: t for t in exp.targets}
    enzyme_mix, blank_mix, hot_mix = kinase_mixes(b, exp)

    # what each assay well draws from the intermediate plate
    plan_series(series, exp, plates, ASSAY_ROLES, v.compound)
    if temp2:
        b.plan.notes.append(PAIR_NOTE.format(a=plates[0][0].id, b=plates[1][0].id, slot=robot.temperature_slot,
                                             slot2=pair_slot))
    elif why_not:
        b.plan.notes.append(f"the plates run one after another, not interleaved: {why_not}")
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    b.add(SetTemperature(temp, cond.temperature_c))
    res_dmso = b.reservoir_well(res, dmso)
    series.run(res_dmso, b.plan.tip_policy)

    if temp2:
        _pair_stamped(b, exp, list(zip(plates, filters)), (temp, temp2), series, Liquids(
            tubes, hot, res, enzyme_mix, blank_mix, buffer, stop, _waste_text(waste)))
        b.add(SetTemperature(temp, None))
        b.add(SetTemperature(temp2, None))
        return
    # a lone plate in a run whose other batches are interleaved keeps the second module on its deck, unused: its
    # filter plate takes the intermediate plate's slot once it is dosed, as in the interleaved batches
    lone = stamped and len(plates) == 1 and "temp2" in {m.key for m in b.plan.modules}
    for n_plate, ((p, key), filt) in enumerate(zip(plates, filters)):
        slot = b.plan.labware_by_key()[key].slot
        if lone:
            filter_slot = b.plan.labware_by_key()[series.inter].slot
        else:
            filter_slot = slots[moved_in_slot(FILTER_PLATE)] if slots else _filter_slot(b, slot)
        b.comment(f"Plate {p.id}: reaction at {cond.temperature_c:g} °C on the temperature module")
        b.add(MoveLabware(key, temp, robot.gripper, f"Put reaction plate {p.id} on the temperature module"))
        if stamped:
            hot_from = _plate_stamped(b, exp, p, key, filt, filter_slot, series, Liquids(
                tubes, hot, res, enzyme_mix, blank_mix, buffer, stop, _waste_text(waste)), free=lone)
            _total_counts(b, exp, p, filt, hot)
            b.to_hot_waste(hot_from)
            _after_filter(b, p, key, filt, slot, filter_slot, n_plate == len(plates) - 1)
            continue
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        n_rows = 16 if p.format == 384 else 8
        # compound / vehicle: fresh tip for every well (contact)
        series.dose(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into "
                    "every assay well", key, wells, v.compound)
        # the kinase mixes and the hot ATP stand on the deck at room temperature only from here: the operator
        # brings this plate's fresh from ice now
        fresh = sorted({enzyme_mix[w.target] for w in wells if w.target and w.role not in NO_ENZYME_ROLES})
        hot_now = sorted({_atp_groups(exp, p)[w.name] for w in wells})
        b.add(Pause(f"{p.id}: put the kinase mixes ({', '.join(fresh)}) on the deck now, fresh from ice (see the "
                    "deck's liquids for wells and volumes), and resume; the hot ATP comes at a pause just before the "
                    "start", loads=tuple(fresh)))
        # kinase + substrate (no-enzyme control: substrate only), non-contact multi-dispense
        enz_at = len(b.plan.steps)
        for tname in targets:
            tw = [well_loc(key, w) for w in wells if w.target == tname and w.role not in NO_ENZYME_ROLES]
            cw = [well_loc(key, w) for w in wells if w.target == tname and w.role in NO_ENZYME_ROLES]
            for liquid, dests in ((enzyme_mix[tname], tw), (blank_mix[tname], cw)):
                if dests:
                    pip = b.choose(v.enzyme_mix, per_aspirate=len(dests))
                    b.distribute(f"{p.id}: {v.enzyme_mix:g} µL {liquid}", pip, b.pool(tubes, liquid), dests,
                                 v.enzyme_mix)
        enz_end = len(b.plan.steps)
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
        # the timed part (ATP start ... stop) must not stop for a tip-rack change: change racks before it
        pip = b.choose(v.atp_mix)  # the smallest pipette that takes it (not a few µL from a 1000 µL tip)
        # column runs of one hot mix and one kinase mix (the kinase mixes go liquid by liquid, so a run that spans
        # two of them would hold wells mixed minutes apart)
        mix_of = {w.name: (blank_mix if w.role in NO_ENZYME_ROLES else enzyme_mix)[w.target] if w.target else ""
                  for w in wells}
        by_target = {w.name: (_atp_groups(exp, p)[w.name], mix_of[w.name]) for w in wells}
        strokes, single, pickups = _atp_work(b, pip, runs(n_rows, by_target), v.atp_mix)
        stop_pip = b.choose(v.stop, per_aspirate=len(wells))
        b.prepare_tips(pip, pickups, "the ATP start")
        stop_per = min(b.per_stroke(stop_pip, v.stop), TIMED_PER_ASPIRATE)
        b.prepare_tips(stop_pip, [b.nozzles(stop_pip, 1)] * -(-len(wells) // stop_per), "the stop")
        pre = preincubation_steps(b, p.id, cond, hot_now)
        # start: hot ATP, non-contact, a fresh tip every aspirate, straight to the radioactive waste; whole and part
        # columns with an 8-channel where that takes no more tips, single wells for the rest
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to "
                  f"{_waste_text(waste)}")
        start_at = len(b.plan.steps)
        # the start in the order the kinase mixes went in (column strokes and single wells alike), so that every
        # well's pre-incubation is alike; the stop follows the start's order
        mixed_at = first_times(b, b.plan.steps[enz_at:enz_end], key, n_rows, {"mix": range(enz_end - enz_at)},
                               plate_slot(b, key))["mix"]
        units: list[tuple[float, str, int, list]] = []  # (when mixed, liquid, nozzles, column strokes | wells)
        for stroke in strokes:
            got = [mixed_at.get(w, 0.0) for r in stroke for w in r.wells]
            units.append((sum(got) / len(got), stroke[0].group[0], stroke[0].nozzles, stroke))
        for names in single.values():
            units += [(mixed_at.get(w, 0.0), by_target[w][0], 1, [w]) for w in names]
        units.sort(key=lambda u: u[0])
        merged: list[tuple[str, int, list]] = []
        for _t, liquid, k, what in units:
            if merged and merged[-1][:2] == (liquid, k):
                merged[-1][2].extend(what)
            else:
                merged.append((liquid, k, list(what)))
        atp_order: list[str] = []
        for liquid, k, what in merged:
            if k > 1:  # column strokes of k nozzles
                cols = list(what)  # the runs of its column strokes
                atp_order += [w for r in cols for w in r.wells]
                b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {liquid} into {_where(cols)}, non-contact, a fresh "
                             "tip every aspirate", pip, b.pool(hot, str(liquid)), [Loc(key, c.primary) for c in cols],
                             v.atp_mix, tip_per_stroke=True, nozzles=k, max_per_stroke=TIMED_PER_ASPIRATE)
            else:
                atp_order += what
                b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {liquid} ({len(what)} wells), non-contact, a fresh "
                             "tip every aspirate", pip, b.pool(hot, str(liquid)), [Loc(key, w) for w in what],
                             v.atp_mix, tip_per_stroke=True, max_per_stroke=TIMED_PER_ASPIRATE)
        wait = len(b.plan.steps)
        b.add(Delay(cond.reaction_min, ""))
        rank = {w: i for i, w in enumerate(atp_order)}
        dests = [well_loc(key, w) for w in sorted(wells, key=lambda w: rank.get(w.name, len(rank)))]
        pip = b.choose(v.stop, per_aspirate=len(dests))
        b.distribute(f"{p.id}: stop — {v.stop:g} µL phosphoric acid, non-contact, a fresh tip every aspirate", pip,
                     b.pool(res, stop), dests, v.stop, tip_per_stroke=True, max_per_stroke=TIMED_PER_ASPIRATE)
        start_at += timed_waits(b, p, key, cond, (enz_at, enz_end, pre, start_at, wait))
        b.add(MoveLabware(filt, filter_slot, False, f"Put the P81 filter plate for {p.id} in slot {filter_slot}"))
        # each stopped reaction onto the same well of the filter plate, a fresh tip every well: whole and part
        # columns with an 8-channel
        if p.format == 96:
            pip = b.choose(v.filter_transfer)
            found = runs(8, {w.name: True for w in wells})
            cols, rest = split(found) if b.spec(pip).channels == 8 else ([], found)
            for group in _steps(cols):
                b.transfer(f"{p.id}: {v.filter_transfer:g} µL of each stopped reaction in {_where(group)} onto the "
                           "same wells of the P81 filter plate, a fresh tip every well", pip,
                           [(Loc(key, c.primary), Loc(filt, c.primary), v.filter_transfer) for c in group],
                           new_tip="always", nozzles=group[0].nozzles)
            singles = [w for run in rest for w in run.wells]
            b.transfer(f"{p.id}: {v.filter_transfer:g} µL of each stopped reaction onto the P81 filter plate, a "
                       "fresh tip every well", pip, [(Loc(key, w), Loc(filt, w), v.filter_transfer) for w in singles],
                       new_tip="always")
        _total_counts(b, exp, p, filt, hot)
        b.to_hot_waste(start_at)
        _after_filter(b, p, key, filt, slot, filter_slot, n_plate == len(plates) - 1)
    b.add(SetTemperature(temp, None))


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


def _stamped(b: Builder, exp, plates: list) -> bool:
    """Whether the whole assay goes by column stamps: 8-channels for every class it needs and a mirrored
    intermediate plate the layout allows."""
    v = exp.volumes
    need = {b.pipette_class(v.enzyme_mix), b.pipette_class(v.atp_mix)} | mirror_classes(b, exp, v.compound)
    chain = _stop_class(b, exp)
    if not (b.allow_multi and need | {chain} <= b.multi):
        return False
    return isinstance(mirror_layout(exp, plates, ASSAY_ROLES, v.compound), Mirror)


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


@dataclass
class Liquids:
    """Where the per-plate reagents of the stamped plan come from."""

    mixes: str                 # plate of kinase-mix columns
    hot: str                   # hot ATP plate
    reservoir: str
    enzyme: dict[str, str]     # target -> kinase + substrate mix
    blank: dict[str, str]      # target -> no-enzyme (substrate only) mix
    buffer: str
    stop: str
    waste: str                 # where hot tips go, for the operator


def _mix_columns(b: Builder, lq: Liquids, patterns: list[dict[int, str]]) -> RowReagent:
    """Fresh columns of the kinase-mix plate for one assay plate, laid out like its kinase rows."""
    load = b.plan.labware_by_key()[lq.mixes].load_name
    first = 0
    for pat in patterns:
        col = b.reagents.next_column[lq.mixes] = b.reagents.next_column[lq.mixes] + 1
        if col > 12:
            raise PlanError(f"the kinase-mix plate ({load}) has no free column left; use fewer plates per run")
        first = first or col
        for r, liquid in pat.items():
            b.reagents.wells[Loc(lq.mixes, f"{'ABCDEFGH'[r]}{col}")] = liquid
    return RowReagent(lq.mixes, patterns, first)


def _plate_stamped(b: Builder, exp, p, key: str, filt: str, filter_slot: str, series: DmsoSeries,
                   lq: Liquids, free: bool = False) -> int:
    """One plate by column stamps: compound from the mirrored intermediate plate, kinase mixes from columns laid
    out like the kinase rows, then per column (in the same order) the hot ATP start into the liquid, mixed, and
    the acid stop, mixed, with the stopped reaction going onto the filter plate with the same tip. free: the
    dilution plates leave once the plate is dosed (the filter plate takes the intermediate plate's slot)."""
    cond = exp.conditions
    _dose_stamped(b, exp, p, key, series)
    gone = ""
    if free:
        lw = b.plan.labware_by_key()
        gone = (f"take the {lw[series.source].label} plate (slot {lw[series.source].slot}) and the "
                f"{lw[series.inter].label} plate (slot {lw[series.inter].slot}) off the deck (no longer needed), then ")
        for x in (series.source, series.inter):
            b.add(MoveLabware(x, "offdeck", False, "", pause=False))
    b.add(MoveLabware(filt, filter_slot, False, f"{gone[:1].upper()}{gone[1:]}{'p' if gone else 'P'}ut the P81 filter "
                                               f"plate for {p.id} in slot {filter_slot}"))
    b.add(_load_pause(exp, [p], lq))
    t = _mixes_stamped(b, exp, p, key, lq, plate_slot(b, key))
    _prepare_timed(b, t, t)
    pre = preincubation_steps(b, p.id, cond, _hot_now(exp, [p]))
    b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that touched hot liquid is used once and dropped into "
              f"{lq.waste}")
    _start_stamped(b, exp, t, lq)
    start_at, wait = t.start_at, len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, t, filt, lq)
    start_at += timed_waits(b, p, key, cond, (t.enz_at, t.enz_end, pre, start_at, wait))
    return start_at


@dataclass
class _Timed:
    """One plate's timed part in the stamped plan: the column runs of its start and stop (in one order), the
    pipettes, and where its kinase mixes, start and stop sit in the plan's steps."""

    p: Any                     # the layout's plate
    key: str
    runs: list                 # (nozzles, hot liquid, runs) per start / stop step
    atp_pip: str
    stop_pip: str
    enz_at: int = 0
    enz_end: int = 0
    start_at: int = 0
    start_end: int = 0
    stop_at: int = 0
    stop_end: int = 0
    gap: int = 0               # a wait placeholder before the kinase mixes (interleaved plate B)


def _dose_stamped(b: Builder, exp, p, key: str, series: DmsoSeries) -> None:
    """Compound (vehicle wells: solvent in buffer) into every still-empty assay well of a plate, by stamps."""
    v = exp.volumes
    solvent = exp.compounds[0].solvent
    series.dose(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into every "
                "assay well", key, assay_wells(exp, p.id, ASSAY_ROLES), v.compound, empty=True)


def _hot_now(exp, plates: list) -> list[str]:
    """The hot ATP mixes the plates' starts draw (one pause brings them)."""
    out: list[str] = []
    for p in plates:
        out += [x for x in sorted(set(_atp_groups(exp, p).values())) if x not in out]
    return out


def _load_pause(exp, plates: list, lq: Liquids, extra: str = "") -> Pause:
    """The pause at which the operator brings the plates' kinase mixes fresh from ice."""
    fresh: list[str] = []
    for p in plates:
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        fresh += [x for x in sorted({lq.enzyme[w.target] for w in wells if w.target and w.role not in NO_ENZYME_ROLES})
                  if x not in fresh]
    ids = ", ".join(p.id for p in plates)
    return Pause(f"{extra}{ids}: put the kinase mixes ({', '.join(fresh)}) on the deck now, fresh from ice (see the "
                 "deck's liquids for wells and volumes), and resume; the hot ATP comes at a pause just before the "
                 "start", loads=tuple(fresh))


def _mixes_stamped(b: Builder, exp, p, key: str, lq: Liquids, where: dict[str, str], gap: bool = False) -> _Timed:
    """A plate's kinase mixes (no-enzyme control: substrate only; a stamp per column run, non-contact, one tip per
    source rows; their tips in place before the first) and its buffer wells; returns its timed part, planned: the
    start's steps, and the columns within each, in the order their kinase mixes went in, so that every well's
    pre-incubation is alike (the stop goes in the same order). gap: a wait placeholder just before the mixes (its
    index in the result's `gap`), for an interleaved plate (`_pair_stamped`)."""
    v = exp.volumes
    wells = assay_wells(exp, p.id, ASSAY_ROLES)
    hot_groups = _atp_groups(exp, p)
    groups = {w.name: (lq.blank if w.role in NO_ENZYME_ROLES else lq.enzyme)[w.target] for w in wells
              if w.target}
    found, patterns = row_reagent_runs(8, groups)
    mixes = _mix_columns(b, lq, patterns)
    pip = b.choose(v.enzyme_mix, singles=False)
    by_source: dict[tuple[int, Loc], list] = defaultdict(list)
    for run in found:
        by_source[(run.nozzles, mixes.source(run.group, [parse_well(w)[0] for w in run.wells]))].append(run)
    # no rack change inside the pre-incubation window: the kinase mixes' tips are in place before the first mix
    b.prepare_tips(pip, [b.nozzles(pip, k) for k, _src in by_source], "the kinase mixes")
    at_gap = len(b.plan.steps)
    if gap:
        b.add(Delay(0.0, ""))
    enz_at = len(b.plan.steps)
    for (k, src), rs in sorted(by_source.items(), key=lambda kv: (-kv[0][0], kv[1][0].column, kv[1][0].wells[0])):
        what = "kinase mixes, each row its own" if rs[0].group == MAIN else str(rs[0].group)
        b.distribute(f"{p.id}: {v.enzyme_mix:g} µL {what} ({describe(rs)} from mix column {src.well[1:]}), "
                     "non-contact", pip, src, [Loc(key, r.primary) for r in rs], v.enzyme_mix, nozzles=k)
    enz_end = len(b.plan.steps)
    other = [w.name for w in wells if not w.target]
    if other:
        pip = b.choose(v.enzyme_mix, singles=False, per_aspirate=len(other))
        stamp_distribute(b, f"{p.id}: {v.enzyme_mix:g} µL assay buffer (wells without a target)", pip,
                         b.pool(lq.reservoir, lq.buffer), key, other, v.enzyme_mix)
    buf = [w.name for w in exp.wells[p.id] if w.role == "buffer"]
    if buf:
        pip = b.choose(v.well, singles=False, per_aspirate=len(buf))
        stamp_distribute(b, f"{p.id}: {v.well:g} µL assay buffer into the buffer wells", pip,
                         b.pool(lq.reservoir, lq.buffer), key, buf, v.well)
    mixed_at = first_times(b, b.plan.steps[enz_at:enz_end], key, 16 if p.format == 384 else 8,
                           {"mix": range(enz_end - enz_at)}, where)["mix"]

    def mix_time(r) -> float:
        return sum(mixed_at.get(w, 0.0) for w in r.wells) / len(r.wells)

    steps = sorted(((g[0].nozzles, g[0].group, sorted(g, key=mix_time))
                    for g in _by_liquid(by_nozzles(group_runs(b, key, hot_groups)))),
                   key=lambda s: sum(map(mix_time, s[2])) / len(s[2]))
    atp_pip = b.choose(v.atp_mix, singles=False)
    stop_pip = b.pipette(b.robot.large_multi if _stop_class(b, exp) == "large" else b.robot.small_multi)
    return _Timed(p, key, steps, atp_pip, stop_pip, enz_at, enz_end, gap=at_gap)


def _prepare_timed(b: Builder, start: _Timed, stop: _Timed) -> None:
    """Full tip racks in place before the timed part, if the current ones cannot serve a start and a stop."""
    b.prepare_tips(start.atp_pip, [b.nozzles(start.atp_pip, k) for k, _g, rs in start.runs for _r in rs],
                   "the ATP start")
    b.prepare_tips(stop.stop_pip, [b.nozzles(stop.stop_pip, k) for k, _g, rs in stop.runs for _r in rs], "the stop")


def _start_stamped(b: Builder, exp, t: _Timed, lq: Liquids) -> None:
    """The hot ATP start of a plate, per column run: into the liquid, one mix cycle at the aqueous mixing rate (the
    contact dispense before it goes at that rate too), a fresh tip every stamp — as an expert mixes a start by
    hand; the hot mix from this plate's own columns."""
    v = exp.volumes
    t.start_at = len(b.plan.steps)
    atp_mix = (START_MIX_CYCLES, mix_volume(b, t.atp_pip, v.well, v.atp_mix))
    hot_pools = {liquid: RowPool(b, lq.hot, str(liquid)) for _k, liquid, _rs in t.runs}
    for k, liquid, rs in t.runs:
        b.transfer(f"{t.p.id}: start — {v.atp_mix:g} µL {liquid} into the reaction, {describe(rs)}, mixed, a fresh "
                   "tip every stamp", t.atp_pip, [(hot_pools[liquid], Loc(t.key, r.primary), v.atp_mix) for r in rs],
                   new_tip="always", mix_after=atp_mix, nozzles=k, mix_rate=b.spec(t.atp_pip).aqueous_mix_rate)
    t.start_end = len(b.plan.steps)


def _stop_stamped(b: Builder, exp, t: _Timed, filt: str, lq: Liquids) -> None:
    """The acid stop of a plate in its start's order, mixed, then the stopped reaction onto the same wells of its
    P81 filter plate with the same tip."""
    v = exp.volumes
    t.stop_at = len(b.plan.steps)
    stop_mix = (STOP_MIX_CYCLES, mix_volume(b, t.stop_pip, v.well + v.stop, min(v.stop, v.filter_transfer)))
    for k, _liquid, rs in t.runs:
        chains: list[list[tuple[Loc | Pool, Loc, float, tuple[int, float] | None]]] = [
            [(b.pool(lq.reservoir, lq.stop), Loc(t.key, r.primary), v.stop, stop_mix),
             (Loc(t.key, r.primary), Loc(filt, r.primary), v.filter_transfer, None)] for r in rs]
        b.chain(f"{t.p.id}: stop — {v.stop:g} µL phosphoric acid into the reaction, mixed, then "
                f"{v.filter_transfer:g} µL of it onto the same wells of the P81 filter plate with the same tip, "
                f"{describe(rs)}", t.stop_pip, chains, nozzles=k, mix_rate=b.spec(t.stop_pip).aqueous_mix_rate)
    t.stop_end = len(b.plan.steps)


# Flex slots for the second temperature module (modules go in column 1 or 3; a plate on it is worked with partial
# nozzle layouts, so not in the back row), tried in this order
PAIR_SLOTS = ("B1", "C1", "D3", "C3", "B3")
PAIR_NOTE = ("INTERLEAVED: plates {a} and {b} run side by side, each on its own temperature module (slots {slot} "
             "and {slot2}; a second Temperature Module GEN2 is needed): both are dosed, {a} gets its kinase mixes, "
             "then {b} while {a} pre-incubates; {a} is started while {b} pre-incubates, {b} while {a} reacts, and the "
             "stops follow in the same order, so every well keeps its pre-incubation and reaction time and the two "
             "plates take little more than one plate's time. At the pause before the kinase mixes the dilution "
             "plates leave the deck: {a}'s P81 filter plate takes the intermediate plate's slot, {b}'s waits in the "
             "source plate's, and full tip racks for {b}'s start and stop wait in staging-area slots (the run uses "
             "B4, C4 and D4: set the deck configuration to a staging area slot in cutouts B3, C3 and D3); between the "
             "start and the last stop nothing stops the robot: the gripper swaps the tip racks and the filter plates")


class _NoPair(Exception):
    """Two plates cannot be interleaved on this deck (the message says why; not a PlanError, so that it is not
    taken for a deck without room for the 8-channels)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _pair_waits(b: Builder, exp, plates: tuple[_Timed, _Timed], at: dict[str, int], where: dict[str, str]) -> None:
    """The waits of two interleaved plates A and B (`_pair_stamped`), by the plan's clock as for one plate: each
    plate's kinase mixes and stop keep its start's pace (labkit.plan.clock.pace), and each wait centres the plate's
    own wells on the nominal, the other plate's work, waits and gripper moves inside its window counted. A's
    pre-incubation window holds W0 (`first`), B's mixes, W1 (`pre_a`), the hot ATP pause and the last minutes
    (`pre_a` + 2); B's holds W1, the hot ATP, the last minutes, A's start, the gripper's rack swap and W2
    (`pre_b`). B's reaction must not be longer than A's leaves room for (B's stop follows A's stop and the gripper's
    swaps), so W2 is at least what keeps B's reaction wait from going below 0; W0 then centres A and W1 centres B.
    `at`: the placeholder waits' step indices (first, pre_a, pre_b, wait_a, wait_b), kept up to date as pacing
    inserts steps."""
    ta, tb = plates
    pa, pb = ta.p, tb.p
    cond = exp.conditions
    nominal = cond.preincubation_min
    steps = b.plan.steps
    marks = ["enz_at", "enz_end", "start_at", "start_end", "stop_at", "stop_end"]

    def shift(pos: int, n: int) -> None:  # pacing inserted n steps before index pos (its phase's end)
        for t in plates:
            for m in marks:
                if getattr(t, m) >= pos:
                    setattr(t, m, getattr(t, m) + n)
        for k, v in at.items():
            if v >= pos:
                at[k] = v + n

    # the waits inside each phase pair's clock, counted as 0 while pacing (they shift every later well alike)
    for t, zero in ((ta, ("first", "pre_a")), (tb, ("pre_a", "pre_b"))):  # the kinase mixes keep the start's pace
        shift(t.enz_end, pace(b, range(t.enz_at, t.enz_end), range(t.start_at, t.start_end), t.key, 8,
                              f"{t.p.id}: pacing — the kinase mixes keep the ATP start's pace, so every well "
                              "pre-incubates alike", pace_band(nominal),
                              zero=tuple(at[k] for k in zero) + (at["pre_a"] + 2,), where=where))
    for t, zero in ((ta, ("wait_a", "pre_b")), (tb, ("wait_b", "wait_a"))):  # the stop keeps the start's pace
        wait = at[zero[0]]
        shift(t.stop_end, pace(b, range(t.start_at, wait), range(wait + 1, t.stop_end), t.key, 8,
                               f"{t.p.id}: pacing — the stop keeps the ATP start's pace, so every well reacts alike",
                               pace_band(cond.reaction_min), slow="later", zero=tuple(at[k] for k in zero), where=where))
    hot = at["pre_a"] + 2
    lo_a, hi_a = preincubation_spread(b, pa, ta.key, cond, (ta.enz_at, ta.enz_end, ta.start_at, ta.start_end),
                                       (at["first"], at["pre_a"], hot), where)
    lo_b, hi_b = preincubation_spread(b, pb, tb.key, cond, (tb.enz_at, tb.enz_end, tb.start_at, tb.start_end),
                                       (at["pre_a"], hot, at["pre_b"]), where)
    # reactions with W2 and A's reaction wait taken as 0: A's grows by W2, B's by A's wait, so B's wait is W2 + A's
    # mid - B's mid; W2 keeps it at least half a minute (the time model's rounding)
    ra = reaction_spread(b, pa, ta.key, cond, (ta.start_at, at["wait_a"], ta.stop_end), (at["pre_b"],), where)
    rb = reaction_spread(b, pb, tb.key, cond, (tb.start_at, at["wait_b"], tb.stop_end), (at["wait_a"],), where)
    mid_ra, mid_rb = sum(ra) / 2, sum(rb) / 2
    total_a, total_b = nominal - (lo_a + hi_a) / 2, nominal - (lo_b + hi_b) / 2
    floor = mid_rb - mid_ra + 0.5
    w2 = round(max(floor, total_b - total_a, 0.0), 2)
    last = round(min(HOT_LEAD_MIN, total_b - w2), 2)
    w1 = round(total_b - w2 - last, 2)
    w0 = round(total_a - w1 - last, 2)
    wait_a = round(cond.reaction_min - mid_ra - w2, 2)
    wait_b = round(cond.reaction_min - mid_rb - wait_a, 2)
    if min(w0, w1, last, wait_a, wait_b) < 0:
        raise _NoPair(f"{pb.id}'s kinase mixes and {pa.id}'s start and stop do not fit in the two plates' "
                      f"{nominal:g} min pre-incubations and {cond.reaction_min:g} min reactions")
    timed_a = timed_pauses(b, ta.enz_end, at["first"])
    timed = timed_pauses(b, tb.enz_end, at["pre_a"])
    inside = " less the operator's time at the timed pauses before it"
    steps[at["first"]] = Delay(w0, f"{pa.id}: pre-incubation of compound and kinase, {nominal:g} min from the kinase "
                                   f"mix to the ATP start in every well (interleaved: this wait {w0:g} min"
                                   f"{inside if timed_a else ''}, then {pb.id}'s kinase mixes, {w1:g} + {last:g} min "
                                   f"more around the hot ATP, + {lo_a:.1f}–{hi_a:.1f} min of mix, {pb.id}'s mix, "
                                   "preparation and start work, by well)", absorbs=timed_a)
    steps[at["pre_a"]] = Delay(w1, f"{pb.id}: pre-incubation of compound and kinase, {nominal:g} min from the kinase "
                                   f"mix to the ATP start in every well (interleaved: this wait {w1:g} min"
                                   f"{inside if timed else ''}, the hot ATP, {last:g} min, {pa.id}'s start, {w2:g} "
                                   f"min more, + {lo_b:.1f}–{hi_b:.1f} min of mix, preparation and {pa.id}'s and its "
                                   f"own start work, by well); {pa.id} pre-incubates on", absorbs=timed)
    steps[hot] = Delay(last, f"{pa.id}, {pb.id}: the last {last:g} min of {pa.id}'s pre-incubation, less the time "
                             "taken to bring the hot ATP", absorbs=True)
    steps[at["pre_b"]] = Delay(w2, f"{pb.id}: the last {w2:g} min of its pre-incubation (so that {pb.id}'s stop "
                                   f"follows {pa.id}'s and every well reacts alike)")
    steps[at["wait_a"]] = Delay(wait_a, f"{pa.id}: kinase reaction, {cond.reaction_min:g} min at "
                                        f"{cond.temperature_c:g} °C from the ATP start to the stop in every well "
                                        f"(interleaved: this wait {wait_a:g} min + {ra[0] + w2:.1f}–{ra[1] + w2:.1f} "
                                        f"min of start and stop work, {pb.id}'s start and the wait before it, by well)")
    steps[at["wait_b"]] = Delay(wait_b, f"{pb.id}: kinase reaction, {cond.reaction_min:g} min at "
                                        f"{cond.temperature_c:g} °C from the ATP start to the stop in every well "
                                        f"(interleaved: this wait {wait_b:g} min + {rb[0] + wait_a:.1f}–"
                                        f"{rb[1] + wait_a:.1f} min of start and stop work, {pa.id}'s wait and stop and "
                                        "the gripper's swaps, by well)")


def _pair_stamped(b: Builder, exp, pair: list, temps: tuple[str, str], series: DmsoSeries, lq: Liquids) -> None:
    """Two plates A and B interleaved on two temperature modules: both dosed; one pause (the dilution plates leave,
    A's filter plate takes the intermediate plate's slot, B's the source plate's, full tip racks wait in staging-area
    slots, both plates' kinase mixes come); A's mixes; a first wait; B's mixes; a wait; one pause for both plates'
    hot ATP; a short wait; A's start; the gripper swaps the start's tip rack; B's last wait; B's start; A's
    reaction wait; A's stop; the gripper swaps the stop's tip rack and the filter plates; B's reaction wait; B's
    stop; then both plates' total counts. Every wait is set from the plates' own windows by the plan's clock
    (`preincubation_spread`, as for one plate) and `_reaction_wait`, with the other plate's work, waits and
    gripper moves inside each window counted; B's start follows A's by enough that B's stop never runs into A's.
    Nothing stops the robot between A's start and B's stop (else _NoPair)."""
    cond = exp.conditions
    ((pa, ka), fa), ((pb, kb), fb) = pair
    robot = b.robot
    if cond.preincubation_min <= 0:
        raise _NoPair("without a pre-incubation there is no wait to prepare the second plate in")
    lw = b.plan.labware_by_key()
    parks = [lw[ka].slot, lw[kb].slot] + [x for x in robot.staging if x not in b.deck.owner]
    if len(parks) < 3 or not set(parks) <= set(robot.staging):
        raise _NoPair("the staging-area slots are not free for the spare tip racks")
    atp_pip = b.choose(exp.volumes.atp_mix, singles=False)
    stop_pip = b.pipette(robot.large_multi if _stop_class(b, exp) == "large" else robot.small_multi)
    racks = (b.spec(atp_pip).tiprack, b.spec(stop_pip).tiprack)
    if racks[0] == racks[1]:
        raise _NoPair("the start and the stop take tips from the same kind of rack")
    b.comment(f"Plates {pa.id} and {pb.id}: interleaved, each on its own temperature module at {cond.temperature_c:g} "
              "°C")
    b.add(MoveLabware(ka, temps[0], True, f"Put reaction plate {pa.id} on the temperature module in slot "
                                          f"{robot.temperature_slot}"))
    b.add(MoveLabware(kb, temps[1], True, f"Put reaction plate {pb.id} on the second temperature module"))
    _dose_stamped(b, exp, pa, ka, series)
    _dose_stamped(b, exp, pb, kb, series)
    # the dilution plates are done: A's filter plate takes the intermediate plate's slot (worked like it), B's
    # waits in the source plate's; full tip racks for B's start and stop wait in the staging-area slots A and B
    # came from
    src_slot, filter_slot = lw[series.source].slot, lw[series.inter].slot
    fresh = [b.tips.offdeck_rack(r) for r in racks]
    b.add(_load_pause(exp, [pa, pb], lq, extra=(
        f"Take the {lw[series.source].label} plate (slot {src_slot}) and the {lw[series.inter].label} plate (slot "
        f"{filter_slot}) off the deck, then put the filter plates and tip racks where the next moves say. ")))
    for x in (series.source, series.inter):
        b.add(MoveLabware(x, "offdeck", False, "", pause=False))
    b.add(MoveLabware(fa, filter_slot, False, f"Put the P81 filter plate for {pa.id} in slot {filter_slot}"))
    b.add(MoveLabware(fb, src_slot, False, f"Put the P81 filter plate for {pb.id} in slot {src_slot} (it waits "
                                           f"there; the gripper brings it to slot {filter_slot} after {pa.id}'s stop)"))
    for key, rack, park in zip(fresh, racks, parks):
        b.add(MoveLabware(key, park, False, f"Put a full {rack} rack in staging-area slot {park} (the gripper swaps "
                                            "it in while the plates react)"))
    where = {**plate_slot(b, ka), **plate_slot(b, kb)}
    ta = _mixes_stamped(b, exp, pa, ka, lq, where)
    tb = _mixes_stamped(b, exp, pb, kb, lq, where, gap=True)  # the first part of A's wait, then B's mixes
    first = tb.gap
    _prepare_timed(b, ta, ta)
    pre_a = preincubation_steps(b, f"{pa.id}, {pb.id}", cond, _hot_now(exp, [pa, pb]))
    b.comment(f"{pa.id}, {pb.id}: RADIOACTIVE from here on — every tip that touched hot liquid is used once and "
              f"dropped into {lq.waste}")
    _start_stamped(b, exp, ta, lq)
    for step in b.tips.swap_by_gripper(racks[0], fresh[0], parks[2]):
        b.add(step)
    pre_b = len(b.plan.steps)
    b.add(Delay(0.0, ""))
    _start_stamped(b, exp, tb, lq)
    wait_a = len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, ta, fa, lq)
    for step in b.tips.swap_by_gripper(racks[1], fresh[1], parks[0]):
        b.add(step)
    b.add(MoveLabware(fa, parks[1], True, f"The gripper takes {pa.id}'s P81 filter plate to staging-area slot "
                                          f"{parks[1]}"))
    b.add(MoveLabware(fb, filter_slot, True, f"The gripper puts {pb.id}'s P81 filter plate in slot {filter_slot}"))
    wait_b = len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, tb, fb, lq)
    steps = b.plan.steps
    for i in range(ta.start_at, tb.stop_end):  # nothing may stop the robot while a plate reacts
        step = steps[i]
        if isinstance(step, (Pause, LoadLabware)) or (isinstance(step, MoveLabware) and not step.gripper):
            raise _NoPair("the tip racks on the deck do not hold a plate's start or stop (a rack would be changed "
                          "by hand while a plate reacts)")
    b.to_hot_waste(ta.start_at)  # hot tips to the radioactive waste now: the clock below times their drops there
    _pair_waits(b, exp, (ta, tb), {"first": first, "pre_a": pre_a, "pre_b": pre_b, "wait_a": wait_a,
                                   "wait_b": wait_b}, where)
    # total counts of both plates after the timed parts (B's filter plate is in place; then A's comes back)
    _total_counts(b, exp, pb, fb, lq.hot)
    b.add(MoveLabware(fb, src_slot, True, f"The gripper takes {pb.id}'s P81 filter plate to slot {src_slot}"))
    b.add(MoveLabware(fa, filter_slot, True, f"The gripper puts {pa.id}'s P81 filter plate back in slot {filter_slot}"))
    _total_counts(b, exp, pa, fa, lq.hot)
    b.to_hot_waste(ta.start_at)  # the total counts' tips too
    for p, key in ((pa, ka), (pb, kb)):
        b.add(MoveLabware(key, "offdeck", False, f"Take reaction plate {p.id} off its temperature module "
                                                 "(radioactive waste)"))
    used = [(key, b.tips.at[key]) for key in sorted(b.tips.at) if b.tips.at[key] in robot.staging]
    b.add(MoveLabware(fa, "offdeck", False, f"{pa.id}: take the P81 filter plate from slot {filter_slot}; {WASH}."))
    b.add(Pause(f"{pb.id}: take the P81 filter plate from slot {src_slot}; {WASH}. Take the used tip racks from "
                f"staging-area slot(s) {', '.join(slot for _k, slot in used)} off the deck too. Resume to continue."))
    for key, _slot in used:  # the staging-area slots are free for a next batch's plates
        b.add(MoveLabware(key, "offdeck", False, "", pause=False))


def _by_liquid(groups: list[list]) -> list[list]:
    """Each nozzle group split by liquid (one step per liquid: a pool per liquid), column order kept."""
    out = []
    for g in groups:
        by: dict[object, list] = defaultdict(list)
        for r in g:
            by[r.group].append(r)
        out += sorted(by.values(), key=lambda rs: (rs[0].column, rs[0].wells[0]))
    return out
