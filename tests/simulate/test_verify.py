"""labkit.simulate.verify: a replayed ledger checked against a layout's wells table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from labkit.simulate.opentrons_run import analyze_protocol
from labkit.simulate.ledger import read_liquids, replay
from labkit.simulate.verify import verify
from labkit.tables import WELLS_COLUMNS, plate_wells, split_well

DATA = Path(__file__).parents[1] / "data" / "simulate"


def kin_t_layout() -> pd.DataFrame:
    """The layout flex_kinase_mini.py makes: X 1 µM, 1/3, 1/9 in columns 1-3 (rows A, C, … O), vehicle column 4,
    no-enzyme column 5, buffer in P23/P24, the rest empty."""
    rows = []
    for well in plate_wells(384):
        r, col = split_well(well)
        role, compound, conc, point = "empty", "", math.nan, -1
        if r in "ACEGIKMO" and col <= 5:
            if col <= 3:
                role, compound, conc, point = "sample", "X", 1e-6 / 3 ** (col - 1), col - 1
            else:
                role = "vehicle" if col == 4 else "positive"
        elif well in ("P23", "P24"):
            role = "buffer"
        rows.append(("KIN-T", well, r, col, role, compound, conc, point, 1 if role == "sample" else 0, "TRKA", ""))
    return pd.DataFrame(rows, columns=list(WELLS_COLUMNS))


@pytest.fixture(scope="module")
def ledgers():
    out = {}
    for name in ("flex_kinase_mini", "ot2_faults", "ot2_dilution"):
        a = analyze_protocol(DATA / f"{name}.py", in_process=True)
        out[name] = replay(a, read_liquids(DATA / f"{name}.py"))
    return out


def test_mini_kinase_plate_verifies(ledgers):
    rep = verify(ledgers["flex_kinase_mini"], kin_t_layout(), {"KIN-T": "KIN-T"}, dmso_limit=0.01)
    assert rep.ok, rep.summary()
    assert rep.conc_checked == 24 and rep.wells_checked == 42
    assert rep.max_conc_error < 1e-9
    assert rep.plates["KIN-T"]["dmso_min"] == pytest.approx(0.01) == rep.plates["KIN-T"]["dmso_max"]
    assert "PASS" in rep.summary()


def test_wrong_concentration_is_caught_at_the_tolerance(ledgers):
    layout = kin_t_layout()
    layout.loc[layout["well"] == "C2", "conc_M"] *= 1.02
    layout.loc[layout["well"] == "E2", "conc_M"] *= 1.005
    rep = verify(ledgers["flex_kinase_mini"], layout, {"KIN-T": "KIN-T"}, dmso_limit=0.01)
    assert [(f.check, f.well) for f in rep.failures] == [("conc", "C2")]
    assert "2.0" in rep.failures[0].message or "1.96" in rep.failures[0].message
    assert not verify(ledgers["flex_kinase_mini"], layout, {"KIN-T": "KIN-T"}, dmso_limit=0.01,
                      tolerance=0.001).ok


def test_vehicle_with_compound_and_missing_compound(ledgers):
    layout = kin_t_layout()
    layout.loc[layout["well"] == "A1", ["role", "compound", "conc_M"]] = ["vehicle", "", math.nan]
    layout.loc[layout["well"] == "A4", ["role", "compound", "conc_M"]] = ["sample", "X", 1e-7]
    rep = verify(ledgers["flex_kinase_mini"], layout, {"KIN-T": "KIN-T"}, dmso_limit=0.01)
    checks = sorted((f.check, f.well) for f in rep.failures)
    assert checks == [("conc", "A4"), ("contamination", "A1"), ("extra-compound", "A1")]


def test_dmso_limit_and_mismatch(ledgers):
    rep = verify(ledgers["flex_kinase_mini"], kin_t_layout(), {"KIN-T": "KIN-T"}, dmso_limit=0.005)
    assert {f.check for f in rep.failures} == {"dmso"} and len(rep.failures) == 40
    # OT-2 plate: column 6 (enzyme only, no DMSO) declared as vehicle next to 1 % DMSO wells
    led = ledgers["ot2_dilution"]
    rows = [("P1", w, w[0], int(w[1:]), "sample", "X", c, i, 1, "", "")
            for i, (w, c) in enumerate([("A1", 1e-5), ("A2", 5e-6), ("A3", 2.5e-6), ("A4", 1.25e-6)])]
    rows += [("P1", "A5", "A", 5, "vehicle", "", math.nan, -1, 0, "", ""),
             ("P1", "B6", "B", 6, "vehicle", "", math.nan, -1, 0, "", "")]
    layout = pd.DataFrame(rows, columns=list(WELLS_COLUMNS))
    rep = verify(led, layout, {"P1": "P1"}, dmso_limit=0.01)
    assert [(f.check, f.well) for f in rep.failures] == [("dmso", "B6")]
    assert verify(led, layout, {"P1": "P1"}, dmso_limit=0.01, match_dmso=False).ok


def test_ledger_problems_and_missing_plate_fail(ledgers):
    rep = verify(ledgers["ot2_faults"], kin_t_layout().head(0), {}, dmso_limit=0.01)
    assert sorted({f.check for f in rep.failures}) == ["contamination", "hot-tip", "overflow", "underflow"]
    rep = verify(ledgers["flex_kinase_mini"], kin_t_layout(), {"KIN-T": "KIN-1"}, dmso_limit=0.01)
    assert [f.check for f in rep.failures] == ["missing-plate"]
    assert "KIN-1" in str(rep.failures[0]) and not rep.ok
    assert rep.to_dict()["ok"] is False
