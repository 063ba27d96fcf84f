"""labkit.simulate.ledger: replaying real Opentrons analyses of hand-written protocols into a per-well ledger.

Expected numbers are computed by hand in each protocol's docstring (tests/data/simulate/).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentrons_shared_data.labware import load_definition

from labkit.errors import SimulationError
from labkit.simulate.opentrons_run import analyze_protocol
from labkit.simulate.ledger import (DMSO, active_nozzles, channel_count, nozzle_wells, read_liquids,
                                    replay)

DATA = Path(__file__).parents[1] / "data" / "simulate"
ROWS_384_ODD = "ACEGIKMO"


@pytest.fixture(scope="module")
def ledgers():
    """name -> (analysis, ledger), analysed in-process once per module (the real engine)."""
    out = {}
    for name in ("ot2_dilution", "flex_kinase_mini", "ot2_faults"):
        path = DATA / f"{name}.py"
        a = analyze_protocol(path, in_process=True)
        out[name] = (a, replay(a, read_liquids(path)))
    return out


def test_two_fold_serial_dilution(ledgers):
    _, led = ledgers["ot2_dilution"]
    expected = {"A1": (100, 10e-6), "A2": (100, 5e-6), "A3": (100, 2.5e-6), "A4": (200, 1.25e-6)}
    for well, (vol, conc) in expected.items():
        s = led.well("P1", well)
        assert s.volume == pytest.approx(vol, abs=1e-9)
        assert s.compounds == {"X": pytest.approx(conc, rel=1e-9)}
        assert s.dmso == pytest.approx(0.01, rel=1e-12)
    vehicle = led.well("P1", "A5")
    assert vehicle.volume == pytest.approx(100) and vehicle.compounds == {} and vehicle.dmso == pytest.approx(0.01)
    assert led.well("P1", "A5").contacts == set()  # the diluent went in from the top
    assert led.well("P1", "A2").n_noncontact == 1
    assert led.well("Reservoir", "A1").volume == pytest.approx(10000 - 4 * 100)
    assert led.ok and led.problems == []


def test_multichannel_column_and_reservoir(ledgers):
    _, led = ledgers["ot2_dilution"]
    for row in "ABCDEFGH":
        s = led.well("P1", f"{row}6")
        assert s.volume == pytest.approx(10.0)
        assert s.composition == {"buffer": 1.0, "enzyme:TRKA": 2.0, "substrate": 1.0}
    assert ("P1", "A7") not in led.wells
    # all eight channels draw from the one trough: 1000 - 8 x 10 µL
    assert led.well("Reservoir", "A3").volume == pytest.approx(920.0)
    assert len(led.tips) == 1 + 1 + 8


def test_multichannel_384_rows_and_stop_snapshot(ledgers):
    _, led = ledgers["flex_kinase_mini"]
    final = {1: 1e-6, 2: 1e-6 / 3, 3: 1e-6 / 9}
    for col, conc in final.items():
        for row in ROWS_384_ODD:
            s = led.well("KIN-T", f"{row}{col}")
            assert s.assay_compounds == {"X": pytest.approx(conc, rel=1e-9)}
            assert s.assay_composition[DMSO] == pytest.approx(0.01, rel=1e-9)  # 5 µL of 5 % in 25 µL
            assert s.volume == pytest.approx(35.0)  # + 10 µL stop
            assert s.compounds["X"] == pytest.approx(conc * 25 / 35, rel=1e-9)
            assert s.hot and s.conc("stop") == pytest.approx(10 / 35)
    for col in (1, 2, 3, 4, 5):
        for row in "BDFHJLNP":
            assert (("KIN-T", f"{row}{col}") not in led.wells), f"{row}{col} was never worked"
    no_enzyme = led.well("KIN-T", "C5").assay_composition
    assert "enzyme:TRKA" not in no_enzyme and no_enzyme["substrate"] == pytest.approx(1.0)
    assert led.well("KIN-T", "C4").assay_composition["enzyme:TRKA"] == pytest.approx(1.0)
    assert led.well("KIN-T", "C4").assay_compounds == {}
    # the source series, intermediate plate and the troughs
    assert led.well("SRC", "H2").compounds["X"] == pytest.approx(1e-4 / 3)
    assert led.well("INT", "D3").compounds["X"] == pytest.approx(1e-4 / 9 / 20)
    assert led.well("INT", "D3").dmso == pytest.approx(0.05)
    assert led.well("Reagents", "A2").volume == pytest.approx(1000 - 8 * 40)


def test_single_nozzle_partial_layout(ledgers):
    _, led = ledgers["flex_kinase_mini"]
    assert led.well("KIN-T", "P23").volume == pytest.approx(30.0)
    assert led.well("KIN-T", "P24").volume == pytest.approx(20.0)
    touched = {w for (lab, w) in led.wells if lab == "KIN-T" and w.endswith(("23", "24"))}
    assert touched == {"P23", "P24"}


def test_tips_and_radiation_hygiene_pass(ledgers):
    a, led = ledgers["flex_kinase_mini"]
    assert len(led.tips) == 8 * 23 + 1
    hot = [t for t in led.tips if "atp33" in t.carried]
    assert len(hot) == 5 * 8 and all(t.dropped == "trash" for t in hot)
    assert all(len(t.hot_path) == 1 for t in hot)  # touched the hot trough only
    assert led.ok


def test_faults_are_flagged(ledgers):
    _, led = ledgers["ot2_faults"]
    got = sorted((p.kind, p.labware, p.well) for p in led.problems)
    assert got == [("contamination", "P1", "D2"), ("hot-tip", "P1", "E3"),
                   ("hot-tip", "opentrons_96_tiprack_300ul @ 1", "C1"), ("overflow", "P1", "B1"),
                   ("underflow", "P1", "C1")]
    assert led.well("P1", "B1").peak_volume == pytest.approx(450.0) and led.well("P1", "B1").overflow
    assert led.well("P1", "C1").underflow == pytest.approx(50.0)
    d3 = led.well("P1", "D3")
    assert d3.compounds == {"A": pytest.approx(0.5e-6), "B": pytest.approx(0.5e-6)}
    assert {"compound:A", "compound:B"} <= d3.contacts
    assert led.well("P1", "D2").foreign == {"compound:A"}
    assert not led.ok


def test_liquid_missing_from_literal_is_tracked_by_name(ledgers):
    a, _ = ledgers["ot2_dilution"]
    led = replay(a, {})
    assert led.well("P1", "A2").composition == {"liquid:Buffer 1% DMSO": 0.5, "liquid:Compound X 10 uM": 0.5}


def test_table_and_dict_are_deterministic(ledgers):
    a, led = ledgers["ot2_dilution"]
    t = led.table()
    assert list(t["well"][:5]) == ["A1", "A2", "A3", "A4", "A5"]
    assert t.loc[t["well"] == "A4", "compounds"].item() == "X=1.25e-06 M"
    again = replay(a, read_liquids(DATA / "ot2_dilution.py"))
    assert again.to_dict() == led.to_dict()


def test_nozzle_geometry_on_real_definitions():
    p384 = load_definition("corning_384_wellplate_112ul_flat", 2)
    p96 = load_definition("nest_96_wellplate_200ul_flat", 2)
    trough = load_definition("nest_12_reservoir_15ml", 1)
    one = load_definition("nest_1_reservoir_195ml", 2)
    assert channel_count("p300_multi_gen2") == 8 and channel_count("p1000_96") == 96
    assert channel_count("p50_single_flex") == 1
    eight = active_nozzles(8, None)
    assert nozzle_wells(p384, "B3", *eight) == ["B3", "D3", "F3", "H3", "J3", "L3", "N3", "P3"]
    assert nozzle_wells(trough, "A5", *eight) == ["A5"] * 8
    assert set(nozzle_wells(one, "A1", *active_nozzles(96, None))) == {"A1"}
    assert nozzle_wells(p384, "A1", *active_nozzles(96, None))[:3] == ["A1", "A3", "A5"]
    quad = active_nozzles(8, {"style": "QUADRANT", "primaryNozzle": "H1", "backLeftNozzle": "E1",
                              "frontRightNozzle": "H1"})
    assert nozzle_wells(p96, "D1", *quad) == ["A1", "B1", "C1", "D1"]
    assert nozzle_wells(p96, "B1", *quad) == [None, None, "A1", "B1"]
    single = active_nozzles(8, {"style": "SINGLE", "primaryNozzle": "H1"})
    assert nozzle_wells(p96, "C7", *single) == ["C7"]
    row = active_nozzles(96, {"style": "ROW", "primaryNozzle": "H1"})
    assert nozzle_wells(p96, "H1", *row) == [f"H{c}" for c in range(1, 13)]


def test_read_liquids_rejects_non_literals(tmp_path):
    p = tmp_path / "p.py"
    p.write_text("LIQUIDS = dict(a=1)\n")
    with pytest.raises(SimulationError, match="literal"):
        read_liquids(p)
    p.write_text("LIQUIDS = {'a': {'composition': {'compound:X': 'ten'}}}\n")
    with pytest.raises(SimulationError, match="malformed"):
        read_liquids(p)
    p.write_text("x = 1\n")
    assert read_liquids(p) == {}


_species = st.sampled_from(["compound:X", "compound:entrectinib", "solvent:DMSO", "enzyme:TRKA", "atp33", "ctg"])
_liquids = st.dictionaries(
    st.text(min_size=1, max_size=30),
    st.fixed_dictionaries({"description": st.text(max_size=40), "color": st.just("#123456"),
                           "composition": st.dictionaries(_species, st.floats(0, 1e3, allow_nan=False),
                                                          max_size=4)}),
    max_size=5)


@settings(max_examples=40, deadline=None)
@given(_liquids)
def test_read_liquids_round_trips_any_names(tmp_path_factory, liquids):
    p = tmp_path_factory.mktemp("liq") / "proto.py"
    p.write_text("import json\n\nLIQUIDS = " + repr(liquids) + "\n\ndef run(ctx):\n    pass\n", encoding="utf-8")
    assert read_liquids(p) == liquids
