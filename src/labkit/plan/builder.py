"""Builds a Plan: deck, pipettes, explicit tips, strokes, and the volumes the operator must load."""

from __future__ import annotations

import math
from collections import defaultdict

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, OVERAGE, PIPETTES, ROBOTS, PipetteSpec
from labkit.plan.deck import Deck
from labkit.plan.steps import (Comment, Disp, Distribute, LabwareUse, Liquid, LiquidLoad, LoadLabware, Loc, ModuleUse,
                               MoveLabware, Plan, PipetteUse, Step, Stroke, Transfer)
from labkit.tables import row_letters

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")


def well_names(load_name: str) -> list[str]:
    """Wells of a labware in column order (A1, B1, … H1, A2 …)."""
    spec = LABWARE[load_name]
    letters = row_letters(spec.rows)
    return [f"{r}{c}" for c in range(1, spec.cols + 1) for r in letters]


def round_up(x: float, step: float = 10.0) -> float:
    """Round a volume up to a convenient multiple."""
    return float(math.ceil(x / step - 1e-9) * step)


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


class Builder:
    """Accumulates labware, liquids and steps; tracks reservoir draws; assigns tips."""

    def __init__(self, robot: str, name: str, description: str, assay: str, sha: str, tip_policy: str):
        if robot not in ROBOTS:
            raise PlanError(f"unknown robot {robot!r}; expected one of {sorted(ROBOTS)}")
        if tip_policy not in ("per_step", "per_series"):
            raise PlanError(f"unknown tip policy {tip_policy!r}; expected per_step or per_series")
        self.robot = ROBOTS[robot]
        self.deck = Deck(self.robot)
        self.plan = Plan(name=name, description=description, robot=robot, robot_type=self.robot.robot_type,
                         assay=assay, layout_sha256=sha, tip_policy=tip_policy, trash=self.robot.trash)
        self._tips: dict[str, dict] = {}          # tip rack load name -> {'racks': [keys], 'next': int, 'n': int}
        self._draw: dict[Loc, float] = defaultdict(float)   # µL drawn from operator-loaded wells
        self._reagent: dict[Loc, str] = {}        # reservoir well -> liquid name (volume computed at the end)
        self._fixed: list[LiquidLoad] = []        # loads with a fixed volume
        self._res_next: dict[str, int] = defaultdict(int)
        self._mounts = ["left", "right"]
        self._pools: dict[tuple[str, str], Pool] = {}
        self._pending: list[Step] = []            # tip-rack replacements waiting to go between strokes
        self.tips_near: tuple[str, ...] = ()      # new tip racks go to the free slot closest to these (else the back)

    # -- deck ----------------------------------------------------------------------------------------------------
    def module(self, key: str, name: str, slot: str) -> str:
        """Place a module in a slot."""
        self.deck.take(key, slot)
        self.plan.modules.append(ModuleUse(key, name, slot))
        return key

    def labware(self, key: str, load_name: str, label: str = "", module: str = "", slot: str | None = None,
                near: tuple[str, ...] = ()) -> str:
        """Place a labware on a slot (the next free one, or the free one closest to `near`), or on a module."""
        spec = LABWARE[load_name]
        where = "" if module else self.deck.take(key, slot, near=near)
        self.plan.labware.append(LabwareUse(key, load_name, where, label, module, False, spec.custom))
        return key

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
        """A reagent pool on a reservoir / tube rack (one or more wells, as its volume needs)."""
        key = (labware, liquid)
        if key not in self._pools:
            self._pools[key] = Pool(self, labware, liquid)
        return self._pools[key]

    def reservoir_well(self, labware: str, liquid: str, new: bool = False) -> Loc:
        """The next free well of a reservoir / tube rack for a reagent (volume to load computed at finish)."""
        for loc, name in self._reagent.items():
            if loc.labware == labware and name == liquid and not new:
                return loc
        load_name = self.plan.labware_by_key()[labware].load_name
        wells = well_names(load_name)
        i = self._res_next[labware]
        if i >= len(wells):
            raise PlanError(f"{labware} ({load_name}) has no free well left for {liquid!r}")
        self._res_next[labware] = i + 1
        loc = Loc(labware, wells[i])
        self._reagent[loc] = liquid
        return loc

    def load(self, liquid: str, loc: Loc, volume: float) -> None:
        """The operator loads a fixed volume of a liquid into a well."""
        self._fixed.append(LiquidLoad(liquid, loc, float(volume)))

    # -- tips ----------------------------------------------------------------------------------------------------
    def tip(self, pip: str) -> Loc:
        """The next unused tip (a whole rack column for an 8-channel); new or replaced racks as needed."""
        spec = self.spec(pip)
        box = self._tips.setdefault(spec.tiprack, {"racks": [], "used": 0, "n": 0, "channels": spec.channels})
        if box["channels"] != spec.channels:
            raise PlanError(f"{spec.tiprack} racks cannot be shared by single- and multi-channel pipettes")
        per_rack = 12 if spec.channels == 8 else 96
        if not box["racks"] or box["used"] >= per_rack:
            self._new_rack(spec.tiprack, box)
        rack = box["racks"][-1]
        i = box["used"]
        box["used"] += 1
        if spec.channels == 8:
            return Loc(rack, f"A{i + 1}")
        return Loc(rack, well_names(spec.tiprack)[i])

    def _new_rack(self, tiprack: str, box: dict) -> None:
        box["n"] += 1
        key = f"tips_{tiprack.rsplit('_', 1)[-1]}_{box['n']}"
        if self.deck.has_free():
            slot = self.deck.take(key, from_back=True, near=self.tips_near)
            self.plan.labware.append(LabwareUse(key, tiprack, slot))
        elif box["racks"]:
            old = box["racks"][-1]
            slot = self.plan.labware_by_key()[old].slot
            self._pending.append(MoveLabware(old, "offdeck", False, f"Tip rack in slot {slot} is empty: take it "
                                               f"away and put a full {tiprack} rack in slot {slot}"))
            self.plan.labware.append(LabwareUse(key, tiprack, slot, initial=False))
            self._pending.append(LoadLabware(key))
        else:
            raise PlanError(f"the {self.robot.robot_type} deck is over-assigned: no slot left for a {tiprack} "
                            "tip rack; use fewer plates per run")
        box["racks"].append(key)
        box["used"] = 0

    # -- steps ---------------------------------------------------------------------------------------------------
    def add(self, step: Step) -> None:
        """Append a step."""
        self.plan.steps.append(step)

    def comment(self, text: str) -> None:
        """Append a comment."""
        self.plan.steps.append(Comment(text))

    def _count_draw(self, stroke: Stroke, channels: int) -> None:
        self._draw[stroke.source] += stroke.volume * (channels if self._is_reservoir(stroke.source) else 1)

    def _is_reservoir(self, loc: Loc) -> bool:
        return LABWARE[self.plan.labware_by_key()[loc.labware].load_name].kind in ("reservoir",)

    def _flush(self, cls, text: str, pip: str, strokes: list[Stroke]) -> list[Stroke]:
        """Put pending tip-rack replacements between strokes (splitting the step); returns the strokes to go on."""
        if not self._pending:
            return strokes
        if strokes:
            self.add(cls(text, pip, tuple(strokes)))
        self.plan.steps.extend(self._pending)
        self._pending = []
        return []

    def transfer(self, text: str, pip: str, moves: list[tuple["Loc | Pool", Loc, float]], *, new_tip: str = "always",
                 mix_after: tuple[int, float] | None = None, mix_before: tuple[int, float] | None = None,
                 top: bool = False, mix_rate: float = 1.0) -> None:
        """One aspirate + one dispense per move. new_tip: 'always' (fresh tip each) or 'once' (one tip for all).

        mix_rate multiplies the default flow rate of the mixes and of a dispense that is mixed right after.
        """
        if not moves:
            return
        strokes = []
        for i, (src, dst, vol) in enumerate(moves):
            first, last = i == 0, i == len(moves) - 1
            tip = self.tip(pip) if (new_tip == "always" or first) else None
            strokes = self._flush(Transfer, text, pip, strokes)
            if isinstance(src, Pool):
                src = src.take(vol * self.spec(pip).channels)
            st = Stroke(src, vol, (Disp(dst, vol, top),), tip, mix_before, mix_after, "",
                        new_tip == "always" or last, mix_rate if (mix_before or mix_after) else 1.0)
            strokes.append(st)
            self._count_draw(st, self.spec(pip).channels)
        self.add(Transfer(text, pip, tuple(strokes)))

    def distribute(self, text: str, pip: str, source: "Loc | Pool", dests: list[Loc], volume: float, *,
                   tip_per_stroke: bool = False, remix_every: int = 0, mix: tuple[int, float] | None = None,
                   max_per_stroke: int = 0) -> None:
        """Multi-dispense one liquid to many wells at the well top; one tip, or a fresh tip per aspirate."""
        if not dests:
            return
        spec = self.spec(pip)
        disposal = spec.disposal_ul
        n = max(1, int((spec.max_ul - disposal + 1e-9) // volume))
        if max_per_stroke:
            n = min(n, max_per_stroke)
        if n == 1 or volume + disposal > spec.max_ul or len(dests) == 1:
            n, disposal = 1, 0.0
        chunks = [dests[i:i + n] for i in range(0, len(dests), n)]
        strokes = []
        since_mix = 0
        for i, chunk in enumerate(chunks):
            first, last = i == 0, i == len(chunks) - 1
            tip = self.tip(pip) if (tip_per_stroke or first) else None
            strokes = self._flush(Distribute, text, pip, strokes)
            mix_now = None
            if mix is not None and (first or (remix_every and since_mix >= remix_every)):
                mix_now, since_mix = mix, 0
            since_mix += len(chunk)
            # the disposal volume stays in the tip from one aspirate to the next (same liquid, non-contact
            # dispenses); it is blown out into the trash where the tip is dropped anyway (no extra head move)
            extra = disposal if (tip_per_stroke or first) and disposal else 0.0
            vol = volume * len(chunk) + extra
            src = source.take(vol * spec.channels) if isinstance(source, Pool) else source
            blow = "trash" if disposal and (tip_per_stroke or last) else ""
            st = Stroke(src, round(vol, 6), tuple(Disp(d, volume, True) for d in chunk), tip, mix_now, None,
                        blow, tip_per_stroke or last)
            strokes.append(st)
            self._count_draw(st, spec.channels)
        self.add(Distribute(text, pip, tuple(strokes)))

    def choose(self, volume: float, singles: bool = True, per_aspirate: int = 1) -> str:
        """The mounted pipette (small or large single) that can move `volume`, preferring fewer aspirates."""
        small = self.robot.small_single if singles else self.robot.small_multi
        large = self.robot.large_single if singles else self.robot.large_multi
        s, lg = PIPETTES[small], PIPETTES[large]
        if per_aspirate > 1 and volume >= lg.min_ul:
            return self.pipette(large)
        if volume <= s.max_ul and volume >= s.min_ul:
            return self.pipette(small)
        if lg.min_ul <= volume <= lg.max_ul:
            return self.pipette(large)
        raise PlanError(f"{volume:g} µL is outside the range of the {self.robot.robot_type} pipettes "
                        f"({s.name} {s.min_ul:g}–{s.max_ul:g} µL, {lg.name} {lg.min_ul:g}–{lg.max_ul:g} µL)")

    # -- finish --------------------------------------------------------------------------------------------------
    def reagent_volumes(self) -> list[LiquidLoad]:
        """Volume to load per reagent well: drawn + overage + dead volume."""
        out = []
        by_key = self.plan.labware_by_key()
        for loc, liquid in self._reagent.items():
            spec = LABWARE[by_key[loc.labware].load_name]
            drawn = self._draw.get(loc, 0.0)
            if drawn == 0:
                continue
            out.append(LiquidLoad(liquid, loc, round_up(drawn * (1 + OVERAGE) + spec.dead_ul, 10.0)))
        return out

    def finish(self) -> Plan:
        """The finished plan with every liquid load (fixed + reagents)."""
        self.plan.loads = list(self._fixed) + self.reagent_volumes()
        return self.plan

    def drawn(self, loc: Loc) -> float:
        """µL drawn so far from a well."""
        return self._draw.get(loc, 0.0)
