"""The Flex 96-channel plans (labkit.plan.stamp96): what they stamp, what they refuse, the CLI and facade option.

The checked-in 96-channel protocols are analysed and verified in tests/protocol/test_seed_protocols.py.
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit.cli import main
from labkit.errors import PlanError
from labkit.plan import build_plan
from labkit.plan.steps import LoadLabware, MoveLabware, Pause, Transfer
from labkit.plan.stamp96 import PIPETTE_96, TIP_ADAPTER, WELLS_96, pattern_volume, tips_for, unsupported96

ROOT = Path(__file__).resolve().parents[2]
# the seed kinase design before issue 10 (no total-counts wells: whole-plate stamps only)
KINASE = ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml"
PANEL = ROOT / "layouts" / "kinase_panel.yaml"  # the shipped panel: total-counts wells, a reference inhibitor
KM12 = ROOT / "layouts" / "viability_km12.yaml"


def _plan(path_or_exp, robot="flex"):
    exp = labkit.load(path_or_exp) if isinstance(path_or_exp, Path) else path_or_exp
    return build_plan(exp, robot, pipettes="96")


def test_kinase_plan_is_six_stamps_per_plate_with_racks_moved_onto_the_adapter():
    plan = _plan(KINASE)
    assert [p.name for p in plan.pipettes] == [PIPETTE_96]
    stamps = [s for s in plan.steps if isinstance(s, Transfer)]
    assert len(stamps) == 6 * 2 and all(len(s.strokes) == 1 and s.nozzles == 0 for s in stamps)
    assert plan.tips() == 96 * 8  # compound keeps the intermediate's tips, the filter transfer the stop's
    lw = plan.labware_by_key()
    adapter = next(k for k, u in lw.items() if u.load_name == TIP_ADAPTER)
    assert lw[adapter].adapter and lw[adapter].slot
    for i, step in enumerate(plan.steps):
        if isinstance(step, Transfer) and step.strokes[0].tip is not None:
            rack = step.strokes[0].tip.labware
            before = [s for s in plan.steps[:i] if isinstance(s, MoveLabware) and s.labware == rack]
            assert before and before[-1].to == adapter and before[-1].gripper
            assert step.strokes[0].tip.well == "A1" and step.strokes[0].source.well == "A1"
    # every full rack is used once: the plan check counts all 96 tips of each pick-up
    racks = [s.strokes[0].tip.labware for s in stamps if s.strokes[0].tip is not None]
    assert len(set(racks)) == len(racks) and all(lw[r].load_name == tips_for(40.0) for r in racks)


def test_kinase_patterned_plates_mirror_the_reaction_plate():
    exp = labkit.load(KINASE)
    plan = _plan(exp)
    loads = {(ld.loc.labware, ld.loc.well): ld for ld in plan.loads}
    for n, p in enumerate(exp.plates, 1):
        roles = {w.name: w for w in exp.wells[p.id]}
        for well in WELLS_96:
            w = roles[well]
            hot = loads[(f"hot_{n}", well)].liquid
            series = loads[(f"series_{n}", well)].liquid
            mix = loads[(f"mixes_{n}", well)].liquid
            assert loads[(f"inter_{n}", well)].liquid == "Assay buffer"
            assert loads[(f"inter_{n}", well)].volume == 3 * exp.volumes.intermediate_diluent  # 2 µL -> 6 µL
            if w.role == "empty":
                assert hot == mix == "Assay buffer" and series == "DMSO"
            else:
                assert "radioactive" in hot
                assert series.startswith(f"entrectinib point {w.point + 1} ") if w.role == "sample" else \
                    series == "DMSO"
                # the fixture's old name 'positive' is read as no_enzyme
                assert (mix.startswith("No-enzyme") if w.role == "no_enzyme" else mix.startswith(w.target))
        assert loads[(f"hot_{n}", "A1")].volume == pattern_volume(exp.volumes.atp_mix)
    # per plate: a pause bringing the DMSO series and buffer, then one bringing the kinase mixes and hot ATP fresh
    pauses = [s for s in plan.steps if isinstance(s, Pause) and s.loads]
    assert len(pauses) == 4 and [any("radioactive" in name for name in s.loads) for s in pauses] == [False, True] * 2
    intermediate = next(s for s in plan.steps if isinstance(s, Transfer) and "intermediate —" in s.text)
    assert intermediate.strokes[0].volume == 6.0 and intermediate.strokes[0].mix_after
    assert not intermediate.strokes[0].drop  # the compound stamp that follows keeps the tips


def test_second_plate_round_clears_the_first_and_loads_fresh_racks():
    plan = _plan(KINASE)
    lw = plan.labware_by_key()
    later = [s.key for s in plan.steps if isinstance(s, LoadLabware)]
    assert sum(1 for k in later if lw[k].load_name == tips_for(40.0)) == 4
    assert all(not lw[k].initial for k in later)
    gone = {s.labware for s in plan.steps if isinstance(s, MoveLabware) and s.to == "offdeck"}
    assert {"tips96_1", "inter_1", "series_1", "mixes_1", "hot_1", "plate_1", "filter_1"} <= gone


def test_total_counts_are_spotted_by_a_single_nozzle_with_a_fresh_tip_each():
    """The shipped panel's total-counts wells: after the filter transfer, a fresh aliquot of the hot mix (one well of
    the aliquot plate's last column per hot mix) goes onto each total-counts well of the filter plate by the
    96-channel's single nozzle, one fresh tip from the single rack (on the deck, never on the adapter) per spot."""
    exp = labkit.load(PANEL)
    plan = _plan(exp)
    lw = plan.labware_by_key()
    spots = [s for s in plan.steps if isinstance(s, Transfer) and s.nozzles == 1]
    assert [s for s in plan.steps if isinstance(s, Transfer) and s.nozzles not in (0, 1)] == []
    assert len(spots) == len(exp.plates)
    moved = {s.labware for s in plan.steps if isinstance(s, MoveLabware)}
    tips = []
    for n, (p, step) in enumerate(zip(exp.plates, spots), 1):
        wells = sorted((w.name for w in exp.wells[p.id] if w.role == "total_counts"))
        assert sorted(k.dispenses[0].loc.well for k in step.strokes) == wells
        for k in step.strokes:
            assert k.tip is not None and k.drop and k.volume == exp.volumes.atp_mix
            assert k.dispenses[0].loc.labware == f"filter_{n}" and not k.dispenses[0].top
            assert k.source.labware == f"spots_{n}" and k.source.well.endswith("12")
            tips.append(k.tip)
        i = plan.steps.index(step)
        before = plan.steps[:i]
        filt = max(j for j, s in enumerate(before) if isinstance(s, Transfer) and "P81 filter plate" in s.text)
        aliquot = max(j for j, s in enumerate(before) if isinstance(s, Pause))
        assert filt < aliquot and any("radioactive" in name for name in before[aliquot].loads)
    assert len(set(tips)) == len(tips) and len({t.labware for t in tips}) == 1
    single = lw[tips[0].labware]
    assert single.slot == "D3" and single.initial and tips[0].labware not in moved  # never onto the adapter
    assert [t.well for t in tips] == list(WELLS_96[:len(tips)])  # from the back-left corner on


