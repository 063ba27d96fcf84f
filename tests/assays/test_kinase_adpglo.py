"""The ADP-Glo kinase assay, added as a plug-in package (labkit.assays.kinase_adpglo) with one registration line:
its layout, deterministic OT-2 / Flex protocols that simulate and verify, mutants that fail verification, a virtual
reader whose readout analyzes back to the true IC50s, and nothing outside its package that names it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "simulate"))  # the mutation helpers
from test_verify_mutants import drop_step, edit_step, mutate, scale_volume, source_of

from labkit import assays
from labkit.errors import LayoutError
from labkit.layout.io import load_experiment, parse_experiment
from labkit.protocol.cli import generate, protocol_path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "layouts" / "kinase_adpglo_panel.yaml"
ROBOTS = ("ot2", "flex")


@pytest.fixture(scope="module")
def exp():
    return load_experiment(LAYOUT)


def test_layout_loads_into_the_kinds_model(exp):
    from labkit.assays.kinase_adpglo.models import AdpGloExperiment

    kind = assays.get("kinase_adpglo")
    assert type(exp) is AdpGloExperiment and exp.assay_kind is kind
    assert [t.name for t in exp.targets] == ["TRKA", "TRKB", "TRKC", "ROS1", "ALK"]
    v = exp.volumes
    assert (v.well, v.adp_glo, v.detection) == (5.0, 5.0, 10.0)  # TM313's 384-well volumes, 1:1:2
    assert exp.scheme("entrectinib").solvent_fraction == pytest.approx(0.01)
    table = exp.wells_table()
    assert (table.role == "sample").sum() == 100
    assert ((table.role == "vehicle").sum(), (table.role == "positive").sum()) == (20, 20)
    assert kind.normalization.low_role == "positive" and kind.normalization.group_col == "target"


def test_bad_adpglo_fields_are_named():
    text = LAYOUT.read_text(encoding="utf-8")
    bad = text.replace("{name: TRKA, enzyme: 0.5 nM, substrate: poly(Glu4-Tyr), atp: 10 uM}",
                       "{name: TRKA, enzyme: 0.5 nM, substrate: poly(Glu4-Tyr), atp: 2 mM}")
    bad = bad.replace("detection_max_min: 60", "detection_max_min: 20")
    with pytest.raises(LayoutError) as info:
        parse_experiment(bad, "adpglo.yaml")
    problems = "\n".join(info.value.problems)
    assert "targets[0].atp: 2000 µM ATP: the ADP-Glo Reagent depletes at most 1 mM ATP" in problems, problems
    assert "conditions.detection_max_min: 20 min is shorter than conditions.detection_min (30 min)" in problems
    with pytest.raises(LayoutError) as info:  # the reagent volumes follow from the reaction: not layout fields
        parse_experiment(text.replace("atp_mix: 2 uL,", "atp_mix: 2 uL, detection: 5 uL,"), "adpglo.yaml")
    assert any("volumes.detection: unknown field" in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("robot", ROBOTS)
def test_protocols_are_deterministic_and_checked_in(robot):
    text = generate(LAYOUT, robot)
    assert text == generate(LAYOUT, robot)
    assert text == protocol_path(LAYOUT, robot, ROOT / "protocols").read_text(encoding="utf-8")
    assert "ADP-Glo Reagent" in text and "Kinase Detection Reagent" in text


@pytest.fixture(scope="module")
def sims():
    from labkit.simulate import simulate

    return {r: simulate(protocol_path(LAYOUT, r, ROOT / "protocols"), in_process=True) for r in ROBOTS}


@pytest.mark.parametrize("robot", ROBOTS)
def test_simulate_and_verify_pass(sims, exp, robot):
    from labkit.simulate import verify_experiment

    sim = sims[robot]
    assert sim.ok and not sim.errors
    rep = verify_experiment(sim.ledger, exp, sim.timeline)
    assert rep.ok, rep.summary()
    by = {c.name: c for c in rep.checks}
    for name in ("enzyme", "substrate", "ATP", "reaction volume", "ADP-Glo Reagent", "Kinase Detection Reagent",
                 "reaction time", "ATP depletion", "detection"):
        assert by[name].ok and by[name].total == 140, by[name].line()
    assert 57.0 <= by["reaction time"].low <= by["reaction time"].high <= 63.0
    assert by["ATP depletion"].low >= 40.0
    assert 30.0 <= by["detection"].low <= by["detection"].high <= 60.0
    assert by["kinase mix on deck"].total == 5


def test_two_96_well_plates_at_tm313_96_well_volumes_verify(tmp_path):
    """TM313's 96-well volumes (25 µL reaction, 25 µL ADP-Glo Reagent, 50 µL Kinase Detection Reagent) on two
    plates: each plate is read at its own pause, and the ADP-Glo Reagent keeps the start's pace."""
    from labkit.simulate import simulate, verify_experiment

    text = LAYOUT.read_text(encoding="utf-8")
    text = text.replace("volumes: {compound: 1 uL, enzyme_mix: 2 uL, atp_mix: 2 uL, intermediate_solvent: 2 uL, "
                        "intermediate_diluent: 38 uL}", "volumes: {compound: 5 uL, enzyme_mix: 10 uL, atp_mix: 10 uL}")
    text = text.replace("  - {id: ADPGLO-1, format: 384, edges: empty, targets: [TRKA, TRKB, TRKC, ROS1, ALK]}",
                        "  - {id: A96-1, format: 96, targets: [TRKA, TRKB, TRKC]}\n"
                        "  - {id: A96-2, format: 96, targets: [ROS1, ALK]}")
    layout = tmp_path / "two96.yaml"
    layout.write_text(text, encoding="utf-8")
    e = load_experiment(layout)
    assert (e.volumes.adp_glo, e.volumes.detection, len(e.plates)) == (25.0, 50.0, 2)
    path = tmp_path / "two96_flex.py"
    path.write_text(generate(layout, "flex"), encoding="utf-8")
    sim = simulate(path, in_process=True)
    rep = verify_experiment(sim.ledger, e, sim.timeline)
    assert rep.ok, rep.summary()
    by = {c.name: c for c in rep.checks}
    assert 57.0 <= by["reaction time"].low <= by["reaction time"].high <= 63.0
    assert 30.0 <= by["detection"].low <= by["detection"].high <= 60.0 and by["detection"].total == 140


