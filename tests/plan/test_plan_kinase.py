"""The kinase plan: radiation hygiene, vehicle matching, temperature, filter plate."""

from pathlib import Path

import pytest

from labkit.errors import TimingError
from labkit.layout.io import load_experiment
from labkit.plan import build_plan
from labkit.assays.kinase_radiometric.common import HOT
from labkit.labware.specs import PIPETTES
from labkit.plan.steps import Delay, Distribute, MoveLabware, Pause, SetTemperature, Transfer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "plan" / "small_kinase.yaml"


def _preincubation(exp, minutes: float):
    """The layout with another pre-incubation."""
    return exp.model_copy(update={"conditions": exp.conditions.model_copy(update={"preincubation_min": minutes})})


def test_single_channel_paces_the_kinase_mixes_and_refuses_what_it_cannot_hold():
    """One well at a time the start takes ~30 min on the OT-2: the kinase mixes wait between strokes for its pace
    (60 min holds); a 10 min pre-incubation cannot (the work alone is longer) and is refused with what would do."""
    plan = build_plan(load_experiment(PANEL), "ot2", multichannel=False)
    paced = [s for s in plan.steps if isinstance(s, Delay) and "pacing" in s.text]
    assert paced and all(0 < s.minutes < 5 for s in paced)
    with pytest.raises(TimingError) as refused:
        build_plan(_preincubation(load_experiment(PANEL), 10), "ot2", multichannel=False)
    msg = refused.value.message
    assert "cannot be held within ±5% in every well" in msg and "at least" in msg, msg
    assert refused.value.field == "conditions.preincubation_min"


@pytest.fixture(scope="module", params=["ot2", "flex"])
def plan(request):
    return build_plan(load_experiment(SMALL), request.param)


def test_hot_reservoir_named_and_loaded(plan):
    hot = [lq for lq in plan.liquids if lq.name.startswith(HOT)]
    assert len(hot) == 2  # two ATP concentrations -> two hot mixes
    assert all(lq.composition["atp33"] > 0 for lq in hot)
    assert {ld.liquid for ld in plan.loads} >= {lq.name for lq in hot}


def _hot_index(plan):
    return next(i for i, s in enumerate(plan.steps) if isinstance(s, (Transfer, Distribute)) and "start" in s.text)


def test_fresh_tip_every_stroke_once_hot(plan):
    """Once hot ATP is in play a tip never goes back to a reagent after touching a reaction: each pick-up's chain
    of strokes draws from a reagent at most at its start; the start goes into the liquid with a mix (issue 10)."""
    start = _hot_index(plan)
    reagents = {"hot", "reservoir", "tubes"}
    for s in plan.steps[start:]:
        if not isinstance(s, (Transfer, Distribute)):
            continue
        assert s.strokes[0].tip is not None and s.strokes[-1].drop, s.text
        touched = False
        for st in s.strokes:
            if st.tip is not None:
                touched = False
            assert not (touched and st.source.labware in reagents), s.text
            touched = touched or any(d.loc.labware.startswith("plate_") for d in st.dispenses)
        if isinstance(s, Distribute):
            assert all(d.top for st in s.strokes for d in st.dispenses)
    starts = [s for s in plan.steps[start:] if isinstance(s, Transfer) and "start" in s.text]
    if any(PIPETTES[p.name].channels == 8 for p in plan.pipettes):
        assert starts and all(st.mix_after and not st.dispenses[0].top for s in starts for st in s.strokes)


def test_every_assay_well_gets_compound_or_vehicle_once():
    exp = load_experiment(SMALL)
    plan = build_plan(exp, "flex")
    hits = _well_hits(plan, lambda s: "compound intermediate" in s.text)
    assay = {w.name for w in exp.wells["P1"] if w.role in ("sample", "vehicle", "no_enzyme")}
    assert {w: n for (k, w), n in hits.items() if k == "plate_1"} == {w: 1 for w in assay}


def test_temperature_move_filter_and_final_pause(plan):
    assert isinstance(next(s for s in plan.steps if isinstance(s, SetTemperature)), SetTemperature)
    moves = [s for s in plan.steps if isinstance(s, MoveLabware)]
    assert any(m.labware == "filter_1" for m in moves) and any(m.to == "temp" for m in moves)
    pause = [s for s in plan.steps if isinstance(s, Pause)][-1]
    assert "wash" in pause.text and "scintillant" in pause.text and "count" in pause.text.lower()
    assert any(lw.custom and lw.label == "P1 P81 filter" for lw in plan.labware)


