"""The row-patterned intermediate plate (issue 12): when a column per dose does not fit one plate, the intermediate
plate is laid out like the assay rows (a column per dose position, each row the compound its assay rows get, the
vehicle its own column) and the series is made in row-patterned source columns, all by column stamps."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from labkit.errors import LabkitError
from labkit.labware.specs import PIPETTES
from labkit.layout.io import load_experiment, parse_experiment
from labkit.plan import build_plan
from labkit.plan.checks import channel_wells
from labkit.plan.common import (Mirror, PatternMirror, column_mirror, mirror_layout, pattern_mirror, source_key,
                                superstring)
from labkit.wells import parse_well

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "layouts" / "kinase_panel.yaml"
KINASE_ROLES = ("sample", "reference", "vehicle", "no_enzyme", "positive", "blank")


def _inside(s: tuple, t: tuple) -> bool:
    return any(t[i:i + len(s)] == s for i in range(len(t) - len(s) + 1))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.sampled_from("abc"), min_size=1, max_size=5).map(tuple), min_size=1, max_size=5),
       st.randoms())
def test_superstring_holds_every_string_in_consecutive_rows(strings, rnd):
    got = superstring(strings)
    assert all(_inside(s, got) for s in strings)
    assert max(len(s) for s in strings) <= len(got) <= sum(len(s) for s in set(strings))
    shuffled = list(strings)
    rnd.shuffle(shuffled)
    assert superstring(shuffled) == got  # the order of the layout's columns does not change the plan


def test_superstring_overlaps_the_revised_panels_two_row_patterns():
    e, s = "entrectinib", "staurosporine"
    # KIN-1 rows A–G (6 × entrectinib, staurosporine), KIN-2 rows A–F (4 × entrectinib, 2 × staurosporine)
    assert superstring([(e,) * 6 + (s,), (e,) * 4 + (s, s)]) == (e,) * 6 + (s, s)


def _plates(exp):
    return [(p, f"plate_{i + 1}") for i, p in enumerate(exp.plates)]


def _check_mirror(exp, m: PatternMirror, roles) -> int:
    """Every dosed well draws from an intermediate well holding exactly its dose; each column run of one dilution
    point draws from consecutive rows of one intermediate column (one stamp). Returns the number of segments."""
    keys = {p.id: k for p, k in _plates(exp)}
    held: dict[tuple[str, str], tuple[str, int]] = {}
    vehicle_cols = set(m.columns.get(("", 0), []))
    for p in exp.plates:
        for w in exp.wells[p.id]:
            if w.role not in roles:
                continue
            loc = m.draw[(keys[p.id], w.name)]
            want = source_key(w)
            assert held.setdefault((loc.labware, loc.well), want) == want, (w, loc)  # one dose per well
            r, c = parse_well(loc.well)
            if want[0]:
                block = next(b for b in m.blocks if b.inter.get(want[1]) == c)
                assert block.rows[r] == want[0]
            else:
                assert c in vehicle_cols and r == w.row // (2 if p.format == 384 else 1)
    # stamps: consecutive rows of one assay column with the same point and intermediate column keep one offset
    segments = 0
    for p in exp.plates:
        by_col = defaultdict(list)
        for w in exp.wells[p.id]:
            if w.role in roles and source_key(w)[0]:
                by_col[w.col].append(w)
        step = 2 if p.format == 384 else 1
        for ws in by_col.values():
            ws.sort(key=lambda w: (w.row % step, w.row))
            at = 0  # position in the run of one point (cut into stamps of m.cut rows when the plan says so)
            for i, w in enumerate(ws):
                here = parse_well(m.draw[(keys[p.id], w.name)].well)
                at = at + 1 if i and ws[i - 1].row == w.row - step and ws[i - 1].point == w.point else 0
                if at % (m.cut or 8):
                    before = parse_well(m.draw[(keys[p.id], ws[i - 1].name)].well)
                    assert (here[0] - before[0], here[1]) == (1, before[1])
                else:
                    segments += 1
    used = sum(b.points for b in m.blocks)
    assert used <= 12 and sum(len(b.inter) for b in m.blocks) + len(vehicle_cols) <= 12
    return segments


def test_revised_panel_gets_a_row_patterned_plate():
    exp = load_experiment(SHIPPED)
    reason = column_mirror(exp, _plates(exp), KINASE_ROLES, 5.0)
    assert isinstance(reason, str) and "20 dilution points" in reason  # a column per dose does not fit
    m = mirror_layout(exp, _plates(exp), KINASE_ROLES, 5.0)
    assert isinstance(m, PatternMirror)
    assert [(b.rows, b.points, b.source_first) for b in m.blocks] == [
        (("entrectinib",) * 6 + ("staurosporine",) * 2, 10, 1)]
    assert sorted(m.blocks[0].inter.values()) == list(range(1, 11)) and m.columns[("", 0)] == [11]
    assert _check_mirror(exp, m, KINASE_ROLES) == 2 * 10  # one compound stamp per dose column of each plate


@st.composite
def row_layouts(draw):
    """Kinase layouts whose rows each carry one compound's series (in column order, sometimes reversed), with
    vehicle and no-enzyme wells beside them, on one to three 96-well plates."""
    n_cpd = draw(st.integers(1, 3))
    points = draw(st.integers(4, 10))
    factor = draw(st.sampled_from([3, 3, 2])) if n_cpd > 1 else 3
    compounds = [{"name": f"cpd{i + 1}", "stock": "10 mM",
                  "dilution": {"top": "100 nM", "factor": factor if i else 3, "points": points,
                               "replicates": 1}} for i in range(n_cpd)]
    plates = []
    for i in range(draw(st.integers(1, 3))):
        rows = draw(st.lists(st.sampled_from([f"cpd{j + 1}" for j in range(n_cpd)] + [None]), min_size=8,
                             max_size=8))
        if not any(rows):
            rows[0] = "cpd1"
        wells = []
        for r, name in enumerate(rows):
            letter = "ABCDEFGH"[r]
            if name is None:
                wells.append({"well": f"{letter}1", "role": "vehicle", "target": "K1"})
                continue
            rev = draw(st.booleans()) and draw(st.booleans())
            wells.append({"well": f"{letter}{points}:{letter}1" if rev else f"{letter}1:{letter}{points}",
                          "role": "sample", "compound": name, "target": "K1"})
            if points <= 10:
                wells.append({"well": f"{letter}{points + 1}", "role": "vehicle", "target": "K1"})
                wells.append({"well": f"{letter}{points + 2}", "role": "no_enzyme", "target": "K1"})
        plates.append({"id": f"P{i + 1}", "format": 96, "wells": wells})
    return {"name": "rows", "assay": "kinase_radiometric", "compounds": compounds,
            "targets": [{"name": "K1", "enzyme": "2 nM", "substrate": "IGF1Rtide", "atp": "10 uM"}],
            "controls": {"minimum": 1}, "plates": plates}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(row_layouts())
def test_pattern_mirror_draws_every_well_from_its_own_dose(data):
    """Whatever rows the plates carry: a row-patterned plate either doses every well from an intermediate well
    holding exactly its dose, each column run of one point by one stamp, or says why not and what to change."""
    try:
        exp = parse_experiment(yaml.safe_dump(data))
    except LabkitError:  # the drawn wells break a layout rule: not this test's subject
        event("invalid layout")
        return
    found = pattern_mirror(exp, _plates(exp), KINASE_ROLES, exp.volumes.compound)
    event("refused" if isinstance(found, str) else "row-patterned")
    if isinstance(found, str):
        assert any(w in found for w in ("use fewer plates", "same compound order")), found
        return
    _check_mirror(exp, found, KINASE_ROLES)


def _dose_steps(plan):
    return [s for s in plan.liquid_steps() if "compound intermediate" in s.text]


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_revised_panel_doses_compound_by_column_stamps(robot):
    """The shipped panel (entrectinib + staurosporine, 21 doses): no planner warning, the series and the
    intermediate plate by whole-column stamps, every compound well dosed by a stamp of 6–8 nozzles (single nozzles
    only for vehicle wells), a handful of pick-ups per plate. The checked-in protocols of it are simulated and
    verified in tests/protocol/test_seed_protocols.py."""
    exp = load_experiment(SHIPPED)
    plan = build_plan(exp, robot)
    assert plan.warnings == []
    lw = plan.labware_by_key()
    pips = {p.key: PIPETTES[p.name] for p in plan.pipettes}
    compound_wells = {(f"plate_{i + 1}", w.name) for i, p in enumerate(exp.plates) for w in exp.wells[p.id]
                      if w.role in ("sample", "reference")}
    dosed: dict[tuple[str, str], int] = defaultdict(int)
    pickups = 0
    for s in _dose_steps(plan):
        for st_ in s.strokes:
            pickups += st_.tip is not None
            assert st_.source.labware == "intermediate"
            for d in st_.dispenses:
                wells = channel_wells(lw[d.loc.labware].load_name, d.loc.well, pips[s.pipette].channels, s.nozzles)
                for w in wells:
                    dosed[(d.loc.labware, w)] += 1
                if any((d.loc.labware, w) in compound_wells for w in wells):
                    assert len(wells) >= 6, (s.text, d.loc, wells)  # a stamp, never a single compound well
    assert {k for k in dosed if k in compound_wells} == compound_wells and set(dosed.values()) == {1}
    assert pickups <= 2 * (10 + 3)  # a dose column per plate, a few vehicle stamps
    # the series and the intermediates: every step on the source plate is a whole-column stamp
    prep = [s for s in plan.liquid_steps() if any(st_.source.labware == "source" or
                                                  any(d.loc.labware == "source" for d in st_.dispenses)
                                                  for st_ in s.strokes)]
    assert prep and all(s.nozzles == 0 and ("8channel" in s.pipette or "multi" in s.pipette) for s in prep)
    loads = {ld.loc.well: ld.liquid for ld in plan.loads if ld.loc.labware == "source"}
    assert {w for w, liquid in loads.items() if liquid.startswith("entrectinib")} == {f"{r}1" for r in "ABCDEF"}
    assert {w for w, liquid in loads.items() if liquid.startswith("staurosporine")} == {"G1", "H1"}


def test_frozen_bench_layouts_keep_the_column_per_dose_plate():
    """Layouts a column per dose fits (the frozen benchmark layouts, the viability seeds) are planned as before."""
    for path in [ROOT / "benchmarks" / "layouts" / "kinase_panel_v01.yaml",
                 ROOT / "benchmarks" / "layouts" / "viability_km12_v01.yaml",
                 ROOT / "layouts" / "viability_km12.yaml", ROOT / "layouts" / "viability_aml_384.yaml"]:
        exp = load_experiment(path)
        roles = KINASE_ROLES if exp.assay == "kinase_radiometric" else ("sample", "reference", "vehicle", "blank")
        found = mirror_layout(exp, _plates(exp), roles, exp.volumes.compound)
        assert isinstance(found, Mirror) and not isinstance(found, PatternMirror), path.name


@pytest.mark.parametrize("layout", ["viability_km12", "kinase_panel"])
@pytest.mark.parametrize("factor", [3, 2])
def test_a_second_compound_goes_by_row_patterned_stamps(layout, factor):
    """A second compound (20 doses: no column per dose) is stamped from a row-patterned plate, also with another
    dilution factor (its rows get their own serial stamps)."""
    src = ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml" if layout == "kinase_panel" else \
        ROOT / "layouts" / f"{layout}.yaml"
    data = yaml.safe_load(src.read_text())
    data["compounds"][0]["dilution"]["replicates"] = 1
    data["compounds"].append(dict(data["compounds"][0], name="larotrectinib"))
    data["compounds"][1]["dilution"] = dict(data["compounds"][1]["dilution"], factor=factor)
    plan = build_plan(parse_experiment(yaml.safe_dump(data)), "ot2")
    assert plan.warnings == []
    dose = [s for s in plan.liquid_steps()
            if "intermediate" in s.text and s.strokes[0].dispenses[0].loc.labware.startswith("plate_")]
    assert dose and all(s.nozzles != 1 for s in dose)
    serial = [s for s in plan.liquid_steps() if "serial" in s.text]
    if factor == 3:  # one series, stamped down the row-patterned columns
        assert len(serial) == 1 and serial[0].nozzles != 1
    else:  # a serial stamp per run of rows of one factor
        assert {"1:3" in s.text for s in serial} == {True, False} and all("1:2" in s.text or "1:3" in s.text
                                                                          for s in serial)


ROWS = "ABCDEFGH"
CLASHING = """
name: clashing row orders
assay: kinase_radiometric
compounds:
  - {{name: cpdA, stock: 10 mM, dilution: {{top: 100 nM, factor: 3, points: 10, replicates: 1}}}}
  - {{name: cpdB, stock: 10 mM, dilution: {{top: 100 nM, factor: 3, points: 10, replicates: 1}}}}
