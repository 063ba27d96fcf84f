"""The analyzed Opentrons commands the ledger understands, parsed from the analysis JSON into typed records.

`parse(raw)` turns one command dict into one of the records below (None for a command that did not succeed or
that the ledger does not need); the replay has one handler per record type. Only the fields the ledger uses are
kept. Several command types share a record where the engine's distinction does not matter to liquid
accounting (e.g. `aspirate` and `aspirateWhileTracking`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WellTarget:
    """A pipette position over one well of a labware (wellLocation: origin and offset, as the engine gives)."""

    labware_id: str
    well: str
    location: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AreaTarget:
    """A pipette position at an addressable area (trash, waste chute, …)."""

    name: str


Target = WellTarget | AreaTarget | None


def _target(p: dict) -> Target:
    if "labwareId" in p and "wellName" in p:
        return WellTarget(p["labwareId"], p["wellName"], p.get("wellLocation") or {})
    if "addressableAreaName" in p:
        return AreaTarget(p["addressableAreaName"])
    return None


@dataclass(frozen=True)
class LoadLabware:
    labware_id: str
    load_name: str
    location: dict | str
    display_name: str
    definition: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class LoadModule:
    module_id: str
    location: dict | str


@dataclass(frozen=True)
class LoadPipette:
    pipette_id: str
    pipette_name: str
    mount: str


@dataclass(frozen=True)
class MoveLabware:
    """A labware moved (gripper or by hand) to a slot, a module, an adapter or off the deck."""

    labware_id: str
    location: dict | str


@dataclass(frozen=True)
class LoadLiquid:
    liquid_id: str
    labware_id: str
    volume_by_well: dict[str, float]


@dataclass(frozen=True)
class PipetteCommand:
    """A command of one pipette."""

    pipette_id: str


@dataclass(frozen=True)
class ConfigureNozzles(PipetteCommand):
    config: dict | None


@dataclass(frozen=True)
class ConfigureForVolume(PipetteCommand):
    """configureForVolume: a Flex 50 µL pipette's volume mode (low-volume below its default minimum)."""

    volume: float


@dataclass(frozen=True)
class PickUpTip(PipetteCommand):
    target: WellTarget


@dataclass(frozen=True)
class DropTip(PipetteCommand):
    target: Target  # a tip-rack well (return) or the trash


@dataclass(frozen=True)
class DropTipInPlace(PipetteCommand):
    pass


@dataclass(frozen=True)
class Aspirate(PipetteCommand):
    target: WellTarget
    volume: float


@dataclass(frozen=True)
class AspirateInPlace(PipetteCommand):
    volume: float


@dataclass(frozen=True)
class Dispense(PipetteCommand):
    target: Target
    volume: float


@dataclass(frozen=True)
class DispenseInPlace(PipetteCommand):
    volume: float


@dataclass(frozen=True)
class BlowOut(PipetteCommand):
    target: Target


@dataclass(frozen=True)
class BlowOutInPlace(PipetteCommand):
    pass


@dataclass(frozen=True)
class TouchWell(PipetteCommand):
    """touchTip / liquidProbe: the tip touches the well (side or liquid)."""

    target: Target


@dataclass(frozen=True)
class MoveToWell(PipetteCommand):
    """A move into a well: a contact only if the tip ends below the liquid."""

    target: Target


@dataclass(frozen=True)
class MoveToArea(PipetteCommand):
    target: Target


@dataclass(frozen=True)
class MoveFree(PipetteCommand):
    """A move to coordinates: the pipette is over no known well afterwards."""


Command = (LoadLabware | LoadModule | LoadPipette | LoadLiquid | MoveLabware | ConfigureNozzles | ConfigureForVolume
           | PickUpTip | DropTip
           | DropTipInPlace | Aspirate | AspirateInPlace | Dispense | DispenseInPlace | BlowOut | BlowOutInPlace
           | TouchWell | MoveToWell | MoveToArea | MoveFree)


def _vol(p: dict) -> float:
    return float(p.get("volume", 0.0))


