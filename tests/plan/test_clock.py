"""The plan's clock (labkit.plan.clock): the wells a dispense reaches (plan.checks.channel_wells), and that pacing
plus the centred waits hold every well's pre-incubation and reaction within ±5 % of the nominal in the real
Opentrons analysis — also one well at a time, where the ATP start takes ~30 min on the OT-2 and the kinase mixes and
the stop must keep its pace."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.errors import PlanError
from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.plan.checks import channel_wells
from labkit.plan.steps import Delay
from labkit.tables import row_letters

ROOT = Path(__file__).resolve().parents[2]
PANEL = ROOT / "layouts" / "kinase_panel.yaml"


PLATE = {8: "corning_96_wellplate_360ul_flat", 16: "corning_384_wellplate_112ul_flat"}


def test_the_clock_spreads_a_dispense_over_the_wells_its_nozzles_reach():
    """The clock counts a stamp's dispense for every well its nozzles reach (plan.checks.channel_wells)."""
    assert channel_wells(PLATE[8], "A3", 8, 0) == [f"{r}3" for r in "ABCDEFGH"]  # all eight from the back well
    assert channel_wells(PLATE[8], "H5", 8, 3) == ["F5", "G5", "H5"]  # a partial layout: front nozzle and behind
    assert channel_wells(PLATE[8], "C2", 8, 1) == ["C2"]
    assert channel_wells(PLATE[8], "D7", 1, 0) == ["D7"]  # a single-channel pipette
    assert channel_wells(PLATE[16], "B1", 8, 0) == [f"{r}1" for r in "BDFHJLNP"]  # 384 wells: every other row


@given(row=st.integers(0, 15), col=st.integers(1, 24), k=st.integers(1, 8), rows=st.sampled_from([8, 16]))
def test_reached_wells_are_k_wells_of_one_column_inside_the_plate(row, col, k, rows):
    letters = row_letters(rows)
    if row >= rows or (rows == 8 and col > 12):
        return
    nozzles = 0 if k == 8 else k  # a plan stores all eight nozzles as 0 (Builder.nozzles)
    try:
        wells = tuple(channel_wells(PLATE[rows], f"{letters[row]}{col}", 8, nozzles))
    except PlanError as exc:  # a stamp that would reach past the plate is refused, not cut short
        assert "past the" in exc.message
        return
    assert all(w.endswith(str(col)) and w[:-len(str(col))] in letters for w in wells)
    assert len(wells) <= (8 if k in (0, 8) else k) and len(set(wells)) == len(wells)
    order = [letters.index(w[:-len(str(col))]) for w in wells]
    assert f"{letters[row]}{col}" in wells and order == sorted(order)


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_one_well_at_a_time_is_paced_and_holds_every_well(robot, verified):
    exp = load_experiment(PANEL)
    plan = build_plan(exp, robot, multichannel=False)
    paced = [s for s in plan.steps if isinstance(s, Delay) and "pacing" in s.text]
    _sim, report = verified(plan, exp, f"single_{robot}")
    checks = {c.name: c for c in report.checks}
    for name, nominal in (("pre-incubation", exp.conditions.preincubation_min),
                          ("reaction time", exp.conditions.reaction_min)):
        c = checks[name]
        assert c.passed == c.total == 170 and 0.95 * nominal <= c.low <= c.high <= 1.05 * nominal, c.line()
    if robot == "ot2":  # the start one well at a time with a 20 µL pipette: the mixes and the stop wait for it
        assert len(paced) > 20, len(paced)
