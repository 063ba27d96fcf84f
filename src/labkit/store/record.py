"""Record one analysis in the run store: the experiment, protocol, readout files, plate QC and every fit.

One transaction per run: either the whole run (with all its readouts, QC rows and fits) lands, or nothing does.
Idempotent: the same readout files analyzed with the same layout, options, protocol and labkit version are
recorded once (`created` is False the second time). Anything else about the same readout files (an edited
layout, --fix-top, a newer labkit) is a re-analysis: a new version of that readout's run, linked to the
previous one; nothing is overwritten.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import os
import re
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labkit.store.db import Store, open_store
from labkit.store.models import Fit, PlateQC, Readout, Run

# results columns kept in typed columns of `fits` (the rest go to fits.extra, under their own names)
FIT_TYPED = {"compound": "compound", "role": "role", "model": "model", "n": "n", "ic50_M": "ic50_m",
             "ic50_ci_low_M": "ic50_ci_low_m", "ic50_ci_high_M": "ic50_ci_high_m", "pic50": "pic50", "hill": "hill",
             "top": "top", "bottom": "bottom", "r2": "r2", "converged": "converged", "z_prime": "z_prime",
             "flags": "flags"}
QC_TYPED = {"plate": "plate", "vehicle_n": "vehicle_n", "vehicle_mean": "vehicle_mean",
            "vehicle_cv_pct": "vehicle_cv_pct", "signal_background": "signal_background", "z_prime": "z_prime",
            "flags": "flags"}
GROUP_COLUMNS = ("target", "cell_line", "group")
META_KEY = re.compile(r"instrument|reader|device|serial|serial number|serial no\.?|date|time|read date|"
                      r"measurement date|protocol|protocol name|software|software version|version|barcode|"
                      r"plate id|plate barcode|operator|user|technician|counter|label", re.I)


@dataclass(frozen=True)
class Recorded:
    """What recording did: the run's id and version, whether it is new, and the run it re-analyses."""

    run_id: int
    version: int
    created: bool
    previous_id: int | None
    store: str

    def message(self) -> str:
        """One line for the terminal."""
        if not self.created:
            return f"already recorded as run {self.run_id} (same readouts, layout and options) in {self.store}"
        again = f", re-analysis of run {self.previous_id}" if self.previous_id else ""
        return f"recorded run {self.run_id} (version {self.version}{again}) in {self.store}"


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN / inf -> None, dates -> ISO text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (bytes, bytearray)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)


def _num(value: Any) -> float | None:
    v = plain(value)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(value: Any) -> int | None:
    f = _num(value)
    return int(f) if f is not None else None


def _bool(value: Any) -> bool | None:
    v = plain(value)
    if v is None:
        return None
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


def readout_meta(path: Path) -> tuple[str | None, dict[str, Any]]:
    """The detected format of a readout file and the instrument metadata its header gives (key: value lines)."""
    meta: dict[str, Any] = {}
    fmt = None
    try:
        from labkit.readout import detect

        fmt, why = detect(path)
        meta["detected_because"] = why
    except Exception as exc:  # noqa: BLE001 - a file labkit analyzed but cannot re-detect keeps its hash only
        meta["detect_error"] = str(exc)[:500]
    if path.suffix.lower() not in (".xlsx", ".xls", ".parquet"):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = [_cells(line) for _i, line in zip(range(80), fh)]
        except OSError:
            lines = []
        for i, cells in enumerate(lines):
            nxt = lines[i + 1] if i + 1 < len(lines) else []
            if len(cells) >= 3 and all(cells) and len(nxt) == len(cells) and not any(re.search(r"\d", c) for c in cells if c):
                pairs = [(k.lower(), v[:200]) for k, v in zip(cells, nxt) if k and v and META_KEY.fullmatch(k)]
            else:
                pairs = _pairs(cells)
            for key, value in pairs:
                meta.setdefault(key, value)
    return fmt, meta


def _cells(line: str) -> list[str]:
    """A header line's cells (CSV, TSV or ';'), unquoted, Excel's ="text" unwrapped, trailing empties dropped."""
    cells = [c.strip().strip('"').lstrip("=").strip('"').strip() for c in re.split(r"[,;\t]", line.rstrip("\r\n"))]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) == 1 and ":" in cells[0]:
        cells = [c.strip() for c in cells[0].split(":", 1)]
    return cells


def _pairs(cells: list[str]) -> list[tuple[str, str]]:
    """Key/value pairs of a header line's cells: key,value[,key,value]."""
    out = []
    for j, cell in enumerate(cells):
        key = cell.rstrip(":").strip()
        if not key or not META_KEY.fullmatch(key):
            continue
        value = next((c for c in cells[j + 1:] if c), "")
        if value and not META_KEY.fullmatch(value.rstrip(":")):
            out.append((key.lower(), value[:200]))
    return out


