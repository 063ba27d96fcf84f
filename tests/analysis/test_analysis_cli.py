"""The analysis commands: `labkit fit` (this part) and `labkit analyze`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labkit.analysis.fit import TABLE_COLUMNS
from labkit.cli import main

DATA = Path(__file__).parents[1] / "data"


def run(argv: list[str]) -> int:
    """labkit.cli.main in-process; returns the exit code."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


# --- labkit fit --------------------------------------------------------------------------------------------

def test_fit_ryegrass_matches_drc(tmp_path):
    out = tmp_path / "fit.csv"
    src = tmp_path / "rye.csv"
    df = pd.read_csv(DATA / "fit" / "ryegrass.csv").assign(assay="rye")
    df.to_csv(src, index=False)
    assert run(["fit", str(src), "--curve", "assay", "--conc", "conc", "--response", "rootl", "--model", "ll4",
                "--unbounded", "-o", str(out)]) == 0
    res = pd.read_csv(out, keep_default_na=False)
    assert list(res.columns) == ["assay"] + list(TABLE_COLUMNS)
    row = res.iloc[0]
    assert row["assay"] == "rye" and row["n"] == 24 and row["df"] == 20 and row["flags"] == ""
    for col, want in (("b", 2.98222), ("b_se", 0.46506), ("c", 0.48141), ("c_se", 0.21219), ("d", 7.79296),
                      ("d_se", 0.18857), ("e", 3.05795), ("e_se", 0.18573), ("rse", 0.5196256)):
        assert float(row[col]) == pytest.approx(want, rel=5e-5), col
    assert row["ic50"] == row["e"] and row["hill"] == -row["b"]


def test_fit_without_curve_column_is_one_curve(tmp_path):
    out = tmp_path / "o.csv"
    assert run(["fit", str(DATA / "fit" / "ryegrass.csv"), "--conc", "conc", "--response", "rootl",
                "--model", "ll4", "--unbounded", "-o", str(out)]) == 0
    res = pd.read_csv(out)
    assert list(res["curve"]) == ["ryegrass"] and res["e"].iloc[0] == pytest.approx(3.05795, rel=5e-5)


def test_fit_two_key_columns_options_and_weights(tmp_path):
    rng = np.random.default_rng(0)
    doses = np.r_[0, np.logspace(-9, -5, 9)]
    rows = []
    for cmpd, ic50 in (("entrectinib", 2e-9), ("crizotinib", 4e-8)):
        for target in ("TRKA", "ROS1"):
            for _rep in range(2):
                for x in doses:
                    cpm = 200 + 9800 / (1 + (x / ic50) ** 1.1) if x > 0 else 10000.0
                    rows.append({"compound": cmpd, "target": target, "conc_M": x,
                                 "cpm": rng.poisson(cpm), "pct": 100 * (cpm - 200) / 9800})
    src = tmp_path / "kinase.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "ic50.csv"
    code = run(["fit", str(src), "--curve", "compound", "--curve", "target", "--conc", "conc_M", "--response",
                "cpm", "--weights", "1/y", "--model", "ll4", "--unbounded", "-o", str(out)])
    assert code == 0
    res = pd.read_csv(out, keep_default_na=False)
    assert len(res) == 4 and set(res["compound"]) == {"entrectinib", "crizotinib"}
    ent = res[res["compound"] == "entrectinib"]
    assert np.allclose(ent["ic50"], 2e-9, rtol=0.3) and (ent["pic50"] > 8.4).all()
    out3 = tmp_path / "fixed.csv"
    assert run(["fit", str(src), "--curve", "compound", "--curve", "target", "--conc", "conc_M", "--response",
                "pct", "--fix-top", "100", "--fix-bottom", "0", "-o", str(out3)]) == 0
    fixed = pd.read_csv(out3)
    assert (fixed["d"] == 100).all() and (fixed["c"] == 0).all() and fixed["d_se"].isna().all()
    assert (fixed["df"] == 18).all()  # 20 points - b, e
    out4 = tmp_path / "ll3.csv"
    assert run(["fit", str(src), "--curve", "compound", "--curve", "target", "--conc", "conc_M", "--response",
                "pct", "--model", "ll3", "-o", str(out4)]) == 0
    assert (pd.read_csv(out4)["c"] == 0).all()


def test_fit_errors_name_file_column_and_line(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    shutil.copy(DATA / "fit" / "ryegrass.csv", src)
    out = tmp_path / "o.csv"
    assert run(["fit", str(src), "--curve", "cmpd", "--conc", "conc", "--response", "rootl", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "'cmpd' not found" in err and "Traceback" not in err
    lines = src.read_text().splitlines()
    lines[4] = "seven,0.0"  # CSV line 5
    src.write_text("\n".join(lines) + "\n")
    assert run(["fit", str(src), "--conc", "conc", "--response", "rootl", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:5: rootl: 'seven' is not a finite number" in err
    assert not out.exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run(["fit", str(empty), "--conc", "conc", "--response", "rootl", "-o", str(out)]) == 2
    assert "empty.csv" in capsys.readouterr().err
    assert run(["fit", str(DATA / "fit" / "ryegrass.csv"), "--curve", "conc", "--conc", "conc", "--response",
                "rootl", "-o", str(out)]) == 0  # a key may also be the concentration column
    pd.read_csv(DATA / "fit" / "ryegrass.csv").assign(e=1).to_csv(src, index=False)
    assert run(["fit", str(src), "--curve", "e", "--conc", "conc", "--response", "rootl", "-o", str(out)]) == 2
    assert "'e' has the name of an output column" in capsys.readouterr().err


def test_fit_flags_instead_of_crashing(tmp_path):
    src = tmp_path / "mixed.csv"
    doses = [0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5]
    rows = [("good", x, 100 / (1 + (x / 1e-7) ** 1.2) + (1.5 if i % 2 else -1.5)) for i, x in enumerate(doses)]
    rows += [("blank", x, "") for x in doses]
    rows += [("two", x, 50.0) for x in doses[:2]]
    pd.DataFrame(rows, columns=["cmpd", "x", "y"]).to_csv(src, index=False)
    out = tmp_path / "o.csv"
    assert run(["fit", str(src), "--curve", "cmpd", "--conc", "x", "--response", "y", "-o", str(out)]) == 0
    res = pd.read_csv(out, keep_default_na=False).set_index("cmpd")
    assert res.loc["good", "flags"] == "" and res.loc["blank", "flags"] == "all_nan"
    assert res.loc["two", "flags"] == "too_few_points"


def test_fit_help_shows_an_example():
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--help"])
    assert exc.value.code == 0


# --- labkit analyze ----------------------------------------------------------------------------------------


# --- csv_text: labkit fit's CSV writer is pandas' to_csv byte for byte ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(-0.0)),
                          st.integers(-2**62, 2**62), st.booleans(),
                          st.text(alphabet=st.sampled_from('ab,;"\n\r x1(=)é'), max_size=8)),
                max_size=12))
def test_csv_text_is_pandas_to_csv(rows):
    from labkit.analysis.cli import csv_text

    df = pd.DataFrame(rows, columns=["f", "i", "b", "s"])
    if len(df):
        df["f"], df["i"], df["b"] = df["f"].astype(float), df["i"].astype("int64"), df["b"].astype(bool)
    assert csv_text(df) == df.to_csv(index=False)
    mixed = df.assign(d=pd.to_datetime(0), n=pd.array([None] * len(df), dtype="Int64"))  # pandas' own path
    assert csv_text(mixed) == mixed.to_csv(index=False)
