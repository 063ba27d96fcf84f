"""The radiometric kinase plan's clock: every well's pre-incubation (kinase mix → ATP) and reaction (ATP → stop)
at the layout's nominal ± 5 %.

Once a plate's stop is built, `timed_waits` makes the three timed phases — kinase mixes, ATP start, stop — go at
the slowest one's pace (labkit.plan.clock.pace: the faster ones wait between strokes), then sets each wait so the
shortest and the longest well sit either side of the nominal, by the simulator's time model applied to the plan
(labkit.plan.clock). Tip-rack swaps and the hot-ATP load inside the pre-incubation are timed pauses the protocol
takes off the wait after them at run time. A plate whose wells cannot be held is refused (TimingError, with the
shortest nominal that would hold).
"""

from __future__ import annotations

import math
from dataclasses import replace

from labkit.errors import TimingError
from labkit.plan.builder import Builder
from labkit.plan.clock import Clock, first_times, pace
from labkit.plan.steps import Delay, MoveLabware, Pause

PREINC_TOLERANCE = 0.05  # every well's pre-incubation and reaction within ± this share of the nominal (the plan holds
#                          it, recipe.py checks it)
HOT_LEAD_MIN = 5.0  # the operator brings the hot ATP this long before the start (the wait after absorbs it)
TIMED_PER_ASPIRATE = 4  # well by well: wells per aspirate of the start and the stop (a stroke's wells get it within
#                        seconds of each other, so more per aspirate would spread their times beyond what pacing mends)
PACE_BAND = 0.6  # pacing keeps a plate's wells within this share of the spread allowed (the rest: within a stroke)
PREINC_SPREAD = 0.9  # the plan's wells may spread over at most this share of that window (the rest: model error)


def timed_waits(b: Builder, p, key: str, cond, at: tuple[int, int, int, int, int]) -> int:
    """Set a plate's timed waits once its stop is built. at = (kinase mixes, their end, the pre-incubation
    placeholder, the ATP start, the reaction wait). The three phases — kinase mixes, ATP start, stop — go at the
    slowest one's pace (labkit.plan.clock.pace: the faster ones wait between strokes), so that every well waits
    alike between them; then each wait centres its shortest and longest well on the nominal. Returns the steps
    inserted before the ATP start."""
    enz_at, enz_end, pre, start_at, wait = at
    where = plate_slot(b, key)
    b.to_hot_waste(start_at)  # hot tips to the radioactive waste now: the clock times their drops there
    timed = cond.preincubation_min > 0

    def span(lo: int, hi: int) -> float:
        return Clock(b, where).run(b.plan.steps[lo:hi]).t

    def pace_pre(slow: str) -> int:  # mixes -> start; returns the steps inserted
        return pace(b, range(enz_at, enz_end), range(start_at, wait), key, f"{p.id}: pacing — the "
                    f"{'kinase mixes keep the ATP start' if slow == 'first' else 'ATP start keeps the kinase mixes'}'s "
                    "pace, so every well pre-incubates alike", pace_band(cond.preincubation_min), slow=slow,
                    zero=(pre, pre + 2), where=where)

    def pace_reaction(slow: str) -> int:  # start -> stop
        return pace(b, range(start_at, wait), range(wait + 1, len(b.plan.steps)), key, f"{p.id}: pacing — "
                    f"the {'ATP start keeps the stop' if slow == 'first' else 'stop keeps the ATP start'}'s pace, so "
                    "every well reacts alike", pace_band(cond.reaction_min), slow=slow, zero=(wait,), where=where)

    mixes = span(enz_at, enz_end) if timed else 0.0
    start, stop = span(start_at, wait), span(wait + 1, len(b.plan.steps))
    moved = 0

    def mixes_paced() -> None:
        nonlocal moved, enz_end, pre, start_at, wait
        n = pace_pre("first")
        moved += n
        enz_end, pre, start_at, wait = enz_end + n, pre + n, start_at + n, wait + n

    if timed and mixes >= max(start, stop):  # the mixes set the pace: the start follows them, the stop the start
        wait += pace_pre("later")
        pace_reaction("later")
    elif stop >= start:  # the stop sets it: the start follows it, the mixes the start
        wait += pace_reaction("first")
        if timed:
            mixes_paced()
    else:  # the start sets it
        if timed:
            mixes_paced()
        pace_reaction("later")
    _reaction_wait(b, p, key, cond, start_at, wait, where)
    if timed:
        _preincubation_wait(b, p, key, cond, (enz_at, enz_end, pre, start_at, wait), where)
    return moved


