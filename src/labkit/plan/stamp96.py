"""Flex 96-channel plans: whole-plate stamps from patterned source plates, tip racks moved by the gripper.

The Flex 96-channel pipette (`flex_96channel_1000`) takes both mounts and works all 96 wells of a plate at once:
every reagent goes into every well in one aspirate and one dispense (a "stamp"). What that needs, and what labkit's
96-channel protocols therefore ask of the operator:

* **Patterned source plates.** A stamp copies a source plate well for well, so every liquid that differs between
  wells comes from a plate laid out exactly like the assay plate: the DMSO series (each well its assay well's point,
  every other well DMSO), the kinase mixes and the hot ATP (kinase assay) and the cell suspension (viability). The
  operator (or an 8-channel run) prepares them; the protocol's liquids list every well and volume. The robot makes
  the intermediate from the DMSO series and a plate of buffer or medium (`intermediate_plates`,
  `stamp_intermediate`: the layout's ratio scaled to the 5 µL minimum), so it mirrors the assay plate well for well.
* **Tip racks on the Flex 96 tip-rack adapter.** A full 96-tip pick-up needs the rack on
  `opentrons_flex_96_tiprack_adapter` (the Opentrons analysis refuses it otherwise). Fresh racks stand in deck
  slots; the gripper puts each on the adapter for its stamp and back into its slot, empty, after it.
* **Reservoirs with one trough** (`nest_1_reservoir_195ml`) for reagents every well gets (stop, CellTiter-Glo);
  its whole floor must stay covered, hence the large dead volume planned.
* 96-well plates only: a 384-well plate would need quadrant stamps, which labkit does not plan.

Features: `load_adapter`, `move_labware(use_gripper=True)` (API 2.15) and `load_trash_bin` (2.16); labkit's
protocols request 2.20 for their other features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from labkit.errors import PlanError
from labkit.labware.specs import INTERMEDIATE_PLATE, LABWARE, OVERAGE
from labkit.plan.builder import Builder, round_up
from labkit.plan.steps import Disp, LabwareUse, LoadLabware, Loc, MoveLabware, Pause, Stroke, Transfer

PIPETTE_96 = "flex_96channel_1000"
TIP_ADAPTER = "opentrons_flex_96_tiprack_adapter"
TIPS_96 = ((50.0, "opentrons_flex_96_tiprack_50ul"), (200.0, "opentrons_flex_96_tiprack_200ul"),
           (1000.0, "opentrons_flex_96_tiprack_1000ul"))
PATTERN_PLATE = INTERMEDIATE_PLATE
TROUGH = "nest_1_reservoir_195ml"
WELLS_96 = tuple(f"{r}{c}" for c in range(1, 13) for r in "ABCDEFGH")
PIPETTES_CHOICES = ("standard", "96")  # --pipettes: labkit's single/8-channel choice, or the Flex 96-channel

__all__ = ["PIPETTES_CHOICES", "PIPETTE_96", "Stamper", "build96", "check96", "tips_for", "unsupported96"]


def check96(exp, robot: str) -> None:
    """PlanError (exit 2) if the 96-channel cannot run this experiment: not a Flex, or a plate that is not 96-well."""
    if robot != "flex":
        raise PlanError(f"the 96-channel pipette is a Flex pipette; use --robot flex (not {robot!r})")
    for i, p in enumerate(exp.plates):
        if p.format != 96:
            raise PlanError(f"plate {p.id} is a {p.format}-well plate: labkit's 96-channel protocols stamp whole "
                            "96-well plates only (a 384-well plate would need quadrant stamps, which labkit does not "
                            "plan); use --pipettes standard for it", field=f"plates[{i}].format")
    why = exp.problems96() if hasattr(exp, "problems96") else ""  # what the layout's own kind cannot stamp
    if why:
        raise PlanError(why)


def unsupported96(exp, robot: str = "flex") -> str:
    """Why the 96-channel cannot run an experiment ('' when it can)."""
    try:
        check96(exp, robot)
    except PlanError as exc:
        return exc.message
    if getattr(exp.assay_kind, "build96", None) is None:
        return f"the 96-channel pipette is not planned for {exp.assay} layouts"
    return ""


def build96(config, exp):
    """The 96-channel plan of an experiment: its assay kind's `build96`, or PlanError if the kind has none."""
    check96(exp, config.robot)
    kind = exp.assay_kind
    build = getattr(kind, "build96", None)
    if build is None:
        raise PlanError(f"the 96-channel pipette is not planned for {kind.name} layouts (only the radiometric kinase "
                        "and the CellTiter-Glo viability assays); use --pipettes standard", field="assay")
    return build(config, exp)


