"""checks.py rejects plans that cannot run, with a message that names the problem."""

import dataclasses
from pathlib import Path

import pytest

from labkit.errors import PlanError
from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.plan.checks import channel_wells, check_plan
from labkit.plan.steps import Disp, Loc, Stroke, Transfer

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "layouts" / "dilution_tutorial.yaml"


def _plan():
    return build_plan(load_experiment(TUTORIAL), "ot2")


def test_seed_plans_pass():
    check_plan(_plan())


def test_volume_outside_pipette_range():
    plan = _plan()
    plan.steps.append(Transfer("too small", plan.pipettes[0].key, (Stroke(
        Loc("plate_1", "A1"), 5.0, (Disp(Loc("plate_1", "A2"), 5.0),), Loc("tips_300ul_2", "A12")),)))
    with pytest.raises(PlanError) as exc:
        check_plan(plan)
    assert "outside the p300_multi_gen2 range" in str(exc.value)


def test_overflow():
    plan = _plan()
    plan.steps.append(Transfer("flood", plan.pipettes[0].key, (Stroke(
        Loc("reservoir", "A1"), 300.0, (Disp(Loc("plate_1", "A12"), 300.0),), Loc("tips_300ul_2", "A12")),)))
    with pytest.raises(PlanError, match="overflow"):
        check_plan(plan)


def test_reservoir_too_small_and_runs_dry():
    plan = _plan()
    plan.loads = [dataclasses.replace(ld, volume=ld.volume * 0.5) for ld in plan.loads]
    with pytest.raises(PlanError, match="runs dry"):
        check_plan(plan)
    plan.loads = [dataclasses.replace(ld, volume=20000.0) for ld in plan.loads]
    with pytest.raises(PlanError, match="reservoir too small"):
        check_plan(plan)


def test_tip_reused_and_deck_over_assigned():
    plan = _plan()
    plan.steps.append(plan.liquid_steps()[0])
    with pytest.raises(PlanError, match="used twice"):
        check_plan(plan)
    plan = _plan()
    plan.labware.append(dataclasses.replace(plan.labware[0], key="extra"))
    with pytest.raises(PlanError, match="over-assigned"):
        check_plan(plan)


def test_more_plates_than_the_deck_holds_go_in_batches_and_a_plate_no_batch_can_run_is_refused():
    import yaml

    from labkit.layout.io import parse_experiment
    from labkit.plan.steps import Pause

    data = yaml.safe_load((ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml").read_text())
    data["plates"] = [{"id": f"K{i}", "format": 96, "targets": ["TRKA"]} for i in range(8)]
    plan = build_plan(parse_experiment(yaml.safe_dump(data)), "flex")  # used to be "deck over-assigned"
    assert any(isinstance(s, Pause) and s.text.startswith("Batch 2 of") for s in plan.steps)
    data["plates"][3]["format"] = 384  # no batch size helps: the planner's own message, not a batching one
    with pytest.raises(PlanError, match="96-well plates only"):
        build_plan(parse_experiment(yaml.safe_dump(data)), "ot2")


def test_channel_wells_96_and_384():
    assert channel_wells("corning_96_wellplate_360ul_flat", "A3", 8) == [f"{r}3" for r in "ABCDEFGH"]
    assert channel_wells("corning_384_wellplate_112ul_flat", "B1", 8) == [f"{r}1" for r in "BDFHJLNP"]
    assert channel_wells("nest_12_reservoir_15ml", "A2", 8) == ["A2"]


def test_mix_faster_than_the_pipette_allows():
    plan = _plan()
    plan.steps.append(Transfer("whirl", plan.pipettes[0].key, (Stroke(
        Loc("plate_1", "A1"), 50.0, (Disp(Loc("plate_1", "A2"), 50.0),), Loc("tips_300ul_2", "A12"),
        mix_after=(3, 50.0), mix_rate=4.0),)))
    with pytest.raises(PlanError) as exc:
        check_plan(plan)
    assert "flow rate" in str(exc.value.problems)


def test_channel_wells_of_partial_layouts():
    plate, p384 = "corning_96_wellplate_360ul_flat", "corning_384_wellplate_112ul_flat"
    assert channel_wells(plate, "F7", 8, 6) == [f"{r}7" for r in "ABCDEF"]  # the front nozzle on F7
    assert channel_wells(plate, "D7", 8, 1) == ["D7"]
    assert channel_wells(p384, "F3", 8, 3) == ["B3", "D3", "F3"]
    assert channel_wells("nest_12_reservoir_15ml", "A1", 8, 4) == ["A1"]
    with pytest.raises(PlanError, match="first row"):
        channel_wells(plate, "C1", 8, 4)


def test_partial_layouts_next_to_tall_labware_or_in_the_back_row_are_rejected():
    from labkit.labware.specs import ROBOTS, slot_behind

    plan = build_plan(load_experiment(ROOT / "layouts" / "kinase_panel.yaml"), "ot2")
    lw = plan.labware_by_key()
    inter = lw["intermediate"].slot
    behind = slot_behind(ROBOTS["ot2"], inter)
    rack = next(k for k, u in lw.items() if k.startswith("tips_") and u.initial)  # tip racks are tall
    swapped = {rack: behind, next(k for k, u in lw.items() if u.slot == behind and u.initial): lw[rack].slot}
    bad = dataclasses.replace(plan, labware=[dataclasses.replace(u, slot=swapped.get(u.key, u.slot))
                                             for u in plan.labware])
    with pytest.raises(PlanError) as exc:
        check_plan(bad)
    assert any(f"would hit the {lw[rack].load_name}" in p and "intermediate" in p for p in exc.value.problems)
    assert slot_behind(ROBOTS["ot2"], lw["waste"].slot) is None  # the radioactive waste is in the back row
    swap = {"intermediate": lw["waste"].slot, "waste": lw["intermediate"].slot}
    back = dataclasses.replace(plan, labware=[dataclasses.replace(u, slot=swap.get(u.key, u.slot))
                                              for u in plan.labware])
    with pytest.raises(PlanError) as exc:
        check_plan(back)
    assert any("back row" in p for p in exc.value.problems)


def test_labware_heights_match_opentrons():
    import json

    from labkit.labware.specs import LABWARE

    defs = Path(__import__("opentrons_shared_data").__file__).parent / "data" / "labware" / "definitions" / "2"
    for name, spec in LABWARE.items():
        if not spec.custom:
            d = json.loads(sorted((defs / name).glob("*.json"))[-1].read_text())
            assert spec.height_mm == pytest.approx(d["dimensions"]["zDimension"], abs=0.2), name
