"""labkit.readout.writers: virtual MicroBeta2 / EnVision exports round-trip through read()."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.errors import ReadoutError
from labkit.readout import ReadoutWarning, read_with_info
from labkit.readout.writers import write_luminescence, write_microbeta
from labkit.tables import plate_wells


def table(plates: list[str], fmt: int, values: np.ndarray, flags: list[str] | None = None,
          drop: tuple[int, ...] = ()) -> pd.DataFrame:
    wells = plate_wells(fmt)
    df = pd.DataFrame({"plate": np.repeat(plates, len(wells)), "well": wells * len(plates),
                       "value": values[: len(wells) * len(plates)]})
    df["flag"] = flags or "ok"
    df.loc[df.flag != "ok", "value"] = np.nan
    return df.drop(index=list(drop)).reset_index(drop=True)


def same(written: pd.DataFrame, got: pd.DataFrame) -> None:
    m = written.merge(got, on=["plate", "well"], how="outer", suffixes=("", "_r"), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert (m["flag"] == m["flag_r"]).all()
    ok = m["flag"] == "ok"
    assert (m.loc[ok, "value"] == m.loc[ok, "value_r"]).all()  # exact, not approximately
    assert m.loc[~ok, "value_r"].isna().all()


@pytest.mark.parametrize("writer, fmt_name, unit", [(write_microbeta, "microbeta", "CPM"),
                                                     (write_luminescence, "envision", "CPS")])
def test_round_trip_two_384_plates_with_flags_and_gaps(tmp_path, writer, fmt_name, unit):
    rng = np.random.default_rng(1)
    flags = ["ok"] * 768
    flags[5], flags[400], flags[700] = "overflow", "missing", "invalid"
    df = table(["KIN-1", "KIN-2"], 384, rng.integers(100, 90000, 768).astype(float), flags, drop=(10, 11, 500))
    df.loc[3, "value"] = 1234.5678
    path = writer(df, tmp_path / "out.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadoutWarning)  # allotropy cannot read OVRFLW; labkit's fallback does
        got, info = read_with_info(path)
    assert info["format"] == fmt_name and set(got["unit"]) == {unit}
    assert list(dict.fromkeys(got["plate"])) == ["KIN-1", "KIN-2"]
    same(df, got)


def test_all_ok_envision_is_read_by_allotropy(tmp_path):
    df = table(["CTG-1"], 96, np.arange(96, dtype=float) * 10 + 5)
    got, info = read_with_info(write_luminescence(df, tmp_path / "lum.csv"))
    assert "allotropy" in info["note"] and "could not" not in info["note"]
    same(df, got)


def test_output_is_deterministic(tmp_path):
    df = table(["A"], 96, np.arange(96, dtype=float))
    for writer in (write_microbeta, write_luminescence):
        a = writer(df, tmp_path / "a.csv").read_bytes()
        b = writer(df, tmp_path / "b.csv").read_bytes()
        assert a == b


def test_microbeta_file_looks_like_the_instrument(tmp_path):
    df = table(["KIN-1"], 96, np.arange(96, dtype=float))
    raw = write_microbeta(df, tmp_path / "m.csv").read_bytes()
    assert raw.count(b"\r\n") > 20 and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode()
    assert text.startswith("PerkinElmer MicroBeta2") and 'Barcode,="KIN-1"' in text
    assert "\r\nCPM\r\n" in text and "Counting time (s)" in text


def test_writer_rejects_bad_tables(tmp_path):
    with pytest.raises(ReadoutError, match="'value' column"):
        write_microbeta(pd.DataFrame({"plate": ["A"], "well": ["A1"]}), tmp_path / "x.csv")
    with pytest.raises(ReadoutError, match="not a well"):
        write_microbeta(pd.DataFrame({"plate": ["A"], "well": ["hello"], "value": [1.0]}), tmp_path / "x.csv")
    with pytest.raises(ReadoutError, match="columns go up to 48"):  # no plate format has 99 columns
        write_microbeta(pd.DataFrame({"plate": ["A"], "well": ["Q99"], "value": [1.0]}), tmp_path / "x.csv")
    with pytest.raises(ReadoutError, match="do not fit a 96-well"):
        write_microbeta(pd.DataFrame({"plate": ["A"], "well": ["P24"], "value": [1.0]}), tmp_path / "x.csv",
                        plate_format=96)
    with pytest.raises(ReadoutError, match="unknown flag"):
        write_luminescence(pd.DataFrame({"plate": ["A"], "well": ["A1"], "value": [1.0], "flag": ["meh"]}),
                           tmp_path / "x.csv")


@given(st.lists(st.one_of(st.floats(0, 1e7, allow_nan=False), st.integers(0, 10**7).map(float),
                          st.sampled_from(["overflow", "missing", "invalid", None])), min_size=96, max_size=96))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_microbeta_round_trip_any_values(tmp_path, cells):
    flags = [c if isinstance(c, str) else "ok" for c in cells]
    values = np.array([c if isinstance(c, float) else np.nan for c in cells])
    keep = [i for i, c in enumerate(cells) if c is not None]
    df = table(["P-1"], 96, values, flags).iloc[keep].reset_index(drop=True)
    if df.empty:
        return
    got, _ = read_with_info(write_microbeta(df, tmp_path / "h.csv"))
    same(df, got)
