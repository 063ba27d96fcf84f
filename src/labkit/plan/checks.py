"""Checks a plan before it is emitted: pipette ranges and flow rates, overflow, reservoir volumes, tips, deck."""

from __future__ import annotations

from collections import defaultdict

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, PIPETTES, ROBOTS
from labkit.plan.steps import Loc, Plan
from labkit.tables import row_letters


def channel_wells(load_name: str, well: str, channels: int) -> list[str]:
    """Wells an 8-channel reaches from its first channel's well (384: every other row); reservoirs: the one well."""
    spec = LABWARE[load_name]
    if channels == 1 or spec.rows == 1:
        return [well]
    letters = row_letters(spec.rows)
    r, c = letters.index(well.rstrip("0123456789")), int(well.lstrip("ABCDEFGHIJKLMNOP"))
    step = 2 if spec.rows == 16 else 1
    rows = [r + step * i for i in range(8)]
    if rows[-1] >= spec.rows:
        raise PlanError(f"an 8-channel pipette at {well} of {load_name} would reach past the last row")
    return [f"{letters[x]}{c}" for x in rows]


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
    for slot, keys in sorted(slots.items()):
        if slot not in robot.slots:
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
    for n, step in enumerate(plan.liquid_steps()):
        spec = pips[step.pipette]
        for st in step.strokes:
            if st.tip is not None:
                if st.tip in used_tips:
                    problems.append(f"step {step.text!r}: tip {st.tip} is used twice")
                used_tips.add(st.tip)
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
            for w in channel_wells(src_name, st.source.well, spec.channels):
                key = (st.source.labware, w)
                take = st.volume * (spec.channels if LABWARE[src_name].rows == 1 else 1)
                vol[key] -= take
                if vol[key] < -1e-6:
                    problems.append(f"step {step.text!r}: {st.source.labware} {w} runs dry (short by "
                                    f"{-vol[key]:g} µL); load more")
                    vol[key] = 0.0
            for d in st.dispenses:
                name = lw[d.loc.labware].load_name
                cap = LABWARE[name].capacity_ul
                for w in channel_wells(name, d.loc.well, spec.channels):
                    vol[(d.loc.labware, w)] += d.volume
                    if vol[(d.loc.labware, w)] > cap + 1e-6:
                        problems.append(f"step {step.text!r}: {d.loc.labware} {w} would overflow "
                                        f"({vol[(d.loc.labware, w)]:g} µL in a {cap:g} µL well)")
    if problems:
        uniq = list(dict.fromkeys(problems))
        raise PlanError(f"the plan cannot be run ({len(uniq)} problem{'s' if len(uniq) != 1 else ''})",
                        problems=uniq[:40] + ([f"… and {len(uniq) - 40} more"] if len(uniq) > 40 else []))
