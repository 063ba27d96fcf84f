"""Nozzle geometry: which well lies under each active nozzle of a multichannel pipette.

Every analysed command names one well (the primary nozzle's). Each active nozzle is placed 9 mm apart from the
primary one and mapped to the well of the labware definition under it, so an 8-channel at A1 of a 96-well plate
works A1..H1, at B3 of a 384-well plate B3, D3 … P3, and all 8 channels of a 12-well reservoir trough work the
same well. `configureNozzleLayout` (SINGLE, COLUMN, ROW, QUADRANT, ALL) sets the active nozzles.

A `WellGrid` wraps one labware definition and remembers its answers; the replay keeps one per loaded labware
(no module-level caches).
"""

from __future__ import annotations

from labkit.errors import SimulationError
from labkit.wells import parse_well

NOZZLE_PITCH_MM = 9.0

Nozzle = tuple[int, int]  # (row, column), 0-based


def channel_count(pipette_name: str) -> int:
    """Channels of a pipette from its analysis name (p300_multi_gen2 -> 8, p1000_96 -> 96, …)."""
    n = pipette_name.lower()
    if "96" in n:
        return 96
    if "multi" in n or "8channel" in n:
        return 8
    return 1


def _nozzle(name: str) -> Nozzle:
    r, c = parse_well(name)
    return r, c - 1


def active_nozzles(channels: int, config: dict | None) -> tuple[Nozzle, list[Nozzle]]:
    """(primary nozzle, active nozzles) as (row, column) 0-based, for a configureNozzleLayout configuration."""
    rows, cols = {1: (1, 1), 8: (8, 1), 96: (8, 12)}[channels]
    grid = [(r, c) for r in range(rows) for c in range(cols)]
    style = (config or {}).get("style", "ALL")
    if style == "ALL" or channels == 1:
        return (0, 0), grid
    assert config is not None
    primary = _nozzle(config.get("primaryNozzle", "A1"))
    if style == "SINGLE":
        return primary, [primary]
    if style == "COLUMN":
        return primary, [n for n in grid if n[1] == primary[1]]
    if style == "ROW":
        return primary, [n for n in grid if n[0] == primary[0]]
    if style == "QUADRANT":
        (r0, c0), (r1, c1) = _nozzle(config["backLeftNozzle"]), _nozzle(config["frontRightNozzle"])
        return primary, [n for n in grid if r0 <= n[0] <= r1 and c0 <= n[1] <= c1]
    raise SimulationError(f"unknown nozzle layout style {style!r}")


class WellGrid:
    """The wells of one labware definition, located by labware coordinates (answers are memoised)."""

    def __init__(self, definition: dict):
        self.definition = definition
        self.wells: dict[str, dict] = definition.get("wells", {})
        self._centres = {(round(float(w["x"]), 1), round(float(w["y"]), 1)): n for n, w in self.wells.items()}
        self._maps: dict[tuple, list[str | None]] = {}

    def under(self, x: float, y: float) -> str | None:
        """The well whose footprint contains (x, y), or None."""
        hit = self._centres.get((round(x, 1), round(y, 1)))
        if hit is not None:
            return hit
        for name, w in self.wells.items():
            dx, dy = x - float(w["x"]), y - float(w["y"])
            if w.get("shape") == "circular":
                r = float(w.get("diameter", 0.0)) / 2 + 0.01
                if dx * dx + dy * dy <= r * r:
                    return name
            elif abs(dx) <= float(w.get("xDimension", 0.0)) / 2 + 0.01 and \
                    abs(dy) <= float(w.get("yDimension", 0.0)) / 2 + 0.01:
                return name
        return None

    def reference(self, primary: Nozzle, nozzles: list[Nozzle]) -> tuple[float, float]:
        """(x, y) of the point the engine puts over the well centre, in nozzle-grid mm (x = 9·col, y = -9·row).

        The primary nozzle, except for labware with the `centerMultichannelOnWells` quirk (the engine's critical
        point rule): troughs (1 < wells < 96) centre the active column in y, 1-well reservoirs and large plates
        centre the active nozzles in x and y.
        """
        x, y = NOZZLE_PITCH_MM * primary[1], -NOZZLE_PITCH_MM * primary[0]
        if "centerMultichannelOnWells" in (self.definition.get("parameters", {}).get("quirks") or []):
            n = len(self.wells)
            ys = [-NOZZLE_PITCH_MM * r for r, _ in nozzles]
            xs = [NOZZLE_PITCH_MM * c for _, c in nozzles]
            y = (min(ys) + max(ys)) / 2
            if n == 1 or n >= 96:
                x = (min(xs) + max(xs)) / 2
        return x, y

    def nozzle_wells(self, well: str, primary: Nozzle, nozzles: list[Nozzle]) -> list[str | None]:
        """The well under each active nozzle when the pipette targets `well` (None: over no well)."""
        key = (well, primary, tuple(nozzles))
        hit = self._maps.get(key)
        if hit is None:
            w = self.wells[well]
            x0, y0 = float(w["x"]), float(w["y"])
            xr, yr = self.reference(primary, nozzles)
            hit = self._maps[key] = [self.under(x0 + NOZZLE_PITCH_MM * c - xr, y0 - NOZZLE_PITCH_MM * r - yr)
                                     for r, c in nozzles]
        return hit


def nozzle_wells(definition: dict, well: str, primary: Nozzle, nozzles: list[Nozzle]) -> list[str | None]:
    """The well under each active nozzle when the pipette targets `well` of a labware definition."""
    return WellGrid(definition).nozzle_wells(well, primary, nozzles)
