"""Deck slots: labware fills the robot's slots from the front, tip racks from the back; modules take theirs."""

from __future__ import annotations

import math

from labkit.errors import PlanError
from labkit.labware.specs import RobotSpec, slot_xy


class Deck:
    """Hands out deck slots; PlanError when the deck is over-assigned."""

    def __init__(self, robot: RobotSpec):
        self.robot = robot
        self.free = list(robot.slots)
        self.owner: dict[str, str] = {}

    def take(self, key: str, slot: str | None = None, from_back: bool = False, near: tuple[str, ...] = ()) -> str:
        """Reserve a slot for key: a given one, the free one closest to the `near` slots, or the next free one."""
        if slot is None and near and self.free:
            order = self.free[::-1] if from_back else self.free
            slot = min(order, key=lambda s: round(self.distance(s, near), 3))
        if slot is not None:
            if slot not in self.free:
                raise PlanError(f"deck slot {slot} of the {self.robot.robot_type} is already taken by "
                                f"{self.owner.get(slot, '?')!r} (wanted for {key!r})")
            self.free.remove(slot)
        else:
            if not self.free:
                raise PlanError(f"the {self.robot.robot_type} deck is over-assigned: no free slot for {key!r} "
                                f"(slots hold {', '.join(f'{s}={k}' for s, k in sorted(self.owner.items()))}); "
                                "use fewer plates per run")
            slot = self.free.pop(-1 if from_back else 0)
        self.owner[slot] = key
        return slot

    def distance(self, slot: str, near: tuple[str, ...]) -> float:
        """Sum of the centre-to-centre distances (mm) from a slot to the given slots."""
        x, y = slot_xy(self.robot, slot)
        return sum(math.dist((x, y), slot_xy(self.robot, other)) for other in near)

    def has_free(self) -> bool:
        """True while a slot is free."""
        return bool(self.free)
