"""labkit.simulate.opentrons_run: the real Opentrons analysis (CLI subprocess and in-process) and simulate runlog."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from labkit.errors import SimulationError
from labkit.simulate.opentrons_run import analyze_protocol, check_analysis, engine_errors, simulate_protocol

DATA = Path(__file__).parents[1] / "data" / "simulate"
OT2 = DATA / "ot2_dilution.py"
FLEX = DATA / "flex_kinase_mini.py"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# a Flex protocol the engine rejects at a command: the pipette may not enter a heater-shaker with an open latch
HS_LATCH_OPEN = '''
from opentrons import protocol_api
requirements = {"robotType": "Flex", "apiLevel": "2.22"}

def run(ctx):
    ctx.load_trash_bin("A3")
    tips = ctx.load_labware("opentrons_flex_96_tiprack_50ul", "B2")
    hs = ctx.load_module("heaterShakerModuleV1", "D3")
    adapter = hs.load_adapter("opentrons_96_flat_bottom_adapter")
    plate = adapter.load_labware("nest_96_wellplate_200ul_flat")
    p50 = ctx.load_instrument("flex_1channel_50", "right", tip_racks=[tips])
    p50.pick_up_tip()
    p50.aspirate(10, plate["A1"])
'''


def _normalised(analysis: dict) -> str:
    cmds = [(c["commandType"], c["params"], c.get("result")) for c in analysis["commands"]]
    return _UUID.sub("ID", json.dumps(cmds, sort_keys=True))


def test_cli_analysis_of_ot2_protocol_matches_in_process():
    sub = analyze_protocol(OT2)  # python -m opentrons.cli analyze --json-output F --check OT2
    assert sub["result"] == "ok" and sub["errors"] == []
    assert sub["robotType"] == "OT-2 Standard" and sub["config"]["apiVersion"] == [2, 20]
    assert [lq["displayName"] for lq in sub["liquids"]] == ["Compound X 10 uM", "Buffer 1% DMSO", "Enzyme mix"]
    loads = [c for c in sub["commands"] if c["commandType"] == "loadLiquid"]
    assert [list(c["params"]["volumeByWell"].items()) for c in loads] == [[("A1", 200.0)], [("A1", 10000.0)],
                                                                           [("A3", 1000.0)]]
    assert _normalised(analyze_protocol(OT2, in_process=True)) == _normalised(sub)


def test_cli_analysis_of_flex_protocol():
    a = analyze_protocol(FLEX)
    assert a["result"] == "ok"
    assert a["robotType"] == "OT-3 Standard" and a["config"]["apiVersion"] == [2, 22]
    labels = {lw.get("displayName") for lw in a["labware"]}
    assert {"KIN-T", "SRC", "INT", "Reagents"} <= labels
    nozzle = [c for c in a["commands"] if c["commandType"] == "configureNozzleLayout"]
    assert nozzle[0]["params"]["configurationParams"] == {"style": "SINGLE", "primaryNozzle": "H1"}


def test_simulate_runlog():
    log = simulate_protocol(OT2)
    assert "Aspirating 100.0 uL from A1 of P1 on slot 2 at 92.86 uL/sec" in [ln.strip() for ln in log]
    assert sum("Mixing 3 times with a volume of 50.0 ul" in ln for ln in log) == 3
    assert sum(ln.strip().startswith("Picking up tip") for ln in log) == 3
    flex = simulate_protocol(FLEX)
    assert sum(ln.strip().startswith("Picking up tip") for ln in flex) == 24


def test_engine_error_names_line_and_command(tmp_path):
    p = tmp_path / "latch.py"
    p.write_text(HS_LATCH_OPEN)
    a = analyze_protocol(p, check=False, in_process=True)
    errs = engine_errors(a)
    assert len(errs) == 1
    e = errs[0]
    assert e.line == 13
    assert "latch" in e.message.lower()
    assert a["commands"][e.command_index]["commandType"] == "aspirate" and e.command_type == "aspirate"
    with pytest.raises(SimulationError) as info:
        check_analysis(a, p)
    assert info.value.line == 13 and info.value.file == str(p)
    assert "latch" in str(info.value).lower()
    with pytest.raises(SimulationError):
        analyze_protocol(p, in_process=True)  # check=True raises


def test_unloadable_protocol_is_a_simulation_error(tmp_path):
    p = tmp_path / "broken.py"
    p.write_text('requirements = {"robotType": "OT-2", "apiLevel": "2.20"}\ndef run(ctx):\n    x = (\n')
    with pytest.raises(SimulationError) as info:
        analyze_protocol(p)  # the CLI writes no JSON: the message comes from its stderr
    assert info.value.line == 3 and "never closed" in str(info.value)
    with pytest.raises(SimulationError):
        simulate_protocol(p)
    with pytest.raises(SimulationError, match="no such protocol file"):
        analyze_protocol(tmp_path / "missing.py")
