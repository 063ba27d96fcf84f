"""labkit.readout.detect and bad input: every failure is one ReadoutError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.errors import ReadoutError
from labkit.readout import detect, read

DATA = Path(__file__).parents[1] / "data" / "readout"

EXPECTED = {
    "microbeta2_grid_2plates.csv": "microbeta", "microbeta2_384_semicolon.csv": "microbeta",
    "topcount_list.csv": "microbeta", "trilux_list_positions.txt": "microbeta",
    "topcount_plate_96.001": "microbeta", "topcount_plate_kinetic.txt": "microbeta",
    "topcount_columns.001": "microbeta",
    "envision_lum_384_2plates.csv": "envision", "envision_lum_96_ovrflw.csv": "envision",
    "envision_lum_96_semicolon.csv": "envision", "envision_lum_96_2repeats.csv": "envision", "mars_lum_96.csv": "mars", "mars_lum_1536_partial.csv": "mars",
    "gen5_lum_96.txt": "gen5", "gen5_fl_96_two_filters.txt": "gen5",
    "softmax_lum_96_utf16.txt": "softmax", "softmax_abs_macroman.txt": "softmax",
    "tecan_spark_lum_96.xlsx": "tecan", "tecan_magellan_lum_96.xlsx": "tecan",
    "grid_96_labelled.csv": "grid", "grid_384.tsv": "grid", "grid_bare_96.csv": "grid",
    "grid_1536_AA.csv": "grid", "grid_2plates_blocks.csv": "grid", "grid_96.xlsx": "grid",
    "long_wells.csv": "long", "long_rowcol_semicolon.csv": "long", "long_scan_intensity.csv": "long",
    "long_1536_quadrant.csv": "long", "tecan_icontrol_lum_96.xls": "tecan",
}


@pytest.mark.parametrize("name, fmt", sorted(EXPECTED.items()))
def test_detect_names_format_and_reason(name, fmt):
    got, reason = detect(DATA / name)
    assert got == fmt
    assert isinstance(reason, str) and len(reason) > 10


def test_every_fixture_is_covered():
    fixtures = {p.name for p in DATA.iterdir() if p.suffix not in (".py", ".md") and not p.name.startswith("bad_")}
    assert fixtures == set(EXPECTED)


@pytest.mark.parametrize("name, words", [
    ("bad_empty.csv", "empty"), ("bad_whitespace.csv", "empty"), ("bad_binary.dat", "binary"),
    ("bad_old_excel.xls", ".xls"), ("bad_zip.xlsx", "Excel"), ("bad_unrecognised.txt", "not a readout format"),
    ("bad_layout_only.csv", "not a readout format"),
    ("bad_truncated_envision.csv", "truncated"), ("bad_truncated_microbeta.csv", "truncated"),
])
def test_bad_input_gives_one_readout_error_naming_the_file(name, words):
    with pytest.raises(ReadoutError) as exc:
        read(DATA / name)
    text = str(exc.value)
    assert name in text and words in text
    assert exc.value.file and exc.value.file.endswith(name)
    assert "read as " in text or "labkit reads: " in text or "tried microbeta" in text  # formats tried


def test_unrecognised_lists_formats_tried():
    with pytest.raises(ReadoutError) as exc:
        read(DATA / "bad_unrecognised.txt")
    tried = " ".join(exc.value.problems)
    for fmt in ("microbeta", "envision", "mars", "gen5", "softmax", "tecan", "grid", "long"):
        assert fmt in tried


def test_truncated_files_name_the_line():
    with pytest.raises(ReadoutError) as exc:
        read(DATA / "bad_truncated_microbeta.csv")
    assert exc.value.line is not None and exc.value.line > 10
    assert any("microbeta" in p for p in exc.value.problems)


def test_truncated_at_a_line_end_is_still_caught_for_envision(tmp_path):
    text = (DATA / "envision_lum_384_2plates.csv").read_text()
    cut = text.index("\nJ,", text.index("Results for US LUM 384(1)")) + 1
    path = tmp_path / "cut.csv"
    path.write_text(text[:cut])
    with pytest.raises(ReadoutError, match="truncated"):
        read(path)


def test_forced_wrong_format_fails_cleanly():
    with pytest.raises(ReadoutError) as exc:
        read(DATA / "grid_96_labelled.csv", format="long")
    assert "grid_96_labelled.csv" in str(exc.value)


def test_duplicate_wells_are_an_error(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("Well,Value\nA1,1\nA2,2\nA1,3\n")
    with pytest.raises(ReadoutError, match="twice") as exc:
        read(path)
    assert "A1" in str(exc.value)


def test_bad_well_name_in_long_table_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Well,Value\nA1,1\nZ99,2\n")
    with pytest.raises(ReadoutError) as exc:
        read(path)
    assert exc.value.line == 3 and "Z99" in str(exc.value)
