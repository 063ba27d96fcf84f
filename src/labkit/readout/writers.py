"""Virtual readouts for the demo: write a plate / well / value table as a realistic instrument export.

- write_microbeta: a PerkinElmer MicroBeta2 plate-grid CPM export (instrument / protocol header, per
  plate a 'Plate' / 'Barcode' header, the counts grid and the per-well counting-time grid), CRLF.
  This layout is written from memory: no real MicroBeta / MicroBeta2 export was found to check it
  against (tests/data/readout/README.md). The counter layouts that were checked against real files are
  TopCount's plate / column output (labkit.readout.topcount), which carry no plate id and no markers.
- write_luminescence: a PerkinElmer EnVision luminescence CSV export (per plate a 'Plate information'
  block, 'Background information' and 'Results for ... (CPS)' grid; then assay, protocol, plate type,
  plate map, label and instrument sections, ending 'Exported with EnVision Workstation version ...').

Both are read back by labkit.readout.read() through normal auto-detection (the EnVision file by
allotropy when all wells are 'ok'). Flags are written as the instruments write markers: overflow ->
'OVRFLW', missing -> '-', invalid -> '*'; wells absent from the table are left blank (not measured).
Output is deterministic: no clock is read; dates are parameters with fixed defaults.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from labkit.errors import ReadoutError
from labkit.readout.records import fit_format
from labkit.tables import PLATE_FORMATS, row_letters
from labkit.wells import WellNameError, parse_well

MARKER_OF_FLAG = {"overflow": "OVRFLW", "missing": "-", "invalid": "*"}


def format_value(value: float) -> str:
    """A value as an instrument would print it, exactly round-tripping: integers plain, else repr()."""
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _plates(df: pd.DataFrame, plate_format: int | None) -> tuple[list[str], int, dict[str, dict[tuple[int, int], str]]]:
    """(plate ids in order, plate format, plate -> {(row, col): cell text})."""
    for col in ("plate", "well", "value"):
        if col not in df.columns:
            raise ReadoutError(f"the table to write needs a {col!r} column (has {list(df.columns)})",
                               field=col)
    cells: dict[str, dict[tuple[int, int], str]] = {}
    max_r = max_c = 0
    for rec in df.itertuples(index=False):
        plate = str(rec.plate)
        try:
            r, c = parse_well(str(rec.well))
        except WellNameError as exc:
            raise ReadoutError(str(exc), field="well") from None
        flag = str(getattr(rec, "flag", "ok") or "ok")
        value = float(rec.value)
        if flag == "ok":
            if not math.isfinite(value):
                raise ReadoutError(f"plate {plate} well {rec.well}: value {rec.value!r} with flag 'ok' is "
                                   "not a number", field="value")
            text = format_value(value)
        elif flag in MARKER_OF_FLAG:
            text = MARKER_OF_FLAG[flag]
        else:
            raise ReadoutError(f"plate {plate} well {rec.well}: unknown flag {flag!r}", field="flag")
        cells.setdefault(plate, {})[(r, c)] = text
        max_r, max_c = max(max_r, r), max(max_c, c)
    if not cells:
        raise ReadoutError("the table to write is empty")
    fmt = plate_format or fit_format(max_r, max_c)
    if fmt is None or fmt not in PLATE_FORMATS:
        raise ReadoutError(f"wells up to row {max_r + 1}, column {max_c} fit no plate format"
                           if fmt is None else f"unknown plate format {fmt}", field="plate_format")
    fmt = max(fmt, 96)  # the instruments print at least a 96-well grid
    n_rows, n_cols = PLATE_FORMATS[fmt]
    if max_r >= n_rows or max_c > n_cols:
        raise ReadoutError(f"wells up to {row_letters(max_r + 1)[max_r]}{max_c} do not fit a {fmt}-well plate",
                           field="plate_format")
    return list(cells), fmt, cells


def _grid(cells: dict[tuple[int, int], str], fmt: int, sep: str, header_pad: str = "",
          fill: dict[tuple[int, int], str] | None = None, two_digit: bool = False,
          trailing: bool = False) -> list[str]:
    n_rows, n_cols = PLATE_FORMATS[fmt]
    head = [f"{c:02d}" if two_digit else str(c) for c in range(1, n_cols + 1)]
    end = sep if trailing else ""
    lines = [header_pad + sep + sep.join(head) + end]
    for r, letter in enumerate(row_letters(n_rows)):
        source = fill if fill is not None else cells
        vals = [source.get((r, c), "") if fill is None or (r, c) in cells else "" for c in range(1, n_cols + 1)]
        lines.append(letter + sep + sep.join(vals) + end)
    return lines


def write_microbeta(df: pd.DataFrame, path: str | Path, *, plate_format: int | None = None,
                    counts: str = "CPM", count_time_s: float = 60.0, protocol: str = "33P filtermat kinase",
                    isotope: str = "33P", date: str = "2024-05-14 09:58:02") -> Path:
    """Write plate/well/value(/flag) as a MicroBeta2 plate-grid export (counts + counting-time grids)."""
    plates, fmt, cells = _plates(df, plate_format)
    sep = ","
    out = [
        "PerkinElmer MicroBeta2 Windows Workstation,Version 4.0.27",
        'Instrument,2450 MicroBeta2,Serial number,="2450-0231"',
        f"Protocol name,{protocol}",
        "Protocol number,12",
        f"Isotope,{isotope}",
        f"Counting time,{format_value(count_time_s)} s",
        "Detectors,6",
        f"Plate format,{fmt}",
        f"Counting mode,{counts}",
        f"Exported,{date}",
        "",
    ]
    time_text = f"{count_time_s:.2f}"
    for i, plate in enumerate(plates, start=1):
        timing = {k: time_text for k, v in cells[plate].items() if v not in ("-",)}
        out += [f"Plate,{i}", f'Barcode,="{plate}"', f"Measured,{date}", "", f"{counts}"]
        out += _grid(cells[plate], fmt, sep)
        out += ["", "Counting time (s)"]
        out += _grid(timing, fmt, sep)
        out += [""]
    out += ["End of report"]
    from labkit.safety import atomic_write_bytes

    return atomic_write_bytes(path, ("\r\n".join(out) + "\r\n").encode("utf-8"))  # temp file + rename


_ENVISION_TAIL = """
Basic assay information 
Assay ID: ,,,,{assay_id}
Assay Started: ,,,,{date}
Assay Finished: ,,,,{date}
Assay Exported: ,,,,{date}
Protocol ID: ,,,,100176
Protocol Name: ,,,,{protocol}
Serial#: ,,,,="1051017"



