"""Records from any parser -> the readout table (labkit.tables.READOUT_COLUMNS), with its checks.

Blank cells are not measured: they produce no record, so the well is absent from the table. Explicit
"not measured" markers (MISSED, -, N/A) produce a row with flag 'missing'. Values of rows whose flag is
not 'ok' are NaN, never 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labkit.errors import ReadoutError
from labkit.tables import FLAGS, READOUT_COLUMNS, row_letters
from labkit.wells import format_for, parse_row


class ReadoutWarning(UserWarning):
    """Something about an import the user should know (e.g. allotropy could not read it, labkit did)."""


class TruncatedError(ReadoutError):
    """A file that stops in the middle of its data (cut short by a copy or a full disk)."""


UNIT_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bCCPM\d?\b", "CCPM"), (r"\bCPM\d?\b", "CPM"), (r"\bLCPS\d?\b", "LCPS"), (r"\bDPM\d?\b", "DPM"),
    (r"\bCPS\b", "CPS"), (r"\bRLU\b", "RLU"), (r"\bRFU\b", "RFU"), (r"\bmAU\b", "absorbance"),
    (r"\bOD\d*\b|\bABS\b|absorbance|\bA\d{3}\b", "absorbance"), (r"luminescence|\bLUM\b", "RLU"),
    (r"fluorescence|\bFI\b|\bFP\b|\bFL\b", "RFU"), (r"\bcounts?\b", "counts"),
)


def unit_from(text: str, default: str = "") -> str:
    """The measurement kind a block title / column name names (CPM, CPS, RLU, absorbance...)."""
    for pattern, unit in UNIT_WORDS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return unit
    return default


_PLATE_N = re.compile(r"^plate\s*[#_-]?\s*(\d+)$", re.IGNORECASE)


def plate_id(text: str) -> str:
    """Normalise a plate id as a file gives it: 'Plate 2' -> '2'; barcodes stay as they are."""
    s = str(text).strip()
    m = _PLATE_N.match(s)
    if m:
        return str(int(m.group(1)))
    if re.fullmatch(r"\d+\.0", s):
        return s[:-2]
    return s


@dataclass(frozen=True)
class Record:
    """One measured well: plate, 0-based row index, 1-based column, value, unit, read, flag, line."""

    plate: str
    row: int
    column: int
    value: float
    unit: str
    read: str
    flag: str
    line: int = 0  # 1-based line (or worksheet row) the value came from, 0 if unknown


def fit_format(max_row: int, max_col: int) -> int | None:
    """The smallest plate format that holds a 0-based row index and 1-based column."""
    return format_for(max_row, max_col)


def to_frame(records: list[Record], source: str, path: str) -> pd.DataFrame:
    """Records -> the readout table, sorted by plate (file order), read, row, column; checks duplicates."""
    if not records:
        raise ReadoutError("no measured wells found in the file", file=path)
    plates: dict[str, int] = {}
    reads: dict[str, int] = {}
    seen: dict[tuple[str, str, int, int], int] = {}
    dupes: list[str] = []
    for r in records:
        plates.setdefault(r.plate, len(plates))
        reads.setdefault(r.read, len(reads))
        key = (r.plate, r.read, r.row, r.column)
        if key in seen:
            dupes.append(f"plate {r.plate} well {row_letters(r.row + 1)[r.row]}{r.column}"
                         f"{' read ' + r.read if r.read else ''} (lines {seen[key]} and {r.line})")
        else:
            seen[key] = r.line
    if dupes:
        raise ReadoutError(f"{len(dupes)} well(s) appear twice in the file", file=path, problems=dupes[:10])
    for r in records:
        if r.flag not in FLAGS:
            raise AssertionError(f"bad flag {r.flag!r}")  # a parser bug, not user input
        if r.column < 1 or r.row < 0 or r.row >= 32 or r.column > 48:
            name = f"{row_letters(32)[r.row]}{r.column}" if 0 <= r.row < 32 else f"row {r.row + 1} column {r.column}"
            raise ReadoutError(f"well {name} is outside every plate format (rows A..AF, columns 1..48)",
                               file=path, line=r.line or None)
    order = sorted(records, key=lambda r: (plates[r.plate], reads[r.read], r.row, r.column))
    letters = row_letters(32)
    rows = [letters[r.row] for r in order]
    df = pd.DataFrame({
        "source": source,
        "plate": [r.plate for r in order],
        "well": [f"{lt}{r.column}" for lt, r in zip(rows, order)],
        "row": rows,
        "column": np.array([r.column for r in order], dtype=np.int64),
        "value": np.array([r.value if r.flag == "ok" else math.nan for r in order], dtype=float),
        "unit": [r.unit for r in order],
        "read": [r.read for r in order],
        "flag": [r.flag for r in order],
    })
    assert list(df.columns) == list(READOUT_COLUMNS)
    return df


def row_of(label: str, n_cols: int | None = None) -> int | None:
    """A grid row label -> 0-based row index: A..Z, AA..AF, and MARS' lowercase a..f after Z (1536)."""
    return parse_row(label, lowercase_after_z=n_cols == 48)
