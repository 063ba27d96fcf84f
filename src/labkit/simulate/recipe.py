"""An assay's recipe as data — what every well must end with, and when — and its check against a replayed ledger.

Each assay kind declares its recipe in `labkit.assays.<kind>.recipe` as `recipe(exp) -> Recipe`; the core finds it
by the experiment's `assay` name (`recipe_for`) and never switches on assay names. A recipe is a list of checks:

- `Content`: each listed well holds a species during the assay (before the stop / readout reagent) at a value
  (molar, or an amount per well such as cells), or none of it (`value=0`);
- `Volume`: each listed well holds this many µL during the assay (before the readout reagent);
- `Added`: each listed well receives `volume` µL of a liquid carrying a species (None: equal to the volume the
  well held just before it), after every addition of the `after` species;
- `Aliquot`: `volume` µL of each listed well lands in the same well of the plate that is read;
- `Interval`: per well, the time from the first addition of one species to the first addition of another (or, with
  `end=NEXT_PAUSE`, to the next operator pause: where the plate goes to the operator, e.g. to be read) is within
  ±tolerance of the nominal (the simulator's time model; an operator pause in between fails it);
- `OnDeck`: every source well holding a temperature-sensitive species is used up within a stability limit after
  it was loaded (time on the deck at room temperature);
- `Remix`: a suspension in a source well is re-mixed at least every `limit_min` while it is being dispensed;
- `HotWaste`: every tip that carried a radioactive species is dropped into the protocol's radioactive-waste
  container (`HOT_WASTE`), never the shared trash.

Results are counted per check name (`enzyme 140/140 wells`), with the real spread of every timed check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labkit.simulate.cost import Timeline
from labkit.simulate.state import EPS_UL, Key, Ledger, WellState


@dataclass(frozen=True)
class WellCheck:
    """The fields every per-well check has: the report's check name, the step a person knows, plate and wells."""

    name: str  # the check's name in the report, e.g. "enzyme"
    step: str  # the step a person knows, e.g. "TRKA kinase + substrate mix"
    plate: str
    wells: tuple[str, ...]


@dataclass(frozen=True)
class Content(WellCheck):
    """Each well holds `species` during the assay at `value` (0: none), relative tolerance `tolerance`."""

    species: str
    value: float
    unit: str = "M"
    per_well: bool = False  # value is an amount per well (value × µL, e.g. cells), not a concentration
    tolerance: float = 0.01


@dataclass(frozen=True)
class Volume(WellCheck):
    """Each well holds `volume` µL during the assay (before the readout reagent)."""

    volume: float
    tolerance: float = 0.01


@dataclass(frozen=True)
class Added(WellCheck):
    """Each well receives `volume` µL carrying `species` (None: the well's volume before it), after `after`."""

    species: str
    volume: float | None
    after: str = ""
    tolerance: float = 0.01


@dataclass(frozen=True)
class Aliquot(WellCheck):
    """`volume` µL of each well of `plate` lands in the same well of `read_plate` (the plate that is read)."""

    read_plate: str
    volume: float
    tolerance: float = 0.01


NEXT_PAUSE = "<next operator pause>"  # Interval.end: up to the next operator pause (e.g. the plate is read there)


@dataclass(frozen=True)
class Interval(WellCheck):
    """Per well: first addition of `start` → first addition of `end` (NEXT_PAUSE: the next operator pause) within
    ±tolerance of `nominal_min`."""

    start: str
    end: str
    nominal_min: float
    tolerance: float = 0.05
    at_least: bool = False  # a minimum time: longer passes (the report still gives the real spread)


@dataclass(frozen=True)
class SourceCheck:
    """The fields every per-source-well check has: the report's check name, the step, species prefix and limit."""

    name: str
    step: str
    prefix: str
    limit_min: float


@dataclass(frozen=True)
class OnDeck(SourceCheck):
    """Every loaded source well holding a species starting with `prefix` is last used ≤ `limit_min` after loading."""


@dataclass(frozen=True)
class Remix(SourceCheck):
    """A source well holding a species starting with `prefix` is re-mixed at least every `limit_min` while used."""


@dataclass(frozen=True)
class HotWaste:
    """Every tip that carried `species` (hot ATP) is dropped into the protocol's radioactive-waste container
    (`Ledger.hot_waste`), none into the shared trash or back into a rack."""

    name: str
    step: str
    species: str


Check = Content | Volume | Added | Aliquot | Interval | OnDeck | Remix | HotWaste


@dataclass(frozen=True)
class Recipe:
    """An assay's checks, and what verification of this assay does not check (said in the verdict)."""

    checks: tuple[Check, ...]
    not_checked: tuple[str, ...] = ()


