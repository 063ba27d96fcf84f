"""Runs with more plates than a deck holds (labkit.plan.batches): they plan, emit, run in the real Opentrons
analysis and verify on both robots.

The normal suite runs one multi-batch run per assay per robot end to end (kinase: 3 plates in 2 batches, viability
9 plates, dilution: 12, each in 2 batches) and plans 16-plate runs of every assay without simulating them; the 8- and
16-plate runs end to end are long (minutes) and run with LABKIT_LONG set (`make test-long`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labkit.layout.io import load_experiment
from labkit.layout.repeat import write_repeated
from labkit.labware.specs import LABWARE, PIPETTES
from labkit.plan import build_plan
from labkit.plan.batches import balanced
from labkit.plan.steps import LoadLabware, MoveLabware, Pause

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("kinase_panel", "viability_km12", "dilution_tutorial")
LONG = bool(os.environ.get("LABKIT_LONG"))


def _layout(tmp_path, seed: str, n: int) -> Path:
    # kinase: the seed design before issue 10 (the shipped panel's two 10-point compounds are dosed well by well)
    src = (ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml" if seed == "kinase_panel"
           else ROOT / "layouts" / f"{seed}.yaml")
    return write_repeated(src, n, tmp_path / f"{seed}_{n}.yaml")


def _batches(plan) -> int:
    """Batches of a plan: its first step says 'Batch 1 of N'; 1 when it runs in one go."""
    import re

    m = re.match(r"Batch 1 of (\d+):", getattr(plan.steps[0], "text", ""))
    n = int(m.group(1)) if m else 1
    assert n == 1 + sum(1 for s in plan.steps if isinstance(s, Pause) and re.match(r"Batch \d+ of \d+: plates", s.text))
    return n


def _run_and_verify(tmp_path, verified, seed: str, n: int, robot: str):
    exp = load_experiment(_layout(tmp_path, seed, n))
    plan = build_plan(exp, robot)
    sim, _report = verified(plan, exp, f"{seed}_{n}_{robot}")
    # every plate of the layout is on the read plate / checked, not just the first batch's
    assert {p.id for p in exp.plates} <= {lab for lab, _w in sim.ledger.wells}
    return plan, sim


def test_balanced_batches():
    assert balanced(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert balanced(list(range(9)), 8) == [[0, 1, 2, 3, 4], [5, 6, 7, 8]]
    assert balanced(list(range(3)), 3) == [[0, 1, 2]]


@pytest.mark.parametrize("robot", ["ot2", "flex"])
@pytest.mark.parametrize("seed", SEEDS)
def test_sixteen_plates_plan_in_batches(tmp_path, seed, robot):
    """16 plates of every assay plan without a warning: batches, each stroke within its pipette's range, every
    reagent well within its capacity (check_plan), and the labware of later batches loaded only after the deck
    was cleared."""
    plan = build_plan(load_experiment(_layout(tmp_path, seed, 16)), robot)
    assert not plan.warnings
    assert _batches(plan) >= 2
    labels = {u.label for u in plan.labware}
    assert all(f"{p}" in labels for p in ("KIN-1-8", "KIN-2-8")) if seed == "kinase_panel" else True
    lw = plan.labware_by_key()
    where = {u.key: u.slot or u.module for u in plan.labware if u.initial}
    for step in plan.steps:
        if isinstance(step, MoveLabware):
            where[step.labware] = step.to
        elif isinstance(step, LoadLabware):
            slot = lw[step.key].slot
            if slot:
                holders = [k for k, s in where.items() if s == slot]
                assert not holders, f"{step.key} loaded into slot {slot} still holding {holders}"
            where[step.key] = slot or lw[step.key].module
    pause = next(s for s in plan.steps if isinstance(s, Pause) and s.text.startswith("Batch 2 of"))
    assert "slot" in pause.text and pause.loads


def test_transfer_above_the_pipette_maximum_is_split(tmp_path):
    """3 AML 384-well plates on the OT-2 with single-channel pipettes (the well-per-dose intermediate plate: the
    mirrored plate of the 8-channel plan spreads the medium over a column) need 304 µL of medium per intermediate
    well: above the p300's maximum, so it goes in two strokes of 152 µL (it used to be refused as outside every
    pipette's range)."""
    plan = build_plan(load_experiment(_layout(tmp_path, "viability_aml_384", 3)), "ot2", multichannel=False)
    pips = {p.key: PIPETTES[p.name] for p in plan.pipettes}
    for step in plan.liquid_steps():
        for st in step.strokes:
            assert st.volume <= pips[step.pipette].max_ul + 1e-9
    from collections import Counter

    medium = [s for s in plan.liquid_steps() if "304 µL into the intermediate wells" in s.text]
    assert medium
    per_well = Counter()
    for s in medium:
        for st in s.strokes:
            for d in st.dispenses:
                per_well[d.loc] += d.volume
    assert set(per_well.values()) == {304.0}


