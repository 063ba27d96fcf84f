import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main

ROOT = Path(__file__).parents[2]


def run(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_validate_seed_layouts_exit_0(capsys):
    code, out, err = run(["layout", "validate", *map(str, sorted((ROOT / "layouts").glob("*.yaml")))], capsys)
    assert code == 0, err
    assert out.count(": ok (") == len(list((ROOT / "layouts").glob("*.yaml")))


def test_validate_bad_file_exit_2_with_path_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "layouts" / "kinase_panel.yaml").read_text().replace("points: 10", "points: 1", 1))
    code, out, err = run(["layout", "validate", str(bad)], capsys)
    assert code == 2
    assert f"{bad}: 1 problem in the layout" in err
    assert "compounds[0].dilution.points: must be at least 2" in err
    assert "Traceback" not in err


def test_missing_file_is_a_clean_error(tmp_path, capsys):
    code, _out, err = run(["layout", "show", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such file" in err


def test_show_prints_map_and_writes_png(tmp_path, capsys):
    code, out, _ = run(["layout", "show", str(ROOT / "layouts" / "kinase_panel.yaml"), "--png", str(tmp_path)], capsys)
    assert code == 0
    assert "KIN-1 (96-well, kinase_radiometric)" in out
    assert " A   a1  a2" in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["kinase_panel_KIN-1.png", "kinase_panel_KIN-2.png"]
    assert (tmp_path / pngs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_schema_is_json_schema_with_fields(capsys):
    code, out, _ = run(["layout", "schema"], capsys)
    schema = json.loads(out)
    assert code == 0
    assert {"name", "assay", "compounds", "plates"} <= set(schema["properties"])
    assert "SerialDilution" in schema["$defs"]


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys, labkit.cli; "
            "sys.argv=['labkit','--help'];\n"
            "try:\n    labkit.cli.main()\nexcept SystemExit: pass\n"
            "heavy=[m for m in ('opentrons','matplotlib','allotropy','scipy','sqlalchemy','jinja2') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
