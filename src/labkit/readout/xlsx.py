"""Excel workbooks (.xlsx, and old binary .xls) as rows of cleaned cells, so they go through the same parsers
as text. .xlsx is read with openpyxl, .xls with python-calamine (installed with allotropy)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from labkit.errors import ReadoutError
from labkit.readout.text import Doc, clean_cell, sniff_decimal


def cell_text(value: object) -> str:
    """One worksheet value -> the cell text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return clean_cell(str(value))


def xlsx_doc(path: str | Path, data: bytes) -> Doc:
    """All sheets of a workbook, one after another (a blank row between sheets)."""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, InvalidFileException...)
        raise ReadoutError(f"this is a zip file but not a readable Excel .xlsx workbook ({exc})",
                           file=path) from None
    rows: list[list[str]] = []
    try:
        for ws in wb.worksheets:
            if rows:
                rows.append([])
            for values in ws.iter_rows(values_only=True):
                row = [cell_text(v) for v in values]
                while row and not row[-1]:
                    row.pop()
                rows.append(row)
    except Exception as exc:  # damaged sheet XML
        raise ReadoutError(f"the Excel workbook is damaged ({exc})", file=path) from None
    finally:
        wb.close()
    return Doc(path=str(path), rows=rows, lines=[], encoding="xlsx", sep="\t", decimal=sniff_decimal(rows, "\t"),
               ends_with_newline=True, kind="xlsx", raw=data)


def xls_doc(path: str | Path, data: bytes) -> Doc:
    """All sheets of an old binary Excel (.xls, BIFF) workbook, one after another (a blank row between)."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names]
    except Exception as exc:  # calamine raises CalamineError / ValueError... for damaged or non-Excel OLE files
        raise ReadoutError(f"this is an old binary Excel (.xls) file but it cannot be read ({exc}); open it in "
                           "Excel and save it as .xlsx or CSV", file=path) from None
    rows: list[list[str]] = []
    for values in sheets:
        if rows:
            rows.append([])
        for line in values:
            row = [cell_text(None if v == "" else v) for v in line]
            while row and not row[-1]:
                row.pop()
            rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return Doc(path=str(path), rows=rows, lines=[], encoding="xls", sep="\t", decimal=sniff_decimal(rows, "\t"),
               ends_with_newline=True, kind="xls", raw=data)
