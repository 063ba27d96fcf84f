"""The radiometric kinase assay: DMSO series -> buffer intermediate -> reaction plate -> ATP start -> stop -> filter.

8-channel work: the hot-ATP start and the transfer of the stopped reactions onto the filter plate go column by
column (all eight nozzles, or a partial column) wherever that takes no more tips than single wells; the
pipette class (small / large) doing that work is then mounted as an 8-channel, which works single wells with its
front nozzle alone. A partially configured 8-channel needs a deck without tall labware behind what it works
(plan.deck), so the deck is arranged from a first, unconstrained build of the same plan.
"""

from __future__ import annotations

from collections import defaultdict

from labkit.errors import PlanError
from labkit.labware.specs import ASSAY_PLATE, FILTER_PLATE, INTERMEDIATE_PLATE, PIPETTES, RESERVOIR, TUBES
from labkit.plan.arrange import arrange_deck, moved_in_slot
from labkit.plan.builder import BuildConfig, Builder, per_stroke
from labkit.plan.columns import runs, split
from labkit.plan.common import (COMPOUND_ROLES, DmsoSeries, assay_wells, dosing_moves, plan_series, solvent_species,
                                 well_loc)
from labkit.plan.steps import Delay, Loc, MoveLabware, Pause, Plan, SetTemperature
from labkit.units import si_conc
from labkit.wells import split_well

CONTROL_ROLES = ("vehicle", "positive", "blank")
ASSAY_ROLES = COMPOUND_ROLES + CONTROL_ROLES
HOT = "HOT [γ-33P]ATP mix (radioactive)"
HOT_PLATE = INTERMEDIATE_PLATE  # hot mix for an 8-channel: a column of this plate, a well per row
TRAVEL_MM = 150.0  # typical head travel between labware on the deck, for the reaction-time estimate


def _work_seconds(b: Builder, steps: list) -> float:
    """Deck time of liquid-handling steps by the simulator's time model (labkit.simulate.cost), roughly: tips,
    aspirate / dispense at the default flow rate, and a move between labware for every pick-up, aspirate, first
    dispense and drop (the XY distance taken as TRAVEL_MM)."""
    from labkit.simulate import cost as T

    move = T.MOVE_BETWEEN_S + TRAVEL_MM / T.GANTRY_MM_S
    total = 0.0
    for step in steps:
        if not hasattr(step, "strokes"):
            continue
        flow = b.spec(step.pipette).flow_ul_s or 1.0
        for st in step.strokes:
            total += (T.PICK_UP_TIP_S + move if st.tip is not None else 0.0) + (T.DROP_TIP_S + move if st.drop else 0)
            total += move + T.ASPIRATE_S + st.volume / flow + move
            total += sum(T.DISPENSE_S + d.volume / flow for d in st.dispenses)
            total += (len(st.dispenses) - 1) * (T.MOVE_WITHIN_S + 9.0 / T.GANTRY_MM_S)
            total += T.BLOWOUT_S + move if st.blow_out else 0.0
    return total


def _reaction_wait(b: Builder, plate_id: str, cond, start: list, stop: list) -> Delay:
    """The wait between the ATP start and the stop: the reaction time less the start and stop work, so each well
    reacts for the nominal time (the stop goes in the start's order; a well waits the wait plus half of each)."""
    work = (_work_seconds(b, start) + _work_seconds(b, stop)) / 2 / 60
    wait = max(cond.reaction_min - work, 0.0)
    return Delay(round(wait, 1), f"{plate_id}: kinase reaction, {cond.reaction_min:g} min at "
                                 f"{cond.temperature_c:g} °C from the ATP start to the stop (this wait "
                                 f"{round(wait, 1):g} min + about {round(work, 1):g} min of start and stop work)")


