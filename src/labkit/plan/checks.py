"""Checks a plan before it is emitted: pipette ranges and flow rates, overflow, reservoir volumes, tips, deck."""

from __future__ import annotations

from collections import defaultdict

from labkit.errors import PlanError
from labkit.labware.specs import HIGH_MODULES, LABWARE, PIPETTES, ROBOTS, slot_behind
from labkit.plan.steps import LoadLabware, Loc, MoveLabware, Plan
from labkit.tables import row_letters
from labkit.wells import parse_well


def channel_wells(load_name: str, well: str, channels: int, nozzles: int = 0) -> list[str]:
    """Wells an 8-channel reaches from its primary nozzle's well (384: every other row); reservoirs: the one well.

    nozzles 0 (all eight): the well is the back channel's, the others are in front of it; 1-7 (a partial layout
    whose front nozzle is the primary): the well is the front channel's, the others are behind it."""
    spec = LABWARE[load_name]
    if channels == 1 or spec.rows == 1 or nozzles == 1:
        return [well]
    if channels == 96 and not nozzles:  # the Flex 96-channel with all nozzles: every well of a 96-well plate
        if spec.wells != 96 or well != "A1":
            raise PlanError(f"a 96-channel pipette works all 96 wells of a 96-well plate from A1, not {well} of "
                            f"{load_name}")
        return [f"{r}{c}" for c in range(1, 13) for r in "ABCDEFGH"]
    letters = row_letters(spec.rows)
    r, c = parse_well(well)
    step = 2 if spec.rows == 16 else 1
    if nozzles:
        rows = [r - step * i for i in range(nozzles)][::-1]
        if rows[0] < 0:
            raise PlanError(f"{nozzles} nozzles ending at {well} of {load_name} would reach past the first row")
    else:
        rows = [r + step * i for i in range(8)]
        if rows[-1] >= spec.rows:
            raise PlanError(f"an 8-channel pipette at {well} of {load_name} would reach past the last row")
    return [f"{letters[x]}{c}" for x in rows]


def _timeline(plan: Plan):
    """(step, where) for every step: where maps labware key -> the deck slot it stands in ('' off the deck, not
    loaded yet, or on a module that holds it high above the deck), after the step's labware moves."""
    lw = plan.labware_by_key()
    low = {m.key: m.slot for m in plan.modules if (plan.robot, m.name) not in HIGH_MODULES}
    modules = {m.key for m in plan.modules}

    def slot_of(to: str) -> str:
        if to in lw:  # on an adapter
            return slot_of(lw[to].module or lw[to].slot)
        if to in modules:
            return low.get(to, "")
        return "" if to == "offdeck" else to

    where = {k: slot_of(u.module or u.slot) for k, u in lw.items() if u.initial}
    for step in plan.steps:
        if isinstance(step, MoveLabware):
            where[step.labware] = slot_of(step.to)
        elif isinstance(step, LoadLabware):
            where[step.key] = lw[step.key].slot
        yield step, where


def _partial_keys(plan: Plan, step) -> list[str]:
    """Labware a step works with a partial layout of an 8-channel (tip racks, sources, destinations); [] if none."""
    if not getattr(step, "nozzles", 0) or PIPETTES[plan.pipette_by_key()[step.pipette].name].channels != 8:
        return []
    # (a drop into the OT-2 radioactive waste, a 1-well reservoir, is not counted: an arranged deck puts the waste
    # in the back row, where nothing stands behind it and the engine accepts a partial layout over it, plan.arrange)
    keys = []
    for st in step.strokes:
        keys += ([st.tip.labware] if st.tip else []) + [st.source.labware] + [d.loc.labware for d in st.dispenses]
    return list(dict.fromkeys(keys))


def partial_touches(plan: Plan) -> list[tuple[str, str, str]]:
    """(step text, labware key, deck slot) for every labware an 8-channel works with a partial nozzle layout
    while it stands in a deck slot (not on a module), tip racks included, following labware moves."""
    return [(step.text, key, where[key]) for step, where in _timeline(plan) for key in _partial_keys(plan, step)
            if where.get(key)]


def partial_layout_problems(plan: Plan) -> list[str]:
    """Partial nozzle layouts that would reach out of the robot or hit a tall labware behind (see plan.deck)."""
    robot = ROBOTS[plan.robot]
    lw = plan.labware_by_key()
    problems = []
    for step, where in _timeline(plan):
        for key in _partial_keys(plan, step):
            slot = where.get(key)
            if not slot:
                continue
            behind = slot_behind(robot, slot)
            if behind is None:
                problems.append(f"step {step.text!r}: {key} in slot {slot} is in the back row, out of reach of a "
                                "partial nozzle layout")
                continue
            if behind in (robot.trash, "12"):
                continue
            tall = [m.name for m in plan.modules if m.slot == behind]
            tall += [lw[k].load_name for k, s in where.items() if s == behind and LABWARE[lw[k].load_name].tall
                     and not lw[k].module]
            if tall:
                problems.append(f"step {step.text!r}: a partial nozzle layout over {key} in slot {slot} would hit "
                                f"the {tall[0]} in slot {behind} behind it")
    return problems