def test_viability_plan_seeds_doses_and_adds_ctg_with_three_racks():
    exp = labkit.load(KM12)
    plan = _plan(exp)
    stamps = [s for s in plan.steps if isinstance(s, Transfer)]
    # seed, time-zero seed, intermediate, dose, CellTiter-Glo; a rack each but the dose (the intermediate's tips)
    assert len(stamps) == 5 and plan.tips() == 4 * 96
    seed = stamps[0].strokes[0]
    assert seed.mix_before and seed.volume == exp.volumes.cells
    loads = {(ld.loc.labware, ld.loc.well): ld.liquid for ld in plan.loads}
    for w in exp.wells["KM12-1"]:
        cells = loads[("cells_1", w.name)]
        assert (cells == "KM12 cells") == (w.role in ("sample", "reference", "vehicle")), (w, cells)
    t0 = dict(exp.time_zero_wells())  # the time-zero plate's pattern: cells in its wells only
    assert {w for (lab, w), liquid in loads.items() if lab == "cells_t0" and liquid == "KM12 cells"} == set(t0)


def test_ctg_tips_are_kept_across_plates():
    text = KM12.read_text().replace("  - {id: KM12-1, format: 96, edges: buffer, cell_lines: [KM12]}",
                                    "  - {id: KM12-1, format: 96, edges: buffer, cell_lines: [KM12]}\n"
                                    "  - {id: KM12-2, format: 96, edges: buffer, cell_lines: [KM12]}")
    plan = _plan(labkit.parse(text, "two plates"))
    ctg = [s.strokes[0] for s in plan.steps if isinstance(s, Transfer) and "CellTiter-Glo" in s.text]
    assert len(ctg) == 2 and ctg[0].tip is not None and ctg[1].tip is None
    assert not ctg[0].drop and ctg[1].drop
    assert plan.tips() == 6 * 96  # seed and dose per plate, the time-zero plate's seed, one CellTiter-Glo set


@pytest.mark.parametrize("layout,robot,needle", [
    (ROOT / "layouts" / "viability_aml_384.yaml", "flex", "384-well"),
    (ROOT / "layouts" / "dilution_tutorial.yaml", "flex", "not planned for dilution_plate"),
    (KINASE, "ot2", "Flex pipette"),
])
def test_refused_with_a_plan_error(layout, robot, needle):
    with pytest.raises(PlanError, match=needle):
        _plan(layout, robot)


