"""Which format a readout file is in, and why: cheap signatures on the first lines, no allotropy import."""

from __future__ import annotations

import re
from pathlib import Path

from labkit.errors import ReadoutError
from labkit.readout import microbeta
from labkit.readout.grid import find_bare_grids, find_blocks, is_data, select
from labkit.readout.long import find_header
from labkit.readout.load import load_doc
from labkit.readout.text import Doc

# name -> one-line description (also the order auto-detection tries them in)
FORMATS: dict[str, str] = {
    "softmax": "Molecular Devices SoftMax Pro text export (##BLOCKS=, often UTF-16)",
    "envision": "PerkinElmer EnVision CSV export (Plate information / Results blocks)",
    "gen5": "Agilent/BioTek Gen5 text export (Software Version, Plate Number, Results grid)",
    "mars": "BMG LABTECH MARS CSV export (CLARIOstar / PHERAstar: User:, Test name:, Raw Data)",
    "tecan": "Tecan Magellan / Spark (i-control) export, Excel or text",
    "microbeta": "PerkinElmer MicroBeta / MicroBeta2 / TopCount counter export (grid or list; TopCount "
                 "plate / column output)",
    "grid": "generic plate grids (8x12, 16x24, 32x48; labelled or bare; CSV, TSV, XLSX)",
    "long": "generic long table (a well column and a value column)",
}


def _first_lines(doc: Doc, n: int = 60) -> list[str]:
    if doc.lines:
        return doc.lines[:n]
    return ["\t".join(r) for r in doc.rows[:n]]


def sniff(doc: Doc) -> tuple[str, str] | None:
    """(format, reason) from signatures, or None if nothing matches."""
    lines = _first_lines(doc)
    first = next(((i, ln) for i, ln in enumerate(lines) if ln.strip()), (0, ""))
    if re.match(r"^\s*##BLOCKS=\s*\d+", first[1]):
        return "softmax", f"line {first[0] + 1} starts with '##BLOCKS=' (SoftMax Pro export)"
    for i, ln in enumerate(lines[:25]):
        if ln.startswith("Plate information"):
            return "envision", f"line {i + 1} starts with 'Plate information' (EnVision export)"
    head = "\n".join(lines)
    if re.search(r"^\s*Software Version\b", head, re.MULTILINE) and re.search(
            r"^(Plate Number|Reader Type:|Procedure Details|Reading Type)", head, re.MULTILINE):
        return "gen5", "has 'Software Version' and 'Plate Number' / 'Procedure Details' lines (Gen5 export)"
    if re.search(r"^\s*\W?(User|Test name|Test ID|ID1)\s*:", head, re.MULTILINE | re.IGNORECASE) and \
            re.search(r"^\W?\s*Raw Data", "\n".join(_first_lines(doc, 400)), re.MULTILINE):
        return "mars", "has 'User:' / 'Test name:' header lines and a 'Raw Data' block (BMG MARS export)"
    m = re.search(r"tecan|i-control|magellan|\bspark\b|infinite\s*(m|f|200)|Well positions|"
                  r"Date of measurement", head, re.IGNORECASE)
    if m:
        return "tecan", f"mentions {m.group(0)!r} near the top (Tecan export)"
    reason = microbeta.sniff(doc)
    if reason:
        return "microbeta", reason
    return None


def generic(doc: Doc) -> tuple[str, str] | None:
    """('grid' | 'long', reason) for files with no vendor signature."""
    blocks = find_blocks(doc)
    chosen = select(blocks, doc.decimal)
    if chosen:
        b = chosen[0][0]
        rows = sorted({c[0] for c in b.cells})
        return "grid", (f"found {len({id(r[0]) for r in chosen})} plate grid(s), the first at line "
                        f"{b.start + 1} with columns 1..{b.n_cols} and {len(rows)} row(s)")
    bare = [b for b in find_bare_grids(doc) if is_data(b, doc.decimal)]
    if bare:
        return "grid", f"found {len(bare)} bare {bare[0].n_cols}-column grid(s) of numbers, the first at line " \
                       f"{bare[0].start + 1}"
    h = find_header(doc.rows)
    if h is not None:
        return "long", f"line {h + 1} is a table header with a well column"
    return None


def detect_doc(doc: Doc) -> tuple[str, str]:
    """(format, reason) for a loaded document; ReadoutError naming the formats tried if none fits."""
    found = sniff(doc) or generic(doc)
    if found is None:
        raise ReadoutError("not a readout format labkit recognises: no vendor signature, no plate grid "
                           "(header 1, 2, 3... with rows A, B, C...) and no table with a well column",
                           file=doc.path, problems=[f"tried {name}: {desc}" for name, desc in FORMATS.items()])
    return found


def load(path: str | Path) -> Doc:
    """load_doc(), with the formats labkit reads listed on its errors (empty, binary, .xls...)."""
    try:
        return load_doc(path)
    except ReadoutError as err:
        raise ReadoutError(err.message, file=err.file or path, line=err.line, field=err.field,
                           problems=[*err.problems, f"no format can read it; labkit reads: {', '.join(FORMATS)}"]
                           ) from None


def detect(path: str | Path) -> tuple[str, str]:
    """(format name, reason) for a readout file."""
    return detect_doc(load(path))
