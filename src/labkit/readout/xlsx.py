"""Excel workbooks (.xlsx, and old binary .xls) as rows of cleaned cells, so they go through the same parsers
as text. .xlsx is read with openpyxl, .xls with xlrd (installed with allotropy)."""

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
    """All sheets of an old binary Excel (.xls, BIFF) workbook, one after another (a blank row between).

    Read with xlrd (pure Python, installed with allotropy): a damaged file raises an ordinary exception,
    which becomes a ReadoutError (python-calamine aborts with a Rust panic on some damaged files).
    """
    try:
        import xlrd

        book = xlrd.open_workbook(file_contents=data, logfile=io.StringIO())  # its notes would go to stdout
        sheets = [[[_xls_cell(c, book.datemode) for c in sheet.row(i)] for i in range(sheet.nrows)]
                  for sheet in book.sheets()]
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error, IndexError... on damaged files
        raise ReadoutError(f"this is an old binary Excel (.xls) file but it cannot be read (damaged: "
                           f"{str(exc) or type(exc).__name__}); open it in Excel and save it as .xlsx or CSV",
                           file=path) from None
    rows: list[list[str]] = []
    for values in sheets:
        if rows:
            rows.append([])
        for line in values:
            row = [cell_text(v) for v in line]
            while row and not row[-1]:
                row.pop()
            rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    if not any(rows):
        raise ReadoutError("the Excel (.xls) workbook has no cells with data", file=path)
    return Doc(path=str(path), rows=rows, lines=[], encoding="xls", sep="\t", decimal=sniff_decimal(rows, "\t"),
               ends_with_newline=True, kind="xls", raw=data)


def _xls_cell(cell: object, datemode: int) -> object:
    """One xlrd cell -> the Python value cell_text() expects (dates as datetimes, errors as Excel shows them)."""
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERR")
    return value
