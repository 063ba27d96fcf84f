"""Plates: explicit well assignments, the resolved Well, and the automatic placement of a plate spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from labkit.layout.models import Name, Strict
from labkit.tables import PLATE_FORMATS, row_letters
from labkit.wells import parse_well, well_name

Role = Literal["sample", "reference", "vehicle", "no_enzyme", "positive", "blank", "kill", "total_counts", "buffer",
               "empty"]


class WellAssignment(Strict):
    """Explicit content of one well, or of a row-wise range 'A1:A10' (a series gets points 0, 1, … along it)."""

    well: str = Field(description="'B3', or a range 'B3:B12' / 'B3:H3' (filled row by row)")
    role: Role
    compound: str = ""
    point: int | None = Field(None, ge=0, description="dilution point of a single sample well (0 = top)")
    replicate: int = Field(1, ge=1)
    target: str = ""
    cell_line: str = ""

    @field_validator("well")
    @classmethod
    def _well(cls, v: str) -> str:
        for part in v.split(":"):
            parse_well(part)  # raises WellNameError (a ValueError) with a clear message
        if v.count(":") > 1:
            raise ValueError(f"not a well or range: {v!r} (expected e.g. 'A1' or 'A1:A10')")
        return v.upper()


class PlateSpec(Strict):
    """One plate: its format and either a high-level spec (auto placement) or explicit wells."""

    id: Name = Field(description="plate id / barcode, the join key with reader exports")
    format: Literal[96, 384, 1536] = Field(96, description="96, 384 or 1536 wells (1536: analysis only, "
                                                             "no protocol is generated)")
    edges: Literal["use", "empty", "buffer"] = Field("use", description="leave edge wells empty or fill with buffer")
    targets: list[str] = Field(default_factory=list, description="kinases on this plate (kinase assay)")
    cell_lines: list[str] = Field(default_factory=list, description="cell lines on this plate (viability assay)")
    compounds: list[str] | None = Field(None, description="compounds on this plate (default: all)")
    series_per_row: int | None = Field(None, ge=1, description="dilution series side by side in a row (default: as many as fit)")
    wells: list[WellAssignment] | None = Field(None, description="explicit assignment; turns auto placement off")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return PLATE_FORMATS[self.format]

    def usable(self) -> tuple[list[int], list[int]]:
        """0-based rows and columns available for assay wells (edges removed unless edges == 'use')."""
        rows, cols = self.shape
        if self.edges == "use":
            return list(range(rows)), list(range(cols))
        return list(range(1, rows - 1)), list(range(1, cols - 1))

    def edge_wells(self) -> list[tuple[int, int]]:
        """(row, col) of the outer ring."""
        rows, cols = self.shape
        return [(r, c) for r in range(rows) for c in range(cols) if r in (0, rows - 1) or c in (0, cols - 1)]


@dataclass(frozen=True)
class Well:
    """A resolved well of a plate."""

    plate: str
    row: int  # 0-based
    col: int  # 0-based
    role: str
    compound: str = ""
    conc: float = float("nan")
    point: int = -1
    replicate: int = 0
    target: str = ""
    cell_line: str = ""

    @property
    def name(self) -> str:
        """'A1'."""
        return well_name(self.row, self.col + 1)


@dataclass(frozen=True)
class SeriesRequest:
    """One dilution series to place: group (target or cell line), compound, replicate, concentrations."""

    group: str
    compound: str
    role: str
    replicate: int
    concs: tuple[float, ...]


def expand_range(spec: str, n_cols: int) -> list[tuple[int, int]]:
    """'A1:B3' -> [(0,0),(0,1),(0,2),(1,0),(1,1),(1,2)] (row by row, inclusive)."""
    parts = spec.split(":")
    ra, c0 = parse_well(parts[0])
    rb, c1 = parse_well(parts[-1])
    ra, rb = sorted((ra, rb))
    ca, cb = sorted((c0 - 1, c1 - 1))
    return [(r, c) for r in range(ra, rb + 1) for c in range(ca, cb + 1)]


class PlacementError(ValueError):
    """Raised by place() with the field path of the problem."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def place_auto(spec: PlateSpec, series: list[SeriesRequest],
               controls: list[tuple[str, str, int]], group_kind: str) -> list[Well]:
    """Lay out series row-wise (points along a row) and each group's controls next to its series.

    controls: (group, role, count). group_kind: 'target' | 'cell_line' | '' (which Well field the group fills).
    """
    rows, cols = spec.usable()
    taken: dict[tuple[int, int], Well] = {}

    def make(r: int, c: int, role: str, group: str, **kw: Any) -> Well:
        extra: dict[str, Any] = {group_kind: group} if group_kind else {}
        return Well(plate=spec.id, row=r, col=c, role=role, **extra, **kw)

    points = max((len(s.concs) for s in series), default=0)
    if points > len(cols):
        raise PlacementError("plates", f"plate {spec.id!r}: a {points}-point series does not fit in the "
                             f"{len(cols)} usable columns of a {spec.format}-well plate (edges: {spec.edges})")
    per_row = len(cols) // points if points else 0
    if spec.series_per_row is not None:
        per_row = min(per_row, spec.series_per_row)
    groups = list(dict.fromkeys([s.group for s in series] + [g for g, _r, n in controls if n]))
    free_rows = list(rows)

    def too_many(what: str = "") -> PlacementError:
        n_needed = sum(len(s.concs) for s in series) + sum(n for _g, _r, n in controls)
        need = what or f"the layout needs {n_needed} wells"
        return PlacementError("plates", f"plate {spec.id!r}: too many wells for the plate: {need}, the "
                              f"{spec.format}-well plate has {len(rows) * len(cols)} usable in {len(rows)} rows "
                              f"(edges: {spec.edges}); use a 384-well plate, fewer replicates or another plate")

    # 1) each group (target / cell line) gets its own block of rows for its series
    group_rows: dict[str, list[int]] = {g: [] for g in groups}
    for group in groups:
        for k, s in enumerate([s for s in series if s.group == group]):
            if k % per_row == 0:
                if not free_rows:
                    n_rows = sum(-(-sum(1 for s in series if s.group == g) // per_row) for g in groups)
                    raise too_many(f"{len(series)} dilution series need {n_rows} rows at {per_row} per row")
                group_rows[group].append(free_rows.pop(0))
            r, b = group_rows[group][-1], k % per_row
            for i, conc in enumerate(s.concs):
                c = cols[b * points + i]
                taken[(r, c)] = make(r, c, s.role, s.group, compound=s.compound, conc=conc, point=i,
                                     replicate=s.replicate)
    # 2) controls: beside the group's series first (each role its own columns), the rest in the rows no series
    #    uses, column by column, group after group
    for group in groups:
        mine = [(role, n) for g, role, n in controls if g == group and n > 0]
        rows_g = group_rows[group]
        spare_cols = [c for c in cols if all((r, c) not in taken for r in rows_g)] if rows_g else []
        per_role = max(1, len(spare_cols) // max(1, len(mine))) if spare_cols else 0
        for role, count in mine:
            own = [(r, c) for c in cols for r in rows_g if (r, c) not in taken][:len(rows_g) * per_role]
            spare = [(r, c) for c in cols for r in free_rows if (r, c) not in taken]
            pool = (own + spare)[:count]
            if len(pool) < count:
                raise too_many()
            for r, c in pool:
                taken[(r, c)] = make(r, c, role, group)
    return _finish(spec, taken)


def _finish(spec: PlateSpec, taken: dict[tuple[int, int], Well]) -> list[Well]:
    """Fill edge buffer / empty wells and return every well of the plate, row-major."""
    n_rows, n_cols = spec.shape
    edge = set(spec.edge_wells()) if spec.edges == "buffer" else set()
    out = []
    for r in range(n_rows):
        for c in range(n_cols):
            if (r, c) in taken:
                out.append(taken[(r, c)])
            else:
                out.append(Well(plate=spec.id, row=r, col=c, role="buffer" if (r, c) in edge else "empty"))
    return out


def place_explicit(spec: PlateSpec, concs_of: dict[str, list[float]], path: str) -> list[Well]:
    """Resolve explicit assignments; overlaps, wells off the plate and unknown compounds are errors."""
    n_rows, n_cols = spec.shape
    taken: dict[tuple[int, int], Well] = {}
    for i, a in enumerate(spec.wells or []):
        field = f"{path}.wells[{i}]"
        cells = expand_range(a.well, n_cols)
        for r, c in cells:
            if r >= n_rows or c >= n_cols:
                raise PlacementError(f"{field}.well", f"well {well_name(r, c + 1)} is off "
                                     f"the {spec.format}-well plate (rows A–{row_letters(n_rows)[-1]}, columns 1–{n_cols})")
        if a.role in ("sample", "reference"):
            if a.compound not in concs_of:
                raise PlacementError(f"{field}.compound", f"unknown compound {a.compound!r}; expected one of "
                                     f"{sorted(concs_of)}")
            concs = concs_of[a.compound]
            points = [a.point] if a.point is not None and len(cells) == 1 else list(range(len(cells)))
            if a.point is not None and len(cells) > 1:
                raise PlacementError(f"{field}.point", "give 'point' only for a single well, not a range")
            if max(points) >= len(concs):
                raise PlacementError(f"{field}.well", f"{len(cells)} wells but compound {a.compound!r} has only "
                                     f"{len(concs)} dilution points")
        elif a.compound:
            raise PlacementError(f"{field}.compound", f"a {a.role!r} well holds no compound; remove 'compound'")
        for k, (r, c) in enumerate(cells):
            if (r, c) in taken:
                raise PlacementError(f"{field}.well", f"well {well_name(r, c + 1)} is assigned twice "
                                     f"(already {taken[(r, c)].role})")
            kw: dict[str, Any] = {}
            if a.role in ("sample", "reference"):
                p = points[k]
                kw = dict(compound=a.compound, conc=concs_of[a.compound][p], point=p, replicate=a.replicate)
            taken[(r, c)] = Well(plate=spec.id, row=r, col=c, role=a.role, target=a.target, cell_line=a.cell_line,
                                 **kw)
    return _finish(spec, taken)
