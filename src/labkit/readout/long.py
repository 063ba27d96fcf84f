"""Long tables: one row per well, a well column (or row + column columns) and value column(s).

The header row is the first row naming a well column ('Well', 'Well Position(s)', 'Position', 'Pos',
'Well ID'...) or both 'Row' and 'Column'. The value column is never guessed: it is the column given
(`--value`), else the one numeric column with the best-ranked preferred name (counters: CCPM before CPM;
then CPS, RLU, RFU, 'Value', 'Signal', ...), else the one numeric column that is not a well / plate /
time / index column; two equally good candidates (e.g. 'scan_id' and 'intensity') are an error that
lists them. The columns used are noted (doc.cache['long_columns']) and printed by `labkit import`.
A plate column ('Plate', 'Barcode', 'Plate ID'...) gives the plate per row, else the last plate marker
above the table. A numeric position
(1..N, no letters) counts row-major: 1 = A1, 2 = A2, ..., 13 = B1 on a 96-well plate.
Several tables (one per plate section) may follow each other; each ends at a blank row.
"""

from __future__ import annotations

import re

from labkit.errors import ReadoutError
from labkit.readout.grid import plate_marker
from labkit.readout.table import Record, TruncatedError, plate_id, row_of, unit_from
from labkit.readout.text import Doc, is_digits, is_marker, is_number, parse_value
from labkit.tables import FLAGS
from labkit.wells import PLATE_FORMATS, WellNameError, index_to_well, parse_well

WELL_COLS = ("well", "wells", "well id", "wellid", "well position", "well positions", "wellposition",
             "well name", "well_name", "well no", "well#", "position", "pos", "pos.", "location", "well pos")
ROW_COLS = ("row", "well row")
COL_COLS = ("column", "col", "col.", "well column")
PLATE_COLS = ("plate", "plate id", "plateid", "plate_id", "plate no", "plate no.", "plate number",
              "platenumber", "plate barcode", "plate_barcode", "barcode", "plate name", "assay plate", "plate#",
              "plate #")
SKIP_WORDS = re.compile(r"time|date|temp|index|^#$|^no\.?$|sample|name|type|group|det|detector|label|"
                        r"repeat|flag|comment|status|\bid\b|conc|dilution|content|^rep|cycle", re.IGNORECASE)
VALUE_PREFS = (r"^ccpm\d?$", r"^cpm\d?$", r"^lcps\d?$", r"^cps\d?$", r"^rlu$", r"^rfu$", r"^dpm\d?$",
               r"^counts?$", r"^(lum|luminescence)", r"^(value|values|signal|raw|raw data|result|measurement)$",
               r"^(od|abs|absorbance|a\d{3})", r"^(fluorescence|fi)\b")


_SUMMARY = re.compile(r"^(mean|average|avg|sd|stdev|std|cv|cv%|%cv|total|sum|min|max|median|count|n)\b",
                      re.IGNORECASE)


def _norm(h: str) -> str:
    return re.sub(r"\s+", " ", h.strip().lower()).rstrip(":")


def find_header(rows: list[list[str]], start: int = 0) -> int | None:
    """Index of the next long-table header row at or after start."""
    for i in range(start, len(rows)):
        names = [_norm(c) for c in rows[i]]
        if not names:
            continue
        if any(n in WELL_COLS for n in names) or (any(n in ROW_COLS for n in names)
                                                   and any(n in COL_COLS for n in names)):
            if i + 1 < len(rows) and rows[i + 1]:
                return i
    return None


def _value_column(header: list[str], body: list[list[str]], used: set[int], decimal: str,
                  prefs: tuple[str, ...], chosen: str | None = None, *, path: str = "",
                  line: int = 0) -> tuple[int | None, list[int]]:
    """(the value column, the other numeric columns that were candidates); never a silent guess.

    With `chosen` (--value), that column. Else a column with a preferred name (CCPM before CPM, RLU,
    Signal...), if exactly one has the best-ranked name; else the one numeric column that is not a well /
    plate / time / index column. Two or more equally good candidates -> ReadoutError listing them.
    """
    names = [_norm(h) for h in header]
    numeric = [j for j in range(len(names)) if j not in used and _numericish(body, j, decimal)]
    if chosen is not None:
        want = _norm(chosen)
        hits = [j for j, n in enumerate(names) if n == want]
        if not hits:
            raise ReadoutError(f"no column {chosen!r} in the table (--value); its columns are "
                               f"{', '.join(repr(h) for h in header if h)}", file=path, line=line, field="value")
        j = hits[0]
        if j not in numeric:
            raise ReadoutError(f"column {header[j]!r} (--value) holds no numbers; numeric columns: "
                               f"{', '.join(repr(header[k]) for k in numeric) or 'none'}", file=path, line=line,
                               field="value")
        return j, [k for k in numeric if k != j]
    for pattern in prefs:
        hits = [j for j in numeric if re.search(pattern, names[j])]
        if len(hits) == 1:
            return hits[0], [k for k in numeric if k != hits[0]]
        if len(hits) > 1:
            _ambiguous(header, hits, path, line)
    plain = [j for j in numeric if not SKIP_WORDS.search(names[j]) and names[j] not in PLATE_COLS]
    if len(plain) > 1:
        _ambiguous(header, plain, path, line)
    if not plain:
        return None, numeric
    return plain[0], [k for k in numeric if k != plain[0]]


