"""The shared table shapes. `plate` + `well` is the join key everywhere.

WELLS_COLUMNS: one row per well of a layout (labkit.layout ... .wells_table()).
READOUT_COLUMNS: one row per measured well of an instrument export (labkit.readout.read()).
"""

from __future__ import annotations

# well names and plate formats live in labkit.wells (one parser for the whole package); re-exported here
from labkit.wells import PLATE_FORMATS, plate_wells, row_index, row_letters, split_well  # noqa: F401
from labkit.wells import well_name as _well_name

# role vocabulary of a layout well
ROLES = ("sample", "reference", "vehicle", "no_enzyme", "positive", "blank", "kill", "time_zero", "total_counts",
         "buffer", "empty")
ROLE_MEANING = {
    "sample": "test compound, one point of its dilution series",
    "reference": "reference inhibitor, one point of its dilution series",
    "vehicle": "vehicle (solvent-matched): 0 % inhibition / 100 % viability",
    "no_enzyme": "no-enzyme control (kinase): 100 % inhibition",
    "positive": "positive / no-enzyme control: 100 % inhibition (kinase layouts: the old name of no_enzyme)",
    "blank": "background / blank (no cells): 0 % viability",
    "total_counts": "total counts (radiometric kinase): the hot ATP mix spotted on the filter, not washed",
    "kill": "kill control (cells + a cytotoxic reference, e.g. staurosporine 10 µM): 0 % viability",
    "time_zero": "cells read at the time of dosing (time-zero plate, for GR metrics)",
    "buffer": "buffer only (edge fill), not analyzed",
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



def well_name(row: int, col: int) -> str:
    """(0-based row, 0-based column) -> 'A1'."""
    return _well_name(row, col + 1)
