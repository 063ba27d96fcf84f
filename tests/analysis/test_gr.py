"""GR metrics from a time-zero plate (Hafner et al. 2016): the GR value formula, the layout's time-zero plate, its
export joined with the assay plate's, the GR fit against a known answer, and the report section."""

from pathlib import Path

import numpy as np
import pytest

from labkit.analysis.gr import gr50_of, gr_value
from labkit.analysis.pipeline import analyze_readouts, write_outputs
from labkit.layout.io import load_experiment
from labkit.readout.writers import write_luminescence

LAYOUT = """\
name: gr test
assay: cell_viability_ctg
compounds:
  - name: drug
    stock: 10 mM
    dilution: {top: 1 uM, factor: 3, points: 10, replicates: 3}
cell_lines:
  - {name: LINE1, growth: adherent, cells_per_well: 3000}
controls: {vehicle: 6, blank: 6, minimum: 3}
volumes: {cells: 90 uL, compound: 10 uL, ctg: 100 uL}
time_zero: {plate: T0-PLATE, replicates: 6}
plates:
  - {id: P1, format: 96, edges: buffer, cell_lines: [LINE1]}
"""

BG, X0, DOUBLINGS = 400.0, 8000.0, 3.0
GR_INF, GEC50, H = -0.4, 20e-9, 1.5


def true_gr(c):
    """The GR curve the synthetic wells follow."""
    return GR_INF + (1 - GR_INF) / (1 + (np.asarray(c) / GEC50) ** H)


def test_gr_value_formula_by_hand():
    """x0 = 1000, x_ctrl = 8000 (three doublings): GR = 2^(log2(x/x0)/3) - 1, worked out on paper."""
    x = np.array([8000.0, 2000.0, 1000.0, 500.0, 0.0, -5.0])
    got = gr_value(x, 1000.0, 8000.0)
    assert got[0] == pytest.approx(1.0)
    assert got[1] == pytest.approx(2 ** (1 / 3) - 1)   # one doubling of three: 0.2599
    assert got[2] == pytest.approx(0.0)                # no net growth
    assert got[3] == pytest.approx(2 ** (-1 / 3) - 1)  # half the cells gone: -0.2063
    assert got[4] == -1.0 and got[5] == -1.0           # at or below background: every cell killed


def test_gr50_formula():
    """GR50 solves GRinf + (1 - GRinf)/(1 + (c/GEC50)^h) = 0.5; n.d. when GRinf >= 0.5."""
    g = gr50_of(np.array([GR_INF, 0.6]), np.array([GEC50, GEC50]), np.array([H, H]))
    assert true_gr(g[0]) == pytest.approx(0.5, abs=1e-12)
    assert np.isnan(g[1])


def _write(tmp_path: Path, t0_values: bool = True):
    layout = tmp_path / "gr.yaml"
    layout.write_text(LAYOUT, encoding="utf-8")
    exp = load_experiment(layout)
    wells = exp.wells_table()
    ctrl = X0 * 2 ** DOUBLINGS
    value = np.full(len(wells), 60.0)
    role = wells["role"].to_numpy()
    value[role == "blank"] = BG
    value[role == "vehicle"] = BG + ctrl
    value[role == "time_zero"] = BG + X0
    s = role == "sample"
    # x(c) = x0 * 2^(n log2(1 + GR(c))): the cell number that gives GR(c) exactly
    value[s] = BG + X0 * 2 ** (DOUBLINGS * np.log2(1 + true_gr(wells["conc_M"].to_numpy()[s])))
    df = wells.assign(value=np.round(value, 3))[["plate", "well", "value"]]
    assay = write_luminescence(df[df["plate"] == "P1"], tmp_path / "assay.csv", plate_format=96)
    t0 = write_luminescence(df[df["plate"] == "T0-PLATE"], tmp_path / "t0.csv", plate_format=96)
    return exp, layout, [assay, t0] if t0_values else [assay]


def test_time_zero_plate_in_layout(tmp_path):
    exp, _, _ = _write(tmp_path)
    t = exp.wells_table()
    t0 = t[t["plate"] == "T0-PLATE"]
    assert len(t0) == 6 and set(t0["role"]) == {"time_zero"} and set(t0["cell_line"]) == {"LINE1"}
    assert list(t0["well"]) == ["B2", "B3", "B4", "B5", "B6", "B7"]  # inner wells, away from the edge


