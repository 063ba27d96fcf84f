"""`labkit demo`'s kill-control layout end to end: a viability plate without blank wells, 0 % viability = cells killed
by staurosporine; protocol generated, simulated and verified (the Flex only), virtual reader, analysis, report."""

from pathlib import Path

import numpy as np
import pytest

from labkit.demo import one_robot_layouts, run_demo, seed_layouts

ROOT = Path(__file__).parent.parent
KILL = ROOT / "layouts" / "viability_km12_kill.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_kill")
    lines = []
    res = run_demo(out, seed=0, layouts=(str(KILL),), robots=("ot2", "flex"), echo=lines.append, record=False)
    return res, out, "\n".join(lines)


def test_the_demo_runs_the_kill_layout_on_one_robot():
    assert "viability_km12_kill.yaml" in seed_layouts() and "viability_km12_kill.yaml" in one_robot_layouts()
    assert "viability_km12.yaml" not in one_robot_layouts()


def test_kill_control_normalization_end_to_end(demo):
    from labkit.readout import read

    res, out, log = demo
    assert [(r.robot, r.ok) for r in res.protocols] == [("flex", True)], log  # flex only, simulated and verified
    assert "(viability_km12_kill.yaml: flex only)" in log
    analysis = res.analyses["viability_km12_kill"]
    assert analysis.spec.low_role == "kill"
    d = analysis.data
    assert "blank" not in set(d["role"]) and (d["role"] == "kill").sum() == 6
    # the virtual reader's kill wells are at the no-cell background: far below the vehicle, Z' of a good assay
    raw = read(out / "readouts" / "viability_km12_kill.csv")
    joined = d[["plate", "well", "role"]].merge(raw[["plate", "well", "value"]], on=["plate", "well"])
    kill = joined.loc[joined["role"] == "kill", "value"]
    vehicle = joined.loc[joined["role"] == "vehicle", "value"]
    assert kill.mean() < 0.01 * vehicle.mean()
    # % viability = 100 (x - kill) / (vehicle - kill), recomputed from the file
    s = d[d["role"] == "sample"].merge(raw[["plate", "well", "value"]], on=["plate", "well"], suffixes=("", "_raw"))
    np.testing.assert_allclose(s["response"], 100 * (s["value_raw"] - kill.mean()) / (vehicle.mean() - kill.mean()),
                               rtol=1e-9)
    t = res.table
    assert list(t["zero_control"]) == ["kill"] and (t["fold_error"] < 2).all() and (t["z_prime"] > 0.5).all()
    assert "KM12 (kill ctrl)" in log
    report = (out / "reports" / "viability_km12_kill" / "report.html").read_text(encoding="utf-8")
    assert "(x − kill)/(vehicle − kill)" in report and "TB288" in report
