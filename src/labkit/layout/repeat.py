"""A layout with more plates: the plates of a layout repeated to make a run of n plates (for scale tests and the
scaling benchmark, and for a scientist who wants the same plate many times)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml


def repeat_plates(data: dict, n: int) -> dict:
    """Layout data with n plates: the layout's plates in turn (the first copies keep their ids, later ones get
    '-2', '-3' … appended). The rest of the layout is unchanged."""
    if n < 1:
        raise ValueError(f"a run has at least 1 plate, not {n}")
    plates = data["plates"]
    out = copy.deepcopy(data)
    new = []
    for i in range(n):
        p = copy.deepcopy(plates[i % len(plates)])
        k = i // len(plates)
        if k:
            p["id"] = f"{p['id']}-{k + 1}"
        new.append(p)
    out["plates"] = new
    out["name"] = f"{data.get('name', 'layout')} ({n} plate{'s' if n != 1 else ''})"
    return out


def write_repeated(layout: str | Path, n: int, out: str | Path) -> Path:
    """Write `layout` with n plates (repeat_plates) to `out`; returns out."""
    data = yaml.safe_load(Path(layout).read_text(encoding="utf-8"))
    out = Path(out)
    out.write_text(yaml.safe_dump(repeat_plates(data, n), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out