def test_gr_from_exports_matches_known_answer(tmp_path):
    """Assay plate and time-zero plate as two EnVision files: GR per well, the GR fit and GR50 recover the truth."""
    exp, layout, files = _write(tmp_path)
    result, _ = analyze_readouts(files, exp)
    d = result.data
    s = d[d["role"] == "sample"]
    np.testing.assert_allclose(s["gr"], true_gr(s["conc_M"]), atol=2e-4)
    r = result.results.iloc[0]
    expected = GEC50 * ((1 - GR_INF) / (0.5 - GR_INF) - 1) ** (1 / H)
    assert r["gr50_M"] == pytest.approx(expected, rel=2e-3)
    assert r["gr_inf"] == pytest.approx(GR_INF, abs=2e-3)
    assert r["gr_hill"] == pytest.approx(H, rel=5e-3)
    concs = np.array(sorted(set(s["conc_M"])))
    assert r["gr_max"] == pytest.approx(true_gr(concs[-1]), abs=1e-3)
    lx, g = np.log10(concs), true_gr(concs)
    aoc = np.sum((1 - (g[1:] + g[:-1]) / 2) * np.diff(lx)) / (lx[-1] - lx[0])
    assert r["gr_aoc"] == pytest.approx(aoc, abs=1e-3)
    assert np.isfinite(r["ic50_M"])  # IC50 alongside
    assert result.gr.time_zero.iloc[0]["x0"] == pytest.approx(X0, rel=1e-6)
    paths = write_outputs(result, tmp_path / "out", title="gr")
    html = paths["report"].read_text(encoding="utf-8")
    assert "Growth-rate inhibition" in html and "GR50 (nM)" in html and "white opaque" in html
    assert paths["gr"].is_file() and paths["time_zero"].is_file()


def test_no_time_zero_read_says_so(tmp_path):
    exp, _, files = _write(tmp_path, t0_values=False)
    result, _ = analyze_readouts(files, exp)
    assert "gr50_M" not in result.results.columns and result.gr is None
    assert any("no GR metrics" in n for n in result.notes)
    assert any("T0-PLATE" in n and "no plate in the readout" in n for n in result.notes)


def _html_rows(html: str) -> list[list[str]]:
    """Cells of every table row of a report, as text."""
    import html as htmllib
    import re

    return [[htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)]


def test_potency_and_gr_columns_in_results_and_report(tmp_path):
    """results.csv and the HTML report carry relative and absolute IC50, pIC50, Emax, AUC and the GR metrics, the
    report's numbers being the results' (issue 11)."""
    import pandas as pd

    exp, _layout, files = _write(tmp_path)
    result, _ = analyze_readouts(files, exp)
    paths = write_outputs(result, tmp_path / "out", title="gr")
    res = pd.read_csv(paths["report"].parent / "results.csv")
    for col in ("ic50_nM", "ic50_ci_low_nM", "ic50_ci_high_nM", "pic50", "abs_ic50_nM", "emax", "auc", "gr50_nM",
                "gr_max", "gr_aoc"):
        assert col in res.columns and res[col].notna().all(), col
    r = res.iloc[0]
    rows = _html_rows(paths["report"].read_text(encoding="utf-8"))
    head = next(row for row in rows if "abs. IC50 (nM)" in row)
    body = rows[rows.index(head) + 1]
    cell = dict(zip(head, body))
    num = lambda text: float(text.replace("−", "-"))  # noqa: E731 - the report's minus sign
    assert num(cell["abs. IC50 (nM)"]) == pytest.approx(r["abs_ic50_nM"], rel=0.01)
    assert num(cell["IC50 (nM)"]) == pytest.approx(r["ic50_nM"], rel=0.01)
    assert num(cell["pIC50"]) == pytest.approx(r["pic50"], abs=0.01)
    assert num(cell["Emax"]) == pytest.approx(r["emax"], abs=0.1)
    assert num(cell["AUC"]) == pytest.approx(r["auc"], abs=0.01)
    gr_head = next(row for row in rows if "GR50 (nM)" in row)
    gr = dict(zip(gr_head, rows[rows.index(gr_head) + 1]))
    assert num(gr["GR50 (nM)"]) == pytest.approx(r["gr50_nM"], rel=0.01)
    assert num(gr["GRmax"]) == pytest.approx(r["gr_max"], abs=0.01)
    assert num(gr["GR_AOC"]) == pytest.approx(r["gr_aoc"], abs=0.01)
