"""Text plumbing for instrument exports: bytes -> lines -> cells -> (value, flag).

Handles what real exports do to a plain CSV: byte-order marks, UTF-16 (SoftMax Pro), Mac-Roman and
Windows-1252 text, CR / CRLF / LF line ends, `,` `;` tab or space separators, decimal commas, values
padded with spaces, Excel-quoted IDs (`="1051017"`), and non-numeric markers (`OVRFLW`, `SAT`, `MISSED`,
`*`, `-`), which become flags, never numbers.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from labkit.errors import ReadoutError

# --- markers -> flags --------------------------------------------------------------------------------
# Keys are upper-cased, stripped cell texts. A blank cell is "not measured" and is not a marker.
MARKERS: dict[str, str] = {}
for _text in ("OVRFLW", "OVRFL", "OVERFLOW", "OVER", "OVFL", "OVF", "SAT", "#SAT", "SAT.", "SATURATED",
              "+OVER", "HIGH", "TOO HIGH", ">MAX", "RANGE+", "OUT OF RANGE"):
    MARKERS[_text] = "overflow"
for _text in ("MISSED", "MISSING", "-", "--", "---", "\u2013", "\u2014", "N/A", "NA", "#N/A", "N.A.",
              "ND", "N.D.", "NOT READ", "NOT MEASURED", "NO DATA", "NONE", "EMPTY", "SKIPPED"):
    MARKERS[_text] = "missing"
for _text in ("*", "**", "***", "****", "*.***", "?", "??", "???", "????", "?????", "RANGE?", "INVALID",
              "INV", "ERR", "ERROR", "#ERR", "#VALUE!", "#DIV/0!", "#NUM!", "#REF!", "#NAME?", "NAN", "INF",
              "-INF", "+INF", "UNDER", "UNDRFLW", "UNDERFLOW", "LOW", "FAIL", "FAILED", "MASKED", "#####"):
    MARKERS[_text] = "invalid"

_NUM = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_GREATER = re.compile(r"^>\s*[+-]?[\d.,]+(?:[eE][+-]?\d+)?$")
_LESS = re.compile(r"^<\s*[+-]?[\d.,]+(?:[eE][+-]?\d+)?$")
_SPACES = "\u00a0\u2007\u202f\ufeff"


def clean_cell(text: str) -> str:
    """Strip padding, non-breaking spaces and Excel's `="..."` quoting from one cell."""
    s = text.strip().strip(_SPACES).strip()
    if s.startswith('="') and s.endswith('"') and len(s) >= 3:
        s = s[2:-1].strip()
    elif len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        s = s[1:-1].strip()
    return s


def parse_value(text: str, decimal: str = ".") -> tuple[float, str | None]:
    """One cleaned cell -> (value, flag); flag None means blank (not measured)."""
    s = text
    if not s:
        return math.nan, None
    if _NUM.match(s):
        v = float(s)
        return (v, "ok") if math.isfinite(v) else (math.nan, "invalid")
    marker = MARKERS.get(s.upper())
    if marker is not None:
        return math.nan, marker
    t = s.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("'", "")
    if decimal == ",":
        if _THOUSANDS_DOT.match(t):
            t = t.replace(".", "")
        t = t.replace(",", ".")
    elif _THOUSANDS_COMMA.match(t):
        t = t.replace(",", "")
    if _NUM.match(t):
        v = float(t)
        return (v, "ok") if math.isfinite(v) else (math.nan, "invalid")
    if _GREATER.match(s):
        return math.nan, "overflow"
    if _LESS.match(s):
        return math.nan, "invalid"
    return math.nan, "invalid"


