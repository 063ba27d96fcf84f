"""Two radiometric kinase plates side by side on the Flex, each on its own temperature module: the second plate's
dosing and kinase mixes go into the first one's waits, the gripper swaps tip racks and filter plates so that
nothing stops the robot while a plate reacts, and every wait is set by the plan's clock over both plates' work."""

from __future__ import annotations

from labkit.assays.kinase_radiometric.common import WASH, _stop_class, _total_counts
from labkit.assays.kinase_radiometric.stamped import (Liquids, _dose_stamped, _hot_now, _load_pause, _mixes_stamped,
                                                      _prepare_timed, _start_stamped, _stop_stamped, _Timed)
from labkit.assays.kinase_radiometric.timing import (HOT_LEAD_MIN, pace_band, plate_slot, preincubation_spread,
                                                     preincubation_steps, reaction_spread, timed_pauses)
from labkit.plan.builder import Builder
from labkit.plan.clock import pace
from labkit.plan.common import DmsoSeries
from labkit.plan.steps import Delay, LoadLabware, MoveLabware, Pause

# Flex slots for the second temperature module (modules go in column 1 or 3; a plate on it is worked with partial
# nozzle layouts, so not in the back row), tried in this order
PAIR_SLOTS = ("B1", "C1", "D3", "C3", "B3")


PAIR_NOTE = ("INTERLEAVED: plates {a} and {b} run side by side, each on its own temperature module (slots {slot} "
             "and {slot2}; a second Temperature Module GEN2 is needed): both are dosed, {a} gets its kinase mixes, "
             "then {b} while {a} pre-incubates; {a} is started while {b} pre-incubates, {b} while {a} reacts, and the "
             "stops follow in the same order, so every well keeps its pre-incubation and reaction time and the two "
             "plates take little more than one plate's time. At the pause before the kinase mixes the dilution "
             "plates leave the deck: {a}'s P81 filter plate takes the intermediate plate's slot, {b}'s waits in the "
             "source plate's, and full tip racks for {b}'s start and stop wait in staging-area slots (the run uses "
             "B4, C4 and D4: set the deck configuration to a staging area slot in cutouts B3, C3 and D3); between the "
             "start and the last stop nothing stops the robot: the gripper swaps the tip racks and the filter plates")


