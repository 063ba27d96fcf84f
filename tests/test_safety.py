"""Raw data is never overwritten: every command that writes refuses to write over its inputs."""

import shutil
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.readout import read

ROOT = Path(__file__).parent.parent
MICROBETA = ROOT / "tests" / "data" / "readout" / "microbeta2_grid_2plates.csv"


def run(args, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    return info.value.code, capsys.readouterr().err


def test_import_refuses_to_overwrite_its_input(tmp_path, capsys):
    raw = tmp_path / "counts.csv"
    shutil.copy(MICROBETA, raw)
    before = raw.read_bytes()
    code, err = run(["import", raw, "-o", raw], capsys)
    assert code == 2 and "raw data is never overwritten" in err and "Traceback" not in err
    assert raw.read_bytes() == before


def test_import_output_reads_back_with_its_flags(tmp_path, capsys):
    out = tmp_path / "tidy.csv"
    code, _ = run(["import", MICROBETA, "-o", out], capsys)
    assert code == 0
    first, again = read(MICROBETA), read(out)
    assert len(again) == len(first) == 168
    assert sorted(again.flag.value_counts().items()) == sorted(first.flag.value_counts().items())
    assert again.loc[again.flag != "ok", "value"].isna().all()


def test_fit_refuses_to_overwrite_its_table(tmp_path, capsys):
    table = tmp_path / "doses.csv"
    table.write_text("conc,resp\n0,100\n1,90\n10,50\n100,10\n1000,2\n")
    code, err = run(["fit", table, "--conc", "conc", "--response", "resp", "-o", table], capsys)
    assert code == 2 and "never overwritten" in err
    assert table.read_text().startswith("conc,resp")


def test_protocol_refuses_to_overwrite_the_layout(tmp_path, capsys):
    layout = tmp_path / "l.yaml"
    shutil.copy(ROOT / "layouts" / "dilution_tutorial.yaml", layout)
    code, err = run(["protocol", layout, "--robot", "flex", "-o", layout], capsys)
    assert code == 2 and "never overwritten" in err
    assert layout.read_text().startswith("# The Opentrons serial-dilution")


def test_analyze_refuses_a_folder_where_it_would_replace_the_readout(tmp_path, capsys):
    raw = tmp_path / "data.csv"  # a readout that happens to share the name of an analysis output
    shutil.copy(MICROBETA, raw)
    before = raw.read_bytes()
    code, err = run(["analyze", raw, "--layout", ROOT / "layouts" / "kinase_panel.yaml", "-o", tmp_path], capsys)
    assert code == 2 and "would overwrite the input" in err
    assert raw.read_bytes() == before