def tips_for(volume: float) -> str:
    """The smallest Flex 96 tip rack whose tips hold `volume` µL."""
    for cap, rack in TIPS_96:
        if volume <= cap + 1e-9:
            return rack
    raise PlanError(f"{volume:g} µL is more than a 96-channel tip holds (1000 µL)")


def pattern_volume(volume: float) -> float:
    """µL the operator puts in each well of a patterned plate for one stamp of `volume` µL (overage + dead volume)."""
    return round_up(volume * (1 + OVERAGE) + LABWARE[PATTERN_PLATE].dead_ul, 5.0)


@dataclass
class Stamper:
    """Deck and stamps of a 96-channel plan on a Builder: the tip-rack adapter, what stands in each slot, racks moved
    by the gripper, and labware the operator puts on (or takes off) the deck during the run.

    Args:
        b: the builder (robot 'flex').
        max_volume: the largest stamp (chooses the tip size).
        adapter_slot: where the tip-rack adapter stands.
    """

    b: Builder
    max_volume: float
    adapter_slot: str
    pip: str = ""
    tiprack: str = ""
    where: dict[str, str] = field(default_factory=dict)       # slot -> labware key standing there now
    slot_of: dict[str, str] = field(default_factory=dict)     # rack key -> its slot (off the adapter)
    labels: dict[str, str] = field(default_factory=dict)
    running: bool = False      # the run has begun: labware put on now is loaded by the operator mid-run
    on_adapter: str = ""       # rack key on the adapter
    holding: str = ""          # rack key whose tips are on the pipette
    racks: int = 0
    pending_off: list[str] = field(default_factory=list)  # quiet take-aways the next pause asks for
    single: str = ""           # the rack of single tips (partial pick-ups, never on the adapter)
    single_used: int = 0       # its tips used so far

    def __post_init__(self) -> None:
        if self.b.config.robot != "flex":
            raise PlanError("the 96-channel pipette is a Flex pipette")
        self.pip = self.b.pipette(PIPETTE_96)
        self.tiprack = tips_for(self.max_volume)
        self.b.deck.take("tip_adapter", self.adapter_slot)
        self.b.plan.labware.append(LabwareUse("tip_adapter", TIP_ADAPTER, self.adapter_slot, "", "", adapter=True))

    # -- deck ----------------------------------------------------------------------------------------------------
    def put(self, key: str, load_name: str, slot: str, label: str = "") -> str:
        """A new labware in a deck slot: with the deck at the start, or (once running) put there by the operator
        during the run, after whatever stood there is taken away."""
        self.clear(slot)
        spec = LABWARE[load_name] if load_name in LABWARE else None
        custom = bool(spec and spec.custom)
        if not self.running:
            self.b.deck.take(key, slot)
            self.b.plan.labware.append(LabwareUse(key, load_name, slot, label, "", False, custom))
        else:
            self.b.plan.labware.append(LabwareUse(key, load_name, slot, label, "", False, custom, initial=False))
            self.b.add(LoadLabware(key))
        self.where[slot] = key
        self.labels[key] = label or load_name
        return key

    def put_on(self, key: str, load_name: str, module: str, label: str = "") -> str:
        """A new labware on a module (at the start, or put there by the operator during the run)."""
        self.b.plan.labware.append(LabwareUse(key, load_name, "", label, module, initial=not self.running))
        if self.running:
            self.b.add(LoadLabware(key))
        self.labels[key] = label or load_name
        return key

    def move_in(self, key: str, slot: str, text: str) -> None:
        """The operator puts a labware that is off the deck into a slot (after the slot is cleared)."""
        self.clear(slot)
        self.b.add(MoveLabware(key, slot, False, text))
        self.where[slot] = key

    def take_away(self, key: str, text: str = "", quiet: bool = False) -> None:
        """The operator takes a labware off the deck: a manual move the robot stops for, or (quiet, a labware in a
        slot) one the next pause's text asks for, without a stop of its own."""
        slots = [slot for slot, k in self.where.items() if k == key]
        for slot in slots:
            del self.where[slot]
        if quiet and slots:
            self.b.add(MoveLabware(key, "offdeck", False, "", pause=False))
            self.pending_off.append(text or f"{self.labels.get(key, key)} from slot {slots[0]}")
            return
        self.b.add(MoveLabware(key, "offdeck", False, text or f"Take {self.labels.get(key, key)} off the deck"))

    def clear(self, slot: str, quiet: bool = False) -> None:
        """Take away what stands in a slot (nothing to do if it is empty); quiet: at the next pause."""
        old = self.where.get(slot)
        if old is not None:
            self.take_away(old, f"{self.labels.get(old, old)} from slot {slot}" if quiet else
                           f"Take {self.labels.get(old, old)} away from slot {slot}", quiet)

    def rack(self, slot: str) -> str:
        """A fresh tip rack of the plan's tip size in a slot."""
        self.racks += 1
        key = f"tips96_{self.racks}"
        self.put(key, self.tiprack, slot, f"96-channel tips {self.racks}")
        self.slot_of[key] = slot
        return key

    def pause(self, text: str, loads: tuple[str, ...] = ()) -> None:
        """An operator pause (loads: liquids put on the deck now, at the volumes of the plan's loads); it first asks
        for the labware taken away quietly since the last pause."""
        self.running = True
        if self.pending_off:
            text = f"Take off the deck: {'; '.join(self.pending_off)}. Then: {text}"
            self.pending_off = []
        self.b.add(Pause(text, tuple(dict.fromkeys(loads))))

    def begin(self) -> None:
        """From here on, labware put on the deck is loaded during the run."""
        self.running = True

    # -- patterned plates ----------------------------------------------------------------------------------------
    def pattern(self, key: str, slot: str, label: str, contents: dict[str, str], volume: float) -> list[str]:
        """A patterned source plate: each of the 96 wells holds the liquid `contents` names for it, enough for one
        stamp of `volume` µL; returns the liquids it holds (for the pause that brings it)."""
        self.put(key, PATTERN_PLATE, slot, label)
        each = pattern_volume(volume)
        for well in WELLS_96:
            self.b.load(contents[well], Loc(key, well), each)
        return list(dict.fromkeys(contents[w] for w in WELLS_96))

    # -- stamps --------------------------------------------------------------------------------------------------
    def mount(self, rack: str) -> None:
        """The gripper puts a rack on the adapter (the rack there before goes back to its slot)."""
        if self.on_adapter == rack:
            return
        self.unmount()
        self.b.add(MoveLabware(rack, "tip_adapter", True, ""))
        self.on_adapter = rack

    def unmount(self) -> None:
        """The gripper puts the rack on the adapter back into its slot."""
        if self.on_adapter:
            self.b.add(MoveLabware(self.on_adapter, self.slot_of[self.on_adapter], True, ""))
            self.on_adapter = ""

    def stamp(self, text: str, rack: str, source: str | Loc, dest: str, volume: float, *, top: bool = False,
              mix_before: tuple[int, float] | None = None, mix_after: tuple[int, float] | None = None,
              keep_tips: bool = False) -> None:
        """One whole-plate transfer: `volume` µL from every well of `source` (a plate key, or a reservoir well) into
        the same well of `dest`, with 96 tips of `rack` (fresh unless kept from the stamp before); top=True
        dispenses at the well top without touching the liquid; keep_tips holds the tips for the next stamp."""
        if volume > self.max_volume + 1e-9:
            raise PlanError(f"a {volume:g} µL stamp is more than the {self.max_volume:g} µL the tips were chosen for")
        src = source if isinstance(source, Loc) else Loc(source, "A1")
        tip = None
        if self.holding != rack:
            if self.holding:
                raise PlanError(f"the 96-channel still holds the tips of {self.holding}")
            self.mount(rack)
            tip = Loc(rack, "A1")
            self.holding = rack
        st = Stroke(src, float(volume), (Disp(Loc(dest, "A1"), float(volume), top),), tip, mix_before, mix_after,
                    "", not keep_tips)
        self.b.add(Transfer(text, self.pip, (st,), 0))
        self.b._count_draw(st, 96, self.pip, 0)
        self.running = True
        if not keep_tips:
            self.holding = ""
            self.unmount()

    def single_rack(self, slot: str, rack: str) -> str:
        """A rack of tips for single-nozzle pick-ups in a slot (standing on the deck, not on the adapter: a partial
        pick-up presses the tips on like a single-channel pipette, and the adapter's posts would be in the way)."""
        self.racks += 1
        self.single = f"tips96_{self.racks}"
        self.single_used = 0
        self.put(self.single, rack, slot, "single tips (96-channel, one nozzle)")
        return self.single

    def spot(self, text: str, pairs: list[tuple[Loc, Loc]], volume: float) -> None:
        """One well to one well with the front-right nozzle (H12) alone, a fresh single tip for each
        pair, dropped after it (SINGLE nozzle layout, API 2.20). Tips are taken from the single rack's back-left
        corner onwards (A1, B1, … H1, A2 …), so the rest of the head, which stands behind and to the left of the
        H12 nozzle, only ever passes over emptied tip positions."""
        if not self.single:
            raise PlanError("no rack of single tips on the deck for a single-nozzle transfer")
        if self.holding:
            raise PlanError(f"the 96-channel still holds the tips of {self.holding}")
        strokes = []
        for src, dest in pairs:
            if self.single_used >= 96:
                raise PlanError("the rack of single tips is used up; plan fewer total-counts wells per run")
            tip = Loc(self.single, WELLS_96[self.single_used])
            self.single_used += 1
            st = Stroke(src, float(volume), (Disp(dest, float(volume), False),), tip, None, None, "", True)
            strokes.append(st)
            self.b._count_draw(st, 1, self.pip, 1)
        self.b.add(Transfer(text, self.pip, tuple(strokes), 1))

    def trough(self, key: str, slot: str, label: str, liquid: str) -> Loc:
        """A one-trough reservoir of a reagent every well gets (its volume to load is computed at finish)."""
        self.put(key, TROUGH, slot, label)
        return self.b.reservoir_well(key, liquid)


