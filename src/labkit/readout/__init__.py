"""Plate-reader and scintillation-counter exports -> a tidy readout table (labkit.tables.READOUT_COLUMNS).

    df = labkit.readout.read("counts.csv")                 # format auto-detected
    fmt, why = labkit.readout.detect("counts.csv")

One row per measured well: source, plate, well, row, column, value, unit, read, flag.

- Blank cells mean "not measured": those wells are absent from the table (never 0). Explicit
  not-measured markers (MISSED, -, N/A) give a row with flag 'missing'; OVRFLW / OVER / SAT / #Sat /
  Saturated give 'overflow'; '*', '?', Range?, ERR and other text in a value cell give 'invalid'.
  Values of non-'ok' rows are NaN.
- `read` names the read / channel only where a plate has several raw reads (else ''); read(read=NAME)
  keeps one. Calculated blocks (ratios, normalised, blank-corrected) are not taken when raw results exist;
  layout, plate-map and read-time grids are never taken as measurements; read_with_info() lists both
  (info['reads'], info['unused']), so nothing is dropped without a message.
- Long tables: the value column is never guessed (see labkit.readout.long); read(value=COLUMN) chooses it,
  info['columns'] says which columns gave plate, well and value.
- .xlsx (openpyxl) and old .xls (xlrd) workbooks are read like text; text encodings without a BOM are
  detected by chardet among the encodings reader PCs write.
- `plate` is the plate id / barcode as the file gives it ('Plate 2' becomes '2'), else '1'.
- Vendor formats (EnVision, MARS, Gen5, SoftMax Pro, Tecan Magellan) go through allotropy, with labkit's
  own grid / long parsers as the fallback when allotropy cannot read a file (a ReadoutWarning says
  why); MicroBeta / TopCount,
  Tecan Spark, generic grids and long tables are read by labkit.
- A MicroBeta / TopCount counts grid short of its plate format's rows is an error unless partial=True; a
  plate whose counts grid is entirely blank keeps every well, flagged 'missing' (it does not vanish).
- A file that is empty, binary, truncated or unrecognised raises ReadoutError naming the file (and line)
  and the formats tried.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from labkit.errors import ReadoutError
from labkit.readout.detect import FORMATS, detect, detect_doc, load
from labkit.readout.table import Record, ReadoutWarning, to_frame
from labkit.readout.text import Doc, is_digits

__all__ = ["FORMATS", "SUPPORTED_FORMATS", "read", "read_with_info", "read_for_analysis", "pick_read", "detect",
           "ReadoutError",
           "ReadoutWarning"]

SUPPORTED_FORMATS: list[str] = list(FORMATS)


def _parse(doc: Doc, fmt: str, partial: bool = False) -> tuple[list[Record], str, bool]:
    """Records of a document read as `fmt`, a note on how, and whether a fallback parser was used."""
    if fmt in ("envision", "mars", "gen5", "softmax", "tecan"):
        from labkit.readout.allotrope import read_vendor

        return read_vendor(doc, fmt)
    if fmt == "microbeta":
        from labkit.readout.microbeta import read_microbeta

        return read_microbeta(doc, partial=partial), "read by labkit's MicroBeta/TopCount parser", False
    if fmt == "grid":
        from labkit.readout.grid import read_grid

        return read_grid(doc, blank=True), "read by labkit's grid parser", False
    from labkit.readout.long import read_long

    return read_long(doc), "read by labkit's long-table parser", False


def read_with_info(path: str | Path, format: str = "auto", plate: str | None = None, *,
                   value: str | None = None, read: str | None = None, partial: bool = False,
                   ) -> tuple[pd.DataFrame, dict]:
    """Like read(), also returning how the file was read: {'format', 'reason', 'note', 'encoding',
    'columns' (long tables: which columns gave plate, well, value), 'reads' (every read found),
    'read' (the one kept, '' = all), 'unused' (grids / calculated data found but not taken)}."""
    if format != "auto" and format not in FORMATS:
        raise ReadoutError(f"unknown format {format!r}; expected one of: auto, {', '.join(FORMATS)}",
                           file=path, field="format")
    doc = load(path)
    if value is not None:
        doc.cache["value_column"] = value
    if format == "auto":
        fmt, reason = detect_doc(doc)
    else:
        fmt, reason = format, "chosen by the caller (format= / --format), not detected"
    try:
        records, note, fell_back = _parse(doc, fmt, partial)
    except ReadoutError as err:
        problems = list(err.problems)
        problems.append(f"read as {fmt}: {reason}")
        raise type(err)(err.message, file=err.file or path, line=err.line, field=err.field,
                        problems=problems) from None
    columns = list(dict.fromkeys(doc.cache.get("long_columns", [])))
    if value is not None and not columns:
        raise ReadoutError(f"--value {value!r} chooses a column of a long table, but this file was read as "
                           f"{fmt} ({note}); leave --value out (or use --read to choose a read)",
                           file=path, field="value")
    df = to_frame(records, source=Path(path).name, path=str(path))
    if fell_back:
        warnings.warn(f"{Path(path).name}: {note}", ReadoutWarning, stacklevel=2)
    reads = [r for r in dict.fromkeys(df["read"].astype(str)) if r]
    chosen = ""
    if read is not None:
        chosen = pick_read(reads, read, path)
        if chosen:  # plates read once have read '' (nothing to choose): they stay
            df = df[(df["read"] == chosen) | (df["read"] == "")]
    if plate is not None:
        df = _pick_plate(df, str(plate), path)
    info = {"format": fmt, "reason": reason, "note": note, "encoding": doc.encoding, "columns": columns,
            "reads": reads, "read": chosen, "unused": list(dict.fromkeys(doc.cache.get("unused_reads", [])))}
    return df.reset_index(drop=True), info


def pick_read(reads: list[str], wanted: str, path: str | Path = "") -> str:
    """The read `wanted` names among a file's reads: its exact name (any case), its 1-based number, or a
    part of one name only ('485' for 'fluorescence ex 485 nm 528 nm'); '' if the file has one read."""
    if not reads:
        return ""
    w = wanted.strip().casefold()
    exact = [r for r in reads if r.casefold() == w]
    if exact:
        return exact[0]
    if is_digits(w) and 1 <= int(w) <= len(reads):
        return reads[int(w) - 1]
    part = [r for r in reads if w and w in r.casefold()]
    if len(part) == 1:
        return part[0]
    listed = ", ".join(f"{i}: {r!r}" for i, r in enumerate(reads, 1))
    what = "matches several reads" if part else "is not a read of this file"
    raise ReadoutError(f"--read {wanted!r} {what}; the file has {len(reads)} reads: {listed}", file=path,
                       field="read")


def read(path: str | Path, format: str = "auto", plate: str | None = None, *, value: str | None = None,
         read: str | None = None, partial: bool = False) -> pd.DataFrame:
    """Read a reader / counter export into the readout table (columns of labkit.tables.READOUT_COLUMNS).

    format: 'auto' (detect) or one of SUPPORTED_FORMATS. plate: keep only this plate (its id / barcode,
    else its 1-based position in the file); a one-plate file is relabelled with it. value: the value
    column of a long table (needed when several numeric columns could be it). read: keep only this read
    of a multi-read file (name, 1-based number or a unique part of the name). partial: accept a MicroBeta /
    TopCount grid with fewer rows than its plate format (a plate read in part).
    """
    return read_with_info(path, format=format, plate=plate, value=value, read=read, partial=partial)[0]


def read_for_analysis(path: str | Path, *, value: str | None = None, read: str | None = None,
                      partial: bool = False) -> pd.DataFrame:
    """read() for an analysis: one read per well (ReadoutError listing the reads of a multi-read file
    when `read` does not choose one); which columns / read were used and what was not is warned
    (ReadoutWarning), so it reaches the report's notes."""
    df, info = read_with_info(path, value=value, read=read, partial=partial)
    name = Path(path).name
    if len(info["reads"]) > 1 and not info["read"]:
        listed = ", ".join(f"{i}: {r!r}" for i, r in enumerate(info["reads"], 1))
        raise ReadoutError(f"the file has {len(info['reads'])} reads ({listed}); an analysis uses one: "
                           "choose it with --read NAME (a name, its number or a unique part of it)",
                           file=path, field="read")
    for text in info["columns"]:
        warnings.warn(f"{name}: {text}", ReadoutWarning, stacklevel=2)
    if info["read"]:
        others = [r for r in info["reads"] if r != info["read"]]
        warnings.warn(f"{name}: read {info['read']!r} used; not used: {', '.join(map(repr, others))}",
                      ReadoutWarning, stacklevel=2)
    if info["unused"]:
        warnings.warn(f"{name}: found but not used: {', '.join(info['unused'])}", ReadoutWarning, stacklevel=2)
    return df


def _pick_plate(df: pd.DataFrame, plate: str, path: str | Path) -> pd.DataFrame:
    """Keep one plate: by id, else by 1-based position in the file; a one-plate file is relabelled."""
    ids = list(dict.fromkeys(df["plate"]))
    if plate in ids:
        return df[df["plate"] == plate]
    if len(ids) == 1:
        out = df.copy()
        out["plate"] = plate
        return out
    if is_digits(plate) and 1 <= int(plate) <= len(ids):
        return df[df["plate"] == ids[int(plate) - 1]]
    raise ReadoutError(f"no plate {plate!r} in the file; it has plates {', '.join(ids)}", file=path,
                       field="plate")
