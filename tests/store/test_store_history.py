"""History from the run store: run rules, potency across runs (MSR), charts, the HTML page in headless Chromium,
and the `labkit runs` / `labkit history` / `labkit analyze` commands."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "store"))
from store_synth import KINASE, VIABILITY, analysis, write_readout  # noqa: E402
from test_store import db_url  # noqa: E402,F401  (the SQLite / PostgreSQL fixture)

from labkit.cli import main  # noqa: E402
from labkit.store import open_store, record_result  # noqa: E402
from labkit.store.history import judge, pick_reference, potency_table, write_history  # noqa: E402

PROTOCOL = Path(__file__).resolve().parents[2] / "protocols" / "kinase_panel_flex.py"
SHIFT = 5.0  # the out-of-control run: every true IC50 five-fold higher (pIC50 0.7 lower)


def run(argv: list[str]) -> int:
    """labkit.cli.main in-process; returns the exit code."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


# --- run rules and potency statistics ----------------------------------------------------------------------

def test_judge_fires_each_westgard_rule_where_it_should():
    rng = np.random.default_rng(5)
    base = rng.normal(0.0, 1.0, 25)
    assert judge(base)["rules"].eq("").mean() > 0.9          # in-control noise: (almost) no alarms
    one = base.copy()
    one[22] = 6.0
    j = judge(one)
    assert "1_3s" in j.loc[22, "rules"] and j.loc[22, "z"] > 3
    assert j.loc[22, "mean"] == pytest.approx(one[:20].mean()) and j.loc[22, "sd"] == pytest.approx(one[:20].std(ddof=1))
    two = base.copy()
    two[21:23] = 2.6
    assert "2_2s" in judge(two).loc[22, "rules"]
    r4 = base.copy()
    r4[21], r4[22] = 2.7, -2.7
    assert "R_4s" in judge(r4).loc[22, "rules"]
    four = base.copy()
    four[20:24] = 1.6
    assert "4_1s" in judge(four).loc[23, "rules"]
    trend = base.copy()
    trend[19:25] = np.linspace(-1, 1, 6)
    assert "6_trend" in judge(trend).loc[24, "rules"]
    ten = np.concatenate([base[:20], np.full(10, 0.6) + rng.normal(0, 0.05, 10)])
    assert "10_x" in judge(ten).loc[29, "rules"]


def test_judge_with_few_runs_has_no_limits_then_leave_one_out():
    assert judge(np.array([1.0, 1.1, 0.9]))["rules"].eq("").all()
    assert judge(np.array([1.0, 1.1, 0.9]))["z"].isna().all()          # < 3 other runs: not judged
    j = judge(np.array([1.0, 1.1, 0.9, 1.05, 0.95, 3.0]))
    assert j.loc[5, "mean"] == pytest.approx(1.0) and "1_3s" in j.loc[5, "rules"]
    assert j.loc[:4, "rules"].eq("").all()


def test_potency_table_geometric_mean_ci_and_msr():
    ic50 = np.array([10e-9, 20e-9, 40e-9, 15e-9])
    fits = pd.DataFrame({"compound": "X", "group_name": "T", "run_id": [1, 2, 3, 4], "ic50_m": ic50,
                         "flags": ["", "", "", "flat"]})
    row = potency_table(fits).iloc[0]
    logs = np.log10(ic50[:3])                                  # the flat curve has no IC50
    s = logs.std(ddof=1)
    assert row["n"] == 3 and row["runs"] == 4
    assert row["gmean_ic50_nM"] == pytest.approx(20.0)         # (10 * 20 * 40) ** (1/3)
    assert row["msr"] == pytest.approx(10 ** (2 * math.sqrt(2) * s))
    half = 4.302652729911275 * s / math.sqrt(3)                # t(0.975, 2)
    assert row["ci_low_nM"] == pytest.approx(20.0 / 10 ** half) and row["ci_high_nM"] == pytest.approx(20.0 * 10 ** half)
    two = potency_table(fits.iloc[:2]).iloc[0]
    assert two["n"] == 2 and np.isnan(two["msr"])              # MSR only once n >= 3


def test_reference_is_the_layouts_reference_else_the_most_run_compound():
    fits = pd.DataFrame({"compound": ["a", "a", "b", "staurosporine"], "run_id": [1, 2, 1, 2],
                         "role": ["sample", "sample", "sample", "reference"]})
    assert pick_reference(fits, None) == ("staurosporine", None)
    ref, note = pick_reference(fits[fits["compound"] != "staurosporine"], None)
    assert ref == "a" and "most runs (2)" in note
    assert pick_reference(fits, "b") == ("b", None)
    assert "no recorded fit of 'zz'" in pick_reference(fits, "zz")[1]