def _hot_name(exp, t) -> str:
    """Display name of a target's hot ATP mix (one per ATP concentration)."""
    return HOT if len({x.atp for x in exp.targets}) == 1 else f"{HOT} {si_conc(t.atp)} ATP"


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
    per = b.per_stroke(pip, volume)
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
    arrangement = None
    if multi:
        probe = Builder(config, multi=multi)
        probe_pickups = None
        try:
            _plan(probe, exp, None)
            probe_pickups = sum(probe.plan.tips_used().values())
            arrangement = arrange_deck(probe.robot, probe)
        except PlanError as exc:  # no deck for partial layouts (or no plan at all: the single-channel build says why)
            b = Builder(config)
            _plan(b, exp, None)
            pickups = sum(b.plan.tips_used().values())
            b.plan.warnings.append(
                f"8-channel not used ({exc.message}): every well is worked one at a time, {pickups} tip pick-ups"
                + (f" instead of {probe_pickups}" if probe_pickups is not None else ""))
            return b.finish()
    b = Builder(config, multi=multi, arrangement=arrangement)
    _plan(b, exp, arrangement.slots if arrangement else None)
    return b.finish()


def _plan(b: Builder, exp, slots: dict[str, str] | None) -> None:
    """The kinase steps; slots: an arranged deck (plan.arrange; the filter plates share one slot) or None."""
    v, cond = exp.volumes, exp.conditions
    robot = b.robot
    well_vol = v.well
    scale = well_vol / v.enzyme_mix
    atp_scale = well_vol / v.atp_mix
    solvent = exp.compounds[0].solvent
    at = (slots or {}).get
    temp = b.module("temp", "temperature module gen2", robot.temperature_slot)
    plates = []
    for i, p in enumerate(exp.plates):
        plates.append((p, b.labware(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id, slot=at(f"plate_{i + 1}"))))
    atp_class = b.pipette_class(v.atp_mix, per_aspirate=2)
    res = b.labware("reservoir", RESERVOIR, label="DMSO, assay buffer, stop", slot=at("reservoir"))
    tubes = b.labware("tubes", TUBES, label="kinase and control mixes", slot=at("tubes"))
    # an 8-channel draws the hot mix from a column of a plate, a well per row (little dead volume, like an 8-tube
    # strip); single channels from a tube
    if atp_class in b.multi:
        hot = b.labware("hot", HOT_PLATE, label="HOT: [γ-33P]ATP (radioactive), a well per row", slot=at("hot"))
    else:
        hot = b.labware("hot", TUBES, label="HOT: [γ-33P]ATP (radioactive)", slot=at("hot"))
    series = DmsoSeries(b, exp, res, "Assay buffer", "assay buffer", slots)
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
        blank_mix[t.name] = b.liquid(
            f"No-enzyme control: {t.substrate} {si_conc(t.substrate_conc * scale)}",
            f"{t.substrate} {si_conc(t.substrate_conc * scale)} in assay buffer, no kinase (100 % inhibition "
            "control)", {"substrate": t.substrate_conc * scale, "buffer": 1.0})
    for t in exp.targets:
        name = _hot_name(exp, t)
        hot_mix[t.name] = b.liquid(
            name, f"RADIOACTIVE. ATP {si_conc(t.atp * atp_scale)} with {cond.hot_atp_uci_per_well / v.atp_mix:.3g} "
            f"µCi/µL [γ-33P]ATP ({cond.hot_atp_uci_per_well:g} µCi per well) in assay buffer; "
            "handle behind shielding",
            {"atp": t.atp * atp_scale, "atp33": cond.hot_atp_uci_per_well / v.atp_mix, "buffer": 1.0})

    # what each assay well draws from the intermediate plate
    plan_series(series, exp, plates, ASSAY_ROLES, v.compound)
    for note in b.plan.notes:
        b.comment(f"Before the run: {note}")
    b.add(SetTemperature(temp, cond.temperature_c))
    res_dmso = b.reservoir_well(res, dmso)
    series.run(res_dmso, b.plan.tip_policy)

    for n_plate, ((p, key), filt) in enumerate(zip(plates, filters)):
        slot = b.plan.labware_by_key()[key].slot
        filter_slot = slots[moved_in_slot(FILTER_PLATE)] if slots else slot
        b.comment(f"Plate {p.id}: reaction at {cond.temperature_c:g} °C on the temperature module")
        b.add(MoveLabware(key, temp, robot.gripper, f"Put reaction plate {p.id} on the temperature module"))
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        n_rows = 16 if p.format == 384 else 8
        # compound / vehicle: fresh tip for every well (contact)
        moves = dosing_moves(series, key, wells, v.compound)
        pip = b.choose(v.compound)
        b.transfer(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into "
                   f"every assay well, a fresh tip each", pip, moves, new_tip="always")
        # the kinase mixes and the hot ATP stand on the deck at room temperature only from here: the operator
        # brings this plate's fresh from ice now
        fresh = sorted({enzyme_mix[w.target] for w in wells if w.target and w.role not in ("positive", "blank")})
        hot_now = sorted({_atp_groups(exp, p)[w.name] for w in wells})
        b.add(Pause(f"{p.id}: put the kinase mixes ({', '.join(fresh)}) and the hot ATP ({', '.join(hot_now)}) on "
                    "the deck now, fresh from ice (see the deck's liquids for wells and volumes), and resume",
                    loads=tuple(fresh + hot_now)))
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
        # the timed part (ATP start ... stop) must not stop for a tip-rack change: change racks before it
        pip = b.choose(v.atp_mix, per_aspirate=len(wells))
        strokes, single, pickups = _atp_work(b, pip, runs(n_rows, _atp_groups(exp, p)), v.atp_mix)
        stop_pip = b.choose(v.stop, per_aspirate=len(wells))
        b.prepare_tips(pip, pickups, "the ATP start")
        b.prepare_tips(stop_pip, [b.nozzles(stop_pip, 1)] * -(-len(wells) // b.per_stroke(stop_pip, v.stop)),
                       "the stop")
        if cond.preincubation_min > 0:
            b.add(Delay(cond.preincubation_min, f"{p.id}: pre-incubation of compound and kinase, "
                                                f"{cond.preincubation_min:g} min"))
        # start: hot ATP, non-contact, a fresh tip every aspirate, straight to the trash; whole and part columns
        # with an 8-channel where that takes no more tips, single wells for the rest
        b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that held hot liquid goes straight to the trash")
        start_at = len(b.plan.steps)
        for cols in _steps(strokes):
            liquid, k = cols[0].group, cols[0].nozzles
            b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {liquid} into {_where(cols)}, non-contact, a fresh tip "
                         "every aspirate", pip, b.pool(hot, liquid), [Loc(key, c.primary) for c in cols], v.atp_mix,
                         tip_per_stroke=True, nozzles=k)
        for liquid, names in single.items():
            b.distribute(f"{p.id}: start — {v.atp_mix:g} µL {liquid} ({len(names)} wells), non-contact, a fresh "
                         "tip every aspirate", pip, b.pool(hot, liquid), [Loc(key, w) for w in names], v.atp_mix,
                         tip_per_stroke=True)
        wait = len(b.plan.steps)
        b.add(Delay(cond.reaction_min, ""))
        dests = [well_loc(key, w) for w in wells]
        pip = b.choose(v.stop, per_aspirate=len(dests))
        b.distribute(f"{p.id}: stop — {v.stop:g} µL phosphoric acid, non-contact, a fresh tip every aspirate", pip,
                     b.pool(res, stop), dests, v.stop, tip_per_stroke=True)
        b.plan.steps[wait] = _reaction_wait(b, p.id, cond, b.plan.steps[start_at:wait], b.plan.steps[wait + 1:])
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
        b.add(MoveLabware(key, "offdeck", robot.gripper and False, f"Take reaction plate {p.id} off the "
                                                                   "temperature module (radioactive waste)"))
        wash = (f"{p.id}: take the P81 filter plate from slot {filter_slot}; wash it 3-4× with 0.75 % phosphoric "
                "acid on a vacuum manifold, rinse with acetone, dry, add scintillant and count (CPM) on the "
                "MicroBeta2 / TopCount. Resume to continue.")
        if filter_slot != slot and n_plate < len(plates) - 1:  # the next filter plate goes in the same slot
            b.add(MoveLabware(filt, "offdeck", False, wash))
        else:
            b.add(Pause(wash))
    b.add(SetTemperature(temp, None))
