"""plan.deck: arranging a deck so an 8-channel with a partial nozzle layout has nothing tall behind its work."""

import pytest

from labkit.errors import PlanError
from labkit.labware.specs import ROBOTS, slot_behind, slot_in_front
from labkit.plan.deck import Deck


def test_slot_neighbours():
    ot2, flex = ROBOTS["ot2"], ROBOTS["flex"]
    assert (slot_behind(ot2, "1"), slot_behind(ot2, "9"), slot_behind(ot2, "10")) == ("4", "12", None)
    assert (slot_behind(flex, "C2"), slot_behind(flex, "A1"), slot_in_front(flex, "C2")) == ("B2", None, "D2")
    assert slot_in_front(ot2, "2") is None


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_arrangement_keeps_tall_labware_from_behind_partial_work(robot):
    deck = Deck(ROBOTS[robot])
    deck.take("temp", ROBOTS[robot].temperature_slot, tall=True, partial=robot == "flex")
    items = [("plate_1", False, False), ("plate_2", False, False), ("reservoir", False, True),
             ("tubes", True, robot == "ot2"), ("hot", robot == "flex", robot == "ot2"), ("source", False, True),
             ("intermediate", False, True), ("tips_a", True, True), ("tips_b", True, robot == "ot2"),
             ("filter", False, True)]
    slots = deck.arrange(items, {("tips_a", "trash"): 50, ("source", "intermediate"): 10},
                         {"trash": ROBOTS[robot].trash or "12", "temp": ROBOTS[robot].temperature_slot})
    assert len(set(slots.values())) == len(items)
    kind = {slots[k]: (tall, partial) for k, tall, partial in items}
    kind.update({ROBOTS[robot].temperature_slot: (True, robot == "flex")})
    for key, _tall, partial in items:
        if partial:
            behind = slot_behind(ROBOTS[robot], slots[key])
            assert behind is not None and not kind.get(behind, (False, False))[0], key
    assert deck.arranged and not deck.free


def test_no_arrangement_is_a_plan_error():
    deck = Deck(ROBOTS["ot2"])
    with pytest.raises(PlanError, match="no arrangement"):
        deck.arrange([(f"t{i}", True, True) for i in range(7)])  # at most two tall ones per column of slots


def test_head_travel_picks_the_closer_slot():
    deck = Deck(ROBOTS["flex"])
    slots = deck.arrange([("tips", True, False)], {("tips", "trash"): 10}, {"trash": "A3"})
    assert slots["tips"] in ("A2", "B3")  # next to the trash bin
