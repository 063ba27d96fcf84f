"""PerkinElmer (Packard) TopCount NXT output files, as the instrument writes them for each plate.

Neither layout has a header, a plate id or the instrument's name in it (the instrument names the file
PROTOCOL.NNN, NNN counting the plates / cycles), so they are recognised by shape:

- plate output: a tab-separated counts grid ('    \\t     1     \\t ...' over rows '  A \\t    158515 \\t ...'),
  unread wells blank, then two blank lines and a grid of the times of day each well was counted
  ('13:08:11' or '11:50:00 AM'). A kinetic protocol repeats the (counts, times) pair for every cycle in one
  file: the cycles become reads 'repeat 1', 'repeat 2', ...
- column output: one line per well, 'position ,counts ,time of day' (' 1 ,2067 ,10:15:21 AM '), positions
  counting row-major from A1 (13 = B1 on a 96-well plate); a position not above the one before starts the
  next cycle.

The counts are CPM or CPS depending on the protocol, which the file does not say: the unit is 'counts'.
Every counts grid is followed by its time grid; a file that ends before it was cut short.
"""

from __future__ import annotations

import re

from labkit.errors import ReadoutError
from labkit.readout.grid import Block, check_complete, check_list_complete, check_truncated, find_blocks, is_data
from labkit.readout.long import _position
from labkit.readout.table import Record, TruncatedError
from labkit.readout.text import Doc, parse_value

UNIT = "counts"
TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?$")
PLATE_HEAD = re.compile(r"^ {4}\t *1 *\t *2 *\t *3 *\t")
PLATE_ROW = re.compile(r"^  A \t")
COLUMN_LINE = re.compile(r"^\s*(\d+)\s*,\s*([^,]*?)\s*,\s*(\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)\s*$")


def _is_time_block(block: Block) -> bool:
    texts = [t for _, _, t, _, _ in block.cells if t]
    return bool(texts) and all(TIME_OF_DAY.match(t) for t in texts)


def _first_line(doc: Doc) -> int:
    return next((i for i, row in enumerate(doc.rows) if any(row)), -1)


def kind(doc: Doc) -> str | None:
    """'columns' or 'plates' if the document is a TopCount output file, else None."""
    if doc.kind != "text":
        return None
    if "topcount_kind" not in doc.cache:
        doc.cache["topcount_kind"] = _kind(doc)
    return doc.cache["topcount_kind"]


def _kind(doc: Doc) -> str | None:
    lines = [ln for ln in doc.lines[:20] if ln.strip()][:3] if doc.lines else []
    columns = sum(1 for ln in lines if COLUMN_LINE.match(ln))
    if lines and COLUMN_LINE.match(lines[0]) and columns >= min(2, len(lines)):
        return "columns"
    if len(lines) >= 2 and PLATE_HEAD.match(lines[0]) and PLATE_ROW.match(lines[1]):
        return "plates"  # the instrument's own spacing: '    \t     1     \t...' then '  A \t...'
    blocks = find_blocks(doc)
    if len(blocks) >= 2 and blocks[0].start == _first_line(doc) and is_data(blocks[0], doc.decimal) \
            and _is_time_block(blocks[1]):
        return "plates"
    return None


def sniff(doc: Doc) -> str | None:
    """A reason this is a TopCount output file, or None."""
    found = kind(doc)
    if found == "columns":
        return "lines read 'position, counts, time of day' with no header (TopCount column output)"
    if found == "plates":
        return "a counts grid with no header above it, in TopCount's layout (row labels '  A ' or a grid of " \
               "read times of day after it): TopCount plate output"
    return None


def read_topcount(doc: Doc, partial: bool = False) -> list[Record]:
    """Records of a TopCount plate or column output file; ReadoutError if it is neither."""
    found = kind(doc)
    if found == "columns":
        return read_columns(doc, partial=partial)
    if found == "plates":
        return read_plates(doc, partial=partial)
    raise ReadoutError("not a TopCount plate or column output file", file=doc.path)


