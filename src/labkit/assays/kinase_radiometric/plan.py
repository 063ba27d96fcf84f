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
from functools import partial

from labkit.assays.kinase_radiometric.common import (ASSAY_ROLES, COVER_NOTE, HOT_PLATE, WASTE_LABEL, _after_filter,
                                                     _atp_groups, _filter_slot, _stop_class, _total_counts, _waste_note,
                                                     _waste_text, kinase_mixes)
from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.pair import PAIR_NOTE, PAIR_SLOTS, _NoPair, _pair_stamped
from labkit.assays.kinase_radiometric.stamped import Liquids, _plate_stamped, _stamped
from labkit.assays.kinase_radiometric.timing import TIMED_PER_ASPIRATE, mixed_times, preincubation_steps, timed_waits
from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE, PIPETTES, RESERVOIR, TUBES
from labkit.plan.arrange import moved_in_slot
from labkit.plan.builder import WASTE_KEY, BuildConfig, Builder, per_stroke
from labkit.plan.columns import runs, split
from labkit.plan.common import (DmsoSeries, Mirror, assay_wells, mirror_classes, mirror_layout, plan_series,
                                solvent_species, well_loc)
from labkit.plan.stamps import build_arranged
from labkit.plan.steps import Delay, Loc, MoveLabware, Pause, Plan, SetTemperature
from labkit.wells import split_well


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
        hot_of = _atp_groups(exp, p)
        hot_now = sorted(set(hot_of.values()))
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
        start_groups = {w.name: (hot_of[w.name], mix_of[w.name]) for w in wells}
        strokes, single, pickups = _atp_work(b, pip, runs(n_rows, start_groups), v.atp_mix)
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
        mixed_at = mixed_times(b, key, enz_at, enz_end)
        units: list[tuple[float, str, int, list]] = []  # (when mixed, liquid, nozzles, column strokes | wells)
        for stroke in strokes:
            got = [mixed_at.get(w, 0.0) for r in stroke for w in r.wells]
            units.append((sum(got) / len(got), stroke[0].group[0], stroke[0].nozzles, stroke))
        for names in single.values():
            units += [(mixed_at.get(w, 0.0), hot_of[w], 1, [w]) for w in names]
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