# --- history from a real store -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def history_runs(tmp_path_factory):
    """Six in-control viability runs and a seventh with a five-fold shifted IC50 (real files, real analyses)."""
    out = tmp_path_factory.mktemp("history_runs")
    items = [(VIABILITY, *analysis(VIABILITY, out, seed)) for seed in range(10, 16)]
    items.append((VIABILITY, *analysis(VIABILITY, out, 16, shift=SHIFT)))
    return items


def _fill(db, items):
    store = open_store(db)
    ids = [record_result(r, layout=lay, readouts=[ro], store=store).run_id for lay, r, ro in items]
    return store, ids


def test_history_flags_the_shifted_run_and_draws_charts(db_url, history_runs, tmp_path):
    store, ids = _fill(db_url, history_runs)
    hs, paths = write_history(store, tmp_path / "h")
    store.close()
    (h,) = hs
    assert h.assay == "cell_viability_ctg" and len(h.runs) == 7 and h.reference == "entrectinib"
    assert h.extra == [] and h.group_col == "cell_line"  # the viability kind reports no potency besides the IC50
    assert list(h.flagged["run_id"]) == [ids[-1]], h.flagged.to_string()
    assert "pIC50 KM12: 1_3s" in h.flagged.iloc[0]["reasons"]
    ref = h.points[h.points["metric"] == "pic50"]
    assert len(ref) == 7 and ref["z"].iloc[-1] < -3
    pot = h.potency.iloc[0]
    assert pot["n"] == 7 and pot["msr"] > 1
    fitted = np.array([r.results["ic50_M"].iloc[0] for _, r, _ in history_runs])
    assert pot["gmean_ic50_nM"] == pytest.approx(np.exp(np.log(fitted).mean()) * 1e9)
    for key in ("cell_viability_ctg:controls", "cell_viability_ctg:reference"):
        assert paths[key].stat().st_size > 20_000
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2 and "<script" not in html
    assert 'id="flagged-cell_viability_ctg"' in html and 'id="potency-cell_viability_ctg"' in html
    assert pd.read_csv(paths["out_of_control"])["run_id"].tolist() == [ids[-1]]


@pytest.fixture(scope="module")
def kinase_runs(tmp_path_factory):
    """Five kinase runs analyzed with their layout (Morrison Ki_app at 2 nM enzyme) and a sixth with five-fold
    higher true potencies."""
    out = tmp_path_factory.mktemp("kinase_history")
    items = [(KINASE, *analysis(KINASE, out, seed, experiment=True)) for seed in range(20, 25)]
    items.append((KINASE, *analysis(KINASE, out, 25, shift=SHIFT, experiment=True)))
    return items


def test_kinase_history_charts_and_tabulates_ki_app_next_to_the_ic50(db_url, kinase_runs, tmp_path):
    """The kinase kind declares its Morrison Ki_app (AssayKind.history_potencies): the history charts pKi_app of
    the reference compound run to run and tabulates Ki_app across runs beside the IC50, from the stored results."""
    store, ids = _fill(db_url, kinase_runs)
    hs, paths = write_history(store, tmp_path / "h")
    store.close()
    (h,) = hs
    assert h.assay == "kinase_radiometric" and h.group_col == "target" and h.reference == "entrectinib"
    (x,) = h.extra
    assert (x.label, x.metric) == ("Ki_app", "pki_app") and "Morrison" in x.note
    fitted = np.array([r.results.set_index("target").loc["ALK", "ki_app_M"] for _, r, _ in kinase_runs])
    ic50 = np.array([r.results.set_index("target").loc["ALK", "ic50_M"] for _, r, _ in kinase_runs])
    ki = x.potency.set_index(["compound", "group"]).loc[("entrectinib", "ALK")]
    assert ki["n"] == 6 and ki["gmean_ic50_nM"] == pytest.approx(np.exp(np.log(fitted).mean()) * 1e9)
    ic = h.potency.set_index(["compound", "group"]).loc[("entrectinib", "ALK")]
    assert ic["gmean_ic50_nM"] == pytest.approx(np.exp(np.log(ic50).mean()) * 1e9)
    assert ic["gmean_ic50_nM"] > 1.2 * ki["gmean_ic50_nM"]  # 2 nM enzyme: IC50 ≈ Ki_app + [E]/2
    pts = h.points[(h.points["metric"] == "pki_app") & (h.points["group"] == "ALK")]
    assert list(pts["run_id"]) == ids and pts["value"].to_numpy() == pytest.approx(-np.log10(fitted))
    assert pts["z"].iloc[-1] < -3 and "pKi_app ALK: 1_3s" in h.flagged.set_index("run_id").loc[ids[-1], "reasons"]
    assert paths["kinase_radiometric:reference_pki_app"].stat().st_size > 10_000
    table = pd.read_csv(paths["potency_ki_app"])
    assert {"gmean_ki_app_nM", "ci_low_nM", "msr"} <= set(table.columns) and len(table) == 2
    html = paths["html"].read_text(encoding="utf-8")
    assert 'id="potency-pki_app-kinase_radiometric"' in html and "pKi_app per run" in html
    assert html.count("data:image/png;base64,") == 3  # controls, pIC50, pKi_app


