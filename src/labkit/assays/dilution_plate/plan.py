"""The dilution_plate job: diluent into every series well, the top solution, then the serial dilution."""

from __future__ import annotations

from collections import defaultdict

from labkit.labware.specs import ASSAY_PLATE, RESERVOIR, trash_slot
from labkit.plan.builder import Builder
from labkit.plan.common import is_aqueous, solvent_species, top_composition
from labkit.plan.prep import describe_predilution, hand_predilution
from labkit.plan.steps import Loc
from labkit.units import si_conc


def _series(exp, plate_id: str) -> list[list]:
    """Each (compound, replicate) series of a plate as wells ordered by point."""
    groups = defaultdict(list)
    for w in exp.wells[plate_id]:
        if w.role in ("sample", "reference") and w.compound:
            groups[(w.compound, w.replicate)].append(w)
    return [sorted(ws, key=lambda w: w.point) for _k, ws in sorted(groups.items(), key=lambda kv: (
        min((w.col, w.row) for w in kv[1])))]


def _column_series(exp, plate, series: list[list]) -> list[list[tuple[int, str]]] | None:
    """Series as whole 8-row columns [(col, compound)…] if an 8-channel can do them, else None."""
    if plate.format != 96:
        return None
    cells = {(w.row, w.col): w for s in series for w in s}
    n_rows = 8
    by_col: dict[int, set] = defaultdict(set)
    for (_r, c), w in cells.items():
        by_col[c].add((w.compound, w.point))
    for c, keys in by_col.items():
        if len(keys) != 1 or sum(1 for r in range(n_rows) if (r, c) in cells) != n_rows:
            return None
    out = []
    for s in series:
        if s[0].row != 0:
            continue
        out.append([(w.col, w.compound) for w in s])
    covered = sum(len(x) for x in out) * n_rows
    return out if covered == len(cells) else None


def plan_dilution(b: Builder, exp) -> None:
    """Add the dilution-plate steps to the builder."""
    v = exp.volumes
    policy = b.plan.tip_policy
    # a compact deck: the plate(s) next to the trash, the reservoir next to the plate(s), tip racks close to both
    trash = trash_slot(b.robot)
    plates = []
    for i, p in enumerate(exp.plates):
        plates.append((p, b.labware(f"plate_{i + 1}", ASSAY_PLATE[p.format], label=p.id, near=(trash,))))
    plate_slots = tuple(b.plan.labware_by_key()[key].slot for _p, key in plates)
    res = b.labware("reservoir", RESERVOIR, label="reservoir", near=plate_slots)
    b.keep_tips_near(trash, plate_slots[0])
    diluents, solutions = {}, {}
    for c in exp.compounds:
        s = exp.scheme(c)
        dname = f"Diluent ({c.solvent})"
        diluents[c.name] = b.liquid(dname, f"{c.solvent}, the diluent of the series", solvent_species(c.solvent))
        how = describe_predilution(c.stock, s.source[0], c.solvent)
        if hand_predilution(c.stock, s.source[0]):
            how += " (the last step per 100 µL: scale it to the volume loaded)"
        sname = f"{c.name} solution {si_conc(s.source[0])}"
        solutions[c.name] = b.liquid(sname, f"{c.name} at {si_conc(s.source[0])} in {c.solvent}: {how}",
                                     top_composition(c, s))
        b.plan.notes.append(f"{sname}: {how}")
    for p, key in plates:
        series = _series(exp, p.id)
        if not series:
            continue
        cols = _column_series(exp, p, series) if b.allow_multi else None
        multi = cols is not None
        b.comment(f"Plate {p.id}: {len(series)} series, {'8-channel, whole columns' if multi else 'single channel'}")
        # diluent: one multi-dispense per solvent, one tip
        by_diluent = defaultdict(list)
        if cols is not None:
            for col_series in cols:
                for col, compound in col_series:
                    by_diluent[diluents[compound]].append(Loc(key, f"A{col + 1}"))
        else:
            for s in series:
                for w in s:
                    by_diluent[diluents[w.compound]].append(Loc(key, w.name))
        for liquid, dests in by_diluent.items():
            first = exp.scheme(next(c for c in exp.compounds if diluents[c.name] == liquid))
            vol = first.serial_diluent
            pip = b.choose(vol, singles=not multi, per_aspirate=len(dests))
            dests = sorted(set(dests), key=lambda loc: (int(loc.well[1:]), loc.well[0]))
            b.distribute(f"{liquid}: {vol:g} µL into every well of the series", pip, b.reservoir_well(res, liquid),
                         dests, vol, nozzles=8 if multi else 1)
        # top solution and serial dilution, series by series
        units = ([[Loc(key, f"A{col + 1}") for col, _c in cs] for cs in cols] if cols is not None
                 else [[Loc(key, w.name) for w in s] for s in series])
        names = [cs[0][1] for cs in cols] if cols is not None else [s[0].compound for s in series]
        nozzles = 8 if multi else 1
        for locs, compound in zip(units, names):
            sch = exp.scheme(compound)
            pip = b.choose(sch.serial_transfer, singles=not multi)
            mix = (v.mix_repetitions, min(v.mix_volume, b.spec(pip).max_ul)) if v.mix_repetitions else None
            # water-like series are mixed (and dispensed into the well they are mixed in) faster than the default
            rate = b.spec(pip).aqueous_mix_rate if is_aqueous(exp.compound(compound).solvent) else 1.0
            src = b.reservoir_well(res, solutions[compound])
            factor = exp.compound(compound).dilution.factor
            moves = [(a, z, sch.serial_transfer) for a, z in zip(locs[:-1], locs[1:])]
            if policy == "per_series":  # one tip for the series: the top is mixed, then carried down the series
                b.transfer(f"{compound}: {sch.serial_transfer:g} µL of the solution into {locs[0].well}, mixed, then "
                           f"serial 1:{factor:g} {locs[0].well} → {locs[-1].well}, one tip for the series", pip,
                           [(src, locs[0], sch.serial_transfer)] + moves, new_tip="once", mix_after=mix, mix_rate=rate,
                           nozzles=nozzles)
                continue
            b.transfer(f"{compound}: {sch.serial_transfer:g} µL of the solution into {locs[0].well}, mixed", pip,
                       [(src, locs[0], sch.serial_transfer)], mix_after=mix, mix_rate=rate, nozzles=nozzles)
            b.transfer(f"{compound}: serial 1:{factor:g} dilution {locs[0].well} → {locs[-1].well} "
                       f"({sch.serial_transfer:g} µL, a fresh tip every step)", pip, moves, new_tip="always",
                       mix_after=mix, mix_rate=rate, nozzles=nozzles)

