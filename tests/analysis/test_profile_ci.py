"""Profile-likelihood IC50 intervals (--ci profile): coverage on simulated curves, agreement with Wald on a
well-determined curve, and the CLI option."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labkit.analysis.fit import ll4
from labkit.analysis.models import derived, fit_model

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_coverage import DESIGNS, coverage  # noqa: E402


def test_profile_coverage_on_the_viability_design():
    c = coverage(DESIGNS["viability (10-pt 1:3 from 1 uM, triplicates)"], n=400, seed=5, ci="profile")
    assert 0.915 <= c["coverage"] <= 0.98 and c["no_ci"] == 0.0


def test_profile_matches_wald_on_a_well_determined_curve():
    x = np.repeat(np.r_[0.0, 1e-6 / 3.0 ** np.arange(10)], 3)
    rng = np.random.default_rng(1)
    y = ll4(x, 1.0, 0.0, 100.0, 3e-8) + rng.normal(0, 3, x.size)
    wald, prof = derived(fit_model(x, y)), derived(fit_model(x, y, ci="profile"))
    assert prof["ic50_ci_low"][0] < 3e-8 < prof["ic50_ci_high"][0]
    for k in ("ic50_ci_low", "ic50_ci_high"):
        assert prof[k][0] == pytest.approx(wald[k][0], rel=0.15)  # near-quadratic profile: close to Wald


def test_labkit_fit_ci_profile(tmp_path):
    x = np.repeat(np.r_[0.0, 1e-6 / 3.0 ** np.arange(10)], 2)
    y = ll4(x, 1.0, 0.0, 100.0, 3e-8) + np.random.default_rng(3).normal(0, 4, x.size)
    pd.DataFrame({"conc": x, "resp": y}).to_csv(tmp_path / "t.csv", index=False)
    exe = str(Path(sys.executable).with_name("labkit"))
    out = {}
    for ci in ("wald", "profile"):
        run = subprocess.run([exe, "fit", str(tmp_path / "t.csv"), "--conc", "conc", "--response", "resp", "--ci",
                              ci, "-o", str(tmp_path / f"{ci}.csv")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        out[ci] = pd.read_csv(tmp_path / f"{ci}.csv").iloc[0]
    assert out["wald"]["ic50"] == out["profile"]["ic50"]
    assert out["wald"]["ic50_ci_low"] != out["profile"]["ic50_ci_low"]
    bad = subprocess.run([exe, "fit", str(tmp_path / "t.csv"), "--conc", "conc", "--response", "resp", "--ci",
                          "bootstrap", "-o", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
