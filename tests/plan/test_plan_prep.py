"""Hand pre-dilution of a stock to the top solution: every step pipettable (>= 1 µL) and at most 1:100."""

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.plan.prep import describe_predilution, hand_predilution, step_factors

ROOT = Path(__file__).resolve().parents[2]


def test_kinase_top_solution_is_made_in_two_hand_steps():
    """10 mM stock -> 10 µM top: not 0.1 µL into 99.9 µL, but 1:100 then 1:10."""
    exp = load_experiment(ROOT / "layouts" / "kinase_panel.yaml")
    assert exp.scheme(exp.compounds[0]).source[0] == pytest.approx(10e-6)
    for robot in ("ot2", "flex"):
        plan = build_plan(exp, robot)
        want = "1 µL of the 10 mM stock + 99 µL DMSO = 100 uM; then 10 µL of that + 90 µL DMSO = 10 uM"
        top = next(lq for lq in plan.liquids if lq.name.startswith("entrectinib top"))
        assert want in top.description
        assert any(want in note for note in plan.notes)
        text = " ".join([top.description, *plan.notes])
        assert "0.1 µL" not in text and "99.9 µL" not in text


def test_viability_tops():
    km12 = build_plan(load_experiment(ROOT / "layouts" / "viability_km12.yaml"), "ot2")
    assert any("2 µL of the 10 mM stock + 98 µL DMSO = 200 uM" in n and "then" not in n for n in km12.notes)
    aml = build_plan(load_experiment(ROOT / "layouts" / "viability_aml_384.yaml"), "ot2")
    assert any("1 µL of the 10 mM stock + 99 µL DMSO = 100 uM; then 20 µL of that + 80 µL DMSO = 20 uM" in n
               for n in aml.notes)


@pytest.mark.parametrize("ratio,factors", [(1, []), (2, [2]), (50, [50]), (100, [100]), (1000, [100, 10]),
                                           (500, [100, 5]), (10_000, [100, 100]), (150, [50, 3]),
                                           (20_000, [100, 100, 2])])
def test_step_factors(ratio, factors):
    assert step_factors(ratio) == pytest.approx(factors)


def test_stock_as_it_is_and_a_target_above_the_stock():
    assert hand_predilution(1e-3, 1e-3) == []
    assert describe_predilution(1e-3, 1e-3, "water") == "the 1 mM stock as it is"
    with pytest.raises(ValueError):
        step_factors(0.5)


@settings(max_examples=300, deadline=None)
@given(stock_exp=st.floats(-6, -1), ratio_exp=st.floats(0, 8), total=st.sampled_from([20.0, 100.0, 250.0]))
def test_every_step_is_pipettable_and_the_chain_is_exact(stock_exp, ratio_exp, total):
    stock = 10 ** stock_exp
    ratio = 10 ** ratio_exp
    target = stock / ratio
    steps = hand_predilution(stock, target, total)
    if ratio <= 1.001:  # within 0.1 % of the stock: the stock as it is
        assert steps == []
        return
    # as few steps as 1:100 each allows
    assert len(steps) == max(1, math.ceil(math.log(ratio) / math.log(100) - 1e-9))
    conc, made = stock, math.inf
    for s in steps:
        assert s.take_ul >= 1.0 - 1e-9 and s.solvent_ul >= 1.0 - 1e-9   # nothing under 1 µL by hand
        assert s.total_ul / s.take_ul <= 100 * (1 + 1e-9)               # at most 1:100 per step
        assert s.take_ul <= made                                         # drawn from what the last step made
        assert s.conc == pytest.approx(conc * s.take_ul / s.total_ul, rel=1e-9)
        conc, made = s.conc, s.total_ul
    assert conc == pytest.approx(target, rel=1e-9)
    assert steps[-1].conc == target
