"""What every well of the CellTiter-Glo viability assay must end with (checked against the ledger).

Cells at the layout's cells per well in every cell well and none in blanks, the medium volume after dosing,
compound (checked by the core), then CellTiter-Glo equal to the medium volume (Promega TB288: "add a volume of
CellTiter-Glo Reagent equal to the volume of cell culture medium present in each well"). A cell suspension must
be re-mixed at least every REMIX_LIMIT_MIN while it is dispensed (cells settle within minutes).
"""

from __future__ import annotations

from labkit.simulate.recipe import Added, Check, Content, Recipe, Remix, Volume

CELL_ROLES = ("sample", "reference", "vehicle", "kill")
DOSED_ROLES = ("sample", "reference", "vehicle", "blank", "kill")
REMIX_LIMIT_MIN = 5.0


def recipe(exp) -> Recipe:
    """The CellTiter-Glo assay's checks for an experiment."""
    v = exp.volumes
    lines = {c.name: c for c in exp.cell_lines}
    table = exp.wells_table()
    checks: list[Check] = []
    for plate in exp.plates:
        rows = table[(table["plate"] == plate.id) & table["role"].isin(DOSED_ROLES)]
        for name, group in rows.groupby("cell_line", sort=False):
            c = lines[str(name)]
            cells = tuple(group.loc[group["role"].isin(CELL_ROLES), "well"])
            blanks = tuple(group.loc[group["role"] == "blank", "well"])
            checks.append(Content("cells", f"seed {c.name} cells", plate.id, cells, f"cells:{c.name}",
                                  float(c.cells_per_well), unit="cells", per_well=True, tolerance=0.02))
            if blanks:
                for other in lines:
                    checks.append(Content("cells", "medium into the blank (no cells) wells", plate.id, blanks,
                                          f"cells:{other}", 0.0))
        wells = tuple(rows["well"])
        checks.append(Volume("medium volume", "seed + dose", plate.id, wells, v.well))
        checks.append(Added("CellTiter-Glo", "CellTiter-Glo reagent", plate.id, wells, "ctg", None))
    tz = getattr(exp, "time_zero", None)
    if tz is not None:
        t0 = table[table["plate"] == tz.plate]
        for name, group in t0.groupby("cell_line", sort=False):
            c = lines[str(name)]
            checks.append(Content("cells", f"seed {c.name} cells into the time-zero wells", tz.plate,
                                  tuple(group["well"]), f"cells:{c.name}", float(c.cells_per_well), unit="cells",
                                  per_well=True, tolerance=0.02))
    checks.append(Remix("suspension re-mix", "cell suspension while seeding", "cells:", REMIX_LIMIT_MIN))
    return Recipe(tuple(checks), not_checked=(
        "the incubations (overnight attachment, 72 h with compound: operator pauses)",
        "the shake and the luminescence read",
    ) + (("the time-zero plate's CellTiter-Glo and read (by hand, at dosing)",) if tz is not None else ()))
