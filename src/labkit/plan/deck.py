"""Deck slots: labware fills the robot's slots from the front, tip racks from the back; modules take theirs.

An 8-channel pipette working with a partial nozzle layout (its front nozzle H1 and the ones behind it) reaches
about 80 mm behind the well it works in, over the slot behind. So labware worked that way (`partial`) must not
sit in the back row, and the slot behind it must be empty, the trash, or hold only low labware (plates,
reservoirs) — never a tip rack, tube rack or module (`tall`). `arrange` finds such a deck.
"""

from __future__ import annotations

import math

from labkit.errors import PlanError
from labkit.labware.specs import RobotSpec, slot_behind, slot_in_front, slot_xy


class Deck:
    """Hands out deck slots; PlanError when the deck is over-assigned."""

    def __init__(self, robot: RobotSpec):
        self.robot = robot
        self.free = list(robot.slots)
        self.owner: dict[str, str] = {}
        self.kind: dict[str, tuple[bool, bool]] = {}  # slot -> (tall, partial) of what sits there
        self.arranged = False  # slots were arranged for partial nozzle layouts: keep the rule for later racks

    def take(self, key: str, slot: str | None = None, from_back: bool = False, near: tuple[str, ...] = (),
             among: list[str] | None = None, tall: bool = False, partial: bool = False) -> str:
        """Reserve a slot for key: a given one, the free one (of `among`) closest to the `near` slots, or the next
        free one."""
        if slot is not None and self.owner.get(slot) == key:
            return slot  # arranged for this key
        candidates = self.free if among is None else [s for s in self.free if s in among]
        if slot is None and near and candidates:
            order = candidates[::-1] if from_back else candidates
            slot = min(order, key=lambda s: round(self.distance(s, near), 3))
        if slot is not None and slot in self.robot.staging and slot not in self.owner:  # asked for by name only
            self.owner[slot] = key
            return slot
        if slot is not None:
            if slot not in self.free:
                raise PlanError(f"deck slot {slot} of the {self.robot.robot_type} is already taken by "
                                f"{self.owner.get(slot, '?')!r} (wanted for {key!r})")
            self.free.remove(slot)
        else:
            if not candidates:
                raise PlanError(f"the {self.robot.robot_type} deck is over-assigned: no free slot for {key!r} "
                                f"(slots hold {', '.join(f'{s}={k}' for s, k in sorted(self.owner.items()))}); "
                                "use fewer plates per run")
            slot = candidates[-1 if from_back else 0]
            self.free.remove(slot)
        self.owner[slot] = key
        self.kind[slot] = (tall, partial)
        return slot

    def distance(self, slot: str, near: tuple[str, ...]) -> float:
        """Sum of the centre-to-centre distances (mm) from a slot to the given slots."""
        x, y = slot_xy(self.robot, slot)
        return sum(math.dist((x, y), slot_xy(self.robot, other)) for other in near)

    def has_free(self) -> bool:
        """True while a slot is free."""
        return bool(self.free)

    def fits(self, slot: str, tall: bool, partial: bool, kind: dict[str, tuple[bool, bool]] | None = None) -> bool:
        """Whether labware (tall? worked with a partial layout?) may sit in a slot next to what is placed."""
        if not self.arranged and kind is None:
            return True
        kind = self.kind if kind is None else kind
        if partial:
            behind = slot_behind(self.robot, slot)
            if behind is None:
                return False  # back row: the nozzles behind the front one would leave the robot's reach
            if behind not in (self.robot.trash, "12") and kind.get(behind, (False, False))[0]:
                return False
        if tall:
            front = slot_in_front(self.robot, slot)
            if front is not None and kind.get(front, (False, False))[1]:
                return False
        return True

    def arrange(self, items: list[tuple[str, bool, bool]], traffic: dict[tuple[str, str], int] | None = None,
                fixed: dict[str, str] | None = None, allowed: dict[str, list[str]] | None = None) -> dict[str, str]:
        """Slots for (key, tall, partial) items so that every partial one can be worked with a partial nozzle
        layout (see the module doc), and takes them. Of all such decks the one with the shortest head travel:
        traffic counts the head's moves between two keys (items, or keys placed in `fixed` slots such as modules
        and the trash). allowed: the only slots some items may take (a Flex trash bin: columns 1 and 3). PlanError
        when no arrangement exists."""
        traffic, fixed, allowed = traffic or {}, fixed or {}, allowed or {}
        free = list(self.free)
        kind = dict(self.kind)
        order = sorted(range(len(items)), key=lambda i: (not items[i][2], not items[i][1], i))
        index = {items[i][0]: j for j, i in enumerate(order)}
        # moves between an item and something placed before it (a fixed key or an earlier item), per item
        links: list[list[tuple[str, int]]] = [[] for _ in order]
        for (a, b), n in traffic.items():
            for x, y in ((a, b), (b, a)):
                if x in index and (y in fixed or (y in index and index[y] < index[x])):
                    links[index[x]].append((y, n))
        dist: dict[tuple[str, str], float] = {}

        def d(s1: str, s2: str) -> float:
            if (s1, s2) not in dist:
                dist[(s1, s2)] = math.dist(slot_xy(self.robot, s1), slot_xy(self.robot, s2))
            return dist[(s1, s2)]

        best: list = [math.inf, None]
        at: dict[str, str] = dict(fixed)
        used: set[str] = set()

        def place(j: int, cost: float) -> None:
            if cost >= best[0]:
                return
            if j == len(order):
                best[0], best[1] = cost, dict(at)
                return
            key, tall, partial = items[order[j]]
            for slot in allowed.get(key, free):
                if slot not in free or slot in used or not self.fits(slot, tall, partial, kind):
                    continue
                extra = sum(n * d(slot, at[y]) for y, n in links[j])
                at[key], kind[slot] = slot, (tall, partial)
                used.add(slot)
                place(j + 1, cost + extra)
                used.discard(slot)
                del at[key], kind[slot]

        if len(items) <= len(free):
            place(0, 0.0)
        if best[1] is None:
            raise PlanError(f"the {self.robot.robot_type} deck has no arrangement that lets an 8-channel work "
                            f"single wells and part columns ({len(items)} labware for {len(free)} free slots)")
        for key, tall, partial in items:
            self.take(key, best[1][key], tall=tall, partial=partial, among=allowed.get(key))
        self.arranged = True
        return {key: best[1][key] for key, _t, _p in items}