def _well(p: dict) -> WellTarget:
    return WellTarget(p["labwareId"], p["wellName"], p.get("wellLocation") or {})


def _load_labware(p: dict, r: dict) -> LoadLabware:
    d = r.get("definition") or {}
    return LoadLabware(r["labwareId"], p.get("loadName") or d.get("parameters", {}).get("loadName", "?"),
                       p.get("location", {}), p.get("displayName") or "", d)


_PARSERS: dict[str, Callable[[dict, dict], Command]] = {
    "loadLabware": _load_labware,
    "loadModule": lambda p, r: LoadModule(r.get("moduleId", ""), p.get("location", {})),
    "loadPipette": lambda p, r: LoadPipette(r["pipetteId"], p["pipetteName"], p.get("mount", "")),
    "loadLiquid": lambda p, r: LoadLiquid(p["liquidId"], p["labwareId"], dict(p.get("volumeByWell", {}))),
    "moveLabware": lambda p, r: MoveLabware(p["labwareId"], p.get("newLocation", {})),
    "configureNozzleLayout": lambda p, r: ConfigureNozzles(p["pipetteId"], p.get("configurationParams")),
    "configureForVolume": lambda p, r: ConfigureForVolume(p["pipetteId"], _vol(p)),
    "pickUpTip": lambda p, r: PickUpTip(p["pipetteId"], _well(p)),
    "dropTip": lambda p, r: DropTip(p["pipetteId"], _target(p)),
    "dropTipInPlace": lambda p, r: DropTipInPlace(p["pipetteId"]),
    "unsafe/dropTipInPlace": lambda p, r: DropTipInPlace(p["pipetteId"]),
    "aspirate": lambda p, r: Aspirate(p["pipetteId"], _well(p), _vol(p)),
    "aspirateWhileTracking": lambda p, r: Aspirate(p["pipetteId"], _well(p), _vol(p)),
    "aspirateInPlace": lambda p, r: AspirateInPlace(p["pipetteId"], _vol(p)),
    "dispense": lambda p, r: Dispense(p["pipetteId"], _target(p), _vol(p)),
    "dispenseWhileTracking": lambda p, r: Dispense(p["pipetteId"], _target(p), _vol(p)),
    "dispenseInPlace": lambda p, r: DispenseInPlace(p["pipetteId"], _vol(p)),
    "blowout": lambda p, r: BlowOut(p["pipetteId"], _target(p)),
    "blowOutInPlace": lambda p, r: BlowOutInPlace(p["pipetteId"]),
    "unsafe/blowOutInPlace": lambda p, r: BlowOutInPlace(p["pipetteId"]),
    "touchTip": lambda p, r: TouchWell(p["pipetteId"], _target(p)),
    "liquidProbe": lambda p, r: TouchWell(p["pipetteId"], _target(p)),
    "tryLiquidProbe": lambda p, r: TouchWell(p["pipetteId"], _target(p)),
    "moveToWell": lambda p, r: MoveToWell(p["pipetteId"], _target(p)),
    "moveToAddressableArea": lambda p, r: MoveToArea(p["pipetteId"], _target(p)),
    "moveToAddressableAreaForDropTip": lambda p, r: MoveToArea(p["pipetteId"], _target(p)),
    "moveToCoordinates": lambda p, r: MoveFree(p["pipetteId"]),
    "moveRelative": lambda p, r: MoveFree(p["pipetteId"]),
}

_LOADS = frozenset({"loadLabware", "loadModule", "loadPipette", "loadLiquid", "moveLabware"})
KINDS = frozenset(_PARSERS)  # the command types the ledger replays


def parse(raw: dict) -> Command | None:
    """The typed record of one analyzed command (None: failed, or not a command the ledger needs)."""
    if raw.get("status", "succeeded") != "succeeded":
        return None
    parser = _PARSERS.get(raw.get("commandType", ""))
    if parser is None:
        return None
    p = raw.get("params") or {}
    if "pipetteId" not in p and raw["commandType"] not in _LOADS:
        return None  # a pipette command without a pipette: nothing to replay
    return parser(p, raw.get("result") or {})
