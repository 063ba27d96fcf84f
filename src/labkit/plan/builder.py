"""Builds a Plan: deck, pipettes, explicit tips, strokes, and the volumes the operator must load.

A Builder is made for one build: `Builder(BuildConfig(...))`, plus, for a second pass on an arranged deck, the
8-channel classes and the `Arrangement` a first (probe) build found. Its state lives in small objects: the
deck (plan.deck.Deck), the tip racks (plan.tips.TipRacks) and the reagents (plan.reagents.Reagents).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, OVERAGE, PIPETTES, ROBOTS, PipetteSpec
from labkit.plan.checks import channel_wells
from labkit.plan.deck import Deck
from labkit.plan.reagents import Reagents, round_up, well_names
from labkit.plan.steps import (Comment, Disp, Distribute, HotWaste, LabwareUse, Liquid, LiquidLoad, Loc, ModuleUse,
                               Plan, PipetteUse, Step, Stroke, Transfer)
from labkit.plan.tips import TipRacks
from labkit.tables import row_letters
from labkit.wells import parse_well

__all__ = ["Arrangement", "BuildConfig", "Builder", "Pool", "RowPool", "per_stroke", "round_up", "well_names"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")
TIP_POLICIES = ("per_step", "per_series")
WASTE_KEY = "waste"  # the radioactive-waste container's key (a labware on the OT-2, a deck place on the Flex)
WASTE_CONTAINER = "nest_1_reservoir_195ml"  # OT-2: an empty 1-well reservoir (line it) takes the hot tips


@dataclass(frozen=True)
class BuildConfig:
    """What a plan is built for: robot, names recorded in the protocol, tip policy, and whether 8-channel
    pipettes may be used. Raises PlanError for an unknown robot or tip policy."""

    robot: str
    name: str
    description: str = ""
    assay: str = ""
    layout_sha256: str = ""
    tip_policy: str = "per_step"
    multichannel: bool = True   # False: single-channel pipettes only
    pipettes: str = "standard"  # 'standard' (single / 8-channel) | '96' (the Flex 96-channel: plan.stamp96)
    modules: tuple[tuple[str, str, str], ...] = ()  # (key, name, slot) a batch keeps on its deck unused, because the
    #                                                run's other batches use them (plan.batches; kinase: interleaving)

    def __post_init__(self) -> None:
        if self.robot not in ROBOTS:
            raise PlanError(f"unknown robot {self.robot!r}; expected one of {sorted(ROBOTS)}")
        if self.tip_policy not in TIP_POLICIES:
            raise PlanError(f"unknown tip policy {self.tip_policy!r}; expected per_step or per_series")
        if self.pipettes not in ("standard", "96"):
            raise PlanError(f"unknown pipettes {self.pipettes!r}; expected standard or 96")


@dataclass(frozen=True)
class Arrangement:
    """A deck arranged for partial nozzle layouts (plan.arrange): the deck with its modules and slots taken, the
    slot of every arranged key, the slot kept for each tip-rack kind, and the racks worked with partial layouts."""

    deck: Deck
    slots: dict[str, str] = field(default_factory=dict)
    rack_slots: dict[str, str] = field(default_factory=dict)
    partial_racks: frozenset[str] = frozenset()


def stroke_max(spec: PipetteSpec, volume: float) -> float:
    """The most one aspirate may hold when dispensing `volume` µL: the pipette's maximum, or for a volume below the
    default mode's minimum (Flex 50 µL) the maximum of its low-volume mode."""
    if spec.low_volume_max_ul and volume < spec.default_min_ul - 1e-9:
        return spec.low_volume_max_ul
    return spec.max_ul