def test_below_the_96_channel_minimum_is_refused():
    exp = labkit.parse(KINASE.read_text().replace("compound: 5 uL", "compound: 4 uL"), "4 uL")
    assert not unsupported96(exp)  # the format is fine; the volume is what the planner refuses
    with pytest.raises(PlanError, match="5 µL at least"):
        _plan(exp)


def test_unknown_pipettes_choice():
    with pytest.raises(PlanError, match="unknown pipettes"):
        build_plan(labkit.load(KINASE), "flex", pipettes="384")


def test_tips_for_picks_the_smallest_rack():
    assert tips_for(5) == "opentrons_flex_96_tiprack_50ul"
    assert tips_for(100) == "opentrons_flex_96_tiprack_200ul"
    assert tips_for(1000) == "opentrons_flex_96_tiprack_1000ul"
    with pytest.raises(PlanError):
        tips_for(1001)


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_writes_a_96_channel_protocol(tmp_path, capsys):
    out = tmp_path / "k96.py"
    code, _o, err = _cli(["protocol", str(KINASE), "--robot", "flex", "--pipettes", "96", "-o", str(out)], capsys)
    assert code == 0 and "wrote" in err
    text = out.read_text()
    assert "'flex_96channel_1000'" in text and TIP_ADAPTER in text
    assert text == labkit.generate(KINASE, "flex", pipettes="96")
    assert text == labkit.load(KINASE).protocol("flex", pipettes=96).text  # the facade takes 96 or '96'


def test_cli_refuses_384_with_exit_2(capsys):
    code, _o, err = _cli(["protocol", str(ROOT / "layouts" / "viability_aml_384.yaml"), "--robot", "flex",
                          "--pipettes", "96"], capsys)
    assert code == 2 and "384-well" in err and "quadrant" in err and "Traceback" not in err


KINASE_TEMPLATE = """
name: random kinase
assay: kinase_radiometric
compounds:
  - {{name: cpd, stock: 10 mM, dilution: {{top: 100 nM, factor: 3, points: {points}, replicates: {reps}}}}}
targets:
{targets}
controls: {{vehicle: 2, positive: 2, total_counts: {spots}, minimum: 2}}
plates:
{plates}
"""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=st.integers(2, 10), reps=st.integers(1, 2), n_targets=st.integers(1, 3), n_plates=st.integers(1, 3),
       spots=st.integers(0, 2))
def test_any_kinase_layout_plans_and_hot_atp_goes_only_into_assay_wells(points, reps, n_targets, n_plates, spots):
    """Any kinase layout plans: four full racks per plate and a single tip per total-counts spot; the patterned hot
    plate holds hot mix exactly in the assay wells (total-counts wells get theirs from the aliquot)."""
    names = [f"K{i}" for i in range(n_targets)]
    targets = "\n".join(f"  - {{name: {n}, atp: 10 uM}}" for n in names)
    plates = "\n".join(f"  - {{id: P{i}, format: 96, targets: [{', '.join(names)}]}}" for i in range(n_plates))
    exp = labkit.parse(KINASE_TEMPLATE.format(points=points, reps=reps, targets=targets, plates=plates,
                                              spots=spots), "random")
    plan = _plan(exp)  # checked: volumes, tips, overflow, dry wells
    n_spots = sum(1 for p in exp.plates for w in exp.wells[p.id] if w.role == "total_counts")
    assert (n_spots > 0) == (spots > 0)
    assert plan.tips() == 96 * 4 * n_plates + n_spots
    hot = {(ld.loc.labware, ld.loc.well) for ld in plan.loads if "radioactive" in ld.liquid}
    for n, p in enumerate(exp.plates, 1):
        assay = {w.name for w in exp.wells[p.id] if w.role not in ("empty", "buffer", "total_counts")}
        assert {w for lab, w in hot if lab == f"hot_{n}"} == assay


def test_96_nozzles_map_onto_every_plate_well_and_into_one_trough():
    """The ledger's nozzle geometry for the 96-channel with all nozzles: A1 of a 96-well plate puts each nozzle
    over its own well; every nozzle over a one-trough reservoir lands in its one well."""
    from opentrons_shared_data.labware import load_definition

    from labkit.simulate.nozzles import active_nozzles, nozzle_wells

    primary, nozzles = active_nozzles(96, {"style": "ALL"})
    plate = nozzle_wells(dict(load_definition("corning_96_wellplate_360ul_flat", 2)), "A1", primary, nozzles)
    assert sorted(plate) == sorted(WELLS_96)
    assert plate[nozzles.index((7, 11))] == "H12"
    trough = nozzle_wells(dict(load_definition("nest_1_reservoir_195ml", 2)), "A1", primary, nozzles)
    assert trough == ["A1"] * 96
