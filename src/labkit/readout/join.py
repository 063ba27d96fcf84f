"""Join a readout table to a layout's wells table: every measured well gets its role, compound, conc...

Plate mapping rule (readout plate id -> layout plate id):
  1. an explicit `plate_map` {readout id: layout id} wins (every readout plate must be in it);
  2. otherwise readout plates whose id is a layout plate id are joined by that id;
  3. the remaining readout plates are joined, in file order, to the remaining layout plates in layout
     order (readout plate '1' -> first layout plate...), with a warning saying so.
More readout plates than layout plates is an error naming the extra plates.

Checks: a measured well outside the layout plate's format is an error (plate-format mismatch, e.g. a
384-well readout on a 96-well layout); a readout that fits a smaller format than the layout gets a
warning; layout wells that should have been measured (any role but 'empty' / 'buffer') but are absent
from the readout get a warning naming them. Measured wells with no layout entry are kept with role
'unassigned' (compound '', conc_M NaN, point -1, replicate 0).

Result columns: the readout columns (plate = the layout plate id), 'readout_plate' (the id in the
file), then role, compound, conc_M, point, replicate, target, cell_line.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from labkit.errors import ReadoutError
from labkit.readout.records import ReadoutWarning, fit_format
from labkit.tables import PLATE_FORMATS, READOUT_COLUMNS, WELLS_COLUMNS, row_index, split_well

UNASSIGNED = "unassigned"
LAYOUT_EXTRA = [c for c in WELLS_COLUMNS if c not in ("plate", "well", "row", "column")]
NOT_MEASURED_ROLES = ("empty", "buffer")


class JoinWarning(ReadoutWarning):
    """A readout / layout mismatch worth telling the user about (the join still went ahead)."""


def _short(items: list[str], n: int = 12) -> str:
    return ", ".join(items[:n]) + (f" ... ({len(items)} in all)" if len(items) > n else "")


def map_plates(readout_plates: list[str], layout_plates: list[str], plate_map: dict[str, str] | None = None,
               *, source: str = "") -> dict[str, str]:
    """Readout plate id -> layout plate id by the documented rule; ReadoutError if impossible."""
    where = source or None
    if plate_map:
        missing = [p for p in readout_plates if p not in plate_map]
        if missing:
            raise ReadoutError(f"plate map gives no layout plate for readout plate(s) {_short(missing)}",
                               file=where, field="plate_map")
        unknown = [f"{k} -> {v}" for k, v in plate_map.items() if k in readout_plates and v not in layout_plates]
        if unknown:
            raise ReadoutError(f"plate map names layout plates that are not in the layout: {_short(unknown)}; "
                               f"layout plates are {_short(layout_plates)}", file=where, field="plate_map")
        return {p: str(plate_map[p]) for p in readout_plates}
    if len(readout_plates) > len(layout_plates):
        unmatched = [p for p in readout_plates if p not in layout_plates]
        n_free = len(layout_plates) - (len(readout_plates) - len(unmatched))
        extra = unmatched[n_free:]
        raise ReadoutError(f"the readout has {len(readout_plates)} plates but the layout only "
                           f"{len(layout_plates)} ({_short(layout_plates)}); no layout plate for readout "
                           f"plate(s) {_short(extra)}; pass a plate map to choose", file=where)
    mapping = {p: p for p in readout_plates if p in layout_plates}
    free = [p for p in layout_plates if p not in mapping.values()]
    by_order = []
    for p in readout_plates:
        if p not in mapping:
            mapping[p] = free.pop(0)
            by_order.append(f"{p} -> {mapping[p]}")
    if by_order:
        warnings.warn(f"readout plate(s) joined to layout plates by order: {_short(by_order)}", JoinWarning,
                      stacklevel=3)
    return mapping


def _layout_format(wells: pd.DataFrame) -> int | None:
    rows = [row_index(str(r)) for r in wells["row"]]
    return fit_format(max(rows), int(wells["column"].max())) if rows else None


def join_layout(readout: pd.DataFrame, wells: pd.DataFrame, *, source: str = "",
                plate_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Readout table + layout wells table -> one row per measured well with its layout annotation."""
    missing_cols = [c for c in READOUT_COLUMNS if c not in readout.columns]
    if missing_cols:
        raise ReadoutError(f"readout table lacks columns {missing_cols}", file=source or None)
    missing_cols = [c for c in WELLS_COLUMNS if c not in wells.columns]
    if missing_cols:
        raise ReadoutError(f"layout wells table lacks columns {missing_cols}", file=source or None)
    readout = readout.copy()
    readout["plate"] = readout["plate"].astype(str)
    wells = wells.copy()
    wells["plate"] = wells["plate"].astype(str)
    wells["well"] = [_canon(w) for w in wells["well"]]
    dup = wells[wells.duplicated(["plate", "well"], keep=False)]
    if not dup.empty:
        twice = [f"plate {p} well {w}" for p, w in dict.fromkeys(zip(dup["plate"], dup["well"]))]
        raise ReadoutError("the layout lists some wells twice", file=source or None, problems=twice[:10])
    layout_plates = list(dict.fromkeys(wells["plate"]))
    readout_plates = list(dict.fromkeys(readout["plate"]))
    mapping = map_plates(readout_plates, layout_plates, plate_map, source=source)

    problems: list[str] = []
    for rp in readout_plates:
        lp = mapping[rp]
        lw = wells[wells["plate"] == lp]
        fmt = _layout_format(lw)
        if fmt is None:
            continue
        n_rows, n_cols = PLATE_FORMATS[fmt]
        rw = readout[readout["plate"] == rp]
        outside = [w for w, r, c in zip(rw["well"], rw["row"], rw["column"])
                   if row_index(str(r)) >= n_rows or int(c) > n_cols]
        if outside:
            problems.append(f"readout plate {rp} has wells {_short(sorted(set(outside), key=_key))} outside the "
                            f"{fmt}-well layout plate {lp}")
            continue
        rfmt = fit_format(max(row_index(str(r)) for r in rw["row"]), int(rw["column"].max()))
        if rfmt is not None and rfmt < fmt and rfmt >= 96:
            warnings.warn(f"readout plate {rp} only covers a {rfmt}-well area but layout plate {lp} is "
                          f"{fmt}-well: is it the right file?", JoinWarning, stacklevel=2)
    if problems:
        raise ReadoutError("plate format mismatch between readout and layout", file=source or None,
                           problems=problems)

    readout["readout_plate"] = readout["plate"]
    readout["plate"] = readout["readout_plate"].map(mapping)
    readout["well"] = [_canon(w) for w in readout["well"]]
    extra = wells[["plate", "well", *LAYOUT_EXTRA]]
    merged = readout.merge(extra, on=["plate", "well"], how="left", validate="many_to_one")
    unassigned = merged["role"].isna()
    if unassigned.any():
        merged.loc[unassigned, "role"] = UNASSIGNED
        merged.loc[unassigned, "compound"] = ""
        merged.loc[unassigned, "conc_M"] = math.nan
        merged.loc[unassigned, "point"] = -1
        merged.loc[unassigned, "replicate"] = 0
        merged.loc[unassigned, "target"] = ""
        merged.loc[unassigned, "cell_line"] = ""
    merged["point"] = merged["point"].astype(int)
    merged["replicate"] = merged["replicate"].astype(int)
    merged["conc_M"] = merged["conc_M"].astype(float)

    measured = set(zip(merged["plate"], merged["well"]))
    for lp in (mapping[rp] for rp in readout_plates):
        lw = wells[(wells["plate"] == lp) & ~wells["role"].isin(NOT_MEASURED_ROLES)]
        absent = [w for w in lw["well"] if (lp, w) not in measured]
        if absent:
            warnings.warn(f"layout plate {lp}: {len(absent)} well(s) with a role have no readout value: "
                          f"{_short(sorted(absent, key=_key))}", JoinWarning, stacklevel=2)
    unmapped = [lp for lp in layout_plates if lp not in mapping.values()]
    if unmapped:
        warnings.warn(f"layout plate(s) {_short(unmapped)} have no plate in the readout", JoinWarning,
                      stacklevel=2)
    if unassigned.any():
        names = [f"{p}:{w}" for p, w in zip(merged.loc[unassigned, "plate"], merged.loc[unassigned, "well"])]
        warnings.warn(f"{len(names)} measured well(s) have no layout entry (kept as role "
                      f"'{UNASSIGNED}'): {_short(names)}", JoinWarning, stacklevel=2)
    cols = [*READOUT_COLUMNS, "readout_plate", *LAYOUT_EXTRA]
    return merged[cols]


