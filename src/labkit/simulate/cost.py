"""What a protocol costs: tips, liquid-handling counts, head moves, manual steps and an estimated run time.

Opentrons' own estimator reports 0 s for apiLevel >= 2.14, so the time is our model of the analyzed commands,
deliberately simple and documented here so plans can be compared with each other (not a promise to the minute):

- Head moves use the engine's resolved positions (`result.position`, deck mm) of consecutive positioned
  commands. A move to another labware / area costs MOVE_BETWEEN_S (retract to travel height and descend) plus the
  XY distance at GANTRY_MM_S; a move to another well of the same labware MOVE_WITHIN_S plus distance; staying at
  the same XY (mix cycles) costs nothing extra.
- Aspirate / dispense: volume / flowRate (µL/s, from the command) + ASPIRATE_S / DISPENSE_S overhead
  (plunger acceleration, settling). Blow-out BLOWOUT_S, touch-tip TOUCH_TIP_S, air gap AIR_GAP_S.
- Tips: PICK_UP_TIP_S (96-channel full pick-up PICK_UP_TIP_96_S), DROP_TIP_S.
- Delays (waitForDuration) count their seconds; pauses (waitForResume) count 0 s and are listed as manual steps.
- Temperature module / heater-shaker: set is instant, wait costs |Δ°C| / TEMP_RAMP_C_PER_S from the last target
  (ambient AMBIENT_C at start); shaker start/stop SHAKE_START_S / SHAKE_STOP_S, latch LATCH_S.
- Gripper moveLabware GRIPPER_MOVE_S (a manual moveLabware is a pause); home HOME_S; thermocycler profiles count
  their hold times plus ramps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from labkit.simulate.nozzles import active_nozzles, channel_count

# what a generated protocol's runner says at a timed pause and a timed wait (labkit.protocol.emit.RUNNER): a timed
# wait absorbs the timed pauses before it (the runner takes the operator's time there off the wait)
TIMED_PAUSE = "Timed pause:"
TIMED_WAIT = "Timed wait"
GANTRY_MM_S = 200.0  # effective XY speed including acceleration (OT-2 max 400 mm/s, Flex similar)
MOVE_BETWEEN_S = 1.5  # z retract + descend when changing labware / area
MOVE_WITHIN_S = 0.5  # small z hop between wells of one labware
ASPIRATE_S = 0.5
DISPENSE_S = 0.3
BLOWOUT_S = 1.0
TOUCH_TIP_S = 2.0
AIR_GAP_S = 0.5
PICK_UP_TIP_S = 4.0
PICK_UP_TIP_96_S = 8.0
DROP_TIP_S = 2.0
HOME_S = 10.0
GRIPPER_MOVE_S = 20.0
LATCH_S = 2.0
SHAKE_START_S = 5.0
SHAKE_STOP_S = 5.0
AMBIENT_C = 25.0
TEMP_RAMP_C_PER_S = 0.1  # ≈ 3.5 min from 25 to 4 °C or to 46 °C
TC_LID_S = 20.0
TC_RAMP_C_PER_S = 2.0

_POSITIONED = {"pickUpTip", "aspirate", "dispense", "blowout", "touchTip", "moveToWell", "dropTip",
               "moveToAddressableArea", "moveToAddressableAreaForDropTip", "liquidProbe", "tryLiquidProbe",
               "moveToCoordinates", "moveRelative", "aspirateWhileTracking", "dispenseWhileTracking"}


@dataclass
class Cost:
    """Counts and estimated time of an analyzed protocol."""

    tips_used: int = 0
    aspirates: int = 0  # aspirate commands (a multichannel aspirate counts once)
    dispenses: int = 0
    mix_cycles: int = 0  # aspirate followed by a dispense back into the same well by the same pipette
    blowouts: int = 0
    touch_tips: int = 0
    volume_uL: float = 0.0  # total volume dispensed, all channels
    commands: int = 0
    moves: int = 0  # head moves to a new XY position
    move_distance_mm: float = 0.0
    pauses: list[str] = field(default_factory=list)  # manual steps (waitForResume / manual labware moves)
    delays_s: float = 0.0  # waitForDuration
    time_s: float = 0.0  # deck time including delays (pauses count 0)
    time_without_delays_s: float = 0.0
    breakdown: dict[str, float] = field(default_factory=dict)  # seconds per kind: moves, liquid, tips, ...
    by_type: dict[str, int] = field(default_factory=dict)  # command counts per commandType

    def to_dict(self) -> dict:
        """JSON-ready copy."""
        return asdict(self)

    def summary(self) -> str:
        """One line: tips, aspirates/dispenses, commands, time."""
        return (f"{self.tips_used} tips, {self.aspirates} aspirates / {self.dispenses} dispenses "
                f"({self.mix_cycles} mix cycles), {self.commands} commands, {self.moves} moves, "
                f"estimated {format_duration(self.time_s)} ({format_duration(self.time_without_delays_s)} "
                f"without delays), {len(self.pauses)} manual step(s)")


def format_duration(seconds: float) -> str:
    """'1 h 02 min', '12 min 05 s', '42 s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