@dataclass
class CheckResult:
    """One named check, summed over its recipe entries: how many passed of how many, the spread, the failures."""

    name: str
    unit: str  # what is counted: wells, aliquots, source wells
    passed: int = 0
    total: int = 0
    low: float | None = None  # spread of the measured value (minutes for timed checks)
    high: float | None = None
    measure: str = ""  # what low/high are, e.g. "min"
    limit: str = ""  # the accepted range, for the report
    note: str = ""  # what the range leaves out (e.g. how many wells of an at-least check keep the nominal ± 5 %)
    near: int | None = None
    failures: list[tuple[str, str, list[str], str]] = field(default_factory=list)  # (step, plate, wells, why)

    @property
    def ok(self) -> bool:
        """Every counted item passed and nothing failed."""
        return self.passed == self.total and not self.failures

    def spread(self, value: float) -> None:
        """Widen the measured range to include value."""
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)

    def line(self) -> str:
        """`enzyme 140/140 wells`, `reaction time 140/140 wells, 40.0–40.9 min (38.0–42.0)`."""
        text = f"{self.name} {self.passed}/{self.total} {self.unit}"
        if self.low is not None and self.high is not None:
            text += f", {self.low:.1f}–{self.high:.1f} {self.measure}".rstrip()
            if self.limit:
                text += f" ({self.limit}{'; ' + self.note if self.note else ''})"
        return text

    def to_dict(self) -> dict:
        """JSON-ready copy."""
        return {"name": self.name, "ok": self.ok, "passed": self.passed, "total": self.total, "unit": self.unit,
                "low": self.low, "high": self.high, "measure": self.measure, "limit": self.limit,
                "note": self.note,
                "failures": [{"step": s, "plate": p, "wells": w, "message": m} for s, p, w, m in self.failures]}


def recipe_for(exp: Any) -> Recipe | None:
    """The recipe of an experiment's assay kind (its package's `recipe` module), None if the kind has none."""
    recipe: Recipe | None = exp.assay_kind.recipe(exp)
    return recipe


# ---------------------------------------------------------------- evaluation

def _first(s: WellState, species: str) -> int | None:
    return next((a.index for a in s.additions if species in a.species), None)


def _fail(res: CheckResult, step: str, plate: str, bad: dict[str, list[str]]) -> None:
    for why, wells in bad.items():  # one failure per reason, naming every well it hit
        res.failures.append((step, plate, wells, why))


def _states(ledger: Ledger, plate: str, res: CheckResult, step: str, wells: tuple[str, ...]) -> dict | None:
    res.total += len(wells)
    if plate not in ledger.labware:
        res.failures.append((step, plate, list(wells), f"no labware labelled {plate!r} in the protocol"))
        return None
    return ledger.plate(plate)


def _content(c: Content, ledger: Ledger, res: CheckResult) -> None:
    states = _states(ledger, c.plate, res, c.step, c.wells)
    if states is None:
        return
    bad: dict[str, list[str]] = {}
    for w in c.wells:
        s = states[w]
        comp = s.assay_composition
        got = comp.get(c.species, 0.0) * (s.assay_volume if c.per_well else 1.0)
        if c.value <= 0:
            ok = got <= 0
            why = f"holds {c.species} (should hold none)"
        else:
            ok = abs(got - c.value) <= c.tolerance * c.value
            why = (f"{c.species} missing (should be {c.value:.4g} {c.unit})" if got <= 0 else
                   f"{c.species} off (should be {c.value:.4g} {c.unit})")
        if ok:
            res.passed += 1
        else:
            bad.setdefault(why, []).append(w)
    _fail(res, c.step, c.plate, bad)


def _volume(c: Volume, ledger: Ledger, res: CheckResult) -> None:
    states = _states(ledger, c.plate, res, c.step, c.wells)
    if states is None:
        return
    bad: dict[str, list[str]] = {}
    for w in c.wells:
        v = states[w].assay_volume
        if abs(v - c.volume) <= c.tolerance * c.volume:
            res.passed += 1
        else:
            bad.setdefault(f"{'no liquid' if v <= EPS_UL else 'wrong volume'} (should be {c.volume:g} µL)",
                           []).append(w)
    _fail(res, c.step, c.plate, bad)


def _added(c: Added, ledger: Ledger, res: CheckResult) -> None:
    states = _states(ledger, c.plate, res, c.step, c.wells)
    if states is None:
        return
    bad: dict[str, list[str]] = {}
    for w in c.wells:
        s = states[w]
        # a mix puts the well's own liquid back: not an addition
        own = [a for a in s.additions if a.source != (c.plate, w)]
        adds = [a for a in own if c.species in a.species]
        got = sum(a.volume for a in adds)
        if not adds:
            bad.setdefault("never received it", []).append(w)
            continue
        before = s.assay_volume
        want = before if c.volume is None else c.volume
        if abs(got - want) > c.tolerance * max(want, EPS_UL):
            what = f"the well's {before:g} µL" if c.volume is None else f"{want:g} µL"
            bad.setdefault(f"received {got:g} µL (should be {what})", []).append(w)
            continue
        if c.after:
            last = max((a.index for a in own if c.after in a.species), default=None)
            if last is None or adds[0].index < last:
                bad.setdefault(f"came before the {c.after}" if last is not None else f"no {c.after} before it",
                               []).append(w)
                continue
        res.passed += 1
    _fail(res, c.step, c.plate, bad)


