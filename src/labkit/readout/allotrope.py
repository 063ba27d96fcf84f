"""Vendor plate-reader exports read by allotropy (Benchling's Allotrope converters), mapped to the table.

allotropy is imported lazily (it takes seconds). Its measurement documents give plate, well, value
and an error document for markers (OVRFLW, MISSED, #Sat); labkit maps those to flags. Where allotropy
cannot read a file (e.g. its EnVision parser raises on an 'OVRFLW' cell, its Magellan parser reads
absorbance only, a ';'-separated export), labkit falls back to its own grid / long-table parsers and
says so in the note returned with the records.
"""

from __future__ import annotations

import gc
import io
import math
import warnings
from pathlib import Path

from labkit.errors import ReadoutError
from labkit.readout.grid import check_truncated, find_blocks, read_grid
from labkit.readout.long import read_long
from labkit.readout.records import Record, TruncatedError, plate_id
from labkit.readout.text import MARKERS, Doc, parse_value
from labkit.wells import WellNameError, parse_well

# labkit format name -> (allotropy Vendor name, file extension allotropy expects, display name)
VENDORS: dict[str, tuple[str, str, str]] = {
    "envision": ("PERKIN_ELMER_ENVISION", "csv", "PerkinElmer EnVision"),
    "mars": ("BMG_MARS", "csv", "BMG LABTECH MARS"),
    "gen5": ("AGILENT_GEN5", "txt", "Agilent/BioTek Gen5"),
    "softmax": ("MOLDEV_SOFTMAX_PRO", "txt", "Molecular Devices SoftMax Pro"),
    "tecan": ("TECAN_MAGELLAN", "xlsx", "Tecan (Magellan)"),
}
# how strictly a file of this format must look complete (see grid.check_truncated)
STRICT = {"envision": (True, True), "gen5": (True, True), "softmax": (True, True), "mars": (True, False),
          "tecan": (True, False)}


class AllotropyFailed(Exception):
    """allotropy could not read the file (any reason); the message says why."""


def mode_unit(doc: Doc, default: str = "RLU") -> str:
    """The unit implied by the detection mode named near the top of a file."""
    head = doc.head(80).lower()
    for word, unit in (("luminescence", "RLU"), ("fluorescence", "RFU"), ("absorbance", "absorbance")):
        if word in head:
            return unit
    return default


def read_vendor(doc: Doc, fmt: str) -> tuple[list[Record], str, bool]:
    """Read a vendor export: allotropy first, labkit's own parsers if it fails.

    Returns (records, note on how it was read, whether labkit's fallback was used).
    """
    strict, tail = STRICT[fmt]
    display = VENDORS[fmt][2]
    try:
        records = via_allotropy(doc, fmt)
        check_truncated(doc, find_blocks(doc), strict=strict, tail=tail)
        return records, f"read by allotropy's {display} parser", False
    except AllotropyFailed as exc:
        why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    unit = "CPS" if fmt == "envision" and mode_unit(doc) == "RLU" else mode_unit(doc)
    errors = []
    for name, parse in (("grid", lambda: read_grid(doc, default_unit=unit, strict=strict, tail=tail)),
                        ("long", lambda: read_long(doc, default_unit=unit, strict=strict))):
        if fmt != "tecan" and name == "long":
            continue
        try:
            records = parse()
        except TruncatedError as err:
            raise TruncatedError(err.message, file=doc.path, line=err.line,
                                 problems=[f"allotropy {display} parser: {why}"]) from None
        except ReadoutError as err:
            errors.append(f"labkit {name} parser: {err.message}" + (f" (line {err.line})" if err.line else ""))
            continue
        return records, (f"allotropy's {display} parser could not read this file ({why}); "
                         f"read with labkit's {name} parser instead"), True
    raise ReadoutError(f"cannot read this {display} export", file=doc.path,
                       problems=[f"allotropy {display} parser: {why}", *errors])


def via_allotropy(doc: Doc, fmt: str) -> list[Record]:
    """Records from allotropy's parser for this format; AllotropyFailed if it cannot."""
    vendor_name, ext, _ = VENDORS[fmt]
    if (ext == "xlsx") != (doc.kind == "xlsx") or doc.kind not in ("text", "xlsx"):
        raise AllotropyFailed(f"it reads .{ext} files only")
    try:
        from allotropy.named_file_contents import NamedFileContents
        from allotropy.parser_factory import Vendor
    except ImportError as exc:  # pragma: no cover - allotropy is a dependency
        raise AllotropyFailed(f"allotropy is not installed ({exc})") from None
    raw = doc.raw if doc.kind == "xlsx" else doc.text.encode("utf-8")
    name = f"{Path(doc.path).stem}.{ext}"
    contents = NamedFileContents(io.BytesIO(raw), name, "utf-8" if doc.kind == "text" else None)
    # Some allotropy parsers call gc.collect() after each helper; with a big heap (pandas, opentrons...)
    # that costs ~0.1 s per call. Freezing the objects that exist before parsing keeps those
    # collections small; everything allotropy allocates is still collected as usual.
    gc.freeze()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = Vendor[vendor_name].get_parser().create_data(contents)
    except Exception as exc:  # allotropy raises many kinds (AllotropeConversionError, ValueError, KeyError...)
        raise AllotropyFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        gc.unfreeze()
    calculated = sorted({str(getattr(c, "name", "")) for c in getattr(data, "calculated_data", None) or []} - {""})
    if calculated:
        doc.cache.setdefault("unused_reads", []).extend(
            f"{name!r} (calculated by the reader software)" for name in calculated)
    return _records(data, fmt)


