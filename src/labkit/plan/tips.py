"""Tip racks of a plan: which tip each pick-up takes, and where (and when) a new rack goes on the deck."""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, PIPETTES, PipetteSpec, RobotSpec
from labkit.plan.deck import Deck
from labkit.plan.steps import LabwareUse, LoadLabware, Loc, MoveLabware, Plan, Step


@dataclass
class TipBox:
    """The racks of one tip-rack kind: their keys, and for the current rack the next row per column."""

    racks: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)   # per column of the current rack: tips taken from the back
    n: int = 0                                      # racks so far

    def copy(self) -> "TipBox":
        """A copy to try pick-ups on."""
        return TipBox(self.racks, list(self.rows), self.n)

    def left(self) -> int:
        """Tips left in the current rack."""
        return sum(8 - r for r in self.rows)


class TipRacks:
    """Hands out tips rack column by rack column; places new racks (from the back of the deck, near `near`, or in
    their arranged slot) and, when the deck is full, queues a rack swap for the operator (`pending`)."""

    def __init__(self, robot: RobotSpec, deck: Deck, plan: Plan, *, rack_slots: dict[str, str] | None = None,
                 partial_racks: frozenset[str] = frozenset()):
        self.robot, self.deck, self.plan = robot, deck, plan
        self.rack_slots = dict(rack_slots or {})      # tip rack load name -> the slot arranged for its racks
        self.partial_racks = partial_racks            # tip racks picked from with a partial nozzle layout
        self.near: tuple[str, ...] = ()               # new racks go to the free slot closest to these (else back)
        self.boxes: dict[str, TipBox] = {}
        self.pending: list[Step] = []                 # rack swaps waiting to go between strokes
        self.at: dict[str, str] = {}                  # rack key -> slot, for racks the gripper has moved

    def take(self, spec: PipetteSpec, n: int) -> Loc:
        """The next n tips for a pipette: the rack well under its primary nozzle. Every rack column is used from
        the back (row A) forward, so a partial layout (H1 in front, the rest behind it) never lands on a tip; whole
        columns come from untouched columns on the left, partial and single pick-ups from the open column that fits
        best, else an untouched column from the right."""
        box = self.boxes.setdefault(spec.tiprack, TipBox())
        col = self.free_column(spec.tiprack, box, n)
        if col is None:
            self.new_rack(spec.tiprack, box)
            col = self.free_column(spec.tiprack, box, n)
            assert col is not None
        rack, first = box.racks[-1], box.rows[col]
        box.rows[col] = first + n
        row = first if spec.channels == 1 or n == 8 else first + n - 1  # the primary nozzle: A1, or H1 in front
        return Loc(rack, f"{'ABCDEFGH'[row]}{col + 1}")

    def free_column(self, tiprack: str, box: TipBox, n: int) -> int | None:
        """The rack column to take n tips from (None: the rack is used up for n)."""
        rows = box.rows
        if not rows:
            return None
        untouched = [c for c, r in enumerate(rows) if r == 0]
        if n == 8:
            return untouched[0] if untouched else None
        open_ = [c for c, r in enumerate(rows) if 0 < r and r + n <= 8]
        if open_:
            return min(open_, key=lambda c: (8 - rows[c] - n, c))
        if not untouched:
            return None
        shared = any(PIPETTES[p.name].tiprack == tiprack and PIPETTES[p.name].channels == 8
                     for p in self.plan.pipettes)
        return untouched[-1] if shared else untouched[0]

    def prepare(self, spec: PipetteSpec, pickups: list[int], why: str) -> bool:
        """Put a full rack in place now if the current one cannot serve these pick-ups (nozzles each, 0 = all);
        returns True when a swap was queued in `pending` (the caller emits it before the timed work `why`)."""
        box = self.boxes.get(spec.tiprack)
        if not box or not box.racks:
            return False  # the first rack is put in place without stopping
        trial = box.copy()
        for n in pickups:
            col = self.free_column(spec.tiprack, trial, n or spec.channels)
            if col is None:
                self.new_rack(spec.tiprack, box, f"has {box.left()} tips left, too few for {why} (keep them)")
                return True
            trial.rows[col] += n or spec.channels
        return False

    def offdeck_rack(self, tiprack: str) -> str:
        """A full rack of this kind that starts off the deck (the operator puts it in a staging-area slot for
        `swap_by_gripper`); returns its key."""
        box = self.boxes.setdefault(tiprack, TipBox())
        box.n += 1
        key = f"tips_{tiprack.rsplit('_', 1)[-1]}_{box.n}"
        self.plan.labware.append(LabwareUse(key, tiprack, "offdeck"))
        return key

    def swap_by_gripper(self, tiprack: str, fresh: str, park: str) -> list[Step]:
        """The gripper takes the current rack of this kind to `park` (a free staging-area slot) and puts the full
        rack `fresh` (waiting in a staging-area slot) in its place; from now on tips come from `fresh`. Returns the
        two moves (no pause: nothing stops the run)."""
        box = self.boxes[tiprack]
        old = box.racks[-1]
        slot = self.at.get(old) or self.plan.labware_by_key()[old].slot
        box.racks.append(fresh)
        box.rows = [0] * 12
        self.at[old], self.at[fresh] = park, slot
        return [MoveLabware(old, park, True, f"The gripper takes the used {tiprack} rack from slot {slot} to "
                                             f"staging-area slot {park}"),
                MoveLabware(fresh, slot, True, f"The gripper puts the full {tiprack} rack in slot {slot}")]

    def new_rack(self, tiprack: str, box: TipBox, reason: str = "") -> None:
        """A fresh rack of this kind: its arranged slot, a free slot, or (deck full) a swap for the used one."""
        box.n += 1
        key = f"tips_{tiprack.rsplit('_', 1)[-1]}_{box.n}"
        arranged = self.rack_slots.get(tiprack)
        taken = {lw.slot for lw in self.plan.labware if lw.load_name == tiprack}
        partial = tiprack in self.partial_racks
        free = [s for s in self.deck.free if self.deck.fits(s, LABWARE[tiprack].tall, partial)]
        if arranged and arranged not in taken:
            self.plan.labware.append(LabwareUse(key, tiprack, arranged))
        elif free:
            slot = self.deck.take(key, from_back=True, near=self.near, among=free, tall=LABWARE[tiprack].tall,
                                  partial=partial)
            self.plan.labware.append(LabwareUse(key, tiprack, slot))
        elif box.racks:
            old = box.racks[-1]
            slot = self.at.get(old) or self.plan.labware_by_key()[old].slot
            self.pending.append(MoveLabware(old, "offdeck", False, f"Tip rack in slot {slot} {reason or 'is empty'}: "
                                                               f"take it away and put a full {tiprack} rack in slot "
                                                               f"{slot}"))
            self.plan.labware.append(LabwareUse(key, tiprack, slot, initial=False))
            self.pending.append(LoadLabware(key))
        else:
            raise PlanError(f"the {self.robot.robot_type} deck is over-assigned: no slot left for a {tiprack} "
                            "tip rack; use fewer plates per run")
        box.racks.append(key)
        box.rows = [0] * 12

    def take_pending(self) -> list[Step]:
        """The queued rack swaps (emptied)."""
        out, self.pending = self.pending, []
        return out
