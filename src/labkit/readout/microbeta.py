"""PerkinElmer MicroBeta / MicroBeta² / TopCount scintillation and luminescence counter exports.

No maintained parser exists for these, so labkit reads them itself. Two export styles:

- plate grid: a metadata header (instrument, protocol, counting time, plate number / barcode), then
  per plate a counts grid (CPM, CCPM, LCPS or CPS) and usually a per-well read-time grid. The counts
  grid is the measurement; time grids are dropped.
- list by position: a table with a well / position column and count columns (e.g. 'Well', 'CPM1',
  'CCPM1', 'Time'); a position number counts row-major from A1.
- TopCount's own per-plate output files (plate output: counts grid + read-time grid, no header; column
  output: 'position ,counts ,time' lines), read by labkit.readout.topcount.

Where a file has both corrected and raw counts the corrected ones are taken (CCPM before CPM, then
LCPS / CPS / DPM); the unit column says which.
"""

from __future__ import annotations

import re

from labkit.readout import topcount
from labkit.readout.grid import check_list_complete, find_blocks, read_grid, select
from labkit.readout.long import VALUE_PREFS, read_long
from labkit.readout.records import Record
from labkit.readout.text import Doc

# the instrument named in words: a bare model number (1450, 2450) is as likely to be a value in a data row
STRONG = re.compile(r"micro\s*beta|trilux|top\s*count|wallac", re.IGNORECASE)
WEAK = re.compile(r"\bc?cpm\d?\b|\blcps\d?\b|counting\s*time|\bdpm\d?\b", re.IGNORECASE)
GRID_PREFER = [r"\bccpm", r"\bcpm", r"\blcps", r"\bcps", r"\bdpm"]
LONG_PREFS = (r"^ccpm\d?$", r"^cpm\d?$", r"^lcps\d?$", r"^cps\d?$", r"^dpm\d?$", *VALUE_PREFS)


def sniff(doc: Doc) -> str | None:
    """A reason this is a counter export, or None."""
    head = doc.head(80)
    m = STRONG.search(head)
    if m:
        return f"mentions {m.group(0)!r} near the top (PerkinElmer counter export)"
    m = WEAK.search(head)
    if m:
        return f"has {m.group(0)!r} counts near the top (scintillation counter export)"
    return topcount.sniff(doc)


def read_microbeta(doc: Doc, partial: bool = False) -> list[Record]:
    """Records of a MicroBeta / TopCount export (grid style if it has count grids, else list style).

    Files that name the instrument are held to instrument rules (an export always ends with a line
    break, so a last line without one means the file was cut); files that merely have CPM columns are not.
    A counts grid short of its plate format's rows, or an instrument's well list that stops before its format's
    last well (grid.check_list_complete; not labkit's own tidy tables), is an error unless partial; a plate
    whose counts grid is entirely blank keeps its wells, flagged 'missing'.
    """
    strict = bool(STRONG.search(doc.head(80)))
    if not strict and topcount.kind(doc):
        return topcount.read_topcount(doc, partial=partial)
    if select(find_blocks(doc), doc.decimal):
        return read_grid(doc, default_unit="CPM", prefer=GRID_PREFER, strict=strict, complete=not partial,
                         blank=True)
    records = read_long(doc, default_unit="CPM", prefs=LONG_PREFS, strict=strict)
    if strict and not partial and not _labkit_table(doc):  # an instrument's list, not one a person or labkit cut
        check_list_complete(doc, records)
    return records


def _labkit_table(doc: Doc) -> bool:
    """True for labkit's own tidy readout table (it lists the measured wells only), e.g. `labkit import`'s CSV."""
    from labkit.tables import READOUT_COLUMNS

    first = next((row for row in doc.rows if any(cell.strip() for cell in row)), [])
    return [cell.strip() for cell in first[:len(READOUT_COLUMNS)]] == list(READOUT_COLUMNS)
