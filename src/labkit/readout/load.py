"""Open a readout file as a Doc: a workbook (readout.xlsx) or a text export (readout.text).

Kept apart from both so neither imports the other (xlsx builds on text's Doc and cell helpers).
"""

from __future__ import annotations

from pathlib import Path

from labkit.errors import ReadoutError
from labkit.readout.text import Doc, text_doc

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def load_doc(path: str | Path) -> Doc:
    """Read a file from disk into a Doc (text export or .xlsx workbook); ReadoutError if impossible."""
    p = Path(path)
    if p.is_dir():
        raise ReadoutError("this is a folder, not a readout file", file=p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ReadoutError("file not found", file=p) from None
    except OSError as exc:
        raise ReadoutError(f"cannot read the file ({exc.strerror})", file=p) from None
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ReadoutError("the file is empty", file=p)
    if data.startswith(_ZIP):
        from labkit.readout.xlsx import xlsx_doc

        return xlsx_doc(p, data)
    if data.startswith(_OLE):
        from labkit.readout.xlsx import xls_doc

        return xls_doc(p, data)
    return text_doc(p, data)