def mix_for(volume: float, tip_ul: float) -> tuple[int, float]:
    """A 3× mix of half the well's volume, within the tip."""
    return (3, float(min(tip_ul, max(5.0, math.floor(volume / 2)))))


MIN_UL = 5.0  # the 96-channel's smallest volume (default liquid class, shared data)
COMPOUND_ROLES = ("sample", "reference")


@dataclass(frozen=True)
class Dilution:
    """The on-deck intermediate dilution: `solvent` µL of the patterned solvent plate into `diluent` µL of buffer or
    medium per well — the layout's intermediate ratio, scaled up to the 96-channel's 5 µL minimum."""

    scale: int
    solvent: float
    diluent: float

    @classmethod
    def of(cls, exp) -> "Dilution":
        """The dilution for an experiment's volumes (PlanError if it does not fit the intermediate plate)."""
        v = exp.volumes
        k = max(1, math.ceil(MIN_UL / v.intermediate_solvent - 1e-9))
        d = cls(k, k * v.intermediate_solvent, k * v.intermediate_diluent)
        cap = LABWARE[PATTERN_PLATE].capacity_ul
        if d.solvent + d.diluent > cap:
            raise PlanError(f"the 96-channel's intermediate ({d.solvent:g} µL solvent series into {d.diluent:g} µL, "
                            f"the layout's ratio scaled to its {MIN_UL:g} µL minimum) overflows a {cap:g} µL well; "
                            "lower volumes.intermediate_diluent", field="volumes.intermediate_diluent")
        return d