def _reaction_wait(b: Builder, p, key: str, cond, start_at: int, wait: int, where: dict[str, str]) -> None:
    """Set the wait between the ATP start (steps start_at..wait) and the stop (the steps after it) so that every well
    reacts the nominal ± 5 %: it centres the shortest and the longest well on the nominal by the plan's clock. A
    plan that cannot is refused."""
    nominal = cond.reaction_min
    lo, hi = reaction_spread(b, p, key, cond, (start_at, wait, len(b.plan.steps)), (), where)
    wait_min = max(nominal - (lo + hi) / 2, 0.0)
    b.plan.steps[wait] = Delay(round(wait_min, 2), f"{p.id}: kinase reaction, {nominal:g} min at "
                                                   f"{cond.temperature_c:g} °C from the ATP start to the stop in every "
                                                   f"well (this wait {round(wait_min, 2):g} min + {lo:.1f}–{hi:.1f} "
                                                   "min of start and stop work, by well)")


def _preincubation_wait(b: Builder, p, key: str, cond, at: tuple[int, int, int, int, int], where: dict[str, str]
                        ) -> None:
    """The wait between the kinase mixes and the ATP start, set so that every well pre-incubates the nominal
    ± 5 %. at = the step indices (kinase mixes, their end, this wait, the ATP start, its end). A well pre-incubates
    from its own kinase mix to its own ATP: the clock (labkit.plan.clock, the simulator's time model) gives each
    well's time with no wait, and the wait centres the shortest and the longest on the nominal. A plan whose
    wells spread over more than the tolerance allows is refused, with the nominal that would hold."""
    enz_at, enz_end, pre, start_at, end = at
    nominal = cond.preincubation_min
    lo, hi = preincubation_spread(b, p, key, cond, (enz_at, enz_end, start_at, end), (pre, pre + 2), where)
    wait = max(nominal - (lo + hi) / 2, 0.0)
    timed = timed_pauses(b, enz_end, pre)  # tip-rack swaps inside the window: the wait takes their time off
    last = round(min(HOT_LEAD_MIN, wait), 2)  # the hot ATP comes this long before the start
    first = round(wait - last, 2)
    note = " less the operator's time at the timed pauses before it" if timed else ""
    b.plan.steps[pre + 2] = Delay(last, f"{p.id}: the last {last:g} min of the pre-incubation, less the time taken to "
                                        "bring the hot ATP", absorbs=True)
    b.plan.steps[pre] = Delay(first, f"{p.id}: pre-incubation of compound and kinase, {nominal:g} min from the kinase "
                                     f"mix to the ATP start in every well (this wait {first:g} min{note}, the hot ATP, "
                                     f"{last:g} min more, + {lo:.1f}–{hi:.1f} min of mix, preparation and start work, "
                                     "by well)", absorbs=timed)


def pace_band(nominal: float) -> float:
    """Seconds within which pacing keeps a plate's wells (a share of the spread a nominal ± 5 % allows)."""
    return PACE_BAND * PREINC_SPREAD * 2 * PREINC_TOLERANCE * nominal * 60


def reaction_spread(b: Builder, p, key: str, cond, at: tuple[int, int, int], zero: tuple[int, ...],
                    where: dict[str, str]) -> tuple[float, float]:
    """The shortest and the longest reaction of a plate's wells, in minutes, without its wait (at = the ATP start,
    the wait, the stop's end) and the waits at the step indices `zero` (the clock over the steps between, another
    plate's work included). A reaction that cannot be held is recorded as a refusal (`_held`)."""
    start_at, wait, end = at
    lo, hi = _spread(b, key, range(start_at, wait), range(wait + 1, end), (wait, *zero), where)
    _held(b, p.id, "reaction", "from the ATP start to the stop", cond.reaction_min, lo, hi, "conditions.reaction_min",
          "use 8-channel pipettes so the start and the stop go by column stamps")
    return lo, hi


def preincubation_spread(b: Builder, p, key: str, cond, at: tuple[int, int, int, int], zero: tuple[int, ...],
                         where: dict[str, str]) -> tuple[float, float]:
    """The shortest and the longest pre-incubation of a plate's wells, in minutes, without the waits at the step
    indices `zero` (at = kinase mixes, their end, the ATP start, its end; the clock over the steps between, another
    plate's work included). A pre-incubation that cannot be held is recorded as a refusal (`_held`)."""
    enz_at, enz_end, start_at, end = at
    lo, hi = _spread(b, key, range(enz_at, enz_end), range(start_at, end), zero, where)
    _held(b, p.id, "pre-incubation", "from the kinase mixes to the ATP start", cond.preincubation_min, lo, hi,
          "conditions.preincubation_min", "use 8-channel pipettes and fewer kinases or wells per plate so the mixes "
          "go by column stamps")
    return lo, hi


