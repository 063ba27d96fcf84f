"""The simulator's time model applied to plan steps: when each well of a plate receives a step's liquid.

`labkit.simulate.cost` times an Opentrons analysis command by command (tips, aspirate / dispense at the flow rate, a
mix's cycles, head moves by the deck slots' distance). A planner needs the same clock before there is an analysis,
to set a timed wait so that every well, not only the average one, is held for the layout's nominal time. `Clock`
runs over plan steps with that model and records the time of every dispense; `Clock.reached` spreads those over the
wells the nozzles reach (plan.checks.channel_wells), and `first_times` turns them into the first time each well of a
plate receives liquid from a range of steps.
Operator pauses and manual moves take 0 s here, gripper moves GRIPPER_MOVE_S, as in the simulator's model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import replace

from labkit.labware.specs import slot_xy, trash_slot
from labkit.plan.checks import channel_wells
from labkit.plan.steps import Delay, Distribute, Loc, MoveLabware, Transfer
from labkit.wells import parse_well

TRAVEL_MM = 150.0  # head travel assumed before the first positioned command of a range


class Clock:
    """Seconds elapsed over plan steps by the simulator's time model, roughly, and the time of every dispense."""

    def __init__(self, b, where: dict[str, str] | None = None):
        from labkit.simulate import cost as T

        self.b, self.T, self.where = b, T, dict(where or {})
        self.t = 0.0
        self.pos: tuple[float, float] | None = None
        self.place = ""
        # (step index, stroke index, dispense loc, time, channels, nozzles) of every dispense
        self.events: list[tuple[int, int, Loc, float, int, int]] = []
        self.strokes: list[tuple[int, int, float]] = []  # (step index, stroke index, time the stroke began)
        self.trash = slot_xy(b.robot, trash_slot(b.robot))
        hot = b.plan.hot_waste  # hot tips go to the radioactive waste (a bin or an empty labware)
        self.waste = slot_xy(b.robot, hot.slot) if hot is not None and hot.slot else None
        self._slots = {u.key: (u.slot, u.module) for u in b.plan.labware}
        self._load = {u.key: u.load_name for u in b.plan.labware}
        self._modules = {m.key: m.slot for m in b.plan.modules}

    def _xy(self, labware: str, well: str) -> tuple[float, float]:
        slot, module = self._slots.get(labware, ("", ""))
        slot = self.where.get(labware) or (self._modules.get(module, slot) if module else slot)
        if not slot or slot == "offdeck" or slot in self.b.robot.staging:
            return 0.0, 0.0
        x, y = slot_xy(self.b.robot, slot)
        try:
            r, c = parse_well(well)
        except Exception:  # noqa: BLE001 - a name off the grid: the slot centre
            return x, y
        return x + (c - 5.5) * 9.0, y + (3.5 - r) * 9.0

    def _move(self, place: str, xy: tuple[float, float]) -> None:
        T = self.T
        if self.pos is None:
            self.t += T.MOVE_BETWEEN_S + TRAVEL_MM / T.GANTRY_MM_S
        else:
            d = math.dist(xy, self.pos)
            if d > 0.05 or place != self.place:
                self.t += (T.MOVE_BETWEEN_S if place != self.place else T.MOVE_WITHIN_S) + d / T.GANTRY_MM_S
        self.pos, self.place = xy, place

    def _at(self, loc: Loc) -> None:
        self._move(loc.labware, self._xy(loc.labware, loc.well))

    def run(self, steps: Sequence[object], first_index: int = 0) -> Clock:
        """Advance over steps (liquid handling, delays and gripper moves; comments, pauses and manual moves take no
        time here)."""
        T = self.T
        for i, step in enumerate(steps):
            if isinstance(step, Delay):
                self.t += step.minutes * 60.0
                continue
            if isinstance(step, MoveLabware) and step.gripper:  # as the simulator counts a gripper move
                self.t += T.GRIPPER_MOVE_S
                continue
            if not isinstance(step, (Transfer, Distribute)):
                continue
            spec = self.b.spec(step.pipette)
            flow = spec.flow_ul_s or 1.0
            for j, st in enumerate(step.strokes):
                self.strokes.append((first_index + i, j, self.t))
                source = st.source if isinstance(st.source, Loc) else None
                rate = flow * (st.mix_rate or 1.0)
                if st.tip is not None:
                    self._at(st.tip)
                    self.t += T.PICK_UP_TIP_S
                if source is not None:
                    self._at(source)
                if st.mix_before:
                    self.t += st.mix_before[0] * (T.ASPIRATE_S + T.DISPENSE_S + 2 * st.mix_before[1] / rate)
                self.t += T.ASPIRATE_S + st.volume / flow
                for n, d in enumerate(st.dispenses):
                    self._at(d.loc)
                    mixed = st.mix_after is not None and not d.top and n == len(st.dispenses) - 1
                    self.t += T.DISPENSE_S + d.volume / (rate if mixed else flow)
                    self.events.append((first_index + i, j, d.loc, self.t, spec.channels, step.nozzles))
                if st.mix_after:
                    self.t += st.mix_after[0] * (T.ASPIRATE_S + T.DISPENSE_S + 2 * st.mix_after[1] / rate)
                if st.blow_out:
                    self.t += T.BLOWOUT_S
                if st.drop:
                    self._move(*(("waste", self.waste) if st.waste and self.waste else ("trash", self.trash)))
                    self.t += T.DROP_TIP_S
        return self

    def reached(self, plate: str) -> Iterator[tuple[int, int, str, float]]:
        """(step index, stroke index, well, time) of every well of `plate` a dispense reached, over its nozzles."""
        for i, j, loc, t, channels, nozzles in self.events:
            if loc.labware == plate:
                for w in channel_wells(self._load[plate], loc.well, channels, nozzles):
                    yield i, j, w, t