# ---------------------------------------------------------------- 8-channel work

# the seed design before issue 10 (three and two kinases per plate, auto-placed): its column structure is what
# these 8-channel tests describe; the shipped panel (explicit wells) is planned in test_shipped_panel_uses_8_channels
PANEL = ROOT / "tests" / "data" / "kinase" / "kinase_panel_old.yaml"
SHIPPED = ROOT / "layouts" / "kinase_panel.yaml"


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_shipped_panel_uses_8_channels_and_spots_total_counts(robot):
    exp = load_experiment(SHIPPED)
    plan = build_plan(exp, robot)
    # two 10-point compounds (entrectinib, staurosporine): a row-patterned intermediate plate, no fallback
    assert plan.warnings == []
    assert any("multi" in p.name or "8channel" in p.name for p in plan.pipettes)
    keys = {lw.label: lw.key for lw in plan.labware}
    for p in exp.plates:
        spots = _well_hits(plan, lambda s: "total counts" in s.text)
        want = {w.name for w in exp.wells[p.id] if w.role == "total_counts"}
        assert want and {w for (k, w) in spots if k == keys[f"{p.id} P81 filter"]} == want
        # total-counts wells get nothing on the reaction plate
        reaction = _well_hits(plan, lambda s: True)
        assert not {w for (k, w) in reaction if k == keys[p.id]} & want


def _well_hits(plan, step_filter):
    """Well -> times a matching step's dispenses reach it (8-channel strokes counted per working nozzle)."""
    from collections import Counter

    from labkit.labware.specs import PIPETTES
    from labkit.plan.checks import channel_wells

    lw, pips = plan.labware_by_key(), {p.key: PIPETTES[p.name] for p in plan.pipettes}
    hits = Counter()
    for s in plan.liquid_steps():
        if step_filter(s):
            for st in s.strokes:
                for d in st.dispenses:
                    for w in channel_wells(lw[d.loc.labware].load_name, d.loc.well, pips[s.pipette].channels,
                                           s.nozzles):
                        hits[(d.loc.labware, w)] += 1
    return hits


def _runs(exp, plate_id, group_of) -> int:
    """Column runs (consecutive rows of one column an 8-channel can work together) of a plate's assay wells."""
    from labkit.plan.columns import runs

    wells = {w.name: group_of(w) for w in exp.wells[plate_id] if w.role in ("sample", "vehicle", "no_enzyme")}
    return len(runs(8, wells))


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_panel_works_by_column_stamps(robot):
    """Pick-ups are bounded by the layout's column runs (not its wells): compound per dose run, the ATP start and
    the stop + filter transfer per run, the prep per intermediate column, a few for the kinase mixes."""
    exp = load_experiment(PANEL)
    multi = build_plan(exp, robot)
    single = build_plan(exp, robot, multichannel=False)
    assert any(p.name in ("p300_multi_gen2", "flex_8channel_50") for p in multi.pipettes)
    assert all("multi" not in p.name and "8channel" not in p.name for p in single.pipettes)
    assert not multi.warnings
    pickups = sum(multi.tips_used().values())
    points = sum(c.dilution.points for c in exp.compounds)
    dose_runs = sum(_runs(exp, p.id, lambda w: (w.compound, w.point) if w.role == "sample" else "") for p in exp.plates)
    atp_runs = sum(_runs(exp, p.id, lambda w: True) for p in exp.plates)
    mix_runs = sum(_runs(exp, p.id, lambda w: (w.target, w.role == "no_enzyme")) for p in exp.plates)
    # prep: solvent, serial steps, diluent, one per intermediate column; per plate: doses, mixes, start, stop
    bound = 1 + points + 2 + (points + 1) + dose_runs + mix_runs + 2 * atp_runs
    assert pickups <= bound, (pickups, bound)
    assert pickups < sum(single.tips_used().values()) / 2  # far fewer pick-ups than well by well
    filt = [s for s in multi.liquid_steps() if "filter plate" in s.text]
    assert {s.nozzles for s in filt} == {0, 6, 4}  # whole columns, A–F of KIN-1, A–D of KIN-2


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_panel_intermediate_plate_is_mirrored(robot):
    """A column per dose on the intermediate plate, all eight rows; each dose stamp draws from the rows it feeds."""
    exp = load_experiment(PANEL)
    plan = build_plan(exp, robot)
    loads = {ld.loc.well for ld in plan.loads if ld.loc.labware == "source"}
    assert loads == {f"{r}1" for r in "ABCDEFGH"}  # the top solution in a whole column
    for s in plan.liquid_steps():
        if "compound intermediate" in s.text:
            for st in s.strokes:
                assert st.source.labware == "intermediate"
                assert all(d.loc.well[0] == st.source.well[0] for d in st.dispenses)  # same rows


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_every_assay_well_started_stopped_and_filtered_once(robot):
    exp = load_experiment(PANEL)
    plan = build_plan(exp, robot)
    keys = {lw.label: lw.key for lw in plan.labware}
    for what in ("start", "stop", "filter plate"):
        hits = _well_hits(plan, lambda s: what in s.text)
        for p in exp.plates:
            key = keys[p.id] if what != "filter plate" else keys[f"{p.id} P81 filter"]
            assay = {w.name for w in exp.wells[p.id] if w.role in ("sample", "vehicle", "no_enzyme")}
            got = {w: n for (k, w), n in hits.items() if k == key}
            assert got == {w: 1 for w in assay}, (what, p.id)  # nothing into the layout's empty wells