@dataclass
class Timeline:
    """The model's clock over an analysis: seconds elapsed at the end of each command, and the operator pauses."""

    clock: list[float]  # index = command index in analysis["commands"]
    pauses: list[int]  # command indices of waitForResume / manual labware moves (their duration is unknown)
    absorbed: set[int] = field(default_factory=set)  # of those, the timed pauses a later timed wait absorbs

    def at(self, index: int) -> float:
        """Seconds elapsed when command `index` has finished."""
        return self.clock[index]

    def pauses_between(self, start: int, end: int) -> list[int]:
        """Operator pauses after command `start` and up to command `end`, but not those a timed wait between
        absorbs (the protocol takes the operator's time there off that wait at run time)."""
        return [i for i in self.pauses if start < i <= end and i not in self.absorbed]


def estimate(analysis: dict) -> Cost:
    """Count tips, liquid handling and moves of an analysis and estimate its deck time (see module doc)."""
    return _walk(analysis)[0]


def timeline(analysis: dict) -> Timeline:
    """The estimated time at every command of an analysis (the same model as `estimate`)."""
    return _walk(analysis)[1]


def estimate_with_timeline(analysis: dict) -> tuple[Cost, Timeline]:
    """`estimate` and `timeline` in one pass."""
    return _walk(analysis)


def _walk(analysis: dict) -> tuple[Cost, Timeline]:
    cost = Cost()
    clock: list[float] = []
    pause_at: list[int] = []
    timed_next = False  # the runner announced a timed pause: the next pause is one
    timed: list[int] = []  # timed pauses since the last timed wait
    absorbed: set[int] = set()
    t: dict[str, float] = {"moves": 0.0, "liquid": 0.0, "tips": 0.0, "modules": 0.0, "delays": 0.0, "other": 0.0}
    channels: dict[str, int] = {}  # pipette id -> channels
    active: dict[str, int] = {}  # pipette id -> active nozzles
    temps: dict[str, float] = {}  # module id -> last target °C
    last_pos: tuple[float, float] | None = None
    last_place = ""
    last_liquid: dict[str, tuple[str, str, str]] = {}  # pipette -> (kind, labware, well) of last liquid command
    names: dict[str, str] = {}  # labware / module id -> what a person calls it
    elapsed = 0.0
    for c in analysis.get("commands", []):
        if c.get("status", "succeeded") != "succeeded":
            clock.append(elapsed)
            continue
        kind, p, r = c.get("commandType", ""), c.get("params") or {}, c.get("result") or {}
        n_pauses = len(cost.pauses)
        cost.commands += 1
        cost.by_type[kind] = cost.by_type.get(kind, 0) + 1
        pid = p.get("pipetteId", "")
        if kind in _POSITIONED and isinstance(r.get("position"), dict):
            pos = (float(r["position"].get("x", 0.0)), float(r["position"].get("y", 0.0)))
            place = p.get("labwareId") or p.get("addressableAreaName") or kind
            if last_pos is not None:
                d = math.dist(pos, last_pos)
                if d > 0.05 or place != last_place:
                    cost.moves += 1
                    cost.move_distance_mm += d
                    t["moves"] += (MOVE_BETWEEN_S if place != last_place else MOVE_WITHIN_S) + d / GANTRY_MM_S
            last_pos, last_place = pos, place
        if kind == "loadLabware":
            names[r.get("labwareId", "")] = str(p.get("displayName") or p.get("loadName", "labware"))
        elif kind == "loadModule":
            names[r.get("moduleId", "")] = f"the {p.get('model', 'module')} ({_where(p.get('location'), names)})"
        elif kind == "loadPipette":
            channels[r.get("pipetteId", "")] = n = channel_count(p.get("pipetteName", ""))
            active[r.get("pipetteId", "")] = n
        elif kind == "configureNozzleLayout":
            active[pid] = len(active_nozzles(channels.get(pid, 1), p.get("configurationParams"))[1])
        elif kind == "pickUpTip":
            n = active.get(pid, 1)
            cost.tips_used += n
            t["tips"] += PICK_UP_TIP_96_S if n > 8 else PICK_UP_TIP_S
        elif kind in ("dropTip", "dropTipInPlace"):
            t["tips"] += DROP_TIP_S
        elif kind in ("aspirate", "aspirateInPlace", "aspirateWhileTracking"):
            cost.aspirates += 1
            t["liquid"] += ASPIRATE_S + _flow_time(p)
            if "wellName" in p:
                last_liquid[pid] = ("aspirate", p.get("labwareId", ""), p["wellName"])
            else:
                last_liquid.pop(pid, None)
        elif kind in ("dispense", "dispenseInPlace", "dispenseWhileTracking"):
            cost.dispenses += 1
            cost.volume_uL += float(p.get("volume", 0.0)) * active.get(pid, 1)
            t["liquid"] += DISPENSE_S + _flow_time(p)
            if last_liquid.get(pid) == ("aspirate", p.get("labwareId", ""), p.get("wellName", "")):
                cost.mix_cycles += 1
            last_liquid.pop(pid, None)
        elif kind in ("blowout", "blowOutInPlace"):
            cost.blowouts += 1
            t["liquid"] += BLOWOUT_S
        elif kind == "touchTip":
            cost.touch_tips += 1
            t["liquid"] += TOUCH_TIP_S
        elif kind == "airGapInPlace":
            t["liquid"] += AIR_GAP_S + _flow_time(p)
        elif kind == "waitForDuration":
            secs = float(p.get("seconds", 0.0))
            cost.delays_s += secs
            t["delays"] += secs
            if str(p.get("message") or "").startswith(TIMED_WAIT):
                absorbed.update(timed)
                timed = []
        elif kind == "comment" and str(p.get("message") or "").startswith(TIMED_PAUSE):
            timed_next = True
        elif kind in ("waitForResume", "pause"):
            cost.pauses.append(str(p.get("message") or "(pause)"))
        elif kind == "home":
            t["other"] += HOME_S
        elif kind == "moveLabware":
            if p.get("strategy") == "usingGripper":
                t["other"] += GRIPPER_MOVE_S
            elif p.get("strategy", "manualMoveWithPause") == "manualMoveWithPause":
                cost.pauses.append(f"move {names.get(p.get('labwareId', ''), 'labware')} by hand to "
                                   f"{_where(p.get('newLocation'), names)}")
        elif kind in ("temperatureModule/setTargetTemperature", "heaterShaker/setTargetTemperature"):
            temps.setdefault(p.get("moduleId", ""), AMBIENT_C)
            temps[p.get("moduleId", "") + ":target"] = float(p.get("celsius", AMBIENT_C))
        elif kind in ("temperatureModule/waitForTemperature", "heaterShaker/waitForTemperature"):
            mid = p.get("moduleId", "")
            target = float(p.get("celsius", temps.get(mid + ":target", AMBIENT_C)))
            t["modules"] += abs(target - temps.get(mid, AMBIENT_C)) / TEMP_RAMP_C_PER_S
            temps[mid] = target
        elif kind in ("temperatureModule/deactivate", "heaterShaker/deactivateHeater"):
            temps[p.get("moduleId", "")] = AMBIENT_C
        elif kind == "heaterShaker/setAndWaitForShakeSpeed":
            t["modules"] += SHAKE_START_S
        elif kind == "heaterShaker/deactivateShaker":
            t["modules"] += SHAKE_STOP_S
        elif kind in ("heaterShaker/openLabwareLatch", "heaterShaker/closeLabwareLatch"):
            t["modules"] += LATCH_S
        elif kind in ("thermocycler/openLid", "thermocycler/closeLid"):
            t["modules"] += TC_LID_S
        elif kind in ("thermocycler/runProfile", "thermocycler/runExtendedProfile"):
            t["modules"] += _profile_time(p)
        elapsed = sum(t.values())
        clock.append(elapsed)
        if len(cost.pauses) > n_pauses:
            pause_at.append(len(clock) - 1)
            if timed_next:
                timed.append(len(clock) - 1)
                timed_next = False
    cost.breakdown = {k: round(v, 3) for k, v in t.items()}
    cost.time_s = round(sum(t.values()), 3)
    cost.time_without_delays_s = round(cost.time_s - t["delays"], 3)
    cost.move_distance_mm = round(cost.move_distance_mm, 3)
    cost.volume_uL = round(cost.volume_uL, 6)
    cost.by_type = dict(sorted(cost.by_type.items()))
    return cost, Timeline(clock, pause_at, absorbed)


