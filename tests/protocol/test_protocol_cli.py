"""`labkit protocol` on the command line."""

import ast
from pathlib import Path

import pytest
import yaml

from labkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = str(ROOT / "layouts" / "dilution_tutorial.yaml")


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_writes_protocol(tmp_path, capsys):
    out = tmp_path / "p.py"
    code, _o, err = _run(["protocol", TUTORIAL, "--robot", "flex", "-o", str(out)], capsys)
    assert code == 0 and "wrote" in err
    ast.parse(out.read_text())
    assert "'robotType': 'Flex'" in out.read_text()


def test_stdout_and_tip_policy(capsys):
    code, text, _e = _run(["protocol", TUTORIAL, "--tip-policy", "per_series"], capsys)
    assert code == 0 and "'tipPolicy': 'per_series'" in text


def test_print_plan(capsys):
    code, text, _e = _run(["protocol", TUTORIAL, "--robot", "flex", "--print-plan"], capsys)
    assert code == 0 and "Load before the run:" in text and "multi-dispense" in text


def test_bad_layout_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nassay: kinase_radiometric\n")
    code, _o, err = _run(["protocol", str(bad)], capsys)
    assert code == 2 and "bad.yaml" in err
    code, _o, err = _run(["protocol", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2


def test_plan_error_is_exit_2(tmp_path, capsys):
    import yaml

    data = yaml.safe_load((ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml").read_text())
    data["plates"] = [{"id": f"K{i}", "format": 384, "targets": ["TRKA"]} for i in range(8)]
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump(data))
    code, _o, err = _run(["protocol", str(p)], capsys)
    assert code == 2 and "96-well plates only" in err


def test_single_channel_option(capsys, tmp_path):
    kinase = str(ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml")  # the seed design's column layout
    code, text, _e = _run(["protocol", kinase, "--print-plan"], capsys)
    assert code == 0 and "p300_multi_gen2" in text and "nozzles, part columns" in text
    code, text, _e = _run(["protocol", kinase, "--single-channel", "--print-plan"], capsys)
    assert code == 0 and "multi_gen2" not in text and "488 tips in all" in text and "pacing" in text
    data = yaml.safe_load(Path(kinase).read_text(encoding="utf-8"))
    data["conditions"]["preincubation_min"] = 10  # one well at a time the work alone takes longer: refused
    short = str(tmp_path / "kinase_10min.yaml")
    Path(short).write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _t, err = _run(["protocol", short, "--single-channel", "--print-plan"], capsys)
    assert code == 2 and "conditions.preincubation_min" in err and "at least" in err and "Traceback" not in err
