"""What the planner knows about pipettes, labware and the two robots: ranges, capacities, dead volumes, slots.

Two kinds of numbers live here, kept apart:

* **Opentrons' facts** — a pipette's channels, volume range, default flow rates and `uiMaxFlowRate`, its compatible
  tip racks; a labware's well grid, well capacity (`totalLiquidVolume`) and height (`zDimension`). These are read from
  Opentrons' own definitions (the `opentrons_shared_data` package installed with `opentrons`), for the definition
  versions and the API level labkit's protocols load, on first use and cached. Nothing here copies them by hand.
* **labkit's judgement** — which tips each pipette gets, the disposal volume of a multi-dispense, the dead volume a
  pipette cannot get back out of a well, how much faster aqueous liquid is mixed. Those are below, each with its source.

`PIPETTES` and `LABWARE` are read-only mappings that load the definitions the first time one is looked into, so
importing this module (and `labkit --help`) stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar


@dataclass(frozen=True)
class PipetteSpec:
    """An Opentrons pipette with the tips labkit gives it."""

    name: str          # Opentrons instrument name
    channels: int      # 1 or 8
    min_ul: float      # smallest volume labkit plans with (shared data `minVolume`: of the low-volume mode where
    #                    the pipette has one, which the protocols switch to; see LOW_VOLUME_MODE_MINIMUM)
    max_ul: float      # largest volume (shared data `maxVolume`)
    tiprack: str       # tip rack load name (labkit's choice, one of Opentrons' compatible racks)
    disposal_ul: float  # extra volume aspirated for a multi-dispense (blown out afterwards; labkit's choice)
    flow_ul_s: float = 0.0      # default flow rate with this tip at labkit's API level (µL/s, the larger of
    #                             aspirate and dispense)
    max_flow_ul_s: float = 0.0  # the highest flow rate Opentrons documents for it with this tip (uiMaxFlowRate)
    default_min_ul: float = 0.0      # smallest volume of the default mode (below it: the low-volume mode)
    low_volume_max_ul: float = 0.0   # largest volume of the low-volume mode (0: the pipette has none)

    def needs_low_volume(self, volumes: list[float]) -> bool | None:
        """For a step moving these volumes: True = run it in the low-volume mode, False = in the default mode,
        None = either (or the pipette has no low-volume mode). `configure_for_volume` is called between steps."""
        if not self.low_volume_max_ul or not volumes:
            return None
        low = min(volumes) < self.default_min_ul - 1e-9
        if low:
            return True
        return False if max(volumes) > self.low_volume_max_ul + 1e-9 else None

    @property
    def aqueous_mix_rate(self) -> float:
        """Flow-rate multiplier for mixing aqueous liquids: 2× the default, at most 80 % of the documented maximum."""
        if self.flow_ul_s <= 0 or self.max_flow_ul_s <= 0:
            return 1.0
        return round(max(1.0, min(MIX_SPEEDUP, MIX_MAX_FRACTION * self.max_flow_ul_s / self.flow_ul_s)), 2)


@dataclass(frozen=True)
class LabwareSpec:
    """Labware the planner places: well grid, well capacity and the volume a pipette cannot get back out."""

    load_name: str
    rows: int
    cols: int
    capacity_ul: float
    dead_ul: float
    kind: str  # 'plate' | 'reservoir' | 'tubes' | 'tips' | 'filter'
    custom: bool = False  # True: a labkit definition embedded in the protocol
    height_mm: float = 0.0  # overall height (the definition's zDimension)

    @property
    def wells(self) -> int:
        """Number of wells."""
        return self.rows * self.cols

    @property
    def tall(self) -> bool:
        """Taller than LOW_MM: an 8-channel with a partial nozzle layout cannot reach over it (see `partial_safe`)."""
        return self.height_mm > LOW_MM


# --- labkit's judgement: mixing ------------------------------------------------------------------------------------
# Aqueous liquids are mixed faster than the default flow rate (the planner keeps the default for DMSO); the cap keeps a
# margin below the fastest rate Opentrons documents for the pipette and tip (`uiMaxFlowRate`). labkit's own policy.
MIX_SPEEDUP = 2.0        # aqueous mixing at twice the default flow rate …
MIX_MAX_FRACTION = 0.8   # … but never above 80 % of the pipette's documented maximum


# --- labkit's judgement: which tips each pipette gets, and the multi-dispense disposal volume ----------------------
# Tips: the standard (unfiltered) rack whose tip volume is the pipette's maximum, so one tip covers the whole range
# (each is one of the pipette's `defaultTipracks` in shared data; loading the specs checks it). Disposal volume: the
# extra aspirated for a multi-dispense and blown out afterwards. OT-2: the pipette's minimum volume, the default of
# Opentrons' `distribute()`; Flex: labkit's choice, 10 % of the 50 µL tip and 5 % of the 1000 µL tip.
PIPETTE_CHOICES: dict[str, tuple[str, float]] = {  # name: (tip rack load name, disposal µL)
    "p20_single_gen2": ("opentrons_96_tiprack_20ul", 1.0),
    "p20_multi_gen2": ("opentrons_96_tiprack_20ul", 1.0),
    "p300_single_gen2": ("opentrons_96_tiprack_300ul", 20.0),
    "p300_multi_gen2": ("opentrons_96_tiprack_300ul", 20.0),
    "flex_1channel_50": ("opentrons_flex_96_tiprack_50ul", 5.0),
    "flex_8channel_50": ("opentrons_flex_96_tiprack_50ul", 5.0),
    "flex_1channel_1000": ("opentrons_flex_96_tiprack_1000ul", 50.0),
    "flex_8channel_1000": ("opentrons_flex_96_tiprack_1000ul", 50.0),
    # the Flex 96-channel (labkit.plan.stamp96: whole-plate stamps, no multi-dispense, so no disposal volume); its
    # protocols load 50, 200 or 1000 µL tips by the largest stamp (TIPS_96 there), the 1000 µL rack is its full range
    "flex_96channel_1000": ("opentrons_flex_96_tiprack_1000ul", 0.0),
}

# The Flex 50 µL pipettes are planned down to the minimum of their *low-volume* mode (1–30 µL, shared data
# `lowVolumeDefault`; the default mode's minimum at API 2.20 is 5 µL): the emitted protocol calls
# `configure_for_volume()` (API 2.15+) with no tip on before a step that moves less than 5 µL, and again before a
# step that moves more than 30 µL; the simulator's ledger follows the mode and flags any volume below its minimum.
LOW_VOLUME_MODE_MINIMUM = frozenset({"flex_1channel_50", "flex_8channel_50"})

FILTER_PLATE = "labkit_multiscreen_ph_p81_96_filterplate_300ul"
# White opaque tissue-culture plates for CellTiter-Glo: luminescence is read in opaque-walled plates (Promega TB288,
# "opaque-walled multiwell plates"; white walls reflect the light, clear walls leak it into the next well). Opentrons'
# corning_96_wellplate_360ul_flat definition covers Corning 3917 (96-well solid white, flat bottom, TC-treated);
# its corning_384_wellplate_112ul_flat lists only clear parts, so labkit ships a copy of that geometry (the same
# Corning 384-well 112 µL well) for Corning 3570 (384-well solid white, flat bottom, TC-treated).
WHITE_384 = "labkit_corning_384_wellplate_112ul_white_tc"
CUSTOM_LABWARE = frozenset({FILTER_PLATE, WHITE_384})

# A partially configured 8-channel (H1 nozzle in front, the other seven behind it) reaches ~80 mm behind the well
# it works in: over the slot behind, whose labware must stay below the pipette (its tip length above the well).
# Plates and reservoirs are LOW_MM or less; tip racks, tube racks and modules are taller.
LOW_MM = 32.0

# --- labkit's judgement: what each labware is for, and its dead volume --------------------------------------------
# Dead volume: what labkit plans to leave in a well because a pipette at its default aspirate height cannot get it
# back out; labkit's working estimates (no vendor figure is cited for them yet: check them for your labware). Tips
# and the filter plate (labkit only dispenses into it) have none. `kind` tells the planner how it is used.
LABWARE_CHOICES: dict[str, tuple[str, float]] = {  # load name: (kind, dead µL)
    "corning_96_wellplate_360ul_flat": ("plate", 10.0),
    "corning_384_wellplate_112ul_flat": ("plate", 5.0),
    WHITE_384: ("plate", 5.0),
    "nest_96_wellplate_100ul_pcr_full_skirt": ("plate", 5.0),
    "nest_12_reservoir_15ml": ("reservoir", 500.0),
    "opentrons_24_tuberack_nest_1.5ml_snapcap": ("tubes", 30.0),
    FILTER_PLATE: ("filter", 0.0),
    "opentrons_96_tiprack_20ul": ("tips", 0.0),
    "opentrons_96_tiprack_300ul": ("tips", 0.0),
    "opentrons_flex_96_tiprack_50ul": ("tips", 0.0),
    "opentrons_flex_96_tiprack_1000ul": ("tips", 0.0),
    "opentrons_flex_96_tiprack_200ul": ("tips", 0.0),
    # one trough under all 96 nozzles (96-channel stamps of one reagent): the whole floor must stay covered
    "nest_1_reservoir_195ml": ("reservoir", 15000.0),
}

# The definition version `load_labware(name)` loads at labkit's API level (2.20) when no version is given. Opentrons
# keeps this table in the `opentrons` package (protocol_api/core/engine/_default_labware_versions.py), which is too
# heavy to import for planning; a test loads each labware in the real 2.20 protocol API and checks its URI against
# this. Labware not listed loads version 1.
LABWARE_VERSIONS: dict[str, int] = {
    "corning_96_wellplate_360ul_flat": 2,
    "corning_384_wellplate_112ul_flat": 2,
    "nest_96_wellplate_100ul_pcr_full_skirt": 2,
    "nest_1_reservoir_195ml": 2,
}


# --- Opentrons' facts, read from opentrons_shared_data on first use -----------------------------------------------
def _api_level() -> tuple[int, int]:
    """The apiLevel labkit's protocols request (flow-rate defaults depend on it)."""
    from labkit.protocol.emit import API_LEVEL  # lazy: protocol.emit imports the labware package

    major, minor = API_LEVEL.split(".")
    return int(major), int(minor)


