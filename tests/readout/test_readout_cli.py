"""`labkit import`: detection report, CSV output, --plate, --layout join, errors exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from labkit.cli import main
from labkit.tables import READOUT_COLUMNS

DATA = Path(__file__).parents[1] / "data" / "readout"
ROOT = Path(__file__).parents[2]


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code)


def test_import_prints_format_and_reason_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "o" / "r.csv"
    assert run(["import", str(DATA / "microbeta2_grid_2plates.csv"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "format: microbeta" in err and "MicroBeta" in err and "168 wells on 2 plate(s)" in err
    df = pd.read_csv(out, dtype={"plate": str})
    assert list(df.columns) == list(READOUT_COLUMNS) and len(df) == 168


def test_import_to_stdout_with_plate_and_format(capsys):
    assert run(["import", str(DATA / "microbeta2_grid_2plates.csv"), "--plate", "KIN-TRKA-02",
                "--format", "microbeta"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith(",".join(READOUT_COLUMNS)) and "KIN-TRKA-01" not in cap.out
    assert "chosen by the caller" in cap.err


def test_import_errors_exit_2_without_traceback(capsys):
    assert run(["import", str(DATA / "bad_truncated_microbeta.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad_truncated_microbeta.csv" in err and "truncated" in err and "Traceback" not in err
    assert run(["import", str(DATA / "nope.csv")]) == 2


def test_import_with_layout_joins_by_order(tmp_path, capsys):
    layout = ROOT / "layouts" / "viability_km12.yaml"
    if not layout.exists():
        pytest.skip("seed layout not present")
    pytest.importorskip("labkit.layout.io")
    out = tmp_path / "j.csv"
    assert run(["import", str(DATA / "grid_bare_96.csv"), "--layout", str(layout), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "by number: plate n is the layout's n-th plate: 1 -> KM12-1" in err  # the mapping used is printed
    df = pd.read_csv(out)
    assert {"role", "compound", "conc_M", "readout_plate"} <= set(df.columns) and len(df) == 96


def test_plate_map_needs_layout(capsys):
    assert run(["import", str(DATA / "grid_bare_96.csv"), "--plate-map", "1=X"]) == 2


def test_allotropy_stays_lazy():
    code = ("import sys; import labkit.readout, labkit.readout.cli, labkit.readout.join, labkit.readout.writers;"
            "from labkit.readout import read; read(sys.argv[1]);"
            "print('allotropy' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code, str(DATA / "microbeta2_grid_2plates.csv")],
                         capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"



def test_help_has_an_example(capsys):
    assert run(["import", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example:" in out and "labkit import" in out
