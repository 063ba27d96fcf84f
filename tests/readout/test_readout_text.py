"""labkit.readout.text: decoding, line ends, separators, decimal commas, cells and markers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import ReadoutError
from labkit.readout.load import load_doc
from labkit.readout.text import (clean_cell, decode, parse_value, sniff_decimal, sniff_separator, split_cells,
                                 split_lines, text_doc)
from labkit.tables import FLAGS


@pytest.mark.parametrize("text, expected", [
    ("1234", (1234.0, "ok")), ("  1234 ", (1234.0, "ok")), ("-0.5", (-0.5, "ok")), ("1e3", (1000.0, "ok")),
    ("OVRFLW", (math.nan, "overflow")), ("Saturated", (math.nan, "overflow")), ("#Sat", (math.nan, "overflow")),
    ("SAT", (math.nan, "overflow")), ("OVER", (math.nan, "overflow")), (">4.000", (math.nan, "overflow")),
    ("MISSED", (math.nan, "missing")), ("-", (math.nan, "missing")), ("N/A", (math.nan, "missing")),
    ("*", (math.nan, "invalid")), ("*.***", (math.nan, "invalid")), ("Range?", (math.nan, "invalid")),
    ("banana", (math.nan, "invalid")), ("inf", (math.nan, "invalid")), ("", (math.nan, None)),
])
def test_parse_value_markers_become_flags_never_numbers(text, expected):
    value, flag = parse_value(clean_cell(text))
    assert flag == expected[1]
    assert (math.isnan(value) and math.isnan(expected[0])) or value == expected[0]


def test_decimal_comma_and_thousands():
    assert parse_value("1234,5", ",") == (1234.5, "ok")
    assert parse_value("1.234,5", ",") == (1234.5, "ok")
    assert parse_value("1,234.5", ".") == (1234.5, "ok")
    assert parse_value("1 234", ".") == (1234.0, "ok")


def test_clean_cell_unwraps_excel_ids_and_padding():
    assert clean_cell(' ="1051017" ') == "1051017"
    assert clean_cell('"KIN-1"') == "KIN-1"
    assert clean_cell("\u00a012\u00a0") == "12"
    assert split_cells('A,"=""B-7""", 3 ,', ",") == ["A", "B-7", "3", ""]


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_parse_value_never_raises_and_flags_are_known(text):
    value, flag = parse_value(clean_cell(text))
    assert flag is None or flag in FLAGS
    assert (flag == "ok") == (not math.isnan(value))


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=200, deadline=None)
def test_numbers_round_trip(x):
    assert parse_value(repr(x)) == (x, "ok")


def test_split_lines_cr_crlf_lf():
    assert split_lines("a\r\nb\rc\nd\n") == ["a", "b", "c", "d"]
    assert split_lines("a\n\n") == ["a", ""]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "mac_roman"])
def test_decode_encodings(encoding):
    text = "Temperature(°C)\t1\t2\r\nA\t1,5\t2,5\r\n"
    data = text.encode(encoding)
    got, _ = decode(data, "x.txt")
    assert got == text


def test_decode_rejects_binary():
    with pytest.raises(ReadoutError, match="binary"):
        decode(bytes(range(256)) * 4, "x.bin")


def test_separator_and_decimal_sniffing():
    lines = ["Plate;1", ";1;2;3", "A;1,5;2,5;3,5", "B;4,5;5,5;6,5"]
    sep = sniff_separator(lines)
    assert sep == ";"
    rows = [split_cells(ln, sep) for ln in lines]
    assert sniff_decimal(rows, sep) == ","
    assert sniff_separator(["a\tb\tc", "1\t2\t3"]) == "\t"
    assert sniff_separator(["a,b,c", "1,2,3"]) == ","
    assert sniff_separator(["A   1   2   3", "B   4   5   6"]) == " "


def test_text_doc_records_missing_final_newline():
    assert text_doc("x.csv", b"a,b\n1,2").ends_with_newline is False
    assert text_doc("x.csv", b"a,b\r\n1,2\r\n").ends_with_newline is True


def test_load_doc_errors(tmp_path):
    with pytest.raises(ReadoutError, match="not found"):
        load_doc(tmp_path / "nope.csv")
    with pytest.raises(ReadoutError, match="folder"):
        load_doc(tmp_path)
    (tmp_path / "e.csv").write_bytes(b"\r\n \r\n")
    with pytest.raises(ReadoutError, match="empty") as exc:
        load_doc(tmp_path / "e.csv")
    assert "e.csv" in str(exc.value)