def value_at_api_level(values: Mapping[str, float], level: tuple[int, int]) -> float:
    """The value of a shared-data `valuesByApiLevel` table for an API level (the newest entry at or below it)."""
    def key(version: str) -> tuple[int, int]:
        major, minor = version.split(".")
        return int(major), int(minor)

    ordered = sorted(values, key=key)
    chosen = ordered[0]
    for version in ordered:
        if key(version) <= level:
            chosen = version
    return float(values[chosen])


def labware_definition(load_name: str) -> dict[str, Any]:
    """The Opentrons definition labkit's protocols load for a labware: shared data (at LABWARE_VERSIONS), or labkit's
    own for custom labware."""
    if load_name in CUSTOM_LABWARE:
        from labkit.labware.custom import definition

        return definition(load_name)
    from opentrons_shared_data.labware import load_definition

    try:
        return dict(load_definition(load_name, LABWARE_VERSIONS.get(load_name, 1)))
    except FileNotFoundError as exc:  # a future opentrons that dropped or renamed it
        raise RuntimeError(f"opentrons_shared_data has no labware definition {load_name!r} "
                           f"version {LABWARE_VERSIONS.get(load_name, 1)}") from exc


def _labware_spec(load_name: str, kind: str, dead_ul: float) -> LabwareSpec:
    d = labware_definition(load_name)
    volumes = {float(w["totalLiquidVolume"]) for w in d["wells"].values()}
    return LabwareSpec(load_name, rows=len(d["ordering"][0]), cols=len(d["ordering"]), capacity_ul=max(volumes),
                       dead_ul=dead_ul, kind=kind, custom=load_name in CUSTOM_LABWARE,
                       height_mm=float(d["dimensions"]["zDimension"]))


