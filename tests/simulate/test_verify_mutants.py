"""Mutation tests: delete or alter one step of a generated protocol and verify must FAIL, naming the step and wells.

Each mutant edits the protocol's data tables (STEPS, LIQUIDS) in the source text, runs the real Opentrons analysis
in-process and verifies the ledger against the layout with the assay's recipe and the time model. The unmutated
protocols pass every check; a mutant passes this test when verify reports a failure of the expected check, naming
the step and the wells. Kinase: a one-plate layout of the seed design (ROS1, ALK on KIN-2 at 2 nM), OT-2; CellTiter-Glo: the checked-in
KM12 OT-2 protocol.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest

from labkit.layout.io import load_experiment
from labkit.protocol.cli import generate

ROOT = Path(__file__).resolve().parents[2]
KINASE = ROOT / "tests" / "data" / "kinase" / "kinase_one_plate_2nM.yaml"  # the seed design (2 nM), one plate
VIABILITY = ROOT / "layouts" / "viability_km12.yaml"


def mutate(text: str, name: str, change) -> str:
    """The source with the module-level literal `name` replaced by change(copy of its value)."""
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == name)
    value = change(copy.deepcopy(ast.literal_eval(node.value)))
    lines = text.splitlines(keepends=True)
    return "".join(lines[:node.lineno - 1]) + f"{name} = {value!r}\n" + "".join(lines[node.end_lineno:])


def _index(steps: list, needle: str, op: str = "") -> int:
    hits = [i for i, s in enumerate(steps) if needle in s.get("text", "") and (not op or s["op"] == op)]
    assert hits, f"no step with {needle!r}"
    return hits[0]


def drop_step(needle: str, op: str = ""):
    def change(steps):
        del steps[_index(steps, needle, op)]
        return steps
    return "STEPS", change


def edit_step(needle: str, edit, op: str = ""):
    def change(steps):
        edit(steps[_index(steps, needle, op)])
        return steps
    return "STEPS", change


def edit_steps(needle: str, edit, op: str = ""):
    """Edit every step whose text holds `needle` (a liquid given by stamps of several nozzle counts)."""
    def change(steps):
        _index(steps, needle, op)
        for s in steps:
            if needle in s.get("text", "") and (not op or s["op"] == op):
                edit(s)
        return steps
    return "STEPS", change


def scale_volume(factor: float, first_only: bool = False):
    def edit(step):
        for stroke in step["strokes"][:1] if first_only else step["strokes"]:
            stroke["aspirate_uL"] *= factor
            for d in stroke["dispense"]:
                d[2] *= factor
    return edit


def drop_first_stroke(step):
    del step["strokes"][0]


def shift_destination(step):
    """The first stroke's aliquot lands one column to the right on the read plate."""
    d = step["strokes"][0]["dispense"][0]
    row, col = d[1][0], int(d[1][1:])
    d[1] = f"{row}{col % 12 + 1}"


def liquid(name_part: str, species: str, factor: float):
    def change(liquids):
        for name, spec in liquids.items():
            if name_part in name:
                spec["composition"][species] *= factor
        return liquids
    return "LIQUIDS", change


def source_of(needle: str, target: str):
    """The `target` step draws from the source of the `needle` step (the wrong liquid goes in)."""
    def change(steps):
        src = steps[_index(steps, needle, "distribute")]["strokes"][0]["source"]
        for stroke in steps[_index(steps, target, "distribute")]["strokes"]:
            stroke["source"] = list(src)
        return steps
    return "STEPS", change


def loads_at_start(text: str) -> str:
    """Every reagent the protocol brings at a pause is loaded before the run instead (it stands on the deck)."""
    late = [ld for step in ast.literal_eval(_literal(text, "STEPS")) for ld in step.get("loads", [])]
    text = mutate(text, "STEPS", lambda steps: [{k: v for k, v in s.items() if k != "loads"} for s in steps])
    return mutate(text, "LOADS", lambda loads: loads + late)


def _literal(text: str, name: str) -> str:
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.Assign) and n.targets[0].id == name)
    return ast.get_source_segment(text, node.value)


def no_remix(step):
    for stroke in step["strokes"]:
        stroke.pop("mix_before", None)


def hot_tips_to_trash(steps):
    """Every tip the protocol sends to the radioactive waste goes to the shared trash instead."""
    assert any(st.get("waste") for s in steps for st in s.get("strokes", [])), "no stroke goes to the waste"
    for s in steps:
        for st in s.get("strokes", []):
            st.pop("waste", None)
    return steps