def _flow_time(p: dict) -> float:
    rate = float(p.get("flowRate") or 0.0)
    return float(p.get("volume", 0.0)) / rate if rate > 0 else 0.0


def _where(loc: object, names: dict[str, str] | None = None) -> str:
    """A labware location as a person says it: 'slot 9', 'off deck', 'on <labware>'."""
    names = names or {}
    if isinstance(loc, dict):
        if "slotName" in loc:
            return f"slot {loc['slotName']}"
        if "moduleId" in loc:
            return names.get(loc["moduleId"], "a module")
        if "labwareId" in loc:
            return f"on {names.get(loc['labwareId'], 'another labware')}"
        if "addressableAreaName" in loc:
            return str(loc["addressableAreaName"])
        return str(next(iter(loc.values()), "?"))
    return "off deck" if loc == "offDeck" else str(loc)


def _profile_time(p: dict) -> float:
    steps = p.get("profile") or p.get("profileElements") or []
    total, last = 0.0, AMBIENT_C
    reps = int(p.get("repetitions", 1) or 1)
    flat: list[dict] = []
    for s in steps:
        if isinstance(s, dict) and "steps" in s:
            flat += list(s["steps"]) * int(s.get("repetitions", 1) or 1)
        elif isinstance(s, dict):
            flat.append(s)
    for s in flat * reps:
        c = float(s.get("celsius", last))
        total += abs(c - last) / TC_RAMP_C_PER_S + float(s.get("holdSeconds", 0.0))
        last = c
    return total
