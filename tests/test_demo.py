"""End to end: layout -> protocol -> Opentrons analysis -> ledger -> virtual readout -> import -> fit."""

from pathlib import Path

import numpy as np
import pytest

from labkit.demo import readout_and_analyze, run_demo, truth_table
from labkit.layout.io import load_experiment

ROOT = Path(__file__).parent.parent
KINASE = ROOT / "tests" / "data" / "demo" / "kinase_one_plate.yaml"
VIABILITY = ROOT / "layouts" / "viability_km12.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    lines = []
    res = run_demo(out, seed=0, layouts=(str(KINASE), str(VIABILITY)), robots=("flex",), echo=lines.append,
                   db=str(out / "store.sqlite"))
    return res, out, "\n".join(lines)


def test_protocols_simulate_and_verify(demo):
    res, out, log = demo
    assert [r.ok for r in res.protocols] == [True, True], log
    assert (out / "protocols" / "kinase_one_plate_flex.py").is_file()
    assert "[2/4]" in log and "[4/4]" in log


def test_every_true_ic50_within_two_fold(demo):
    res, _out, log = demo
    t = res.table
    assert sorted(t.group) == ["ALK", "KM12", "ROS1"], log
    assert (t.fold_error < 2.0).all(), t.to_string()
    assert (t.z_prime > 0.5).all(), t.to_string()


def test_outputs_written(demo):
    res, out, _log = demo
    for stem in ("kinase_one_plate", "viability_km12"):
        report = out / "reports" / stem / "report.html"
        assert report.is_file() and "<table" in report.read_text(encoding="utf-8")
    assert (out / "readouts" / "kinase_one_plate.txt").read_text().startswith("PerkinElmer MicroBeta2")
    assert (out / "truth_vs_fit.csv").is_file()
    assert sorted(p.name for p in (out / "maps").glob("*.png")) == ["kinase_one_plate_KIN-2.png",
                                                                   "viability_km12_KM12-1.png",
                                                                   "viability_km12_KM12-T0.png"]


def test_confidence_intervals_cover_the_truth_in_most_seeds(demo, tmp_path):
    """Over several noise seeds the 95 % CI holds the true IC50 in most runs (nominal 95 %)."""
    res, _out, _log = demo
    inside = []
    for layout in (KINASE, VIABILITY):
        exp = load_experiment(layout)
        sim = next(r.simulation for r in res.protocols if r.layout == layout.name)
        for seed in range(1, 9):
            analysis, _ = readout_and_analyze(sim, exp, layout, tmp_path, seed=seed, echo=lambda s: None,
                                              write_reports=False)
            t = truth_table(analysis, exp.assay)
            assert (t.fold_error < 2.0).all(), t.to_string()
            inside += t.inside_ci.tolist()
    assert len(inside) == 8 * 3
    assert np.mean(inside) >= 0.7, inside


def test_demo_records_three_runs_per_layout(demo):
    """The run store gets the demo's analysis and two more noise seeds per layout, with their protocol."""
    import hashlib

    from labkit.store import open_store
    from labkit.store.history import history

    _res, out, log = demo
    store = open_store(out / "store.sqlite")
    hs = {h.assay: h for h in history(store)}
    store.close()
    assert sorted(hs) == ["cell_viability_ctg", "kinase_radiometric"], log
    for h in hs.values():
        assert len(h.runs) == 3 and (h.runs["robot"] == "flex").all() and h.runs["simulation_ok"].all()
        assert (h.potency["n"] == 3).all() and h.potency["msr"].notna().all()
        assert h.flagged.empty, h.flagged.to_string()
    assert "recorded 3 runs of kinase_one_plate.yaml (3 new)" in log
    store = open_store(out / "store.sqlite")
    from labkit.store.models import Run

    with store.session() as s:
        run = s.get(Run, 1)
        proto = out / "protocols" / "kinase_one_plate_flex.py"
        assert run.protocol_sha256 == hashlib.sha256(proto.read_bytes()).hexdigest()
    store.close()