@lru_cache(maxsize=None)
def _labware_table() -> dict[str, LabwareSpec]:
    return {name: _labware_spec(name, kind, dead) for name, (kind, dead) in LABWARE_CHOICES.items()}


def _pipette_spec(name: str, tiprack: str, disposal_ul: float, level: tuple[int, int]) -> PipetteSpec:
    from opentrons_shared_data.pipette import load_data
    from opentrons_shared_data.pipette.pipette_load_name_conversions import convert_pipette_name
    from opentrons_shared_data.pipette.types import PIPETTE_API_NAMES_MAP, LiquidClasses, PipetteTipType

    # the same path the protocol engine takes for `load_instrument(name)`: API name -> model -> definition
    model = convert_pipette_name(PIPETTE_API_NAMES_MAP[name].value)
    config = load_data.load_definition(model.pipette_type, model.pipette_channels, model.pipette_version,
                                       model.oem_type)
    liquid = config.liquid_properties[LiquidClasses.default]
    min_ul = default_min = float(liquid.min_volume)
    low_max = 0.0
    if name in LOW_VOLUME_MODE_MINIMUM:  # the protocols switch to the low-volume mode where a step needs it
        low = config.liquid_properties[LiquidClasses.lowVolumeDefault]
        min_ul, low_max = float(low.min_volume), float(low.max_volume)
    rack = _labware_table()[tiprack]
    rack_uri = f"opentrons/{tiprack}/{LABWARE_VERSIONS.get(tiprack, 1)}"
    if rack_uri not in liquid.default_tipracks:
        raise RuntimeError(f"{tiprack} is not a tip rack Opentrons lists for {name} ({liquid.default_tipracks})")
    # with a tip on, the engine takes the flow rates of the tip type of that rack's volume
    tip = liquid.supported_tips[PipetteTipType(int(rack.capacity_ul))]
    flow = max(value_at_api_level(tip.default_aspirate_flowrate.values_by_api_level, level),
               value_at_api_level(tip.default_dispense_flowrate.values_by_api_level, level))
    return PipetteSpec(name, int(config.channels), min_ul, float(liquid.max_volume), tiprack,
                       disposal_ul, flow, float(tip.ui_max_flow_rate), default_min, low_max)


