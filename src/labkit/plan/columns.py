"""Which wells an 8-channel can work together: runs of a plate column that get the same operation.

An 8-channel reaches one column of a 96-well plate (every other row of a 384-well plate). A run of k such wells
(2 <= k <= 8) that all get the same operation — one liquid, or each its own source at the same position — is
worked by k nozzles at once: all eight, or a partial layout whose front nozzle takes the run's last well.
`split` decides which runs to work that way without using more tips than single-channel work would.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from labkit.tables import row_letters
from labkit.wells import parse_well

ALL = 8


@dataclass(frozen=True)
class Run:
    """Wells of one plate column that one pick-up of k nozzles works together (k = len(wells))."""

    column: int                  # 1-based
    wells: tuple[str, ...]       # back to front
    group: object                # what the wells get (e.g. a liquid name)

    @property
    def nozzles(self) -> int:
        """How many nozzles work the run."""
        return len(self.wells)

    @property
    def primary(self) -> str:
        """The well the pipette is sent to: the back well with all eight nozzles, else the front (H1) one."""
        return self.wells[0] if self.nozzles == ALL else self.wells[-1]


def runs(n_rows: int, groups: Mapping[str, object]) -> list[Run]:
    """Maximal runs (at most 8 wells) of wells that share a group, column by column; a plate of 16 rows is
    reached every other row. groups maps well name -> group (wells not in it get nothing)."""
    letters = row_letters(n_rows)
    step = 2 if n_rows == 16 else 1
    by_col: dict[int, dict[int, object]] = defaultdict(dict)
    for well, group in groups.items():
        r, c = parse_well(well)
        by_col[c][r] = group
    out = []
    for col in sorted(by_col):
        rows = by_col[col]
        for start in range(step):
            current: list[int] = []
            for r in range(start, n_rows, step):
                if current and (r not in rows or rows[r] != rows[current[0]] or len(current) == ALL):
                    out.append(Run(col, tuple(f"{letters[x]}{col}" for x in current), rows[current[0]]))
                    current = []
                if r in rows:
                    current.append(r)
            if current:
                out.append(Run(col, tuple(f"{letters[x]}{col}" for x in current), rows[current[0]]))
    return sorted(out, key=lambda x: (x.column, x.wells[0]))


def split(found: list[Run], per_stroke: int = 1) -> tuple[list[list[Run]], list[Run]]:
    """(strokes for an 8-channel, runs left to single-channel work) without more tips than single wells take.

    per_stroke: wells (columns, for an 8-channel) one tip serves — 1 for a fresh tip every well, n for a
    multi-dispense with a fresh tip every aspirate of n wells. An 8-channel stroke of k nozzles over n columns
    uses k tips for k·n wells, as single-channel strokes do, so only whole strokes go to the 8-channel; runs of
    one well always stay single. Strokes come in column order, each of runs with the same group and nozzles."""
    by: dict[tuple[int, object], list[Run]] = defaultdict(list)
    single: list[Run] = []
    for run in found:
        if run.nozzles < 2:
            single.append(run)
        else:
            by[(run.nozzles, run.group)].append(run)
    strokes = []
    for group_runs in by.values():
        whole = len(group_runs) // per_stroke * per_stroke
        strokes += [group_runs[i:i + per_stroke] for i in range(0, whole, per_stroke)]
        single += group_runs[whole:]
    strokes.sort(key=lambda s: (s[0].column, s[0].wells[0]))
    single.sort(key=lambda x: (x.column, x.wells[0]))
    return strokes, single


def single_tips(wells: int, per_stroke: int) -> int:
    """Tips single-channel work takes for a number of wells."""
    return math.ceil(wells / per_stroke)