def test_history_and_runs_commands_on_the_store(db_url, history_runs, tmp_path, capsys):
    _fill(db_url, history_runs[:4])[0].close()
    assert run(["history", "--db", db_url, "--assay", "cell_viability_ctg", "--reference", "entrectinib",
                "-o", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out
    assert "cell_viability_ctg: 4 run(s); reference entrectinib" in out and "no run out of control" in out
    assert (tmp_path / "h" / "history.html").is_file()
    assert run(["runs", "list", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert out.count("cell_viability_ctg") == 4
    if db_url.startswith("postgresql"):  # the password never reaches the terminal
        password = db_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert f":{password}@" not in out and ":***@" in out


def test_history_json_and_fail_on_out_of_control(history_runs, tmp_path, capsys):
    """--json lists the out-of-control run; --fail-on-out-of-control exits 1 after writing the report; -q prints
    only the verdict lines; runs list / show / export --json agree with the store."""
    import json

    db = str(tmp_path / "ooc.sqlite")
    store, ids = _fill(db, history_runs)
    store.close()
    assert run(["history", "--db", db, "-o", str(tmp_path / "h"), "--json"]) == 0  # a report, not a check
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and [f["run_id"] for f in doc["out_of_control"]] == [ids[-1]]
    assert "pIC50 KM12: 1_3s" in doc["out_of_control"][0]["reasons"]
    (assay,) = doc["assays"]
    assert assay["assay"] == "cell_viability_ctg" and assay["runs"] == 7 and assay["potency"][0]["n"] == 7
    assert Path(doc["files"]["html"]).is_file()
    assert run(["-q", "history", "--db", db, "-o", str(tmp_path / "h2"), "--fail-on-out-of-control"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"OUT OF CONTROL cell_viability_ctg run {ids[-1]}: ")
    assert lines[1].startswith("wrote ") and (tmp_path / "h2" / "history.html").is_file()
    in_control = str(tmp_path / "ok.sqlite")
    _fill(in_control, history_runs[:6])[0].close()
    assert run(["history", "--db", in_control, "-o", str(tmp_path / "h3"), "--fail-on-out-of-control"]) == 0
    capsys.readouterr()
    assert run(["runs", "list", "--db", db, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert sorted(r["id"] for r in listed) == sorted(ids) and {r["assay"] for r in listed} == {"cell_viability_ctg"}
    assert run(["runs", "show", str(ids[0]), "--db", db, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run"]["id"] == ids[0] and shown["readouts"][0]["path"] == str(history_runs[0][2])
    assert {f["compound"] for f in shown["fits"]} == set(history_runs[0][1].results["compound"])
    assert run(["runs", "export", "fits", "--db", db, "-o", str(tmp_path / "f.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == len(pd.read_csv(tmp_path / "f.csv"))
    assert run(["runs", "show", "999", "--db", db, "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["field"] == "run"


def test_history_html_escapes_names_and_renders_in_headless_chromium(history_runs, tmp_path, chromium):
    """A compound called '<b>x</b> & co' stays text; the page renders with its charts in Chromium."""
    db = tmp_path / "esc.sqlite"
    store = open_store(db)
    for lay, r, ro in history_runs[:4]:
        res = r.results.assign(compound="<b>x</b> & co")
        record_result(dataclasses.replace(r, results=res), layout=lay, readouts=[ro], store=store)
    _hs, paths = write_history(store, tmp_path / "h")
    store.close()
    html = paths["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in html and "<b>x</b>" not in html
    url = paths["html"].resolve().as_uri()
    base = chromium
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="potency-cell_viability_ctg"' in dom.stdout and "&lt;b&gt;x&lt;/b&gt;" in dom.stdout
    assert dom.stdout.count('class="chart" src="data:image/png;base64,') == 2
    shot = tmp_path / "shot.png"
    r = subprocess.run(base + ["--window-size=1280,1600", f"--screenshot={shot}", url], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and shot.stat().st_size > 20_000, r.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 20                                  # not blank: charts and tables drawn
    bad = [ln for ln in dom.stderr.splitlines() + r.stderr.splitlines()
           if "CONSOLE" in ln or "net::ERR" in ln or "Failed to load" in ln or "Uncaught" in ln]
    assert not bad, bad


# --- the commands ------------------------------------------------------------------------------------------

def test_analyze_records_and_runs_history_commands(tmp_path, capsys):
    db = tmp_path / "cli.sqlite"
    readouts = [write_readout(KINASE, tmp_path / f"k{seed}", seed) for seed in (1, 2)]
    for k, ro in enumerate(readouts):
        args = ["analyze", str(ro), "--layout", str(KINASE), "-o", str(tmp_path / f"out{k}"), "--db", str(db)]
        args += ["--protocol", str(PROTOCOL)] if k == 1 else []
        assert run(args) == 0
        assert f"recorded run {k + 1} (version 1)" in capsys.readouterr().out
    assert run(["analyze", str(readouts[0]), "--layout", str(KINASE), "-o", str(tmp_path / "again"),
                "--db", str(db)]) == 0
    assert "already recorded as run 1" in capsys.readouterr().out
    assert run(["analyze", str(readouts[0]), "--layout", str(KINASE), "-o", str(tmp_path / "nostore"),
                "--db", str(db), "--no-store"]) == 0
    assert "recorded" not in capsys.readouterr().out
    assert run(["runs", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count("kinase_radiometric") == 2 and "kinase_one_plate_2nM" in out
    assert run(["runs", "show", "2", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "microbeta" in out and "entrectinib" in out and "KIN-2" in out and str(readouts[1]) in out
    sha = hashlib.sha256(PROTOCOL.read_bytes()).hexdigest()
    assert f"{PROTOCOL} (flex, sha256 {sha[:12]}" in out
    assert run(["runs", "export", "fits", "--db", str(db), "-o", str(tmp_path / "fits.parquet")]) == 0
    fits = pd.read_parquet(tmp_path / "fits.parquet")
    assert len(fits) == 4 and {"ic50_m", "ic50_nM", "hill_se", "group_name"} <= set(fits.columns)
    assert run(["runs", "export", "plate_qc", "--db", str(db), "--run", "2", "-o", str(tmp_path / "qc.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "qc.csv")["run_id"]) == {2}
    assert run(["history", "--db", str(db), "-o", str(tmp_path / "hist")]) == 0
    out = capsys.readouterr().out
    assert "kinase_radiometric: 2 run(s)" in out and "ALK" in out and "ROS1" in out
    assert (tmp_path / "hist" / "history.html").is_file()
    assert (tmp_path / "hist" / "history_kinase_radiometric_reference.png").stat().st_size > 10_000


def test_store_errors_are_clear(tmp_path, capsys):
    assert run(["runs", "list", "--db", "mysql://u@h/db"]) == 2
    assert "unsupported database 'mysql'" in capsys.readouterr().err
    assert run(["runs", "show", "7", "--db", str(tmp_path / "empty.sqlite")]) == 2
    assert "no run 7" in capsys.readouterr().err
    assert run(["runs", "list", "--db", "postgresql://nobody:secret@127.0.0.1:1/none"]) == 2
    err = capsys.readouterr().err
    assert "cannot open the run store" in err and "secret" not in err and "Traceback" not in err
    (tmp_path / "notes.txt").write_text("not a database\n" * 100, encoding="utf-8")
    assert run(["runs", "list", "--db", str(tmp_path / "notes.txt")]) == 2
    assert "file is not a database" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "not a database\n" * 100  # left untouched


def test_default_store_is_labkit_db_not_the_user_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LABKIT_DB", str(tmp_path / "env.sqlite"))
    assert run(["runs", "list"]) == 0
    assert f"store: sqlite:///{tmp_path / 'env.sqlite'}" in capsys.readouterr().out
    assert (tmp_path / "env.sqlite").is_file()
