"""labkit's labware: pipette / labware specs agree with Opentrons, the filter plate definition is valid."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.labware import FILTER_PLATE, LABWARE, PIPETTES, ROBOTS, filter_plate_definition
from labkit.labware.custom import build_filter_plate, build_white_384, definition
from labkit.labware.specs import (LABWARE_CHOICES, LABWARE_VERSIONS, LOW_VOLUME_MODE_MINIMUM, PIPETTE_CHOICES,
                                  value_at_api_level)

DEFS = Path(__import__("opentrons_shared_data").__file__).parent / "data" / "labware" / "definitions" / "2"


def test_filter_plate_definition_is_valid_opentrons_v2():
    from opentrons.protocols.labware import verify_definition

    d = filter_plate_definition()
    verify_definition(d)
    assert d["parameters"]["loadName"] == FILTER_PLATE
    assert len(d["wells"]) == 96 and d["ordering"][0][:2] == ["A1", "B1"]
    assert all(w["totalLiquidVolume"] == LABWARE[FILTER_PLATE].capacity_ul for w in d["wells"].values())


def test_shipped_json_matches_builder():
    assert filter_plate_definition() == json.loads(json.dumps(build_filter_plate()))


@pytest.mark.parametrize("name", sorted(n for n, s in LABWARE.items() if not s.custom))
def test_library_labware_exists_and_capacity_matches(name):
    d = json.loads(sorted((DEFS / name).glob("*.json"))[-1].read_text())
    vols = {w["totalLiquidVolume"] for w in d["wells"].values()}
    spec = LABWARE[name]
    assert len(d["wells"]) == spec.wells
    if spec.kind != "tips":
        assert max(vols) == pytest.approx(spec.capacity_ul)


def test_pipettes_have_known_tipracks_and_sane_ranges():
    for p in PIPETTES.values():
        assert p.tiprack in LABWARE and LABWARE[p.tiprack].kind == "tips"
        assert 0 < p.min_ul < p.max_ul <= LABWARE[p.tiprack].capacity_ul
        assert p.channels in (1, 8, 96)
    for r in ROBOTS.values():
        for name in (r.small_single, r.small_multi, r.large_single, r.large_multi):
            assert name in PIPETTES
        assert len(set(r.slots)) == len(r.slots) == 11


# --- every number labkit takes from Opentrons is what Opentrons' own API reports at labkit's apiLevel ---------------
# (an opentrons bump that changes one fails here; the values are read back through the real protocol API, a
# different path from the one labkit.labware.specs reads them by)

SHARED = DEFS.parents[2]  # opentrons_shared_data/data
ROOT = Path(__file__).resolve().parents[2]


def _context(robot: str):
    from opentrons import simulate

    from labkit.protocol.emit import API_LEVEL

    return simulate.get_protocol_api(API_LEVEL, robot_type=robot)


def _robot(load_name: str) -> str:
    return "Flex" if load_name.startswith(("flex_", "opentrons_flex_")) else "OT-2"


@pytest.mark.parametrize("name", sorted(PIPETTES))
def test_pipette_spec_is_what_the_protocol_api_reports(name):
    spec = PIPETTES[name]
    ctx = _context(_robot(name))
    if spec.channels == 96:  # a full 96-tip pick-up needs the rack on the Flex 96 tip-rack adapter
        rack = ctx.load_adapter("opentrons_flex_96_tiprack_adapter", "C1").load_labware(spec.tiprack)
    else:
        rack = ctx.load_labware(spec.tiprack, "C1" if _robot(name) == "Flex" else "1")
    pip = ctx.load_instrument(name, "left", tip_racks=[rack])
    assert int(pip.channels) == spec.channels
    assert pip.max_volume == pytest.approx(spec.max_ul)
    if name in LOW_VOLUME_MODE_MINIMUM:
        pip.configure_for_volume(spec.min_ul)  # the mode whose minimum labkit plans with (see the xfail below)
        assert pip.min_volume == pytest.approx(spec.min_ul)
        pip.configure_for_volume(spec.max_ul)
    else:
        assert pip.min_volume == pytest.approx(spec.min_ul)
    pip.pick_up_tip()  # the engine's flow rates are those of the tip on the pipette
    assert max(pip.flow_rate.aspirate, pip.flow_rate.dispense) == pytest.approx(spec.flow_ul_s)

    # uiMaxFlowRate and the compatible tip racks are not in the protocol API: read the model's liquid JSON itself
    model, version = pip.model.split("_v")  # e.g. 'p50_single', '3.6'
    size, kind = model.split("_")
    folder = {"single": "single_channel", "multi": "eight_channel", "96": "ninety_six_channel"}[kind]
    liquid = json.loads((SHARED / "pipette" / "definitions" / "2" / "liquid" / folder / size / "default"
                         / f"{version.replace('.', '_')}.json").read_text())
    tip_volume = int(LABWARE[spec.tiprack].capacity_ul)
    assert liquid["supportedTips"][f"t{tip_volume}"]["uiMaxFlowRate"] == pytest.approx(spec.max_flow_ul_s)
    assert rack.uri in liquid["defaultTipracks"]


@pytest.mark.parametrize("name", sorted(LOW_VOLUME_MODE_MINIMUM))
def test_flex_p50_minimum_is_that_of_the_mode_protocols_switch_to(name):
    """labkit plans the Flex 50 µL pipettes down to their low-volume minimum; the protocol API agrees once the
    protocol calls configure_for_volume (as labkit's do, before a step that moves less than the default minimum)."""
    ctx = _context("Flex")
    pip = ctx.load_instrument(name, "left")
    spec = PIPETTES[name]
    assert pip.min_volume == pytest.approx(spec.default_min_ul)  # the default mode after loading
    pip.configure_for_volume(spec.min_ul)
    assert (pip.min_volume, pip.max_volume) == (pytest.approx(spec.min_ul), pytest.approx(spec.low_volume_max_ul))
    pip.configure_for_volume(spec.max_ul)
    assert pip.min_volume == pytest.approx(spec.default_min_ul)


def test_flex_protocol_without_volume_modes_fails_verification(tmp_path):
    """The checked-in Flex viability protocol moves 2 µL with the 50 µL 8-channel: it verifies; the same protocol
    with its configure_for_volume calls taken out runs 2 µL in the default mode, which the ledger flags."""
    from labkit.layout.io import load_experiment
    from labkit.simulate import simulate, verify_experiment

    text = (ROOT / "protocols" / "viability_km12_flex.py").read_text(encoding="utf-8")
    assert "'configure_for_volume': 2.0" in text
    stripped = tmp_path / "stripped.py"
    stripped.write_text(text.replace("if \"configure_for_volume\" in step:", "if False:"), encoding="utf-8")
    exp = load_experiment(ROOT / "layouts" / "viability_km12.yaml")
    sim = simulate(stripped, in_process=True)
    rep = verify_experiment(sim.ledger, exp, sim.timeline)
    below = [f for f in rep.failures if f.check == "below minimum"]
    assert not rep.ok and below and all(re.search(r" [1-4](\.\d+)? µL, below the 5 µL minimum", f.message)
                                        for f in below)


@pytest.mark.parametrize("name", sorted(LABWARE))
def test_labware_spec_is_what_the_protocol_api_loads(name):
    spec = LABWARE[name]
    ctx = _context(_robot(name))
    slot = "C1" if _robot(name) == "Flex" else "1"
    if spec.custom:
        lw = ctx.load_labware_from_definition(definition(name), slot)
    else:
        lw = ctx.load_labware(name, slot)  # no version: the one the API picks at labkit's apiLevel
        assert lw.uri == f"opentrons/{name}/{LABWARE_VERSIONS.get(name, 1)}"
    assert (len(lw.rows()), len(lw.columns())) == (spec.rows, spec.cols)
    assert [w.max_volume for w in lw.wells()] == [pytest.approx(spec.capacity_ul)] * spec.wells
    assert lw.highest_z == pytest.approx(spec.height_mm)  # on the deck: its zDimension


def test_labkit_judgement_is_kept_apart_from_opentrons_facts():
    """Every pipette and labware labkit uses has its labkit-only values in one table, and no others."""
    assert set(PIPETTE_CHOICES) == set(PIPETTES)
    assert set(LABWARE_CHOICES) == set(LABWARE)
    for name, (rack, disposal) in PIPETTE_CHOICES.items():
        assert (PIPETTES[name].tiprack, PIPETTES[name].disposal_ul) == (rack, disposal)
    for name, (kind, dead) in LABWARE_CHOICES.items():
        assert (LABWARE[name].kind, LABWARE[name].dead_ul) == (kind, dead)
        assert dead < LABWARE[name].capacity_ul or kind == "tips"


def test_value_at_api_level_takes_the_newest_entry_at_or_below():
    values = {"2.0": 3.78, "2.6": 7.56, "2.14": 9.0}
    assert value_at_api_level(values, (2, 5)) == 3.78
    assert value_at_api_level(values, (2, 6)) == 7.56
    assert value_at_api_level(values, (2, 13)) == 7.56   # 2.14 > 2.13 numerically, not as text
    assert value_at_api_level(values, (2, 20)) == 9.0


def test_specs_read_no_definitions_until_used():
    """Importing the planner loads no shared data (so `labkit --help` stays fast); the first lookup does."""
    code = ("import sys, labkit.cli, labkit.labware, labkit.plan\n"
            "sys.argv=['labkit','--help']\n"
            "try:\n    labkit.cli.main()\nexcept SystemExit: pass\n"
            "print('BEFORE', 'opentrons_shared_data' in sys.modules)\n"
            "from labkit.labware import LABWARE\n"
            "print('AFTER', LABWARE['nest_12_reservoir_15ml'].cols, 'opentrons_shared_data' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "BEFORE False" in out and "AFTER 12 True" in out


def test_white_384_is_opentrons_corning_384_geometry_renamed():
    """The shipped white TC 384-well plate (Corning 3570, for luminescence: Promega TB288) is Opentrons' Corning 384
    112 µL geometry under labkit's name, and the JSON file is what the builder makes."""
    from opentrons_shared_data.labware import load_definition

    from labkit.labware.specs import WHITE_384, WHITE_TC_PLATE

    ours, theirs = definition(WHITE_384), load_definition("corning_384_wellplate_112ul_flat", 2)
    assert ours == build_white_384()
    assert ours["wells"] == theirs["wells"] and ours["dimensions"] == theirs["dimensions"]
    assert ours["parameters"]["loadName"] == WHITE_384 and ours["brand"]["brandId"] == ["3570"]
    assert WHITE_TC_PLATE[384] == WHITE_384 and LABWARE[WHITE_384].custom
    # the 96-well definition labkit loads lists Corning 3917 (solid white, TC-treated)
    assert "3917" in load_definition(WHITE_TC_PLATE[96], 2)["brand"]["brandId"]
