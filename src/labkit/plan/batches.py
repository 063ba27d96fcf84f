"""Runs with more plates than one deck holds: the plates are worked in batches.

The assay's own planner plans each batch as a run of its own (its plates, a fresh serial dilution, reservoirs,
tubes and tip racks sized for that batch). The batches then run one after another in one protocol: between two
batches the operator takes the used labware off the deck and
puts the next batch's labware in place, with its liquids, at one pause that says what comes off and what goes where
(the used labware leaves its slot without a manual-move prompt each). Modules, and the adapters on them, stay.
Where the assay waits for all its plates (viability: overnight, 72 h) the batches each work up to the wait, the run
waits once, and the batches come back in the same order (a manual move per labware that goes back).

On a Flex the gripper does what it can of a batch change: the leaving batch's tip racks, reservoirs and
non-assay plates that stand in deck slots go to the free staging-area slots (B4, C4, D4; only the gripper reaches
them), and when their batch comes back the gripper puts them back in place. Assay plates (they go to the incubator
or the reader), labware on modules, tube racks and labkit's own (custom) labware, and whatever does not find a free
staging slot, are moved by hand as on the OT-2, and the pause says which; the staging slots hold one batch's
labware at a time, so a batch change saves up to three manual moves each way.

The batch size is the largest one whose plan passes every check without a planner warning (so three kinase plates
do not fall back to single-channel pipettes: they run as two batches with the 8-channels); batches are as even
as the plate count allows. A run whose plates all fit is planned exactly as before (one batch, same protocol).
"""

from __future__ import annotations

import math
from dataclasses import replace
from collections.abc import Callable
from typing import Any

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, ROBOTS
from labkit.plan.steps import (Comment, Distribute, LabwareUse, LiquidLoad, LoadLabware, Loc, MoveLabware, Pause,
                               Plan, Step, Transfer)

MAX_BATCH = 8  # no deck holds more assay plates next to the reagents, so larger batches are not tried


def balanced(items: list, k: int) -> list[list]:
    """Items split in order into the fewest groups of at most k, as even in size as possible."""
    n_groups = math.ceil(len(items) / k)
    base, extra = divmod(len(items), n_groups)
    out, i = [], 0
    for g in range(n_groups):
        size = base + (1 if g < extra else 0)
        out.append(items[i:i + size])
        i += size
    return out


def build_batched(build: Callable[[Any, Any], Plan], config: Any, exp: Any) -> Plan:
    """The plan of an experiment by `build(config, exp)` (an assay kind's build): in one go if its plates fit the
    deck without a planner warning, else in batches (see the module doc). Raises the whole run's PlanError when no batching helps either."""
    from labkit.plan.checks import check_plan

    n = len(exp.plates)

    tried: dict[tuple[str, ...], Plan | PlanError] = {}

    def attempt(plates: list, keep: tuple = ()) -> Plan | PlanError:
        key = tuple(p.id for p in plates) + keep
        if key not in tried:
            update: dict[str, Any] = {"plates": list(plates)}
            if getattr(exp, "time_zero", None) is not None and exp.plates[0] not in plates:
                update["time_zero"] = None  # one time-zero plate per run: made with the first plate's batch
            sub = exp if len(plates) == n else exp.model_copy(update=update)
            try:
                plan = build(replace(config, modules=keep) if keep else config, sub)
                check_plan(plan)
                tried[key] = plan
            except PlanError as exc:
                tried[key] = exc
        return tried[key]

    whole = attempt(list(exp.plates))
    if isinstance(whole, Plan) and not whole.warnings:
        return whole
    def batches(k: int, clean: bool) -> list[Plan] | None:
        plans: list[Plan] = []
        for group in balanced(list(exp.plates), k):
            got = attempt(group)
            if plans and isinstance(got, Plan) and not _compatible(plans[0], got):  # e.g. a module only the first
                # batch's plan uses (two interleaved kinase plates): this batch keeps it on its deck, unused
                got = attempt(group, tuple((m.key, m.name, m.slot) for m in plans[0].modules))
            if isinstance(got, PlanError) or (plans and not _compatible(plans[0], got)) or (clean and got.warnings):
                return None
            plans.append(got)
        return plans

    fallback = 0  # the largest batch size that plans, with warnings
    for k in range(min(n - 1, MAX_BATCH), 0, -1):
        first = attempt(balanced(list(exp.plates), k)[0])  # the largest group: it fails first
        if isinstance(first, PlanError):
            continue
        if first.warnings:
            fallback = fallback or k
            continue
        plans = batches(k, clean=True)
        if plans:
            return merge(plans)
    if isinstance(whole, Plan):
        return whole  # warnings and all: no batching avoids them
    plans = batches(fallback, clean=False) if fallback else None
    if plans:
        return merge(plans)
    raise whole


