"""labkit.wells: the one well-name parser (96 / 384 / 1536), with properties checked by hypothesis."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.wells import (PLATE_FORMATS, WellNameError, format_for, index_to_well, parse_row, parse_well,
                          plate_wells, row_index, row_label, row_letters, split_well, well_index, well_name)

FORMATS = st.sampled_from([96, 384, 1536])
ROOT = Path(__file__).parent.parent


@st.composite
def wells(draw, fmt=None):
    fmt = fmt or draw(FORMATS)
    rows, cols = PLATE_FORMATS[fmt]
    return fmt, draw(st.integers(0, rows - 1)), draw(st.integers(1, cols))


def test_row_labels_run_a_to_z_then_aa_to_af():
    assert row_letters(8) == list("ABCDEFGH")
    assert row_letters(16)[-1] == "P"
    assert row_letters(32)[25:] == ["Z", "AA", "AB", "AC", "AD", "AE", "AF"]
    assert [row_index(x) for x in ("A", "p", "Z", "AA", "af")] == [0, 15, 25, 26, 31]


def test_examples():
    assert parse_well("A1") == parse_well("A01") == parse_well(" a001 ") == (0, 1)
    assert parse_well("AF48") == (31, 48) and parse_well("P24", 384) == (15, 24)
    assert split_well("b07") == ("B", 7) and well_name(26, 1) == "AA1"
    assert well_index("B1", 96) == 12 and well_index("B1", 1536) == 48 and index_to_well(1535, 1536) == "AF48"
    assert parse_row("a", lowercase_after_z=True) == 26 and parse_row("f", lowercase_after_z=True) == 31
    assert parse_row("a") == 0 and parse_row("AG") is None and parse_row("1") is None
    assert format_for(7, 12) == 96 and format_for(8, 12) == 384 and format_for(16, 1) == 1536
    assert format_for(32, 1) is None
    assert len(plate_wells(1536)) == 1536 and plate_wells(1536)[48] == "B1"


@pytest.mark.parametrize("text", ["", "A", "1A", "A0", "A00", "AG1", "AZ1", "A49", "ZZ12", "A1B", "A-1",
                                  "Ä1", "A¹", "A１", "AAA1", "A 1 2"])
def test_not_well_names(text):
    with pytest.raises(WellNameError):
        parse_well(text)


def test_format_bounds():
    with pytest.raises(WellNameError, match="not on a 96-well plate"):
        parse_well("I1", 96)
    with pytest.raises(WellNameError, match="not on a 384-well plate"):
        parse_well("A25", 384)
    with pytest.raises(WellNameError, match="unknown plate format"):
        parse_well("A1", 100)
    with pytest.raises(WellNameError):
        index_to_well(96, 96)
    with pytest.raises(WellNameError):
        row_label(32)


@given(wells())
def test_name_parse_round_trip(w):
    fmt, r, c = w
    name = well_name(r, c)
    assert parse_well(name, fmt) == (r, c)
    assert parse_well(f"{name[:-len(str(c))]}{c:02d}", fmt) == (r, c)  # zero-padded: A01
    assert parse_well(name.lower(), fmt) == (r, c)
    assert re.fullmatch(r"[A-Z]{1,2}[1-9]\d?", name)


@given(wells())
def test_index_round_trip_is_row_major(w):
    fmt, r, c = w
    i = well_index(well_name(r, c), fmt)
    assert i == r * PLATE_FORMATS[fmt][1] + c - 1
    assert index_to_well(i, fmt) == well_name(r, c)


@given(st.text(max_size=8))
def test_any_text_is_a_well_or_a_well_name_error(text):
    try:
        r, c = parse_well(text)
    except WellNameError as err:
        assert "well" in str(err)
        return
    assert 0 <= r < 32 and 1 <= c <= 48
    assert parse_well(well_name(r, c)) == (r, c)


def test_wells_are_parsed_in_one_place():
    """No module outside labkit/wells.py parses well names by hand (regexes on row letters, ord(), rstrip of
    digits); grid *rendering* (row_letters) is fine."""
    src = ROOT / "src" / "labkit"
    patterns = [r"\[A-P\]", r"\[A-H\]", r"ord\(\s*[\"']A[\"']", r"rstrip\(\s*[\"']0123456789", r"ABCDEFGHIJKLMNOP",
                r"\[A-Za-z\]\{1,2\}", r"\[A-Z\]\{1,2\}"]
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "wells.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(src)}: {p}" for p in patterns if re.search(p, text)]
    assert offenders == []


def test_well_module_imports_no_pandas():
    code = "import sys; import labkit.wells, labkit.tables; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
