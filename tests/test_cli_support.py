"""The machinery every command shares: --json documents (and JSON errors), -q / -v, progress bars on a terminal
only, the shared --read / --value / --plate-map options."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labkit import progress
from labkit.cli import main

ROOT = Path(__file__).parent.parent
LAYOUTS = ROOT / "layouts"
DATA = Path(__file__).parent / "data"
MICROBETA = DATA / "readout" / "microbeta2_grid_2plates.csv"  # plates KIN-TRKA-01, KIN-TRKA-02


def run(capsys, *args: object) -> tuple[int, str, str]:
    """labkit.cli.main in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    cap = capsys.readouterr()
    return int(exc.value.code), cap.out, cap.err


@pytest.fixture
def bars_on():
    """Progress bars enabled for the test (as on a terminal), off again after it."""
    progress.enable(True)
    yield
    progress.enable(False)


# --- --json ----------------------------------------------------------------------------------------------------

def test_layout_validate_json_reports_each_file_and_the_bad_one(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text((LAYOUTS / "dilution_tutorial.yaml").read_text(encoding="utf-8").replace("assay:", "asay:", 1),
                   encoding="utf-8")
    code, out, err = run(capsys, "layout", "validate", LAYOUTS / "dilution_tutorial.yaml", bad, "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["ok"] is False and [f["ok"] for f in doc["files"]] == [True, False]
    good, wrong = doc["files"]
    assert good["assay"] == "dilution_plate" and good["assay_wells"] == {"DIL-1": 96}
    assert good["robots_planned"] == ["ot2", "flex"]
    assert wrong["error"]["type"] == "LayoutError" and wrong["error"]["file"] == str(bad)
    assert err == ""  # the errors are in the document, not printed twice


def test_an_error_in_json_mode_is_a_json_document_and_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "protocol", tmp_path / "missing.yaml", "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["exit_code"] == 2
    assert doc["error"]["type"].endswith("Error") and "missing.yaml" in (doc["error"]["file"] or "")
    assert "labkit: error:" in err and "Traceback" not in err  # the human message still on stderr
    code, out, err = run(capsys, "layout", "validate", "--robot", "mars", LAYOUTS / "dilution_tutorial.yaml",
                         "--json")
    assert code == 2 and json.loads(out)["error"]["type"] == "UsageError" and "mars" in err
    code, out, _ = run(capsys, "layout", "validate", LAYOUTS / "dilution_tutorial.yaml")
    assert code == 0 and not out.lstrip().startswith("{")  # no --json: text


def test_protocol_json_describes_the_file_it_wrote(tmp_path, capsys):
    target = tmp_path / "d.py"
    code, out, _ = run(capsys, "protocol", LAYOUTS / "dilution_tutorial.yaml", "-o", target, "--json")
    assert code == 0
    doc = json.loads(out)
    data = target.read_bytes()
    assert doc["output"] == str(target) and doc["robot"] == "ot2" and doc["protocol"] is None
    assert doc["sha256"] == hashlib.sha256(data).hexdigest() and doc["bytes"] == len(data)
    assert isinstance(doc["warnings"], list) and doc["notes"]
    code, out, _ = run(capsys, "protocol", LAYOUTS / "dilution_tutorial.yaml", "--json")
    assert json.loads(out)["protocol"].encode("utf-8") == data  # no -o: the text is in the document


def test_import_json_summary_matches_the_table(tmp_path, capsys):
    target = tmp_path / "r.csv"
    code, out, err = run(capsys, "import", MICROBETA, "-o", target, "--json")
    assert code == 0
    doc = json.loads(out)
    table = pd.read_csv(target, dtype={"plate": str})
    assert doc["format"] == "microbeta" and doc["wells"] == len(table) == 168
    assert doc["plates"] == list(dict.fromkeys(table["plate"]))
    assert doc["flags"] == table["flag"].value_counts().to_dict() and doc["output"] == str(target)
    assert "format:" not in err  # the text report is replaced by the document
    code, out, _ = run(capsys, "import", MICROBETA, "--json")  # the table needs a file in --json mode
    assert code == 2 and json.loads(out)["error"]["field"] == "output"


def test_fit_and_combine_json_carry_the_rows_written(tmp_path, capsys):
    out_csv = tmp_path / "rye.csv"
    code, out, _ = run(capsys, "fit", DATA / "fit" / "ryegrass.csv", "--conc", "conc", "--response", "rootl",
                       "-o", out_csv, "--json")
    assert code == 0
    doc = json.loads(out)
    written = pd.read_csv(out_csv)
    assert doc["curves"] == len(written) == 1 and doc["results"][0]["ic50"] == pytest.approx(written["ic50"][0])
    runs = []
    for i, ic50 in enumerate((1e-8, 2e-8, 4e-8)):
        runs.append(tmp_path / f"run{i}.csv")
        pd.DataFrame({"compound": ["a", "b"], "ic50_M": [ic50, ic50 * 10]}).to_csv(runs[-1], index=False)
    code, out, _ = run(capsys, "combine", *runs, "--key", "compound", "-o", tmp_path / "c.csv", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["keys"] == 2 and doc["run_results"] == 6 and doc["pooled_df"] == 4
    sd = np.std(np.log10([1e-8, 2e-8, 4e-8]), ddof=1)  # the same spread for both compounds
    assert doc["msr"] == pytest.approx(10 ** (2 * np.sqrt(2) * sd))
    assert [r["compound"] for r in doc["rows"]] == ["a", "b"]


def test_analyze_json_matches_the_files_it_wrote(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "analyze", MICROBETA, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out_dir,
                         "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map", "KIN-TRKA-02=KIN-2", "--no-store",
                         "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["assay"] == "kinase_radiometric" and doc["run"] is None
    assert Path(doc["report"]).is_file() and Path(doc["report"]) == out_dir / "report.html"
    results = pd.read_csv(out_dir / "results.csv")
    assert [(r["compound"], r["target"]) for r in doc["results"]] == list(zip(results["compound"], results["target"]))
    for r, ic50 in zip(doc["results"], results["ic50_M"]):
        assert (r["ic50_M"] is None) == bool(np.isnan(ic50)) and (r["ic50_M"] is None or r["ic50_M"] == pytest.approx(ic50))
    assert {q["plate"] for q in doc["qc"]} == {"KIN-1", "KIN-2"}


def test_init_show_and_simulate_json(tmp_path, capsys):
    code, out, _ = run(capsys, "init", tmp_path / "proj", "--json")
    doc = json.loads(out)
    assert code == 0 and sorted(Path(p).name for p in doc["wrote"]) == sorted(
        p.name for p in (tmp_path / "proj" / "layouts").glob("*.yaml"))
    code, out, _ = run(capsys, "layout", "show", LAYOUTS / "viability_km12.yaml", "--png", tmp_path / "maps",
                       "--json")
    doc = json.loads(out)
    assert code == 0 and doc["assay"] == "cell_viability_ctg" and doc["plates"] == [{"id": "KM12-1", "format": 96}]
    # the 96 wells of KM12-1 and the 6 of its time-zero plate (GR metrics), which is not an assay plate
    assert len(doc["wells"]) == 96 + 6 and {w["role"] for w in doc["wells"]} >= {"sample", "vehicle", "time_zero"}
    assert {w["plate"] for w in doc["wells"] if w["role"] == "time_zero"} == {"KM12-T0"}
    assert [Path(p).name for p in doc["png"]] == ["viability_km12_KM12-1.png", "viability_km12_KM12-T0.png"]
    assert all(Path(p).is_file() for p in doc["png"])  # the time-zero plate's map too
    code, out, err = run(capsys, "simulate", tmp_path / "nope.py", "--json")
    assert code == 2 and json.loads(out)["error"]["type"] == "SimulationError" and "nope.py" in err


# --- --plate-map: a key that names no readout plate --------------------------------------------------------

def test_a_plate_map_key_that_is_no_readout_plate_is_refused(tmp_path, capsys):
    code, out, err = run(capsys, "import", MICROBETA, "--layout", LAYOUTS / "kinase_panel.yaml",
                         "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map", "KIN-TRKA-02=KIN-2",
                         "--plate-map", "KIN-TRKA-2=KIN-2", "-o", tmp_path / "j.csv")
    assert code == 2 and "Traceback" not in err
    assert "KIN-TRKA-2" in err and "KIN-TRKA-01, KIN-TRKA-02" in err and "plate-map" in err
    assert not (tmp_path / "j.csv").exists()
    code, _, err = run(capsys, "analyze", MICROBETA, "--layout", LAYOUTS / "kinase_panel.yaml", "-o",
                       tmp_path / "a", "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map", "TYPO=KIN-2",
                       "--no-store")
    assert code == 2 and "TYPO" in err and "KIN-TRKA-02" in err
    code, _, err = run(capsys, "import", MICROBETA, "--layout", LAYOUTS / "kinase_panel.yaml",
                       "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map", "KIN-TRKA-01=KIN-2")
    assert code == 2 and "twice" in err


# --- -q / -v -----------------------------------------------------------------------------------------------------

def test_quiet_prints_the_verdict_only_and_verbose_adds_detail(tmp_path, capsys):
    files = sorted(LAYOUTS.glob("*.yaml"))
    code, out, err = run(capsys, "-q", "layout", "validate", *files)
    assert code == 0 and out.strip() == f"{len(files)} of {len(files)} layout(s) ok" and err == ""
    code, out, _ = run(capsys, "layout", "validate", *files)
    assert code == 0 and len(out.strip().splitlines()) == len(files)
    target = tmp_path / "k.py"
    code, out, err = run(capsys, "-v", "protocol", LAYOUTS / "kinase_panel.yaml", "-o", target)
    assert code == 0 and "note: entrectinib: make the top solution" in err
    assert err.rstrip().splitlines()[-1].startswith("labkit protocol: ") and err.rstrip().endswith(" s")
    code, out, err = run(capsys, "protocol", LAYOUTS / "kinase_panel.yaml", "-o", target)
    # besides "wrote": only the layout's warnings (kinase_panel: Km(ATP) assumed, not sourced), no notes
    lines = err.strip().splitlines()
    assert code == 0 and "note:" not in err and lines[-1] == f"wrote {target}"
    assert lines[:-1] and all(": warning: " in line for line in lines[:-1]), lines
    code, out, err = run(capsys, "-q", "protocol", LAYOUTS / "kinase_panel.yaml", "-o", target)
    assert code == 0 and "warning" not in err
    code, _, err = run(capsys, "-q", "-v", "layout", "schema")
    assert code == 2 and "contradict" in err


# --- progress ------------------------------------------------------------------------------------------------

def _protocol_all(folder: Path, *flags: str, tty: bool) -> str:
    """Run `labkit [flags] protocol --all` in folder; what it wrote on stderr (a pseudo-terminal when tty)."""
    cmd = [sys.executable, "-c", "import sys; from labkit.cli import main; main(sys.argv[1:])", *flags,
           "protocol", "--all"]
    if not tty:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed: the process is gone
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(tmp_path):
    (tmp_path / "layouts").mkdir()
    shutil.copy(LAYOUTS / "dilution_tutorial.yaml", tmp_path / "layouts")
    on_tty = _protocol_all(tmp_path, tty=True)
    assert "protocols:" in on_tty and "layout/s" in on_tty  # tqdm's bar: 'protocols: 100%|...| 1/1 [..layout/s]'
    assert "protocols:" not in _protocol_all(tmp_path, "-q", tty=True)
    assert "protocols:" not in _protocol_all(tmp_path, tty=False)
    assert (tmp_path / "protocols" / "dilution_tutorial_flex.py").is_file()


def test_fitting_in_chunks_for_the_bar_changes_no_figure(bars_on, capsys):
    from labkit.analysis.cli import fit_with_progress
    from labkit.analysis.fit import fit_table
    from labkit.errors import FitError

    rng = np.random.default_rng(5)
    doses = np.array([0, 1e-9, 3e-9, 1e-8, 3e-8, 1e-7, 3e-7, 1e-6])
    rows = []
    for k in range(23):
        ic50 = 10 ** rng.uniform(-8.5, -6.5)
        for x in doses:
            rows.append((f"c{k}", x, 100 / (1 + (x / ic50) ** 1.2) + rng.normal(0, 4)))
    df = pd.DataFrame(rows, columns=["curve", "conc", "y"])
    whole = fit_table(df.copy(), curve=["curve"], conc="conc", response="y", outlier_q=0.05, outlier_column="out")
    one = df.copy()
    fit_table(one, curve=["curve"], conc="conc", response="y", outlier_q=0.05, outlier_column="out")
    chunked_df = df.copy()
    chunked = fit_with_progress(chunked_df, ["curve"], chunk=5, conc="conc", response="y", outlier_q=0.05,
                                outlier_column="out")
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked_df["out"].tolist() == one["out"].tolist()
    assert "fitting:" in capsys.readouterr().err  # the bar was drawn (bars_on)
    bad = df.copy()
    bad.loc[150, "conc"] = -1.0  # the 19th curve: in the fourth chunk of five
    with pytest.raises(FitError) as whole_err:
        fit_table(bad.copy(), curve=["curve"], conc="conc", response="y")
    with pytest.raises(FitError) as chunk_err:
        fit_with_progress(bad.copy(), ["curve"], chunk=5, conc="conc", response="y")
    assert chunk_err.value.line == whole_err.value.line == 152  # CSV line: header + 0-based row 150


def test_help_and_import_labkit_stay_light():
    code = ("import sys, labkit, labkit.cli; sys.argv=['labkit','--help']\n"
            "try:\n    labkit.cli.main()\nexcept SystemExit: pass\n"
            "print('HEAVY', sorted(m for m in ('pandas', 'numpy', 'opentrons', 'tqdm', 'scipy', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
