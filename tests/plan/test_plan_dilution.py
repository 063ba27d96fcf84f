"""The dilution_plate plan: the Opentrons tutorial job with an 8-channel and multi-dispense."""

from pathlib import Path

import pytest
import yaml

from labkit.layout.io import load_experiment, parse_experiment
from labkit.plan import build_plan
from labkit.plan.steps import Distribute, Transfer

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "layouts" / "dilution_tutorial.yaml"


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_tutorial_uses_one_8_channel_and_multi_dispense(robot):
    plan = build_plan(load_experiment(TUTORIAL), robot)
    assert len(plan.pipettes) == 1 and "multi" in plan.pipettes[0].name or "8channel" in plan.pipettes[0].name
    dist = [s for s in plan.steps if isinstance(s, Distribute)]
    assert len(dist) == 1 and sum(len(st.dispenses) for st in dist[0].strokes) == 12
    assert all(len(st.dispenses) >= 2 for st in dist[0].strokes[:-1])
    assert all(d.top for st in dist[0].strokes for d in st.dispenses)
    # per_step: diluent 1 + solution 1 + 11 serial steps = 13 column pick-ups
    assert plan.tips_used()[plan.pipettes[0].key] == 13


def test_per_series_uses_one_tip_along_the_series():
    plan = build_plan(load_experiment(TUTORIAL), "ot2", tip_policy="per_series")
    assert sum(plan.tips_used().values()) == 2
    serial = [s for s in plan.steps if isinstance(s, Transfer)][-1]
    assert [st.tip is not None for st in serial.strokes] == [True] + [False] * 11
    assert [st.drop for st in serial.strokes] == [False] * 11 + [True]


def test_mixed_rows_fall_back_to_single_channel():
    data = yaml.safe_load(TUTORIAL.read_text())
    data["compounds"].append({"name": "dye2", "stock": "1 mM", "solvent": "water",
                              "dilution": {"top": "500 uM", "factor": 2, "points": 12, "replicates": 1}})
    data["compounds"][0]["dilution"]["replicates"] = 7
    plan = build_plan(parse_experiment(yaml.safe_dump(data)), "flex")
    assert [p.name for p in plan.pipettes] == ["flex_1channel_1000"]
    loads = {ld.liquid for ld in plan.loads}
    assert any(name.startswith("dye2 solution") for name in loads)


def test_reservoir_loads_cover_the_draw_plus_dead_volume():
    plan = build_plan(load_experiment(TUTORIAL), "ot2")
    by = {ld.liquid: ld.volume for ld in plan.loads}
    diluent = next(v for k, v in by.items() if k.startswith("Diluent"))
    assert diluent >= 96 * 100 + 500  # every well's 100 µL plus the reservoir's dead volume


def _documented_flow(pipette: str) -> tuple[float, float]:
    """(default flow rate at API 2.20, uiMaxFlowRate) of a pipette with labkit's tip, from opentrons-shared-data."""
    import json

    from labkit.labware.specs import PIPETTES

    root = Path(__import__("opentrons_shared_data").__file__).parent / "data" / "pipette" / "definitions" / "2"
    spec = PIPETTES[pipette]
    channels = {8: "eight_channel", 96: "ninety_six_channel"}.get(spec.channels, "single_channel")
    model = pipette.split("_")[0] if pipette.startswith("p") else f"p{pipette.rsplit('_', 1)[-1]}"
    tip = "t" + spec.tiprack.rsplit("_", 1)[-1].replace("ul", "")
    versions = sorted((root / "liquid" / channels / model / "default").glob("*.json"),
                      key=lambda p: tuple(int(x) for x in p.stem.split("_")))
    gen = "3" if pipette.startswith("flex") else "2"
    d = json.loads([v for v in versions if v.stem.startswith(gen)][-1].read_text())["supportedTips"]
    t = d.get(tip) or d.get("t200")
    rates = [t["defaultAspirateFlowRate"], t["defaultDispenseFlowRate"]]
    default = max(max(v for k, v in r["valuesByApiLevel"].items() if tuple(map(int, k.split("."))) <= (2, 20))
                  for r in rates)
    return default, t["uiMaxFlowRate"]


def test_pipette_flow_rates_match_opentrons():
    from labkit.labware.specs import PIPETTES

    for name, spec in PIPETTES.items():
        default, top = _documented_flow(name)
        assert spec.flow_ul_s == pytest.approx(default), name
        assert spec.max_flow_ul_s == pytest.approx(top), name
        assert 1.0 <= spec.aqueous_mix_rate <= 2.0
        assert spec.flow_ul_s * spec.aqueous_mix_rate <= max(spec.flow_ul_s, 0.8 * spec.max_flow_ul_s) + 1e-6


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_water_series_mixed_faster_within_the_documented_range(robot):
    plan = build_plan(load_experiment(TUTORIAL), robot)
    spec_rate = {"ot2": 2.0, "flex": 1.0}[robot]  # the Flex 1000 µL default is already near its maximum
    mixed = [st for s in plan.steps if isinstance(s, Transfer) for st in s.strokes if st.mix_after]
    assert len(mixed) == 12 and all(st.mix_after == (3, 50.0) and st.mix_rate == spec_rate for st in mixed)
    # a DMSO series keeps the default flow rate
    data = yaml.safe_load(TUTORIAL.read_text())
    data["compounds"][0]["solvent"] = "DMSO"
    plan = build_plan(parse_experiment(yaml.safe_dump(data)), robot)
    assert all(st.mix_rate == 1.0 for s in plan.liquid_steps() for st in s.strokes)


def test_compact_deck_and_disposal_blown_out_at_the_trash():
    from labkit.labware.specs import ROBOTS
    from labkit.plan.deck import Deck

    for robot, plate_slot, res_slot in (("ot2", "9", "6"), ("flex", "B3", "C3")):
        plan = build_plan(load_experiment(TUTORIAL), robot)
        slots = {lw.key: lw.slot for lw in plan.labware}
        assert (slots["plate_1"], slots["reservoir"]) == (plate_slot, res_slot)  # plate beside the trash
        deck = Deck(ROBOTS[robot])
        trash = ROBOTS[robot].trash or "12"
        racks = [lw.slot for lw in plan.labware if lw.key.startswith("tips")]
        others = [s for s in ROBOTS[robot].slots if s not in slots.values()]
        near = (trash, plate_slot)
        assert all(deck.distance(r, near) <= min(deck.distance(o, near) for o in others) for r in racks)
        dist = next(s for s in plan.steps if isinstance(s, Distribute))
        assert [st.blow_out for st in dist.strokes] == [""] * (len(dist.strokes) - 1) + ["trash"]