@lru_cache(maxsize=None)
def _pipette_table() -> dict[str, PipetteSpec]:
    level = _api_level()
    return {name: _pipette_spec(name, rack, disposal, level) for name, (rack, disposal) in PIPETTE_CHOICES.items()}


_V = TypeVar("_V")


class _LazyTable(Mapping[str, _V]):
    """A read-only mapping built on first lookup (so importing the specs reads no definition files)."""

    def __init__(self, build: Callable[[], dict[str, _V]], what: str) -> None:
        self._build = build
        self._what = what

    def __getitem__(self, key: str) -> _V:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def __contains__(self, key: object) -> bool:
        return key in self._build()

    def __repr__(self) -> str:
        return f"<{self._what}: {', '.join(self)}>"


PIPETTES: Mapping[str, PipetteSpec] = _LazyTable(_pipette_table, "labkit pipettes")
LABWARE: Mapping[str, LabwareSpec] = _LazyTable(_labware_table, "labkit labware")

# assay plate per well format
ASSAY_PLATE = {96: "corning_96_wellplate_360ul_flat", 384: "corning_384_wellplate_112ul_flat"}
# cell plates read by luminescence (CellTiter-Glo): white opaque, TC-treated (see WHITE_384 above)
WHITE_TC_PLATE = {96: "corning_96_wellplate_360ul_flat", 384: WHITE_384}
WHITE_TC_NAME = {96: "Corning 3917, 96-well solid white TC-treated", 384: "Corning 3570, 384-well solid white "
                 "TC-treated"}
