"""`labkit simulate`: text and JSON reports, exit codes, --layout wiring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main

DATA = Path(__file__).parents[1] / "data" / "simulate"
ROOT = Path(__file__).parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["simulate", *args])
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_text_report(capsys):
    code, out, _ = run_cli(capsys, str(DATA / "ot2_dilution.py"), "--in-process")
    assert code == 0
    assert "Opentrons analysis PASS (OT-2, apiLevel 2.20, 58 commands)" in out
    assert "tips used: 10   aspirates: 17   dispenses: 17   mix cycles: 9" in out
    assert "estimated deck time: 2 min 22 s (1 min 52 s without delays)" in out
    assert "  - Seal the plate" in out
    assert any(line.split()[:4] == ["P1", "A4", "200.0", "final"] and "X=1.25e-06 M" in line
               for line in out.splitlines())
    assert out.rstrip().endswith("result: PASS")


def test_json_report(capsys):
    code, out, _ = run_cli(capsys, str(DATA / "flex_kinase_mini.py"), "--json", "--in-process")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True and doc["analysis"]["robot"] == "Flex" and doc["analysis"]["api_level"] == "2.22"
    assert doc["cost"]["tips_used"] == 185 and doc["ledger"]["tips"]["hot"] == 40
    a1 = next(w for w in doc["ledger"]["wells"] if w["labware"] == "KIN-T" and w["well"] == "A1")
    assert a1["assay_composition"]["compound:X"] == pytest.approx(1e-6)
    assert a1["volume_uL"] == pytest.approx(35.0)
    assert doc["verify"] is None


def test_failures_exit_1(capsys):
    code, out, _ = run_cli(capsys, str(DATA / "ot2_faults.py"), "--in-process", "--no-wells")
    assert code == 1
    assert "overflow: P1 B1: 450 µL exceeds the well's 360 µL" in out
    assert "per-well ledger" not in out and out.rstrip().endswith("result: FAIL")


def test_bad_input_exit_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, str(tmp_path / "missing.py"))
    assert code == 2 and "no such protocol file" in err
    bad = tmp_path / "bad.py"
    bad.write_text("LIQUIDS = {\n")
    code, _, err = run_cli(capsys, str(bad), "--in-process")
    assert code == 2 and "not valid Python" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, str(DATA / "ot2_dilution.py"), "--param", "nonsense")
    assert code == 2 and "NAME=VALUE" in err


def test_layout_is_verified(capsys):
    layout = ROOT / "layouts" / "kinase_panel.yaml"
    if not layout.exists():
        pytest.skip("no seed layout in this checkout")
    code, out, _ = run_cli(capsys, str(DATA / "flex_kinase_mini.py"), "--layout", str(layout), "--in-process",
                           "--no-wells")
    assert code == 1  # the mini protocol does not make the seed plates
    assert "[missing-plate] KIN-1" in out and "verify: FAIL" in out


def test_real_command_line_with_subprocess_analysis():
    exe = Path(sys.executable).with_name("labkit")
    proc = subprocess.run([str(exe), "simulate", str(DATA / "ot2_dilution.py"), "--json"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["cost"]["aspirates"] == 17 and doc["ok"] is True


@pytest.mark.parametrize("content", [bytes(range(256)), b"x = 1\x00\n"])
def test_binary_file_is_bad_input_not_a_crash(tmp_path, capsys, content):
    bad = tmp_path / "protocol.py"
    bad.write_bytes(content)
    code, _out, err = run_cli(capsys, "simulate", str(bad))
    assert code == 2
    assert str(bad) in err and "Traceback" not in err


def test_recipe_checks_with_counts_in_text_and_json(capsys):
    """The CellTiter-Glo recipe: every check with its count in the text, the same in --json, and what was not
    checked."""
    protocol, layout = ROOT / "protocols" / "viability_km12_flex.py", ROOT / "layouts" / "viability_km12.yaml"
    code, out, _ = run_cli(capsys, str(protocol), "--layout", str(layout), "--no-wells", "--in-process")
    assert code == 0, out
    for line in ("ok   cells 48/48 wells", "ok   medium volume 42/42 wells", "ok   CellTiter-Glo 42/42 wells",
                 "ok   compound 30/30 wells"):
        assert line in out
    assert "not checked: the incubations" in out
    code, out, _ = run_cli(capsys, str(protocol), "--layout", str(layout), "--json", "--in-process")
    checks = {c["name"]: c for c in json.loads(out)["verify"]["checks"]}
    assert (checks["cells"]["passed"], checks["cells"]["total"]) == (48, 48)  # 42 assay + 6 time-zero wells
    assert checks["suspension re-mix"]["high"] <= 5.0 and checks["suspension re-mix"]["measure"] == "min"
    assert json.loads(out)["verify"]["not_checked"]


def test_planner_warning_reaches_the_protocol_and_the_simulate_output(tmp_path, capsys):
    """No silent fallback: a plan's warning is a comment in the protocol, and `labkit simulate` prints it."""
    from labkit.layout.io import load_experiment
    from labkit.plan import build_plan
    from labkit.plan.describe import describe
    from labkit.protocol.emit import emit

    plan = build_plan(load_experiment(ROOT / "layouts" / "dilution_tutorial.yaml"), "flex")
    plan.warnings.append("8-channel not used (no deck): every well is worked one at a time, 96 tip pick-ups "
                         "instead of 12")
    assert "PLANNER WARNING: 8-channel not used" in describe(plan)
    path = tmp_path / "p.py"
    path.write_text(emit(plan), encoding="utf-8")
    code, out, _ = run_cli(capsys, str(path), "--no-wells", "--in-process")
    assert code == 0
    assert "PLANNER WARNING (the protocol does less than it could): 8-channel not used" in out
    code, out, _ = run_cli(capsys, str(path), "--json", "--in-process")
    assert json.loads(out)["planner_warnings"] == ["Planner warning: " + plan.warnings[0]]
