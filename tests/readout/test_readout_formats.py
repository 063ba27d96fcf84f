"""labkit.readout.read on fixture files in the instruments' real export layouts, with spot-checked wells.

Fixture values follow v(row, col) = 1000 * (row + 1) + col (row 0-based), see tests/data/readout/make_fixtures.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from labkit.readout import SUPPORTED_FORMATS, ReadoutWarning, read, read_with_info
from labkit.tables import FLAGS, READOUT_COLUMNS

DATA = Path(__file__).parents[1] / "data" / "readout"


def cell(df: pd.DataFrame, well: str, plate: str | None = None, read_: str | None = None) -> tuple[float, str]:
    sel = df[df["well"] == well]
    if plate is not None:
        sel = sel[sel["plate"] == plate]
    if read_ is not None:
        sel = sel[sel["read"] == read_]
    assert len(sel) == 1, f"{well} on plate {plate}: {len(sel)} rows"
    return float(sel["value"].iloc[0]), str(sel["flag"].iloc[0])


def absent(df: pd.DataFrame, well: str, plate: str | None = None) -> bool:
    sel = df[df["well"] == well]
    if plate is not None:
        sel = sel[sel["plate"] == plate]
    return sel.empty


def check_table(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(READOUT_COLUMNS)
    assert set(df["flag"]) <= set(FLAGS)
    assert df.loc[df["flag"] != "ok", "value"].isna().all()
    assert df.loc[df["flag"] == "ok", "value"].notna().all()
    assert df["column"].dtype.kind == "i"
    assert not df.duplicated(["plate", "read", "well"]).any()


def test_formats_listed():
    assert {"microbeta", "envision", "mars", "gen5", "softmax", "tecan", "grid", "long"} <= set(SUPPORTED_FORMATS)


# --- counters -------------------------------------------------------------------------------------------------
def test_microbeta2_grid_two_plates_counts_not_times():
    df, info = read_with_info(DATA / "microbeta2_grid_2plates.csv")
    check_table(df)
    assert info["format"] == "microbeta"
    assert list(dict.fromkeys(df["plate"])) == ["KIN-TRKA-01", "KIN-TRKA-02"]  # ="..." barcodes unwrapped
    assert set(df["unit"]) == {"CCPM"} and set(df["read"]) == {""}  # corrected counts, not CPM1, not times
    assert cell(df, "A1", "KIN-TRKA-01") == (1101.0, "ok")
    assert cell(df, "H12", "KIN-TRKA-01") == (8112.0, "ok")
    assert cell(df, "B5", "KIN-TRKA-01")[1] == "invalid"  # '*'
    assert cell(df, "C7", "KIN-TRKA-01")[1] == "missing"  # '-'
    assert cell(df, "F12", "KIN-TRKA-02") == (6212.0, "ok")
    assert absent(df, "G1", "KIN-TRKA-02") and absent(df, "H12", "KIN-TRKA-02")  # partial plate: blank rows
    assert len(df) == 96 + 72


def test_microbeta2_semicolon_decimal_comma_384():
    df = read(DATA / "microbeta2_384_semicolon.csv")
    check_table(df)
    assert len(df) == 384 and set(df["plate"]) == {"SPA-384-07"}
    assert cell(df, "A1") == (1001.1, "ok")
    assert cell(df, "P24") == (16024.4, "ok")


def test_topcount_list_by_well():
    df, info = read_with_info(DATA / "topcount_list.csv")
    check_table(df)
    assert info["format"] == "microbeta" and "TopCount" in info["reason"]
    assert set(df["unit"]) == {"CPM"}
    assert cell(df, "H12", "1051017") == (8013.0, "ok")
    assert cell(df, "H6", "1051018") == (8008.0, "ok")
    assert absent(df, "H7", "1051018")
    assert len(df) == 96 + 48


def test_trilux_list_by_position_is_row_major():
    df = read(DATA / "trilux_list_positions.txt")
    check_table(df)
    assert set(df["unit"]) == {"CCPM"}  # CCPM1 preferred over CPM1
    assert cell(df, "A12") == (1012.0, "ok")
    assert cell(df, "B1") == (2001.0, "ok")  # position 13
    assert cell(df, "H12") == (8012.0, "ok")


# --- luminescence readers -------------------------------------------------------------------------------------
def test_envision_384_two_plates_through_allotropy_raw_not_calculated():
    df, info = read_with_info(DATA / "envision_lum_384_2plates.csv")
    check_table(df)
    assert info["format"] == "envision" and "allotropy" in info["note"] and "could not" not in info["note"]
    assert list(dict.fromkeys(df["plate"])) == ["KM12-CTG-01", "KM12-CTG-02"]
    assert len(df) == 768 and set(df["unit"]) == {"CPS"} and set(df["read"]) == {""}
    assert cell(df, "A1", "KM12-CTG-01") == (1002.0, "ok")  # measured, not the calculated 981.96
    assert cell(df, "P24", "KM12-CTG-02") == (16026.0, "ok")


def test_envision_ovrflw_falls_back_with_a_note():
    with pytest.warns(ReadoutWarning, match="could not read this file"):
        df, info = read_with_info(DATA / "envision_lum_96_ovrflw.csv")
    check_table(df)
    assert "could not read" in info["note"] and "OVRFLW" in info["note"] and "labkit" in info["note"]
    assert set(df["plate"]) == {"CTG-96-A"}
    value, flag = cell(df, "B3")
    assert flag == "overflow" and math.isnan(value)
    assert cell(df, "A1") == (1001.0, "ok")
    assert absent(df, "H1")  # row H blank: not measured, not 0
    assert len(df) == 84


def test_envision_semicolon_decimal_comma_cp1252():
    with pytest.warns(ReadoutWarning, match="could not read this file"):
        df, info = read_with_info(DATA / "envision_lum_96_semicolon.csv")
    check_table(df)
    assert info["format"] == "envision"
    assert cell(df, "A1") == (1001.1, "ok")
    assert cell(df, "A2") == (1002.0, "ok")
    assert cell(df, "H11") == (8011.11, "ok")


def test_mars_96_markers_and_blank():
    df, info = read_with_info(DATA / "mars_lum_96.csv")
    check_table(df)
    assert info["format"] == "mars" and "allotropy" in info["note"]
    assert set(df["plate"]) == {"KM12_P1"} and set(df["unit"]) == {"RLU"}
    assert cell(df, "C4")[1] == "overflow"
    assert absent(df, "F9")
    assert cell(df, "H12") == (8012.0, "ok")


def test_mars_1536_partial_rows_lowercase_after_z():
    df = read(DATA / "mars_lum_1536_partial.csv")
    check_table(df)
    assert sorted(set(df["row"])) == ["A", "AE", "G", "M", "S", "Y"]
    assert cell(df, "AE48") == (31048.0, "ok")  # MARS row 'e' is AE
    assert cell(df, "Y1") == (25001.0, "ok")
    assert len(df) == 6 * 48


def test_gen5_layout_grid_ignored_raw_read_taken():
    df, info = read_with_info(DATA / "gen5_lum_96.txt")
    check_table(df)
    assert info["format"] == "gen5" and info["encoding"] == "cp1252"
    assert set(df["plate"]) == {"1"} and set(df["read"]) == {""}  # NormLum (calculated) dropped
    assert cell(df, "A1") == (1001.0, "ok")
    assert cell(df, "B3")[1] == "overflow"
    assert cell(df, "D12")[1] == "missing"
    assert absent(df, "E6")


def test_gen5_two_filters_calculated_rows_and_their_errors_do_not_touch_raw_reads():
    df, info = read_with_info(DATA / "gen5_fl_96_two_filters.txt")
    check_table(df)
    assert "allotropy" in info["note"] and len(df) == 192
    reads = sorted(set(df["read"]))
    assert len(reads) == 2 and all("fluorescence" in r for r in reads)
    assert set(df["flag"]) == {"ok"}  # '?????' in the Ratio row is a calculated value's problem
    assert cell(df, "C5", read_=reads[0]) == (3005.0, "ok")
    assert cell(df, "C5", read_=reads[1]) == (3505.0, "ok")
    grid_df = read(DATA / "gen5_fl_96_two_filters.txt", format="grid")  # labkit's fallback agrees
    assert sorted(set(grid_df["read"])) == ["Fluor:360/40,460/40", "Fluor:485/20,528/20"]
    assert cell(grid_df, "H12", read_="Fluor:485/20,528/20") == (8512.0, "ok")


def test_softmax_utf16_decimal_comma_saturated():
    df, info = read_with_info(DATA / "softmax_lum_96_utf16.txt")
    check_table(df)
    assert info["format"] == "softmax" and info["encoding"] == "utf-16"
    assert set(df["plate"]) == {"CTG_IMS-M2"}
    assert cell(df, "A1") == (1001.1, "ok")
    assert cell(df, "H12") == (8012.12, "ok")
    assert cell(df, "B3")[1] == "overflow"  # '#Sat'
    assert absent(df, "C4")


def test_softmax_mac_roman_cr_two_wavelengths():
    df, info = read_with_info(DATA / "softmax_abs_macroman.txt")
    check_table(df)
    assert info["encoding"] == "mac_roman"
    assert set(df["read"]) == {"absorbance 450 nm", "absorbance 650 nm"}
    assert cell(df, "H12", read_="absorbance 450 nm") == (0.8012, "ok")
    assert cell(df, "H12", read_="absorbance 650 nm") == (0.012, "ok")


def test_tecan_spark_xlsx_grid_with_corner_marker():
    with pytest.warns(ReadoutWarning, match="could not read this file"):
        df, info = read_with_info(DATA / "tecan_spark_lum_96.xlsx")
    check_table(df)
    assert info["format"] == "tecan" and "labkit's grid parser" in info["note"]
    assert cell(df, "A1")[1] == "overflow"  # 'OVER'
    assert absent(df, "G7")
    assert cell(df, "H12") == (8012.0, "ok")
    assert len(df) == 95


def test_tecan_magellan_luminescence_list():
    with pytest.warns(ReadoutWarning, match="could not read this file"):
        df, info = read_with_info(DATA / "tecan_magellan_lum_96.xlsx")
    check_table(df)
    assert info["format"] == "tecan" and "allotropy" in info["note"]
    assert set(df["plate"]) == {"CTG-TEC-1"}
    assert cell(df, "H12") == (8012.5, "ok")


# --- generic --------------------------------------------------------------------------------------------------------
def test_grid_labelled_with_blanks():
    df, info = read_with_info(DATA / "grid_96_labelled.csv")
    check_table(df)
    assert info["format"] == "grid"
    assert absent(df, "A1") and absent(df, "H12")
    assert cell(df, "A2") == (1002.0, "ok")
    assert len(df) == 94


def test_grid_tsv_384_padded():
    df = read(DATA / "grid_384.tsv")
    assert len(df) == 384 and cell(df, "P24") == (16024.0, "ok")


def test_grid_bare_96_no_labels():
    df = read(DATA / "grid_bare_96.csv")
    assert len(df) == 96 and cell(df, "H12") == (8012.0, "ok") and cell(df, "B1") == (2001.0, "ok")


def test_grid_1536_rows_aa_to_af():
    df = read(DATA / "grid_1536_AA.csv")
    check_table(df)
    assert sorted(set(df["row"])) == ["AA", "AB", "AC", "AD", "AE", "AF", "Y", "Z"]
    assert cell(df, "AF48") == (32048.0, "ok")
    assert cell(df, "AA1") == (27001.0, "ok")


def test_grid_named_blocks_two_plates_layout_and_ratio_dropped():
    df = read(DATA / "grid_2plates_blocks.csv")
    check_table(df)
    assert list(dict.fromkeys(df["plate"])) == ["P1", "P2"]
    assert set(df["unit"]) == {"RLU"} and set(df["read"]) == {""}
    assert cell(df, "A1", "P1") == (1001.0, "ok")
    assert cell(df, "A1", "P2") == (1006.0, "ok")
    assert len(df) == 192


def test_grid_xlsx():
    df, info = read_with_info(DATA / "grid_96.xlsx")
    check_table(df)
    assert info["format"] == "grid" and set(df["plate"]) == {"XL-01"}
    assert cell(df, "H12") == (8012.0, "ok")


def test_long_table_with_markers():
    df, info = read_with_info(DATA / "long_wells.csv")
    check_table(df)
    assert info["format"] == "long"
    assert cell(df, "A3")[1] == "overflow" and cell(df, "A4")[1] == "missing"
    assert absent(df, "A5")
    assert cell(df, "H12") == (8012.0, "ok")


def test_long_row_column_semicolon():
    df = read(DATA / "long_rowcol_semicolon.csv")
    assert cell(df, "H12") == (8012.25, "ok") and len(df) == 96


# --- options ------------------------------------------------------------------------------------------------------
def test_plate_option_selects_by_id_or_number_and_relabels_single_plate():
    two = DATA / "microbeta2_grid_2plates.csv"
    assert set(read(two, plate="KIN-TRKA-02")["plate"]) == {"KIN-TRKA-02"}
    assert set(read(two, plate="2")["plate"]) == {"KIN-TRKA-02"}
    assert set(read(DATA / "grid_bare_96.csv", plate="KIN-1")["plate"]) == {"KIN-1"}
    with pytest.raises(Exception, match="KIN-TRKA-01, KIN-TRKA-02"):
        read(two, plate="nope")


def test_format_override_and_unknown_format():
    df, info = read_with_info(DATA / "grid_96_labelled.csv", format="grid")
    assert "chosen by the caller" in info["reason"] and len(df) == 94
    with pytest.raises(Exception, match="unknown format"):
        read(DATA / "grid_96_labelled.csv", format="bogus")


def test_grid_column_header_without_row_letters(tmp_path):
    lines = ["Signal", "," + ",".join(str(c) for c in range(1, 13))]
    lines += ["," + ",".join(str(1000 * (r + 1) + c) for c in range(1, 13)) for r in range(8)]
    path = tmp_path / "nolabels.csv"
    path.write_text("\n".join(lines) + "\n")
    df = read(path)
    assert len(df) == 96 and cell(df, "H12") == (8012.0, "ok") and cell(df, "B1") == (2001.0, "ok")


def test_grid_row_letters_without_column_header(tmp_path):
    lines = [f"{'ABCDEFGHIJKLMNOP'[r]}\t" + "\t".join(str(1000 * (r + 1) + c) for c in range(1, 25)) for r in range(16)]
    path = tmp_path / "noheader.tsv"
    path.write_text("\n".join(lines) + "\n")
    df = read(path)
    assert len(df) == 384 and cell(df, "P24") == (16024.0, "ok") and cell(df, "A1") == (1001.0, "ok")
