"""The kinase plan: radiation hygiene, vehicle matching, temperature, filter plate."""

from pathlib import Path

import pytest

from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.plan.kinase import HOT
from labkit.plan.steps import Distribute, MoveLabware, Pause, SetTemperature, Transfer

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "plan" / "small_kinase.yaml"


@pytest.fixture(scope="module", params=["ot2", "flex"])
def plan(request):
    return build_plan(load_experiment(SMALL), request.param)


def _hot_index(plan):
    return next(i for i, s in enumerate(plan.steps) if isinstance(s, Distribute) and "start" in s.text)


def test_hot_reservoir_named_and_loaded(plan):
    hot = [lq for lq in plan.liquids if lq.name.startswith(HOT)]
    assert len(hot) == 2  # two ATP concentrations -> two hot mixes
    assert all(lq.composition["atp33"] > 0 for lq in hot)
    assert {ld.liquid for ld in plan.loads} >= {lq.name for lq in hot}


def test_fresh_tip_every_stroke_once_hot(plan):
    start = _hot_index(plan)
    for s in plan.steps[start:]:
        if isinstance(s, (Transfer, Distribute)):
            for st in s.strokes:
                assert st.tip is not None and st.drop, s.text
                assert st.mix_before is None and st.mix_after is None, s.text
            if isinstance(s, Distribute):
                assert all(d.top for st in s.strokes for d in st.dispenses)


def test_every_assay_well_gets_compound_or_vehicle_once():
    exp = load_experiment(SMALL)
    plan = build_plan(exp, "flex")
    comp = next(s for s in plan.steps if isinstance(s, Transfer) and "compound intermediate" in s.text)
    dests = [st.dispenses[0].loc.well for st in comp.strokes]
    assay = [w.name for w in exp.wells["P1"] if w.role in ("sample", "vehicle", "positive")]
    assert sorted(dests) == sorted(assay)
    assert all(st.tip is not None for st in comp.strokes)


def test_temperature_move_filter_and_final_pause(plan):
    assert isinstance(next(s for s in plan.steps if isinstance(s, SetTemperature)), SetTemperature)
    moves = [s for s in plan.steps if isinstance(s, MoveLabware)]
    assert any(m.labware == "filter_1" for m in moves) and any(m.to == "temp" for m in moves)
    pause = [s for s in plan.steps if isinstance(s, Pause)][-1]
    assert "wash" in pause.text and "scintillant" in pause.text and "count" in pause.text.lower()
    assert any(lw.custom and lw.label == "P1 P81 filter" for lw in plan.labware)