class _NoPair(Exception):
    """Two plates cannot be interleaved on this deck (the message says why; not a PlanError, so that it is not
    taken for a deck without room for the 8-channels)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _pair_waits(b: Builder, exp, plates: tuple[_Timed, _Timed], at: dict[str, int], where: dict[str, str]) -> None:
    """The waits of two interleaved plates A and B (`_pair_stamped`), by the plan's clock as for one plate: each
    plate's kinase mixes and stop keep its start's pace (labkit.plan.clock.pace), and each wait centres the plate's
    own wells on the nominal, the other plate's work, waits and gripper moves inside its window counted. A's
    pre-incubation window holds W0 (`first`), B's mixes, W1 (`pre_a`), the hot ATP pause and the last minutes
    (`pre_a` + 2); B's holds W1, the hot ATP, the last minutes, A's start, the gripper's rack swap and W2
    (`pre_b`). B's reaction must not be longer than A's leaves room for (B's stop follows A's stop and the gripper's
    swaps), so W2 is at least what keeps B's reaction wait from going below 0; W0 then centres A and W1 centres B.
    `at`: the placeholder waits' step indices (first, pre_a, pre_b, wait_a, wait_b), kept up to date as pacing
    inserts steps."""
    ta, tb = plates
    pa, pb = ta.p, tb.p
    cond = exp.conditions
    nominal = cond.preincubation_min
    steps = b.plan.steps
    marks = ["enz_at", "enz_end", "start_at", "start_end", "stop_at", "stop_end"]

    def shift(pos: int, n: int) -> None:  # pacing inserted n steps before index pos (its phase's end)
        for t in plates:
            for m in marks:
                if getattr(t, m) >= pos:
                    setattr(t, m, getattr(t, m) + n)
        for k, v in at.items():
            if v >= pos:
                at[k] = v + n

    # the waits inside each phase pair's clock, counted as 0 while pacing (they shift every later well alike)
    for t, zero in ((ta, ("first", "pre_a")), (tb, ("pre_a", "pre_b"))):  # the kinase mixes keep the start's pace
        shift(t.enz_end, pace(b, range(t.enz_at, t.enz_end), range(t.start_at, t.start_end), t.key,
                              f"{t.p.id}: pacing — the kinase mixes keep the ATP start's pace, so every well "
                              "pre-incubates alike", pace_band(nominal),
                              zero=tuple(at[k] for k in zero) + (at["pre_a"] + 2,), where=where))
    for t, zero in ((ta, ("wait_a", "pre_b")), (tb, ("wait_b", "wait_a"))):  # the stop keeps the start's pace
        wait = at[zero[0]]
        shift(t.stop_end, pace(b, range(t.start_at, wait), range(wait + 1, t.stop_end), t.key,
                               f"{t.p.id}: pacing — the stop keeps the ATP start's pace, so every well reacts alike",
                               pace_band(cond.reaction_min), slow="later", zero=tuple(at[k] for k in zero), where=where))
    hot = at["pre_a"] + 2
    lo_a, hi_a = preincubation_spread(b, pa, ta.key, cond, (ta.enz_at, ta.enz_end, ta.start_at, ta.start_end),
                                       (at["first"], at["pre_a"], hot), where)
    lo_b, hi_b = preincubation_spread(b, pb, tb.key, cond, (tb.enz_at, tb.enz_end, tb.start_at, tb.start_end),
                                       (at["pre_a"], hot, at["pre_b"]), where)
    # reactions with W2 and A's reaction wait taken as 0: A's grows by W2, B's by A's wait, so B's wait is W2 + A's
    # mid - B's mid; W2 keeps it at least half a minute (the time model's rounding)
    ra = reaction_spread(b, pa, ta.key, cond, (ta.start_at, at["wait_a"], ta.stop_end), (at["pre_b"],), where)
    rb = reaction_spread(b, pb, tb.key, cond, (tb.start_at, at["wait_b"], tb.stop_end), (at["wait_a"],), where)
    mid_ra, mid_rb = sum(ra) / 2, sum(rb) / 2
    total_a, total_b = nominal - (lo_a + hi_a) / 2, nominal - (lo_b + hi_b) / 2
    floor = mid_rb - mid_ra + 0.5
    w2 = round(max(floor, total_b - total_a, 0.0), 2)
    last = round(min(HOT_LEAD_MIN, total_b - w2), 2)
    w1 = round(total_b - w2 - last, 2)
    w0 = round(total_a - w1 - last, 2)
    wait_a = round(cond.reaction_min - mid_ra - w2, 2)
    wait_b = round(cond.reaction_min - mid_rb - wait_a, 2)
    if min(w0, w1, last, wait_a, wait_b) < 0:
        raise _NoPair(f"{pb.id}'s kinase mixes and {pa.id}'s start and stop do not fit in the two plates' "
                      f"{nominal:g} min pre-incubations and {cond.reaction_min:g} min reactions")
    timed_a = timed_pauses(b, ta.enz_end, at["first"])
    timed = timed_pauses(b, tb.enz_end, at["pre_a"])
    inside = " less the operator's time at the timed pauses before it"
    steps[at["first"]] = Delay(w0, f"{pa.id}: pre-incubation of compound and kinase, {nominal:g} min from the kinase "
                                   f"mix to the ATP start in every well (interleaved: this wait {w0:g} min"
                                   f"{inside if timed_a else ''}, then {pb.id}'s kinase mixes, {w1:g} + {last:g} min "
                                   f"more around the hot ATP, + {lo_a:.1f}–{hi_a:.1f} min of mix, {pb.id}'s mix, "
                                   "preparation and start work, by well)", absorbs=timed_a)
    steps[at["pre_a"]] = Delay(w1, f"{pb.id}: pre-incubation of compound and kinase, {nominal:g} min from the kinase "
                                   f"mix to the ATP start in every well (interleaved: this wait {w1:g} min"
                                   f"{inside if timed else ''}, the hot ATP, {last:g} min, {pa.id}'s start, {w2:g} "
                                   f"min more, + {lo_b:.1f}–{hi_b:.1f} min of mix, preparation and {pa.id}'s and its "
                                   f"own start work, by well); {pa.id} pre-incubates on", absorbs=timed)
    steps[hot] = Delay(last, f"{pa.id}, {pb.id}: the last {last:g} min of {pa.id}'s pre-incubation, less the time "
                             "taken to bring the hot ATP", absorbs=True)
    steps[at["pre_b"]] = Delay(w2, f"{pb.id}: the last {w2:g} min of its pre-incubation (so that {pb.id}'s stop "
                                   f"follows {pa.id}'s and every well reacts alike)")
    steps[at["wait_a"]] = Delay(wait_a, f"{pa.id}: kinase reaction, {cond.reaction_min:g} min at "
                                        f"{cond.temperature_c:g} °C from the ATP start to the stop in every well "
                                        f"(interleaved: this wait {wait_a:g} min + {ra[0] + w2:.1f}–{ra[1] + w2:.1f} "
                                        f"min of start and stop work, {pb.id}'s start and the wait before it, by well)")
    steps[at["wait_b"]] = Delay(wait_b, f"{pb.id}: kinase reaction, {cond.reaction_min:g} min at "
                                        f"{cond.temperature_c:g} °C from the ATP start to the stop in every well "
                                        f"(interleaved: this wait {wait_b:g} min + {rb[0] + wait_a:.1f}–"
                                        f"{rb[1] + wait_a:.1f} min of start and stop work, {pa.id}'s wait and stop and "
                                        "the gripper's swaps, by well)")


def _pair_stamped(b: Builder, exp, pair: list, temps: tuple[str, str], series: DmsoSeries, lq: Liquids) -> None:
    """Two plates A and B interleaved on two temperature modules: both dosed; one pause (the dilution plates leave,
    A's filter plate takes the intermediate plate's slot, B's the source plate's, full tip racks wait in staging-area
    slots, both plates' kinase mixes come); A's mixes; a first wait; B's mixes; a wait; one pause for both plates'
    hot ATP; a short wait; A's start; the gripper swaps the start's tip rack; B's last wait; B's start; A's
    reaction wait; A's stop; the gripper swaps the stop's tip rack and the filter plates; B's reaction wait; B's
    stop; then both plates' total counts. Every wait is set from the plates' own windows by the plan's clock
    (`preincubation_spread`, as for one plate) and `_reaction_wait`, with the other plate's work, waits and
    gripper moves inside each window counted; B's start follows A's by enough that B's stop never runs into A's.
    Nothing stops the robot between A's start and B's stop (else _NoPair)."""
    cond = exp.conditions
    ((pa, ka), fa), ((pb, kb), fb) = pair
    robot = b.robot
    if cond.preincubation_min <= 0:
        raise _NoPair("without a pre-incubation there is no wait to prepare the second plate in")
    lw = b.plan.labware_by_key()
    parks = [lw[ka].slot, lw[kb].slot] + [x for x in robot.staging if x not in b.deck.owner]
    if len(parks) < 3 or not set(parks) <= set(robot.staging):
        raise _NoPair("the staging-area slots are not free for the spare tip racks")
    atp_pip = b.choose(exp.volumes.atp_mix, singles=False)
    stop_pip = b.pipette(robot.large_multi if _stop_class(b, exp) == "large" else robot.small_multi)
    racks = (b.spec(atp_pip).tiprack, b.spec(stop_pip).tiprack)
    if racks[0] == racks[1]:
        raise _NoPair("the start and the stop take tips from the same kind of rack")
    b.comment(f"Plates {pa.id} and {pb.id}: interleaved, each on its own temperature module at {cond.temperature_c:g} "
              "°C")
    b.add(MoveLabware(ka, temps[0], True, f"Put reaction plate {pa.id} on the temperature module in slot "
                                          f"{robot.temperature_slot}"))
    b.add(MoveLabware(kb, temps[1], True, f"Put reaction plate {pb.id} on the second temperature module"))
    _dose_stamped(b, exp, pa, ka, series)
    _dose_stamped(b, exp, pb, kb, series)
    # the dilution plates are done: A's filter plate takes the intermediate plate's slot (worked like it), B's
    # waits in the source plate's; full tip racks for B's start and stop wait in the staging-area slots A and B
    # came from
    src_slot, filter_slot = lw[series.source].slot, lw[series.inter].slot
    fresh = [b.tips.offdeck_rack(r) for r in racks]
    b.add(_load_pause(exp, [pa, pb], lq, extra=(
        f"Take the {lw[series.source].label} plate (slot {src_slot}) and the {lw[series.inter].label} plate (slot "
        f"{filter_slot}) off the deck, then put the filter plates and tip racks where the next moves say. ")))
    for x in (series.source, series.inter):
        b.add(MoveLabware(x, "offdeck", False, "", pause=False))
    b.add(MoveLabware(fa, filter_slot, False, f"Put the P81 filter plate for {pa.id} in slot {filter_slot}"))
    b.add(MoveLabware(fb, src_slot, False, f"Put the P81 filter plate for {pb.id} in slot {src_slot} (it waits "
                                           f"there; the gripper brings it to slot {filter_slot} after {pa.id}'s stop)"))
    for key, rack, park in zip(fresh, racks, parks):
        b.add(MoveLabware(key, park, False, f"Put a full {rack} rack in staging-area slot {park} (the gripper swaps "
                                            "it in while the plates react)"))
    where = {**plate_slot(b, ka), **plate_slot(b, kb)}
    ta = _mixes_stamped(b, exp, pa, ka, lq, where)
    tb = _mixes_stamped(b, exp, pb, kb, lq, where, gap=True)  # the first part of A's wait, then B's mixes
    first = tb.gap
    _prepare_timed(b, ta, ta)
    pre_a = preincubation_steps(b, f"{pa.id}, {pb.id}", cond, _hot_now(exp, [pa, pb]))
    b.comment(f"{pa.id}, {pb.id}: RADIOACTIVE from here on — every tip that touched hot liquid is used once and "
              f"dropped into {lq.waste}")
    _start_stamped(b, exp, ta, lq)
    for step in b.tips.swap_by_gripper(racks[0], fresh[0], parks[2]):
        b.add(step)
    pre_b = len(b.plan.steps)
    b.add(Delay(0.0, ""))
    _start_stamped(b, exp, tb, lq)
    wait_a = len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, ta, fa, lq)
    for step in b.tips.swap_by_gripper(racks[1], fresh[1], parks[0]):
        b.add(step)
    b.add(MoveLabware(fa, parks[1], True, f"The gripper takes {pa.id}'s P81 filter plate to staging-area slot "
                                          f"{parks[1]}"))
    b.add(MoveLabware(fb, filter_slot, True, f"The gripper puts {pb.id}'s P81 filter plate in slot {filter_slot}"))
    wait_b = len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, tb, fb, lq)
    steps = b.plan.steps
    for i in range(ta.start_at, tb.stop_end):  # nothing may stop the robot while a plate reacts
        step = steps[i]
        if isinstance(step, (Pause, LoadLabware)) or (isinstance(step, MoveLabware) and not step.gripper):
            raise _NoPair("the tip racks on the deck do not hold a plate's start or stop (a rack would be changed "
                          "by hand while a plate reacts)")
    b.to_hot_waste(ta.start_at)  # hot tips to the radioactive waste now: the clock below times their drops there
    _pair_waits(b, exp, (ta, tb), {"first": first, "pre_a": pre_a, "pre_b": pre_b, "wait_a": wait_a,
                                   "wait_b": wait_b}, where)
    # total counts of both plates after the timed parts (B's filter plate is in place; then A's comes back)
    _total_counts(b, exp, pb, fb, lq.hot)
    b.add(MoveLabware(fb, src_slot, True, f"The gripper takes {pb.id}'s P81 filter plate to slot {src_slot}"))
    b.add(MoveLabware(fa, filter_slot, True, f"The gripper puts {pa.id}'s P81 filter plate back in slot {filter_slot}"))
    _total_counts(b, exp, pa, fa, lq.hot)
    b.to_hot_waste(ta.start_at)  # the total counts' tips too
    for p, key in ((pa, ka), (pb, kb)):
        b.add(MoveLabware(key, "offdeck", False, f"Take reaction plate {p.id} off its temperature module "
                                                 "(radioactive waste)"))
    used = [(key, b.tips.at[key]) for key in sorted(b.tips.at) if b.tips.at[key] in robot.staging]
    b.add(MoveLabware(fa, "offdeck", False, f"{pa.id}: take the P81 filter plate from slot {filter_slot}; {WASH}."))
    b.add(Pause(f"{pb.id}: take the P81 filter plate from slot {src_slot}; {WASH}. Take the used tip racks from "
                f"staging-area slot(s) {', '.join(slot for _k, slot in used)} off the deck too. Resume to continue."))
    for key, _slot in used:  # the staging-area slots are free for a next batch's plates
        b.add(MoveLabware(key, "offdeck", False, "", pause=False))
