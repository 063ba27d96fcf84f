"""The radiometric kinase plan by column stamps, one plate at a time: compound from the mirrored intermediate
plate, kinase mixes from columns laid out like the kinase rows, then per column run in one order the hot ATP start
into the liquid, mixed, and the acid stop, mixed, with the stopped reaction going onto the P81 filter plate with the
same tip (the timed waits: timing.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from labkit.assays.kinase_radiometric.common import (ASSAY_ROLES, START_MIX_CYCLES, STOP_MIX_CYCLES, _atp_groups,
                                                     _stop_class)
from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.timing import mixed_times, plate_slot, preincubation_steps, timed_waits
from labkit.errors import PlanError
from labkit.plan.builder import Builder, Pool, RowPool
from labkit.plan.common import DmsoSeries, Mirror, assay_wells, mirror_classes, mirror_layout, mix_volume
from labkit.plan.stamps import MAIN, RowReagent, by_nozzles, describe, group_runs, row_reagent_runs, stamp_distribute
from labkit.plan.steps import Delay, Loc, MoveLabware, Pause
from labkit.wells import parse_well


def _stamped(b: Builder, exp, plates: list) -> bool:
    """Whether the whole assay goes by column stamps: 8-channels for every class it needs and a mirrored
    intermediate plate the layout allows."""
    v = exp.volumes
    need = {b.pipette_class(v.enzyme_mix), b.pipette_class(v.atp_mix)} | mirror_classes(b, exp, v.compound)
    chain = _stop_class(b, exp)
    if not (b.allow_multi and need | {chain} <= b.multi):
        return False
    return isinstance(mirror_layout(exp, plates, ASSAY_ROLES, v.compound), Mirror)


@dataclass
class Liquids:
    """Where the per-plate reagents of the stamped plan come from."""

    mixes: str                 # plate of kinase-mix columns
    hot: str                   # hot ATP plate
    reservoir: str
    enzyme: dict[str, str]     # target -> kinase + substrate mix
    blank: dict[str, str]      # target -> no-enzyme (substrate only) mix
    buffer: str
    stop: str
    waste: str                 # where hot tips go, for the operator


def _mix_columns(b: Builder, lq: Liquids, patterns: list[dict[int, str]]) -> RowReagent:
    """Fresh columns of the kinase-mix plate for one assay plate, laid out like its kinase rows."""
    load = b.plan.labware_by_key()[lq.mixes].load_name
    first = 0
    for pat in patterns:
        col = b.reagents.next_column[lq.mixes] = b.reagents.next_column[lq.mixes] + 1
        if col > 12:
            raise PlanError(f"the kinase-mix plate ({load}) has no free column left; use fewer plates per run")
        first = first or col
        for r, liquid in pat.items():
            b.reagents.wells[Loc(lq.mixes, f"{'ABCDEFGH'[r]}{col}")] = liquid
    return RowReagent(lq.mixes, patterns, first)


def _plate_stamped(b: Builder, exp, p, key: str, filt: str, filter_slot: str, series: DmsoSeries,
                   lq: Liquids, free: bool = False) -> int:
    """One plate by column stamps: compound from the mirrored intermediate plate, kinase mixes from columns laid
    out like the kinase rows, then per column (in the same order) the hot ATP start into the liquid, mixed, and
    the acid stop, mixed, with the stopped reaction going onto the filter plate with the same tip. free: the
    dilution plates leave once the plate is dosed (the filter plate takes the intermediate plate's slot)."""
    cond = exp.conditions
    _dose_stamped(b, exp, p, key, series)
    gone = ""
    if free:
        lw = b.plan.labware_by_key()
        gone = (f"take the {lw[series.source].label} plate (slot {lw[series.source].slot}) and the "
                f"{lw[series.inter].label} plate (slot {lw[series.inter].slot}) off the deck (no longer needed), then ")
        for x in (series.source, series.inter):
            b.add(MoveLabware(x, "offdeck", False, "", pause=False))
    b.add(MoveLabware(filt, filter_slot, False, f"{gone[:1].upper()}{gone[1:]}{'p' if gone else 'P'}ut the P81 filter "
                                               f"plate for {p.id} in slot {filter_slot}"))
    b.add(_load_pause(exp, [p], lq))
    t = _mixes_stamped(b, exp, p, key, lq, plate_slot(b, key))
    _prepare_timed(b, t, t)
    pre = preincubation_steps(b, p.id, cond, _hot_now(exp, [p]))
    b.comment(f"{p.id}: RADIOACTIVE from here on — every tip that touched hot liquid is used once and dropped into "
              f"{lq.waste}")
    _start_stamped(b, exp, t, lq)
    start_at, wait = t.start_at, len(b.plan.steps)
    b.add(Delay(cond.reaction_min, ""))
    _stop_stamped(b, exp, t, filt, lq)
    start_at += timed_waits(b, p, key, cond, (t.enz_at, t.enz_end, pre, start_at, wait))
    return start_at


@dataclass
class _Timed:
    """One plate's timed part in the stamped plan: the column runs of its start and stop (in one order), the
    pipettes, and where its kinase mixes, start and stop sit in the plan's steps."""

    p: Any                     # the layout's plate
    key: str
    runs: list                 # (nozzles, hot liquid, runs) per start / stop step
    atp_pip: str
    stop_pip: str
    enz_at: int = 0
    enz_end: int = 0
    start_at: int = 0
    start_end: int = 0
    stop_at: int = 0
    stop_end: int = 0
    gap: int = 0               # a wait placeholder before the kinase mixes (interleaved plate B)


def _dose_stamped(b: Builder, exp, p, key: str, series: DmsoSeries) -> None:
    """Compound (vehicle wells: solvent in buffer) into every still-empty assay well of a plate, by stamps."""
    v = exp.volumes
    solvent = exp.compounds[0].solvent
    series.dose(f"{p.id}: {v.compound:g} µL compound intermediate (vehicle wells: {solvent} in buffer) into every "
                "assay well", key, assay_wells(exp, p.id, ASSAY_ROLES), v.compound, empty=True)


def _hot_now(exp, plates: list) -> list[str]:
    """The hot ATP mixes the plates' starts draw (one pause brings them)."""
    out: list[str] = []
    for p in plates:
        out += [x for x in sorted(set(_atp_groups(exp, p).values())) if x not in out]
    return out


def _load_pause(exp, plates: list, lq: Liquids, extra: str = "") -> Pause:
    """The pause at which the operator brings the plates' kinase mixes fresh from ice."""
    fresh: list[str] = []
    for p in plates:
        wells = assay_wells(exp, p.id, ASSAY_ROLES)
        fresh += [x for x in sorted({lq.enzyme[w.target] for w in wells if w.target and w.role not in NO_ENZYME_ROLES})
                  if x not in fresh]
    ids = ", ".join(p.id for p in plates)
    return Pause(f"{extra}{ids}: put the kinase mixes ({', '.join(fresh)}) on the deck now, fresh from ice (see the "
                 "deck's liquids for wells and volumes), and resume; the hot ATP comes at a pause just before the "
                 "start", loads=tuple(fresh))


def _mixes_stamped(b: Builder, exp, p, key: str, lq: Liquids, where: dict[str, str], gap: bool = False) -> _Timed:
    """A plate's kinase mixes (no-enzyme control: substrate only; a stamp per column run, non-contact, one tip per
    source rows; their tips in place before the first) and its buffer wells; returns its timed part, planned: the
    start's steps, and the columns within each, in the order their kinase mixes went in, so that every well's
    pre-incubation is alike (the stop goes in the same order). gap: a wait placeholder just before the mixes (its
    index in the result's `gap`), for an interleaved plate (`_pair_stamped`)."""
    v = exp.volumes
    wells = assay_wells(exp, p.id, ASSAY_ROLES)
    hot_groups = _atp_groups(exp, p)
    groups = {w.name: (lq.blank if w.role in NO_ENZYME_ROLES else lq.enzyme)[w.target] for w in wells
              if w.target}
    found, patterns = row_reagent_runs(8, groups)
    mixes = _mix_columns(b, lq, patterns)
    pip = b.choose(v.enzyme_mix, singles=False)
    by_source: dict[tuple[int, Loc], list] = defaultdict(list)
    for run in found:
        by_source[(run.nozzles, mixes.source(run.group, [parse_well(w)[0] for w in run.wells]))].append(run)
    # no rack change inside the pre-incubation window: the kinase mixes' tips are in place before the first mix
    b.prepare_tips(pip, [b.nozzles(pip, k) for k, _src in by_source], "the kinase mixes")
    at_gap = len(b.plan.steps)
    if gap:
        b.add(Delay(0.0, ""))
    enz_at = len(b.plan.steps)
    for (k, src), rs in sorted(by_source.items(), key=lambda kv: (-kv[0][0], kv[1][0].column, kv[1][0].wells[0])):
        what = "kinase mixes, each row its own" if rs[0].group == MAIN else str(rs[0].group)
        b.distribute(f"{p.id}: {v.enzyme_mix:g} µL {what} ({describe(rs)} from mix column {src.well[1:]}), "
                     "non-contact", pip, src, [Loc(key, r.primary) for r in rs], v.enzyme_mix, nozzles=k)
    enz_end = len(b.plan.steps)
    other = [w.name for w in wells if not w.target]
    if other:
        pip = b.choose(v.enzyme_mix, singles=False, per_aspirate=len(other))
        stamp_distribute(b, f"{p.id}: {v.enzyme_mix:g} µL assay buffer (wells without a target)", pip,
                         b.pool(lq.reservoir, lq.buffer), key, other, v.enzyme_mix)
    buf = [w.name for w in exp.wells[p.id] if w.role == "buffer"]
    if buf:
        pip = b.choose(v.well, singles=False, per_aspirate=len(buf))
        stamp_distribute(b, f"{p.id}: {v.well:g} µL assay buffer into the buffer wells", pip,
                         b.pool(lq.reservoir, lq.buffer), key, buf, v.well)
    mixed_at = mixed_times(b, key, enz_at, enz_end, where)

    def mix_time(r) -> float:
        return sum(mixed_at.get(w, 0.0) for w in r.wells) / len(r.wells)

    steps = sorted(((g[0].nozzles, g[0].group, sorted(g, key=mix_time))
                    for g in _by_liquid(by_nozzles(group_runs(b, key, hot_groups)))),
                   key=lambda s: sum(map(mix_time, s[2])) / len(s[2]))
    atp_pip = b.choose(v.atp_mix, singles=False)
    stop_pip = b.pipette(b.robot.large_multi if _stop_class(b, exp) == "large" else b.robot.small_multi)
    return _Timed(p, key, steps, atp_pip, stop_pip, enz_at, enz_end, gap=at_gap)


def _prepare_timed(b: Builder, start: _Timed, stop: _Timed) -> None:
    """Full tip racks in place before the timed part, if the current ones cannot serve a start and a stop."""
    b.prepare_tips(start.atp_pip, [b.nozzles(start.atp_pip, k) for k, _g, rs in start.runs for _r in rs],
                   "the ATP start")
    b.prepare_tips(stop.stop_pip, [b.nozzles(stop.stop_pip, k) for k, _g, rs in stop.runs for _r in rs], "the stop")


def _start_stamped(b: Builder, exp, t: _Timed, lq: Liquids) -> None:
    """The hot ATP start of a plate, per column run: into the liquid, one mix cycle at the aqueous mixing rate (the
    contact dispense before it goes at that rate too), a fresh tip every stamp — as an expert mixes a start by
    hand; the hot mix from this plate's own columns."""
    v = exp.volumes
    t.start_at = len(b.plan.steps)
    atp_mix = (START_MIX_CYCLES, mix_volume(b, t.atp_pip, v.well, v.atp_mix))
    hot_pools = {liquid: RowPool(b, lq.hot, str(liquid)) for _k, liquid, _rs in t.runs}
    for k, liquid, rs in t.runs:
        b.transfer(f"{t.p.id}: start — {v.atp_mix:g} µL {liquid} into the reaction, {describe(rs)}, mixed, a fresh "
                   "tip every stamp", t.atp_pip, [(hot_pools[liquid], Loc(t.key, r.primary), v.atp_mix) for r in rs],
                   new_tip="always", mix_after=atp_mix, nozzles=k, mix_rate=b.spec(t.atp_pip).aqueous_mix_rate)
    t.start_end = len(b.plan.steps)


def _stop_stamped(b: Builder, exp, t: _Timed, filt: str, lq: Liquids) -> None:
    """The acid stop of a plate in its start's order, mixed, then the stopped reaction onto the same wells of its
    P81 filter plate with the same tip."""
    v = exp.volumes
    t.stop_at = len(b.plan.steps)
    stop_mix = (STOP_MIX_CYCLES, mix_volume(b, t.stop_pip, v.well + v.stop, min(v.stop, v.filter_transfer)))
    for k, _liquid, rs in t.runs:
        chains: list[list[tuple[Loc | Pool, Loc, float, tuple[int, float] | None]]] = [
            [(b.pool(lq.reservoir, lq.stop), Loc(t.key, r.primary), v.stop, stop_mix),
             (Loc(t.key, r.primary), Loc(filt, r.primary), v.filter_transfer, None)] for r in rs]
        b.chain(f"{t.p.id}: stop — {v.stop:g} µL phosphoric acid into the reaction, mixed, then "
                f"{v.filter_transfer:g} µL of it onto the same wells of the P81 filter plate with the same tip, "
                f"{describe(rs)}", t.stop_pip, chains, nozzles=k, mix_rate=b.spec(t.stop_pip).aqueous_mix_rate)
    t.stop_end = len(b.plan.steps)


def _by_liquid(groups: list[list]) -> list[list]:
    """Each nozzle group split by liquid (one step per liquid: a pool per liquid), column order kept."""
    out = []
    for g in groups:
        by: dict[object, list] = defaultdict(list)
        for r in g:
            by[r.group].append(r)
        out += sorted(by.values(), key=lambda rs: (rs[0].column, rs[0].wells[0]))
    return out
