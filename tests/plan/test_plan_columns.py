"""plan.columns: runs of a plate column an 8-channel works together, and never more tips than single wells."""

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.plan.columns import Run, runs, split
from labkit.tables import row_letters


def test_runs_of_the_kinase_plate():
    # KIN-1: columns 1-6 every row, 7-12 rows A-F
    groups = {f"{r}{c}": "hot" for c in range(1, 13) for r in ("ABCDEFGH" if c <= 6 else "ABCDEF")}
    found = runs(8, groups)
    assert [(x.column, x.nozzles, x.primary) for x in found[:1] + found[6:7]] == [(1, 8, "A1"), (7, 6, "F7")]
    assert len(found) == 12 and sum(x.nozzles for x in found) == len(groups)


def test_runs_break_where_the_group_changes_and_skip_gaps():
    groups = {"A1": "x", "B1": "x", "C1": "y", "E1": "y", "F1": "y"}
    assert [(x.wells, x.group) for x in runs(8, groups)] == [(("A1", "B1"), "x"), (("C1",), "y"),
                                                             (("E1", "F1"), "y")]


def test_384_runs_take_every_other_row():
    groups = {f"{r}3": 1 for r in "BCDEFG"}
    found = runs(16, groups)
    assert [x.wells for x in found] == [("B3", "D3", "F3"), ("C3", "E3", "G3")]
    assert [x.primary for x in found] == ["F3", "G3"]  # the front nozzle of a partial layout
    full = runs(16, {f"{r}1": 1 for r in row_letters(16)})
    assert [x.wells[0] for x in full] == ["A1", "B1"] and all(x.nozzles == 8 for x in full)


def _tips(strokes, single, per):
    multi = sum(s[0].nozzles for s in strokes)
    by = Counter()
    for run in single:
        by[run.group] += run.nozzles
    return multi + sum(math.ceil(n / per) for n in by.values())


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, 7), st.integers(1, 12)), st.sampled_from("ab"), max_size=96),
       st.integers(1, 12))
def test_split_covers_every_well_once_with_no_more_tips(cells, per):
    groups = {f"{'ABCDEFGH'[r]}{c}": g for (r, c), g in cells.items()}
    found = runs(8, groups)
    strokes, single = split(found, per)
    wells = [w for s in strokes for run in s for w in run.wells] + [w for run in single for w in run.wells]
    assert sorted(wells) == sorted(groups)
    for s in strokes:
        assert len(s) == per and len({(r.nozzles, r.group) for r in s}) == 1 and s[0].nozzles >= 2
    baseline = Counter(groups.values())
    assert _tips(strokes, single, per) <= sum(math.ceil(n / per) for n in baseline.values())


def test_single_wells_stay_single():
    strokes, single = split([Run(1, ("A1",), "x"), Run(2, ("A2", "B2"), "x")])
    assert [r.column for s in strokes for r in s] == [2] and [r.column for r in single] == [1]