def _verify(text: str, exp, tmp_path: Path):
    from labkit.simulate import simulate, verify_experiment

    path = tmp_path / "mutant.py"
    path.write_text(text, encoding="utf-8")
    sim = simulate(path, in_process=True)
    assert not sim.errors, f"the engine rejected the mutant: {sim.errors[:2]}"
    return verify_experiment(sim.ledger, exp, sim.timeline)


MUTANTS = {
    "no Kinase Detection Reagent": (drop_step("Kinase Detection Reagent (= 2×"), "Kinase Detection Reagent"),
    "Kinase Detection Reagent at 1× instead of 2×": (
        edit_step("Kinase Detection Reagent (= 2×", scale_volume(0.5)), "Kinase Detection Reagent"),
    "no ADP-Glo Reagent": (drop_step("ADP-Glo Reagent (= the reaction"), "ADP-Glo Reagent"),
    "ATP depletion 20 min": (edit_step("ATP depletion", lambda s: s.update(minutes=20.0)), "ATP depletion"),
    "read 90 min after the detection reagent": (
        edit_step("luminescence develops", lambda s: s.update(minutes=90.0)), "detection"),
    "no read pause after the detection reagent": (drop_step("read luminescence", op="pause"), "detection"),
    "kinase mix into the no-enzyme wells": (source_of("TRKA kinase + poly(Glu4-Tyr) mix", "No-enzyme control"),
                                            "enzyme"),
}


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_mutant_fails_naming_the_check_and_wells(mutant, exp, tmp_path):
    change, check = MUTANTS[mutant]
    text = protocol_path(LAYOUT, "flex", ROOT / "protocols").read_text(encoding="utf-8")
    rep = _verify(mutate(text, *change), exp, tmp_path)
    assert not rep.ok
    hits = [f for f in rep.failures if f.check == check]
    assert hits, f"expected a [{check}] failure; got:\n" + "\n".join(str(f) for f in rep.failures[:10])
    assert all(f.well and ": " in f.message for f in hits), [str(f) for f in hits]