def test_reagent_spread_over_reservoir_wells(tmp_path):
    """4 dilution plates need ~44 mL of diluent: more than one 15 mL reservoir well, so it is spread over several,
    each loaded within capacity (it used to need 43 mL in one well)."""
    plan = build_plan(load_experiment(_layout(tmp_path, "dilution_tutorial", 4)), "ot2")
    diluent = [ld for ld in plan.loads if ld.liquid.startswith("Diluent")]
    assert len(diluent) >= 3
    for ld in plan.loads:
        assert ld.volume <= LABWARE[plan.labware_by_key()[ld.loc.labware].load_name].capacity_ul
    assert sum(ld.volume for ld in diluent) > 40000


def test_seed_sized_runs_are_one_batch(tmp_path):
    """A run whose plates fit one deck is planned as before: no batch pause, no warning."""
    plan = build_plan(load_experiment(ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml"), "ot2")
    assert _batches(plan) == 1 and not plan.warnings


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_three_kinase_plates_keep_the_8_channel(tmp_path, verified, robot):
    """3 kinase plates used to fall back to single-channel pipettes (no deck arrangement for 11 labware): now two
    batches with the 8-channels, verified end to end."""
    plan, sim = _run_and_verify(tmp_path, verified, "kinase_panel", 3, robot)
    # the OT-2's reaction plates wait off the deck (moved onto the module by hand): three fit one deck now
    assert _batches(plan) == (1 if robot == "ot2" else 2) and not plan.warnings
    assert any(PIPETTES[p.name].channels == 8 for p in plan.pipettes)


@pytest.mark.parametrize("robot", ["ot2", "flex"])
@pytest.mark.parametrize("seed,n", [("viability_km12", 9), ("dilution_tutorial", 12)])
def test_runs_in_batches_verify(tmp_path, verified, seed, n, robot):
    """More plates than one deck holds (12 dilution plates: the OT-2 takes 9 beside the reservoir and a tip rack)."""
    plan, _sim = _run_and_verify(tmp_path, verified, seed, n, robot)
    assert _batches(plan) >= 2


@pytest.mark.skipif(not LONG, reason="long: 8- and 16-plate runs end to end (make test-long)")
@pytest.mark.parametrize("robot", ["ot2", "flex"])
@pytest.mark.parametrize("n", [8, 16])
@pytest.mark.parametrize("seed", SEEDS + ("viability_aml_384",))
def test_many_plates_verify(tmp_path, verified, seed, n, robot):
    plan, _sim = _run_and_verify(tmp_path, verified, seed, n, robot)
    assert not plan.warnings


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_viability_batches_wait_together(tmp_path, robot):
    """Viability plates in batches: every plate is seeded before the overnight wait and dosed before the 72 h wait,
    and each wait is one pause for the whole run (not one per batch, days apart)."""
    from labkit.plan.steps import Distribute, Transfer

    exp = load_experiment(_layout(tmp_path, "viability_km12", 9))
    plan = build_plan(exp, robot)
    assert _batches(plan) >= 2
    waits = [i for i, s in enumerate(plan.steps) if isinstance(s, Pause) and s.phase]
    assert len(waits) == 2  # overnight attachment, 72 h incubation
    seeded = {d.loc.labware for i, s in enumerate(plan.steps) if isinstance(s, Distribute) and "seed" in s.text
              and i < waits[0] for st in s.strokes for d in st.dispenses}
    dosed = {d.loc.labware for i, s in enumerate(plan.steps) if isinstance(s, Transfer) and "dose" in s.text
             and waits[0] < i < waits[1] for st in s.strokes for d in st.dispenses}
    plates = {u.key for u in plan.labware if u.label in {p.id for p in exp.plates}}
    t0 = {u.key for u in plan.labware if exp.time_zero is not None and u.label == exp.time_zero.plate}
    assert len(t0) == 1  # one time-zero plate for the run (the first batch's), seeded with the others
    assert seeded == plates | t0 and dosed == plates


def test_a_batch_change_is_one_stop(tmp_path):
    """Between kinase batches the used labware leaves its slot without a manual-move prompt each: the one pause
    names what comes off and what goes where."""
    plan = build_plan(load_experiment(_layout(tmp_path, "kinase_panel", 4)), "flex")
    i = next(i for i, s in enumerate(plan.steps) if isinstance(s, Pause) and s.text.startswith("Batch 2 of 2"))
    j = max(k for k in range(i) if isinstance(plan.steps[k], Pause) and not plan.steps[k].text.startswith("Batch"))
    between = plan.steps[j + 1:i]
    removed = [s for s in between if isinstance(s, MoveLabware)]
    assert removed and all(s.to == "offdeck" and not s.pause for s in removed)
    assert "Take the used labware off the deck" in plan.steps[i].text and "slot" in plan.steps[i].text


def test_flex_batch_change_parks_labware_in_staging_slots(tmp_path, verified, monkeypatch):
    """On a Flex the gripper parks the leaving batch's tip racks, reservoirs and non-assay plates in the staging-area
    slots and brings them back to the same places when the batch returns: fewer manual moves than the same run
    without staging slots, never an assay plate parked, and the run still verifies end to end."""
    from dataclasses import replace

    from labkit.labware.specs import ROBOTS

    exp = load_experiment(_layout(tmp_path, "viability_km12", 4))
    plan = build_plan(exp, "flex")
    staging = set(ROBOTS["flex"].staging)
    lw = plan.labware_by_key()
    where = {u.key: u.slot or u.module for u in plan.labware if u.initial}
    parked_from: dict[str, str] = {}
    aside: dict[str, str] = {}
    returned = 0
    for step in plan.steps:
        if isinstance(step, LoadLabware):
            where[step.key] = lw[step.key].slot or lw[step.key].module
        if not isinstance(step, MoveLabware):
            continue
        if step.to in staging:
            assert step.gripper and not step.labware.startswith("plate_"), step
            parked_from[step.labware] = aside.pop(step.labware, where[step.labware])
        elif where.get(step.labware) in staging:
            assert step.gripper and step.to == parked_from[step.labware]  # back to where it stood
            returned += 1
        elif step.gripper and where.get(step.labware) in ROBOTS["flex"].slots and step.to in ROBOTS["flex"].slots:
            aside[step.labware] = where[step.labware]  # stepped aside while the staging slots empty
        where[step.labware] = step.to
    assert parked_from and returned
    assert any("staging slot" in s.text for s in plan.steps if isinstance(s, Pause))

    def manual(p) -> int:
        return sum(1 for s in p.steps if isinstance(s, MoveLabware) and not s.gripper and s.pause)

    monkeypatch.setitem(ROBOTS, "flex", replace(ROBOTS["flex"], staging=()))
    without = build_plan(exp, "flex")
    assert manual(plan) < manual(without)
    monkeypatch.undo()
    _run_and_verify(tmp_path, verified, "viability_km12", 4, "flex")