def _canon(well: object) -> str:
    try:
        letters, col = split_well(str(well))
    except ValueError as exc:
        raise ReadoutError(str(exc), field="well") from None
    return f"{letters}{col}"


def _key(well: str) -> tuple[int, int]:
    letters, col = split_well(well)
    return row_index(letters), col


def _numbered_in_order(ids: list[str]) -> bool:
    """True when plate ids are exactly 1, 2, ... n in file order (how readers number the plates of a run)."""
    return all(p.isdigit() and int(p) == k for k, p in enumerate(ids, start=1))


def join_checked(tables: Sequence[tuple[str | Path, pd.DataFrame]], wells: pd.DataFrame, assay: str, *,
                 plate_map: dict[str, str] | None = None, force: bool = False,
                 one_read: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Join one or more readout files to a layout, refusing (ReadoutError, exit 2) what would be a silent guess.

    Used by both `labkit analyze` and `labkit import --layout`. `tables` is [(path, readout table)] in the
    order given. Refused unless `plate_map` {readout id (or FILE#id): layout id} or `force` settles it:
    plate barcodes that name no layout plate; plates numbered 1, 2 ... (no barcode) when their count differs
    from the layout's free plates, when they are not 1..n in file order, or when they come from several files
    (which file's plate 1 is which layout plate is a guess). Always refused: a well read more than once (within
    one read when `one_read` is False: import keeps every read), and, unless `force`, a unit the layout's assay
    cannot give. Returns the joined table and notes (the plate mapping used, forced unit notes); the mapping of
    any plate not joined by its own id is also warned (JoinWarning), so the user sees it.
    """
    from labkit.analysis.pipeline import check_readout_fits, duplicate_readings

    files = ", ".join(str(p) for p, _ in tables)
    layout_ids = list(dict.fromkeys(wells["plate"].astype(str)))
    pmap = dict(plate_map or {})
    frames, mapping, rest, strangers, origin, by_map = [], {}, [], [], {}, set()
    many = len(tables) > 1
    numbered_files = []
    for path, t in tables:
        name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
        ids = list(dict.fromkeys(t["plate"].astype(str)))
        keys = {p: (f"{name}#{p}" if many else p) for p in ids}  # plate '1' of two files are two plates
        t = t.assign(plate=[keys[p] for p in t["plate"].astype(str)])
        frames.append(t)
        for p in ids:
            origin[keys[p]] = p
            chosen = pmap.get(f"{name}#{p}", pmap.get(p))
            if chosen is not None:
                mapping[keys[p]] = str(chosen)
                by_map.add(keys[p])
            elif p in layout_ids:
                mapping[keys[p]] = p
            else:
                rest.append(keys[p])
                if not p.isdigit():
                    strangers.append(f"{p} ({name})")
        numbered = [p for p in ids if keys[p] in rest and p.isdigit()]
        if numbered:
            numbered_files.append((name, numbered))
    used = {k for k in pmap if k in origin.values() or k in origin}  # 'id' or 'FILE#id' of a plate read
    unused = [k for k in pmap if k not in used]
    if unused:  # a typo in --plate-map would otherwise be ignored and the plate joined by another rule
        plates_read = list(origin) if many else list(origin.values())
        raise ReadoutError(f"--plate-map names readout plate(s) {_short(unused)} that are not in the readout; "
                           f"its plates are {_short(plates_read)}", file=files, field="plate-map")
    readout = pd.concat(frames, ignore_index=True) if many else frames[0]
    keys_dup = ["plate", "well"] if one_read else ["plate", "well", "read"]
    twice = duplicate_readings(readout.assign(plate=[mapping.get(p, p) for p in readout["plate"]]), keys_dup)
    if twice:
        raise ReadoutError("wells with more than one reading (the same plate in two files, or several reads); "
                           "analyze one reading per well: drop the duplicate file, or choose a read with --read NAME",
                           file=files, problems=twice[:10])
    unknown = [f"{k} -> {v}" for k, v in mapping.items() if v not in layout_ids]
    if unknown:
        raise ReadoutError(f"--plate-map names plates that are not in the layout: {_short(unknown)}; layout plates "
                           f"are {_short(layout_ids)}", file=files, field="plate-map")
    free = [lp for lp in layout_ids if lp not in mapping.values()]
    # a time-zero plate (GR metrics) is read on the day of dosing, in a file of its own: numbered plates are the
    # assay plates' when their count says so
    t0_plates = set(wells.loc[wells["role"] == "time_zero", "plate"].astype(str)) if "role" in wells else set()
    n_numbered = sum(len(ids) for _, ids in numbered_files)
    assay_free = [lp for lp in free if lp not in t0_plates]
    if numbered_files and n_numbered == len(assay_free) != len(free):
        free = assay_free
    if strangers and not force:  # a barcode that names no layout plate: another experiment's file?
        raise ReadoutError(f"the readout's plate(s) {', '.join(strangers)} are not plates of this layout "
                           f"({', '.join(layout_ids)}): is it the right file for this layout? Map them with "
                           "--plate-map READOUT=LAYOUT, or pass --force to join them in order", file=files,
                           field="plate")
    if numbered_files and not strangers and not force:
        n = sum(len(ids) for _, ids in numbered_files)
        why = []
        if len(numbered_files) > 1:
            why.append(f"they come from {len(numbered_files)} files ({', '.join(f for f, _ in numbered_files)}), "
                       "each numbering its own plates")
        elif not _numbered_in_order(numbered_files[0][1]):
            why.append(f"they are {', '.join(numbered_files[0][1])} in the file, not 1 to {n} in order")
        if n != len(free):
            why.append(f"the readout has {n} numbered plate(s) but the layout has {len(free)} plate(s) to join "
                       f"them to ({', '.join(free) or 'none'})")
        if why:
            example = f"{numbered_files[0][0]}#{numbered_files[0][1][0]}" if len(numbered_files) > 1 \
                else numbered_files[0][1][0]
            raise ReadoutError("the readout's plates are numbered, not named, and which layout plate each one is "
                               f"would be a guess: {'; '.join(why)}. Say which is which with --plate-map (e.g. "
                               f"--plate-map {example}={(free or layout_ids)[0]}), or pass --force to join them in "
                               "order", file=files, field="plate")
    if len(rest) > len(free):
        raise ReadoutError(f"the readout has {len(rest)} plate(s) that are not layout plates ({_short(rest)}) but "
                           f"only {len(free)} layout plate(s) are left to join them to ({_short(free) or 'none'}); "
                           "pass --plate-map READOUT=LAYOUT to choose", file=files, field="plate")
    for p, lp in zip(rest, free):
        mapping[p] = lp
    notes = []
    ordered = "in file order (--force)" if strangers or force else "by number: plate n is the layout's n-th plate"
    for how, joined_plates in (("as --plate-map says", [p for p in mapping if p in by_map]), (ordered, rest)):
        moved = [f"{p} -> {mapping[p]}" for p in joined_plates if origin[p] != mapping[p]]
        if moved:
            notes.append(f"readout plates joined to layout plates {how}: {', '.join(moved)}")
            warnings.warn(notes[-1], JoinWarning, stacklevel=2)
    joined = join_layout(readout, wells, source=files, plate_map=mapping)
    notes += check_readout_fits(joined, assay, [p for p, _ in tables], force)
    return joined, notes