def _aliquot(c: Aliquot, ledger: Ledger, res: CheckResult) -> None:
    res.total += len(c.wells)
    if c.read_plate not in ledger.labware:
        res.failures.append((c.step, c.plate, list(c.wells), f"the read plate {c.read_plate!r} is not in the "
                             "protocol: the reaction never reaches the plate that is read"))
        return
    read = ledger.plate(c.read_plate)
    bad: dict[str, list[str]] = {}
    for w in c.wells:
        got = sum(a.volume for a in read[w].additions if a.source == (c.plate, w))
        if abs(got - c.volume) <= c.tolerance * c.volume:
            res.passed += 1
        else:
            others = sorted({a.source[1] for a in read[w].additions if a.source and a.source != (c.plate, w)})
            why = f"{got:g} µL of the reaction reached the same well of {c.read_plate} (should be {c.volume:g} µL)"
            bad.setdefault(why + (" — it got other wells' liquid" if others else ""), []).append(w)
    _fail(res, c.step, c.plate, bad)


def _interval(c: Interval, ledger: Ledger, tl: Timeline, res: CheckResult) -> None:
    states = _states(ledger, c.plate, res, c.step, c.wells)
    lo, hi = c.nominal_min * (1 - c.tolerance), c.nominal_min * (1 + c.tolerance)
    res.measure = "min"
    res.limit = (f"at least {lo:.1f} min" if c.at_least else f"nominal {c.nominal_min:g} min ± {c.tolerance:.0%}")
    if states is None:
        return
    bad: dict[str, list[str]] = {}
    outside: list[tuple[str, float]] = []
    paused: list[str] = []
    near = 0
    for w in c.wells:
        i0 = _first(states[w], c.start)
        if i0 is None:
            bad.setdefault(f"no {c.start} added", []).append(w)
            continue
        if c.end == NEXT_PAUSE:  # up to the operator's next action (the pause itself is the end, not in between)
            i1 = next((i for i in tl.pauses if i > i0), None)
            missing = f"no operator pause (the read) after the {c.start}"
        else:
            i1, missing = _first(states[w], c.end), f"no {c.end} added"
        if i1 is None:
            bad.setdefault(missing, []).append(w)
            continue
        minutes = (tl.at(i1) - tl.at(i0)) / 60
        res.spread(minutes)
        near += lo <= minutes <= hi
        pauses = tl.pauses_between(i0, i1) if c.end != NEXT_PAUSE else []
        if minutes < lo or (minutes > hi and not c.at_least):
            outside.append((w, minutes))
        elif pauses and not c.at_least:
            paused.append(w)
        else:
            res.passed += 1
    if outside:
        vals = [m for _, m in outside]
        bad[f"{min(vals):.1f}–{max(vals):.1f} min, outside {res.limit}"] = [w for w, _ in outside]
    if c.at_least:  # a minimum only: say how many wells also keep the ± tolerance, which is not required
        res.near = (res.near or 0) + near
        res.note = f"{res.near}/{res.total} within {c.nominal_min:g} min ± {c.tolerance:.0%}, not required"
    if paused:
        bad["an operator pause lies between: the time depends on the operator"] = paused
    _fail(res, c.step, c.plate, bad)


def _sources(ledger: Ledger, prefix: str) -> list[tuple[Key, WellState]]:
    return [(k, s) for k, s in sorted(ledger.wells.items()) if s.loaded > 0 and s.withdrawals and s.liquids
            and any(sp.startswith(prefix) for sp in ledger.liquids.get(s.liquids[-1], {}))]


def _on_deck(c: OnDeck, ledger: Ledger, tl: Timeline, res: CheckResult) -> None:
    res.measure, res.limit = "min", f"limit {c.limit_min:g} min"
    for (lab, w), s in _sources(ledger, c.prefix):
        if s.withdrawals[-1] <= s.loaded_at:
            continue  # loaded again after its last use: nothing stands waiting
        res.total += 1
        end = s.withdrawals[-1]
        minutes = (tl.at(end) - (tl.at(s.loaded_at) if s.loaded_at >= 0 else 0.0)) / 60
        res.spread(minutes)
        if minutes > c.limit_min:
            pauses = tl.pauses_between(s.loaded_at, end)
            res.failures.append((c.step, lab, [w], f"{s.liquids[-1]} stands {minutes:.1f} min on the deck at room "
                                 f"temperature from loading to its last use" + (
                                     f" (+{len(pauses)} operator pause(s))" if pauses else "")
                                 + f", over the {c.limit_min:g} min limit"))
        else:
            res.passed += 1


