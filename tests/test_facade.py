"""The Python facade: a tested __all__, lazy imports, every example in the facade's docstrings, the README's
"From Python" block, and the pieces a notebook relies on (write, simulate, verify against the experiment)."""

import doctest
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
    with pytest.raises(LabkitError, match="no normalization"):
        labkit.analyze(table, exp)
