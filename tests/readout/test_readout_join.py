"""labkit.readout.join.join_layout with hand-built wells tables (and the real layouts when present)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from labkit.errors import ReadoutError
from labkit.readout import read
from labkit.readout.join import JoinWarning, join_layout, map_plates
from labkit.tables import READOUT_COLUMNS, WELLS_COLUMNS, plate_wells, split_well

DATA = Path(__file__).parents[1] / "data" / "readout"
ROOT = Path(__file__).parents[2]


def wells_table(plates: list[str], fmt: int = 96, empty: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = []
    for p in plates:
        for i, w in enumerate(plate_wells(fmt)):
            letters, col = split_well(w)
            role = "empty" if w in empty else ("vehicle" if col == 1 else "sample")
            rows.append((p, w, letters, col, role, "" if role != "sample" else "entrectinib",
                         math.nan if role != "sample" else 1e-6 / 3 ** (col - 2), col - 2 if role == "sample" else -1,
                         1 + (i % 2), "TRKA", ""))
    df = pd.DataFrame(rows, columns=list(WELLS_COLUMNS))
    return df.astype({"column": "int64", "point": "int64", "replicate": "int64", "conc_M": "float64"})


def readout(plates: list[str], wells: list[str] | None = None) -> pd.DataFrame:
    wells = wells or plate_wells(96)
    rows = []
    for p in plates:
        for k, w in enumerate(wells):
            letters, col = split_well(w)
            rows.append(("f.csv", p, w, letters, col, float(k), "CPM", "", "ok"))
    return pd.DataFrame(rows, columns=list(READOUT_COLUMNS))


def test_exact_ids_join_every_well():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = join_layout(readout(["KIN-1", "KIN-2"]), wells_table(["KIN-1", "KIN-2"]))
    assert list(out.columns) == [*READOUT_COLUMNS, "readout_plate", "role", "compound", "conc_M", "point",
                                 "replicate", "target", "cell_line"]
    assert len(out) == 192
    a3 = out[(out.plate == "KIN-2") & (out.well == "A3")].iloc[0]
    assert a3.role == "sample" and a3.compound == "entrectinib" and a3.point == 1 and a3.target == "TRKA"
    assert math.isclose(a3.conc_M, 1e-6 / 3)


def test_index_plates_map_by_order_with_a_warning():
    with pytest.warns(JoinWarning, match="by order: 1 -> KIN-1, 2 -> KIN-2"):
        out = join_layout(readout(["1", "2"]), wells_table(["KIN-1", "KIN-2"]))
    assert set(out.plate) == {"KIN-1", "KIN-2"}
    assert set(out.readout_plate) == {"1", "2"}


def test_explicit_plate_map_wins():
    out = join_layout(readout(["1", "2"]), wells_table(["KIN-1", "KIN-2"]), plate_map={"1": "KIN-2", "2": "KIN-1"})
    assert out.loc[out.readout_plate == "1", "plate"].unique().tolist() == ["KIN-2"]
    with pytest.raises(ReadoutError, match="no layout plate for readout plate"):
        join_layout(readout(["1", "2"]), wells_table(["KIN-1", "KIN-2"]), plate_map={"1": "KIN-2"})
    with pytest.raises(ReadoutError, match="not in the layout"):
        join_layout(readout(["1"]), wells_table(["KIN-1"]), plate_map={"1": "KIN-9"})


def test_more_readout_plates_than_layout_plates_is_an_error_naming_them():
    with pytest.raises(ReadoutError) as exc:
        join_layout(readout(["KIN-1", "X-7", "X-8"]), wells_table(["KIN-1", "KIN-2"]), source="lay.yaml")
    text = str(exc.value)
    assert "3 plates" in text and "X-8" in text and "lay.yaml" in text


def test_plate_format_mismatch_names_wells_and_plates():
    with pytest.raises(ReadoutError) as exc:
        join_layout(readout(["KIN-1"], plate_wells(384)), wells_table(["KIN-1"]))
    text = str(exc.value)
    assert "mismatch" in text and "A13" in text and "KIN-1" in text and "96-well" in text


def test_small_readout_on_big_layout_warns():
    with pytest.warns(JoinWarning, match="96-well area"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*no readout value")
            join_layout(readout(["P"]), wells_table(["P"], fmt=384))


def test_missing_layout_wells_warn_and_unassigned_wells_are_kept():
    wells = [w for w in plate_wells(96) if w not in ("B2", "C3")]
    layout = wells_table(["KIN-1"], empty=("H12",))
    layout = layout[layout.well != "D4"]  # D4 has no layout entry
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = join_layout(readout(["KIN-1"], wells + ["H12"] if "H12" not in wells else wells), layout)
    messages = " | ".join(str(w.message) for w in caught)
    assert "B2, C3" in messages and "no readout value" in messages
    assert "H12" not in messages.split("no readout value")[1].split("|")[0]  # empty wells need no value
    assert "KIN-1:D4" in messages and "unassigned" in messages
    d4 = out[out.well == "D4"].iloc[0]
    assert d4.role == "unassigned" and d4.point == -1 and d4.replicate == 0 and math.isnan(d4.conc_M)
    assert len(out) == 94


def test_layout_plates_without_readout_warn():
    with pytest.warns(JoinWarning, match="KIN-2 have no plate in the readout"):
        join_layout(readout(["KIN-1"]), wells_table(["KIN-1", "KIN-2"]))


def test_map_plates_rule_mixed():
    with pytest.warns(JoinWarning):
        got = map_plates(["B", "9"], ["A", "B", "C"])
    assert got == {"B": "B", "9": "A"}


def test_join_real_fixture_and_layout_if_available():
    io = pytest.importorskip("labkit.layout.io")
    layout = ROOT / "layouts" / "viability_km12.yaml"
    if not layout.exists():
        pytest.skip("seed layout not present")
    wells = io.load_experiment(layout).wells_table()
    df = read(DATA / "grid_bare_96.csv")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        out = join_layout(df, wells, source=str(layout))
    assert len(out) == len(df)
    assert set(out.plate) == {wells.plate.iloc[0]}
    assert set(out.role) <= {*wells.role.unique(), "unassigned"}


def test_bad_tables_are_readout_errors():
    layout = wells_table(["KIN-1"])
    with pytest.raises(ReadoutError, match="twice"):
        join_layout(readout(["KIN-1"]), pd.concat([layout, layout.head(2)]))
    with pytest.raises(ReadoutError, match="lacks columns"):
        join_layout(readout(["KIN-1"]).drop(columns=["flag"]), layout)
    with pytest.raises(ReadoutError, match="lacks columns"):
        join_layout(readout(["KIN-1"]), layout.drop(columns=["role"]))
