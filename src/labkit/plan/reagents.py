"""Operator-loaded reagents of a plan: wells handed out per liquid, µL drawn from each, and the volumes to load."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, OVERAGE
from labkit.plan.steps import LiquidLoad, Loc
from labkit.tables import row_letters


def round_up(x: float, step: float = 10.0) -> float:
    """Round a volume up to a convenient multiple."""
    return float(math.ceil(x / step - 1e-9) * step)


def well_names(load_name: str) -> list[str]:
    """Wells of a labware in column order (A1, B1, … H1, A2 …)."""
    spec = LABWARE[load_name]
    letters = row_letters(spec.rows)
    return [f"{r}{c}" for c in range(1, spec.cols + 1) for r in letters]


@dataclass
class Reagents:
    """Which liquid each reservoir / reagent-plate well holds, the µL drawn from every operator-loaded well, and the
    fixed loads; `volumes` gives what the operator must put in."""

    wells: dict[Loc, str] = field(default_factory=dict)              # reagent well -> liquid (volume at the end)
    drawn: dict[Loc, float] = field(default_factory=lambda: defaultdict(float))
    fixed: list[LiquidLoad] = field(default_factory=list)             # loads with a fixed volume
    next_well: dict[str, int] = field(default_factory=lambda: defaultdict(int))    # labware -> wells handed out
    next_column: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # reagent plate -> columns

    def well(self, labware: str, load_name: str, liquid: str, new: bool = False) -> Loc:
        """The well of a reservoir / tube rack holding a liquid (the next free one if new or none yet)."""
        if not new:
            for loc, name in self.wells.items():
                if loc.labware == labware and name == liquid:
                    return loc
        names = well_names(load_name)
        i = self.next_well[labware]
        if i >= len(names):
            raise PlanError(f"{labware} ({load_name}) has no free well left for {liquid!r}")
        self.next_well[labware] = i + 1
        loc = Loc(labware, names[i])
        self.wells[loc] = liquid
        return loc

    def column(self, labware: str, load_name: str, liquid: str) -> int:
        """The next free column of a reagent plate, every well of it holding the liquid (1-based)."""
        spec = LABWARE[load_name]
        col = self.next_column[labware] = self.next_column[labware] + 1
        if col > spec.cols:
            raise PlanError(f"{labware} ({load_name}) has no free column left for {liquid!r}")
        for r in row_letters(spec.rows):
            self.wells[Loc(labware, f"{r}{col}")] = liquid
        return col

    def volumes(self, load_name_of: dict[str, str]) -> list[LiquidLoad]:
        """Volume to load per reagent well that is drawn from: drawn + overage + dead volume, rounded up."""
        out = []
        for loc, liquid in self.wells.items():
            spec = LABWARE[load_name_of[loc.labware]]
            drawn = self.drawn.get(loc, 0.0)
            if drawn == 0:
                continue
            out.append(LiquidLoad(liquid, loc, round_up(drawn * (1 + OVERAGE) + spec.dead_ul, 10.0)))
        return out
