"""Deck slots: labware fills the robot's slots from the front, tip racks from the back; modules take theirs."""

from __future__ import annotations

from labkit.errors import PlanError
from labkit.labware.specs import RobotSpec


class Deck:
    """Hands out deck slots; PlanError when the deck is over-assigned."""

    def __init__(self, robot: RobotSpec):
        self.robot = robot
        self.free = list(robot.slots)
        self.owner: dict[str, str] = {}

    def take(self, key: str, slot: str | None = None, from_back: bool = False) -> str:
        """Reserve a slot (a given one, or the next free one) for key."""
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

    def has_free(self) -> bool:
        """True while a slot is free."""
        return bool(self.free)