def _compatible(a: Plan, b: Plan) -> bool:
    """Batches share the pipettes (mounts) and modules."""
    return ([(p.key, p.name, p.mount) for p in a.pipettes] == [(p.key, p.name, p.mount) for p in b.pipettes]
            and [(m.key, m.name, m.slot) for m in a.modules] == [(m.key, m.name, m.slot) for m in b.modules])


def _loc(loc: Loc, ren: dict[str, str]) -> Loc:
    return Loc(ren.get(loc.labware, loc.labware), loc.well)


def _step(step: Step, ren: dict[str, str]) -> Step:
    """A step with its labware keys renamed."""
    if isinstance(step, (Transfer, Distribute)):
        strokes = tuple(replace(st, source=_loc(st.source, ren), tip=None if st.tip is None else _loc(st.tip, ren),
                                dispenses=tuple(replace(d, loc=_loc(d.loc, ren)) for d in st.dispenses))
                        for st in step.strokes)
        return replace(step, strokes=strokes)
    if isinstance(step, MoveLabware):
        return replace(step, labware=ren.get(step.labware, step.labware), to=ren.get(step.to, step.to))
    if isinstance(step, LoadLabware):
        return replace(step, key=ren.get(step.key, step.key))
    return step


def _no_waste(step: Step) -> Step:
    """A step whose tips go to the shared trash (no radioactive-waste container)."""
    if isinstance(step, (Transfer, Distribute)) and any(st.waste for st in step.strokes):
        return replace(step, strokes=tuple(replace(st, waste=False) for st in step.strokes))
    return step


def _place(u: LabwareUse, lw: dict[str, LabwareUse], modules: dict[str, str]) -> str:
    """Where a labware goes, for a person: 'slot 3', 'the temperature module in slot 1'."""
    if u.module in modules:
        return f"the module in slot {modules[u.module]}"
    if u.module in lw:
        return _place(lw[u.module], lw, modules)
    return f"slot {u.slot}"