Protocol information
Protocol:
Protocol name,,,,{protocol}
Number of assay repeats,,,,1
Start assay repeat each,,,,N/A
Number of plate repeats,,,,1
Start plate repeat each,,,,N/A
Is label meas. height used,,,,Yes
Height of measurement,,,,Defined in label
Is gripper height used,,,,No
Mode of measurement,,,,By Rows  bi-directional
Rotated plate,,,,No
Soft move,,,,No
Protocol notes,,,, 

Plate type:
Name of the plate type,,,,{fmt} OptiPlate
Number of rows,,,,{n_rows}
Number of columns,,,,{n_cols}
Number of the wells in the plate,,,,{fmt}
Height of the plate,,,,14.35 mm

Platemap:
"""


def write_luminescence(df: pd.DataFrame, path: str | Path, *, plate_format: int | None = None,
                       protocol: str = "CellTiter-Glo", date: str = "5/14/2024 10:32:11 AM") -> Path:
    """Write plate/well/value(/flag) as a PerkinElmer EnVision luminescence CSV export (CPS)."""
    plates, fmt, cells = _plates(df, plate_format)
    n_rows, n_cols = PLATE_FORMATS[fmt]
    label = f"US LUM {fmt}"
    info = ("Plate,Repeat,Barcode,Measured height,Chamber temperature at start,Chamber temperature at end,"
            "Humidity at start,Humidity at end,Ambient temperature at start,Ambient temperature at end,Group,"
            "Label,ScanX,ScanY,Measinfo,Kinetics,Measurement date,")
    out: list[str] = []
    for i, plate in enumerate(plates, start=1):
        out += ["Plate information ", info,
                f'{i},1,"=""{plate}""",14.67,23.47,23.56,46.9,47.5,23.87,23.97,1,{label}(1),0,0,'
                f"De=USLum Ex=N/A Em=N/A Wdw=N/A (12),0,{date},", "",
                "Background information", "Plate,Label,Result,Signal,Flashes/Time,Meastime,MeasInfo,",
                f"{i},{label},0,4,0.1,00:00:00.000,De=USLum Ex=N/A Em=N/A Wdw=N/A (12),", "",
                f"Results for {label}(1) - channel 0 (CPS)"]
        out += _grid(cells[plate], fmt, ",", two_digit=True, trailing=True)
        out += [""]
    out += [""]
    text = "\n".join(out) + _ENVISION_TAIL.format(assay_id=2900, date=date, protocol=protocol, fmt=fmt,
                                                  n_rows=n_rows, n_cols=n_cols)
    tail: list[str] = []
    for i, _plate in enumerate(plates, start=1):
        tail += [f"Plate,,,,{i}", "Group,,,,1", ""]
        tail += [",".join(["", *[f"{c:02d}" for c in range(1, n_cols + 1)]]) + ","]
        tail += [f"{lt}," + ",".join(["- "] * n_cols) for lt in row_letters(n_rows)]
        tail += ["", " - - Undefined", ""]
    tail += ["Calculations:", "", "Auto export parameters:", "Export format,,,,Plate2",
             "Include basic assay information,,,,Yes", "Place assay information at,,,,End of file", "",
             "Operations:"]
    for i, _plate in enumerate(plates, start=1):
        tail += [f"Plate {i}", "  Group 1", "    Measurement", f"      Label,,,,{label}(1)"]
    tail += ["", "Labels:", f"{label},,,,7000007", "Measurement height,,,,0 mm", "Measurement time,,,,0.1 s",
             "CT,,,,0", "", "Instrument:", "Serial number,,,,1051017", "Nickname,,,,EnVision", "",
             "Normalization:", "", "", "Exported with EnVision Workstation version 1.14.3049.1193"]
    from labkit.safety import atomic_write_bytes

    return atomic_write_bytes(path, (text + "\n".join(tail) + "\n").encode("utf-8"))  # temp file + rename