def read_plates(doc: Doc, partial: bool = False) -> list[Record]:
    """Counts grids (each followed by its read-time grid) -> records; cycles are reads 'repeat N'.

    A counts grid short of its format's rows is an error unless partial (check_complete).
    """
    blocks = find_blocks(doc)
    pairs: list[Block] = []
    for i, b in enumerate(blocks):
        if _is_time_block(b) or not is_data(b, doc.decimal):
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        if after is None:
            raise TruncatedError("the file ends after a counts grid without its read-time grid; it looks "
                                 "truncated (re-export it from the instrument)", file=doc.path, line=b.end + 1)
        if not _is_time_block(after):
            raise ReadoutError("a counts grid is not followed by its grid of read times (TopCount plate "
                               "output writes one after every counts grid)", file=doc.path, line=b.start + 1)
        rows = {c[0] for c in b.cells}
        timed = {c[0] for c in after.cells}
        if rows - timed and after.end >= len(doc.rows) - 1:
            raise TruncatedError("the file ends inside a read-time grid; it looks truncated (re-export it "
                                 "from the instrument)", file=doc.path, line=after.end + 1)
        pairs.append(b)
    if not pairs:
        raise ReadoutError("no counts grid found", file=doc.path)
    check_truncated(doc, [blocks[-1]], strict=True)
    if not partial:
        check_complete(doc, pairs)
    times = [b for b in blocks if _is_time_block(b)]
    doc.cache.setdefault("unused_reads", []).extend(
        f"times of day the wells were counted (read times, line {b.start + 1})" for b in times)
    records: list[Record] = []
    for k, b in enumerate(pairs, start=1):
        name = f"repeat {k}" if len(pairs) > 1 else ""
        for row, col, text, _sub, line in b.cells:
            value, flag = parse_value(text, doc.decimal)
            if flag is not None:
                records.append(Record("1", row, col, value, UNIT, name, flag, line))
    return records


def read_columns(doc: Doc, partial: bool = False) -> list[Record]:
    """'position ,counts ,time' lines -> records; a position not above the previous starts a new cycle.

    A cycle that stops before its format's last position is an error unless partial (check_list_complete).
    """
    parsed: list[tuple[int, int, str]] = []  # (position, line, value text)
    last = max((i for i, ln in enumerate(doc.lines) if ln.strip()), default=-1)
    for i, ln in enumerate(doc.lines):
        if not ln.strip():
            continue
        m = COLUMN_LINE.match(ln)
        if m is None:
            if i == last:
                raise TruncatedError("the last line is not a whole 'position, counts, time' line; the file looks "
                                     "truncated (re-export it from the instrument)", file=doc.path, line=i + 1)
            raise ReadoutError(f"expected 'position, counts, time of day' (e.g. ' 1 ,2067 ,10:15:21 AM'), got "
                               f"{ln.strip()[:60]!r}", file=doc.path, line=i + 1)
        parsed.append((int(m.group(1)), i + 1, m.group(2)))
    if not parsed:
        raise ReadoutError("no 'position, counts, time' lines found", file=doc.path)
    n_positions = max(p for p, _, _ in parsed)
    cycles: list[list[tuple[int, int, str]]] = [[]]
    for item in parsed:
        if cycles[-1] and item[0] <= cycles[-1][-1][0]:
            cycles.append([])
        cycles[-1].append(item)
    records: list[Record] = []
    for k, cycle in enumerate(cycles, start=1):
        name = f"repeat {k}" if len(cycles) > 1 else ""
        for pos, line, text in cycle:
            where = _position(str(pos), n_positions) if pos >= 1 else None
            if where is None:
                raise ReadoutError(f"position {pos} is not a well position (1 = A1)", file=doc.path, line=line)
            value, flag = parse_value(text, doc.decimal)
            if flag is not None:
                records.append(Record("1", where[0], where[1], value, UNIT, name, flag, line))
    if not partial:
        check_list_complete(doc, records, "position list")
    return records