def _remix(c: Remix, ledger: Ledger, tl: Timeline, res: CheckResult) -> None:
    res.measure, res.limit = "min", f"limit {c.limit_min:g} min"
    for (lab, w), s in _sources(ledger, c.prefix):
        res.total += 1
        mixes = [a.index for a in s.additions if a.source == (lab, w)]  # liquid from the well back into itself
        draws = [i for i in s.withdrawals if not mixes or i > mixes[0]]
        # a mix's own aspirate is the withdrawal just before its dispense back; any other withdrawal before the
        # first mix took the suspension unmixed (settled), even if it is mixed later for another step
        own = {m - 1 for m in mixes}
        early = [i for i in s.withdrawals if mixes and i < mixes[0] and i not in own]
        worst, last = 0.0, mixes[0] if mixes else None
        unmixed = last is None
        mixing = {m - 1 for m in mixes}  # a re-mix's own aspirates (its dispense back follows at once) draw no cells
        for i in s.withdrawals:
            if last is not None and i > last and i not in mixing:
                worst = max(worst, (tl.at(i) - tl.at(last)) / 60)
            later = [m for m in mixes if m <= i]
            last = later[-1] if later else last
        res.spread(worst)
        if unmixed and draws:
            res.failures.append((c.step, lab, [w], f"{s.liquids[0]} is never re-mixed while dispensed"))
        elif early:
            res.failures.append((c.step, lab, [w], f"{s.liquids[0]} is dispensed before it is first mixed"))
        elif worst > c.limit_min:
            res.failures.append((c.step, lab, [w], f"{s.liquids[0]} dispensed {worst:.1f} min after its last "
                                 f"re-mix (limit {c.limit_min:g} min)"))
        else:
            res.passed += 1


def _hot_waste(c: HotWaste, ledger: Ledger, res: CheckResult) -> None:
    where: dict[str, list[str]] = {}
    for tip in ledger.tips:
        if c.species not in tip.carried:
            continue
        res.total += 1
        if ledger.hot_waste and tip.dropped == "trash" and tip.dropped_at == ledger.hot_waste:
            res.passed += 1
        else:
            place = ("back into its rack" if tip.dropped == "returned" else "still on the pipette at the end"
                     if not tip.dropped else f"into {tip.dropped_at or 'the trash'}")
            where.setdefault(place, []).append(f"{tip.rack} {tip.well}")
    for place, tips in where.items():
        why = (f"{len(tips)} hot tip(s) went {place}, not into the radioactive waste "
               + (f"({ledger.hot_waste})" if ledger.hot_waste else "(the protocol has none: HOT_WASTE)"))
        res.failures.append((c.step, "", tips, why))


_UNITS = {Content: "wells", Volume: "wells", Added: "wells", Aliquot: "aliquots", Interval: "wells",
          OnDeck: "source wells", Remix: "source wells", HotWaste: "tips"}


def check_recipe(recipe: Recipe, ledger: Ledger, timeline: Timeline | None) -> tuple[list[CheckResult], list[str]]:
    """Evaluate every check of a recipe: (results by name in recipe order, what was not checked and why)."""
    results: dict[str, CheckResult] = {}
    skipped: list[str] = []
    for c in recipe.checks:
        timed = isinstance(c, (Interval, OnDeck, Remix))
        if timed and timeline is None:
            if c.name not in skipped:
                skipped.append(c.name)
            continue
        res = results.setdefault(c.name, CheckResult(c.name, _UNITS[type(c)]))
        if isinstance(c, Content):
            _content(c, ledger, res)
        elif isinstance(c, Volume):
            _volume(c, ledger, res)
        elif isinstance(c, Added):
            _added(c, ledger, res)
        elif isinstance(c, Aliquot):
            _aliquot(c, ledger, res)
        elif isinstance(c, HotWaste):
            _hot_waste(c, ledger, res)
        elif timeline is None:  # a timed check without a timeline was skipped above
            raise AssertionError(f"timed check {c.name} without a timeline")
        elif isinstance(c, Interval):
            _interval(c, ledger, timeline, res)
        elif isinstance(c, OnDeck):
            _on_deck(c, ledger, timeline, res)
        else:
            _remix(c, ledger, timeline, res)
    not_checked = list(recipe.not_checked) + [f"{n} (no time model given)" for n in skipped]
    return list(results.values()), not_checked