SOURCE_PLATE = "nest_96_wellplate_100ul_pcr_full_skirt"   # DMSO serial dilution
INTERMEDIATE_PLATE = "corning_96_wellplate_360ul_flat"    # compound in assay buffer / medium
RESERVOIR = "nest_12_reservoir_15ml"
TUBES = "opentrons_24_tuberack_nest_1.5ml_snapcap"
OVERAGE = 0.10  # fraction loaded on top of what the robot draws (plus the dead volume)


@dataclass(frozen=True)
class RobotSpec:
    """A robot: API name, deck slots in the order labkit fills them, pipettes, module slots."""

    key: str                 # 'ot2' | 'flex'
    robot_type: str          # requirements['robotType']
    slots: tuple[str, ...]   # labware fills from the front, tip racks from the back
    trash: str | None        # Flex trash-bin slot (None: the OT-2 fixed trash)
    small_single: str
    small_multi: str
    large_single: str
    large_multi: str
    temperature_slot: str
    heater_shaker_slot: str | None
    gripper: bool
    staging: tuple[str, ...] = ()  # Flex staging-area slots (gripper only; A4 is not free beside the trash in A3)


ROBOTS: dict[str, RobotSpec] = {
    "ot2": RobotSpec("ot2", "OT-2", ("9", "8", "6", "5", "3", "2", "4", "1", "7", "10", "11"), None,
                     "p20_single_gen2", "p20_multi_gen2", "p300_single_gen2", "p300_multi_gen2", "1", None, False),
    "flex": RobotSpec("flex", "Flex", ("B2", "B3", "C2", "C3", "D2", "D3", "C1", "D1", "B1", "A1", "A2"), "A3",
                      "flex_1channel_50", "flex_8channel_50", "flex_1channel_1000", "flex_8channel_1000", "D1", "D1",
                      True, ("B4", "C4", "D4")),
}

# heater-shaker adapters (Flex) per plate load name
HS_ADAPTER = {"corning_96_wellplate_360ul_flat": "opentrons_universal_flat_adapter",
              "corning_384_wellplate_112ul_flat": "opentrons_universal_flat_adapter",
              WHITE_384: "opentrons_universal_flat_adapter"}


def slot_xy(robot: RobotSpec, slot: str) -> tuple[float, float]:
    """Approximate centre (mm) of a deck slot: OT-2 slots 1-12 (3 columns, 12 = the fixed trash), Flex A1-D4."""
    if robot.key == "ot2":
        n = int(slot) - 1
        return (n % 3) * 132.5 + 64.0, (n // 3) * 90.5 + 43.0
    col, row = int(slot[1:]) - 1, "DCBA".index(slot[0])
    return col * 164.0 + 64.0, row * 107.0 + 43.0


# modules that hold labware so high that a partial nozzle layout working there clears any labware behind the module
# (the OT-2 Temperature Module stands on the deck; the Flex one sits down in a caddy)
HIGH_MODULES = {("ot2", "temperature module gen2")}


def slot_behind(robot: RobotSpec, slot: str) -> str | None:
    """The deck slot right behind a slot (OT-2 n -> n+3, 9 -> the fixed trash in 12; Flex B2 -> A2); None for the
    back row."""
    if robot.key == "ot2":
        n = int(slot)
        return str(n + 3) if n + 3 <= 12 else None
    row = "ABCD".index(slot[0])
    return f"{'ABCD'[row - 1]}{slot[1:]}" if row > 0 else None


def slot_in_front(robot: RobotSpec, slot: str) -> str | None:
    """The deck slot right in front of a slot (None for the front row)."""
    if robot.key == "ot2":
        n = int(slot)
        return str(n - 3) if n > 3 else None
    row = "ABCD".index(slot[0])
    return f"{'ABCD'[row + 1]}{slot[1:]}" if row < 3 else None


def trash_slot(robot: RobotSpec) -> str:
    """The slot the trash stands in (OT-2: the fixed trash in 12)."""
    return robot.trash or "12"


def pipette(name: str) -> PipetteSpec:
    """The spec of an Opentrons pipette name."""
    return PIPETTES[name]


def labware(load_name: str) -> LabwareSpec:
    """The spec of a labware load name."""
    return LABWARE[load_name]