def _shell(name: str) -> str:
    """A column name as it would be typed on a command line."""
    return name if re.fullmatch(r"[\w.%()-]+", name) else '"' + name.replace('"', '\\"') + '"'


def _ambiguous(header: list[str], cols: list[int], path: str, line: int) -> None:
    listed = ", ".join(repr(header[j]) for j in cols)
    raise ReadoutError(f"more than one column could be the value: {listed}; labkit does not guess - "
                       f"choose one with --value COLUMN (e.g. --value {_shell(header[cols[-1]])})",
                       file=path, line=line, field="value",
                       problems=[f"candidate value column {header[j]!r}" for j in cols])


def _numericish(body: list[list[str]], j: int, decimal: str) -> bool:
    cells = [r[j] for r in body if j < len(r) and r[j]]
    if not cells:
        return False
    nums = sum(1 for c in cells if is_number(c, decimal))
    marks = sum(1 for c in cells if is_marker(c))
    return nums >= 1 and nums + marks >= 0.8 * len(cells)


def _position(text: str, n_positions: int) -> tuple[int, int] | None:
    """'A01' / 'B7' / 'AA12' -> (row index, column); a bare number counts row-major."""
    name = text.replace(" ", "").replace("-", "").replace("_", "")
    if is_digits(text):
        if int(text) < 1:
            return None
        fmt = min((f for f in PLATE_FORMATS if f >= max(n_positions, 96)), default=1536)
        try:
            return parse_well(index_to_well(int(text) - 1, fmt))
        except WellNameError:
            return None
    try:
        return parse_well(name)
    except WellNameError:
        return None


def read_long(doc: Doc, *, default_unit: str = "", prefs: tuple[str, ...] = VALUE_PREFS,
              strict: bool = False) -> list[Record]:
    """All long tables of a document -> records; ReadoutError if none or a well name is bad."""
    rows = doc.rows
    records: list[Record] = []
    plate_ctx: str | None = None
    i = 0
    found = False
    last_table: tuple[int, int] | None = None
    while True:
        h = find_header(rows, i)
        if h is None:
            break
        for k in range(i, h):
            m = plate_marker(rows[k], rows[k + 1] if k + 1 < len(rows) else None)
            if m is not None:
                plate_ctx = m
        j = h + 1
        while j < len(rows) and any(rows[j]):
            j += 1
        if _read_table(doc, rows[h], rows[h + 1:j], h + 1, plate_ctx, default_unit, prefs, records):
            found = True
            last_table = (h, j)
        i = j
    if not found:
        ignored = list(dict.fromkeys(doc.cache.get("ignored_numeric", [])))
        if ignored:
            raise ReadoutError(f"no value column: the numeric column(s) {', '.join(map(repr, ignored))} look like "
                               "times, indices or ids; if one of them holds the measurements, choose it with "
                               "--value COLUMN", file=doc.path, field="value")
        raise ReadoutError("no table with a well column and a value column found", file=doc.path)
    if last_table and doc.kind == "text" and not doc.ends_with_newline and last_table[1] == len(rows):
        h, _ = last_table
        if strict or len(rows[-1]) < len(rows[h]):
            raise TruncatedError("the file ends in the middle of a table row; it looks truncated "
                               "(re-export it from the instrument)", file=doc.path, line=len(rows))
    return records