def per_stroke(spec: PipetteSpec, volume: float) -> int:
    """Wells one aspirate of a pipette's multi-dispense feeds (volume each, plus its disposal volume)."""
    top = stroke_max(spec, volume)
    n = max(1, int((top - spec.disposal_ul + 1e-9) // volume))
    return 1 if volume + spec.disposal_ul > top else n


def strokes_for(volume: float, max_ul: float) -> int:
    """Strokes a volume takes with a pipette of this maximum (more than one above it, split evenly)."""
    return max(1, math.ceil(volume / max_ul - 1e-9))


def bin_slots(robot, taken: set[str]) -> list[str]:
    """Flex slots a trash bin may take: columns 1 and 3, not in front of a used staging-area slot (column 4)."""
    return [s for s in robot.slots if s[1:] == "1" or (s[1:] == "3" and f"{s[0]}4" not in taken)]


class Pool:
    """A reagent spread over as many wells of a reservoir / tube rack as its volume needs."""

    def __init__(self, b: "Builder", labware: str, liquid: str):
        self.b, self.labware, self.liquid = b, labware, liquid
        self.locs: list[Loc] = []
        spec = LABWARE[b.plan.labware_by_key()[labware].load_name]
        self.usable = (spec.capacity_ul - spec.dead_ul) / (1 + OVERAGE) - 10.0

    def take(self, volume: float) -> Loc:
        """The well to draw `volume` µL from (a new well once the current one is used up)."""
        if not self.locs or self.b.drawn(self.locs[-1]) + volume > self.usable:
            self.locs.append(self.b.reservoir_well(self.labware, self.liquid, new=bool(self.locs)))
        return self.locs[-1]


class RowPool(Pool):
    """A reagent in a column of a plate, one well per row (like an 8-tube strip): an 8-channel draws each nozzle's
    share from its own row with little dead volume; single wells draw from the row of their destination."""

    def __init__(self, b: "Builder", labware: str, liquid: str):
        super().__init__(b, labware, liquid)
        self.column = 0

    def take_rows(self, volume: float, rows: list[int], primary: int) -> Loc:
        """The well under the primary nozzle for drawing `volume` µL from each of these rows (a fresh column of the
        plate once a row would run short)."""
        letters = row_letters(8)
        if not self.column or any(self.b.drawn(Loc(self.labware, f"{letters[r]}{self.column}")) + volume
                                  > self.usable for r in rows):
            self.column = self.b.plate_column(self.labware, self.liquid)
        return Loc(self.labware, f"{letters[primary]}{self.column}")


class Builder:
    """Accumulates labware, liquids and steps for one plan; tracks reagent draws; assigns tips.

    Args:
        config: robot, names, tip policy, multichannel.
        multi: pipette classes ('small', 'large') mounted as 8-channels (they work single wells with one nozzle).
        arrangement: a deck arranged for partial nozzle layouts (plan.arrange.arrange_deck), else a fresh deck.
    """

    def __init__(self, config: BuildConfig, *, multi: frozenset[str] | set[str] = frozenset(),
                 arrangement: Arrangement | None = None):
        self.config = config
        self.robot = ROBOTS[config.robot]
        self.refusals: list[PlanError] = []  # what the finished plan cannot hold (raised by finish, not by a probe)
        self.multi: frozenset[str] = frozenset(multi)
        self.slots: dict[str, str] = dict(arrangement.slots) if arrangement else {}
        self.deck = arrangement.deck if arrangement else Deck(self.robot)
        self.plan = Plan(name=config.name, description=config.description, robot=config.robot,
                         robot_type=self.robot.robot_type, assay=config.assay, layout_sha256=config.layout_sha256,
                         tip_policy=config.tip_policy, trash=self.robot.trash)
        self.tips = TipRacks(self.robot, self.deck, self.plan,
                             rack_slots=arrangement.rack_slots if arrangement else None,
                             partial_racks=arrangement.partial_racks if arrangement else frozenset())
        self.reagents = Reagents()
        self._mounts = ["left", "right"]
        self._pools: dict[tuple[str, str], Pool] = {}

    @property
    def allow_multi(self) -> bool:
        """Whether 8-channel pipettes may be used at all (BuildConfig.multichannel)."""
        return self.config.multichannel

    def hot_waste(self, label: str, slot: str | None = None) -> HotWaste | None:
        """A dedicated radioactive-waste container for hot tips: on the Flex a second trash bin (columns 1 and 3
        only), on the OT-2 (one fixed trash) an empty 1-well reservoir the tips drop into. None, with a plan
        warning, when the deck has no free slot for it (hot tips then go to the shared trash)."""
        try:
            if self.robot.gripper:  # Flex: a trash bin fixture (load_trash_bin, API 2.16+)
                among = bin_slots(self.robot, set(self.deck.owner))
                where = HotWaste("bin", self.deck.take(WASTE_KEY, slot, among=among))  # low, like the trash
            else:
                self.labware(WASTE_KEY, WASTE_CONTAINER, label=label, slot=slot)
                where = HotWaste("labware", self.plan.labware_by_key()[WASTE_KEY].slot, WASTE_KEY)
        except PlanError as exc:
            self.plan.warnings.append(f"no radioactive-waste container on the deck ({exc.message}): hot tips go to "
                                      "the shared trash; empty and monitor it as radioactive waste after the run")
            return None
        self.plan.hot_waste = where
        return where

    def to_hot_waste(self, first: int) -> None:
        """Every tip dropped by the liquid steps from step index `first` on goes (with its blow-outs) into the
        plan's radioactive waste (nothing changes when the plan has none)."""
        if self.plan.hot_waste is None:
            return
        for i in range(first, len(self.plan.steps)):
            step = self.plan.steps[i]
            if isinstance(step, (Transfer, Distribute)):
                strokes = tuple(replace(st, waste=True) if st.drop or st.blow_out == "trash" else st
                                for st in step.strokes)
                self.plan.steps[i] = replace(step, strokes=strokes)

    def keep_tips_near(self, *slots: str) -> None:
        """New tip racks go to the free slots closest to these (default: the back of the deck)."""
        self.tips.near = tuple(slots)

    # -- deck ----------------------------------------------------------------------------------------------------
    def module(self, key: str, name: str, slot: str) -> str:
        """Place a module in a slot."""
        self.deck.take(key, slot, tall=True)
        self.plan.modules.append(ModuleUse(key, name, slot))
        return key

    def labware(self, key: str, load_name: str, label: str = "", module: str = "", slot: str | None = None,
                near: tuple[str, ...] = ()) -> str:
        """Place a labware on a slot (the next free one, or the free one closest to `near`), or on a module."""
        spec = LABWARE[load_name]
        where = "" if module else self.deck.take(key, slot, near=near)
        self.plan.labware.append(LabwareUse(key, load_name, where, label, module, False, spec.custom))
        return key

    def parked(self, key: str, load_name: str, label: str = "", slot: str | None = None) -> str:
        """A labware that waits, unpipetted, until it is moved onto a module: on the Flex in a free staging-area slot
        (column 4: the gripper reaches it, no pipette does, so it costs no working slot), else in a deck slot (given
        or the next free one); on the OT-2, which moves labware by hand anyway, off the deck."""
        if not self.robot.gripper:
            return self.offdeck(key, load_name, label)
        free = [s for s in self.robot.staging if s not in self.deck.owner]
        if slot is None and free:
            self.deck.owner[free[0]] = key
            self.plan.labware.append(LabwareUse(key, load_name, free[0], label, "", False, LABWARE[load_name].custom))
            return key
        return self.labware(key, load_name, label=label, slot=slot)

    def offdeck(self, key: str, load_name: str, label: str = "") -> str:
        """A labware that starts off the deck (moved on by the operator or the gripper when needed)."""
        spec = LABWARE[load_name]
        self.plan.labware.append(LabwareUse(key, load_name, "offdeck", label, "", False, spec.custom))
        return key

    def adapter(self, key: str, load_name: str, module: str) -> str:
        """Put an adapter on a module."""
        self.plan.labware.append(LabwareUse(key, load_name, "", "", module, True))
        return key

    def pipette(self, name: str) -> str:
        """Mount a pipette (left first); returns its key."""
        for p in self.plan.pipettes:
            if p.name == name:
                return p.key
        if not self._mounts:
            raise PlanError(f"both mounts are taken ({', '.join(p.name for p in self.plan.pipettes)}); cannot "
                            f"also mount {name}")
        key = name
        self.plan.pipettes.append(PipetteUse(key, name, self._mounts.pop(0)))
        return key

    def spec(self, pip: str) -> PipetteSpec:
        """The spec of a mounted pipette."""
        return PIPETTES[self.plan.pipette_by_key()[pip].name]

    # -- liquids -------------------------------------------------------------------------------------------------
    def liquid(self, name: str, description: str, composition: dict[str, float]) -> str:
        """Define a liquid once (colour from a fixed palette, in order of definition)."""
        if any(lq.name == name for lq in self.plan.liquids):
            return name
        color = PALETTE[len(self.plan.liquids) % len(PALETTE)]
        self.plan.liquids.append(Liquid(name, description, color, dict(composition)))
        return name

    def pool(self, labware: str, liquid: str) -> Pool:
        """A reagent pool on a reservoir / tube rack (one or more wells, as its volume needs), or on a plate a column
        with a well per row (RowPool)."""
        key = (labware, liquid)
        if key not in self._pools:
            kind = LABWARE[self.plan.labware_by_key()[labware].load_name].kind
            self._pools[key] = (RowPool if kind == "plate" else Pool)(self, labware, liquid)
        return self._pools[key]

    def plate_column(self, labware: str, liquid: str) -> int:
        """The next free column of a reagent plate, every well of it holding the liquid (1-based)."""
        return self.reagents.column(labware, self.plan.labware_by_key()[labware].load_name, liquid)

    def _source(self, source: "Loc | Pool", volume: float, dest: Loc, pip: str, noz: int) -> Loc:
        """The well a stroke draws from: a pool's current well (volume per channel), else the given one."""
        spec = self.spec(pip)
        if isinstance(source, RowPool):
            rows = LABWARE[self.plan.labware_by_key()[dest.labware].load_name].rows
            r = parse_well(dest.well)[0]
            if spec.channels == 8 and not noz:
                return source.take_rows(volume, list(range(8)), 0)
            k = noz or 1
            p = max(k - 1, min(7, r if rows == 8 else r // 2))
            return source.take_rows(volume, list(range(p - k + 1, p + 1)), p)
        if isinstance(source, Pool):
            return source.take(volume * (noz or spec.channels))
        liquid = self.reagents.wells.get(source)
        if liquid is not None and self._is_reservoir(source):  # an operator-loaded reservoir well: spread the
            return self.pool(source.labware, liquid).take(volume * (noz or spec.channels))  # liquid over more wells
        return source

    def reservoir_well(self, labware: str, liquid: str, new: bool = False) -> Loc:
        """The well of a reservoir / tube rack for a reagent (the next free one if new or none yet); the volume to
        load is computed at finish."""
        return self.reagents.well(labware, self.plan.labware_by_key()[labware].load_name, liquid, new)

    def load(self, liquid: str, loc: Loc, volume: float) -> None:
        """The operator loads a fixed volume of a liquid into a well."""
        self.reagents.fixed.append(LiquidLoad(liquid, loc, float(volume)))

    # -- tips ----------------------------------------------------------------------------------------------------
    def tip(self, pip: str, nozzles: int = 0) -> Loc:
        """The next unused tip(s) for a pipette with `nozzles` active (0 = all): the rack well under its primary
        nozzle (see TipRacks.take)."""
        spec = self.spec(pip)
        return self.tips.take(spec, nozzles or spec.channels)

    def prepare_tips(self, pip: str, pickups: list[int], why: str) -> None:
        """Put a full rack in place now if the pipette's current rack cannot serve these pick-ups (nozzles each), so
        no rack change interrupts timed work (`why` says which) — the change goes here, before it."""
        if self.tips.prepare(self.spec(pip), pickups, why):
            self.plan.steps.extend(self.tips.take_pending())

    # -- steps ---------------------------------------------------------------------------------------------------
    def add(self, step: Step) -> None:
        """Append a step."""
        self.plan.steps.append(step)

    def comment(self, text: str) -> None:
        """Append a comment."""
        self.plan.steps.append(Comment(text))

    def _count_draw(self, stroke: Stroke, channels: int, pip: str = "", noz: int = 0) -> None:
        if self._is_reservoir(stroke.source):
            self.reagents.drawn[stroke.source] += stroke.volume * channels
            return
        load = self.plan.labware_by_key()[stroke.source.labware].load_name
        for w in channel_wells(load, stroke.source.well, self.spec(pip).channels if pip else 1, noz):
            self.reagents.drawn[Loc(stroke.source.labware, w)] += stroke.volume

    def _is_reservoir(self, loc: Loc) -> bool:
        return LABWARE[self.plan.labware_by_key()[loc.labware].load_name].kind in ("reservoir",)

    def _flush(self, cls, text: str, pip: str, strokes: list[Stroke], nozzles: int = 0) -> list[Stroke]:
        """Put pending tip-rack replacements between strokes (splitting the step); returns the strokes to go on."""
        if not self.tips.pending:
            return strokes
        if strokes:
            self.add(cls(text, pip, tuple(strokes), nozzles))
        self.plan.steps.extend(self.tips.take_pending())
        return []

    def nozzles(self, pip: str, n: int) -> int:
        """The stored nozzle count of a step: 0 for all channels (or a single-channel pipette), else 1-7."""
        channels = self.spec(pip).channels
        if not 1 <= n <= 8:
            raise PlanError(f"an 8-channel pipette has 1 to 8 nozzles, not {n}")
        return 0 if channels == 1 or n >= channels else n

    def transfer(self, text: str, pip: str, moves: Sequence[tuple["Loc | Pool", Loc, float]], *, new_tip: str = "always",
                 mix_after: tuple[int, float] | None = None, mix_before: tuple[int, float] | None = None,
                 top: bool = False, mix_rate: float = 1.0, nozzles: int = 1) -> None:
        """One aspirate + one dispense per move. new_tip: 'always' (fresh tip each) or 'once' (one tip for all).

        mix_rate multiplies the default flow rate of the mixes and of a dispense that is mixed right after.
        nozzles: how many channels work (1 = one well at a time, even on an 8-channel; 8 = whole columns; 2-7 a
        partial column whose front nozzle works the given well, the others the wells behind it).
        """
        if not moves:
            return
        noz = self.nozzles(pip, nozzles)
        active = noz or self.spec(pip).channels
        strokes: list[Stroke] = []
        max_ul = self.spec(pip).max_ul
        for i, (src0, dst, vol0) in enumerate(moves):
            first, last = i == 0, i == len(moves) - 1
            parts = strokes_for(vol0, max_ul)  # above the pipette's maximum: several strokes, one tip
            for j in range(parts):
                vol = vol0 / parts
                tip = self.tip(pip, noz) if j == 0 and (new_tip == "always" or first) else None
                strokes = self._flush(Transfer, text, pip, strokes, noz)
                src = self._source(src0, vol, dst, pip, noz)
                end = j == parts - 1
                mix_a = mix_after if end else None
                mix_b = mix_before if j == 0 else None
                st = Stroke(src, round(vol, 6) if parts > 1 else vol, (Disp(dst, round(vol, 6) if parts > 1 else vol,
                                                                             top),), tip, mix_b, mix_a, "",
                            end and (new_tip == "always" or last), mix_rate if (mix_b or mix_a) else 1.0)
                strokes.append(st)
                self._count_draw(st, active, pip, noz)
        self.add(Transfer(text, pip, tuple(strokes), noz))

    def chain(self, text: str, pip: str, chains: list[list[tuple["Loc | Pool", Loc, float, tuple[int, float] | None]]],
              *, nozzles: int = 1, mix_rate: float = 1.0) -> None:
        """Transfers done in turn with one tip per chain: each chain is (source, destination, µL, mix_after or None)
        legs, the first picks up a fresh tip, the last drops it (e.g. acid into a reaction, mixed, then the stopped
        reaction onto a filter plate with the same tip). Contact dispenses."""
        if not chains:
            return
        noz = self.nozzles(pip, nozzles)
        active = noz or self.spec(pip).channels
        strokes: list[Stroke] = []
        for legs in chains:
            for i, (src, dst, vol, mix) in enumerate(legs):
                tip = self.tip(pip, noz) if i == 0 else None
                if i == 0:
                    strokes = self._flush(Transfer, text, pip, strokes, noz)
                where = self._source(src, vol, dst, pip, noz)
                st = Stroke(where, vol, (Disp(dst, vol, False),), tip, None, mix, "", i == len(legs) - 1,
                            mix_rate if mix else 1.0)
                strokes.append(st)
                self._count_draw(st, active, pip, noz)
        self.add(Transfer(text, pip, tuple(strokes), noz))

    def distribute(self, text: str, pip: str, source: "Loc | Pool", dests: list[Loc], volume: float, *,
                   tip_per_stroke: bool = False, remix_every: int = 0, mix: tuple[int, float] | None = None,
                   max_per_stroke: int = 0, nozzles: int = 1, top: bool = True) -> None:
        """Multi-dispense one liquid to many wells at the well top; one tip, or a fresh tip per aspirate.

        nozzles as for `transfer` (the destinations are then the wells of the front-most working nozzle).
        top=False dispenses at the bottom of the well (for wells that are still empty: the tip touches no liquid)."""
        if not dests:
            return
        spec = self.spec(pip)
        noz = self.nozzles(pip, nozzles)
        active = noz or spec.channels
        disposal = spec.disposal_ul
        parts = strokes_for(volume, spec.max_ul)
        if parts > 1:  # above the pipette's maximum: each well gets `parts` equal dispenses
            dests = [d for d in dests for _ in range(parts)]
            volume = round(volume / parts, 6)
        n = self.per_stroke(pip, volume)
        if max_per_stroke:
            n = min(n, max_per_stroke)
        if n == 1 or volume + disposal > stroke_max(spec, volume) or len(dests) == 1:
            n, disposal = 1, 0.0
        chunks = [dests[i:i + n] for i in range(0, len(dests), n)]
        strokes: list[Stroke] = []
        since_mix = 0
        last_src: Loc | None = None
        for i, chunk in enumerate(chunks):
            first, last = i == 0, i == len(chunks) - 1
            tip = self.tip(pip, noz) if (tip_per_stroke or first) else None
            strokes = self._flush(Distribute, text, pip, strokes, noz)
            # the disposal volume stays in the tip from one aspirate to the next (same liquid, non-contact
            # dispenses); it is blown out into the trash where the tip is dropped anyway (no extra head move)
            extra = disposal if (tip_per_stroke or first) and disposal else 0.0
            vol = volume * len(chunk) + extra
            src = self._source(source, vol, chunk[0], pip, noz)
            mix_now = None
            # mixed before the first aspirate, every remix_every wells, and whenever a pool moves on to its next
            # well (a suspension spread over reservoir wells is mixed in each before it is drawn from)
            if mix is not None and (first or src != last_src or (remix_every and since_mix >= remix_every)):
                mix_now, since_mix = mix, 0
            since_mix += len(chunk)
            last_src = src
            blow = "trash" if disposal and (tip_per_stroke or last) else ""
            st = Stroke(src, round(vol, 6), tuple(Disp(d, volume, top) for d in chunk), tip, mix_now, None,
                        blow, tip_per_stroke or last)
            strokes.append(st)
            self._count_draw(st, active, pip, noz)
        self.add(Distribute(text, pip, tuple(strokes), noz))

    def per_stroke(self, pip: str, volume: float) -> int:
        """Wells one aspirate of a multi-dispense feeds (volume each, plus the pipette's disposal volume)."""
        return per_stroke(self.spec(pip), volume)

    def pipette_class(self, volume: float, per_aspirate: int = 1) -> str:
        """'small' or 'large': which pipette `choose` takes for a volume."""
        s, lg = PIPETTES[self.robot.small_single], PIPETTES[self.robot.large_single]
        if per_aspirate > 1 and volume >= lg.min_ul:
            return "large"
        if s.min_ul <= volume <= s.max_ul:
            return "small"
        if lg.min_ul <= volume:
            return "large"  # above its maximum: split into several strokes (transfer, distribute)
        raise PlanError(f"{volume:g} µL is outside the range of the {self.robot.robot_type} pipettes "
                        f"({s.name} {s.min_ul:g}–{s.max_ul:g} µL, {lg.name} {lg.min_ul:g}–{lg.max_ul:g} µL)")

    def choose(self, volume: float, singles: bool = True, per_aspirate: int = 1) -> str:
        """The mounted pipette (small or large) that can move `volume`, preferring fewer aspirates: the single-
        channel one, or the 8-channel where its class is in `multi` (or singles=False)."""
        cls = self.pipette_class(volume, per_aspirate)
        multi = not singles or cls in self.multi
        if cls == "small":
            return self.pipette(self.robot.small_multi if multi else self.robot.small_single)
        return self.pipette(self.robot.large_multi if multi else self.robot.large_single)

    # -- finish --------------------------------------------------------------------------------------------------
    def reagent_volumes(self) -> list[LiquidLoad]:
        """Volume to load per reagent well: drawn + overage + dead volume."""
        return self.reagents.volumes({k: u.load_name for k, u in self.plan.labware_by_key().items()})

    def refuse(self, error: PlanError) -> None:
        """Record what this plan cannot hold (e.g. a timed step): `finish` raises the first. A probe build, which
        only counts what the final one will do, is never finished, so its own shortfalls do not refuse a layout."""
        self.refusals.append(error)

    def finish(self) -> Plan:
        """The finished plan with every liquid load (fixed + reagents); raises what `refuse` recorded."""
        if self.refusals:
            err = self.refusals[0]
            if self.plan.warnings:  # say how the plan came to be so (e.g. a fallback to one well at a time)
                raise type(err)(f"{err.message} (the plan: {'; '.join(self.plan.warnings)})", field=err.field)
            raise err
        self.plan.loads = list(self.reagents.fixed) + self.reagent_volumes()
        return self.plan

    def drawn(self, loc: Loc) -> float:
        """µL drawn so far from a well."""
        return self.reagents.drawn.get(loc, 0.0)
