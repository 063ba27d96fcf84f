"""labkit.readout.grid / table helpers: plate markers, block classification, row labels, truncation."""

from __future__ import annotations

import pytest

from labkit.readout.grid import classify, find_blocks, plate_marker, read_grid
from labkit.readout.records import TruncatedError, plate_id, row_of, unit_from
from labkit.readout.text import text_doc


@pytest.mark.parametrize("row, nxt, expected", [
    (["Plate", "1"], None, "1"),
    (["Barcode", "KIN-7"], None, "KIN-7"),
    (["Plate Number", "Plate 3"], None, "3"),
    (["Plate:", "CTG_IMS-M2", "1.3", "PlateFormat", "Endpoint", "Luminescence"], None, "CTG_IMS-M2"),
    (["ID1: KM12_P1", "ID2:", "ID3:"], None, "KM12_P1"),
    (["ID1:", "ID2:", "ID3:"], None, None),
    (["Plate", "Repeat", "Barcode", "Measured height"], ["1", "1", "BC-9", "14"], "BC-9"),
    (["Plate", "Repeat", "Barcode", "Measured height"], ["2", "1", "", "14"], "2"),
    (["Plate", "Label", "Result", "Signal", "Flashes/Time"], ["1", "US LUM", "0", "4", "0.1"], None),
    (["Plate information"], None, None),
    (["Plate", "Corning 96 Flat Bottom White Polystyrene Cat. No.: 3917"], None, None),
    (["Plate", "Well", "CPM"], ["1", "A01", "12"], None),
])
def test_plate_marker(row, nxt, expected):
    assert plate_marker(row, nxt) == expected


@pytest.mark.parametrize("title, sub, kind", [
    ("Results for US LUM 384(1) - channel 0 (CPS)", "", "raw"), ("Calculated results: Calc 1: Crosstalk", "", "calc"),
    ("CCPM1", "", "raw"), ("Counting time (s)", "", "time"), ("Layout", "", "meta"), ("Platemap:", "", "meta"),
    ("Results", "LUM:Lum", "raw"), ("Results", "NormLum", "calc"), ("Results", "Blank 485/20", "calc"),
    ("Raw Data (No filter)", "", "raw"), ("Ratio to vehicle (%)", "", "calc"), ("Temperature(°C)", "", "time"),
])
def test_classify(title, sub, kind):
    assert classify(title, sub) == kind


def test_row_labels_and_ids_and_units():
    assert row_of("A") == 0 and row_of("p") == 15 and row_of("AF") == 31 and row_of("AG") is None
    assert row_of("e", 48) == 30 and row_of("e") == 4  # MARS 1536 lowercase rows only in 48-column grids
    assert row_of("A1") is None and row_of("") is None and row_of("Ä") is None
    assert plate_id("Plate 2") == "2" and plate_id("plate#3") == "3" and plate_id("KIN-1") == "KIN-1"
    assert unit_from("Results (CPS)") == "CPS" and unit_from("CCPM1") == "CCPM" and unit_from("OD450") == "absorbance"


def test_two_grids_side_by_side_and_counts_then_times():
    text = ("Plate,P-1\n\nCPM\n,1,2,3\nA,10,20,30\nB,40,50,60\n\nCounting time (s)\n,1,2,3\nA,60,60,60\n"
            "B,60,60,60\n")
    doc = text_doc("x.csv", text.encode())
    blocks = find_blocks(doc)
    assert [b.title for b in blocks] == ["CPM", "Counting time (s)"]
    recs = read_grid(doc)
    assert {(r.row, r.column, r.value) for r in recs} == {(0, 1, 10), (0, 2, 20), (0, 3, 30), (1, 1, 40),
                                                          (1, 2, 50), (1, 3, 60)}
    assert {r.plate for r in recs} == {"P-1"} and {r.unit for r in recs} == {"CPM"}


def test_truncation_rules():
    full = ",1,2,3\nA,1,2,3\nB,4,5,6\n"
    assert len(read_grid(text_doc("x.csv", full.encode()))) == 6
    with pytest.raises(TruncatedError):  # last row cut short, no final line break
        read_grid(text_doc("x.csv", full[:-4].encode()))
    assert len(read_grid(text_doc("x.csv", full[:-1].encode()))) == 6  # complete row, just no final newline
    with pytest.raises(TruncatedError):  # instrument files always end with a line break
        read_grid(text_doc("x.csv", full[:-1].encode()), strict=True)
    with pytest.raises(TruncatedError):  # a grid running into the end of file short of its rows
        read_grid(text_doc("x.csv", (",1,2,3,4,5,6,7,8,9,10,11,12\n" + "A" + ",1" * 12 + "\n").encode()), tail=True)