def _columns_note(header: list[str], plate_js: list[int], well_j: int | None, row_j: int | None,
                  col_j: int | None, value_j: int, others: list[int], plate_ctx: str | None) -> str:
    """'plate from 'Plate', well from 'Well', value from 'Signal' (not used: 'Time')'."""
    if plate_js:
        plate = "plate from " + " + ".join(repr(header[j]) for j in plate_js)
    elif plate_ctx:
        plate = f"plate {plate_ctx!r} (from the line above the table)"
    else:
        plate = "plate '1' (no plate column)"
    well = repr(header[well_j]) if well_j is not None else f"{header[row_j or 0]!r} + {header[col_j or 0]!r}"
    text = f"{plate}, well from {well}, value from {header[value_j]!r}"
    if others:
        text += f" (other numeric columns, not used: {', '.join(repr(header[j]) for j in others)})"
    return text


def _read_table(doc: Doc, header: list[str], body: list[list[str]], header_line: int,
                plate_ctx: str | None, default_unit: str, prefs: tuple[str, ...], out: list[Record]) -> bool:
    names = [_norm(c) for c in header]
    well_j = next((j for j, n in enumerate(names) if n in WELL_COLS), None)
    row_j = next((j for j, n in enumerate(names) if n in ROW_COLS), None)
    col_j = next((j for j, n in enumerate(names) if n in COL_COLS), None)
    plate_js = [j for j, n in enumerate(names) if n in PLATE_COLS]
    used = {j for j in (well_j, row_j, col_j) if j is not None} | set(plate_js)
    value_j, others = _value_column(header, body, used, doc.decimal, prefs, doc.cache.get("value_column"),
                                    path=doc.path, line=header_line)
    if value_j is None:
        doc.cache.setdefault("ignored_numeric", []).extend(header[j] for j in others)
        return False
    doc.cache.setdefault("long_columns", []).append(_columns_note(header, plate_js, well_j, row_j, col_j,
                                                                  value_j, others, plate_ctx))
    # a 'flag' column with labkit's flags (e.g. labkit's own import output read back) is kept, not dropped
    flag_j = next((j for j, n in enumerate(names) if n == "flag"), None)
    if flag_j is not None and not all((r[flag_j] if flag_j < len(r) else "") in FLAGS for r in body if any(r)):
        flag_j = None
    barcode_j = next((j for j in plate_js if "barcode" in names[j]), None)
    plate_j = next((j for j in plate_js if j != barcode_j), None)
    unit = unit_from(header[value_j], default_unit)
    n_positions = len(body)
    if well_j is not None:
        nums = [r[well_j] for r in body if well_j < len(r) and is_digits(r[well_j])]
        if nums:
            n_positions = max(int(x) for x in nums)
    skipped: list[str] = []
    for k, row in enumerate(body):
        line = header_line + 1 + k
        if well_j is not None:
            text = row[well_j] if well_j < len(row) else ""
            pos = _position(text, n_positions) if text else None
            if pos is None:
                if not text or _SUMMARY.match(text) or not any(row[j] for j in range(len(row)) if j != well_j):
                    if text and any(row[j] for j in range(len(row)) if j != well_j):
                        skipped.append(f"{text!r} (line {line})")
                    continue  # blank, a summary row (Mean, SD...) or a lone note
                raise ReadoutError(f"{text!r} in column {header[well_j]!r} is not a well (expected e.g. "
                                   "A1, B07 or a position number)", file=doc.path, line=line)
        else:
            rt = row[row_j] if row_j is not None and row_j < len(row) else ""
            ct = row[col_j] if col_j is not None and col_j < len(row) else ""
            r = row_of(rt) if rt else None
            if r is None and is_digits(rt):
                r = int(rt) - 1
            if r is None or not is_digits(ct):
                raise ReadoutError(f"row {rt!r} / column {ct!r} do not name a well", file=doc.path, line=line)
            pos = (r, int(ct))
        text = row[value_j] if value_j < len(row) else ""
        value, flag = parse_value(text, doc.decimal)
        if flag_j is not None and flag_j < len(row) and row[flag_j] != "ok":
            value, flag = float("nan"), row[flag_j]
        if flag is None:
            continue
        plate = plate_ctx or "1"
        if barcode_j is not None and barcode_j < len(row) and row[barcode_j]:
            plate = plate_id(row[barcode_j])
        elif plate_j is not None and plate_j < len(row) and row[plate_j]:
            plate = plate_id(row[plate_j])
        out.append(Record(plate, pos[0], pos[1], value, unit, "", flag, line))
    if skipped:
        doc.cache.setdefault("unused_reads", []).append(
            f"summary rows of the table, not wells: {', '.join(skipped[:6])}{' ...' if len(skipped) > 6 else ''}")
    return True
