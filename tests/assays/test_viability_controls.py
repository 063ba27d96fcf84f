"""Viability plates without blank wells: 0 % = a kill control, or no 0 % control with a fitted bottom, as the layout
declares; the layout refuses a plate with neither; the CellTiter-Glo protocols use white opaque TC plates."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labkit.analysis.pipeline import analyze_readouts
from labkit.layout.io import load_experiment
from labkit.readout.writers import write_luminescence

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
name: controls test
assay: cell_viability_ctg
compounds:
  - name: drug
    stock: 10 mM
    dilution: {top: 1 uM, factor: 3, points: 10, replicates: 3}
cell_lines:
  - {name: LINE1, growth: suspension, cells_per_well: 2000}
volumes: {cells: 90 uL, compound: 10 uL, ctg: 100 uL}
plates:
  - {id: P1, format: 96, edges: buffer, cell_lines: [LINE1]}
"""
KILL = BASE + ("controls: {vehicle: 6, kill: 6, minimum: 3}\n"
               "kill_control: {compound: staurosporine, conc: 10 uM, stock: 10 mM}\n")
FITTED = BASE + "controls: {vehicle: 6, minimum: 3}\nnormalization: fitted_bottom\n"
NEITHER = BASE + "controls: {vehicle: 6, minimum: 3}\n"


def _layout(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "layout.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _readout(tmp_path: Path, exp, low: float, vehicle: float = 50000.0) -> tuple[Path, np.ndarray]:
    """Vehicle wells at `vehicle`, kill wells at `low`, samples spread over the window by point."""
    w = exp.wells_table()
    w = w[w["plate"] == "P1"]
    value = np.full(len(w), 50.0)
    role = w["role"].to_numpy()
    value[role == "vehicle"] = vehicle
    value[role == "kill"] = low
    s = role == "sample"
    value[s] = 2000.0 + 4000.0 * w["point"].to_numpy()[s]
    df = w.assign(value=value)[["plate", "well", "value"]]
    return write_luminescence(df, tmp_path / "r.csv", plate_format=96), value


def test_kill_control_is_zero_percent(tmp_path):
    exp = load_experiment(_layout(tmp_path, KILL))
    assert exp.low_control == "kill" and exp.required_controls() == ("vehicle", "kill")
    table = exp.wells_table()
    kill = table[table["role"] == "kill"]
    assert len(kill) == 6 and set(kill["compound"]) == {"staurosporine"}
    assert np.allclose(kill["conc_M"], 1e-5)
    assert (table["role"] == "blank").sum() == 0
    path, _ = _readout(tmp_path, exp, low=1000.0)
    result, _ = analyze_readouts([path], exp)
    d = result.data
    s = d[d["role"] == "sample"]
    # % viability = 100 (x - kill) / (vehicle - kill), worked out independently from the written values
    np.testing.assert_allclose(s["response"], 100 * (s["value"] - 1000.0) / (50000.0 - 1000.0))
    assert result.spec.low_role == "kill"
    assert np.isfinite(result.qc["z_prime"]).all()  # kill control gives a Z'


def test_fitted_bottom_is_percent_of_vehicle(tmp_path):
    exp = load_experiment(_layout(tmp_path, FITTED))
    assert exp.low_control == "fitted_bottom" and exp.required_controls() == ("vehicle",)
    path, _ = _readout(tmp_path, exp, low=0.0)
    result, _ = analyze_readouts([path], exp)
    d = result.data
    s = d[d["role"] == "sample"]
    np.testing.assert_allclose(s["response"], 100 * s["value"] / 50000.0)
    assert result.spec.low_role == "" and "bottom is fitted" in result.spec.norm.formula
    assert result.qc["z_prime"].isna().all() and "no_0%_control" in result.qc["flags"].iloc[0]
    assert not any("z_prime" in f for f in result.results["flags"])  # not a QC failure: Z' is undefined here
    assert np.isfinite(result.results["ic50_M"]).all()


def test_layout_without_zero_percent_control_is_refused(tmp_path):
    path = _layout(tmp_path, NEITHER)
    run = subprocess.run([str(Path(sys.executable).with_name("labkit")), "layout", "validate", str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "no 0 % viability control" in run.stderr and "fitted_bottom" in run.stderr and "kill_control" in run.stderr


def test_kill_wells_need_a_kill_control(tmp_path):
    from labkit.errors import LabkitError

    text = BASE + "controls: {vehicle: 6, blank: 6, kill: 6, minimum: 3}\n"
    with pytest.raises(LabkitError, match="kill_control"):
        load_experiment(_layout(tmp_path, text))


def test_kill_control_above_stock_is_refused(tmp_path):
    from labkit.errors import LabkitError

    text = KILL.replace("stock: 10 mM}", "stock: 1 mM}")  # 10 uM at 0.5 % DMSO needs 2 mM
    with pytest.raises(LabkitError, match="kill_control.conc"):
        load_experiment(_layout(tmp_path, text))


@pytest.mark.parametrize("name, load_name", [("viability_km12_ot2.py", "corning_96_wellplate_360ul_flat"),
                                             ("viability_aml_384_flex.py",
                                              "labkit_corning_384_wellplate_112ul_white_tc")])
def test_ctg_protocols_use_white_tc_plates(name, load_name):
    """The checked-in CellTiter-Glo protocols load the white opaque TC plate for the assay and time-zero plates, cite
    Promega TB288, and embed the shipped 384-well definition."""
    text = (ROOT / "protocols" / name).read_text(encoding="utf-8")
    ns: dict = {}
    exec(compile(text.split("\nfrom opentrons import", 1)[0] + "\n", name, "exec"), ns)  # the header only
    labware_lines = [ln for ln in text.splitlines() if "'key': 'plate_" in ln]
    assert labware_lines and all(f"'load_name': '{load_name}'" in ln for ln in labware_lines)
    assert any("'key': 'plate_t0'" in ln for ln in labware_lines)  # the time-zero plate
    assert "TB288" in text
    if load_name.startswith("labkit_"):
        assert f"'{load_name}':" in text  # embedded definition


def test_fitted_bottom_layout_end_to_end(tmp_path):
    """A plate with vehicle wells only ('normalization: fitted_bottom'): its Flex protocol simulates and verifies,
    and the virtual reader's plate analyzes to % of vehicle with the curve's bottom fitted, near the true IC50."""
    from labkit.api import make_protocol
    from labkit.virtual import TRUE_IC50

    exp = load_experiment(_layout(tmp_path, FITTED.replace("LINE1", "KM12")))
    run = make_protocol(exp, "flex").simulate()
    assert run.ok, run.summary()
    assert "blank" not in {c.role for c in exp.wells["P1"]} and "kill" not in {c.role for c in exp.wells["P1"]}
    readout = run.virtual_readout(tmp_path / "readout", seed=1)
    result, _ = analyze_readouts([readout], exp)
    assert result.spec.low_role == "" and "bottom is fitted" in result.spec.norm.formula
    r = result.results.iloc[0]
    assert max(r["ic50_M"] / TRUE_IC50["KM12"], TRUE_IC50["KM12"] / r["ic50_M"]) < 2.0, r.to_dict()
    assert 0.0 < r["bottom"] < 15.0  # the fitted bottom: the virtual cells' floor (~3 % of vehicle), not forced to 0