targets:
  - {{name: K1, enzyme: 2 nM, substrate: IGF1Rtide, atp: 10 uM}}
controls: {{minimum: 1}}
plates:
  - id: P1
    format: 96
    wells: [{p1}]
  - id: P2
    format: 96
    wells: [{p2}]
"""


def _rows(order: str, second: str | None = None) -> str:
    """Wells of a plate: row r carries compound order[r] in columns 1–10 (with `second`, order[r] in columns 1–5 at
    points 1–5 and second[r] in columns 6–10 at points 6–10), a vehicle and a no-enzyme well beside."""
    out = []
    for r, name in zip(ROWS, order):
        if second is None:
            out.append(f"{{well: '{r}1:{r}10', role: sample, compound: cpd{name}, target: K1}}")
        else:
            out += [f"{{well: '{r}{c + 1}', role: sample, compound: cpd{(name if c < 5 else second[ROWS.index(r)])}, "
                    f"point: {c}, target: K1}}" for c in range(10)]
        out += [f"{{well: '{r}11', role: vehicle, target: K1}}", f"{{well: '{r}12', role: no_enzyme, target: K1}}"]
    return ", ".join(out)


def test_rows_in_two_orders_are_stamped_in_shorter_runs_and_say_so():
    """Columns whose rows alternate the compounds in two orders need more than 8 rows of one pattern: the runs are cut
    into stamps of at most 4 rows, and a plan warning says so and what to change. (Two plates of such different
    orders each fit one pattern: plan.batches then plans them in two batches, each stamped whole.)"""
    data = yaml.safe_load(CLASHING.format(p1=_rows("ABABABAB", "AABBAABB"), p2=_rows("ABABABAB")))
    data["plates"] = data["plates"][:1]
    exp = parse_experiment(yaml.safe_dump(data))
    found = mirror_layout(exp, _plates(exp), KINASE_ROLES, exp.volumes.compound)
    assert isinstance(found, PatternMirror) and found.cut == 4
    _check_mirror(exp, found, KINASE_ROLES)
    plan = build_plan(exp, "ot2")
    assert len(plan.warnings) == 1 and "runs of at most 4 rows" in plan.warnings[0], plan.warnings
    assert "same compound order" in plan.warnings[0]
    dose = [s for s in plan.liquid_steps() if "compound intermediate" in s.text]
    assert dose and {s.nozzles for s in dose} <= {0, 1, 2, 3, 4} and 4 in {s.nozzles for s in dose}  # 0: vehicle
    two = parse_experiment(CLASHING.format(p1=_rows("ABABABAB"), p2=_rows("AABBAABB")))
    both = mirror_layout(two, _plates(two), KINASE_ROLES, two.volumes.compound)
    assert isinstance(both, PatternMirror) and both.cut
    for i in range(2):
        alone = two.model_copy(update={"plates": [two.plates[i]]})
        one = mirror_layout(alone, _plates(alone), KINASE_ROLES, two.volumes.compound)
        assert isinstance(one, PatternMirror) and one.cut == 0


def test_a_layout_no_plate_can_mirror_says_why_and_what_to_change():
    """12 dilution points and the vehicle need 13 intermediate columns: dosing goes well by well and the warning
    says why and what to change (no silent fallback)."""
    data = yaml.safe_load(CLASHING.format(p1=_rows("ABABABAB"), p2=_rows("ABABABAB")))
    for c in data["compounds"]:
        c["dilution"]["points"] = 12
    plate = data["plates"][0]  # one plate: rows A–G the series over all 12 columns, row H the controls
    plate["wells"] = [dict(w, well=w["well"].replace("10", "12")) for w in plate["wells"]
                      if w["role"] == "sample" and not w["well"].startswith("H")]
    plate["wells"] += [{"well": "H1:H6", "role": "vehicle", "target": "K1"},
                       {"well": "H7:H12", "role": "no_enzyme", "target": "K1"}]
    data["plates"] = [plate]
    exp = parse_experiment(yaml.safe_dump(data))
    plan = build_plan(exp, "ot2")
    warning = next(w for w in plan.warnings if "one well at a time" in w)
    assert "24 dilution points" in warning and "13 intermediate columns" in warning, warning
    assert "at most 11 dilution points" in warning, warning
    dose = [s for s in plan.liquid_steps()
            if "intermediate" in s.text and s.strokes[0].dispenses[0].loc.labware.startswith("plate_")]
    assert dose and all(s.nozzles in (0, 1) and len(st_.dispenses) == 1 for s in dose for st_ in s.strokes)


def test_cut_row_patterned_384_plate_runs_and_verifies(tmp_path):
    """End to end on the real simulator: the 384-well AML layout with a second compound at another factor (its
    even and odd rows need two row orders, so runs are cut to 4-row stamps from a row-patterned plate, with rows of
    both factors) makes every well right."""
    from labkit.protocol.emit import emit
    from labkit.simulate import simulate, verify_experiment

    data = yaml.safe_load((ROOT / "layouts" / "viability_aml_384.yaml").read_text())
    data["compounds"].append(dict(data["compounds"][0], name="larotrectinib"))
    data["compounds"][1]["dilution"] = dict(data["compounds"][0]["dilution"], factor=2)
    exp = parse_experiment(yaml.safe_dump(data))
    plan = build_plan(exp, "flex")
    assert len(plan.warnings) == 1 and "runs of at most 4 rows" in plan.warnings[0], plan.warnings
    assert any("1:2" in s.text and s.nozzles for s in plan.liquid_steps() if "serial" in s.text)
    protocol = tmp_path / "aml.py"
    protocol.write_text(emit(plan), encoding="utf-8")
    sim = simulate(protocol, in_process=True)
    assert not sim.errors, [str(e) for e in sim.errors[:3]]
    report = verify_experiment(sim.ledger, exp, sim.timeline)
    assert report.ok and report.conc_checked == 120, report.summary()