def protocol_info(path: str | Path) -> dict[str, Any]:
    """Path, SHA-256 and robot ('flex' / 'ot2', from the protocol's robotType) of an Opentrons protocol file."""
    path = Path(path)
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    m = re.search(r"""["']robotType["']\s*:\s*["']([^"']+)["']""", text)
    robot = None
    if m:
        robot = "flex" if "flex" in m.group(1).lower() else "ot2" if "ot" in m.group(1).lower() else m.group(1)
    elif "protocol_api" in text:
        robot = "ot2"  # no robotType: the Python API's default robot
    return {"path": str(path), "sha256": sha256_bytes(data), "robot": robot}


def _extra(row: Mapping[str, Any], typed: Iterable[str]) -> dict[str, Any]:
    skip = set(typed)
    return {str(k): plain(v) for k, v in row.items() if k not in skip}


def _group_col(columns: Sequence[str], group_col: str | None) -> str | None:
    if group_col and group_col in columns:
        return group_col
    return next((c for c in GROUP_COLUMNS if c in columns), None)


def _low_role(columns: Sequence[str], low_role: str | None) -> str:
    if low_role:
        return low_role
    cands = [c[:-2] for c in columns if c.endswith("_n") and c not in ("vehicle_n",)]
    return cands[0] if cands else ""