def merge(plans: list[Plan]) -> Plan:
    """One plan running the batch plans in turn, the deck cleared and re-set between them. Where the assay waits
    for all its plates (a `Pause` with phase=True: the overnight attachment, the 72 h incubation), every batch does
    its work up to that wait before the run waits once; then the batches come back to the deck in the same order."""
    first = plans[0]
    out = Plan(name=first.name, description=first.description, robot=first.robot, robot_type=first.robot_type,
               assay=first.assay, layout_sha256=first.layout_sha256, tip_policy=first.tip_policy, trash=first.trash,
               modules=list(first.modules), pipettes=list(first.pipettes))
    modules = {m.key: m.slot for m in first.modules}
    names = {lq.name: lq for lq in first.liquids}
    out.liquids = list(first.liquids)
    total = len(plans)
    labels = [[u.label for u in p.labware if u.key.startswith("plate_") and u.label] for p in plans]
    adapters = {(u.load_name, u.module): u.key for u in first.labware if u.adapter}
    # one radioactive-waste container for every batch when all batches put it in the same place: it stays
    shared_waste = (first.hot_waste is not None and first.hot_waste.kind == "labware"
                    and all(p.hot_waste == first.hot_waste for p in plans))
    segments: list[list[list[Step]]] = []
    phase_pauses: list[Pause] = []
    starts: list[list[LabwareUse]] = []   # per batch: labware on the deck when its work starts
    late: list[set[str]] = []             # per batch: liquids its own pauses bring
    for j, plan in enumerate(plans):
        for lq in plan.liquids:
            if lq.name not in names:
                names[lq.name] = lq
                out.liquids.append(lq)
            elif names[lq.name].composition != lq.composition:
                raise PlanError(f"batch {j + 1} defines the liquid {lq.name!r} with another composition")
        ren: dict[str, str] = {}
        for u in plan.labware:
            if j and u.adapter and (u.load_name, u.module) in adapters:
                ren[u.key] = adapters[(u.load_name, u.module)]
            elif j and shared_waste and first.hot_waste and u.key == first.hot_waste.key:
                ren[u.key] = u.key
            else:
                ren[u.key] = u.key if j == 0 else f"{u.key}_b{j + 1}"
        start = []
        for u in plan.labware:
            if j and u.adapter and (u.load_name, u.module) in adapters:
                continue
            if j and shared_waste and first.hot_waste and u.key == first.hot_waste.key:
                continue
            loaded_later = j > 0 and u.initial and u.slot != "offdeck"
            new = replace(u, key=ren[u.key], module=ren.get(u.module, u.module), initial=u.initial and not loaded_later)
            out.labware.append(new)
            if loaded_later and not u.adapter:
                start.append(new)
        starts.append(start)
        out.loads += [LiquidLoad(ld.liquid, _loc(ld.loc, ren), ld.volume) for ld in plan.loads]
        late.append({name for s in plan.steps if isinstance(s, Pause) for name in s.loads})
        parts: list[list[Step]] = [[]]
        for step in plan.steps:
            if isinstance(step, Pause) and step.phase:
                parts.append([])
                if j == 0:
                    phase_pauses.append(step)
            else:
                parts[-1].append(_step(step, ren))
        segments.append(parts)
        out.notes += plan.notes if j == 0 else [f"batch {j + 1}: {note}" for note in plan.notes
                                                if note not in plans[0].notes]
        out.warnings += [w for w in plan.warnings if w not in out.warnings]
    if len({len(parts) for parts in segments}) != 1:
        raise PlanError("the batches of this run wait at different points; plan fewer plates per run")
    wastes = {p.hot_waste for p in plans}
    if len(wastes) == 1 and first.hot_waste is not None and (first.hot_waste.kind == "bin" or shared_waste):
        out.hot_waste = first.hot_waste  # a trash-bin fixture, or the one waste labware, stays for every batch
    elif any(w is not None for w in wastes):  # a waste labware would leave the deck with its batch
        segments = [[[_no_waste(s) for s in part] for part in parts] for parts in segments]
        out.warnings.append("no radioactive-waste container across batches (each batch's would leave the deck with "
                            "it): hot tips go to the shared trash; empty and monitor it as radioactive waste")
    out.notes.insert(0, f"{sum(len(x) for x in labels)} plates in {total} batches ("
                     + "; ".join(", ".join(x) for x in labels) + "): each batch is prepared and worked like a run of "
                     "its own (its serial dilution, reagents and tip racks); between batches the robot pauses for the "
                     "used labware to come off and the next batch's to go on")
    needed: dict[str, float] = {}
    for ld in out.loads:
        needed[ld.liquid] = needed.get(ld.liquid, 0.0) + ld.volume
    out.notes.insert(1, "liquids to prepare for the whole run (all batches, dead volume and overage included): "
                     + "; ".join(f"{name} {_volume(v)}" for name, v in needed.items()))
    out.steps.append(Comment(f"Batch 1 of {total}: plates {', '.join(labels[0])}"))
    parked: dict[int, list[tuple[str, str]]] = {}
    current = 0
    for k in range(len(segments[0])):
        for j in range(total):
            if j != current:
                # the leaving batch comes back later (a later phase, or this phase's turn still to come)?
                returns = k + 1 < len(segments[0]) or current > j
                out.steps += _swap(out, current, j, total, labels, starts[j], late[j], parked, modules, returns,
                                   out.hot_waste.key if out.hot_waste else "")
                current = j
            out.steps += segments[j][k]
        if k < len(phase_pauses):
            p = phase_pauses[k]
            out.steps.append(replace(p, text=f"All {total} batches: {p.text}" if total > 1 else p.text))
    staging = ROBOTS[out.robot].staging
    used = sorted({s.to for s in out.steps if isinstance(s, MoveLabware) and s.to in staging})
    if used:
        out.notes.insert(2, f"the gripper parks labware between batches in the staging-area slot(s) {', '.join(used)}: "
                         "set the Flex deck configuration to a staging area slot in cutout(s) "
                         f"{', '.join(slot[0] + '3' for slot in used)} before the run")
    return out


