"""The dilution_plate plan: the Opentrons tutorial job with an 8-channel and multi-dispense."""

from pathlib import Path

import pytest
import yaml

from labkit.layout.io import load_experiment, parse_experiment
from labkit.plan import build_plan
from labkit.plan.steps import Distribute, Transfer

ROOT = Path(__file__).resolve().parents[1]
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
