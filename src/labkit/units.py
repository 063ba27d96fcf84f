"""Units: '10 mM' <-> 0.01 M, '50 uL' / '50 µL' <-> 50.0 µL. Internally: molar and microlitres, always.

Parsing and formatting go through Decimal so that format(parse(s)) and parse(format(x)) round-trip exactly.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

CONC_UNITS: dict[str, Decimal] = {
    "M": Decimal(1), "mM": Decimal("1e-3"), "uM": Decimal("1e-6"), "µM": Decimal("1e-6"), "μM": Decimal("1e-6"),
    "nM": Decimal("1e-9"), "pM": Decimal("1e-12"), "fM": Decimal("1e-15"),
}
VOLUME_UNITS: dict[str, Decimal] = {
    "L": Decimal(1e6), "mL": Decimal(1000), "ml": Decimal(1000), "uL": Decimal(1), "µL": Decimal(1),
    "μL": Decimal(1), "ul": Decimal(1), "nL": Decimal("1e-3"), "nl": Decimal("1e-3"),
}
_CONC_ORDER = ["M", "mM", "uM", "nM", "pM", "fM"]
_VOL_ORDER = ["mL", "uL", "nL"]
_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμ]+)?\s*$")


def _checked(x: float, value: object, kind: str, default_unit: str) -> float:
    """Every quantity in a layout is finite and not negative: NaN, inf, 1e400 or -5 uL is a typo, not a plan."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"expected a finite {kind} such as '10 {default_unit}', got {value!r}")
    if x < 0:
        raise ValueError(f"a {kind} cannot be negative, got {value!r}")
    return x


def _parse(value: object, units: dict[str, Decimal], default_unit: str, kind: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a {kind} such as '10 {default_unit}', got {value!r}")
    if isinstance(value, (int, float)):
        try:
            x = float(value)
        except OverflowError:  # an int beyond float range
            x = math.inf
        return _checked(x, value, kind, default_unit)
    if not isinstance(value, str):
        raise ValueError(f"expected a {kind} such as '10 {default_unit}', got {value!r}")
    m = _QTY.match(value)
    if not m:
        raise ValueError(f"expected a {kind} such as '10 {default_unit}', got {value!r}")
    number, unit = m.group(1), m.group(2) or default_unit
    if unit not in units:
        raise ValueError(f"unknown {kind} unit {unit!r} in {value!r}; use one of {', '.join(sorted(set(units)))}")
    try:
        return _checked(float(Decimal(number) * units[unit]), value, kind, default_unit)
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise ValueError(f"not a number: {value!r}") from exc


def _format(x: float, units: dict[str, Decimal], order: list[str]) -> str:
    d = Decimal(repr(float(x)))
    if d == 0:
        return f"0 {order[-1]}"
    for unit in order:
        scaled = d / units[unit]
        if abs(scaled) >= 1:
            break
    text = format(scaled.normalize(), "f")
    return f"{text} {unit}"


def parse_molar(value: object) -> float:
    """'10 mM' -> 0.01 (molar); a bare number is taken as molar; NaN, infinite or negative -> ValueError."""
    return _parse(value, CONC_UNITS, "M", "concentration")


def parse_microlitres(value: object) -> float:
    """'50 uL' -> 50.0 (microlitres); a bare number is taken as µL; NaN, infinite or negative -> ValueError."""
    return _parse(value, VOLUME_UNITS, "uL", "volume")


def format_molar(x: float) -> str:
    """0.01 -> '10 mM' (exact: parse_molar(format_molar(x)) == x)."""
    return _format(x, CONC_UNITS, _CONC_ORDER)


def format_microlitres(x: float) -> str:
    """50.0 -> '50 uL' (exact round trip)."""
    return _format(x, VOLUME_UNITS, _VOL_ORDER)


def si_conc(x: float, digits: int = 3) -> str:
    """Human-friendly concentration for tables and plots: 1.7e-9 -> '1.7 nM'."""
    if x != x:  # NaN
        return "—"
    if x == 0:
        return "0"
    for unit in _CONC_ORDER:
        scale = float(CONC_UNITS[unit])
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g} {unit}"
    return f"{x / float(CONC_UNITS['fM']):.{digits}g} fM"
