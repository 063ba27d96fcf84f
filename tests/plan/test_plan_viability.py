"""The viability plan: suspension re-mixing, overnight pause only for adherent lines, CTG, shaking."""

from pathlib import Path

import pytest

from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.plan.steps import Distribute, Pause, Shake

ROOT = Path(__file__).resolve().parents[2]


def _pauses(plan):
    return [s.text for s in plan.steps if isinstance(s, Pause)]


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_adherent_pause_overnight_suspension_same_day(robot):
    km12 = build_plan(load_experiment(ROOT / "layouts" / "viability_km12.yaml"), robot)
    aml = build_plan(load_experiment(ROOT / "layouts" / "viability_aml_384.yaml"), robot)
    assert any("overnight" in t for t in _pauses(km12))
    assert not any("overnight" in t for t in _pauses(aml))
    for plan in (km12, aml):
        assert any("72 h" in t for t in _pauses(plan)) and any("luminescence" in t for t in _pauses(plan))


def test_cell_suspension_is_remixed_while_dispensing():
    plan = build_plan(load_experiment(ROOT / "layouts" / "viability_aml_384.yaml"), "ot2")
    seed = [s for s in plan.steps if isinstance(s, Distribute) and "seed" in s.text]
    assert seed
    for s in seed:
        mixes = [st for st in s.strokes if st.mix_before is not None]
        n = sum(len(st.dispenses) for st in s.strokes)
        assert len(mixes) >= max(1, n // 24 - 1)


def test_flex_shakes_on_heater_shaker_ot2_pauses():
    flex = build_plan(load_experiment(ROOT / "layouts" / "viability_km12.yaml"), "flex")
    ot2 = build_plan(load_experiment(ROOT / "layouts" / "viability_km12.yaml"), "ot2")
    assert any(isinstance(s, Shake) for s in flex.steps)
    assert not any(isinstance(s, Shake) for s in ot2.steps)
    assert any("orbital shaker" in t for t in _pauses(ot2))


def test_ctg_volume_equals_medium_volume():
    exp = load_experiment(ROOT / "layouts" / "viability_km12.yaml")
    plan = build_plan(exp, "flex")
    ctg = next(s for s in plan.steps if isinstance(s, Distribute) and "CellTiter-Glo" in s.text)
    assert {d.volume for st in ctg.strokes for d in st.dispenses} == {exp.volumes.ctg}
    assert exp.volumes.ctg == exp.volumes.well


@pytest.mark.parametrize("layout", ["viability_km12", "viability_aml_384"])
@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_seed_viability_plans_work_by_column_stamps(layout, robot):
    """Dosing pick-ups equal the layout's column runs of one dose (not its wells), every step is an 8-channel
    stamp, and the whole plan takes far fewer pick-ups than well-by-well work."""
    from labkit.plan.columns import runs
    from labkit.plan.common import source_key

    exp = load_experiment(ROOT / "layouts" / f"{layout}.yaml")
    plan = build_plan(exp, robot)
    single = build_plan(exp, robot, multichannel=False)
    assert not plan.warnings
    dosed = ("sample", "reference", "vehicle", "blank")
    dose_runs = 0
    for p in exp.plates:
        n_rows = 16 if p.format == 384 else 8
        dose_runs += len(runs(n_rows, {w.name: source_key(w) for w in exp.wells[p.id] if w.role in dosed}))
    dose = [s for s in plan.liquid_steps() if "dose" in s.text]
    assert sum(1 for s in dose for st in s.strokes if st.tip is not None) <= dose_runs
    assert all("8channel" in s.pipette or "multi" in s.pipette for s in plan.liquid_steps())
    assert sum(plan.tips_used().values()) < 0.7 * sum(single.tips_used().values())
