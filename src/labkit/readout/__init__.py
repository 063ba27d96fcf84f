"""Plate-reader and scintillation-counter exports -> a tidy readout table (labkit.tables.READOUT_COLUMNS).

    df = labkit.readout.read("counts.csv")                 # format auto-detected
    fmt, why = labkit.readout.detect("counts.csv")

One row per measured well: source, plate, well, row, column, value, unit, read, flag.

- Blank cells mean "not measured": those wells are absent from the table (never 0). Explicit
  not-measured markers (MISSED, -, N/A) give a row with flag 'missing'; OVRFLW / OVER / SAT / #Sat /
  Saturated give 'overflow'; '*', '?', Range?, ERR and other text in a value cell give 'invalid'.
  Values of non-'ok' rows are NaN.
- `read` names the read / channel only where a plate has several raw reads (else '').
  Calculated blocks (ratios, normalised, blank-corrected) are dropped when raw results exist; layout,
  plate-map and read-time grids are never taken as measurements.
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

__all__ = ["FORMATS", "SUPPORTED_FORMATS", "read", "read_with_info", "detect", "ReadoutError", "ReadoutWarning"]

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


def read_with_info(path: str | Path, format: str = "auto", plate: str | None = None, partial: bool = False
                   ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Like read(), also returning {'format', 'reason', 'note', 'encoding'} of how the file was read."""
    if format != "auto" and format not in FORMATS:
        raise ReadoutError(f"unknown format {format!r}; expected one of: auto, {', '.join(FORMATS)}",
                           file=path, field="format")
    doc = load(path)
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
    df = to_frame(records, source=Path(path).name, path=str(path))
    if fell_back:
        warnings.warn(f"{Path(path).name}: {note}", ReadoutWarning, stacklevel=2)
    if plate is not None:
        df = _pick_plate(df, str(plate), path)
    return df.reset_index(drop=True), {"format": fmt, "reason": reason, "note": note, "encoding": doc.encoding}


def read(path: str | Path, format: str = "auto", plate: str | None = None, partial: bool = False
         ) -> pd.DataFrame:
    """Read a reader / counter export into the readout table (columns of labkit.tables.READOUT_COLUMNS).

    format: 'auto' (detect) or one of SUPPORTED_FORMATS. plate: keep only this plate (its id / barcode,
    else its 1-based position in the file); a one-plate file is relabelled with it. partial: accept a
    MicroBeta / TopCount grid with fewer rows than its plate format (a plate read in part).
    """
    return read_with_info(path, format=format, plate=plate, partial=partial)[0]


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
