"""What the planner knows about pipettes, labware and the two robots: ranges, capacities, dead volumes, slots."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PipetteSpec:
    """An Opentrons pipette with the tips labkit gives it."""

    name: str          # Opentrons instrument name
    channels: int      # 1 or 8
    min_ul: float      # smallest accurate volume
    max_ul: float      # largest volume with its tips
    tiprack: str       # tip rack load name
    disposal_ul: float  # extra volume aspirated for a multi-dispense (blown out afterwards)
    flow_ul_s: float = 0.0      # default aspirate / dispense flow rate (µL/s, the larger one) at API 2.20
    max_flow_ul_s: float = 0.0  # the highest flow rate Opentrons documents for it with this tip (uiMaxFlowRate)

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


MIX_SPEEDUP = 2.0        # aqueous mixing at twice the default flow rate …
MIX_MAX_FRACTION = 0.8   # … but never above 80 % of the pipette's documented maximum

# flow rates: the API 2.20 defaults and `uiMaxFlowRate` of opentrons-shared-data's pipette definitions
PIPETTES: dict[str, PipetteSpec] = {p.name: p for p in (
    PipetteSpec("p20_single_gen2", 1, 1.0, 20.0, "opentrons_96_tiprack_20ul", 1.0, 7.56, 25.0),
    PipetteSpec("p20_multi_gen2", 8, 1.0, 20.0, "opentrons_96_tiprack_20ul", 1.0, 7.6, 25.0),
    PipetteSpec("p300_single_gen2", 1, 20.0, 300.0, "opentrons_96_tiprack_300ul", 20.0, 92.86, 329.3),
    PipetteSpec("p300_multi_gen2", 8, 20.0, 300.0, "opentrons_96_tiprack_300ul", 20.0, 94.0, 335.3),
    PipetteSpec("flex_1channel_50", 1, 1.0, 50.0, "opentrons_flex_96_tiprack_50ul", 5.0, 57.0, 57.0),
    PipetteSpec("flex_8channel_50", 8, 1.0, 50.0, "opentrons_flex_96_tiprack_50ul", 5.0, 57.0, 57.0),
    PipetteSpec("flex_1channel_1000", 1, 5.0, 1000.0, "opentrons_flex_96_tiprack_1000ul", 50.0, 716.0, 727.3),
    PipetteSpec("flex_8channel_1000", 8, 5.0, 1000.0, "opentrons_flex_96_tiprack_1000ul", 50.0, 716.0, 744.6),
)}

FILTER_PLATE = "labkit_multiscreen_ph_p81_96_filterplate_300ul"

# A partially configured 8-channel (H1 nozzle in front, the other seven behind it) reaches ~80 mm behind the well
# it works in: over the slot behind, whose labware must stay below the pipette (its tip length above the well).
# Plates and reservoirs are LOW_MM or less; tip racks, tube racks and modules are taller.
LOW_MM = 32.0

LABWARE: dict[str, LabwareSpec] = {s.load_name: s for s in (
    LabwareSpec("corning_96_wellplate_360ul_flat", 8, 12, 360.0, 10.0, "plate", height_mm=14.22),
    LabwareSpec("corning_384_wellplate_112ul_flat", 16, 24, 112.0, 5.0, "plate", height_mm=14.22),
    LabwareSpec("nest_96_wellplate_100ul_pcr_full_skirt", 8, 12, 100.0, 5.0, "plate", height_mm=15.7),
    LabwareSpec("nest_12_reservoir_15ml", 1, 12, 15000.0, 500.0, "reservoir", height_mm=31.4),
    LabwareSpec("opentrons_24_tuberack_nest_1.5ml_snapcap", 4, 6, 1500.0, 30.0, "tubes", height_mm=79.55),
    LabwareSpec(FILTER_PLATE, 8, 12, 300.0, 0.0, "filter", custom=True, height_mm=14.6),
    LabwareSpec("opentrons_96_tiprack_20ul", 8, 12, 20.0, 0.0, "tips", height_mm=64.69),
    LabwareSpec("opentrons_96_tiprack_300ul", 8, 12, 300.0, 0.0, "tips", height_mm=64.49),
    LabwareSpec("opentrons_flex_96_tiprack_50ul", 8, 12, 50.0, 0.0, "tips", height_mm=99.0),
    LabwareSpec("opentrons_flex_96_tiprack_1000ul", 8, 12, 1000.0, 0.0, "tips", height_mm=99.0),
)}

# assay plate per well format
ASSAY_PLATE = {96: "corning_96_wellplate_360ul_flat", 384: "corning_384_wellplate_112ul_flat"}
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


ROBOTS: dict[str, RobotSpec] = {
    "ot2": RobotSpec("ot2", "OT-2", ("9", "8", "6", "5", "3", "2", "4", "1", "7", "10", "11"), None,
                     "p20_single_gen2", "p20_multi_gen2", "p300_single_gen2", "p300_multi_gen2", "1", None, False),
    "flex": RobotSpec("flex", "Flex", ("B2", "B3", "C2", "C3", "D2", "D3", "C1", "D1", "B1", "A1", "A2"), "A3",
                      "flex_1channel_50", "flex_8channel_50", "flex_1channel_1000", "flex_8channel_1000", "D1", "D1",
                      True),
}

# heater-shaker adapters (Flex) per plate load name
HS_ADAPTER = {"corning_96_wellplate_360ul_flat": "opentrons_universal_flat_adapter",
              "corning_384_wellplate_112ul_flat": "opentrons_universal_flat_adapter"}


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