def _version(name: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - not installed
        return None


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (containers)
        return os.environ.get("USER", "")


def build_run(*, layout: str | Path, readouts: Sequence[str | Path], results, qc, assay: str,
              experiment: str | None = None, group_col: str | None = None, low_role: str | None = None,
              notes: Sequence[str] = (), options: Mapping[str, Any] | None = None,
              protocol: Mapping[str, Any] | None = None, plates=None) -> Run:
    """A Run with its readouts, plate QC and fits, not yet in any session (reads the files to hash them)."""
    from labkit import __version__

    layout = Path(layout)
    layout_bytes = layout.read_bytes()
    try:
        layout_text = layout_bytes.decode("utf-8") if len(layout_bytes) <= 1_000_000 else None
    except UnicodeDecodeError:
        layout_text = None
    read_rows = []
    for i, p in enumerate(readouts):
        p = Path(p)
        data = p.read_bytes()
        fmt, meta = readout_meta(p)
        read_rows.append(Readout(position=i, path=str(p), sha256=sha256_bytes(data), bytes=len(data), format=fmt,
                                 meta=plain(meta)))
    protocol = dict(protocol or {})
    if protocol.get("path") and not protocol.get("sha256") and Path(protocol["path"]).is_file():
        protocol["sha256"] = sha256_bytes(Path(protocol["path"]).read_bytes())
    options = plain(dict(options or {}))
    readout_key = sha256_bytes("\n".join(sorted(r.sha256 for r in read_rows)).encode())
    layout_sha = sha256_bytes(layout_bytes)
    content_key = sha256_bytes(json.dumps(
        {"readouts": readout_key, "layout": layout_sha, "options": options, "labkit": __version__,
         "protocol": protocol.get("sha256"), "robot": protocol.get("robot"),
         "simulation_ok": protocol.get("simulation_ok")}, sort_keys=True).encode())

    rcols = list(getattr(results, "columns", []))
    gcol = _group_col(rcols, group_col)
    fits = []
    for row in results.to_dict("records"):
        kw = {attr: row.get(col) for col, attr in FIT_TYPED.items()}
        fits.append(Fit(compound=str(kw["compound"]), group_name=str(row.get(gcol, "") if gcol else ""),
                        role=str(plain(kw["role"]) or ""), model=str(plain(kw["model"]) or ""), n=_int(kw["n"]),
                        ic50_m=_num(kw["ic50_m"]), ic50_ci_low_m=_num(kw["ic50_ci_low_m"]),
                        ic50_ci_high_m=_num(kw["ic50_ci_high_m"]), pic50=_num(kw["pic50"]), hill=_num(kw["hill"]),
                        top=_num(kw["top"]), bottom=_num(kw["bottom"]), r2=_num(kw["r2"]),
                        converged=_bool(kw["converged"]), z_prime=_num(kw["z_prime"]),
                        flags=str(plain(kw["flags"]) or ""),
                        extra=_extra(row, [*FIT_TYPED, *([gcol] if gcol else [])])))
    qcols = list(getattr(qc, "columns", []))
    qg = _group_col(qcols, group_col)
    low = _low_role(qcols, low_role)
    low_cols = {f"{low}_n": "low_n", f"{low}_mean": "low_mean", f"{low}_cv_pct": "low_cv_pct"} if low else {}
    qc_rows = []
    for row in qc.to_dict("records"):
        qc_rows.append(PlateQC(
            plate=str(row.get("plate", "")), group_name=str(row.get(qg, "") if qg else ""), low_role=low,
            vehicle_n=_int(row.get("vehicle_n")), vehicle_mean=_num(row.get("vehicle_mean")),
            vehicle_cv_pct=_num(row.get("vehicle_cv_pct")), low_n=_int(row.get(f"{low}_n")),
            low_mean=_num(row.get(f"{low}_mean")), low_cv_pct=_num(row.get(f"{low}_cv_pct")),
            signal_background=_num(row.get("signal_background")), z_prime=_num(row.get("z_prime")),
            flags=str(plain(row.get("flags")) or ""),
            extra=_extra(row, [*QC_TYPED, *low_cols, *([qg] if qg else [])])))
    qc_pass = None
    if plates is not None and "qc_pass" in getattr(plates, "columns", []) and len(plates):
        qc_pass = bool(plates["qc_pass"].astype(bool).all())
    elif qc_rows:
        qc_pass = all(q.z_prime is not None and q.z_prime >= 0.5 for q in qc_rows)
    n_plates = len({q.plate for q in qc_rows}) if plates is None else int(len(plates))
    return Run(content_key=content_key, readout_key=readout_key, version=1, created_at=datetime.now(timezone.utc),
               user=_who()[:200], host=socket.gethostname()[:200], assay=str(assay),
               experiment=str(experiment or layout.stem)[:500], layout_path=str(layout), layout_sha256=layout_sha,
               layout_text=layout_text, protocol_path=plain(protocol.get("path")),
               protocol_sha256=protocol.get("sha256"), robot=protocol.get("robot"),
               simulation_ok=_bool(protocol.get("simulation_ok")),
               simulation_summary=plain(protocol.get("simulation_summary")), labkit_version=__version__,
               opentrons_version=_version("opentrons"), options=options, notes=[str(n) for n in notes],
               n_plates=n_plates, n_fits=len(fits), qc_pass=qc_pass, readouts=read_rows, plate_qc=qc_rows, fits=fits)


def write_run(session: Session, run: Run) -> tuple[Run, bool]:
    """Add a built run in the caller's transaction: (the stored run, True) or (the identical one, False)."""
    same = session.scalar(select(Run).where(Run.content_key == run.content_key))
    if same is not None:
        return same, False
    prev = session.scalar(select(Run).where(Run.readout_key == run.readout_key)
                          .order_by(Run.version.desc()).limit(1))
    if prev is not None:
        run.version = prev.version + 1
        run.previous_id = prev.id
    session.add(run)
    session.flush()
    return run, True


def record_run(store: Store, make_run, *, attempts: int = 5) -> Recorded:
    """Write the run make_run() builds in one transaction; retry when a concurrent writer took its version."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            with store.session() as s:
                run, created = write_run(s, make_run())
                out = Recorded(run.id, run.version, created, run.previous_id, store.display)
            return out
        except IntegrityError as exc:  # another process recorded the same readout (version) first: look again
            last = exc
    raise RuntimeError(f"could not record the run after {attempts} attempts: {last}")


def record_analysis(*, layout: str | Path, readouts: Sequence[str | Path], results, qc, assay: str,
                    db: str | os.PathLike | None = None, store: Store | None = None, **kw: Any) -> Recorded:
    """Record one analysis (results and QC tables of any columns) in the run store, in one transaction."""
    own = store is None
    store = store or open_store(db)
    try:
        run = build_run(layout=layout, readouts=readouts, results=results, qc=qc, assay=assay, **kw)
        return record_run(store, lambda: _copy(run))
    finally:
        if own:
            store.close()


def _copy(run: Run) -> Run:
    """A fresh, session-free copy of a built run (a retry must not reuse objects of a rolled-back session)."""
    cols = lambda obj, skip=("id", "run_id"): {c.key: getattr(obj, c.key)  # noqa: E731
                                             for c in obj.__table__.columns if c.key not in skip}
    out = Run(**cols(run, ("id", "previous_id")))
    out.readouts = [Readout(**cols(r)) for r in run.readouts]
    out.plate_qc = [PlateQC(**cols(q)) for q in run.plate_qc]
    out.fits = [Fit(**cols(f)) for f in run.fits]
    return out


def record_result(result, *, layout: str | Path, readouts: Sequence[str | Path], db: str | os.PathLike | None = None,
                  protocol: Mapping[str, Any] | None = None, experiment: str | None = None,
                  store: Store | None = None, options: Mapping[str, Any] | None = None) -> Recorded:
    """Record a labkit.analysis AnalysisResult (results, QC, notes, fix and other options) analyzed from these files."""
    spec = getattr(result, "spec", None)
    return record_analysis(
        layout=layout, readouts=readouts, results=result.results, qc=result.qc, assay=result.assay, db=db,
        store=store, experiment=experiment, group_col=getattr(spec, "group_col", None),
        low_role=getattr(spec, "low_role", None), notes=list(getattr(result, "notes", []) or []),
        options={"fix_top": getattr(result, "fix_top", None), "fix_bottom": getattr(result, "fix_bottom", None),
                 **dict(options or {})},
        protocol=protocol, plates=getattr(result, "plates", None))
