"""Shared pieces of the assay plans: liquids from the layout, series, the DMSO serial dilution, intermediates."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

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


def mix_volume(b: Builder, pip: str, well_volume: float) -> float:
    """Mixing stroke: half the well volume, within the pipette's range."""
    spec = b.spec(pip)
    return float(max(spec.min_ul, min(spec.max_ul, round(well_volume / 2.0, 1))))


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


class DmsoSeries:
    """Source plate (serial dilution in solvent) and intermediate plate (into buffer / medium) for every compound."""

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
            mix = (3, mix_volume(b, pip, s.serial_diluent + s.serial_transfer))
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
            mix = (3, mix_volume(b, pip, item.scale * (v.intermediate_solvent + v.intermediate_diluent)))
            if compound:
                row = [c.name for c in exp.compounds].index(compound)
                src = Loc(self.source, f"{self.rows[row]}{point + 1}")
                text = f"{compound} point {point + 1}: {vol:g} µL of the solvent series into {item.scale * v.intermediate_diluent:g} µL {self.diluent_name}, mixed"
            else:
                src = solvent_reservoir
                text = f"Vehicle: {vol:g} µL solvent into {item.scale * v.intermediate_diluent:g} µL {self.diluent_name}, mixed"
            b.transfer(text, pip, [(src, loc, vol) for loc in item.locs], new_tip="always", mix_after=mix)
        del small

    def top_loads(self) -> None:
        """The operator's top solutions: volume = what the robot draws + dead volume."""
        b, exp, v = self.b, self.exp, self.exp.volumes
        dead = LABWARE[SOURCE_PLATE].dead_ul
        for r, c in enumerate(exp.compounds):
            s = exp.scheme(c)
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
    """Size the intermediate plate for every dosed well of the plates, then load the top solutions."""
    from collections import defaultdict

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

    by_key = defaultdict(list)
    for w in wells:
        by_key[source_key(w)].append(w)
    moves = []
    for k in sorted(by_key, key=_compounds_first):
        for src, w in zip(series.assign(k, len(by_key[k])), by_key[k]):
            moves.append((src, well_loc(key, w), volume))
    moves.sort(key=lambda m: (int(m[1].well[1:]), m[1].well[0]))
    return moves