def test_ot2_hot_atp_from_a_well_per_row_by_columns_with_a_fresh_tip_each():
    plan = build_plan(load_experiment(PANEL), "ot2")
    hot = plan.labware_by_key()["hot"]
    assert hot.load_name == "corning_96_wellplate_360ul_flat" and "HOT" in hot.label
    loads = {ld.loc.well: ld.volume for ld in plan.loads if ld.loc.labware == "hot"}
    # each plate its own column (brought fresh at its pause), a well per row of the rows it starts
    assert set(loads) == {f"{r}1" for r in "ABCDEFGH"} | {f"{r}2" for r in "ABCDEFGH"}
    # each row's share (10 µL per well of that row on that plate) + overage + dead volume: little more hot mix than
    # single-channel work from a tube takes (a well's dead volume and rounding per row)
    single = build_plan(load_experiment(PANEL), "ot2", multichannel=False)
    tube = sum(ld.volume for ld in single.loads if ld.loc.labware == "hot")
    assert loads["A1"] >= 12 * 10 and loads["H1"] >= 6 * 10 and loads["A2"] >= 12 * 10 and loads["H2"] >= 2 * 10
    assert sum(loads.values()) <= tube + 16 * 20
    start = [s for s in plan.liquid_steps() if "start" in s.text]
    assert {s.pipette for s in start} == {"p20_multi_gen2"} and {s.nozzles for s in start} == {0, 6, 4}
    assert all(st.tip is not None and st.drop and len(st.dispenses) == 1 for s in start for st in s.strokes)


@pytest.mark.parametrize("robot", ["ot2", "flex"])
def test_deck_keeps_tall_labware_from_behind_partial_work(robot):
    from labkit.plan.checks import partial_layout_problems, partial_touches

    plan = build_plan(load_experiment(PANEL), robot)
    assert partial_touches(plan)
    assert partial_layout_problems(plan) == []


def test_two_atp_mixes_never_share_an_8_channel_stroke():
    from labkit.plan.checks import channel_wells

    exp = load_experiment(SMALL)  # rows A (TRKA, 10 µM ATP) and B (ALK, 20 µM ATP)
    plan = build_plan(exp, "ot2")
    atp = {t.name: t.atp for t in exp.targets}
    target = {w.name: w.target for w in exp.wells["P1"]}
    start = [s for s in plan.liquid_steps() if "start" in s.text]
    assert start
    for s in start:
        for st in s.strokes:
            wells = channel_wells("corning_96_wellplate_360ul_flat", st.dispenses[0].loc.well, 8, s.nozzles)
            assert len({atp[target[w]] for w in wells}) == 1, s.text


