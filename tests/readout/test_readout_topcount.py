"""labkit.readout.topcount: TopCount NXT plate / column output files, in the layouts of real instrument files.

Fixture layouts follow the TopCount files of github.com/tzielins/BioDare2-topcount (see tests/data/readout/
README.md); values follow v(row, col) = 1000 * (row + 1) + col (+ 10000 per further cycle).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.cli import main
from labkit.errors import ReadoutError
from labkit.readout import detect, read, read_with_info
from labkit.readout.records import TruncatedError

DATA = Path(__file__).parents[1] / "data" / "readout"


def value(df, well: str, read_: str = "") -> float:
    sel = df[(df["well"] == well) & (df["read"] == read_)]
    assert len(sel) == 1 and (sel["flag"] == "ok").all(), sel
    return float(sel["value"].iloc[0])


def test_plate_output_counts_not_read_times_and_unread_rows_absent():
    df, info = read_with_info(DATA / "topcount_plate_96.001")
    assert info["format"] == "microbeta" and "TopCount plate output" in info["reason"]
    assert len(df) == 48 and set(df["row"]) == {"A", "C", "E", "G"}  # rows B, D, F, H were not counted
    assert set(df["unit"]) == {"counts"} and set(df["read"]) == {""} and set(df["plate"]) == {"1"}
    assert value(df, "A1") == 1001.0 and value(df, "C12") == 3012.0 and value(df, "G11") == 7011.0
    assert df["value"].between(1001, 7012).all()  # no read time of day (13:08:11) taken as a count


def test_kinetic_plate_output_cycles_become_repeats():
    df = read(DATA / "topcount_plate_kinetic.txt")
    assert df.groupby("read").size().to_dict() == {"repeat 1": 48, "repeat 2": 48, "repeat 3": 48}
    assert [value(df, "A1", f"repeat {k}") for k in (1, 2, 3)] == [1001.0, 11001.0, 21001.0]
    assert value(df, "H11", "repeat 3") == 28011.0
    assert set(df["column"]) == {1, 3, 5, 7, 9, 11}  # even columns not counted: blank, not 0


def test_column_output_positions_row_major_and_restart_per_cycle():
    df, info = read_with_info(DATA / "topcount_columns.001")
    assert "TopCount column output" in info["reason"]
    assert df.groupby("read").size().to_dict() == {"repeat 1": 96, "repeat 2": 96}
    assert value(df, "A12", "repeat 1") == 1012.0
    assert value(df, "B1", "repeat 1") == 2001.0  # position 13
    assert value(df, "H12", "repeat 2") == 18012.0


def test_single_cycle_column_output_has_no_read_name_and_384_positions(tmp_path):
    lines = [f"{p:>3} ,{p * 3:>4} ,9:{p // 60 % 60:02d}:{p % 60:02d} PM " for p in range(1, 385)]
    path = tmp_path / "2001.001"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    df = read(path)
    assert len(df) == 384 and set(df["read"]) == {""}
    assert value(df, "A24") == 72.0 and value(df, "B1") == 75.0 and value(df, "P24") == 1152.0


def _cut(name: str, marker: bytes, extra: int = 0) -> bytes:
    raw = (DATA / name).read_bytes()
    return raw[: raw.index(marker) + extra]


@pytest.mark.parametrize("data", [
    _cut("topcount_plate_96.001", b"    \r\n    \r\n"),               # counts grid, no time grid
    _cut("topcount_plate_96.001", b"  E \t  13:", 0),                 # time grid stops after row D
    _cut("topcount_plate_96.001", b"  E \t  13:", 12),                # in the middle of a time row
    _cut("topcount_plate_kinetic.txt", b"  C \t23001"),               # third cycle's counts cut
])
def test_truncated_plate_output_is_an_error_naming_the_line(tmp_path, data):
    path = tmp_path / "0074.002"
    path.write_bytes(data)
    with pytest.raises(TruncatedError) as exc:
        read(path)
    assert "truncated" in str(exc.value) and "0074.002" in str(exc.value) and exc.value.line


def test_truncated_or_garbled_column_output(tmp_path):
    raw = (DATA / "topcount_columns.001").read_bytes()
    path = tmp_path / "1609.484"
    path.write_bytes(raw[: raw.index(b" 50 ,") + 12])
    with pytest.raises(TruncatedError) as exc:
        read(path)
    assert exc.value.line == 50
    path.write_bytes(raw.replace(b" 20 ,8008 ,", b" 20 ,8008 ;", 1).replace(b" 20 ,2008", b"oops: 2008"))
    with pytest.raises(ReadoutError) as exc:
        read(path)
    assert exc.value.line == 20 and "position, counts, time" in str(exc.value)


def test_ordinary_grids_are_not_taken_for_topcount():
    assert detect(DATA / "grid_96_labelled.csv")[0] == "grid"
    assert detect(DATA / "grid_384.tsv")[0] == "grid"


def test_cli_import_says_topcount(tmp_path, capsys):
    out = tmp_path / "tc.csv"
    with pytest.raises(SystemExit) as code:
        main(["import", str(DATA / "topcount_plate_96.001"), "-o", str(out)])
    assert code.value.code in (0, None)
    err = capsys.readouterr().err
    assert "microbeta" in err and "TopCount plate output" in err and out.is_file()


@given(st.dictionaries(st.integers(1, 96), st.integers(0, 2_000_000), min_size=1, max_size=96),
       st.sampled_from(["\r\n", "\n"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_column_output_round_trips_any_counts(tmp_path, counts, newline):
    lines = [f"{p:>3} ,{counts[p]:>4} ,10:{p % 60:02d}:{(7 * p) % 60:02d} AM " for p in sorted(counts)]
    path = tmp_path / "h.001"
    path.write_bytes((newline.join(lines) + newline).encode())
    df = read(path, partial=True)  # any subset of positions: most stop before H12 (refused without --partial)
    got = {(r["row"], r["column"]): r["value"] for r in df.to_dict("records")}
    want = {("ABCDEFGH"[(p - 1) // 12], (p - 1) % 12 + 1): float(n) for p, n in counts.items()}
    assert got == want