def series_liquids(b: Builder, exp) -> dict[tuple[str, int], str]:
    """(compound, point) -> the liquid of a patterned solvent-plate well: the point of the solvent series at its
    source concentration; ('', 0) -> the pure solvent (vehicle)."""
    from labkit.plan.common import solvent_species
    from labkit.units import si_conc

    solvent = exp.compounds[0].solvent
    out = {("", 0): b.liquid(solvent, f"{solvent} (serial-dilution solvent and vehicle)", solvent_species(solvent))}
    for c in exp.compounds:
        s = exp.scheme(c)
        for k, conc in enumerate(s.source):
            comp = {f"compound:{c.name}": conc}
            comp.update(solvent_species(c.solvent))
            out[(c.name, k)] = b.liquid(f"{c.name} point {k + 1} in {c.solvent} {si_conc(conc)}",
                                        f"{c.name} {si_conc(conc)} in {c.solvent}: point {k + 1} of the 1:"
                                        f"{c.dilution.factor:g} series from {si_conc(s.source[0])}", comp)
    return out


def series_pattern(exp, plate_id: str, liquids: dict[tuple[str, int], str],
                   roles: dict[str, str] | None = None) -> dict[str, str]:
    """Well -> liquid of a plate's patterned solvent plate: each compound well its series point, every other well
    the pure solvent (controls get the vehicle; empty wells get solvent too, so every tip draws liquid); `roles`:
    the liquid of the wells of a control role that gets one of its own (role -> liquid, e.g. a viability kill
    control in the solvent)."""
    out = {w: liquids[("", 0)] for w in WELLS_96}
    for w in exp.wells[plate_id]:
        if w.role in COMPOUND_ROLES:
            out[w.name] = liquids[(w.compound, w.point)]
        elif roles and w.role in roles:
            out[w.name] = roles[w.role]
    return out