def check_plan(plan: Plan) -> None:
    """Raise PlanError with every problem of the plan (each named with its step)."""
    problems: list[str] = []
    lw = plan.labware_by_key()
    pips = {p.key: PIPETTES[p.name] for p in plan.pipettes}
    robot = ROBOTS[plan.robot]
    # deck
    slots = defaultdict(list)
    for m in plan.modules:
        slots[m.slot].append(m.key)
    for item in plan.labware:
        if item.slot and item.slot != "offdeck" and item.initial:
            slots[item.slot].append(item.key)
    hot = plan.hot_waste
    if hot is not None and hot.kind == "bin":  # a trash-bin fixture: its own slot, column 1 or 3, no staging beside
        slots[hot.slot].append("radioactive-waste bin")
        if hot.slot[1:] not in ("1", "3") or (hot.slot[1:] == "3" and f"{hot.slot[0]}4" in slots):
            problems.append(f"deck: the radioactive-waste trash bin cannot stand in slot {hot.slot} (columns 1 and 3 "
                            "only, and not beside a used staging-area slot)")
    for slot, keys in sorted(slots.items()):
        if slot not in robot.slots and slot not in robot.staging:
            problems.append(f"deck: slot {slot} does not exist on the {robot.robot_type}")
        if len(keys) > 1:
            problems.append(f"deck: slot {slot} is over-assigned ({', '.join(keys)})")
    # volumes per well, replaying the plan
    vol: dict[tuple[str, str], float] = defaultdict(float)
    for ld in plan.loads:
        vol[(ld.loc.labware, ld.loc.well)] += ld.volume
        cap = LABWARE[lw[ld.loc.labware].load_name].capacity_ul
        if ld.volume > cap + 1e-6:
            problems.append(f"reservoir too small: {ld.liquid!r} needs {ld.volume:g} µL in "
                            f"{ld.loc.labware} {ld.loc.well}, which holds {cap:g} µL")
    used_tips: set[Loc] = set()
    for _n, step in enumerate(plan.liquid_steps()):
        spec = pips[step.pipette]
        noz = step.nozzles
        if spec.low_volume_max_ul:
            from labkit.protocol.emit import step_volumes

            vols = step_volumes(step)
            if vols and min(vols) < spec.default_min_ul and max(vols) > spec.low_volume_max_ul:
                problems.append(f"step {step.text!r}: the {spec.name} moves {min(vols):g} µL (its low-volume mode, "
                                f"up to {spec.low_volume_max_ul:g} µL) and {max(vols):g} µL in one step")
        if noz and not (spec.channels == 8 and 1 <= noz <= 7) and not (spec.channels == 96 and noz == 1):
            problems.append(f"step {step.text!r}: {noz} nozzles on the {spec.name}")
            noz = 0
        for st in step.strokes:
            if st.tip is not None:
                rack = lw[st.tip.labware].load_name
                for w in channel_wells(rack, st.tip.well, spec.channels, noz):
                    if Loc(st.tip.labware, w) in used_tips:
                        problems.append(f"step {step.text!r}: tip {st.tip.labware}:{w} is used twice")
                    used_tips.add(Loc(st.tip.labware, w))
            if not spec.min_ul - 1e-9 <= st.volume <= spec.max_ul + 1e-9:
                problems.append(f"step {step.text!r}: {st.volume:g} µL is outside the {spec.name} range "
                                f"({spec.min_ul:g}–{spec.max_ul:g} µL)")
            if st.mix_rate <= 0 or (spec.max_flow_ul_s and st.mix_rate * spec.flow_ul_s > spec.max_flow_ul_s + 1e-6):
                problems.append(f"step {step.text!r}: mixing at {st.mix_rate:g}× the default flow rate "
                                f"({st.mix_rate * spec.flow_ul_s:g} µL/s) is outside the {spec.name} range "
                                f"(up to {spec.max_flow_ul_s:g} µL/s)")
            for d in st.dispenses:
                if d.volume < spec.min_ul - 1e-9:
                    problems.append(f"step {step.text!r}: a {d.volume:g} µL dispense is below the {spec.name} "
                                    f"minimum of {spec.min_ul:g} µL")
            src_name = lw[st.source.labware].load_name
            active = noz or spec.channels
            for w in channel_wells(src_name, st.source.well, spec.channels, noz):
                key = (st.source.labware, w)
                take = st.volume * (active if LABWARE[src_name].rows == 1 else 1)
                vol[key] -= take
                if vol[key] < -1e-6:
                    problems.append(f"step {step.text!r}: {st.source.labware} {w} runs dry (short by "
                                    f"{-vol[key]:g} µL); load more")
                    vol[key] = 0.0
            for d in st.dispenses:
                name = lw[d.loc.labware].load_name
                cap = LABWARE[name].capacity_ul
                for w in channel_wells(name, d.loc.well, spec.channels, noz):
                    vol[(d.loc.labware, w)] += d.volume
                    if vol[(d.loc.labware, w)] > cap + 1e-6:
                        problems.append(f"step {step.text!r}: {d.loc.labware} {w} would overflow "
                                        f"({vol[(d.loc.labware, w)]:g} µL in a {cap:g} µL well)")
    problems += partial_layout_problems(plan)
    if problems:
        uniq = list(dict.fromkeys(problems))
        raise PlanError(f"the plan cannot be run ({len(uniq)} problem{'s' if len(uniq) != 1 else ''})",
                        problems=uniq[:40] + ([f"… and {len(uniq) - 40} more"] if len(uniq) > 40 else []))
