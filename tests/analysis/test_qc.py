"""Plate QC: Z' (Zhang 1999), S/B, CV of each control group, flags; per-plate well accounting."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "analysis"))
from analysis_synth import KINASE, VIABILITY, joined_table  # noqa: E402

from labkit.analysis.normalize import normalize  # noqa: E402
from labkit.analysis.qc import control_qc, plate_summary, z_prime  # noqa: E402


def test_z_prime_formula():
    # Zhang 1999: 1 - 3 (sd_p + sd_n) / |mu_p - mu_n|
    assert z_prime(1000.0, 50.0, 100.0, 10.0) == pytest.approx(1 - 3 * 60 / 900)
    assert z_prime(100.0, 10.0, 1000.0, 50.0) == pytest.approx(1 - 3 * 60 / 900)  # order does not matter
    assert z_prime(10.0, 5.0, 10.0, 5.0) != z_prime(10.0, 5.0, 10.0, 5.0)  # no window: NaN
    assert z_prime(10.0, float("nan"), 1.0, 1.0) != z_prime(10.0, float("nan"), 1.0, 1.0)


def test_control_qc_matches_hand_computation_per_target():
    df = joined_table(plates={"P1": ["TRKA", "ROS1"]}, seed=2)
    qc = control_qc(normalize(df, KINASE))
    assert list(qc["target"]) == ["ROS1", "TRKA"]
    for rec in qc.to_dict("records"):
        sub = df[df["target"] == rec["target"]]
        v = sub[sub["role"] == "vehicle"]["value"].to_numpy()
        p = sub[sub["role"] == "positive"]["value"].to_numpy()
        assert rec["vehicle_n"] == 8 and rec["no_enzyme_n"] == 8  # the old role name is read as no_enzyme
        assert rec["z_prime"] == pytest.approx(1 - 3 * (v.std(ddof=1) + p.std(ddof=1)) / abs(v.mean() - p.mean()))
        assert rec["signal_background"] == pytest.approx(v.mean() / p.mean())
        assert rec["vehicle_cv_pct"] == pytest.approx(100 * v.std(ddof=1) / v.mean())
        assert rec["no_enzyme_cv_pct"] == pytest.approx(100 * p.std(ddof=1) / p.mean())
        assert rec["controls"] == "own" and rec["flags"] == ""


def test_noisy_controls_are_flagged_below_half():
    good = joined_table(plates={"P1": ["TRKA"]}, noise=0.03, seed=1)
    bad = joined_table(plates={"P2": ["TRKA"]}, noise=0.35, seed=1)
    df = pd.concat([good, bad], ignore_index=True)
    norm = normalize(df, KINASE)
    qc = control_qc(norm).set_index("plate")
    assert qc.loc["P1", "z_prime"] >= 0.5 and qc.loc["P1", "flags"] == ""
    assert qc.loc["P2", "z_prime"] < 0.5 and "z_prime<0.5" in qc.loc["P2", "flags"]
    summary = plate_summary(norm.data, control_qc(norm)).set_index("plate")
    assert bool(summary.loc["P1", "qc_pass"]) and not bool(summary.loc["P2", "qc_pass"])


def test_viability_shared_blank_scope_and_few_controls_flag():
    df = joined_table(VIABILITY, fmt=96, plates={"V1": ["KM12", "IMS-M2"]}, compounds={"e": {"KM12": 1e-8}},
                      shared_low=True, n_vehicle=2, n_low=4, seed=3)
    qc = control_qc(normalize(df, VIABILITY))
    assert set(qc["controls"]) == {"plate-shared blank"}
    assert (qc["blank_n"] == 4).all() and (qc["vehicle_n"] == 2).all()
    assert all("too_few_controls" in f for f in qc["flags"])
    assert (qc["signal_background"] > 100).all()  # CTG: vehicle RLU >> blank RLU


def test_flagged_controls_and_wells_are_counted():
    flagged = {("P1", "A1"): "overflow", ("P1", "B1"): "overflow", ("P1", "C5"): "missing", ("P1", "P20"): "invalid"}
    df = joined_table(plates={"P1": ["TRKA"]}, flagged=flagged, seed=5)
    norm = normalize(df, KINASE)
    qc = control_qc(norm)
    assert qc.loc[0, "vehicle_n"] == 6 and qc.loc[0, "controls_excluded"] == 2
    assert "controls_excluded:2" in qc.loc[0, "flags"]
    s = plate_summary(norm.data, qc).iloc[0]
    assert (s["wells"], s["ok"], s["overflow"], s["missing"], s["invalid"]) == (384, 380, 2, 1, 1)
    assert s["unassigned"] == int((df["role"] == "unassigned").sum())


def test_inverted_window_is_flagged():
    df = joined_table(plates={"P1": ["TRKA"]}, seed=6)
    swap = {"vehicle": "positive", "positive": "vehicle"}
    df["role"] = df["role"].map(lambda r: swap.get(r, r))
    qc = control_qc(normalize(df, KINASE))
    assert "inverted_window" in qc.loc[0, "flags"]
    assert np.isfinite(qc.loc[0, "z_prime"])  # Z' itself uses |window|