def test_a_deck_too_full_for_partial_layouts_falls_back_to_single_channels_with_a_warning_and_batches_avoid_it():
    import yaml

    from labkit.layout.io import parse_experiment
    from labkit.plan.builder import BuildConfig

    data = yaml.safe_load(PANEL.read_text())
    data["plates"] += [{"id": f"KIN-{k}", "format": 96, "targets": ["TRKA"]} for k in (3, 4)]
    exp = parse_experiment(yaml.safe_dump(data))
    # the OT-2's reaction plates wait off the deck (put on the temperature module by hand): four fit one deck
    ot2 = exp.assay_kind.build(BuildConfig("ot2", exp.name), exp)
    assert "p20_multi_gen2" in [p.name for p in ot2.pipettes] and not ot2.warnings
    # the Flex's wait in its three staging-area slots: a fourth takes a working slot, too many for the 8-channels
    one_deck = exp.assay_kind.build(BuildConfig("flex", exp.name), exp)  # all four plates on one deck
    assert [p.name for p in one_deck.pipettes] == ["flex_1channel_50", "flex_1channel_1000"]
    assert len(one_deck.warnings) == 1 and "8-channel not used" in one_deck.warnings[0]
    assert "tip pick-ups" in one_deck.warnings[0]  # says how many
    plan = build_plan(exp, "flex")  # in two batches, with the 8-channels and no warning
    assert "flex_8channel_50" in [p.name for p in plan.pipettes] and not plan.warnings


def test_hot_tips_go_to_a_dedicated_radioactive_waste(plan):
    """Issue 10: every tip from the ATP start on (start, stop + filter transfer, total counts) is dropped, blow-outs
    included, into a radioactive-waste container of its own: on the Flex a second trash bin in column 1 or 3 (not
    in front of a used staging-area slot), on the OT-2 an empty 1-well reservoir; none before the start."""
    from labkit.plan.builder import WASTE_CONTAINER, WASTE_KEY

    hot = plan.hot_waste
    assert hot is not None
    slots = {u.slot for u in plan.labware if u.initial}
    if plan.robot == "flex":
        assert hot.kind == "bin" and hot.slot[1:] in ("1", "3") and hot.slot != plan.trash
        assert hot.slot[1:] == "1" or f"{hot.slot[0]}4" not in slots  # no staging area beside a column-3 bin
        assert hot.slot not in slots | {m.slot for m in plan.modules}
    else:
        assert hot.kind == "labware" and plan.labware_by_key()[WASTE_KEY].load_name == WASTE_CONTAINER
    start = _hot_index(plan)
    liquid = [(i, s) for i, s in enumerate(plan.steps) if isinstance(s, (Transfer, Distribute))]
    for i, s in liquid:
        for st in s.strokes:
            if i >= start and (st.drop or st.blow_out == "trash"):
                assert st.waste, s.text
            if i < start:
                assert not st.waste, s.text


def test_no_free_slot_for_the_waste_is_a_plan_warning():
    """A deck with no free slot: the plan says so, and hot tips go to the shared trash (no container)."""
    from labkit.plan.builder import BuildConfig, Builder

    for robot in ("ot2", "flex"):
        b = Builder(BuildConfig(robot, "x"))
        while b.deck.has_free():
            b.deck.take(f"filler {len(b.deck.owner)}")
        assert b.hot_waste("RADIOACTIVE WASTE") is None and b.plan.hot_waste is None
        assert any("no radioactive-waste container" in w for w in b.plan.warnings)


def test_other_assays_send_nothing_to_a_radioactive_waste():
    plan = build_plan(load_experiment(ROOT / "layouts" / "viability_km12.yaml"), "flex")
    assert plan.hot_waste is None
    assert not any(st.waste for s in plan.liquid_steps() for st in s.strokes)


def test_a_waste_bin_on_a_taken_or_wrong_slot_is_rejected():
    import dataclasses

    from labkit.errors import PlanError
    from labkit.plan.checks import check_plan

    plan = build_plan(load_experiment(SMALL), "flex")
    taken = next(u.slot for u in plan.labware if u.initial and u.slot[1:] in ("1", "3"))
    for slot, needle in ((taken, "over-assigned"), ("B2", "columns 1 and 3")):
        bad = dataclasses.replace(plan, hot_waste=dataclasses.replace(plan.hot_waste, slot=slot))
        with pytest.raises(PlanError) as exc:
            check_plan(bad)
        assert any(needle in p for p in exc.value.problems), exc.value.problems