def first_times(b, steps: Sequence[object], plate: str, phases: dict[str, range],
                where: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Per phase (a range of step indices): the seconds from the start of `steps` at which each well of `plate`
    first receives liquid from that phase's steps, on one clock over all of `steps`."""
    out: dict[str, dict[str, float]] = {name: {} for name in phases}
    for i, _j, w, t in Clock(b, where).run(steps).reached(plate):
        name = next((n for n, r in phases.items() if i in r), None)
        if name is not None:
            out[name].setdefault(w, t)
    return out


PACE_MIN_S = 1.0  # a pacing wait shorter than this is left out


def pace(b, first: range, later: range, plate: str, text: str, band: float, *, slow: str = "first",
         zero: Sequence[int] = (), where: dict[str, str] | None = None) -> int:
    """Slow one of two phases (ranges of b.plan.steps: `first`, then `later`) to the other's pace, so that every well
    of `plate` waits alike from its dispense in the first phase to its dispense in the later one.

    The strokes are timed by `Clock` (the Delays at the indices `zero` counted as 0 min). In the phase that is slowed
    (`slow`: "first" or "later"), a stroke whose wells would be more than `band` seconds off the others gets a wait
    before it — cumulative, so the strokes after it keep their place — kept only where it narrows the spread; the
    wait between the phases, set afterwards from the same clock, takes the rest. A step is split into one step per
    stroke only where such a wait goes between its strokes (the tip stays on, as the stroke's own tip and drop
    say). Returns the number of steps inserted (all inside the slowed phase: later indices move by it)."""
    steps = b.plan.steps
    lo = first.start
    seg = list(steps[lo:later.stop])
    for i in zero:
        seg[i - lo] = Delay(0.0, "")
    clock = Clock(b, where).run(seg, lo)
    paced = first if slow == "first" else later
    began = {(i, j): t for i, j, t in clock.strokes}
    at: dict[tuple[int, int], dict[str, float]] = {}  # paced (step, stroke) -> well -> time
    other: dict[str, float] = {}  # well -> time in the other phase
    for i, j, w, t in clock.reached(plate):
        if i in paced:
            at.setdefault((i, j), {}).setdefault(w, t)
        elif i in first or i in later:
            other.setdefault(w, t)
    # per paced stroke, values that a wait before it lowers by its length: (the other phase's time - this one's) is
    # the gap when the first phase is paced (a later mix shortens it) and minus the gap when the later one is
    order = [k for k in sorted(at, key=lambda k: began[k]) if any(w in other for w in at[k])]
    values = {k: [other[w] - t for w, t in at[k].items() if w in other] for k in order}

    def spread(delays: dict[tuple[int, int], float]) -> float:
        total, vals = 0.0, []
        for k in order:
            total += delays.get(k, 0.0)
            vals += [v - total for v in values[k]]
        return max(vals) - min(vals) if vals else 0.0

    delay: dict[tuple[int, int], float] = {}
    total, floor = 0.0, None
    for k in order:
        top = max(values[k]) - total
        floor = min(values[k]) - total if floor is None else floor
        if top - floor - band >= PACE_MIN_S:
            delay[k] = top - floor - band
            total += delay[k]
        floor = min(floor, min(values[k]) - total)
    if not delay or spread(delay) >= spread({}) - PACE_MIN_S:  # pacing that does not narrow the spread: none
        return 0
    out: list = []
    for i, step in enumerate(steps[paced.start:paced.stop], start=paced.start):
        cuts = sorted(j for (ii, j) in delay if ii == i)
        if not cuts:
            out.append(step)
            continue
        strokes = list(step.strokes)
        bounds = sorted({0, *cuts, len(strokes)})
        for a, z in zip(bounds, bounds[1:]):
            if a in cuts:
                out.append(Delay(round(delay[(i, a)] / 60, 3), text))
            out.append(replace(step, strokes=tuple(strokes[a:z])))
    added = len(out) - len(paced)
    steps[paced.start:paced.stop] = out
    return added