def _spread(b: Builder, key: str, first: range, later: range, zero: tuple[int, ...], where: dict[str, str]
            ) -> tuple[float, float]:
    """Shortest and longest minutes from a well's dispense in the steps `first` to its dispense in the steps `later`,
    by the plan's clock over the steps from one to the other with the Delays at `zero` counted as 0."""
    steps = list(b.plan.steps[first.start:later.stop])
    for i in zero:
        steps[i - first.start] = Delay(0.0, "")
    t = first_times(b, steps, key, {"a": range(len(first)), "z": range(later.start - first.start, len(steps))},
                    where)
    gaps = [(t["z"][w] - t["a"][w]) / 60 for w in t["a"] if w in t["z"]]
    return (min(gaps), max(gaps)) if gaps else (0.0, 0.0)


def _held(b: Builder, plate_id: str, what: str, between: str, nominal: float, lo: float, hi: float, field: str,
          advice: str) -> None:
    """Record a TimingError (`Builder.refuse`) when wells that take lo..hi minutes of work between two phases cannot
    all be held at nominal ± 5 % by one wait, saying the shortest nominal that would hold."""
    if hi - lo <= PREINC_SPREAD * 2 * PREINC_TOLERANCE * nominal and hi <= nominal * (1 + PREINC_SPREAD * PREINC_TOLERANCE):
        return
    need = max((hi - lo) / (PREINC_SPREAD * 2 * PREINC_TOLERANCE), hi / (1 + PREINC_SPREAD * PREINC_TOLERANCE))
    b.refuse(TimingError(
        f"plate {plate_id}: a {nominal:g} min {what} cannot be held within ±{PREINC_TOLERANCE:.0%} in every well: "
        f"{between} takes {lo:.1f}–{hi:.1f} min of work alone (by the simulator's time model; at most "
        f"{PREINC_SPREAD:.0%} of the ±{PREINC_TOLERANCE * nominal:.2g} min allowed may lie between the wells); set "
        f"{field} to at least {math.ceil(need):d} min, or {advice}", field=field))


def timed_pauses(b: Builder, first: int, end: int) -> bool:
    """Mark the pauses and manual moves among steps first..end (tip-rack swaps inside a timed window) as timed, so
    that the next absorbing wait takes their time off at run time; True if there were any."""
    timed = False
    for i in range(first, end):
        step = b.plan.steps[i]
        if isinstance(step, Pause) or (isinstance(step, MoveLabware) and step.pause and not step.gripper):
            b.plan.steps[i] = replace(step, timed=True)
            timed = True
    return timed


def preincubation_steps(b: Builder, plate_id: str, cond, hot_now: list[str]) -> int:
    """The pre-incubation's placeholders (set by _preincubation_wait): a wait, the pause at which the operator
    brings the hot ATP fresh (so it stands minutes, not the whole pre-incubation, on the open deck), and a short
    wait that takes that pause's time off at run time. Returns the first one's step index."""
    pre = len(b.plan.steps)
    timed = cond.preincubation_min > 0
    if timed:
        b.add(Delay(cond.preincubation_min, ""))
    b.add(Pause(f"{plate_id}: put the hot ATP ({', '.join(hot_now)}) on the deck now, behind its beta shield (see the "
                "deck's liquids for wells and volumes), and resume", loads=tuple(hot_now), timed=timed))
    if timed:
        b.add(Delay(0.0, ""))
    return pre


def mixed_times(b: Builder, key: str, enz_at: int, enz_end: int, where: dict[str, str] | None = None
                ) -> dict[str, float]:
    """When each well of a plate got its kinase mix (seconds from the first mix, by the plan's clock; `where`: the
    plates' slots, by default this plate's): the ATP start goes in that order, so every well pre-incubates alike."""
    return first_times(b, b.plan.steps[enz_at:enz_end], key, {"mix": range(enz_end - enz_at)},
                       plate_slot(b, key) if where is None else where)["mix"]


def plate_slot(b: Builder, key: str) -> dict[str, str]:
    """The deck slot a plate was last moved to (a module's slot for a module), for the plan's clock."""
    modules = {m.key: m.slot for m in b.plan.modules}
    for step in reversed(b.plan.steps):
        if isinstance(step, MoveLabware) and step.labware == key:
            return {key: modules.get(step.to, step.to)}
    return {}
