"""Plate-shaped grids anywhere in a file: find them, name them, keep the measurement, drop the metadata.

A grid is a header row of column numbers 1..N (N >= 3) followed by rows labelled A, B, ... (AA..AF or
MARS' a..f for 1536) or, if unlabelled, rows taken in order from A. Several grids may share a file
(raw vs calculated results, a counts grid then a read-time grid, a layout grid before the results,
one grid per plate). Each grid is named by the nearest title line above it and belongs to the plate
named by the last plate marker above it ('Plate: X', 'Barcode,X', 'ID1: X', an EnVision 'Plate
information' table...). Blocks that hold no numbers (layouts, plate maps) are metadata; blocks titled
like read times or temperatures are dropped; calculated blocks (ratios, normalized, blank-corrected,
'Calculated results') are dropped when the file also has raw results.

Whole plates of numbers with no column header (8x12, 16x24, 32x48; with or without row letters) are
read too, one after the other, when a file has no headed grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labkit.errors import ReadoutError
from labkit.readout.records import Record, TruncatedError, fit_format, plate_id, row_of, unit_from
from labkit.readout.text import Doc, is_digits, is_marker, is_number, parse_value
from labkit.tables import PLATE_FORMATS, row_letters

TIME_WORDS = re.compile(r"(count(ing)?|read|measurement|integration|acquisition)\s*time|^\s*time\b|\btime\s*\(|"
                        r"\btime\s*$|\bsec(onds?)?\b|\(s\)|\(min\)|duration|temperature|elapsed|\btemp\b",
                        re.IGNORECASE)
META_WORDS = re.compile(r"layout|plate\s*map|platemap|well\s*id|sample|group|concentration|\bconc\b|"
                        r"dilution|\bnames\b|sample name|well name|\btype\b|standard|content", re.IGNORECASE)
CALC_WORDS = re.compile(r"calc|ratio|normali[sz]|\bnorm|%|blank|\bmean\b|average|\bcv\b|\bsd\b|"
                        r"\bstd\b|delta|difference|\bfit\b|reduced|crosstalk", re.IGNORECASE)
WEAK_CALC = re.compile(r"corrected|\bsum\b|\bcorr\b", re.IGNORECASE)
COUNT_WORDS = re.compile(r"\b(c?cpm|l?cps|dpm|rlu|rfu)\d?\b", re.IGNORECASE)
_PLATE_KEYS = {"plate", "plate id", "plate name", "plate number", "plate no", "plate no.", "plate nr",
               "plate barcode", "barcode", "plate#", "plate #", "assay plate", "platenumber", "plate_id",
               "plateid", "plate label", "id1", "microplate", "plate bc"}
_NOT_PLATE = {"information", "info", "type", "map", "layout", "format", "definition", "repeat", "reader",
              "description", "count", "number", "name", "id", "barcode", "list", "results", "summary",
              "data", "mode", "height", "size", "wells", "dimensions", "well", "position", "pos"}


@dataclass
class Block:
    """One grid: its title, plate, header row (0-based) and cells as (row, col, text, sub, line)."""

    title: str
    plate: str | None
    start: int
    n_cols: int
    cells: list[tuple[int, int, str, str, int]] = field(default_factory=list)
    end: int = 0
    labelled: bool = True
    data: bool | None = None  # memo of is_data()
    rows_seen: int = 0  # rows the grid has, blank labelled rows included (A..D -> 4)


def classify(title: str, sub: str = "") -> str:
    """'raw', 'calc', 'time' or 'meta' for a read titled `title` (sub: a per-row read label)."""
    text = f"{title} {sub}".strip()
    if TIME_WORDS.search(text):
        return "time"
    if META_WORDS.search(text) and not re.search(r"result|raw|data|count|cpm|cps|rlu", text, re.IGNORECASE):
        return "meta"
    name = sub or title
    if CALC_WORDS.search(name):
        return "calc"
    if COUNT_WORDS.search(name):
        return "raw"
    if WEAK_CALC.search(name):
        return "calc"
    return "raw"


def _column_runs(row: list[str]) -> list[tuple[int, int]]:
    """(start index, length) of each run of cells reading 1, 2, 3, ... (length >= 3)."""
    runs = []
    j = 0
    n = len(row)
    while j < n:
        if _int(row[j]) == 1:
            k = 1
            while j + k < n and _int(row[j + k]) == k + 1:
                k += 1
            if k >= 3:
                runs.append((j, k))
                j += k
                continue
        j += 1
    return runs


def _int(text: str) -> int | None:
    if is_digits(text) and len(text) <= 3:
        return int(text)
    if re.fullmatch(r"\d{1,2}\.0", text):
        return int(text[:-2])
    return None


def plate_marker(row: list[str], nxt: list[str] | None) -> str | None:
    """The plate id a metadata row announces, or None."""
    cells = [c for c in row if c]
    if not cells:
        return None
    key = cells[0].lower().rstrip(":").strip().lstrip("#").strip()
    keyed = cells[0].rstrip().endswith(":") or len(cells) <= 3
    if key in _PLATE_KEYS and len(cells) >= 2 and keyed:
        value = cells[1]
        if value.lower() not in _NOT_PLATE and len(value) <= 64 and value.count(" ") <= 3 and \
                not value.endswith(":"):
            return plate_id(value)
    for c in cells[:3]:
        m = re.match(r"^(plate(?: id| name| number| barcode)?|barcode|id1)\s*[:=]\s*(\S.*)$", c, re.IGNORECASE)
        if m and m.group(2).strip().lower() not in _NOT_PLATE and len(m.group(2)) <= 64:
            return plate_id(m.group(2))
    lowered = [c.lower() for c in row]
    if "plate" in lowered and nxt and ("barcode" in lowered or "repeat" in lowered):
        ip = lowered.index("plate")
        bc = lowered.index("barcode") if "barcode" in lowered else -1
        if not any(w in lowered for w in ("well", "pos", "position", "wells")):
            barcode = nxt[bc] if 0 <= bc < len(nxt) else ""
            if barcode:
                return plate_id(barcode)
            if ip < len(nxt) and nxt[ip]:
                return plate_id(nxt[ip])
    return None


_STAMP = re.compile(r"^\s*(temperature|temp\.?|start time|end time|date|time)\s*[:=]\s*\S", re.IGNORECASE)


def _title_above(rows: list[list[str]], r: int, floor: int) -> str:
    """The nearest non-empty row above row r (within 4 rows, not below floor), as a title."""
    for i in range(r - 1, max(floor, r - 5) - 1, -1):
        cells = [c for c in rows[i] if c]
        if cells and _STAMP.match(" ".join(cells[:2])):
            continue  # 'Temperature: 24.6 °C', 'Start Time: ...' sit above grids but do not name them
        if cells:
            if len(cells) > 6:
                return ""
            return " ".join(cells[:3])
    return ""


def find_blocks(doc: Doc) -> list[Block]:
    """Every labelled or numbered grid of the file, in file order (computed once per document)."""
    if "blocks" not in doc.cache:
        doc.cache["blocks"] = _find_blocks(doc)
    return doc.cache["blocks"]


def _find_blocks(doc: Doc) -> list[Block]:
    rows = doc.rows
    blocks: list[Block] = []
    plate: str | None = None
    floor = 0
    i = 0
    n = len(rows)
    while i < n:
        row = rows[i]
        marker = plate_marker(row, rows[i + 1] if i + 1 < n else None) if row else None
        if marker is not None:
            plate = marker
        runs = _column_runs(row) if row else []
        if not runs:
            i += 1
            continue
        made: list[Block] = []
        for start, k in runs:
            b = _read_grid(rows, i, start, k, doc.decimal)
            if b is not None:
                b.title = _title_above(rows, i, floor) if start <= 2 or not made else made[0].title
                b.plate = plate
                made.append(b)
        if made:
            blocks.extend(made)
            end = max(b.end for b in made)
            floor = end + 1
            i = end + 1
        else:
            i += 1
    return blocks


def _read_grid(rows: list[list[str]], r: int, start: int, k: int, decimal: str) -> Block | None:
    """Read the grid whose column header (1..k) sits at rows[r][start:start+k]."""
    label_at = start - 1
    block = Block(title="", plate=None, start=r, n_cols=k)
    last_row = -1
    prev_label_row = -1
    ordinal = 0
    labelled: bool | None = None
    j = r + 1
    n = len(rows)
    sub_count = 0
    while j < n:
        row = rows[j]
        values = row[start:start + k]
        label = row[label_at] if 0 <= label_at < len(row) else ""
        ri = row_of(label, k) if label else None
        if not any(values):
            if ri is not None and labelled is not False and ri > prev_label_row and \
                    len([c for c in row if c]) == 1:
                labelled = True
                prev_label_row = ri  # a labelled row left blank: not measured (partial plate)
                block.rows_seen = max(block.rows_seen, ri + 1)
                last_row = j
                j += 1
                continue
            break
        trailing = row[start + k] if len(row) > start + k else ""
        if labelled is None:
            labelled = ri is not None
        if labelled:
            if ri is not None:
                if ri <= prev_label_row:
                    break
                prev_label_row = ri
                sub_count = 0
                row_idx = ri
            elif not label and prev_label_row >= 0:
                sub_count += 1
                row_idx = prev_label_row
                if not trailing:
                    trailing = f"#{sub_count + 1}"
            else:
                break
        else:
            if label and row_of(label, k) is not None and not is_number(label, decimal):
                break
            row_idx = ordinal
            ordinal += 1
            if ordinal > 32:
                break
        if ri is None and _int(values[0]) == 1 and _column_runs(values):
            break  # the next grid's header
        block.rows_seen = max(block.rows_seen, row_idx + 1)
        for c, text in enumerate(values, start=1):
            if text:
                block.cells.append((row_idx, c, text, trailing if not _looks_value(trailing, decimal) else "",
                                    j + 1))
        last_row = j
        j += 1
    if last_row < 0:
        return None
    block.end = last_row
    block.labelled = bool(labelled)
    return block


def _looks_value(text: str, decimal: str) -> bool:
    return bool(text) and (is_number(text, decimal) or is_marker(text))


def is_data(block: Block, decimal: str) -> bool:
    """True if the block holds measurements (numbers, or flag markers among numbers)."""
    if block.data is None:
        block.data = _is_data(block, decimal)
    return block.data


def _is_data(block: Block, decimal: str) -> bool:
    nums = marks = other = 0
    for _, _, text, _, _ in block.cells:
        if is_number(text, decimal):
            nums += 1
        elif is_marker(text):
            marks += 1
        else:
            other += 1
    return nums >= 1 and (nums + marks) >= 0.5 * (nums + marks + other)


def find_bare_grids(doc: Doc) -> list[Block]:
    """Whole 8x12 / 16x24 / 32x48 plates of numbers with no column header, with or without row letters."""
    shapes = {cols: rows for rows, cols in PLATE_FORMATS.values() if cols >= 12}
    blocks = []
    rows = doc.rows
    i = 0
    n = len(rows)
    while i < n:
        shape = _bare_shape(rows[i], shapes, 0)
        if shape is not None:
            off, ncol = shape
            j = i
            while j < n and _bare_shape(rows[j], shapes, j - i) == shape and \
                    _numeric_row(rows[j][off:off + ncol], doc.decimal):
                j += 1
            height = j - i
            if height == shapes[ncol]:
                b = Block(title=_title_above(rows, i, 0), plate=None, start=i, n_cols=ncol, labelled=off == 1)
                for r in range(height):
                    for c, text in enumerate(rows[i + r][off:off + ncol], start=1):
                        if text:
                            b.cells.append((r, c, text, "", i + r + 1))
                b.end = j - 1
                blocks.append(b)
                i = j
                continue
        i += 1
    return blocks


def _bare_shape(row: list[str], shapes: dict[int, int], index: int) -> tuple[int, int] | None:
    """(offset, width) of a header-less grid row: width 12 / 24 / 48 after an optional row letter
    (which must be the index-th row letter), allowing trailing empty cells."""
    off = 1 if row and row_of(row[0], None if len(row) < 40 else 48) == index else 0
    w = len(row) - off
    while w > 0 and w not in shapes and row[off + w - 1] == "":
        w -= 1
    return (off, w) if w in shapes else None


def _numeric_row(vals: list[str], decimal: str) -> bool:
    good = sum(1 for c in vals if not c or is_number(c, decimal) or is_marker(c))
    return good == len(vals) and any(is_number(c, decimal) for c in vals)


Read = tuple[Block, str, str]  # (block, per-row read label or '', kind)


def reads_of(blocks: list[Block]) -> list[Read]:
    """Each (block, per-row label) pair of the blocks, classified raw / calc / time / meta."""
    out: list[Read] = []
    for b in blocks:
        subs: list[str] = []
        for *_, s, _ in b.cells:
            if s not in subs:
                subs.append(s)
        for s in subs or [""]:
            out.append((b, s, classify(b.title, s)))
    return out


def select(blocks: list[Block], decimal: str) -> list[Read]:
    """The measurement reads: data blocks that are raw (or calculated when nothing raw exists)."""
    data = [b for b in blocks if is_data(b, decimal)]
    reads = reads_of(data)
    raw = [r for r in reads if r[2] == "raw"]
    return raw or [r for r in reads if r[2] == "calc"]


def read_name(block: Block, sub: str = "") -> str:
    """A short read name: the per-row label, else the block title without boilerplate."""
    if sub:
        return sub
    t = block.title
    t = re.sub(r"^(results?\s*(for)?|raw\s*data)\s*[:\-]?\s*", "", t, flags=re.IGNORECASE).strip()
    return t or block.title


def to_records(doc: Doc, reads: list[Read], *, default_unit: str, prefer: list[str] | None = None) -> list[Record]:
    """Measurement reads -> records; read names only where a plate has several reads."""
    per_plate: dict[str, list[Read]] = {}
    for read in reads:
        per_plate.setdefault(read[0].plate or "1", []).append(read)
    if prefer:
        kept = {p: _prefer(items, prefer) for p, items in per_plate.items()}
        note_unused(doc, [(b, s, "raw") for p, items in per_plate.items() for b, s, _ in items
                          if not any(b is k[0] and s == k[1] for k in kept[p])])
        per_plate = kept
    records: list[Record] = []
    for plate, items in per_plate.items():
        several = len(items) > 1
        used: dict[str, int] = {}
        for b, sub, _ in items:
            base = read_name(b, sub)
            name = ""
            if several:
                used[base] = used.get(base, 0) + 1
                name = base if used[base] == 1 else f"{base} ({used[base]})"
            unit = unit_from(sub, "") or unit_from(b.title, default_unit)
            for row, col, text, s, line in b.cells:
                if s != sub:
                    continue
                value, flag = parse_value(text, doc.decimal)
                if flag is None:
                    continue
                records.append(Record(plate, row, col, value, unit, name, flag, line))
    return records


def _prefer(items: list[Read], prefer: list[str]) -> list[Read]:
    """Keep only the reads matching the first preferred pattern that matches any (e.g. CCPM before CPM)."""
    for pattern in prefer:
        hit = [r for r in items if re.search(pattern, r[1] or r[0].title, re.IGNORECASE)]
        if hit:
            return hit
    return items


def read_grid(doc: Doc, *, default_unit: str = "", prefer: list[str] | None = None,
              strict: bool = False, tail: bool = False, complete: bool = False,
              blank: bool = False) -> list[Record]:
    """All measurement grids of a document -> records; ReadoutError if none.

    complete (instrument exports, which always write every row of the plate format): a grid short of its
    format's rows is an error (check_complete). blank: a plate whose measurement grid is entirely blank keeps
    its wells as 'missing' rows instead of vanishing.
    """
    blocks = find_blocks(doc)
    chosen = select(blocks, doc.decimal)
    if not chosen:
        chosen = [(b, "", "raw") for b in find_bare_grids(doc) if is_data(b, doc.decimal)]
    if not chosen:
        if blocks:
            raise ReadoutError("found plate grids but none holds measurements (only layouts, names or "
                               "times)", file=doc.path, line=blocks[0].start + 1)
        raise ReadoutError("no plate grid found (a header row 1, 2, 3... with rows A, B, C... below)",
                           file=doc.path)
    check_truncated(doc, [r[0] for r in chosen], strict=strict, tail=tail)
    if complete:
        check_complete(doc, [r[0] for r in chosen])
    taken = {(id(r[0]), r[1]) for r in chosen}
    note_unused(doc, [r for r in reads_of([b for b in blocks if is_data(b, doc.decimal)])
                      if (id(r[0]), r[1]) not in taken])
    records = to_records(doc, chosen, default_unit=default_unit, prefer=prefer)
    if blank:
        records += blank_plates(blocks, records, default_unit)
    return records


class PartialPlateError(ReadoutError):
    """An instrument grid with fewer rows than its plate format (cut short, or read in part)."""


def check_complete(doc: Doc, blocks: list[Block]) -> None:
    """PartialPlateError if a grid has fewer rows than its plate format (96: A-H, 384: A-P, 1536: A-AF).

    The instrument writes every row of the format (rows it did not read are labelled and left blank), so a
    grid that stops early was cut short. `read(..., partial=True)` / `--partial` accepts it.
    """
    formats = {cols: (rows, fmt) for fmt, (rows, cols) in PLATE_FORMATS.items()}
    problems = []
    for b in blocks:
        rows, fmt = formats.get(b.n_cols, (0, 0))
        if rows and b.rows_seen < rows:
            last = row_letters(b.rows_seen)[-1] if b.rows_seen else "?"
            problems.append(f"plate {b.plate or '1'}, grid {b.title or '(untitled)'!r} (line {b.start + 1}): rows "
                            f"A-{last} only, a {fmt}-well plate has {rows}")
    if problems:
        raise PartialPlateError("a plate grid is short of its format's rows: the export looks cut short; "
                                "re-export it, or pass --partial if the plate was read only in part",
                                file=doc.path, line=blocks[0].start + 1 if len(problems) == 1 else None,
                                problems=problems)


def check_list_complete(doc: Doc, records: list, what: str = "list") -> None:
    """PartialPlateError if a counter's well list (MicroBeta / TopCount list or column output) stops short.

    Per plate and read, with the format the wells imply (at least 96): the list must reach the format's last
    row, and its last row must have every column the other rows have (a counting area of columns 1-6 ends at
    H6 and is complete; a list that stops at D5, or at H7 of a full plate, was cut short). A truncated export
    that ends cleanly at a line break is otherwise indistinguishable from a whole one; `--partial` accepts a
    plate that was counted in part.
    """
    groups: dict[tuple[str, str], list] = {}
    for r in records:
        groups.setdefault((r.plate, r.read), []).append(r)
    problems = []
    last_line = None
    for (plate, read), recs in groups.items():
        fmt = max(fit_format(max(r.row for r in recs), max(r.column for r in recs)) or 1536, 96)
        n_rows, n_cols = PLATE_FORMATS[fmt]
        last_row = max(r.row for r in recs)
        in_last = {r.column for r in recs if r.row == last_row}
        every = {r.column for r in recs}
        if last_row == n_rows - 1 and in_last >= every:
            continue
        end = max(recs, key=lambda r: r.line)
        where = f"{row_letters(end.row + 1)[-1]}{end.column}"
        goal = f"row {row_letters(n_rows)[-1]}" if last_row < n_rows - 1 else \
            f"{row_letters(n_rows)[-1]}{max(every)}"
        problems.append(f"plate {plate}{f' ({read})' if read else ''}: {len(recs)} wells, the {what} stops at "
                        f"{where} (line {end.line}); a {fmt}-well plate's {what} runs to {goal}")
        last_line = end.line
    if problems:
        raise PartialPlateError(f"a plate's well {what} stops short of its format's last well: the export looks "
                                "cut short; re-export it, or pass --partial if the plate was counted only in part",
                                file=doc.path, line=last_line if len(problems) == 1 else None, problems=problems)


def blank_plates(blocks: list[Block], records: list[Record], default_unit: str) -> list[Record]:
    """'missing' records for every well of a plate whose raw grid is entirely blank (it was not read)."""
    have = {r.plate for r in records}
    out: list[Record] = []
    for b in blocks:
        plate = b.plate or "1"
        if plate in have or b.cells or not b.rows_seen or classify(b.title) != "raw":
            continue
        have.add(plate)
        unit = unit_from(b.title, default_unit)
        out += [Record(plate, r, c, float("nan"), unit, "", "missing", b.start + 2 + r)
                for r in range(b.rows_seen) for c in range(1, b.n_cols + 1)]
    return out


_KIND_WORDS = {"calc": "calculated", "time": "read times", "meta": "not a measurement", "raw": "raw, not preferred"}


def note_unused(doc: Doc, reads: list[Read]) -> None:
    """Remember the grids that were found but not taken as measurements (labkit import lists them)."""
    notes = doc.cache.setdefault("unused_reads", [])
    for b, sub, kind in reads:
        text = f"{read_name(b, sub)!r} ({_KIND_WORDS.get(kind, kind)}, line {b.start + 1})"
        if text not in notes:
            notes.append(text)


def check_truncated(doc: Doc, blocks: list[Block], *, strict: bool = False, tail: bool = False) -> None:
    """ReadoutError if the file stops in the middle of a grid.

    A text file that does not end with a line break and whose last line is a grid row is cut short if
    that row has fewer cells than the grid header, or (strict: instrument formats, which always end
    their exports with a line break) whenever its last line is a grid row. With tail (formats that
    always write something after each grid: EnVision, Gen5, SoftMax Pro), a grid that runs to the very
    end of the file is cut short unless it has every row of its plate format.
    """
    if doc.kind != "text" or not doc.rows:
        return
    last = len(doc.rows) - 1
    for b in blocks:
        if b.end != last:
            continue
        header = doc.rows[b.start]
        width = max((s + k for s, k in _column_runs(header) if k == b.n_cols), default=b.n_cols)
        if not doc.ends_with_newline and (strict or len(doc.rows[last]) < width):
            raise TruncatedError("the file ends in the middle of a plate grid; it looks truncated "
                               "(re-export it from the instrument)", file=doc.path, line=last + 1)
        if tail:
            n_rows = {cols: rows for rows, cols in PLATE_FORMATS.values()}.get(b.n_cols)
            have = max((c[0] for c in b.cells), default=-1) + 1
            if n_rows is None or have < n_rows:
                raise TruncatedError(f"the file ends inside a plate grid after {have} row(s); it looks "
                                   "truncated (re-export it from the instrument)", file=doc.path,
                                   line=last + 1)
