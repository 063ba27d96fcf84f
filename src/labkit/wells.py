"""Well names, parsed in one place: 'A1', 'A01', 'p24', 'AF48' <-> (row, column) <-> row-major index.

Plate formats (rows x columns): 96 = 8 x 12 (A-H), 384 = 16 x 24 (A-P), 1536 = 32 x 48 (A-Z, then AA-AF),
and the small formats 6 / 12 / 24 / 48. Row labels of the 1536 plate after Z are two letters (AA..AF);
BMG MARS writes them as lowercase a..f instead, which `parse_row(..., lowercase_after_z=True)` accepts.

Conventions: `row` is 0-based, `column` is 1-based (as a well name writes it), `index` is 0-based row-major
(A1 = 0, A2 = 1, ..., B1 = columns).

    >>> parse_well("B07")
    (1, 7)
    >>> well_name(31, 48)
    'AF48'
    >>> index_to_well(12, 96)
    'B1'
"""

from __future__ import annotations

import re

__all__ = ["PLATE_FORMATS", "MAX_ROWS", "MAX_COLS", "WellNameError", "row_letters", "row_label", "row_index",
           "parse_row", "split_well", "parse_well", "well_name", "well_index", "index_to_well", "plate_wells",
           "format_for", "shape"]

PLATE_FORMATS: dict[int, tuple[int, int]] = {6: (2, 3), 12: (3, 4), 24: (4, 6), 48: (6, 8), 96: (8, 12),
                                              384: (16, 24), 1536: (32, 48)}
MAX_ROWS, MAX_COLS = PLATE_FORMATS[1536]

_LETTERS = [chr(ord("A") + i) for i in range(26)]
_LABELS = _LETTERS + ["A" + c for c in _LETTERS[:MAX_ROWS - 26]]  # A..Z, AA..AF
_INDEX = {label: i for i, label in enumerate(_LABELS)}
_WELL = re.compile(r"^([A-Za-z]{1,2})0*([0-9]{1,3})$")


class WellNameError(ValueError):
    """Text that is not a well name (or not a well of the given plate format)."""


def shape(fmt: int) -> tuple[int, int]:
    """(rows, columns) of a plate format; WellNameError for an unknown format."""
    try:
        return PLATE_FORMATS[fmt]
    except KeyError:
        raise WellNameError(f"unknown plate format {fmt!r}; expected one of "
                            f"{', '.join(map(str, PLATE_FORMATS))}") from None


def row_letters(n_rows: int) -> list[str]:
    """Row labels for a plate with n_rows rows: A..Z, then AA..AF (1536-well)."""
    return _LABELS[:n_rows]


def row_label(row: int) -> str:
    """0-based row -> its label ('A', ..., 'Z', 'AA', ..., 'AF')."""
    if not 0 <= row < MAX_ROWS:
        raise WellNameError(f"row {row + 1} is outside every plate format (rows A..AF)")
    return _LABELS[row]


def parse_row(label: str, *, lowercase_after_z: bool = False) -> int | None:
    """A row label -> 0-based row, None if it is not one. 'A' -> 0, 'p' -> 15, 'AF' -> 31.

    lowercase_after_z: BMG MARS labels the 1536 plate's rows 27..32 'a'..'f'; with it, 'a' -> 26.
    """
    s = str(label).strip()
    if not s or len(s) > 2 or not s.isascii() or not s.isalpha():
        return None
    if lowercase_after_z and len(s) == 1 and "a" <= s <= "f":
        return 26 + ord(s) - ord("a")
    return _INDEX.get(s.upper())


def row_index(label: str) -> int:
    """0-based index of a row label ('A' -> 0, 'P' -> 15, 'AA' -> 26); WellNameError if not a row label."""
    r = parse_row(label)
    if r is None:
        raise WellNameError(f"not a plate row: {label!r} (expected A..Z or AA..AF)")
    return r


def parse_well(name: str, fmt: int | None = None, *, lowercase_after_z: bool = False) -> tuple[int, int]:
    """'B07' -> (1, 7): 0-based row, 1-based column. WellNameError for text that is not a well name,
    or (with fmt) not a well of that plate format."""
    text = str(name).strip()
    m = _WELL.match(text)
    r = parse_row(m.group(1), lowercase_after_z=lowercase_after_z) if m else None
    if m is None or r is None or int(m.group(2)) < 1:
        raise WellNameError(f"not a well name: {name!r} (expected e.g. 'A1', 'B07', 'P24' or 'AF48')")
    col = int(m.group(2))
    if col > MAX_COLS:
        raise WellNameError(f"not a well name: {name!r} (columns go up to {MAX_COLS})")
    if fmt is not None:
        rows, cols = shape(fmt)
        if r >= rows or col > cols:
            raise WellNameError(f"well {_LABELS[r]}{col} is not on a {fmt}-well plate "
                                f"(rows A..{_LABELS[rows - 1]}, columns 1..{cols})")
    return r, col


def split_well(name: str) -> tuple[str, int]:
    """'b07' -> ('B', 7): the upper-case row label and the 1-based column; WellNameError if not a well."""
    r, col = parse_well(name)
    return _LABELS[r], col


def well_name(row: int, column: int) -> str:
    """(0-based row, 1-based column) -> 'A1'."""
    if not 1 <= column <= MAX_COLS:
        raise WellNameError(f"column {column} is outside every plate format (columns 1..{MAX_COLS})")
    return f"{row_label(row)}{column}"


def well_index(name: str, fmt: int) -> int:
    """Row-major 0-based index of a well on a plate format: A1 -> 0, A2 -> 1, B1 -> columns."""
    r, col = parse_well(name, fmt)
    return r * shape(fmt)[1] + col - 1


def index_to_well(index: int, fmt: int) -> str:
    """Row-major 0-based index -> well name on a plate format (inverse of well_index)."""
    rows, cols = shape(fmt)
    if not 0 <= index < rows * cols:
        raise WellNameError(f"position {index + 1} is not on a {fmt}-well plate (1..{rows * cols})")
    return well_name(index // cols, index % cols + 1)


def plate_wells(fmt: int) -> list[str]:
    """All well names of a plate format, row-major."""
    rows, cols = shape(fmt)
    return [f"{r}{c}" for r in _LABELS[:rows] for c in range(1, cols + 1)]


def format_for(max_row: int, max_col: int, formats: tuple[int, ...] | None = None) -> int | None:
    """The smallest plate format (of `formats`, default all) holding a 0-based row and 1-based column."""
    for fmt in sorted(PLATE_FORMATS if formats is None else formats):
        rows, cols = PLATE_FORMATS[fmt]
        if max_row < rows and max_col <= cols:
            return fmt
    return None
