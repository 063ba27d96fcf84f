"""labkit's labware: pipette / labware specs agree with Opentrons, the filter plate definition is valid."""

import json
from pathlib import Path

import pytest

from labkit.labware import FILTER_PLATE, LABWARE, PIPETTES, ROBOTS, filter_plate_definition
from labkit.labware.custom import build_filter_plate

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
        assert p.channels in (1, 8)
    for r in ROBOTS.values():
        for name in (r.small_single, r.small_multi, r.large_single, r.large_multi):
            assert name in PIPETTES
        assert len(set(r.slots)) == len(r.slots) == 11
