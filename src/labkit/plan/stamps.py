"""Column stamps: an 8-channel works the runs of a plate column that get the same thing, the way a person would.

A *stamp* is one pick-up of k nozzles (all eight, or a partial layout whose front nozzle takes the run's front
well) over a run of k wells of one column. `stamp_distribute` multi-dispenses one liquid (from a reservoir trough
or a plate column) into every run of a set of wells; `stamp_moves` turns well -> source-well maps into per-run
transfers (the source rows lying like the destination rows, as on a mirrored intermediate plate); `RowReagent`
holds reagents in plate columns whose rows match the assay plate's rows (a kinase per pair of rows), so a mix
per row goes in by one stamp.

Partial nozzle layouts need a deck on which nothing tall stands behind what they work: `build_arranged` builds
a plan twice (a probe on a free deck, then on a deck arranged for what the probe worked with partial layouts),
falling back to single-channel work with a warning in the plan when no such deck exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE
from labkit.plan.builder import BuildConfig, Builder
from labkit.plan.columns import Run, runs
from labkit.plan.steps import Loc, Plan
from labkit.tables import row_letters
from labkit.wells import parse_well


def plate_rows(b: Builder, key: str) -> int:
    """Rows of a labware on the plan (8 or 16 for plates)."""
    return LABWARE[b.plan.labware_by_key()[key].load_name].rows


def group_runs(b: Builder, key: str, groups: Mapping[str, object]) -> list[Run]:
    """Runs (column, consecutive rows an 8-channel reaches together, same group) of the wells of a plate."""
    return runs(plate_rows(b, key), dict(groups))


def by_nozzles(found: list[Run]) -> list[list[Run]]:
    """Runs grouped by nozzle count (most nozzles first), each in column order: one step per group."""
    out: dict[int, list[Run]] = defaultdict(list)
    for r in found:
        out[r.nozzles].append(r)
    return [sorted(out[k], key=lambda r: (r.column, r.wells[0])) for k in sorted(out, reverse=True)]


def describe_nozzles(k: int) -> str:
    """'8-channel', '6-nozzle' or '1-nozzle'."""
    return "8-channel" if k == 8 else f"{k}-nozzle"


def describe(group: list[Run]) -> str:
    """'columns 1–12, 6-nozzle' for the runs of one step."""
    cols = sorted({r.column for r in group})
    where = f"column {cols[0]}" if len(cols) == 1 else f"columns {cols[0]}–{cols[-1]}"
    return f"{where}, {describe_nozzles(group[0].nozzles)}"


def stamp_distribute(b: Builder, text: str, pip: str, source, key: str, wells: list[str], volume: float,
                     **kw) -> int:
    """Multi-dispense one liquid into wells of a plate by column stamps (one step per nozzle count); returns the
    number of steps. On a single-channel pipette: one well at a time (as Builder.distribute)."""
    if not wells:
        return 0
    if b.spec(pip).channels == 1:
        b.distribute(text, pip, source, [Loc(key, w) for w in wells], volume, **kw)
        return 1
    groups = by_nozzles(group_runs(b, key, {w: True for w in wells}))
    for group in groups:
        b.distribute(f"{text} ({describe(group)})" if len(groups) > 1 else text, pip, source,
                     [Loc(key, r.primary) for r in group], volume, nozzles=group[0].nozzles, **kw)
    return len(groups)


def stamp_moves(b: Builder, key: str, source_of: dict[str, Loc]) -> list[tuple[int, list[tuple[Loc, Loc]]]]:
    """(nozzles, [(source, destination)]) per step for wells fed each from its own source well: runs of a column
    whose sources lie in consecutive rows of one source column (a mirrored plate) go as one stamp."""
    n_rows = plate_rows(b, key)
    step = 2 if n_rows == 16 else 1
    groups = {}
    for well, src in source_of.items():
        r, _c = parse_well(well)
        sr, sc = parse_well(src.well)
        # the group: source labware, column, and the source row offset against the destination row (per stride)
        groups[well] = (src.labware, sc, sr - r // step)
    found = runs(n_rows, groups)
    out = []
    for group in by_nozzles(found):
        moves = []
        for run in group:
            src = source_of[run.primary]
            moves.append((src, Loc(key, run.primary)))
        out.append((group[0].nozzles, moves))
    return out


MAIN = "(the rows' own mixes)"  # the group of a run stamped from the main column, each row its own liquid


@dataclass
class RowReagent:
    """Reagent columns of a plate laid out like the assay plate's rows: column j, row r holds `patterns[j][r]`;
    the first (main) column follows the rows (e.g. a kinase mix per pair of rows)."""

    labware: str
    patterns: list[dict[int, str]]   # per column: row index -> liquid
    first_column: int = 1

    def source(self, group: object, rows: list[int]) -> Loc:
        """The well under the front nozzle (all eight: the back one) for a run over these destination rows: the
        main column's same rows for a MAIN run, else any rows of a column holding the run's liquid."""
        letters = row_letters(8)
        k = len(rows)

        def at(row: int, j: int) -> Loc:
            return Loc(self.labware, f"{letters[row]}{self.first_column + j}")

        if group == MAIN:
            return at(rows[0] if k == 8 else rows[-1], 0)
        for j, pat in enumerate(self.patterns):
            for top in range(0, 9 - k):
                if all(pat.get(top + i) == group for i in range(k)):
                    return at(top if k == 8 else top + k - 1, j)
        raise PlanError(f"no reagent column holds {group!r} in {k} rows")


def row_reagent_runs(n_rows: int, groups: dict[str, str]) -> tuple[list[Run], list[dict[int, str]]]:
    """Runs of a plate's wells (well -> liquid) for stamps from reagent columns, and those columns: a main column
    whose rows hold the liquid most wells of that row get (runs of such wells are MAIN, one stamp whatever their
    mix of liquids), then a full column of each liquid that some other run cannot draw from the main column."""
    votes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    step = 2 if n_rows == 16 else 1
    for well, liquid in groups.items():
        votes[parse_well(well)[0] // step][liquid] += 1
    main = {r: max(sorted(v), key=lambda name: v[name]) for r, v in votes.items()}
    marked: dict[str, object] = {w: MAIN if main[parse_well(w)[0] // step] == liquid else liquid
                                 for w, liquid in groups.items()}
    found = runs(n_rows, marked)
    patterns = [main]
    for run in found:
        if run.group == MAIN:
            continue
        k = run.nozzles
        if not any(all(p.get(t + i) == run.group for i in range(k)) for p in patterns for t in range(0, 9 - k)):
            patterns.append({r: str(run.group) for r in range(8)})
    return found, patterns


def build_arranged(config: BuildConfig, plan: Callable[[Builder, dict[str, str] | None], None],
                   multi: set[str]) -> Plan:
    """A plan built with 8-channels of the `multi` classes on a deck arranged for their partial nozzle layouts
    (plan.arrange): a probe build says what they work, the final build runs on the arranged deck. When no such
    deck exists, the plan is built with single-channel pipettes and a warning says so and what it costs."""
    from labkit.plan.arrange import arrange_deck

    if not multi or not config.multichannel:
        b = Builder(config)
        plan(b, None)
        return b.finish()
    probe = Builder(config, multi=multi)
    probe_pickups = None
    try:
        plan(probe, None)
        probe_pickups = sum(probe.plan.tips_used().values())
        arrangement = arrange_deck(probe.robot, probe)
    except PlanError as exc:
        b = Builder(config)
        plan(b, None)
        pickups = sum(b.plan.tips_used().values())
        b.plan.warnings.append(
            f"8-channel not used ({exc.message}): every well is worked one at a time, {pickups} tip pick-ups"
            + (f" instead of {probe_pickups}" if probe_pickups is not None else ""))
        return b.finish()
    b = Builder(config, multi=multi, arrangement=arrangement)
    plan(b, arrangement.slots)
    return b.finish()
