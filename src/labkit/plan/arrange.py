"""A deck for partial nozzle layouts, arranged from a first build of the same plan on an unconstrained deck.

The probe build says which labware an 8-channel works with a partial layout (plan.checks.partial_touches) and how
often the head travels between deck places (`traffic`); plan.deck.Deck.arrange then finds the slots. Labware
that starts off the deck and is put on it during the run (a filter plate per assay plate) shares one reserved
slot per kind (`moved_in_slot`), emptied before the next one comes.
"""

from __future__ import annotations

from collections import defaultdict

from labkit.labware.specs import LABWARE, RobotSpec, slot_behind
from labkit.plan.builder import WASTE_KEY, Arrangement, Builder, bin_slots
from labkit.plan.deck import Deck
from labkit.plan.checks import partial_touches
from labkit.plan.steps import MoveLabware, Plan


def moved_in_slot(load_name: str) -> str:
    """The arrangement's key of the slot reserved for labware of a kind moved onto the deck during the run."""
    return f"slot for {load_name}"


def arrange_deck(robot: RobotSpec, probe: Builder) -> Arrangement:
    """A deck for the probe's labware (slots of labware keys, tip rack load names and `moved_in_slot` keys) on
    which every partial nozzle layout of the probe can run, with the shortest head travel; PlanError if none."""
    deck = Deck(robot)
    touched = partial_touches(probe.plan)
    module_slots = {m.slot for m in probe.plan.modules}
    keys = {key for _text, key, slot in touched if slot not in module_slots}
    lw = probe.plan.labware_by_key()
    partial_racks = {lw[k].load_name for k in keys if LABWARE[lw[k].load_name].kind == "tips"}
    items: list[tuple[str, bool, bool]] = []
    racks: list[str] = []
    moved = _moved_in(probe.plan)
    for u in probe.plan.labware:
        if u.adapter:  # on a module (its slot is the module's)
            continue
        spec = LABWARE[u.load_name]
        if u.key in moved:
            name = moved_in_slot(u.load_name)
            if name not in [i[0] for i in items]:
                items.append((name, False, any(k in keys for k, n in moved.items() if n == u.load_name)))
        elif not u.initial or not u.slot or u.slot == "offdeck" or u.slot in robot.staging:  # staging: not arranged
            continue
        elif spec.kind == "tips":
            if u.load_name not in racks:
                racks.append(u.load_name)
                items.append((u.load_name, spec.tall, u.load_name in partial_racks))
        else:
            items.append((u.key, spec.tall, u.key in keys))
    allowed: dict[str, list[str]] = {}
    hot = probe.plan.hot_waste
    if hot is not None and hot.kind == "bin":  # a trash bin fixture, in a column-1 or column-3 slot
        items.append((WASTE_KEY, False, False))
        allowed[WASTE_KEY] = bin_slots(robot, {u.slot for u in probe.plan.labware})
    elif hot is not None:  # OT-2 waste labware, dropped into with partial layouts: in the back row, where nothing
        # stands behind it (the Opentrons engine refuses a partial layout over it in front of a tall labware)
        allowed[WASTE_KEY] = [s for s in robot.slots if slot_behind(robot, s) is None]
    for m in probe.plan.modules:  # a module whose labware is worked with a partial layout counts as worked itself
        deck.take(m.key, m.slot, tall=True, partial=m.slot in {slot for _t, _k, slot in touched})
    fixed = {m.key: m.slot for m in probe.plan.modules}
    fixed["trash"] = robot.trash or "12"
    slots = deck.arrange(items, traffic(probe.plan, moved), fixed, allowed)
    return Arrangement(deck, slots, {name: slots[name] for name in racks}, frozenset(partial_racks))


def _moved_in(plan: Plan) -> dict[str, str]:
    """Labware that starts off the deck and is moved by hand into a working deck slot (not one that another labware
    held and left: that one's arranged slot serves): key -> load name."""
    from labkit.labware.specs import ROBOTS

    lw = plan.labware_by_key()
    modules = {m.key for m in plan.modules}
    staging = ROBOTS[plan.robot].staging  # put there by hand to wait for the gripper: no working slot
    vacated: set[str] = set()  # slots whose first labware was taken off at a pause: arranged for it already
    out: dict[str, str] = {}
    for s in plan.steps:
        if not isinstance(s, MoveLabware):
            continue
        if s.to == "offdeck" and not s.pause and lw[s.labware].initial and lw[s.labware].slot not in ("", "offdeck"):
            vacated.add(lw[s.labware].slot)
        elif (not s.gripper and lw[s.labware].slot == "offdeck" and s.to not in modules and s.to not in lw
              and s.to != "offdeck" and s.to not in staging and s.to not in vacated):
            out[s.labware] = lw[s.labware].load_name
    return out


def traffic(plan: Plan, moved: dict[str, str] | None = None) -> dict[tuple[str, str], int]:
    """Head moves between deck places over a plan's strokes: (place, place) -> count. A place is a labware key, a
    tip rack's load name, a module key (for labware standing on it), a `moved_in_slot` key, 'trash' or the
    radioactive waste (WASTE_KEY)."""
    lw = plan.labware_by_key()
    moved = moved or {}
    modules = {m.key for m in plan.modules}
    place = {k: (u.load_name if not u.adapter and LABWARE[u.load_name].kind == "tips" else u.module or k)
             for k, u in lw.items()}
    out: dict[tuple[str, str], int] = defaultdict(int)
    for step in plan.steps:
        if isinstance(step, MoveLabware):
            place[step.labware] = (step.to if step.to in modules else moved_in_slot(moved[step.labware])
                                   if step.labware in moved else step.labware)
            continue
        for st in getattr(step, "strokes", ()):
            seq = ([place[st.tip.labware]] if st.tip else []) + [place[st.source.labware]]
            seq += [place[d.loc.labware] for d in st.dispenses]
            seq += [WASTE_KEY if st.waste and plan.hot_waste else "trash"] if st.drop else []
            for a, z in zip(seq, seq[1:]):
                if a != z:
                    out[(a, z)] += 1
    return dict(out)
