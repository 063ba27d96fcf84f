"""plan.builder: tips by rack column (whole columns, part columns and single tips from one rack), nozzles."""

import pytest

from labkit.errors import PlanError
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.checks import check_plan
from labkit.plan.steps import Loc


def _builder(robot="ot2", multi=frozenset()):
    b = Builder(BuildConfig(robot, "t", "t", "kinase_radiometric", "", "per_step"), multi=multi)
    b.labware("plate", "corning_96_wellplate_360ul_flat")
    return b


def test_single_channel_tips_go_column_by_column_from_the_left():
    b = _builder()
    pip = b.pipette("p20_single_gen2")
    wells = [b.tip(pip).well for _ in range(10)]
    assert wells == [f"{r}1" for r in "ABCDEFGH"] + ["A2", "B2"]


def test_8_channel_whole_part_and_single_pick_ups_share_a_rack_back_to_front():
    b = _builder()
    pip = b.pipette("p20_multi_gen2")
    assert b.tip(pip).well == "A1"            # all eight: an untouched column from the left
    assert b.tip(pip, 6).well == "F12"        # six from the back of column 12: H1 lands on F12
    assert b.tip(pip, 1).well == "G12"        # then the open column's next tip
    assert b.tip(pip, 1).well == "H12"
    assert b.tip(pip, 4).well == "D11"
    assert b.tip(pip).well == "A2"
    assert b.tip(pip, 4).well == "H11"        # the four left in column 11


def test_rack_replaced_when_used_up_and_no_tip_used_twice():
    b = _builder()
    pip = b.pipette("p300_multi_gen2")
    b.transfer("cols", pip, [(Loc("plate", "A1"), Loc("plate", "A2"), 20.0)] * 14, nozzles=8)
    b.transfer("part", pip, [(Loc("plate", "F3"), Loc("plate", "F4"), 20.0)] * 3, nozzles=6)
    plan = b.finish()
    racks = [lw for lw in plan.labware if lw.load_name == "opentrons_96_tiprack_300ul"]
    assert len(racks) == 2
    plan.loads = []  # volumes are not the point here
    with pytest.raises(PlanError) as exc:
        check_plan(plan)
    assert not any("used twice" in p for p in exc.value.problems)
    assert plan.tips() == 14 * 8 + 3 * 6


def test_nozzles_stored_as_0_for_all_or_single_channel_pipettes():
    b = _builder()
    multi, single = b.pipette("p20_multi_gen2"), b.pipette("p300_single_gen2")
    assert (b.nozzles(multi, 8), b.nozzles(multi, 1), b.nozzles(multi, 5), b.nozzles(single, 1)) == (0, 1, 5, 0)
    with pytest.raises(PlanError):
        b.nozzles(multi, 9)


def test_choose_mounts_the_8_channel_of_a_multi_class():
    b = _builder("flex", multi={"small"})
    assert b.choose(4.0) == "flex_8channel_50" and b.choose(500.0) == "flex_1channel_1000"
    assert b.pipette_class(10.0, per_aspirate=20) == "large"  # many wells per aspirate: the larger pipette


def test_gripper_swaps_a_used_rack_for_one_waiting_in_a_staging_slot():
    """Interleaved kinase plates (issue 12): a full rack waits off the deck (put in a staging slot by hand before
    the timed work), the gripper parks the used one and puts the full one in its slot; tips then come from the new
    rack, from its first column, and a later swap by hand names the slot the rack is really in."""
    from labkit.plan.steps import MoveLabware

    b = _builder("flex")
    pip = b.pipette("flex_8channel_50")
    rack = b.spec(pip).tiprack
    first = b.tip(pip)
    old = first.labware
    slot = b.plan.labware_by_key()[old].slot
    fresh = b.tips.offdeck_rack(rack)
    assert b.plan.labware_by_key()[fresh].slot == "offdeck"
    moves = b.tips.swap_by_gripper(rack, fresh, "D4")
    assert [(m.labware, m.to, m.gripper) for m in moves] == [(old, "D4", True), (fresh, slot, True)]
    assert all(isinstance(m, MoveLabware) for m in moves)
    assert b.tip(pip) == Loc(fresh, "A1")
    assert b.tips.at == {old: "D4", fresh: slot}
