"""Shared pieces of the assay plans: liquids from the layout, series, the DMSO serial dilution, intermediates
(mirrored for column stamps: a column per dose, `Mirror`, or row-patterned like the assay rows, `PatternMirror`)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import permutations

from labkit.errors import PlanError
from labkit.labware.specs import INTERMEDIATE_PLATE, LABWARE, SOURCE_PLATE
from labkit.plan.builder import Builder, round_up
from labkit.plan.prep import describe_predilution
from labkit.plan.steps import Loc
from labkit.tables import row_letters
from labkit.units import si_conc


def solvent_species(solvent: str) -> dict[str, float]:
    """Ledger species of a pure solvent: DMSO is tracked as a volume fraction, others count as buffer."""
    return {"solvent:DMSO": 1.0} if solvent.strip().upper() == "DMSO" else {"buffer": 1.0}


AQUEOUS_WORDS = ("water", "h2o", "pbs", "saline", "tris", "hepes")  # not medium (serum foams) or
# "buffer" (may hold detergent): those keep the default flow rate


def is_aqueous(solvent: str) -> bool:
    """True for a water-like solvent (safe to mix faster); DMSO, ethanol and unknown solvents are not."""
    s = solvent.strip().lower()
    return any(w in s for w in AQUEOUS_WORDS) and "dmso" not in s


def mix_volume(b: Builder, pip: str, well_volume: float, moved: float | None = None) -> float:
    """Mixing stroke: half the well volume, within the pipette's range (for a step that moves `moved` µL with a
    Flex 50 µL pipette in its low-volume mode, within that mode's range)."""
    spec = b.spec(pip)
    top = spec.max_ul
    if moved is not None and spec.low_volume_max_ul and moved < spec.default_min_ul:
        top = spec.low_volume_max_ul
    return float(max(spec.min_ul, min(top, round(well_volume / 2.0, 1))))


def assay_wells(exp, plate_id: str, roles: tuple[str, ...]) -> list:
    """Wells of a plate with one of the roles, in column order (A1, B1 …) — the order a pipette travels."""
    ws = [w for w in exp.wells[plate_id] if w.role in roles]
    return sorted(ws, key=lambda w: (w.col, w.row))


def well_loc(key: str, w) -> Loc:
    """Loc of a layout well on the labware key."""
    return Loc(key, w.name)


@dataclass
class Intermediate:
    """Intermediate wells of one compound point (or the vehicle): where, scale factor, which assay wells they feed."""

    compound: str        # '' for the vehicle
    point: int
    locs: list[Loc]
    scale: int           # the intermediate is scale × (solvent + diluent) µL


@dataclass
class Mirror:
    """A mirrored intermediate plate: one column per compound point (and the vehicle), every row of it the same,
    so each run of an assay-plate column that gets one point is dosed by one 8-channel stamp from the same rows.

    The serial dilution runs down whole columns of the source plate too (compound i in columns `source_first[i]`
    onwards, all eight rows), so every step from the top solution to the assay plate is a column stamp."""

    columns: dict[tuple[str, int], list[int]]     # (compound, point) / ('', 0) -> intermediate columns (1-based)
    scale: dict[tuple[str, int], int]             # the intermediate is scale × (solvent + diluent) µL per well
    source_first: dict[str, int]                  # compound -> first source-plate column (its top solution)
    draw: dict[tuple[str, str], Loc]              # (assay labware key, well) -> intermediate well it is dosed from


