"""Builds a Plan: deck, pipettes, explicit tips, strokes, and the volumes the operator must load."""

from __future__ import annotations

import math
from collections import defaultdict

from labkit.errors import PlanError
from labkit.labware.specs import LABWARE, OVERAGE, PIPETTES, ROBOTS, PipetteSpec
from labkit.plan.checks import channel_wells
from labkit.plan.deck import Deck
from labkit.plan.steps import (Comment, Disp, Distribute, LabwareUse, Liquid, LiquidLoad, LoadLabware, Loc, ModuleUse,
                               MoveLabware, Plan, PipetteUse, Step, Stroke, Transfer)
from labkit.tables import row_letters
from labkit.wells import parse_well

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")


def well_names(load_name: str) -> list[str]:
    """Wells of a labware in column order (A1, B1, … H1, A2 …)."""
    spec = LABWARE[load_name]
    letters = row_letters(spec.rows)
    return [f"{r}{c}" for c in range(1, spec.cols + 1) for r in letters]


def per_stroke(spec: PipetteSpec, volume: float) -> int:
    """Wells one aspirate of a pipette's multi-dispense feeds (volume each, plus its disposal volume)."""
    n = max(1, int((spec.max_ul - spec.disposal_ul + 1e-9) // volume))
    return 1 if volume + spec.disposal_ul > spec.max_ul else n


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
        self._tips: dict[str, dict] = {}          # tip rack load name -> {'racks': [keys], 'rows': [next row per
                                                  # column of the current rack], 'n': racks so far}
        self._draw: dict[Loc, float] = defaultdict(float)   # µL drawn from operator-loaded wells
        self._reagent: dict[Loc, str] = {}        # reservoir well -> liquid name (volume computed at the end)
        self._fixed: list[LiquidLoad] = []        # loads with a fixed volume
        self._res_next: dict[str, int] = defaultdict(int)
        self._col_next: dict[str, int] = defaultdict(int)  # reagent plate -> columns handed out
        self._mounts = ["left", "right"]
        self._pools: dict[tuple[str, str], Pool] = {}
        self._pending: list[Step] = []            # tip-rack replacements waiting to go between strokes
        self.tips_near: tuple[str, ...] = ()      # new tip racks go to the free slot closest to these (else the back)
        self.allow_multi = True                   # False: single-channel pipettes only
        self.multi: frozenset[str] = frozenset()  # pipette classes ('small', 'large') mounted as 8-channels
        self.rack_slots: dict[str, str] = {}      # tip rack load name -> the slot arranged for its racks
        self.partial_racks: set[str] = set()      # tip racks picked from with a partial nozzle layout

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
        spec = LABWARE[self.plan.labware_by_key()[labware].load_name]
        col = self._col_next[labware] = self._col_next[labware] + 1
        if col > spec.cols:
            raise PlanError(f"{labware} ({spec.load_name}) has no free column left for {liquid!r}")
        for r in row_letters(spec.rows):
            self._reagent[Loc(labware, f"{r}{col}")] = liquid
        return col

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
        return source

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
    def tip(self, pip: str, nozzles: int = 0) -> Loc:
        """The next unused tip(s) for a pipette with `nozzles` active (0 = all): the rack well under its primary
        nozzle. Every rack column is used from the back (row A) forward, so a partial layout (H1 in front, the
        rest behind it) never lands on a tip; whole-column pick-ups take untouched columns from the left, partial
        and single ones the open column that fits best, else an untouched column from the right."""
        spec = self.spec(pip)
        n = nozzles or spec.channels
        box = self._tips.setdefault(spec.tiprack, {"racks": [], "rows": [], "n": 0})
        col = self._free_column(spec.tiprack, box, n)
        if col is None:
            self._new_rack(spec.tiprack, box)
            col = self._free_column(spec.tiprack, box, n)
        rack, first = box["racks"][-1], box["rows"][col]
        box["rows"][col] = first + n
        row = first if spec.channels == 1 or n == 8 else first + n - 1  # the primary nozzle: A1, or H1 in front
        return Loc(rack, f"{'ABCDEFGH'[row]}{col + 1}")

    def _free_column(self, tiprack: str, box: dict, n: int) -> int | None:
        """The rack column to take n tips from (None: the rack is used up for n)."""
        rows = box["rows"]
        if not rows:
            return None
        untouched = [c for c, r in enumerate(rows) if r == 0]
        if n == 8:
            return untouched[0] if untouched else None
        open_ = [c for c, r in enumerate(rows) if 0 < r and r + n <= 8]
        if open_:
            return min(open_, key=lambda c: (8 - rows[c] - n, c))
        if not untouched:
            return None
        shared = any(PIPETTES[p.name].tiprack == tiprack and PIPETTES[p.name].channels == 8
                     for p in self.plan.pipettes)
        return untouched[-1] if shared else untouched[0]

    def prepare_tips(self, pip: str, pickups: list[int], why: str) -> None:
        """Put a full rack in place now if the pipette's current rack cannot serve these pick-ups (nozzles each), so
        no rack change interrupts timed work (`why` says which) — the change goes here, before it."""
        spec = self.spec(pip)
        box = self._tips.get(spec.tiprack)
        if not box or not box["racks"]:
            return  # the first rack is put in place without stopping
        trial = {"racks": box["racks"], "rows": list(box["rows"]), "n": box["n"]}
        for n in pickups:
            col = self._free_column(spec.tiprack, trial, n or spec.channels)
            if col is None:
                left = sum(8 - r for r in box["rows"])
                self._new_rack(spec.tiprack, box, f"has {left} tips left, too few for {why} (keep them)")
                self.plan.steps.extend(self._pending)
                self._pending = []
                return
            trial["rows"][col] += n or spec.channels

    def _new_rack(self, tiprack: str, box: dict, reason: str = "") -> None:
        box["n"] += 1
        key = f"tips_{tiprack.rsplit('_', 1)[-1]}_{box['n']}"
        arranged = self.rack_slots.get(tiprack)
        taken = {lw.slot for lw in self.plan.labware if lw.load_name == tiprack}
        free = [s for s in self.deck.free if self.deck.fits(s, LABWARE[tiprack].tall, tiprack in self.partial_racks)]
        if arranged and arranged not in taken:
            slot = arranged
            self.plan.labware.append(LabwareUse(key, tiprack, slot))
        elif free:
            slot = self.deck.take(key, from_back=True, near=self.tips_near, among=free, tall=LABWARE[tiprack].tall,
                                  partial=tiprack in self.partial_racks)
            self.plan.labware.append(LabwareUse(key, tiprack, slot))
        elif box["racks"]:
            old = box["racks"][-1]
            slot = self.plan.labware_by_key()[old].slot
            self._pending.append(MoveLabware(old, "offdeck", False, f"Tip rack in slot {slot} {reason or 'is empty'}: "
                                               f"take it away and put a full {tiprack} rack in slot {slot}"))
            self.plan.labware.append(LabwareUse(key, tiprack, slot, initial=False))
            self._pending.append(LoadLabware(key))
        else:
            raise PlanError(f"the {self.robot.robot_type} deck is over-assigned: no slot left for a {tiprack} "
                            "tip rack; use fewer plates per run")
        box["racks"].append(key)
        box["rows"] = [0] * 12

    # -- steps ---------------------------------------------------------------------------------------------------
    def add(self, step: Step) -> None:
        """Append a step."""
        self.plan.steps.append(step)

    def comment(self, text: str) -> None:
        """Append a comment."""
        self.plan.steps.append(Comment(text))

    def _count_draw(self, stroke: Stroke, channels: int, pip: str = "", noz: int = 0) -> None:
        if self._is_reservoir(stroke.source):
            self._draw[stroke.source] += stroke.volume * channels
            return
        load = self.plan.labware_by_key()[stroke.source.labware].load_name
        for w in channel_wells(load, stroke.source.well, self.spec(pip).channels if pip else 1, noz):
            self._draw[Loc(stroke.source.labware, w)] += stroke.volume

    def _is_reservoir(self, loc: Loc) -> bool:
        return LABWARE[self.plan.labware_by_key()[loc.labware].load_name].kind in ("reservoir",)

    def _flush(self, cls, text: str, pip: str, strokes: list[Stroke], nozzles: int = 0) -> list[Stroke]:
        """Put pending tip-rack replacements between strokes (splitting the step); returns the strokes to go on."""
        if not self._pending:
            return strokes
        if strokes:
            self.add(cls(text, pip, tuple(strokes), nozzles))
        self.plan.steps.extend(self._pending)
        self._pending = []
        return []

    def nozzles(self, pip: str, n: int) -> int:
        """The stored nozzle count of a step: 0 for all channels (or a single-channel pipette), else 1-7."""
        channels = self.spec(pip).channels
        if not 1 <= n <= 8:
            raise PlanError(f"an 8-channel pipette has 1 to 8 nozzles, not {n}")
        return 0 if channels == 1 or n >= channels else n

    def transfer(self, text: str, pip: str, moves: list[tuple["Loc | Pool", Loc, float]], *, new_tip: str = "always",
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
        strokes = []
        for i, (src, dst, vol) in enumerate(moves):
            first, last = i == 0, i == len(moves) - 1
            tip = self.tip(pip, noz) if (new_tip == "always" or first) else None
            strokes = self._flush(Transfer, text, pip, strokes, noz)
            src = self._source(src, vol, dst, pip, noz)
            st = Stroke(src, vol, (Disp(dst, vol, top),), tip, mix_before, mix_after, "",
                        new_tip == "always" or last, mix_rate if (mix_before or mix_after) else 1.0)
            strokes.append(st)
            self._count_draw(st, active, pip, noz)
        self.add(Transfer(text, pip, tuple(strokes), noz))

    def distribute(self, text: str, pip: str, source: "Loc | Pool", dests: list[Loc], volume: float, *,
                   tip_per_stroke: bool = False, remix_every: int = 0, mix: tuple[int, float] | None = None,
                   max_per_stroke: int = 0, nozzles: int = 1) -> None:
        """Multi-dispense one liquid to many wells at the well top; one tip, or a fresh tip per aspirate.

        nozzles as for `transfer` (the destinations are then the wells of the front-most working nozzle)."""
        if not dests:
            return
        spec = self.spec(pip)
        noz = self.nozzles(pip, nozzles)
        active = noz or spec.channels
        disposal = spec.disposal_ul
        n = self.per_stroke(pip, volume)
        if max_per_stroke:
            n = min(n, max_per_stroke)
        if n == 1 or volume + disposal > spec.max_ul or len(dests) == 1:
            n, disposal = 1, 0.0
        chunks = [dests[i:i + n] for i in range(0, len(dests), n)]
        strokes = []
        since_mix = 0
        for i, chunk in enumerate(chunks):
            first, last = i == 0, i == len(chunks) - 1
            tip = self.tip(pip, noz) if (tip_per_stroke or first) else None
            strokes = self._flush(Distribute, text, pip, strokes, noz)
            mix_now = None
            if mix is not None and (first or (remix_every and since_mix >= remix_every)):
                mix_now, since_mix = mix, 0
            since_mix += len(chunk)
            # the disposal volume stays in the tip from one aspirate to the next (same liquid, non-contact
            # dispenses); it is blown out into the trash where the tip is dropped anyway (no extra head move)
            extra = disposal if (tip_per_stroke or first) and disposal else 0.0
            vol = volume * len(chunk) + extra
            src = self._source(source, vol, chunk[0], pip, noz)
            blow = "trash" if disposal and (tip_per_stroke or last) else ""
            st = Stroke(src, round(vol, 6), tuple(Disp(d, volume, True) for d in chunk), tip, mix_now, None,
                        blow, tip_per_stroke or last)
            strokes.append(st)
            self._count_draw(st, active, pip, noz)
        self.add(Distribute(text, pip, tuple(strokes), noz))

    def per_stroke(self, pip: str, volume: float) -> int:
        """Wells one aspirate of a multi-dispense feeds (volume each, plus the pipette's disposal volume)."""
        return per_stroke(self.spec(pip), volume)

    def use_multi(self, classes: set[str] | frozenset[str]) -> None:
        """Mount 8-channel pipettes for these classes ('small', 'large'); they work single wells with one nozzle."""
        self.multi = frozenset(classes)

    def pipette_class(self, volume: float, per_aspirate: int = 1) -> str:
        """'small' or 'large': which pipette `choose` takes for a volume."""
        s, lg = PIPETTES[self.robot.small_single], PIPETTES[self.robot.large_single]
        if per_aspirate > 1 and volume >= lg.min_ul:
            return "large"
        if s.min_ul <= volume <= s.max_ul:
            return "small"
        if lg.min_ul <= volume <= lg.max_ul:
            return "large"
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