def intermediate_plates(s: "Stamper", exp, plate_id: str, n: int, series: dict[tuple[str, int], str],
                        diluent: str, diluent_name: str, series_slot: str, inter_slot: str,
                        roles: dict[str, str] | None = None) -> tuple[str, str, list[str]]:
    """Put a plate's patterned solvent plate and a plate prefilled with diluent on the deck: (their keys, and the
    liquids the operator brings with them); roles: see series_pattern."""
    from labkit.labware.specs import SOURCE_PLATE

    d = Dilution.of(exp)
    src, inter = f"series_{n}", f"inter_{n}"
    s.put(src, SOURCE_PLATE, series_slot, f"{plate_id} series in {exp.compounds[0].solvent} (patterned)")
    each = round_up(d.solvent * (1 + OVERAGE) + LABWARE[SOURCE_PLATE].dead_ul, 5.0)
    pattern = series_pattern(exp, plate_id, series, roles)
    for well in WELLS_96:
        s.b.load(pattern[well], Loc(src, well), each)
    s.put(inter, PATTERN_PLATE, inter_slot, f"{plate_id} intermediate (in {diluent_name})")
    for well in WELLS_96:
        s.b.load(diluent, Loc(inter, well), d.diluent)
    return src, inter, list(dict.fromkeys([*pattern.values(), diluent]))


def stamp_intermediate(s: "Stamper", exp, plate_id: str, src: str, inter: str, diluent_name: str, rack: str) -> None:
    """Stamp the solvent series into the diluent, mixed; the tips stay on for the compound stamp that follows (each
    tip keeps to its own well's compound point)."""
    d = Dilution.of(exp)
    tip_ul = float(s.tiprack.rsplit("_", 1)[-1].removesuffix("ul"))
    s.stamp(f"{plate_id}: intermediate — {d.solvent:g} µL of the solvent series into {d.diluent:g} µL "
            f"{diluent_name} in every well, mixed (96-channel stamp; the tips stay on for the compound)", rack, src,
            inter, d.solvent, mix_after=mix_for(d.solvent + d.diluent, tip_ul), keep_tips=True)