def intermediate_well(exp) -> tuple[float, float, float]:
    """An intermediate well's volumes: one unit (solvent + diluent), its dead volume, and what it can give (as many
    whole units as fill 90 % of it, less the dead volume)."""
    v = exp.volumes
    unit = v.intermediate_solvent + v.intermediate_diluent
    cap, dead = LABWARE[INTERMEDIATE_PLATE].capacity_ul, LABWARE[INTERMEDIATE_PLATE].dead_ul
    return unit, dead, max(1, int(cap * 0.9 // unit)) * unit - dead


def column_mirror(exp, plates: list, roles: tuple[str, ...], volume: float, inter_key: str = "intermediate"
                  ) -> "Mirror | str":
    """The mirrored intermediate plate (a column per dose, every row the same) for dosing `volume` into every well
    of these roles, or why there is none (a reason a person reads)."""
    unit, dead, usable = intermediate_well(exp)
    if volume > usable:
        return f"one intermediate well cannot feed even one {volume:g} µL dose"
    src_cols = sum(c.dilution.points for c in exp.compounds)
    if src_cols > 12:
        return (f"the compounds' {src_cols} dilution points need more than the 12 columns of one source plate "
                "when each series runs down whole columns")
    draws: dict[tuple[str, int], dict[int, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for p, key in plates:
        step = 2 if p.format == 384 else 1
        for w in assay_wells(exp, p.id, roles):
            draws[source_key(w)][w.row // step].append((key, w.name))
    columns: dict[tuple[str, int], list[int]] = {}
    scale: dict[tuple[str, int], int] = {}
    draw: dict[tuple[str, str], Loc] = {}
    rows = row_letters(8)
    col = 0
    for k in sorted(draws, key=_compounds_first):
        by_row = draws[k]
        n = max(math.ceil(len(ws) * volume / usable) for ws in by_row.values())
        cols = list(range(col + 1, col + n + 1))
        col += n
        columns[k] = cols
        biggest = 0
        for r, ws in by_row.items():
            per = math.ceil(len(ws) / n)
            for i, (key, name) in enumerate(ws):
                draw[(key, name)] = Loc(inter_key, f"{rows[r]}{cols[i // per]}")
            biggest = max(biggest, per)
        scale[k] = max(1, math.ceil((biggest * volume + dead) / unit))
    if col > 12:
        return (f"{col} different doses (compound points and the vehicle, with their repeats) need more than the 12 "
                "columns of one intermediate plate")
    first, at = {}, 1
    for c in exp.compounds:
        first[c.name] = at
        at += c.dilution.points
    return Mirror(columns, scale, first, draw)


def mirror_layout(exp, plates: list, roles: tuple[str, ...], volume: float, inter_key: str = "intermediate"
                  ) -> "Mirror | str":
    """The intermediate plate for dosing `volume` into every well of these roles by column stamps: a column per
    dose, every row the same (`Mirror`); else, when that needs more columns than a plate has, a row-patterned one
    (`PatternMirror`: each row holds the compound its assay rows get); else why neither works (a reason a person
    reads, with what to change)."""
    found = column_mirror(exp, plates, roles, volume, inter_key)
    if isinstance(found, Mirror):
        return found
    patterned = pattern_mirror(exp, plates, roles, volume, inter_key)
    if isinstance(patterned, Mirror):
        return patterned
    return f"{found}; nor as a row-patterned plate: {patterned}"


@dataclass
class Block:
    """A row-patterned series: rows 0 … len(rows) − 1 of consecutive source columns hold each row's compound (its
    top solution in the first column, point p in the p-th), made by column stamps of len(rows) nozzles; the
    intermediate plate holds the same rows, a column per point."""

    rows: tuple[str, ...]       # compound per row, from row A down
    points: int                 # source columns of the series
    source_first: int           # first source column (the top solutions)
    inter: dict[int, int]       # point -> intermediate column (1-based)
    scale: dict[int, int]       # point -> the intermediate is scale × (solvent + diluent) µL per well

    def row_groups(self, exp) -> list[tuple[int, int]]:
        """(first row, rows) of each run of rows whose compounds share a dilution step: one serial stamp each."""
        step = [exp.scheme(name).serial_transfer for name in self.rows]
        out, first = [], 0
        for r in range(1, len(self.rows) + 1):
            if r == len(self.rows) or step[r] != step[first]:
                out.append((first, r - first))
                first = r
        return out


@dataclass
class PatternMirror(Mirror):
    """A row-patterned intermediate plate (issue 12): a column per dose position whose rows hold, each, the compound
    the assay rows drawn from it get — laid out like the assay plates, so each run of an assay-plate column that
    gets one dose position is dosed by one stamp (of as many nozzles as the run has wells) from the rows that match
    it; the vehicle has its own column(s), every row DMSO in buffer. The series runs down row-patterned source
    columns (`Block`). `columns` / `scale` hold the vehicle only."""

    blocks: list[Block] = field(default_factory=list)
    cut: int = 0   # 0: every column run of one dose is one stamp; k: runs cut into stamps of at most k rows


def _merge(a: tuple, b: tuple) -> tuple:
    """a followed by b, overlapping as much as they allow (b inside a: a)."""
    if _inside(b, a):
        return a
    for k in range(min(len(a), len(b)), 0, -1):
        if a[-k:] == b[:k]:
            return a + b[k:]
    return a + b


def _inside(s: tuple, t: tuple) -> bool:
    """Whether s is a run of consecutive items of t."""
    return any(t[i:i + len(s)] == s for i in range(len(t) - len(s) + 1))


def superstring(strings: list[tuple]) -> tuple:
    """A short sequence holding every one of `strings` as a run of consecutive items (the shortest one for up to 7
    strings; a greedy one beyond), deterministic."""
    items = sorted(set(strings))
    items = [s for s in items if not any(s != t and _inside(s, t) for t in items)]
    if not items:
        return ()
    orders = permutations(items) if len(items) <= 7 else [sorted(items, key=lambda s: (-len(s), s))]
    best: tuple | None = None
    for order in orders:
        acc = order[0]
        for s in order[1:]:
            acc = _merge(acc, s)
        if best is None or len(acc) < len(best):
            best = acc
    assert best is not None
    return best


def pattern_mirror(exp, plates: list, roles: tuple[str, ...], volume: float, inter_key: str = "intermediate"
                   ) -> "PatternMirror | str":
    """The row-patterned intermediate plate (`PatternMirror`) for dosing `volume` into every well of these roles, or
    why there is none (a reason a person reads, with what to change).

    Every assay-plate column (every other row of a 384-well plate: what an 8-channel reaches) is cut into segments:
    consecutive rows dosed with one dilution point (of any compounds). Each segment's compounds, row by row, must lie
    in consecutive rows of a block's pattern (the shortest sequence of at most 8 rows holding them all); a block's
    series is made by column stamps (a stamp per run of rows that share a dilution step)."""
    usable = intermediate_well(exp)[2]
    if volume > usable:
        return f"one intermediate well cannot feed even one {volume:g} µL dose"
    by_column: dict[tuple[str, int, int], dict[int, tuple[str, tuple[str, int]]]] = defaultdict(dict)
    for p, key in plates:
        step = 2 if p.format == 384 else 1
        for w in assay_wells(exp, p.id, roles):
            by_column[(key, w.col, w.row % step)][w.row // step] = (w.name, source_key(w))
    segments: list[list] = []  # [assay key, point, [(well, row)], [compound per row]]
    vehicle: dict[int, list[tuple[str, str]]] = defaultdict(list)                # row -> (key, well)
    for (key, _col, _par), rows in sorted(by_column.items()):
        open_: list | None = None
        for r in range(8):
            item = rows.get(r)
            if item is None or not item[1][0]:
                if item is not None:
                    vehicle[r].append((key, item[0]))
                open_ = None
                continue
            name, (compound, point) = item
            if open_ is not None and open_[1] == point:
                open_[2].append((name, r))
                open_[3].append(compound)
            else:
                open_ = [key, point, [(name, r)], [compound]]
                segments.append(open_)
    first = None
    for piece in (8, 4, 2, 1):  # whole segments, else cut into pieces of at most `piece` rows (a stamp each)
        cut = [[key, point, wells[i:i + piece], names[i:i + piece]] for key, point, wells, names in segments
               for i in range(0, len(wells), piece)]
        found = _patterned(exp, cut, vehicle, volume, inter_key)
        if isinstance(found, PatternMirror):
            found.cut = 0 if piece == 8 else piece
            return found
        first = first or found
    assert first is not None
    return first


def _patterned(exp, segments: list[list], vehicle: dict[int, list[tuple[str, str]]], volume: float,
               inter_key: str) -> "PatternMirror | str":
    """The row-patterned plate for these segments ([assay key, point, [(well, channel row)], [compound per row]])
    and vehicle wells (channel row -> [(assay key, well)]), or why there is none."""
    v = exp.volumes
    unit, dead, usable = intermediate_well(exp)
    packed: list[list[tuple[str, ...]]] = []
    for seq in sorted({tuple(seg[3]) for seg in segments}, key=lambda s: (-len(s), s)):
        for group in packed:
            if len(superstring(group + [seq])) <= 8:
                group.append(seq)
                break
        else:
            packed.append([seq])
    patterns = [superstring(g) for g in packed]
    blocks: list[Block] = []
    at = 1
    for pat in patterns:
        n = max(exp.compound(c).dilution.points for c in pat)
        blocks.append(Block(pat, n, at, {}, {}))
        at += n
    if at - 1 > 12:
        return (f"the row-patterned series need {at - 1} source-plate columns ({len(blocks)} row patterns of "
                f"{', '.join(str(b.points) for b in blocks)} points), more than the 12 of one source plate; give the "
                "assay plates' rows the same compound order (each row one compound's series in column order), or "
                "use fewer plates per run")
    # which block and rows each segment draws from, and how many wells each intermediate well feeds
    load: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    placed: list[tuple[int, int, str, int, list[tuple[str, int]]]] = []  # block, row offset, key, point, wells
    for key, point, wells, names in segments:
        seq = tuple(names)
        bi = next(i for i, bl in enumerate(blocks) if _inside(seq, bl.rows))
        off = next(i for i in range(len(blocks[bi].rows)) if blocks[bi].rows[i:i + len(seq)] == seq)
        placed.append((bi, off, key, point, wells))
        for j in range(len(wells)):
            load[(bi, point)][off + j] += 1
    col = 0
    for (bi, point) in sorted(load):
        col += 1
        blocks[bi].inter[point] = col
        biggest = max(load[(bi, point)].values())
        if biggest * volume > usable:
            return (f"{biggest} assay wells draw {volume:g} µL each from one intermediate well, more than the "
                    f"{usable:g} µL it gives; use fewer plates per run")
        blocks[bi].scale[point] = max(1, math.ceil((biggest * volume + dead) / unit))
    draw: dict[tuple[str, str], Loc] = {}
    letters = row_letters(8)
    for bi, off, key, point, wells in placed:
        r0 = wells[0][1]
        for name, r in wells:
            draw[(key, name)] = Loc(inter_key, f"{letters[off + r - r0]}{blocks[bi].inter[point]}")
    columns: dict[tuple[str, int], list[int]] = {}
    scale: dict[tuple[str, int], int] = {}
    if vehicle:
        n = max(math.ceil(len(ws) * volume / usable) for ws in vehicle.values())
        cols = list(range(col + 1, col + n + 1))
        col += n
        biggest = 0
        for r, ws in vehicle.items():
            per = math.ceil(len(ws) / n)
            for i, (key, name) in enumerate(ws):
                draw[(key, name)] = Loc(inter_key, f"{letters[r]}{cols[i // per]}")
            biggest = max(biggest, per)
        columns[("", 0)] = cols
        scale[("", 0)] = max(1, math.ceil((biggest * volume + dead) / unit))
    if col > 12:
        return (f"{col} intermediate columns (a column per dose position of each row pattern, and the vehicle) need "
                "more than the 12 of one intermediate plate; use at most 11 dilution points (the vehicle takes a "
                "column), give the assay plates' rows the same compound order, or use fewer plates per run")
    src_dead = LABWARE[SOURCE_PLATE].dead_ul
    for bl in blocks:
        for point, sc in bl.scale.items():
            if point and sc * v.intermediate_solvent + src_dead > v.serial:
                return (f"a source well of the series ({v.serial:g} µL) cannot give {sc} × "
                        f"{v.intermediate_solvent:g} µL to its intermediate well; use fewer plates per run")
    return PatternMirror(columns, scale, {}, draw, blocks)


def mirror_classes(b: Builder, exp, volume: float) -> set[str]:
    """Pipette classes a mirrored series works with 8-channels (solvent, serial step, diluent, intermediate,
    dosing)."""
    v = exp.volumes
    out = {b.pipette_class(v.serial, per_aspirate=2), b.pipette_class(v.intermediate_diluent, per_aspirate=2),
           b.pipette_class(volume)}
    for c in exp.compounds:
        out.add(b.pipette_class(exp.scheme(c).serial_transfer))
    out.add(b.pipette_class(v.intermediate_solvent))
    return out


class DmsoSeries:
    """Source plate (serial dilution in solvent) and intermediate plate (into buffer / medium) for every compound.

    With 8-channels the intermediate plate is mirrored (`Mirror`, set by `plan_series`): a column per dose, dosed
    by column stamps (`dose`), or row-patterned (`PatternMirror`: a column per dose position, each row the compound
    its assay rows get) when a column per dose does not fit; otherwise (or where the layout allows neither, with a
    plan warning) it holds a well per dose and every assay well is dosed on its own."""

    def __init__(self, b: Builder, exp, reservoir: str, diluent_liquid: str, diluent_name: str,
                 slots: dict[str, str] | None = None):
        self.b, self.exp, self.reservoir = b, exp, reservoir
        self.diluent = diluent_liquid
        self.diluent_name = diluent_name
        if len(exp.compounds) > 7:
            raise PlanError("labkit's source plate holds at most 7 compounds (one row each, the last row for the "
                            "vehicle); split the layout", field="compounds")
        for c in exp.compounds:
            if c.dilution.points > 12:
                raise PlanError(f"compound {c.name!r}: {c.dilution.points} points do not fit a 12-column source "
                                "plate", field="compounds")
        at = (slots or {}).get
        self.source = b.labware("source", SOURCE_PLATE, label="serial dilution (solvent)", slot=at("source"))
        self.inter = b.labware("intermediate", INTERMEDIATE_PLATE, label=f"intermediate (in {diluent_name})",
                               slot=at("intermediate"))
        self.rows = row_letters(8)
        self.inter_of: dict[tuple[str, int], Intermediate] = {}
        self.mirror: Mirror | None = None

    def use_mirror(self, mirror: Mirror) -> None:
        """Lay the intermediate plate out as `mirror` (a column per dose, all eight rows)."""
        self.mirror = mirror
        self.inter_of = {k: Intermediate(k[0], k[1], [Loc(self.inter, f"A{c}") for c in cols], mirror.scale[k])
                         for k, cols in mirror.columns.items()}  # a PatternMirror: the vehicle only

    def plan_intermediates(self, needs: dict[tuple[str, int], float]) -> None:
        """Size the intermediate wells: needs maps (compound, point) / ('', 0) for the vehicle -> µL drawn."""
        v = self.exp.volumes
        unit = v.intermediate_solvent + v.intermediate_diluent
        cap = LABWARE[INTERMEDIATE_PLATE].capacity_ul
        dead = LABWARE[INTERMEDIATE_PLATE].dead_ul
        max_scale = max(1, int(cap * 0.9 // unit))
        vehicle_col = 0
        for (compound, point), need in needs.items():
            total = need + dead
            n_wells = max(1, math.ceil(total / (max_scale * unit)))
            scale = max(1, math.ceil((need / n_wells + dead) / unit))
            if compound:
                row = [c.name for c in self.exp.compounds].index(compound)
                if n_wells > 1:
                    raise PlanError(f"compound {compound!r} point {point + 1} needs {need:g} µL of intermediate, "
                                    f"more than one {cap:g} µL well holds; use fewer plates per run")
                locs = [Loc(self.inter, f"{self.rows[row]}{point + 1}")]
            else:
                locs = []
                for _ in range(n_wells):
                    if vehicle_col >= 12:
                        raise PlanError("the vehicle intermediate does not fit one row of the intermediate plate")
                    locs.append(Loc(self.inter, f"H{vehicle_col + 1}"))
                    vehicle_col += 1
            self.inter_of[(compound, point)] = Intermediate(compound, point, locs, scale)

    def assign(self, key: tuple[str, int], n_wells: int) -> list[Loc]:
        """Spread n assay wells over the intermediate wells of a point, in order."""
        locs = self.inter_of[key].locs
        per = math.ceil(n_wells / len(locs))
        return [locs[i // per] for i in range(n_wells)]

    def run(self, solvent_reservoir: Loc, policy: str) -> None:
        """Operator top wells, solvent into the source plate, serial dilution, intermediate dilution."""
        if isinstance(self.mirror, PatternMirror):
            self._run_patterned(solvent_reservoir, policy)
            return
        if self.mirror is not None:
            self._run_mirrored(solvent_reservoir, policy)
            return
        b, exp, v = self.b, self.exp, self.exp.volumes
        small = b.choose(v.serial)
        # 1. solvent into the source wells below the top
        dests = []
        for r, c in enumerate(exp.compounds):
            dests += [Loc(self.source, f"{self.rows[r]}{p + 1}") for p in range(1, c.dilution.points)]
        pip = b.choose(v.serial, per_aspirate=len(dests))
        b.distribute(f"Solvent: {v.serial:g} µL into the source-plate wells below each top", pip,
                     solvent_reservoir, dests, v.serial)
        # 2. serial dilution along each row
        for r, c in enumerate(exp.compounds):
            s = exp.scheme(c)
            pip = b.choose(s.serial_transfer)
            moves = [(Loc(self.source, f"{self.rows[r]}{p}"), Loc(self.source, f"{self.rows[r]}{p + 1}"),
                      s.serial_transfer) for p in range(1, c.dilution.points)]
            mix = (3, mix_volume(b, pip, s.serial_diluent + s.serial_transfer, s.serial_transfer))
            b.transfer(f"{c.name}: serial 1:{c.dilution.factor:g} dilution in {c.solvent} "
                       f"({s.serial_transfer:g} µL into {s.serial_diluent:g} µL, mixed)", pip, moves,
                       new_tip="always" if policy == "per_step" else "once", mix_after=mix)
        # 3. diluent into every intermediate well
        inter_dests, inter_vol = [], {}
        for item in self.inter_of.values():
            for loc in item.locs:
                inter_dests.append(loc)
                inter_vol[loc] = item.scale * v.intermediate_diluent
        by_vol: dict[float, list[Loc]] = defaultdict(list)
        for loc in inter_dests:
            by_vol[inter_vol[loc]].append(loc)
        res_dil = b.reservoir_well(self.reservoir, self.diluent)
        for vol, locs in sorted(by_vol.items()):
            pip = b.choose(vol, per_aspirate=len(locs))
            b.distribute(f"{self.diluent_name}: {vol:g} µL into the intermediate wells", pip, res_dil, locs, vol)
        # 4. solvent series into the intermediates (vehicle: pure solvent), mixed; a fresh tip every well
        for (compound, point), item in self.inter_of.items():
            vol = item.scale * v.intermediate_solvent
            pip = b.choose(vol)
            mix = (3, mix_volume(b, pip, item.scale * (v.intermediate_solvent + v.intermediate_diluent), vol))
            if compound:
                row = [c.name for c in exp.compounds].index(compound)
                src = Loc(self.source, f"{self.rows[row]}{point + 1}")
                text = f"{compound} point {point + 1}: {vol:g} µL of the solvent series into {item.scale * v.intermediate_diluent:g} µL {self.diluent_name}, mixed"
            else:
                src = solvent_reservoir
                text = f"Vehicle: {vol:g} µL solvent into {item.scale * v.intermediate_diluent:g} µL {self.diluent_name}, mixed"
            b.transfer(text, pip, [(src, loc, vol) for loc in item.locs], new_tip="always", mix_after=mix)
        del small

    def _run_mirrored(self, solvent_reservoir: Loc, policy: str) -> None:
        """The same steps as `run`, every one a whole-column stamp of an 8-channel."""
        b, exp, v, m = self.b, self.exp, self.exp.volumes, self.mirror
        assert m is not None
        dests = [Loc(self.source, f"A{m.source_first[c.name] + p}") for c in exp.compounds
                 for p in range(1, c.dilution.points)]
        pip = b.choose(v.serial, singles=False, per_aspirate=len(dests))
        b.distribute(f"Solvent: {v.serial:g} µL into the source-plate columns after each top column (8-channel)",
                     pip, solvent_reservoir, dests, v.serial, nozzles=8)
        for c in exp.compounds:
            s = exp.scheme(c)
            pip = b.choose(s.serial_transfer, singles=False)
            first = m.source_first[c.name]
            moves = [(Loc(self.source, f"A{first + p}"), Loc(self.source, f"A{first + p + 1}"), s.serial_transfer)
                     for p in range(c.dilution.points - 1)]
            mix = (3, mix_volume(b, pip, s.serial_diluent + s.serial_transfer, s.serial_transfer))
            b.transfer(f"{c.name}: serial 1:{c.dilution.factor:g} dilution in {c.solvent} down columns "
                       f"{first}–{first + c.dilution.points - 1} ({s.serial_transfer:g} µL into "
                       f"{s.serial_diluent:g} µL, mixed, 8-channel)", pip, moves,
                       new_tip="always" if policy == "per_step" else "once", mix_after=mix, nozzles=8)
        by_vol: dict[float, list[Loc]] = defaultdict(list)
        for item in self.inter_of.values():
            for loc in item.locs:
                by_vol[item.scale * v.intermediate_diluent].append(loc)
        res_dil = b.reservoir_well(self.reservoir, self.diluent)
        for vol, locs in sorted(by_vol.items()):
            pip = b.choose(vol, singles=False, per_aspirate=len(locs))
            b.distribute(f"{self.diluent_name}: {vol:g} µL into intermediate columns "
                         f"{', '.join(loc.well[1:] for loc in locs)} (8-channel)", pip, res_dil,
                         sorted(locs, key=lambda x: int(x.well[1:])), vol, nozzles=8)
        for (compound, point), item in self.inter_of.items():
            vol = item.scale * v.intermediate_solvent
            pip = b.choose(vol, singles=False)
            mix = (3, mix_volume(b, pip, item.scale * (v.intermediate_solvent + v.intermediate_diluent), vol))
            cols = ", ".join(loc.well[1:] for loc in item.locs)
            if compound:
                src = Loc(self.source, f"A{m.source_first[compound] + point}")
                text = (f"{compound} point {point + 1}: {vol:g} µL of the solvent series into "
                        f"{item.scale * v.intermediate_diluent:g} µL {self.diluent_name}, intermediate column "
                        f"{cols}, mixed (8-channel)")
            else:
                src = solvent_reservoir
                text = (f"Vehicle: {vol:g} µL solvent into {item.scale * v.intermediate_diluent:g} µL "
                        f"{self.diluent_name}, intermediate column {cols}, mixed (8-channel)")
            b.transfer(text, pip, [(src, loc, vol) for loc in item.locs], new_tip="always", mix_after=mix,
                       nozzles=8)

    def _run_patterned(self, solvent_reservoir: Loc, policy: str) -> None:
        """The steps of `run` for a row-patterned plate (PatternMirror): each block's series down its source
        columns and into its intermediate columns by stamps of as many nozzles as it has rows (from row A), the
        vehicle columns from the solvent by whole-column stamps."""
        b, exp, v, m = self.b, self.exp, self.exp.volumes, self.mirror
        assert isinstance(m, PatternMirror)
        by_k: dict[int, list[Loc]] = defaultdict(list)
        for bl in m.blocks:
            k = len(bl.rows)
            by_k[k] += [_front(self.source, bl.source_first + p, k) for p in range(1, bl.points)]
        for k, dests in sorted(by_k.items(), reverse=True):
            pip = b.choose(v.serial, singles=False, per_aspirate=len(dests))
            b.distribute(f"Solvent: {v.serial:g} µL into the row-patterned source columns after each top column "
                         f"(rows A–{self.rows[k - 1]}, {_nozzle_text(k)})", pip, solvent_reservoir, dests, v.serial,
                         nozzles=k)
        for bl in m.blocks:
            first = bl.source_first
            for top, k in bl.row_groups(exp):
                rows = bl.rows[top:top + k]
                s, c = exp.scheme(rows[0]), exp.compound(rows[0])
                n = max(exp.compound(name).dilution.points for name in rows)
                pip = b.choose(s.serial_transfer, singles=False)
                moves = [(_front(self.source, first + p, k, top), _front(self.source, first + p + 1, k, top),
                          s.serial_transfer) for p in range(n - 1)]
                mix = (3, mix_volume(b, pip, s.serial_diluent + s.serial_transfer, s.serial_transfer))
                b.transfer(f"{_rows_text(rows, top)}: serial 1:{c.dilution.factor:g} dilution in {c.solvent} down "
                           f"columns {first}–{first + n - 1} ({s.serial_transfer:g} µL into {s.serial_diluent:g} µL, "
                           f"mixed, {_nozzle_text(k)})", pip, moves,
                           new_tip="always" if policy == "per_step" else "once", mix_after=mix, nozzles=k)
        by_vol: dict[tuple[float, int], list[Loc]] = defaultdict(list)
        for bl in m.blocks:
            for point, col in bl.inter.items():
                by_vol[(bl.scale[point] * v.intermediate_diluent, len(bl.rows))].append(
                    _front(self.inter, col, len(bl.rows)))
        for item in self.inter_of.values():
            for loc in item.locs:
                by_vol[(item.scale * v.intermediate_diluent, 8)].append(loc)
        res_dil = b.reservoir_well(self.reservoir, self.diluent)
        for (vol, k), locs in sorted(by_vol.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
            locs = sorted(locs, key=lambda x: int(x.well[1:]))
            pip = b.choose(vol, singles=False, per_aspirate=len(locs))
            b.distribute(f"{self.diluent_name}: {vol:g} µL into intermediate columns "
                         f"{', '.join(loc.well[1:] for loc in locs)} (rows A–{self.rows[k - 1]}, {_nozzle_text(k)})",
                         pip, res_dil, locs, vol, nozzles=k)
        for bl in m.blocks:
            k = len(bl.rows)
            for point, col in sorted(bl.inter.items()):
                vol = bl.scale[point] * v.intermediate_solvent
                pip = b.choose(vol, singles=False)
                mix = (3, mix_volume(b, pip, bl.scale[point] * (v.intermediate_solvent + v.intermediate_diluent),
                                     vol))
                b.transfer(f"{_rows_text(bl.rows)} point {point + 1}: {vol:g} µL of the solvent series into "
                           f"{bl.scale[point] * v.intermediate_diluent:g} µL {self.diluent_name}, intermediate "
                           f"column {col}, mixed ({_nozzle_text(k)})", pip,
                           [(_front(self.source, bl.source_first + point, k), _front(self.inter, col, k), vol)],
                           new_tip="always", mix_after=mix, nozzles=k)
        for item in self.inter_of.values():
            vol = item.scale * v.intermediate_solvent
            pip = b.choose(vol, singles=False)
            mix = (3, mix_volume(b, pip, item.scale * (v.intermediate_solvent + v.intermediate_diluent), vol))
            b.transfer(f"Vehicle: {vol:g} µL solvent into {item.scale * v.intermediate_diluent:g} µL "
                       f"{self.diluent_name}, intermediate column {', '.join(loc.well[1:] for loc in item.locs)}, "
                       "mixed (8-channel)", pip, [(solvent_reservoir, loc, vol) for loc in item.locs],
                       new_tip="always", mix_after=mix, nozzles=8)

    def _top_blocks(self) -> None:
        """The operator's top solutions of a row-patterned series: each block's first source column, a compound per
        row (its volume = the serial step + the intermediate draw + dead volume)."""
        b, exp, v, m = self.b, self.exp, self.exp.volumes, self.mirror
        assert isinstance(m, PatternMirror)
        dead, cap = LABWARE[SOURCE_PLATE].dead_ul, LABWARE[SOURCE_PLATE].capacity_ul
        wells: dict[str, list[tuple[Loc, float]]] = defaultdict(list)
        for bl in m.blocks:
            for r, name in enumerate(bl.rows):
                s = exp.scheme(name)
                vol = round_up(s.serial_transfer + bl.scale.get(0, 0) * v.intermediate_solvent + dead, 5.0)
                if vol > cap:
                    raise PlanError(f"{name}: the top wells need {vol:g} µL each, more than the {cap:g} µL source "
                                    "well")
                wells[name].append((Loc(self.source, f"{self.rows[r]}{bl.source_first}"), vol))
        for c in exp.compounds:
            if c.name not in wells:
                continue
            s = exp.scheme(c)
            how = describe_predilution(c.stock, s.source[0], c.solvent)
            name = top_liquid_name(c, s)
            where = ", ".join(f"{loc.well} ({vol:g} µL)" for loc, vol in wells[c.name])
            b.liquid(name, f"Prepare by hand: {how}; load it into source wells {where}", top_composition(c, s))
            for loc, vol in wells[c.name]:
                b.load(name, loc, vol)
            b.plan.notes.append(f"{c.name}: make the top solution {si_conc(s.source[0])} in {c.solvent} by hand "
                                f"({how}) and load it into source-plate wells {where} "
                                f"({sum(vol for _l, vol in wells[c.name]):g} µL in all)")

    def dose(self, text: str, key: str, wells: list, volume: float, empty: bool = False) -> None:
        """Dose every well (layout wells of one plate, labware `key`) from its intermediate: column stamps from a
        mirrored intermediate plate (one step per nozzle count, a fresh tip every stamp), else one well at a time
        with a fresh tip each. empty=True: the wells hold nothing yet, so stamps of one dose share a tip (one
        aspirate for several, dispensed at the bottom of the dry wells)."""
        b = self.b
        pip = b.choose(volume, singles=self.mirror is None)
        if self.mirror is None:
            b.transfer(f"{text}, a fresh tip every well", pip, dosing_moves(self, key, wells, volume),
                       new_tip="always")
            return
        from labkit.plan.stamps import describe_nozzles, stamp_moves

        source_of = {w.name: self.mirror.draw[(key, w.name)] for w in wells}
        if empty:
            for nozzles, moves in stamp_moves(b, key, source_of):
                by_src: dict[Loc, list[Loc]] = defaultdict(list)
                for src, dst in moves:
                    by_src[src].append(dst)
                for src, dests in by_src.items():
                    b.distribute(f"{text} (intermediate column {src.well[1:]}, {describe_nozzles(nozzles)} stamps "
                                 "into the empty wells, one tip)", pip, src, dests, volume, nozzles=nozzles,
                                 top=False)
            return
        for nozzles, moves in stamp_moves(b, key, source_of):
            b.transfer(f"{text} ({describe_nozzles(nozzles)} stamps from the mirrored intermediate plate, a fresh "
                       "tip every stamp)", pip, [(s, d, volume) for s, d in moves], new_tip="always",
                       nozzles=nozzles)

    def top_loads(self) -> None:
        """The operator's top solutions: volume = what the robot draws + dead volume."""
        b, exp, v = self.b, self.exp, self.exp.volumes
        if isinstance(self.mirror, PatternMirror):
            self._top_blocks()
            return
        dead = LABWARE[SOURCE_PLATE].dead_ul
        for r, c in enumerate(exp.compounds):
            s = exp.scheme(c)
            if self.mirror is not None:
                self._top_column(c, s, dead)
                continue
            loc = Loc(self.source, f"{self.rows[r]}1")
            drawn = s.serial_transfer + sum(self.inter_of[(c.name, 0)].scale * v.intermediate_solvent
                                            for _ in self.inter_of[(c.name, 0)].locs)
            vol = round_up(drawn + dead, 5.0)
            cap = LABWARE[SOURCE_PLATE].capacity_ul
            if vol > cap:
                raise PlanError(f"{c.name}: the top well needs {vol:g} µL, more than the {cap:g} µL source well")
            how = describe_predilution(c.stock, s.source[0], c.solvent)
            name = top_liquid_name(c, s)
            b.liquid(name, f"Prepare by hand: {how}; load {vol:g} µL into source well {loc.well}",
                     top_composition(c, s))
            b.load(name, loc, vol)
            b.plan.notes.append(f"{c.name}: make the top solution {si_conc(s.source[0])} in {c.solvent} by hand "
                                f"({how}) and load {vol:g} µL into source-plate well {loc.well}")


    def _top_column(self, c, s, dead: float) -> None:
        """A mirrored series' top solution: every well of the compound's first source column."""
        b, v = self.b, self.exp.volumes
        assert self.mirror is not None
        col = self.mirror.source_first[c.name]
        item = self.inter_of[(c.name, 0)]
        vol = round_up(s.serial_transfer + item.scale * v.intermediate_solvent * len(item.locs) + dead, 5.0)
        cap = LABWARE[SOURCE_PLATE].capacity_ul
        if vol > cap:
            raise PlanError(f"{c.name}: the top wells need {vol:g} µL each, more than the {cap:g} µL source well")
        how = describe_predilution(c.stock, s.source[0], c.solvent)
        name = top_liquid_name(c, s)
        where = f"A{col}–H{col}"
        b.liquid(name, f"Prepare by hand: {how}; load {vol:g} µL into each source well {where}",
                 top_composition(c, s))
        for r in self.rows:
            b.load(name, Loc(self.source, f"{r}{col}"), vol)
        b.plan.notes.append(f"{c.name}: make the top solution {si_conc(s.source[0])} in {c.solvent} by hand "
                            f"({how}) and load {vol:g} µL into each of source-plate wells {where} "
                            f"({8 * vol:g} µL in all)")


def _front(labware: str, col: int, k: int, top: int = 0) -> Loc:
    """The well a k-nozzle stamp over k rows of a column from row `top` on is sent to: A with all eight nozzles,
    else the front (last) row of the run."""
    return Loc(labware, f"{row_letters(8)[0 if k == 8 else top + k - 1]}{col}")


def _nozzle_text(k: int) -> str:
    return "8-channel" if k == 8 else f"{k}-nozzle stamps"


def _rows_text(rows: tuple[str, ...], top: int = 0) -> str:
    """'entrectinib (rows A–F), staurosporine (rows G–H)' for a block's rows (from row `top` on)."""
    letters = row_letters(8)[top:]
    out, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[start]:
            where = letters[start] if i - 1 == start else f"{letters[start]}–{letters[i - 1]}"
            out.append(f"{rows[start]} (row{'s' if i - 1 > start else ''} {where})")
            start = i
    return ", ".join(out)


def top_liquid_name(c, s) -> str:
    """Display name of a compound's top solution."""
    return f"{c.name} top {si_conc(s.source[0])} in {c.solvent}"


def top_composition(c, s) -> dict[str, float]:
    """Ledger composition of the top solution."""
    comp = {f"compound:{c.name}": s.source[0]}
    comp.update(solvent_species(c.solvent))
    return comp


COMPOUND_ROLES = ("sample", "reference")


def source_key(w) -> tuple[str, int]:
    """The intermediate a dosed well draws from: (compound, point), or ('', 0) for the solvent-in-buffer well."""
    return (w.compound, w.point) if w.role in COMPOUND_ROLES else ("", 0)


def _compounds_first(k: tuple[str, int]) -> tuple:
    return (k[0] == "", k)


def plan_series(series: "DmsoSeries", exp, plates: list, roles: tuple[str, ...], volume: float) -> None:
    """Size the intermediate plate for every dosed well of the plates, then load the top solutions. Mirrored (a
    column per dose, or row-patterned: see `mirror_layout`; dosed by column stamps) when the builder's pipettes for
    it are 8-channels and the layout allows; a plan warning says when the 8-channels are there but the layout does
    not allow it (why, and what to change), or allows only stamps cut shorter than the column runs."""
    b = series.b
    if b.allow_multi and b.multi and mirror_classes(b, exp, volume) <= b.multi:
        found = mirror_layout(exp, plates, roles, volume, series.inter)
        if isinstance(found, Mirror):
            series.use_mirror(found)
            series.top_loads()
            if isinstance(found, PatternMirror) and found.cut:
                b.plan.warnings.append(
                    f"compound stamped in runs of at most {found.cut} rows (not whole column runs): the plates' "
                    "columns hold the compounds in more row orders than one 8-row intermediate column (or one source "
                    "plate) fits; give the assay plates' rows the same compound order for one stamp per run")
            return
        b.plan.warnings.append(f"compound dosed one well at a time with a fresh tip each (no column stamps): {found}")
    needs: dict[tuple[str, int], float] = defaultdict(float)
    for p, _k in plates:
        for w in assay_wells(exp, p.id, roles):
            needs[source_key(w)] += volume
    series.plan_intermediates(dict(sorted(needs.items(), key=lambda kv: _compounds_first(kv[0]))))
    series.top_loads()


def dosing_moves(series: "DmsoSeries", key: str, wells: list, volume: float) -> list:
    """(source, destination, µL) for every dosed well: each well from its compound point's intermediate (vehicle
    wells from the solvent-in-buffer well), ordered column by column for short head moves."""
    from collections import defaultdict

    if series.mirror is not None:  # each well from its own row of its dose's column
        moves = [(series.mirror.draw[(key, w.name)], well_loc(key, w), volume) for w in wells]
        moves.sort(key=lambda m: (int(m[1].well[1:]), m[1].well[0]))
        return moves
    by_key = defaultdict(list)
    for w in wells:
        by_key[source_key(w)].append(w)
    moves = []
    for k in sorted(by_key, key=_compounds_first):
        for src, w in zip(series.assign(k, len(by_key[k])), by_key[k]):
            moves.append((src, well_loc(key, w), volume))
    moves.sort(key=lambda m: (int(m[1].well[1:]), m[1].well[0]))
    return moves

