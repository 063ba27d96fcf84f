"""Replay an Opentrons analysis into a per-well ledger: volume, composition and tip contacts of every well.

The ledger is built from what the engine says the robot did (the analyzed commands), never from the plan.

Model
- Liquids: `loadLiquid` *sets* a well's contents (the engine's semantics); the composition of each liquid comes
  from the protocol's module-level `LIQUIDS` literal (read with `read_liquids`), keyed by display name. Species are
  intensive values (molar, volume fraction, cells/µL, relative units) mixed by volume-weighted average; the ledger
  stores amounts (value × µL) so mixing is exact.
- Commands: parsed into typed records (`commands.py`); `_Replay` has one handler per record type.
- State: wells, tips, labware, problems and the resulting `Ledger` live in `state.py`.
- Channels: every command names one well (the primary nozzle's); `nozzles.py` maps each active nozzle to the well
  under it, so an 8-channel at A1 of a 96-well plate works A1..H1, and all 8 channels of a 12-well reservoir
  trough work the same well (8 × the volume). Each channel has its own tip.
- Contacts: aspirate, mix (aspirate/dispense pairs), touchTip, blowout in a well, liquidProbe, a dispense or
  moveToWell below the liquid are contacts. A dispense is non-contact only when it is at the well top (origin
  "top") and the tip end stays more than CLEARANCE_MM above the liquid after it. Liquid height is estimated as
  max(volume / cross-section, depth × volume / max volume) (conservative for tapered wells).
  A contact adds the tip's carried species to the well's `contacts`, and the well's species to the tip's
  `carried` set (a tip that touched a compound carries it from then on).
- Problems (make the ledger fail): overflow (a well above its max volume), underflow (aspirating more than a
  well holds, incl. a well never filled), contamination (a tip that carried a compound touches a well that holds
  neither that compound nor receives it from that tip), outside (a nozzle over no well), hot-tip (radiation
  hygiene: from the contact at which a tip meets [γ-33P]ATP it may touch one more well - its destination - and
  nothing after that; a hot tip must go to the trash, not back to a tip rack).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from labkit.assays import readout_species
from labkit.simulate import commands as C
from labkit.simulate.literals import read_literal, read_liquids
from labkit.simulate.nozzles import NOZZLE_PITCH_MM, WellGrid, active_nozzles, channel_count, nozzle_wells
from labkit.simulate.state import (COMPOUND, DMSO, EMPTY_LIQUID, EPS_UL, HOT, READOUT_SPECIES, Addition, Key,
                                   LabwareInfo, Ledger, Problem, Tip, WellState, _compounds, _new_well)

__all__ = ["CLEARANCE_MM", "COMPOUND", "DMSO", "EMPTY_LIQUID", "EPS_UL", "HOT", "NOZZLE_PITCH_MM", "READOUT_SPECIES",
           "Addition", "Key", "LabwareInfo", "Ledger", "Problem", "Tip", "WellState", "active_nozzles",
           "channel_count", "nozzle_wells", "read_hot_waste", "read_literal", "read_liquids", "replay"]

CLEARANCE_MM = 1.0  # a non-contact dispense keeps the tip end this far above the liquid

_FREE = C.AreaTarget("")  # over no labware (after a move to coordinates)


@dataclass
class _Pipette:
    id: str
    name: str
    mount: str
    channels: int
    primary: tuple[int, int] = (0, 0)
    nozzles: list[tuple[int, int]] = field(default_factory=list)
    tips: dict[tuple[int, int], Tip] = field(default_factory=dict)
    location: C.Target = None
    min_ul: float = 0.0        # smallest volume of the current mode (0: not checked)
    modes: tuple[float, float, float] = (0.0, 0.0, 0.0)  # Flex 50 µL: default min, low-volume min, low-volume max


def _volume_modes(pipette_name: str) -> tuple[float, float, float] | None:
    """(default-mode minimum, low-volume minimum, low-volume maximum) of a pipette with a low-volume mode."""
    from opentrons_shared_data.pipette.types import PIPETTE_API_NAMES_MAP

    from labkit.labware.specs import LOW_VOLUME_MODE_MINIMUM, PIPETTES

    # the analysis names the pipette by its model ('p50_multi_flex'), the protocol by its API name
    names = [n for n in LOW_VOLUME_MODE_MINIMUM if pipette_name in (n, PIPETTE_API_NAMES_MAP[n].value)]
    if not names:
        return None
    spec = PIPETTES[names[0]]
    return (spec.default_min_ul, spec.min_ul, spec.low_volume_max_ul) if spec.low_volume_max_ul else None


class _Replay:
    def __init__(self, analysis: dict, liquids: dict):
        self.analysis = analysis
        self.liquid_specs = liquids
        # reagents that end an assay (stop, detection reagent): each registered assay kind names its own
        self.readout_species = readout_species()
        self.labware: dict[str, LabwareInfo] = {}  # id -> info
        self.grids: dict[str, WellGrid] = {}  # labware id -> its well geometry
        self.modules: dict[str, str] = {}  # module id -> slot
        self.pipettes: dict[str, _Pipette] = {}
        self.liquid_names = {lq["id"]: lq.get("displayName", lq["id"]) for lq in analysis.get("liquids", [])}
        self.used_compositions: dict[str, dict[str, float]] = {}
        self.wells: dict[Key, WellState] = {}
        self.tips: list[Tip] = []
        self.returned: dict[Key, Tip] = {}
        self.problems: list[Problem] = []
        self.overflowed: set[Key] = set()
        self.waste: dict[str, float] = {}
        self.waste_volume = 0.0
        self.i = 0
        self.handlers: dict[type, Callable] = {
            C.LoadLabware: self.on_load_labware, C.LoadModule: self.on_load_module,
            C.LoadPipette: self.on_load_pipette, C.LoadLiquid: self.on_load_liquid,
            C.MoveLabware: self.on_move_labware,
            C.ConfigureNozzles: self.on_configure_nozzles, C.PickUpTip: self.on_pick_up_tip,
            C.ConfigureForVolume: self.on_configure_for_volume,
            C.DropTip: self.on_drop_tip, C.DropTipInPlace: self.on_drop_tip_in_place,
            C.Aspirate: self.on_aspirate, C.AspirateInPlace: self.on_aspirate_in_place,
            C.Dispense: self.on_dispense, C.DispenseInPlace: self.on_dispense_in_place,
            C.BlowOut: self.on_blow_out, C.BlowOutInPlace: self.on_blow_out_in_place,
            C.TouchWell: self.on_touch_well, C.MoveToWell: self.on_move_to_well,
            C.MoveToArea: self.on_move_to_area, C.MoveFree: self.on_move_free,
        }

    # -- helpers
    def problem(self, kind: str, msg: str, key: Key | None = None) -> None:
        lab, w = key if key else ("", "")
        self.problems.append(Problem(kind, msg, lab, w, self.i))

    def slot_of(self, location: dict | str) -> str:
        if isinstance(location, str):
            return location
        if "slotName" in location:
            return str(location["slotName"])
        if "moduleId" in location:
            return self.modules.get(location["moduleId"], "module")
        if "labwareId" in location:
            parent = self.labware.get(location["labwareId"])
            return parent.slot if parent else "adapter"
        if "addressableAreaName" in location:
            return str(location["addressableAreaName"])
        return "off-deck"

    def well_state(self, labware_id: str, well: str) -> WellState:
        info = self.labware[labware_id]
        key = (info.label, well)
        s = self.wells.get(key)
        if s is None:
            s = self.wells[key] = _new_well(info, well)
        return s

    def composition_of(self, liquid_id: str) -> dict[str, float]:
        name = self.liquid_names.get(liquid_id, liquid_id)
        spec = self.liquid_specs.get(name)
        comp = {str(k): float(v) for k, v in (spec or {}).get("composition", {}).items()} if spec else \
            {f"liquid:{name}": 1.0}
        self.used_compositions[name] = comp
        return comp

    def channels(self, pip: _Pipette, labware_id: str, well: str) -> list[tuple[tuple[int, int], str | None]]:
        names = self.grids[labware_id].nozzle_wells(well, pip.primary, pip.nozzles) if pip.channels > 1 else [well]
        return list(zip(pip.nozzles, names))

    @staticmethod
    def move(pip: _Pipette, target: C.Target) -> None:
        if target is not None:
            pip.location = target

    # -- handlers: loading
    def on_load_labware(self, c: C.LoadLabware) -> None:
        slot = self.slot_of(c.location)
        label = c.display_name or f"{c.load_name} @ {slot}"
        taken = {i.label for i in self.labware.values()}
        base, k = label, 2
        while label in taken:
            label, k = f"{base} #{k}", k + 1
        self.labware[c.labware_id] = LabwareInfo(c.labware_id, label, c.load_name, slot,
                                                 bool(c.definition.get("parameters", {}).get("isTiprack")),
                                                 c.definition)
        self.grids[c.labware_id] = WellGrid(c.definition)

    def on_load_module(self, c: C.LoadModule) -> None:
        self.modules[c.module_id] = self.slot_of(c.location)

    def on_move_labware(self, c: C.MoveLabware) -> None:
        """A gripper or manual move: the labware keeps its wells (and label); its slot follows it."""
        info = self.labware.get(c.labware_id)
        if info is not None:
            info.slot = self.slot_of(c.location)

    def on_load_pipette(self, c: C.LoadPipette) -> None:
        n = channel_count(c.pipette_name)
        primary, nozzles = active_nozzles(n, None)
        self.pipettes[c.pipette_id] = pip = _Pipette(c.pipette_id, c.pipette_name, c.mount, n, primary, nozzles)
        spec = _volume_modes(c.pipette_name)
        if spec:  # a pipette with a low-volume mode starts in its default mode
            pip.modes, pip.min_ul = spec, spec[0]

    def on_load_liquid(self, c: C.LoadLiquid) -> None:
        comp = {} if c.liquid_id == EMPTY_LIQUID else self.composition_of(c.liquid_id)
        name = self.liquid_names.get(c.liquid_id, c.liquid_id)
        for well, vol in sorted(c.volume_by_well.items()):
            s = self.well_state(c.labware_id, well)
            v = 0.0 if c.liquid_id == EMPTY_LIQUID else float(vol)
            s.volume, s.amounts = v, {k: x * v for k, x in comp.items() if x > 0}
            s.loaded += v
            s.loaded_at = self.i
            s.liquids.append(name)
            self.check_overflow(s)

    # -- handlers: pipette commands (called with the command's pipette)
    def on_configure_nozzles(self, pip: _Pipette, c: C.ConfigureNozzles) -> None:
        pip.primary, pip.nozzles = active_nozzles(pip.channels, c.config)

    def on_configure_for_volume(self, pip: _Pipette, c: C.ConfigureForVolume) -> None:
        if pip.modes[0]:  # the engine's rule: below the default minimum -> the low-volume mode
            pip.min_ul = pip.modes[1] if c.volume < pip.modes[0] else pip.modes[0]

    def check_volume(self, pip: _Pipette, volume: float | None, what: str, key: Key) -> None:
        """A volume below the smallest of the pipette's current mode (Flex 50 µL: 5 µL unless low-volume)."""
        if pip.min_ul and volume is not None and 1e-6 < volume < pip.min_ul - 1e-6:
            self.problem("below minimum", f"{pip.name} {what} {volume:g} µL, below the {pip.min_ul:g} µL minimum of "
                                          "its current volume mode (configure_for_volume)", key)

    def on_pick_up_tip(self, pip: _Pipette, c: C.PickUpTip) -> None:
        self.move(pip, c.target)
        rack = self.labware[c.target.labware_id]
        for nozzle, name in self.channels(pip, c.target.labware_id, c.target.well):
            if name is None:
                continue
            tip = self.returned.pop((rack.label, name), None)
            if tip is None:
                tip = Tip(rack.label, name, pip.mount)
                self.tips.append(tip)
            else:
                tip.uses += 1
                tip.dropped = ""
            pip.tips[nozzle] = tip

    def on_drop_tip(self, pip: _Pipette, c: C.DropTip) -> None:
        self.move(pip, c.target)
        self.drop(pip, pip.location)

    def on_drop_tip_in_place(self, pip: _Pipette, c: C.DropTipInPlace) -> None:
        self.drop(pip, pip.location)

    def on_aspirate(self, pip: _Pipette, c: C.Aspirate) -> None:
        self.check_volume(pip, c.volume, "aspirates", (self.labware[c.target.labware_id].label, c.target.well))
        self.move(pip, c.target)
        self.aspirate(pip, c.target.labware_id, c.target.well, c.volume)

    def on_aspirate_in_place(self, pip: _Pipette, c: C.AspirateInPlace) -> None:
        if isinstance(pip.location, C.WellTarget):
            self.aspirate(pip, pip.location.labware_id, pip.location.well, c.volume)

    def on_dispense(self, pip: _Pipette, c: C.Dispense) -> None:
        if isinstance(c.target, C.WellTarget):
            self.check_volume(pip, c.volume, "dispenses", (self.labware[c.target.labware_id].label, c.target.well))
        self.move(pip, c.target)
        self.dispense(pip, pip.location, c.volume)

    def on_dispense_in_place(self, pip: _Pipette, c: C.DispenseInPlace) -> None:
        self.dispense(pip, pip.location, c.volume)

    def on_blow_out(self, pip: _Pipette, c: C.BlowOut) -> None:
        self.move(pip, c.target)
        self.dispense(pip, pip.location, None, always_contact=True)

    def on_blow_out_in_place(self, pip: _Pipette, c: C.BlowOutInPlace) -> None:
        self.dispense(pip, pip.location, None, always_contact=True)

    def on_touch_well(self, pip: _Pipette, c: C.TouchWell) -> None:
        self.move(pip, c.target)
        self.touch(pip, pip.location)

    def on_move_to_well(self, pip: _Pipette, c: C.MoveToWell) -> None:
        self.move(pip, c.target)
        self.touch(pip, pip.location, only_below_liquid=True)

    def on_move_to_area(self, pip: _Pipette, c: C.MoveToArea) -> None:
        self.move(pip, c.target)

    def on_move_free(self, pip: _Pipette, c: C.MoveFree) -> None:
        pip.location = _FREE

    # -- tips
    def drop(self, pip: _Pipette, where: C.Target) -> None:
        rack_well = where if isinstance(where, C.WellTarget) and self.labware[where.labware_id].is_tiprack else None
        slots: list[tuple[tuple[int, int], str | None]] = (self.channels(pip, rack_well.labware_id, rack_well.well)
                                               if rack_well is not None else [(n, None) for n in pip.tips])
        for nozzle, name in slots:
            tip = pip.tips.pop(nozzle, None)
            if tip is None:
                continue
            if rack_well is not None and name is not None:
                rack = self.labware[rack_well.labware_id].label
                tip.dropped = "returned"
                self.returned[(rack, name)] = tip
                if HOT in tip.carried:
                    self.problem("hot-tip", "a tip that carried hot ATP went back to the tip rack, not the trash",
                                 (rack, name))
            else:
                tip.dropped = "trash"
                tip.dropped_at = (where.name if isinstance(where, C.AreaTarget) else
                                  self.labware[where.labware_id].label if isinstance(where, C.WellTarget) else "")
            self.to_waste(tip.volume, tip.amounts)
            tip.volume, tip.amounts = 0.0, {}
        pip.tips.clear()

    def to_waste(self, volume: float, amounts: dict[str, float]) -> None:
        self.waste_volume += volume
        for k, a in amounts.items():
            self.waste[k] = self.waste.get(k, 0.0) + a

    # -- liquid
    def check_overflow(self, s: WellState) -> None:
        s.peak_volume = max(s.peak_volume, s.volume)
        if s.overflow and s.key not in self.overflowed:
            self.overflowed.add(s.key)
            self.problem("overflow", f"{s.volume:.4g} µL exceeds the well's {s.max_volume:.4g} µL", s.key)

    def contact(self, tip: Tip, s: WellState, delivering: set[str] | frozenset[str] = frozenset()) -> None:
        present = {k for k, a in s.amounts.items() if a > 0}
        foreign = _compounds(tip.carried) - present - set(delivering)
        if foreign:
            new = foreign - s.foreign
            s.foreign |= foreign
            if new:
                names = ", ".join(sorted(c[len(COMPOUND):] for c in new))
                self.problem("contamination", f"touched by a tip that carried {names}", s.key)
        hot = HOT in tip.carried or HOT in present
        s.contacts |= tip.carried
        s.n_contacts += 1
        tip.carried |= present
        if not tip.contacts or tip.contacts[-1] != s.key:
            tip.contacts.append(s.key)
        if hot:
            if not tip.hot_path or tip.hot_path[-1] != s.key:
                tip.hot_path.append(s.key)
                if len(tip.hot_path) == 3:
                    self.problem("hot-tip", f"a tip carrying hot ATP touched {tip.hot_path[0][1]}, then "
                                            f"{tip.hot_path[1][1]}, then this well (radiation hygiene: one "
                                            f"transfer per tip)", s.key)

    def aspirate(self, pip: _Pipette, labware_id: str, well: str, volume: float) -> None:
        for nozzle, name in self.channels(pip, labware_id, well):
            tip = pip.tips.get(nozzle)
            if tip is None:
                continue
            if name is None:
                self.problem("outside", f"nozzle {chr(65 + nozzle[0])}{nozzle[1] + 1} aspirated over no well",
                             (self.labware[labware_id].label, well))
                continue
            s = self.well_state(labware_id, name)
            self.contact(tip, s)
            s.withdrawals.append(self.i)
            tip.source = s.key
            take = min(volume, max(s.volume, 0.0))
            if take < volume - EPS_UL:
                s.underflow += volume - take
                self.problem("underflow", f"aspirating {volume:.4g} µL but the well holds {s.volume:.4g} µL",
                             s.key)
            if take <= 0:
                continue
            frac = take / s.volume
            for k, a in list(s.amounts.items()):
                moved = a * frac
                s.amounts[k] = a - moved
                tip.amounts[k] = tip.amounts.get(k, 0.0) + moved
            s.volume -= take
            tip.volume += take
            tip.carried |= {k for k, a in tip.amounts.items() if a > 0}

    @staticmethod
    def take_from_tip(tip: Tip, volume: float) -> tuple[float, dict[str, float]]:
        give = min(volume, tip.volume)
        if give <= 0 or tip.volume <= 0:
            return 0.0, {}
        frac = give / tip.volume
        moved = {k: a * frac for k, a in tip.amounts.items()}
        for k, a in moved.items():
            tip.amounts[k] -= a
        tip.volume -= give
        if tip.volume <= EPS_UL:
            tip.volume, tip.amounts = 0.0, {}
        return give, moved

    @staticmethod
    def is_contact(s: WellState, loc: dict, volume_after: float) -> bool:
        origin = (loc or {}).get("origin", "top")
        if origin != "top":
            return True
        z = float(((loc or {}).get("offset") or {}).get("z", 0.0))
        return s.depth + z <= s.liquid_height(volume_after) + CLEARANCE_MM

    def dispense(self, pip: _Pipette, where: C.Target, volume: float | None, always_contact: bool = False) -> None:
        """Dispense `volume` per channel (None: everything, as a blow-out) at a well or an area."""
        if where is None:
            return
        if isinstance(where, C.AreaTarget):  # trash, waste chute, or free space
            for held in pip.tips.values():
                give, moved = self.take_from_tip(held, held.volume if volume is None else volume)
                self.to_waste(give, moved)
            return
        labware_id, well, loc = where.labware_id, where.well, where.location
        if self.labware[labware_id].is_tiprack:
            return
        for nozzle, name in self.channels(pip, labware_id, well):
            tip = pip.tips.get(nozzle)
            if tip is None:
                continue
            give, moved = self.take_from_tip(tip, tip.volume if volume is None else volume)
            if name is None:
                if give > 0:
                    self.problem("outside", f"nozzle {chr(65 + nozzle[0])}{nozzle[1] + 1} dispensed "
                                            f"{give:.4g} µL over no well", (self.labware[labware_id].label, well))
                self.to_waste(give, moved)
                continue
            s = self.well_state(labware_id, name)
            delivered = frozenset(k for k, a in moved.items() if a > 0)
            if always_contact or self.is_contact(s, loc, s.volume + give):
                self.contact(tip, s, set(delivered))
            else:
                s.n_noncontact += 1
            if s.snapshot is None and s.volume > EPS_UL and any(moved.get(k, 0.0) > 0 for k in self.readout_species):
                s.snapshot, s.snapshot_volume = s.composition, s.volume
            if give > 0:
                s.additions.append(Addition(self.i, give, delivered, tip.source))
            for k, a in moved.items():
                s.amounts[k] = s.amounts.get(k, 0.0) + a
            s.volume += give
            self.check_overflow(s)

    def touch(self, pip: _Pipette, where: C.Target, only_below_liquid: bool = False) -> None:
        if not isinstance(where, C.WellTarget) or self.labware[where.labware_id].is_tiprack:
            return
        for nozzle, name in self.channels(pip, where.labware_id, where.well):
            tip = pip.tips.get(nozzle)
            if tip is None or name is None:
                continue
            s = self.well_state(where.labware_id, name)
            if not only_below_liquid or self.is_contact(s, where.location, s.volume):
                self.contact(tip, s)

    # -- main loop
    def run(self) -> Ledger:
        for self.i, raw in enumerate(self.analysis.get("commands", [])):  # noqa: B020 - handlers read self.i
            c = C.parse(raw)
            if c is None:
                continue
            handler = self.handlers[type(c)]
            if isinstance(c, C.PipetteCommand):
                pip = self.pipettes.get(c.pipette_id)
                if pip is not None:
                    handler(pip, c)
            else:
                handler(c)
        labels = {i.label: i for i in self.labware.values()}
        return Ledger(self.wells, labels, self.tips, self.problems, self.used_compositions, self.waste,
                      self.waste_volume, str(self.analysis.get("robotType", "")))


def replay(analysis: dict, liquids: dict | None = None, hot_waste: str = "") -> Ledger:
    """Replay the analyzed commands into a Ledger (liquids: the protocol's LIQUIDS literal, by display name;
    hot_waste: where the protocol says hot tips go, `read_hot_waste`)."""
    ledger = _Replay(analysis, liquids or {}).run()
    ledger.hot_waste = hot_waste
    return ledger


def read_hot_waste(path: str | Path) -> str:
    """Where a generated protocol sends hot tips, in the ledger's terms (`Tip.dropped_at`): a Flex trash bin's
    area (movableTrash<slot>) or the waste labware's label; '' when it has no HOT_WASTE."""
    hot = read_literal(path, "HOT_WASTE")
    if not isinstance(hot, dict):
        return ""
    if hot.get("kind") == "bin":
        return f"movableTrash{hot.get('slot', '')}"
    labware = read_literal(path, "LABWARE")
    items = labware if isinstance(labware, list) else []
    item = next((x for x in items if isinstance(x, dict) and x.get("key") == hot.get("labware")), None)
    if item is None:
        return ""
    return str(item.get("label") or f"{item.get('load_name')} @ {item.get('slot')}")