KINASE_MUTANTS = {
    "no stop": (drop_step("stop —"), "stop"),
    "stop 15 µL instead of 25": (edit_step("stop —", scale_volume(0.6)), "stop"),
    # the kinase mixes go in by stamps from a column whose rows hold each kinase row's mix
    "no kinase-mix stamp": (drop_step("kinase mixes, each row its own", op="distribute"), "enzyme"),
    "ROS1 mix at 2× the kinase": (liquid("ROS1 kinase", "enzyme:ROS1", 2.0), "enzyme"),
    "kinase mix into the no-enzyme wells": (source_of("kinase mixes, each row its own", "No-enzyme control"),
                                            "enzyme"),
    "no filter transfer": (drop_step("onto the same wells of the P81"), "read plate"),
    "filter aliquot in the wrong well": (edit_step("onto the same wells of the P81", shift_destination),
                                         "read plate"),
    "one dose missing": (edit_step("compound intermediate", drop_first_stroke), "conc"),
    "no ATP start": (drop_step("start —"), "ATP"),
    "half the ATP in one column": (edit_step("start —", scale_volume(0.5, first_only=True)), "ATP"),
    "reaction 20 min": (edit_step("kinase reaction", lambda s: s.update(minutes=20.0)), "reaction time"),
    "no pre-incubation": (drop_step("pre-incubation", op="delay"), "pre-incubation"),
    "pre-incubation wait 6 min short": (edit_step("pre-incubation of compound", lambda s: s.update(
        minutes=s["minutes"] - 6.0), op="delay"), "pre-incubation"),
    # the runner takes the operator's time at the timed pauses (the hot ATP, tip racks) off the timed wait after
    # them; without that, the pre-incubation depends on the operator
    "timed waits absorb no pause": (("STEPS", lambda steps: [{k: v for k, v in s.items() if k != "absorbs"}
                                                             for s in steps]), "pre-incubation"),
    "reaction wait 4 min long": (edit_step("kinase reaction", lambda s: s.update(minutes=s["minutes"] + 4.0)),
                                 "reaction time"),
    "kinase mixes and hot ATP loaded before the run": (loads_at_start, "hot ATP on deck"),
    "hot tips to the shared trash": (("STEPS", hot_tips_to_trash), "hot tips to radioactive waste"),
    "no radioactive-waste container": (("HOT_WASTE", lambda _hot: None), "hot tips to radioactive waste"),
}

VIABILITY_MUTANTS = {
    "no CellTiter-Glo": (drop_step("CellTiter-Glo (= the medium volume)"), "CellTiter-Glo"),
    "half the CellTiter-Glo": (edit_step("CellTiter-Glo (= the medium volume)", scale_volume(0.5)),
                               "CellTiter-Glo"),
    "no cells seeded": (drop_step("KM12 cells", op="distribute"), "cells"),
    "cells into the blank wells": (source_of("KM12 cells", "blank (no cells)"), "cells"),
    "one dose missing": (edit_step("dose 10 µL", drop_first_stroke), "conc"),
    "seed 80 µL instead of 90": (edit_step("KM12 cells", scale_volume(8 / 9)), "medium volume"),
    "suspension never re-mixed": (edit_steps("KM12 cells", no_remix), "suspension re-mix"),
}


def _verify(text: str, layout: Path, tmp_path: Path, name: str):
    from labkit.simulate import simulate, verify_experiment

    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    sim = simulate(path, in_process=True)
    assert not sim.errors, f"the engine rejected the mutant: {sim.errors[:2]}"
    return verify_experiment(sim.ledger, load_experiment(layout), sim.timeline)


@pytest.fixture(scope="module")
def kinase_text():
    return generate(KINASE, "ot2")


@pytest.fixture(scope="module")
def viability_text():
    return (ROOT / "protocols" / "viability_km12_ot2.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def baselines(kinase_text, viability_text, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("base")
    return {"kinase": _verify(kinase_text, KINASE, tmp, "kinase"),
            "viability": _verify(viability_text, VIABILITY, tmp, "viability")}


def test_unmutated_viability_passes_every_check(baselines):
    rep = baselines["viability"]
    assert rep.ok, rep.summary()
    names = [c.name for c in rep.checks]
    assert {"cells", "medium volume", "CellTiter-Glo", "suspension re-mix"} <= set(names)
    assert all(c.total > 0 and c.passed == c.total for c in rep.checks)


def test_unmutated_kinase_passes_every_check(baselines):
    rep = baselines["kinase"]
    assert rep.ok, rep.summary()
    by_name = {c.name: c for c in rep.checks}
    assert by_name["compound"].ok and by_name["compound"].total == 40  # sample wells; vehicle / no-enzyme: none
    for name in ("enzyme", "substrate", "ATP", "[γ-33P]ATP", "stop", "read plate"):
        assert by_name[name].ok and by_name[name].total == 48, by_name[name].line()
    assert 38.0 <= by_name["reaction time"].low <= by_name["reaction time"].high <= 42.0
    # a well per kinase row of the kinase-mix column (ROS1 rows A–B, ALK rows C–D, …)
    assert by_name["hot ATP on deck"].total > 0 and by_name["kinase mix on deck"].total >= 2
    # every tip that met hot ATP (start, stop + filter transfer, total counts) into the radioactive waste
    assert by_name["hot tips to radioactive waste"].ok and by_name["hot tips to radioactive waste"].total >= 48


def _assert_caught(rep, base, check: str) -> None:
    assert base.ok and not rep.ok
    hits = [f for f in rep.failures if f.check == check]
    assert hits, f"expected a [{check}] failure; got:\n" + "\n".join(str(f) for f in rep.failures[:10])
    assert all(f.well and ": " in f.message for f in hits), [str(f) for f in hits]  # names wells and the step


@pytest.mark.parametrize("mutant", list(KINASE_MUTANTS))
def test_kinase_mutant_fails(mutant, kinase_text, baselines, tmp_path):
    change, check = KINASE_MUTANTS[mutant]
    text = change(kinase_text) if callable(change) else mutate(kinase_text, *change)
    rep = _verify(text, KINASE, tmp_path, "mutant")
    _assert_caught(rep, baselines["kinase"], check)


@pytest.mark.parametrize("mutant", list(VIABILITY_MUTANTS))
def test_viability_mutant_fails(mutant, viability_text, baselines, tmp_path):
    (name, change), check = VIABILITY_MUTANTS[mutant]
    rep = _verify(mutate(viability_text, name, change), VIABILITY, tmp_path, "mutant")
    _assert_caught(rep, baselines["viability"], check)
