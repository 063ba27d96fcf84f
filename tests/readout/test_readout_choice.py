"""Readouts never guess silently: long-table value column (--value), multi-read files (--read), what was
found but not used, .xls workbooks, encodings by chardet, and 1536-well plates end to end."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.cli import main
from labkit.errors import ReadoutError
from labkit.readout import ReadoutWarning, pick_read, read, read_for_analysis, read_with_info
from labkit.readout.text import decode

DATA = Path(__file__).parents[1] / "data" / "readout"
LAYOUTS = Path(__file__).parents[1] / "data" / "layouts"


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code)


def v(r: int, c: int) -> float:
    return 1000.0 * (r + 1) + c


# --- long tables: the value column --------------------------------------------------------------------------------
def test_two_candidate_value_columns_stop_with_exit_2_listing_them(capsys):
    assert run(["import", str(DATA / "long_scan_intensity.csv")]) == 2
    err = capsys.readouterr().err
    assert "more than one column could be the value" in err and "'scan_id'" in err and "'intensity'" in err
    assert "--value" in err and "long_scan_intensity.csv:1" in err and "Traceback" not in err


def test_value_option_chooses_and_the_choice_is_printed(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert run(["import", str(DATA / "long_scan_intensity.csv"), "--value", "intensity", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "columns: plate from 'plate_barcode', well from 'well', value from 'intensity'" in err
    assert "not used: 'scan_id'" in err
    df = pd.read_csv(out)
    assert set(df["plate"]) == {"SCAN-7"} and len(df) == 96
    assert df.set_index("well").loc["H12", "value"] == v(7, 12) + 0.5
    df = read(DATA / "long_scan_intensity.csv", value="SCAN_ID")  # any case
    assert df.set_index("well").loc["B1", "value"] == 13.0


def test_value_option_errors(capsys):
    assert run(["import", str(DATA / "long_scan_intensity.csv"), "--value", "OD600"]) == 2
    assert "no column 'OD600'" in capsys.readouterr().err
    with pytest.raises(ReadoutError, match="holds no numbers"):
        read(DATA / "long_scan_intensity.csv", value="read_time")
    with pytest.raises(ReadoutError, match="chooses a column of a long table"):
        read(DATA / "grid_384.tsv", value="RLU")


def test_preferred_name_is_used_and_the_others_are_named():
    df, info = read_with_info(DATA / "trilux_list_positions.txt")
    assert info["columns"] == ["plate from 'Plate', well from 'Pos', value from 'CCPM1' "
                               "(other numeric columns, not used: 'Det', 'CPM1', 'Time(s)')"]
    assert set(df["unit"]) == {"CCPM"}
    cpm = read(DATA / "trilux_list_positions.txt", value="CPM1")
    assert set(cpm["unit"]) == {"CPM"} and not np.allclose(cpm["value"], df["value"])


NEUTRAL = ["scan_id", "intensity", "reading", "mean_px", "channel_a", "x_pos"]
PREFERRED = ["RLU", "CPM", "Signal"]
IGNORED = ["Time [s]", "Temp", "Index", "Cycle"]


@st.composite
def long_tables(draw):
    """A long table: Plate, Well and a random set of numeric columns of three kinds, in random order."""
    names = draw(st.lists(st.sampled_from(NEUTRAL + PREFERRED + IGNORED), min_size=1, max_size=5, unique=True))
    text_col = draw(st.booleans())
    cols = draw(st.permutations(names + (["Comment"] if text_col else [])))
    n = draw(st.integers(2, 12))
    values = {c: [float(draw(st.integers(0, 10**6))) for _ in range(n)] for c in cols if c != "Comment"}
    lines = [",".join(["Plate", "Well", *cols])]
    for i in range(n):
        cells = [f"{values[c][i]:g}" if c != "Comment" else "ok?" for c in cols]
        lines.append(",".join(["P1", f"A{i + 1}", *cells]))
    return cols, values, "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=long_tables(), pick=st.integers(0, 10))
def test_long_table_value_column_is_chosen_or_refused_never_guessed(tmp_path, table, pick):
    cols, values, text = table
    path = tmp_path / "t.csv"
    path.write_text(text)
    preferred = [c for c in cols if c in PREFERRED]
    neutral = [c for c in cols if c in NEUTRAL]
    try:
        df, info = read_with_info(path)
    except ReadoutError as err:
        assert "--value" in err.message
        if not preferred and not neutral:  # only times / indices: nothing is taken for the value
            assert "no value column" in err.message
            return
        listed = re.findall(r"'([^']+)'", err.message.split(";")[0])
        assert len(listed) >= 2 and "--value" in err.message
        # refused only when no single preferred name decides and two or more plain numeric columns are left
        assert len(set(listed) & set(NEUTRAL + PREFERRED)) >= 2
        assert not preferred and len(neutral) >= 2
    else:
        used = re.search(r"value from '([^']+)'", info["columns"][0]).group(1)
        assert used in values
        assert df["value"].tolist() == values[used]
        assert used in preferred or (not preferred and neutral == [used])
        for other in values:
            if other != used:
                assert f"'{other}'" in info["columns"][0]  # named as not used
    # --value always takes exactly the column asked for
    numeric = sorted(values)
    chosen = numeric[pick % len(numeric)]
    df = read(path, value=chosen)
    assert df["value"].tolist() == values[chosen]


# --- multi-read files ---------------------------------------------------------------------------------------------
def test_gen5_two_filters_lists_every_read_and_what_was_not_used(capsys, tmp_path):
    assert run(["import", str(DATA / "gen5_fl_96_two_filters.txt"), "-o", str(tmp_path / "r.csv")]) == 0
    err = capsys.readouterr().err
    assert ("reads: 2 found: 'fluorescence ex 360 nm 460 nm', 'fluorescence ex 485 nm 528 nm'; all kept "
            "(column 'read'), choose one with --read NAME") in err
    assert "'Ratio' (calculated by the reader software)" in err and "'Normalized Data'" in err
    assert len(pd.read_csv(tmp_path / "r.csv")) == 192
    assert run(["import", str(DATA / "gen5_fl_96_two_filters.txt"), "--read", "485", "-o",
                str(tmp_path / "g.csv")]) == 0
    assert "'fluorescence ex 485 nm 528 nm' (used)" in capsys.readouterr().err
    df = pd.read_csv(tmp_path / "g.csv")
    assert len(df) == 96 and df.set_index("well").loc["A1", "value"] == 1501.0


def test_envision_plate_read_twice_gives_two_reads_not_duplicates():
    df, info = read_with_info(DATA / "envision_lum_96_2repeats.csv")
    assert info["reads"] == ["repeat 1", "repeat 2"] and len(df) == 192
    w = df.set_index(["read", "well"])["value"]
    assert w[("repeat 1", "H12")] == v(7, 12) and w[("repeat 2", "H12")] == round(v(7, 12) * 0.9)
    one = read(DATA / "envision_lum_96_2repeats.csv", read="2")
    assert len(one) == 96 and set(one["read"]) == {"repeat 2"}


def test_read_choice_by_name_number_or_part():
    reads = ["absorbance 450 nm", "absorbance 650 nm"]
    assert pick_read(reads, "Absorbance 650 nm") == reads[1]
    assert pick_read(reads, "1") == reads[0] and pick_read(reads, "650") == reads[1]
    with pytest.raises(ReadoutError, match="matches several reads"):
        pick_read(reads, "absorbance")
    with pytest.raises(ReadoutError, match=r"is not a read of this file; the file has 2 reads: 1: 'absorb"):
        pick_read(reads, "luminescence")
    assert pick_read([], "anything") == ""
    df = read(DATA / "softmax_abs_macroman.txt", read="650")
    assert set(df["read"]) == {"absorbance 650 nm"} and len(df) == 96


def test_grid_files_name_the_grids_they_did_not_take():
    _, info = read_with_info(DATA / "microbeta2_grid_2plates.csv")
    assert any("CPM1" in u and "not preferred" in u for u in info["unused"])
    assert any("Counting time" in u and "read times" in u for u in info["unused"])
    _, info = read_with_info(DATA / "grid_2plates_blocks.csv")
    assert any("Ratio to vehicle" in u and "calculated" in u for u in info["unused"])


def test_analysis_needs_one_read_and_says_which_was_used(tmp_path, capsys):
    with pytest.raises(ReadoutError, match=r"the file has 2 reads .*choose it with --read"):
        read_for_analysis(DATA / "gen5_fl_96_two_filters.txt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_for_analysis(DATA / "gen5_fl_96_two_filters.txt", read="360")
    notes = [str(w.message) for w in caught if w.category is ReadoutWarning]
    assert len(df) == 96
    assert any("read 'fluorescence ex 360 nm 460 nm' used; not used: 'fluorescence ex 485 nm 528 nm'" in n
               for n in notes)
    assert any("'Ratio' (calculated" in n for n in notes)
    layout = Path(__file__).parents[1] / "data" / "analysis" / "kinase_96.yaml"
    assert run(["analyze", str(DATA / "gen5_fl_96_two_filters.txt"), "--layout", str(layout), "-o",
                str(tmp_path / "out")]) == 2
    assert "--read NAME" in capsys.readouterr().err


# --- .xls ---------------------------------------------------------------------------------------------------------
def test_old_excel_xls_is_read():
    with pytest.warns(ReadoutWarning, match="reads .xlsx files only"):
        df, info = read_with_info(DATA / "tecan_icontrol_lum_96.xls")
    assert info["format"] == "tecan" and info["encoding"] == "xls"
    w = df.set_index("well")
    assert w.loc["A1", "flag"] == "overflow" and np.isnan(w.loc["A1", "value"])
    assert "G7" not in w.index and len(df) == 95
    assert w.loc["H12", "value"] == v(7, 12) and w.loc["C5", "value"] == v(2, 5)


def test_damaged_xls_is_a_readout_error(tmp_path):
    data = (DATA / "tecan_icontrol_lum_96.xls").read_bytes()
    (tmp_path / "cut.xls").write_bytes(data[:1500])
    with pytest.raises(ReadoutError, match=r"\.xls\) file but it cannot be read"):
        read(tmp_path / "cut.xls")


# --- encodings ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "cp1252", "mac_roman"])
def test_encodings_without_bom_are_detected(encoding):
    text = "Protocol: CTG 25 µL, 37 °C, Müller\r\nWell\tRLU\r\nA1\t1001\r\nA2\t1002\r\n" * 3
    got, enc = decode(text.encode(encoding), "x.txt")
    assert got == text and enc == encoding


# --- 1536-well plates ---------------------------------------------------------------------------------------------
def test_long_1536_table_rows_aa_to_af():
    df = read(DATA / "long_1536_quadrant.csv")
    w = df.set_index("well")
    assert len(df) == 384 and w.loc["AF48", "value"] == v(31, 48) and w.loc["AB2", "value"] == v(27, 2)
    assert "AA2" not in w.index
    assert set(df["row"]) >= {"B", "Z", "AB", "AD", "AF"}


def test_1536_layout_validates_and_protocol_is_refused(capsys):
    assert run(["layout", "validate", str(LAYOUTS / "viability_1536.yaml")]) == 0
    assert run(["protocol", str(LAYOUTS / "viability_1536.yaml")]) == 2
    err = capsys.readouterr().err
    assert "protocols support 96- and 384-well plates" in err and "1536" in err and "analysis" in err


def test_1536_plate_imports_joins_and_analyses(tmp_path):
    from labkit.analysis.pipeline import analyze_files
    from labkit.layout.io import load_experiment
    from labkit.readout.writers import write_luminescence

    wells = load_experiment(LAYOUTS / "viability_1536.yaml").wells_table()
    assert len(wells) == 1536 and set(wells["row"]) >= {"AA", "AF"}
    truth = {"KM12": 2e-9, "HCT-116": 5e-8}
    rng = np.random.default_rng(7)
    act = {"vehicle": 1.0, "blank": 0.0}
    values = []
    for w in wells.itertuples():
        if w.role in ("sample", "reference"):
            a = 1 / (1 + w.conc_M / truth[w.cell_line])
        else:
            a = act.get(w.role, np.nan)
        values.append(800 + 249200 * a * rng.lognormal(0, 0.05))
    table = wells.assign(value=values).dropna(subset=["value"])
    path = write_luminescence(table[["plate", "well", "value"]], tmp_path / "ctg_1536.csv", plate_format=1536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result, paths = analyze_files([path], LAYOUTS / "viability_1536.yaml", tmp_path / "out")
    res = pd.read_csv(paths["results"]) if "results" in paths else pd.read_csv(tmp_path / "out" / "results.csv")
    for line, ic50 in truth.items():
        got = float(res.loc[res["cell_line"] == line, "ic50_M"].iloc[0])
        assert ic50 / 1.5 < got < ic50 * 1.5, (line, got)
    heatmaps = list((tmp_path / "out" / "heatmaps").glob("*.png"))
    assert len(heatmaps) == 1 and heatmaps[0].stat().st_size > 20_000


def test_protocol_all_skips_analysis_only_1536_layouts(tmp_path):
    import shutil

    from labkit.protocol.cli import regenerate_all

    layouts = tmp_path / "layouts"
    layouts.mkdir()
    shutil.copy(LAYOUTS / "viability_1536.yaml", layouts)
    shutil.copy(Path(__file__).parents[2] / "layouts" / "dilution_tutorial.yaml", layouts)
    written = regenerate_all(layouts, tmp_path / "protocols")
    assert sorted(p.name for p in written) == ["dilution_tutorial_flex.py", "dilution_tutorial_ot2.py"]


def test_analyze_refuses_an_ambiguous_long_table_and_names_value(tmp_path, capsys):
    layout = Path(__file__).parents[1] / "data" / "analysis" / "kinase_96.yaml"
    assert run(["analyze", str(DATA / "long_scan_intensity.csv"), "--layout", str(layout), "-o",
                str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'scan_id', 'intensity'" in err and "--value" in err


def test_summary_rows_of_a_long_table_are_named_not_dropped_silently(tmp_path):
    (tmp_path / "s.csv").write_text("Well,RLU\nA1,100\nA2,200\nMean,150\nSD,70\n")
    df, info = read_with_info(tmp_path / "s.csv")
    assert len(df) == 2
    assert info["unused"] == ["summary rows of the table, not wells: 'Mean' (line 4), 'SD' (line 5)"]
