"""Two radiometric kinase plates interleaved on the Flex (issue 12, "plates interleaved"): each on its own
temperature module, the second prepared while the first waits, every well's pre-incubation and reaction time kept,
and nothing that stops the robot between the first ATP start and the last stop."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labkit.layout.io import load_experiment
from labkit.layout.repeat import repeat_plates
from labkit.plan import build_plan
from labkit.plan.steps import Delay, Distribute, LoadLabware, MoveLabware, Pause, Transfer

ROOT = Path(__file__).resolve().parents[2]
PANEL = ROOT / "layouts" / "kinase_panel.yaml"


def _layout(tmp_path: Path, n: int) -> Path:
    """The shipped panel with its first n plates (n = 2: the layout itself)."""
    data = yaml.safe_load(PANEL.read_text(encoding="utf-8"))
    data["plates"] = data["plates"][:n]
    out = tmp_path / f"panel_{n}.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def _liquid(plan):
    return [(i, s) for i, s in enumerate(plan.steps) if isinstance(s, (Transfer, Distribute))]


def _first(plan, plate: str, what: str) -> int:
    return next(i for i, s in _liquid(plan) if s.text.startswith(f"{plate}: {what}"))


def _last(plan, plate: str, what: str) -> int:
    return max(i for i, s in _liquid(plan) if s.text.startswith(f"{plate}: {what}"))


@pytest.fixture(scope="module")
def flex_pair():
    return build_plan(load_experiment(PANEL), "flex")


def test_two_flex_plates_run_side_by_side_on_two_temperature_modules(flex_pair):
    plan = flex_pair
    assert sorted(m.name for m in plan.modules) == ["temperature module gen2"] * 2
    assert not plan.warnings
    assert any(n.startswith("INTERLEAVED: plates KIN-1 and KIN-2") for n in plan.notes)
    moves = {s.labware: s.to for s in plan.steps if isinstance(s, MoveLabware) and s.to in ("temp", "temp2")}
    assert moves == {"plate_1": "temp", "plate_2": "temp2"}
    # the order that makes it interleaved: A's mixes, B's mixes, A's start, B's start, A's stop, B's stop
    order = [_first(plan, "KIN-1", "10 µL kinase"), _first(plan, "KIN-2", "10 µL kinase"),
             _first(plan, "KIN-1", "start"), _last(plan, "KIN-1", "start"),
             _first(plan, "KIN-2", "start"), _last(plan, "KIN-2", "start"),
             _first(plan, "KIN-1", "stop"), _last(plan, "KIN-1", "stop"),
             _first(plan, "KIN-2", "stop"), _last(plan, "KIN-2", "stop")]
    assert order == sorted(order)
    # nothing stops the robot while a plate reacts: no pause, manual move or rack loaded by hand
    for s in plan.steps[order[2]:order[-1] + 1]:
        assert not isinstance(s, (Pause, LoadLabware)), s
        assert not isinstance(s, MoveLabware) or s.gripper, s
    # the waits: each plate's own, computed with the other plate's work inside its window
    waits = [s for s in plan.steps[order[0]:order[-1]] if isinstance(s, Delay)]
    assert any("KIN-2's kinase mixes" in w.text for w in waits)
    assert any(w.text.startswith("KIN-2: kinase reaction") and "KIN-1's wait and stop" in w.text for w in waits)
    # every tip from the first hot start on goes to the radioactive waste
    for i, s in _liquid(plan):
        for st in s.strokes:
            if i >= order[2] and (st.drop or st.blow_out == "trash"):
                assert st.waste, s.text


def test_ot2_and_larger_runs_are_not_interleaved_and_say_why(tmp_path):
    ot2 = build_plan(load_experiment(PANEL), "ot2")
    assert len(ot2.modules) == 1
    assert any("not interleaved: the OT-2 has no gripper" in n for n in ot2.notes)
    one = build_plan(load_experiment(_layout(tmp_path, 1)), "flex")
    assert len(one.modules) == 1 and not any("interleave" in n.lower() for n in one.notes)


def _simulate(verified, layout: Path, plan):
    sim, report = verified(plan, load_experiment(layout), f"{layout.stem}_flex")
    failed = [c.name for c in report.checks if c.passed != c.total]
    assert not failed, report.summary()
    return sim, {c.name: c for c in report.checks}


def test_two_interleaved_plates_verify_and_take_less_than_1_6_times_one_plate(tmp_path, flex_pair, verified):
    """The real Opentrons analysis and labkit's time model: 2 plates verify (every well's pre-incubation and reaction
    within ± 5 % of nominal) and their wall-clock, delays included, is under 1.6 × one plate's."""
    one_layout = _layout(tmp_path, 1)
    one, _checks1 = _simulate(verified, one_layout, build_plan(load_experiment(one_layout), "flex"))
    two, checks = _simulate(verified, PANEL, flex_pair)
    cond = load_experiment(PANEL).conditions
    react, pre = checks["reaction time"], checks["pre-incubation"]
    assert react.total == pre.total == 170
    assert 0.95 * cond.reaction_min <= react.low <= react.high <= 1.05 * cond.reaction_min
    assert 0.95 * cond.preincubation_min <= pre.low <= pre.high <= 1.05 * cond.preincubation_min
    assert checks["hot tips to radioactive waste"].total > 0
    ratio = two.cost.time_s / one.cost.time_s
    assert ratio < 1.6, (two.cost.time_s, one.cost.time_s)
    # the liquid work is the same as two plates one after another: only the waits overlap
    assert two.cost.time_without_delays_s > one.cost.time_without_delays_s * 1.5


def test_a_deck_without_room_for_a_second_module_runs_the_plates_one_after_another_and_says_why(tmp_path):
    """Two copies of the panel's first plate (labkit.layout.repeat): its series is row-patterned so that the source
    plate is worked with partial nozzle layouts too, and no Flex deck then holds a second temperature module beside
    everything the 8-channels work that way; the plan is the sequential one, and a note says why."""
    data = repeat_plates(repeat_plates(yaml.safe_load(PANEL.read_text(encoding="utf-8")), 1), 2)
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    plan = build_plan(load_experiment(path), "flex")
    assert len(plan.modules) == 1 and not plan.warnings
    assert any("not interleaved: no deck with a second temperature module" in n for n in plan.notes)
