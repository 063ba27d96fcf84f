"""Issue 10 end to end: the kinase layout model (active [E], Km(ATP) + source, ATP at Km, substrate units, expected
potencies), the no_enzyme / total_counts roles, the potency warnings, the Morrison / Cheng–Prusoff columns of the
analysis, % ATP conversion, and the virtual reader on the shipped and the old 2 nM layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labkit.errors import LayoutError
from labkit.layout.io import load_experiment, parse_experiment
from labkit.virtual import TRUE_IC50

ROOT = Path(__file__).resolve().parents[2]
PANEL = ROOT / "layouts" / "kinase_panel.yaml"
OLD_2NM = ROOT / "layouts" / "kinase_panel_2nM.yaml"
KINASES = ("TRKA", "TRKB", "TRKC", "ROS1", "ALK")

MINI = """
name: mini
assay: kinase_radiometric
compounds:
  - {{name: cpd, stock: 10 mM, dilution: {{top: 100 nM, factor: 3, points: 10, replicates: 1}}}}
targets:
  - {target}
controls: {controls}
plates:
  - {{id: P1, format: 96, targets: [K1]}}
"""


def mini(target: str = "{name: K1}", controls: str = "{vehicle: 2, no_enzyme: 2}"):
    return parse_experiment(MINI.format(target=target, controls=controls))


# --- layout model ---------------------------------------------------------------------------------------------

def test_target_fields_units_defaults_and_round_trip():
    from labkit.layout.io import dump_yaml

    exp = mini("{name: K1, enzyme: 50 pM, km_atp: 15 uM, km_atp_source: 'lot 42 data sheet', "
               "substrate: poly(Glu4-Tyr), substrate_conc: 0.2 mg/mL, expected: {cpd: 1 nM}}")
    t = exp.targets[0]
    assert t.enzyme == pytest.approx(50e-12) and t.km_atp == pytest.approx(15e-6)
    assert t.atp == pytest.approx(15e-6)  # ATP defaults to Km(ATP)
    assert (t.substrate_conc, t.substrate_unit, t.substrate_text()) == (0.2, "mg/mL", "0.2 mg/mL")
    assert t.substrate_molar() == pytest.approx(0.2 / (4 * 129.12 + 163.18))  # tyrosines of poly(Glu4-Tyr)
    assert t.km_sourced
    again = parse_experiment(dump_yaml(exp))
    assert again == exp
    peptide = mini("{name: K1, substrate: IGF1Rtide, substrate_conc: 20 uM, atp: 5 uM}").targets[0]
    assert (peptide.substrate_unit, peptide.substrate_text(), peptide.atp) == ("M", "20 uM", 5e-6)
    assert mini().targets[0].atp == 1e-5  # neither atp nor km_atp: the old default


@pytest.mark.parametrize("target, where, what", [
    ("{name: K1, km_atp: 20 uM}", "targets[0].km_atp_source", "say where km_atp"),
    ("{name: K1, expected: {nope: 1 nM}}", "targets[0].expected", "unknown compound 'nope'"),
    ("{name: K1, substrate_conc: 0.2 mg/L}", "targets[0]", "mg/mL"),
])
def test_target_errors_name_the_field(target, where, what):
    with pytest.raises(LayoutError) as exc:
        mini(target)
    assert where in str(exc.value) and what in str(exc.value), str(exc.value)


def test_old_control_name_positive_still_loads_as_no_enzyme_with_a_deprecation_note():
    exp = mini(controls="{vehicle: 2, positive: 3}")
    roles = exp.wells_table()["role"].value_counts()
    assert roles["no_enzyme"] == 3 and "positive" not in roles
    assert any("controls.positive is the old name" in a for a in exp.advisories())
    assert not any("old name" in a for a in mini().advisories())
    assert any("P1 carry no reference inhibitor curve" in a for a in mini().advisories())


def test_potency_warning_names_the_enzyme_that_would_measure_it():
    exp = load_experiment(OLD_2NM)
    warns = [a for a in exp.advisories() if "expected potency" in a]
    assert len(warns) == 5
    trkb = next(a for a in warns if "on TRKB" in a)
    assert "below 2 x the active enzyme 2 nM" in trkb and "Use at most 50 pM active enzyme" in trkb


def _run(args, capsys):
    from labkit.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_layout_validate_warns_with_exit_0_and_protocol_warns_too(tmp_path, capsys):
    code, out, err = _run(["layout", "validate", str(OLD_2NM), "--robot", "flex"], capsys)
    assert code == 0 and ": ok (" in out, err
    assert "warning: entrectinib on TRKC: expected potency 100 pM" in err
    code, _out, err = _run(["protocol", str(OLD_2NM), "--robot", "flex", "-o", str(tmp_path / "p.py")], capsys)
    assert code == 0 and "Use at most 100 pM active enzyme" in err  # ROS1


def test_shipped_panel_can_measure_the_seed_potencies():
    """Active [E] at most half of every expected potency, ATP at Km, Km's status said, long pre-incubation, a
    reference inhibitor and total counts on every plate."""
    exp = load_experiment(PANEL)
    assert [a for a in exp.advisories() if "Km(ATP) of" not in a] == []  # only: Km assumed, not sourced
    assert {t.name for t in exp.targets} == set(KINASES)
    for t in exp.targets:
        assert t.expected["entrectinib"] == pytest.approx(TRUE_IC50[t.name])
        assert t.enzyme <= t.expected["entrectinib"] / 2
        assert t.km_atp is not None and t.atp == t.km_atp and "not sourced" in t.km_atp_source
    assert exp.conditions.preincubation_min >= 60
    t = exp.wells_table()
    for plate in exp.plates:
        sub = t[t.plate == plate.id]
        assert (sub.role == "reference").sum() >= 10 and (sub.role == "total_counts").sum() >= 2
    text = PANEL.read_text()
    assert "Km(ATP): NOT SOURCED, ASSUMED" in text and "Copeland" in text


# --- analysis pieces ----------------------------------------------------------------------------------------

def test_conversion_table_arithmetic_and_the_15_percent_flag():
    from labkit.assays.kinase_radiometric.analysis import conversion_table

    exp = mini(controls="{vehicle: 2, no_enzyme: 2, total_counts: 2}")
    frac = exp.volumes.spotted_fraction
    assert frac == pytest.approx(40 / 50)
    rows = [("P1", "A1", "vehicle", "K1", 100 + 0.1 * 1e5 * frac), ("P1", "A2", "vehicle", "K1", 100 + 0.1 * 1e5 * frac),
            ("P1", "B1", "no_enzyme", "K1", 100.0), ("P1", "B2", "no_enzyme", "K1", 100.0),
            ("P1", "C1", "total_counts", "K1", 1e5), ("P1", "C2", "total_counts", "K1", 1e5),
            ("P2", "A1", "vehicle", "K1", 100 + 0.3 * 1e5 * frac), ("P2", "B1", "no_enzyme", "K1", 100.0),
            ("P2", "C1", "total_counts", "", 1e5)]  # plate-shared total counts
    data = pd.DataFrame(rows, columns=["plate", "well", "role", "target", "value"]).assign(excluded="")
    conv = conversion_table(data, exp).set_index("plate")
    assert conv.loc["P1", "atp_conversion_pct"] == pytest.approx(10.0) and conv.loc["P1", "flags"] == ""
    assert conv.loc["P2", "atp_conversion_pct"] == pytest.approx(30.0)
    assert conv.loc["P2", "flags"] == "atp_conversion>15%"


# --- end to end through the simulator, the ledger and the Morrison reader -----------------------------------

@pytest.fixture(scope="module")
def old_run(tmp_path_factory):
    import labkit

    exp = load_experiment(OLD_2NM)
    run = exp.protocol("flex").simulate()
    assert run.ok, run
    out = tmp_path_factory.mktemp("old2nm")
    results = labkit.analyze(labkit.read(run.virtual_readout(out / "kin", seed=3)), exp)
    return exp, results, out


def test_old_2nM_layout_is_flagged_tight_binding_and_outside_the_linear_range(old_run):
    exp, results, _out = old_run
    r = results.results.set_index("target")
    assert list(r["compound"].unique()) == ["entrectinib"]
    assert r["tight_binding"].all() and r["flags"].str.contains("tight_binding").all(), r.to_string()
    # the LL.4 IC50 cannot go far below [E]/2 = 1 nM: TRKB/TRKC/ROS1 read several times their true potency
    for t in ("TRKB", "TRKC", "ROS1"):
        assert r.loc[t, "ic50_M"] > 3 * TRUE_IC50[t], r.to_string()
    assert np.isnan(r["ki_M"]).all()  # no Km(ATP) in the layout: no Cheng–Prusoff Ki
    conv = results.analysis.conversion
    assert len(conv) == 5 and (conv["atp_conversion_pct"] > 12).all()
    assert (conv["flags"] == "atp_conversion>15%").sum() >= 3, conv.to_string()
    hot = set(conv.loc[conv["flags"] != "", "target"])
    assert {t for t in r.index if "atp_conversion>15%" in r.loc[t, "flags"]} == hot
    assert any("tight_binding" in n for n in results.analysis.notes)


def test_report_and_terminal_show_ki_side_by_side(old_run, tmp_path):
    from labkit.analysis.cli import summary_text
    from labkit.analysis.pipeline import write_outputs

    _exp, results, _out = old_run
    paths = write_outputs(results.analysis, tmp_path / "rep", title="old 2 nM")
    html = paths["report"].read_text(encoding="utf-8")
    assert "Ki_app (nM)" in html and "Ki (nM)" in html and "ATP conversion (linear range)" in html
    assert "tight_binding" in html
    assert (tmp_path / "rep" / "atp_conversion.csv").is_file()
    text = summary_text(results.analysis)
    assert "Ki_app" in text and "tight_binding" in text and "% converted" in text
    saved = pd.read_csv(paths["results_csv"])
    assert {"ic50_M", "ki_app_M", "ki_app_ci_low_M", "ki_app_ci_high_M", "ki_M", "tight_binding"} <= set(saved)


def test_dropping_the_total_counts_spot_fails_verification(tmp_path):
    """The revised one-plate layout verifies; without its total-counts step verify names the missing wells."""
    import ast

    from labkit.protocol.cli import generate
    from labkit.simulate import simulate, verify_experiment

    layout = ROOT / "tests" / "data" / "demo" / "kinase_one_plate.yaml"
    exp = load_experiment(layout)
    text = generate(layout, "ot2")
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "STEPS")
    steps = ast.literal_eval(node.value)
    steps = [s for s in steps if "total counts —" not in s.get("text", "")]
    lines = text.splitlines(keepends=True)
    mutant = "".join(lines[:node.lineno - 1]) + f"STEPS = {steps!r}\n" + "".join(lines[node.end_lineno:])
    reports = {}
    for name, source in (("base", text), ("mutant", mutant)):
        path = tmp_path / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        sim = simulate(path, in_process=True)
        assert not sim.errors
        reports[name] = verify_experiment(sim.ledger, exp, sim.timeline)
    base = {c.name: c for c in reports["base"].checks}
    assert reports["base"].ok and base["total counts"].ok and base["total counts"].total == 2
    hits = [f for f in reports["mutant"].failures if f.check == "total counts"]
    assert not reports["mutant"].ok and hits, reports["mutant"].summary()
    assert {w for f in hits for w in f.well.split(", ")} == {"G11", "G12"} and "atp33 missing" in hits[0].message
