"""Assay kinds as plug-ins: the registry, the discriminated union on `assay`, a 4th kind added from outside, the
entry-point group, and the rule that no code outside labkit/assays switches on an assay name."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from labkit import assays
from labkit.assays.dilution_plate.kind import DilutionPlate
from labkit.assays.dilution_plate.models import DilutionExperiment
from labkit.errors import LabkitError, LayoutError
from labkit.layout.io import json_schema, parse_experiment

SRC = Path(__file__).resolve().parents[2] / "src" / "labkit"
BUILTIN = ("kinase_radiometric", "cell_viability_ctg", "dilution_plate")


def test_builtin_kinds_and_unknown_names():
    assert assays.kinds()[:3] == list(BUILTIN)
    kinase = assays.get("kinase_radiometric")
    assert kinase.normalization.low_role == "no_enzyme" and kinase.solvent_limit == 0.01
    assert assays.get("cell_viability_ctg").normalization.group_col == "cell_line"
    assert assays.get("dilution_plate").normalization is None
    with pytest.raises(LabkitError, match="unknown assay kind 'elisa'; expected one of kinase_radiometric"):
        assays.get("elisa")


def test_each_layout_validates_into_its_kinds_model():
    for path in sorted((SRC.parents[1] / "layouts").glob("*.yaml")):
        exp = parse_experiment(path.read_text(encoding="utf-8"), str(path))
        assert type(exp) is assays.get(exp.assay).experiment
        assert exp.assay_kind is assays.get(exp.assay)


def test_a_field_of_another_kind_is_an_unknown_field_with_its_path():
    text = (SRC.parents[1] / "layouts" / "viability_km12.yaml").read_text(encoding="utf-8")
    text = text.replace("cell_lines:", "targets: [{name: TRKA}]\ncell_lines:", 1)
    with pytest.raises(LayoutError) as info:
        parse_experiment(text, "v.yaml")
    assert any(p.endswith("targets: unknown field (check the spelling; `labkit layout schema` lists the fields)")
               for p in info.value.problems), info.value.problems


def test_missing_assay_is_named():
    with pytest.raises(LayoutError) as info:
        parse_experiment("name: x\ncompounds: []\nplates: []\n", "m.yaml")
    assert info.value.problems == ["line 1: assay: is required"]  # the file is checked once it names its kind


def test_no_code_outside_the_assay_packages_switches_on_an_assay_name():
    """A comparison with, a dict key of, or a membership test on a built-in kind's name (help texts and examples
    that mention one are fine)."""
    name = "|".join(BUILTIN)
    switch = re.compile(rf"""(==|!=)\s*['"]({name})['"]|['"]({name})['"]\s*(==|!=|:)|"""
                        rf"""\bin\s*[(\[{{][^)\]}}]*['"]({name})['"]|startswith\(\s*['"]({name})""")
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("assays/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if switch.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
    # the switches this replaced are caught
    assert switch.search('if exp.assay == "dilution_plate":')
    assert switch.search('SOLVENT_LIMIT = {"kinase_radiometric": 0.01}')
    assert not switch.search('help="Only runs of this assay (e.g. kinase_radiometric)."')


def test_registration_checks_the_model():
    class Bad(DilutionPlate):
        name = "bad_kind"  # its experiment model still says assay: Literal['dilution_plate']

    with pytest.raises(ValueError, match="must declare assay: Literal"):
        assays.register(Bad())
    with pytest.raises(ValueError, match="already registered"):
        assays.register(DilutionPlate())


class ToyExperiment(DilutionExperiment):
    """A 4th kind made outside labkit: a dilution plate under another name."""

    assay: Literal["toy_plate"]


class ToyPlate(DilutionPlate):
    name = "toy_plate"
    title = "toy plate"
    experiment = ToyExperiment


TOY = """
name: toy
assay: toy_plate
compounds: [{name: dye, stock: 1 mM, solvent: water, dilution: {top: 100 uM, factor: 2, points: 6, replicates: 2}}]
plates: [{id: T1}]
"""


@pytest.fixture
def toy():
    kind = assays.register(ToyPlate())
    yield kind
    assays.unregister("toy_plate")


def test_a_fourth_kind_needs_only_its_package_and_a_registration(toy):
    from labkit.plan import build_plan

    exp = parse_experiment(TOY, "toy.yaml")
    assert type(exp) is ToyExperiment and exp.assay_kind is toy
    plan = build_plan(exp, "ot2")
    assert plan.assay == "toy_plate" and plan.liquid_steps()
    assert "toy_plate" in json_schema()["properties"]["assay"]["enum"]
    with pytest.raises(LayoutError) as info:  # errors keep their field path (no union branch in it)
        parse_experiment(TOY.replace("points: 6", "points: 1"), "toy.yaml")
    assert info.value.problems == ["line 4: compounds[0].dilution.points: must be at least 2"]
    assert toy.recipe(exp) is None  # no recipe module next to this kind


def test_unregistered_kind_is_rejected_with_the_known_ones():
    with pytest.raises(LayoutError) as info:
        parse_experiment(TOY, "toy.yaml")
    assert info.value.problems[0].startswith("line 3: assay: expected one of 'kinase_radiometric'")
    assert "got 'toy_plate'" in info.value.problems[0]


def test_entry_point_group_registers_a_third_party_kind(tmp_path):
    (tmp_path / "thirdparty_kind.py").write_text(textwrap.dedent('''
        from typing import Literal
        from labkit.assays.dilution_plate.kind import DilutionPlate
        from labkit.assays.dilution_plate.models import DilutionExperiment

        class PluginExperiment(DilutionExperiment):
            assay: Literal["plugin_plate"]

        class PluginPlate(DilutionPlate):
            name = "plugin_plate"
            experiment = PluginExperiment
        '''), encoding="utf-8")
    dist = tmp_path / "thirdparty_kind-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-kind\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[labkit.assays]\nplugin_plate = thirdparty_kind:PluginPlate\n",
                                           encoding="utf-8")
    code = ("import labkit.assays as a; from labkit.layout.io import parse_experiment; "
            f"e = parse_experiment({TOY.replace('toy_plate', 'plugin_plate')!r}); "
            "print(a.kinds()[-1], type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": ""}).stdout
    assert out.split() == ["plugin_plate", "PluginExperiment"]
