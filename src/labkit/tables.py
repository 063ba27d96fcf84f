"""The shared table shapes. `plate` + `well` is the join key everywhere.

WELLS_COLUMNS: one row per well of a layout (labkit.layout ... .wells_table()).
READOUT_COLUMNS: one row per measured well of an instrument export (labkit.readout.read()).
"""

from __future__ import annotations

import re

# role vocabulary of a layout well
ROLES = ("sample", "reference", "vehicle", "positive", "blank", "buffer", "empty")
ROLE_MEANING = {
    "sample": "test compound, one point of its dilution series",
    "reference": "reference inhibitor, one point of its dilution series",
    "vehicle": "vehicle (solvent-matched): 0 % inhibition / 100 % viability",
    "positive": "positive / no-enzyme control: 100 % inhibition",
    "blank": "background / blank (no cells): 0 % viability",
    "buffer": "buffer only (edge fill), not analysed",
    "empty": "empty well",
}
# after a join (labkit.readout.join), a measured well with no layout entry has this role
UNASSIGNED = "unassigned"

WELLS_COLUMNS: dict[str, str] = {
    "plate": "plate id (str)",
    "well": "well name, e.g. 'A1' (str)",
    "row": "row letter(s) (str)",
    "column": "column number, 1-based (int)",
    "role": f"one of {ROLES}",
    "compound": "compound name, '' for none (str)",
    "conc_M": "final concentration in the assay well, molar (float, NaN for none)",
    "point": "index in the dilution series, 0 = top (int, -1 for none)",
    "replicate": "replicate number, 1-based (int, 0 for none)",
    "target": "kinase target, '' for none (str)",
    "cell_line": "cell line, '' for none (str)",
}

READOUT_COLUMNS: dict[str, str] = {
    "source": "file the value came from (str)",
    "plate": "plate index / ID / barcode as the file gives it, else '1' (str)",
    "well": "well name, e.g. 'A1' (str)",
    "row": "row letter(s) (str)",
    "column": "column number, 1-based (int)",
    "value": "the measurement (float, NaN when flag != 'ok')",
    "unit": "measurement kind: CPM, CCPM, RLU, CPS, absorbance, ... (str)",
    "read": "read / channel name where a file has several, else '' (str)",
    "flag": "ok | overflow | missing | invalid",
}

FLAGS = ("ok", "overflow", "missing", "invalid")

PLATE_FORMATS: dict[int, tuple[int, int]] = {6: (2, 3), 12: (3, 4), 24: (4, 6), 48: (6, 8), 96: (8, 12),
                                              384: (16, 24), 1536: (32, 48)}

_WELL = re.compile(r"^([A-Z]{1,2})0*(\d{1,2})$")


def row_letters(n_rows: int) -> list[str]:
    """Row labels for a plate with n_rows rows: A..Z, then AA..AF (1536-well)."""
    letters = [chr(ord("A") + i) for i in range(26)]
    return (letters + ["A" + c for c in letters])[:n_rows]


def row_index(label: str) -> int:
    """0-based index of a row label ('A' -> 0, 'P' -> 15, 'AA' -> 26)."""
    label = label.upper()
    if len(label) == 1:
        return ord(label) - ord("A")
    return 26 + ord(label[1]) - ord("A")


def split_well(name: str) -> tuple[str, int]:
    """'B07' -> ('B', 7); raises ValueError for something that is not a well name."""
    m = _WELL.match(str(name).strip().upper())
    if not m:
        raise ValueError(f"not a well name: {name!r} (expected e.g. 'A1' or 'P24')")
    return m.group(1), int(m.group(2))


def well_name(row: int, col: int) -> str:
    """(0-based row, 0-based column) -> 'A1'."""
    return f"{row_letters(max(row + 1, 1))[row]}{col + 1}"


def plate_wells(fmt: int) -> list[str]:
    """All well names of a plate format, row-major."""
    rows, cols = PLATE_FORMATS[fmt]
    return [f"{r}{c}" for r in row_letters(rows) for c in range(1, cols + 1)]