def test_virtual_readout_analyzes_back_to_the_true_ic50s(sims, exp, tmp_path):
    """The ADP-Glo reader (Morrison at the layout's kinase concentration, RLU, noise) on the Flex ledger, written as
    an EnVision CSV, imported and analyzed: every IC50 within 2-fold of the truth, Z' > 0.5, over three seeds."""
    from labkit.demo import readout_and_analyze, truth_table

    folds = []
    for seed in (0, 1, 2):
        analysis, _ = readout_and_analyze(sims["flex"], exp, LAYOUT, tmp_path, seed=seed, echo=lambda s: None,
                                          write_reports=False)
        t = truth_table(analysis, exp.assay)
        assert sorted(t.group) == ["ALK", "ROS1", "TRKA", "TRKB", "TRKC"]
        assert (t.z_prime > 0.5).all(), t.to_string()
        folds += t.fold_error.tolist()
    assert max(folds) < 2.0, folds
    csv = (tmp_path / "readouts" / "kinase_adpglo_panel.csv").read_text(encoding="utf-8")
    assert "Results for US LUM 384" in csv


def _final(enzyme_nm: float) -> tuple[pd.DataFrame, object]:
    text = LAYOUT.read_text(encoding="utf-8").replace("{name: TRKB, enzyme: 0.05 nM", f"{{name: TRKB, enzyme: "
                                                                                    f"{enzyme_nm} nM")
    e = parse_experiment(text, "adpglo.yaml")
    rows = [("P", f"W{i}", "TRKB", c, True, True) for i, c in enumerate(np.repeat(np.logspace(-12, -7, 26), 4))]
    rows += [("P", "B1", "TRKB", 0.0, False, True), ("P", "E1", "", 0.0, False, False)]
    return pd.DataFrame(rows, columns=["plate", "well", "group", "conc_M", "active", "filled"]), e


def test_reader_models_tight_binding_at_the_layouts_kinase_concentration():
    """With 50 pM kinase the 0.1 nM TRKB IC50 is measurable; with 2 nM kinase no IC50 below [E]/2 = 1 nM is."""
    from labkit.analysis.fit import fit_table

    def ic50(enzyme_nm: float) -> float:
        final, e = _final(enzyme_nm)
        values = e.assay_kind.virtual_readout(final, e, seed=4)
        top, bottom = values.value.iloc[:4].mean(), values.value.iloc[-2]
        data = pd.DataFrame({"curve": "TRKB", "conc_M": final.conc_M.iloc[:-2],
                             "response": 100 * (values.value.iloc[:-2] - bottom) / (top - bottom)})
        return float(fit_table(data, curve="curve", conc="conc_M", response="response", model="ll4").ic50.iloc[0])

    assert 0.07e-9 < ic50(0.05) < 0.14e-9
    assert ic50(2.0) > 0.8e-9
    final, e = _final(0.05)
    values = e.assay_kind.virtual_readout(final, e, seed=4)
    assert 1000 < values.value.iloc[-2] < 6000 and values.value.iloc[-1] < 200  # no-enzyme background, empty well
    assert 90000 < values.value.iloc[:4].mean() < 150000  # vehicle-like lowest dose: ~10 % of 10 µM ATP as ADP


def test_nothing_outside_its_package_names_the_adpglo_kind():
    """Outside src/labkit/assays/kinase_adpglo the kind is named only by its registration line (BUILTINS), docs,
    tests, layouts (and their packaged copies) and protocols."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    allowed_dirs = ("src/labkit/assays/kinase_adpglo/", "docs/", "tests/", "layouts/", "protocols/")
    offenders = []
    for rel in files:
        path = ROOT / rel
        if rel.startswith(allowed_dirs) or rel in ("README.md", "src/labkit/examples/kinase_adpglo_panel.yaml"):
            continue
        if not path.is_file() or path.suffix in (".png", ".sqlite", ".xlsx"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for line in text.splitlines():
            if re.search("adp.?glo", line, re.IGNORECASE):
                offenders.append((rel, line.strip()))
    assert offenders == [("src/labkit/assays/__init__.py",
                          '"kinase_adpglo": "labkit.assays.kinase_adpglo.kind:KIND",')]


def test_demo_row_comes_from_the_kind():
    """`labkit demo` runs the built-in seed layouts in their order, then the layouts a kind names (demo_layouts)."""
    from labkit.demo import SEED_LAYOUTS, layouts_dir, seed_layouts

    # the viability kind's kill-control layout comes first (kinds in registry order)
    assert seed_layouts() == SEED_LAYOUTS + ("viability_km12_kill.yaml", "kinase_adpglo_panel.yaml")
    assert (layouts_dir() / "kinase_adpglo_panel.yaml").is_file()