def is_number(text: str, decimal: str = ".") -> bool:
    """True if a cleaned cell reads as a finite number."""
    if not text:
        return False
    if _NUM.match(text):
        return True
    return parse_value(text, decimal)[1] == "ok"


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits (str.isdigit also accepts '²' and other scripts)."""
    return text.isascii() and text.isdigit()


def is_marker(text: str) -> bool:
    """True if a cleaned cell is one of the known flag markers (OVRFLW, MISSED, *, -...)."""
    return bool(text) and text.upper() in MARKERS


# --- decoding -----------------------------------------------------------------------------------------
# Encodings reader PCs write: Unicode, and the Windows / Mac Western code pages. Detection is chardet's
# (installed with allotropy), restricted to these; labkit only breaks chardet's ties between code pages
# that fit the bytes equally well (typical for one '°' in a header) by the characters exports contain.
CANDIDATE_ENCODINGS = ("ascii", "utf-8", "utf-16-le", "utf-16-be", "cp1252", "mac_roman")
_GOOD_CHARS = set("°µéèàüöäßçñ²³±×ÄÖÜÉ")
_MAC_HINTS = set("¡∞√ƒ∂†‡Ω∑◊ÊÂÛÙÈËÎÏÌÓÔ˝˛ˇ¬")


def _score(text: str) -> int:
    good = sum(1 for c in text if c in _GOOD_CHARS)
    bad = sum(1 for c in text if c in _MAC_HINTS or ("\x80" <= c <= "\x9f"))
    return good - 2 * bad


def detect_encoding(data: bytes) -> str | None:
    """The encoding of a text export without a byte-order mark (chardet among CANDIDATE_ENCODINGS), or None
    when no candidate decodes it."""
    import chardet

    found = chardet.detect_all(data[:65536], include_encodings=CANDIDATE_ENCODINGS, compat_names=False,
                               ignore_threshold=True)
    names = [(str(f["encoding"] or "").lower().replace("-", "_"), float(f["confidence"] or 0.0)) for f in found]
    names = [(n, c) for n, c in names if n and _decodes(data, n)]
    if not names:
        return None
    best, conf = names[0]
    ties = [n for n, c in names if c >= conf * 0.9 and n in ("cp1252", "mac_roman")]
    if best in ("cp1252", "mac_roman") and len(ties) > 1:
        decoded = {}
        for n in ties:
            try:
                decoded[n] = _score(data.decode(n))
            except UnicodeDecodeError:
                continue
        if decoded:
            best = max(ties, key=lambda n: (decoded.get(n, -10**9), n == "cp1252"))
    return {"ascii": "utf-8", "utf_8": "utf-8", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}.get(best, best)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Bytes of a text export -> (text, encoding name); ReadoutError for binary data."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return _strict(data, "utf-16", path), "utf-16"
    try:
        text, enc = data.decode("utf-8"), "utf-8"  # valid UTF-8 is UTF-8 (ASCII included)
    except UnicodeDecodeError:
        text, enc = "", ""
    if enc and "\x00" not in text:
        _reject_binary(text, path)
        return text, enc
    enc = detect_encoding(data) or ""
    if enc.startswith("utf-16"):
        return _strict(data[: len(data) // 2 * 2], enc, path), enc
    if b"\x00" in data or not enc:
        raise ReadoutError("this is a binary file, not a text or Excel export of a reader", file=path)
    text = data.decode(enc, errors="replace")
    _reject_binary(text, path)
    return text, enc


def _strict(data: bytes, encoding: str, path: str | Path) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadoutError(f"the file says it is {encoding} text but byte {exc.start} is not valid "
                           f"{encoding}; the file may be damaged", file=path) from None
    if "\x00" in text:
        raise ReadoutError("this is a binary file, not a text or Excel export of a reader", file=path)
    _reject_binary(text, path)
    return text.lstrip("\ufeff")


def _reject_binary(text: str, path: str | Path) -> None:
    sample = text[:20000]
    if not sample:
        return
    ctrl = sum(1 for c in sample if (c < " " and c not in "\t\r\n\x0c\x1a") or c == "\x7f")
    if ctrl > max(2, len(sample) // 50):
        raise ReadoutError("this looks like a binary file (control characters), not a text export",
                           file=path)


_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR (old Mac) or LF; a final line end does not make an empty last line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --- separators / cells -------------------------------------------------------------------------------
def sniff_separator(lines: list[str]) -> str:
    """'\\t', ';', ',' or ' ' (runs of whitespace) for the lines of a delimited export."""
    sample = [ln for ln in lines[:400] if ln.strip()]
    if not sample:
        return ","
    n = len(sample)
    count = {sep: sum(1 for ln in sample if sep in ln) for sep in ("\t", ";", ",")}
    if count["\t"] >= 0.3 * n:
        return "\t"
    if count[";"] >= 0.3 * n:
        return ";"
    if count[","] >= 0.2 * n:
        return ","
    spaced = sum(1 for ln in sample if len(ln.split()) >= 3)
    if spaced >= 0.3 * n:
        return " "
    return ","


def split_cells(line: str, sep: str) -> list[str]:
    """One line -> cleaned cells (quotes respected)."""
    if sep == " ":
        return [clean_cell(c) for c in line.split()]
    if '"' not in line:
        return [clean_cell(c) for c in line.split(sep)]
    try:
        cells = next(csv.reader([line], delimiter=sep, skipinitialspace=False))
    except (csv.Error, StopIteration):
        cells = line.split(sep)
    return [clean_cell(c) for c in cells]


def sniff_decimal(rows: list[list[str]], sep: str) -> str:
    """',' if the numbers of a non-comma-separated file use decimal commas, else '.'."""
    if sep == ",":
        return "."
    comma = dot = 0
    for row in rows[:2000]:
        for c in row:
            if _COMMA_DECIMAL.match(c):
                comma += 1
            elif _DOT_DECIMAL.match(c):
                dot += 1
    return "," if comma > dot else "."


@dataclass
class Doc:
    """A readout file as rows of cleaned cells, with what is known about its text."""

    path: str
    rows: list[list[str]]
    lines: list[str] = field(default_factory=list)
    encoding: str = ""
    sep: str = ","
    decimal: str = "."
    ends_with_newline: bool = True
    kind: str = "text"  # text | xlsx | xls
    raw: bytes = b""
    cache: dict = field(default_factory=dict, repr=False)  # parsers memoise work on the document here

    @property
    def text(self) -> str:
        """The decoded text, lines joined with LF."""
        return "\n".join(self.lines)

    def head(self, n: int = 60) -> str:
        """The first n lines as one string (for signature matching)."""
        if self.lines:
            return "\n".join(self.lines[:n])
        return "\n".join("\t".join(r) for r in self.rows[:n])


def text_doc(path: str | Path, data: bytes) -> Doc:
    """Decode a text export into a Doc."""
    text, enc = decode(data, path)
    lines = split_lines(text)
    sep = sniff_separator(lines)
    rows = [split_cells(ln, sep) if ln.strip() else [] for ln in lines]
    ends = text.endswith(("\n", "\r")) or not text
    return Doc(path=str(path), rows=rows, lines=lines, encoding=enc, sep=sep,
               decimal=sniff_decimal(rows, sep), ends_with_newline=ends, kind="text", raw=data)


# --- loading ------------------------------------------------------------------------------------------
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