STAGEABLE = ("plate", "tips", "reservoir")  # labware kinds the gripper parks in a staging slot between batches


def _stageable(u: LabwareUse, where: str, modules: dict[str, str], lw: dict[str, LabwareUse]) -> bool:
    """A labware the gripper may park in a staging slot: a tip rack, reservoir or non-assay plate standing in a
    deck slot (not on a module or adapter), an Opentrons definition."""
    spec = LABWARE.get(u.load_name)
    return (spec is not None and spec.kind in STAGEABLE and not spec.custom and not u.key.startswith("plate_")
            and where not in modules and where not in lw and where != "offdeck")


def _stage(out: Plan, gone: list[str], back: list[tuple[str, str]], where: dict[str, str],
           modules: dict[str, str], park: bool = True) -> tuple[list[Step], list[str], list[str], dict[str, str]]:
    """Gripper moves of a batch change on a Flex: the leaving labware `gone` into free staging slots, the returning
    labware `back` (key, place) out of the staging slots into their places, as far as slots allow (a leaving one
    steps aside into a free deck slot when the staging slots are all full of returning ones); park=False (the
    leaving batch does not come back): nothing is parked. `where` is updated.
    Returns the steps, the leaving labware still on the deck, the returning labware still in staging, and
    key -> staging slot of what was parked now."""
    robot = ROBOTS[out.robot]
    if not (robot.gripper and robot.staging):
        return [], list(gone), [k for k, _p in back if where.get(k) in robot.staging], {}
    lw = out.labware_by_key()
    used = {at for at in where.values() if at in robot.staging}
    free = [slot for slot in robot.staging if slot not in used]
    place = dict(back)
    waiting = [k for k, _p in back if where.get(k) in robot.staging]   # returning, parked in staging
    leaving = [k for k in gone if park and _stageable(lw[k], where[k], modules, lw)]
    occupied = {where[k]: k for k in gone}
    steps: list[Step] = []
    parked: dict[str, str] = {}
    progress = True
    while progress:
        progress = False
        for k in list(waiting):
            if place[k] not in occupied:
                free.append(where[k])
                steps.append(MoveLabware(k, place[k], True, ""))
                where[k] = place[k]
                waiting.remove(k)
                progress = True
        blocking = [k for k in leaving if where[k] in {place[w] for w in waiting}]
        if free and leaving:
            k = (blocking or leaving)[0]
            slot = free.pop(0)
            steps.append(MoveLabware(k, slot, True, ""))
            del occupied[where[k]]
            where[k] = parked[k] = slot
            leaving.remove(k)
            progress = True
        elif blocking:  # staging full of returning labware: step a leaving one aside into a free deck slot
            taken = set(where.values()) | set(modules.values()) | set(place.values())
            aside = [slot for slot in robot.slots if slot not in taken]
            if aside:
                k = blocking[0]
                steps.append(MoveLabware(k, aside[0], True, ""))
                del occupied[where[k]]
                where[k] = aside[0]
                occupied[aside[0]] = k
                progress = True
    return steps, [k for k in gone if k not in parked], waiting, parked


