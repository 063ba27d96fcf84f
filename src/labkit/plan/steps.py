"""A liquid-handling plan as plain data: labware on the deck, liquids, and ordered steps with explicit tips."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from labkit.labware.specs import PIPETTES


@dataclass(frozen=True)
class Loc:
    """A well of a labware (by plan key). For an 8-channel pipette the well of its primary nozzle: the back one
    (A1) when all eight work, the front one (H1) with a partial layout (the working nozzles behind it take the
    wells behind that well)."""

    labware: str
    well: str

    def __str__(self) -> str:
        return f"{self.labware}:{self.well}"


@dataclass(frozen=True)
class Disp:
    """One dispense; top=True is a non-contact dispense at the top of the well."""

    loc: Loc
    volume: float
    top: bool = False


@dataclass(frozen=True)
class Stroke:
    """One aspirate and the dispenses it feeds (one for a transfer, several for a multi-dispense)."""

    source: Loc
    volume: float                        # aspirated per channel (dispenses + disposal)
    dispenses: tuple[Disp, ...]
    tip: Loc | None = None               # pick up a fresh tip here first; None keeps the tip in hand
    mix_before: tuple[int, float] | None = None  # (repetitions, µL) in the source before aspirating
    mix_after: tuple[int, float] | None = None   # in the last destination (contact dispenses only)
    blow_out: str = ""                   # blow the remainder (disposal volume) out: '' | 'source' | 'trash'
    drop: bool = True                    # drop the tip afterwards (returned instead in a dry run)
    mix_rate: float = 1.0                # flow-rate multiplier of the mixes, and of the dispense that a mix_after
                                         # follows in the same well (the mix rinses the tip into that well)
    waste: bool = False                  # drop it (and blow out) into the plan's radioactive waste, not the trash


@dataclass(frozen=True)
class Transfer:
    """Liquid moved one aspirate -> one dispense per stroke."""

    text: str
    pipette: str
    strokes: tuple[Stroke, ...]
    nozzles: int = 0   # 8-channel: 0 = all eight; 1 = the front nozzle (H1) alone; 2-7 = H1 and the ones behind it


@dataclass(frozen=True)
class Distribute:
    """One liquid to many wells: each stroke aspirates for several non-contact dispenses."""

    text: str
    pipette: str
    strokes: tuple[Stroke, ...]
    nozzles: int = 0   # as for Transfer


@dataclass(frozen=True)
class Comment:
    """A line the person at the robot reads."""

    text: str


@dataclass(frozen=True)
class Pause:
    """Stop until the operator resumes (skipped in a dry run); `loads`: liquids the operator puts on the deck now
    (fresh, at the volumes of the plan's loads) instead of before the run — reagents that must not stand long."""

    text: str
    loads: tuple[str, ...] = ()
    phase: bool = False    # the assay waits here for every plate of the run (an incubation): batches of plates
    #                        (plan.batches) each do their work up to it, then the run waits once
    labware: tuple[str, ...] = ()  # with loads: the liquids go into these labware's wells (all of them they hold)
    timed: bool = False    # inside a timed window: the operator's time here is taken off the next absorbing Delay


@dataclass(frozen=True)
class Delay:
    """Wait (skipped in a dry run)."""

    minutes: float
    text: str
    absorbs: bool = False  # a timed wait: at run time, the operator's time at the timed pauses since the last such
    #                        wait is taken off it (up to its length), so a tip-rack swap does not lengthen the window


@dataclass(frozen=True)
class SetTemperature:
    """Set a temperature module and wait for it; celsius None deactivates it."""

    module: str
    celsius: float | None


@dataclass(frozen=True)
class Shake:
    """Shake on a heater-shaker (latch closed), then stop."""

    module: str
    rpm: int
    minutes: float


@dataclass(frozen=True)
class MoveLabware:
    """Move a labware to a slot, a module or off the deck ('offdeck'); gripper or a manual move with a pause."""

    labware: str
    to: str            # slot name, module key or 'offdeck'
    gripper: bool
    text: str = ""
    pause: bool = True  # a manual move stops the run; False (off the deck from a slot only): the operator was told
    #                     at the pause before, the robot does not stop for it again (`del protocol.deck[slot]`)
    timed: bool = False  # a manual move inside a timed window (as Pause.timed)


@dataclass(frozen=True)
class Latch:
    """Open or close a heater-shaker labware latch."""

    module: str
    open: bool


@dataclass(frozen=True)
class LoadLabware:
    """Load a (fresh) labware during the run, e.g. a full tip rack in the place of an empty one."""

    key: str


Step = Union[Transfer, Distribute, Comment, Pause, Delay, SetTemperature, Shake, MoveLabware, Latch, LoadLabware]


@dataclass(frozen=True)
class ModuleUse:
    """A module on the deck."""

    key: str
    name: str   # Opentrons module name
    slot: str


@dataclass(frozen=True)
class LabwareUse:
    """A labware in the plan: where it sits at the start ('' = loaded later by a LoadLabware step)."""

    key: str
    load_name: str
    slot: str            # deck slot, '' when on a module/adapter or loaded later
    label: str = ""      # shown in the App; assay plates carry the layout plate id
    module: str = ""     # module key it sits on (or the key of the adapter labware it sits on)
    adapter: bool = False  # this labware is an adapter (loaded with load_adapter)
    custom: bool = False  # embed the labkit definition
    initial: bool = True  # loaded at the start


@dataclass(frozen=True)
class PipetteUse:
    """A pipette on a mount."""

    key: str
    name: str
    mount: str


@dataclass(frozen=True)
class Liquid:
    """A reagent: display name, description (with how to prepare it), colour, composition for the ledger."""

    name: str
    description: str
    color: str
    composition: dict[str, float]


@dataclass(frozen=True)
class LiquidLoad:
    """A volume of a liquid the operator puts in a well before the run."""

    liquid: str
    loc: Loc
    volume: float


@dataclass(frozen=True)
class HotWaste:
    """A dedicated radioactive-waste container on the deck: a second trash bin (Flex, `kind` 'bin', in `slot`) or
    an empty labware the tips are dropped into (OT-2, `kind` 'labware', the labware key `key`, its well A1)."""

    kind: str  # 'bin' | 'labware'
    slot: str
    key: str = ""


@dataclass
class Plan:
    """Everything the emitter needs, and what a person reads with --print-plan."""

    name: str
    description: str
    robot: str                  # 'ot2' | 'flex'
    robot_type: str             # 'OT-2' | 'Flex'
    assay: str
    layout_sha256: str
    tip_policy: str
    trash: str | None
    modules: list[ModuleUse] = field(default_factory=list)
    labware: list[LabwareUse] = field(default_factory=list)
    pipettes: list[PipetteUse] = field(default_factory=list)
    liquids: list[Liquid] = field(default_factory=list)
    loads: list[LiquidLoad] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # operator preparation, printed and put in comments
    warnings: list[str] = field(default_factory=list)  # where the planner did less than it could, and by how much
    hot_waste: HotWaste | None = None  # a dedicated radioactive-waste container for hot tips (strokes with waste)

    def labware_by_key(self) -> dict[str, LabwareUse]:
        """key -> LabwareUse."""
        return {lw.key: lw for lw in self.labware}

    def pipette_by_key(self) -> dict[str, PipetteUse]:
        """key -> PipetteUse."""
        return {p.key: p for p in self.pipettes}

    def liquid_steps(self) -> list[Transfer | Distribute]:
        """The steps that move liquid."""
        return [s for s in self.steps if isinstance(s, (Transfer, Distribute))]

    def tips_used(self) -> dict[str, int]:
        """pipette key -> tip pick-ups."""
        out = {p.key: 0 for p in self.pipettes}
        for s in self.liquid_steps():
            out[s.pipette] += sum(1 for st in s.strokes if st.tip is not None)
        return out

    def tips(self) -> int:
        """Tips used (an 8-channel pick-up counts its working nozzles)."""
        channels = {p.key: PIPETTES[p.name].channels for p in self.pipettes}
        return sum((s.nozzles or channels[s.pipette]) * sum(1 for st in s.strokes if st.tip is not None)
                   for s in self.liquid_steps())
