"""The emitter: deterministic text, data only as literals, hostile names stay inside string constants."""

import ast
from pathlib import Path

import yaml

from labkit.layout.io import load_experiment, parse_experiment
from labkit.plan import build_plan
from labkit.protocol.emit import DOCSTRING, RUNNER, clean, emit

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['x"); import os #', "it's '''\"\"\" \\ done", "__import__('os').system('rm -rf /')",
           "line\nbreak {0} %s", "ümlaut—γ"]
DATA_NAMES = ["metadata", "requirements", "LIQUIDS", "TRASH", "HOT_WASTE", "MODULES", "LABWARE", "PIPETTES", "LOADS", "STEPS",
              "DEFINITIONS"]
FUNCS = ["add_parameters", "_load_labware", "_nozzles", "_stroke", "run"]


def _hostile_kinase():
    data = yaml.safe_load((ROOT / "tests" / "data" / "plan" / "small_kinase.yaml").read_text())
    data["name"] = HOSTILE[0]
    data["description"] = HOSTILE[3]
    data["compounds"][0]["name"] = HOSTILE[2]
    data["compounds"][0]["solvent"] = "DMSO"
    data["targets"][0]["name"] = HOSTILE[1]
    data["targets"][0]["substrate"] = HOSTILE[3]
    data["targets"][1]["name"] = HOSTILE[4]
    data["plates"][0]["id"] = HOSTILE[0]
    data["plates"][0]["targets"] = [HOSTILE[1], HOSTILE[4]]
    return parse_experiment(yaml.safe_dump(data, allow_unicode=True))


def _structure_ok(text: str) -> None:
    tree = ast.parse(text)
    body = tree.body
    assert isinstance(body[0], ast.Expr) and body[0].value.value == ast.literal_eval(DOCSTRING)
    assert isinstance(body[1], ast.ImportFrom) and body[1].module == "opentrons"
    assert [a.name for a in body[1].names] == ["protocol_api"]
    assigns = body[2:2 + len(DATA_NAMES)]
    assert [a.targets[0].id for a in assigns] == DATA_NAMES
    for a in assigns:
        assert isinstance(a, ast.Assign) and len(a.targets) == 1
        ast.literal_eval(a.value)  # pure data, no calls / names
    funcs = body[2 + len(DATA_NAMES):]
    assert [f.name for f in funcs] == FUNCS and all(isinstance(f, ast.FunctionDef) for f in funcs)
    reference = ast.parse(RUNNER).body
    assert [ast.dump(f) for f in funcs] == [ast.dump(f) for f in reference]


def test_hostile_names_are_harmless():
    exp = _hostile_kinase()
    for robot in ("ot2", "flex"):
        text = emit(build_plan(exp, robot, sha256="0" * 64))
        _structure_ok(text)
        tree = ast.parse(text)
        values = {a.targets[0].id: ast.literal_eval(a.value) for a in tree.body if isinstance(a, ast.Assign)}
        assert values["metadata"]["protocolName"] == HOSTILE[0]
        assert any(HOSTILE[2] in name for name in values["LIQUIDS"])
        assert any(lw["label"] == HOSTILE[0] for lw in values["LABWARE"])
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not any(h in names for h in ("os", "__import__", "eval", "exec"))


def test_same_plan_same_bytes():
    exp = load_experiment(ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml")
    a = emit(build_plan(exp, "flex", sha256="abc"))
    b = emit(build_plan(load_experiment(ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml"), "flex", sha256="abc"))
    assert a == b
    _structure_ok(a)


def test_contract_fields():
    exp = load_experiment(ROOT / "layouts" / "viability_km12.yaml")
    tree = ast.parse(emit(build_plan(exp, "flex", sha256="f" * 64)))
    v = {a.targets[0].id: ast.literal_eval(a.value) for a in tree.body if isinstance(a, ast.Assign)}
    assert v["requirements"] == {"robotType": "Flex", "apiLevel": "2.20"}
    assert v["metadata"]["author"] == "labkit" and v["metadata"]["layoutSha256"] == "f" * 64
    for spec in v["LIQUIDS"].values():
        assert set(spec) == {"description", "color", "composition"} and spec["color"].startswith("#")
    assert {ld[0] for ld in v["LOADS"]} <= set(v["LIQUIDS"])
    assert any(k.startswith("cells:") for spec in v["LIQUIDS"].values() for k in spec["composition"])


def test_clean_rounds_and_rejects():
    assert clean({"a": (1.0000000000001, 2)}) == {"a": [1.0, 2]}
    assert repr(clean(-0.0)) == "0.0"
    import math

    import pytest

    with pytest.raises(ValueError):
        clean(math.nan)


def test_nozzle_layouts_only_on_8_channel_steps():
    exp = load_experiment(ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml")
    text = emit(build_plan(exp, "ot2"))
    steps = ast.literal_eval(next(n.value for n in ast.parse(text).body if isinstance(n, ast.Assign)
                                  and n.targets[0].id == "STEPS"))
    noz = {(s["pipette"], s.get("nozzles", 0)) for s in steps if "strokes" in s}
    assert noz >= {("p20_multi_gen2", 0), ("p20_multi_gen2", 2), ("p20_multi_gen2", 6), ("p300_multi_gen2", 4)}
    single = emit(build_plan(exp, "ot2", multichannel=False))
    assert "'nozzles'" not in single
