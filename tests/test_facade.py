"""The Python facade: a tested __all__, lazy imports, every example in the facade's docstrings, the README's
"From Python" block, and the pieces a notebook relies on (write, simulate, verify against the experiment)."""

import doctest
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import labkit
import labkit.api
from labkit.errors import LabkitError

ROOT = Path(__file__).resolve().parents[1]
FACADE = ("load", "parse", "generate", "make_protocol", "read", "analyze", "verify")


def test_all_names_resolve_and_nothing_else_does():
    for name in labkit.__all__:
        assert getattr(labkit, name) is not None, name
    assert set(FACADE) <= set(labkit.__all__)
    assert labkit.load is labkit.api.load and labkit.assays.get("dilution_plate").name == "dilution_plate"
    with pytest.raises(AttributeError):
        labkit.no_such_thing  # noqa: B018
    assert (Path(labkit.__file__).parent / "py.typed").is_file()


def test_import_labkit_imports_nothing_heavy():
    code = ("import sys, labkit; print(sorted(m for m in ('pandas', 'pydantic', 'numpy', 'opentrons', 'scipy', "
            "'matplotlib', 'labkit.api') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_facade_function_documents_args_returns_raises_and_an_example():
    for name in FACADE:
        doc = getattr(labkit.api, name).__doc__ or ""
        parts = ("Args:", "Returns:", "Example:", ">>> ") + (() if name == "verify" else ("Raises:",))
        for part in parts:  # verify reports failures in its result, it raises nothing of its own
            assert part in doc, f"{name}: no {part!r}"


def test_facade_docstring_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(labkit.api) if t.examples]
    assert {t.name.rsplit(".", 1)[-1] for t in tests} >= set(FACADE)
    for t in tests:
        runner.run(t)
    assert runner.failures == 0 and runner.tries >= 20


def test_readme_from_python_block_runs(monkeypatch, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md#from-python", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "verify: PASS" in out and "KM12" in out and out.strip().endswith("report.html")


def test_protocol_write_simulate_and_verify_against_the_experiment(tmp_path):
    exp = labkit.load(ROOT / "layouts" / "dilution_tutorial.yaml")
    protocol = exp.protocol("ot2")
    assert protocol.text == (ROOT / "protocols" / "dilution_tutorial_ot2.py").read_text(encoding="utf-8")
    with pytest.raises(LabkitError, match="never overwritten"):
        protocol.write(exp.source)
    path = protocol.write(tmp_path / "p" / "tutorial.py")
    run = protocol.simulate()
    assert run.simulation.path == path and run.ok
    # the same run checked against a layout that promises other concentrations fails, well by well
    text = (ROOT / "layouts" / "dilution_tutorial.yaml").read_text(encoding="utf-8")
    other = labkit.parse(text.replace("top: 500 uM", "top: 400 uM"), "other.yaml")
    report = labkit.verify(run.simulation, other)
    assert not report.ok and sum(f.check == "conc" for f in report.failures) == 96


def test_analyze_refuses_a_kind_without_normalization(tmp_path):
    exp = labkit.load(ROOT / "layouts" / "dilution_tutorial.yaml")
    table = labkit.read(ROOT / "tests" / "data" / "readout" / "long_wells.csv")
    with pytest.raises(LabkitError, match="not plates of this layout"):  # the same refusals as `labkit analyze`
        labkit.analyze(table, exp)
    with pytest.raises(LabkitError, match="no normalization"):
        labkit.analyze(table, exp, plate_map={"LT-1": "DIL-1"})


# --- the package: example layouts inside it, `labkit init`, and a wheel that runs the demo outside the checkout ---

def test_packaged_examples_equal_the_repository_layouts():
    from labkit.examples import example_layouts

    packaged = {p.name: p.read_bytes() for p in example_layouts()}
    repo = {p.name: p.read_bytes() for p in sorted((ROOT / "layouts").glob("*.yaml"))}
    assert packaged == repo, "copy layouts/*.yaml to src/labkit/examples/ (the wheel ships those copies)"


def test_init_writes_the_examples_and_never_overwrites(tmp_path):
    from labkit.cli import main

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main(list(args))
        return info.value.code

    assert run("init", str(tmp_path / "proj")) == 0
    written = sorted(p.name for p in (tmp_path / "proj" / "layouts").glob("*.yaml"))
    assert written == sorted(p.name for p in (ROOT / "layouts").glob("*.yaml"))
    mine = tmp_path / "proj" / "layouts" / "kinase_panel.yaml"
    mine.write_text("# my edits\n", encoding="utf-8")
    assert run("init", str(tmp_path / "proj")) == 2
    assert mine.read_text(encoding="utf-8") == "# my edits\n"
    assert run("init", str(tmp_path / "proj"), "--force") == 0
    assert mine.read_bytes() == (ROOT / "layouts" / "kinase_panel.yaml").read_bytes()


def test_wheel_installs_and_runs_init_and_demo_outside_the_checkout(tmp_path):
    import zipfile

    dist, site, work = tmp_path / "dist", tmp_path / "site", tmp_path / "work"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", str(ROOT), "-w", str(dist)], check=True, capture_output=True,
                   cwd=tmp_path)
    wheel = next(dist.glob("labkit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "labkit/py.typed" in names and "labkit/examples/kinase_panel.yaml" in names
    subprocess.run(pip + ["install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)
    work.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg"}
    cli = "import sys, labkit, labkit.cli; print('FROM', labkit.__file__, file=sys.stderr); labkit.cli.main()"

    def labkit_cmd(*args):
        return subprocess.run([sys.executable, "-c", cli, *args], cwd=work, env=env, capture_output=True, text=True)

    init = labkit_cmd("init", ".")
    assert init.returncode == 0, init.stderr
    assert f"FROM {site}" in init.stderr  # the installed wheel, not the checkout
    assert (work / "layouts" / "viability_km12.yaml").is_file()
    demo = labkit_cmd("demo", "--layout", "viability_km12.yaml", "--robot", "flex", "-o", "out", "--json")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    doc = json.loads(demo.stdout)  # --json: the whole stdout is one document
    assert doc["ok"] is True and [(p["robot"], Path(p["path"]).name, p["ok"]) for p in doc["protocols"]] == [
        ("flex", "viability_km12_flex.py", True)]
    assert [r["group"] for r in doc["truth_vs_fit"]] == ["KM12"] and doc["curves"] == 1
    assert Path(work / doc["reports"]["viability_km12"]).is_file()
    assert (work / "out" / "reports" / "viability_km12" / "report.html").is_file()