def _records(data: object, fmt: str) -> list[Record]:
    """allotropy's mapper Data (measurement groups) -> records."""
    items = []
    wide = False  # a 1536-well plate: MARS writes its rows 27..32 as a..f
    for group in getattr(data, "measurement_groups", None) or []:
        wells = getattr(group, "plate_well_count", None)
        wide = wide or (isinstance(wells, (int, float)) and wells > 384)
        for m in group.measurements:
            items.append(m)
            pos = _well(m.location_identifier, None)
            wide = wide or (pos is not None and pos[1] > 24)
    if not items:
        raise AllotropyFailed("it found no measurements")
    keys: dict[str, list[tuple]] = {}
    for m in items:
        keys.setdefault(plate_id(m.well_plate_identifier or "1"), [])
        k = _read_key(m)
        if k not in keys[plate_id(m.well_plate_identifier or "1")]:
            keys[plate_id(m.well_plate_identifier or "1")].append(k)
    # the same well read again with the same settings (EnVision repeats, a label used twice): repeat 1, 2...
    seen: dict[tuple, int] = {}
    repeat: list[int] = []
    for m in items:
        k = (plate_id(m.well_plate_identifier or "1"), _read_key(m), str(m.location_identifier).upper())
        seen[k] = seen.get(k, 0) + 1
        repeat.append(seen[k])
    repeated = {(p, key) for (p, key, _), n in seen.items() if n > 1}
    out: list[Record] = []
    for m, n in zip(items, repeat, strict=True):
        plate = plate_id(m.well_plate_identifier or "1")
        pos = _well(m.location_identifier, 48 if wide else None)
        if pos is None:
            raise AllotropyFailed(f"it returned a well position {m.location_identifier!r}")
        key = _read_key(m)
        read = _read_name(key) if len(keys[plate]) > 1 else ""
        if (plate, key) in repeated:
            read = f"{read} repeat {n}".strip()
        kind = key[0]
        unit = {"luminescence": "CPS" if fmt == "envision" else "RLU", "fluorescence": "RFU",
                "absorbance": "absorbance"}.get(kind, kind)
        raw = next((v for v in (m.luminescence, m.fluorescence, m.absorbance) if v is not None), None)
        # allotropy also hangs errors of calculated values (e.g. Gen5 'Ratio' = '?????') on the raw
        # measurement; only errors about the measurement itself make its flag
        errors = [e.error for e in (m.error_document or []) if getattr(e, "error", None) is not None
                  and _about_measurement(getattr(e, "error_feature", ""))]
        if errors:
            text = str(errors[0]).strip()
            if text.lower() in ("nan", "", "none"):
                continue  # a blank cell: not measured
            value, flag = math.nan, MARKERS.get(text.upper(), "invalid")
        elif raw is None:
            continue
        elif isinstance(raw, str):
            value, parsed = parse_value(raw.strip())
            if parsed is None:
                continue
            flag = parsed
        else:
            value = float(raw)
            if math.isnan(value):
                continue
            flag = "ok" if math.isfinite(value) else "invalid"
        out.append(Record(plate, pos[0], pos[1], value, unit, read, flag, 0))
    if not out:
        raise AllotropyFailed("it found no measured wells")
    return out


def _about_measurement(feature: object) -> bool:
    """True if an allotropy error document's feature is the measurement (not a calculated value)."""
    f = str(feature or "").lower()
    return not f or any(w in f for w in ("luminescence", "fluorescence", "absorbance"))


def _read_key(m: object) -> tuple:
    kind = "luminescence"
    if getattr(m, "absorbance", None) is not None:
        kind = "absorbance"
    elif getattr(m, "fluorescence", None) is not None:
        kind = "fluorescence"
    elif getattr(m, "luminescence", None) is None:
        t = str(getattr(m, "type_", "")).lower()
        kind = next((k for k in ("absorbance", "fluorescence", "luminescence") if k in t), "luminescence")
    return (kind, getattr(m, "detector_wavelength_setting", None), getattr(m, "excitation_wavelength_setting", None))


def _read_name(key: tuple) -> str:
    kind, em, ex = key
    parts = [kind]
    if ex is not None:
        parts.append(f"ex {ex:g} nm")
    if em is not None:
        parts.append(f"{em:g} nm")
    return " ".join(parts)


def _well(text: str | None, n_cols: int | None) -> tuple[int, int] | None:
    try:
        return parse_well(str(text or ""), lowercase_after_z=n_cols == 48)
    except WellNameError:
        return None