def _swap(out: Plan, old: int, new: int, total: int, labels: list[list[str]], start: list[LabwareUse],
          late: set[str], parked: dict[int, list[tuple[str, str]]], modules: dict[str, str],
          returns: bool = True, keep: str = "") -> list[Step]:
    """Steps from batch `old` to batch `new`: batch old's labware off the deck (if it comes back later, into
    staging slots by the gripper where it can, else a manual move each; its places remembered), then batch new's labware: loaded fresh at a pause
    that names slots and liquids the first time; after that back to its places by the gripper from the staging
    slots, or a manual move each. keep: a labware every batch shares that stays (the radioactive waste)."""
    steps: list[Step] = []
    lw = out.labware_by_key()
    where = _where_now(out)
    staging = set(ROBOTS[out.robot].staging)
    gone = [k for k, at in where.items() if at and at != "offdeck" and at not in staging and not lw[k].adapter
            and k != keep]
    parked[old] = [(k, where[k]) for k in gone]
    plates = ", ".join(labels[new])
    back = parked.pop(new) if new in parked else None
    now = dict(where)  # where things are after the gripper's moves
    grip, rest, waiting, stored = _stage(out, gone, back or [], now, modules, park=returns)
    steps += grip
    in_slot = [k for k in rest if now[k] not in modules and now[k] not in lw]
    off = "; ".join(f"{lw[k].label or lw[k].load_name} from slot {now[k]}" for k in in_slot)
    kept = ("; the gripper has parked " + ", ".join(f"{lw[k].label or lw[k].load_name} in staging slot {slot}"
                                                    for k, slot in stored.items()) + " (leave them there)"
            if stored else "")
    if back is not None:  # back again: the same labware to the same places
        by_hand = [(k, at) for k, at in back if where.get(k) not in staging and k not in waiting
                   and (k, at) not in [(m.labware, m.to) for m in grip if isinstance(m, MoveLabware)]]
        asks = (f"; the robot then asks for each piece of batch {new + 1} ({plates}) that is off the deck to go back "
                "in its place" if by_hand else "")
        if off or asks:
            steps.append(Pause(f"Batch {old + 1} of {total} ({', '.join(labels[old])}) is done for now: take its "
                               f"labware off the deck ({off or 'nothing else'}){kept} and resume{asks}"))
        steps += _off(rest, in_slot)
        steps += [MoveLabware(k, dict(back)[k], True, "") for k in waiting]  # out of staging, now their place is free
        steps += [MoveLabware(key, at, False, f"Batch {new + 1} of {total} ({plates}): back in place" if i == 0
                              else "") for i, (key, at) in enumerate(by_hand)]
        return steps
    steps += _off(rest, in_slot)
    lwn = {u.key: u for u in start}
    lwn.update({k: v for k, v in lw.items() if v.adapter})
    steps += [LoadLabware(u.key) for u in start]
    keys = {u.key for u in start}
    liquids = list(dict.fromkeys(ld.liquid for ld in out.loads if ld.loc.labware in keys and ld.liquid not in late))
    put = "; ".join(f"{u.label or u.load_name} in {_place(u, lwn, modules)}" for u in start)
    steps.append(Pause(f"Batch {new + 1} of {total}: plates {plates}. Take the used labware off the deck "
                       f"({off or 'nothing else'}){kept}; put fresh labware on the deck: {put}; load "
                       f"the liquids listed for them ({', '.join(liquids)}; see the deck's liquids for wells and "
                       "volumes), and resume", loads=tuple(liquids), labware=tuple(sorted(keys))))
    return steps


def _volume(ul: float) -> str:
    """'740 µL' or '12.5 mL'."""
    return f"{ul:g} µL" if ul < 1000 else f"{ul / 1000:.3g} mL"


def _off(gone: list[str], in_slot: list[str]) -> list[Step]:
    """Used labware off the deck: from a slot without stopping (the pause around it says so), from a module or
    adapter as a manual move."""
    return [MoveLabware(k, "offdeck", False, "", pause=k not in in_slot) for k in gone]


def _where_now(plan: Plan) -> dict[str, str]:
    """Where every labware is after the plan's steps so far: slot, module or adapter key, 'offdeck' ('' unloaded)."""
    lw = plan.labware_by_key()
    where = {u.key: (u.module or u.slot) if u.initial else "" for u in plan.labware}
    for step in plan.steps:
        if isinstance(step, MoveLabware):
            where[step.labware] = step.to
        elif isinstance(step, LoadLabware):
            where[step.key] = lw[step.key].module or lw[step.key].slot
    return where
