"""Replay an Opentrons analysis into a per-well ledger: volume, composition and tip contacts of every well.

The ledger is built from what the engine says the robot did (the analysed commands), never from the plan.

Model
- Liquids: `loadLiquid` *sets* a well's contents (the engine's semantics); the composition of each liquid comes
  from the protocol's module-level `LIQUIDS` literal (read with `read_liquids`), keyed by display name. Species are
  intensive values (molar, volume fraction, cells/µL, relative units) mixed by volume-weighted average; the ledger
  stores amounts (value × µL) so mixing is exact.
- Channels: every command names one well (the primary nozzle's). Each active nozzle is placed 9 mm apart from
  the primary one and mapped to the well of the labware definition under it, so an 8-channel at A1 of a 96-well
  plate works A1..H1, at B3 of a 384-well plate B3, D3 … P3, and all 8 channels of a 12-well reservoir trough
  work the same well (8 × the volume). `configureNozzleLayout` (SINGLE, COLUMN, ROW, QUADRANT, ALL) sets the
  active nozzles. Each channel has its own tip.
- Contacts: aspirate, mix (aspirate/dispense pairs), touchTip, blowout in a well, liquidProbe, a dispense or
  moveToWell below the liquid are contacts. A dispense is non-contact only when it is at the well top (origin
  "top") and the tip end stays more than CLEARANCE_MM above the liquid after it. Liquid height is estimated as
  max(volume / cross-section, depth × volume / max volume) (conservative for tapered wells).
  A contact adds the tip's carried species to the well's `contacts`, and the well's species to the tip's
  `carried` set (a tip that touched a compound carries it from then on).
- Problems (make the ledger fail): overflow (a well above its max volume), underflow (aspirating more than a
  well holds, incl. a well never filled), contamination (a tip that carried a compound touches a well that holds
  neither that compound nor receives it from that tip), outside (a nozzle over no well), hot-tip (radiation
  hygiene: from the contact at which a tip meets [γ-33P]ATP it may touch one more well - its destination - and
  nothing after that; a hot tip must go to the trash, not back to a tip rack).
"""

from __future__ import annotations

import ast
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from labkit.errors import SimulationError
from labkit.wells import WellNameError, parse_well

COMPOUND = "compound:"
DMSO = "solvent:DMSO"
HOT = "atp33"
READOUT_SPECIES = ("stop", "ctg")  # reagents that end the assay: the well's assay state is taken before them
EMPTY_LIQUID = "EMPTY"
NOZZLE_PITCH_MM = 9.0
CLEARANCE_MM = 1.0  # a non-contact dispense keeps the tip end this far above the liquid
EPS_UL = 1e-6

Key = tuple[str, str]  # (labware label, well name)


# ---------------------------------------------------------------- protocol literals

_AST_LOCK = threading.Lock()


def read_literal(path: str | Path, name: str) -> object | None:
    """The value of a module-level literal assignment `NAME = {...}` in a Python file (None if absent)."""
    p = Path(path)
    try:
        with _AST_LOCK:  # CPython < 3.11.8 can fail ast.parse in concurrent threads (python/cpython#106905)
            tree = ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
    except SyntaxError as exc:
        raise SimulationError(f"not valid Python: {exc.msg}", file=p, line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise SimulationError(f"not a Python protocol (not UTF-8 text: {exc.reason} at byte {exc.start})",
                              file=p) from None
    except ValueError as exc:  # e.g. NUL bytes
        raise SimulationError(f"not a Python protocol ({exc})", file=p) from None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                raise SimulationError(f"{name} must be a literal (dicts, strings and numbers only)", file=p,
                                      line=node.lineno, field=name) from None
    return None


def read_liquids(path: str | Path) -> dict[str, dict]:
    """The protocol's LIQUIDS literal: display name -> {description, color, composition}; {} if absent."""
    value = read_literal(path, "LIQUIDS")
    if value is None:
        return {}
    problems = []
    if not isinstance(value, dict):
        raise SimulationError("LIQUIDS must be a dict of display name -> {composition: {...}}", file=path,
                              field="LIQUIDS")
    for name, spec in value.items():
        comp = spec.get("composition") if isinstance(spec, dict) else None
        if not isinstance(comp, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for k, v in comp.items()):
            problems.append(f"LIQUIDS[{name!r}].composition: expected a dict of species -> number >= 0")
    if problems:
        raise SimulationError("LIQUIDS is malformed", file=path, field="LIQUIDS", problems=problems)
    return value


# ---------------------------------------------------------------- state

def _compounds(species: dict | set) -> set[str]:
    return {s for s in species if s.startswith(COMPOUND)}


@dataclass
class WellState:
    """Contents and history of one well."""

    labware: str
    well: str
    max_volume: float
    depth: float = 0.0
    area: float = 0.0  # cross-section, mm²
    volume: float = 0.0
    amounts: dict[str, float] = field(default_factory=dict)  # species -> value × µL
    peak_volume: float = 0.0
    loaded: float = 0.0  # µL set by loadLiquid
    liquids: list[str] = field(default_factory=list)  # display names loaded
    contacts: set[str] = field(default_factory=set)  # species carried by tips that contacted this well
    foreign: set[str] = field(default_factory=set)  # compounds brought by a tip that had no business here
    n_contacts: int = 0
    n_noncontact: int = 0  # non-contact dispenses received
    underflow: float = 0.0  # µL asked for but not there
    snapshot: dict[str, float] | None = None  # composition just before the first stop / CellTiter-Glo addition

    @property
    def key(self) -> Key:
        return (self.labware, self.well)

    @property
    def composition(self) -> dict[str, float]:
        """Species -> intensive value (molar, fraction, units)."""
        if self.volume <= EPS_UL:
            return {}
        return {s: a / self.volume for s, a in sorted(self.amounts.items()) if a > 0}

    def conc(self, species: str) -> float:
        """Intensive value of one species (0 when absent or the well is empty)."""
        return self.amounts.get(species, 0.0) / self.volume if self.volume > EPS_UL else 0.0

    @property
    def compounds(self) -> dict[str, float]:
        """Compound name -> molar."""
        return {s[len(COMPOUND):]: v for s, v in self.composition.items() if s.startswith(COMPOUND)}

    @property
    def assay_composition(self) -> dict[str, float]:
        """The composition during the assay: before the stop / CellTiter-Glo reagent if one was added."""
        return dict(self.snapshot) if self.snapshot is not None else self.composition

    @property
    def assay_compounds(self) -> dict[str, float]:
        """Compound name -> molar during the assay (what the layout's conc_M promises)."""
        return {s[len(COMPOUND):]: v for s, v in self.assay_composition.items() if s.startswith(COMPOUND)}

    @property
    def dmso(self) -> float:
        """DMSO volume fraction."""
        return self.conc(DMSO)

    @property
    def hot(self) -> bool:
        """Holds [γ-33P]ATP."""
        return self.amounts.get(HOT, 0.0) > 0

    @property
    def overflow(self) -> bool:
        return self.peak_volume > self.max_volume + EPS_UL

    def liquid_height(self, volume: float | None = None) -> float:
        """Estimated liquid height above the well bottom, mm."""
        v = self.volume if volume is None else volume
        h = v / self.area if self.area > 0 else 0.0
        if self.max_volume > 0 and self.depth > 0:
            h = max(h, self.depth * v / self.max_volume)
        return h


@dataclass
class Tip:
    """One physical tip: where it came from, what it holds, what it has touched."""

    rack: str
    well: str
    pipette: str  # mount of the pipette that used it
    volume: float = 0.0
    amounts: dict[str, float] = field(default_factory=dict)
    carried: set[str] = field(default_factory=set)  # every species it held or touched
    contacts: list[Key] = field(default_factory=list)  # wells touched, in order (consecutive repeats merged)
    hot_path: list[Key] = field(default_factory=list)  # wells touched since it carried hot ATP
    dropped: str = ""  # 'trash', 'returned', or '' while on the pipette
    uses: int = 1  # pick-ups (a returned tip picked up again counts again)

    @property
    def compounds(self) -> set[str]:
        return {s[len(COMPOUND):] for s in _compounds(self.carried)}


@dataclass
class Problem:
    """Something the replay found wrong."""

    kind: str  # overflow | underflow | contamination | outside | hot-tip
    message: str
    labware: str = ""
    well: str = ""
    command_index: int | None = None

    def __str__(self) -> str:
        where = f"{self.labware} {self.well}".strip()
        at = f" (command {self.command_index})" if self.command_index is not None else ""
        return f"{self.kind}: {where + ': ' if where else ''}{self.message}{at}"


@dataclass
class LabwareInfo:
    """A loaded labware as the ledger knows it."""

    id: str
    label: str  # display label (load_labware label=...) or '<load name> @ <slot>'
    load_name: str
    slot: str
    is_tiprack: bool
    definition: dict = field(repr=False, default_factory=dict)


@dataclass
class Ledger:
    """Per-well volumes and compositions after replaying an analysis."""

    wells: dict[Key, WellState]
    labware: dict[str, LabwareInfo]  # label -> info
    tips: list[Tip]
    problems: list[Problem]
    liquids: dict[str, dict[str, float]]  # display name -> composition used
    waste: dict[str, float]  # species amounts sent to trash
    waste_volume: float
    robot_type: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def plate(self, label: str) -> dict[str, WellState]:
        """Every well of one labware (by label), in the definition's order, untouched wells included."""
        if label not in self.labware:
            raise KeyError(f"no labware labelled {label!r}; labels: {', '.join(sorted(self.labware))}")
        info = self.labware[label]
        names = [w for col in info.definition.get("ordering", []) for w in col]
        return {w: self.wells.get((label, w)) or _new_well(info, w) for w in names}

    def well(self, label: str, name: str) -> WellState:
        """One well (by labware label and well name); an untouched well is empty."""
        return self.plate(label)[name] if (label, name) not in self.wells else self.wells[(label, name)]

    def table(self) -> pd.DataFrame:
        """One row per touched or loaded well: final volume; DMSO and compounds during the assay (before a stop /
        CellTiter-Glo reagent, `read` says which); other species at the end; contacts and flags."""
        rows = []
        for (lab, w), s in sorted(self.wells.items(), key=lambda kv: (kv[0][0], _well_sort(kv[0][1]))):
            comp, assay = s.composition, s.assay_composition
            rows.append({
                "labware": lab, "well": w, "volume_uL": round(s.volume, 6), "max_uL": s.max_volume,
                "read": "pre-stop" if s.snapshot is not None else "final",
                "dmso": assay.get(DMSO, 0.0),
                "compounds": "; ".join(f"{k}={v:.4g} M" for k, v in s.assay_compounds.items()),
                "other": "; ".join(f"{k}={v:.4g}" for k, v in comp.items()
                                   if not k.startswith(COMPOUND) and k != DMSO),
                "hot": s.hot, "contacts": s.n_contacts, "noncontact": s.n_noncontact,
                "touched_by": ", ".join(sorted(c[len(COMPOUND):] for c in _compounds(s.contacts))),
                "overflow": s.overflow, "underflow_uL": round(s.underflow, 6),
                "foreign": ", ".join(sorted(c[len(COMPOUND):] for c in s.foreign)),
            })
        return pd.DataFrame(rows, columns=["labware", "well", "volume_uL", "max_uL", "read", "dmso", "compounds",
                                           "other", "hot", "contacts", "noncontact", "touched_by", "overflow",
                                           "underflow_uL", "foreign"])

    def to_dict(self) -> dict:
        """JSON-ready summary: wells, tips, problems, waste (deterministic order)."""
        wells = []
        for (lab, w), s in sorted(self.wells.items(), key=lambda kv: (kv[0][0], _well_sort(kv[0][1]))):
            wells.append({"labware": lab, "well": w, "volume_uL": s.volume, "max_uL": s.max_volume,
                          "peak_uL": s.peak_volume, "composition": s.composition,
                          "assay_composition": s.assay_composition if s.snapshot is not None else None,
                          "contacts": s.n_contacts, "noncontact_dispenses": s.n_noncontact,
                          "touched_by": sorted(s.contacts), "foreign": sorted(s.foreign),
                          "overflow": s.overflow, "underflow_uL": s.underflow, "liquids": s.liquids})
        return {
            "labware": [{"label": i.label, "load_name": i.load_name, "slot": i.slot, "tiprack": i.is_tiprack}
                        for i in self.labware.values()],
            "wells": wells,
            "tips": {"used": len(self.tips), "pick_ups": sum(t.uses for t in self.tips),
                     "hot": sum(1 for t in self.tips if HOT in t.carried)},
            "waste": {"volume_uL": self.waste_volume, "species": dict(sorted(self.waste.items()))},
            "problems": [{"kind": p.kind, "labware": p.labware, "well": p.well, "message": p.message,
                          "command_index": p.command_index} for p in self.problems],
        }


def _well_sort(name: str) -> tuple[int, str, int]:
    try:
        r, c = parse_well(name)
    except WellNameError:  # not a plate-style name: after the wells that are, by name
        return 1, name, 0
    return 0, f"{r:02d}", c  # row-major: A1, A2, …, B1


def _new_well(info: LabwareInfo, name: str) -> WellState:
    d = info.definition.get("wells", {}).get(name, {})
    if d.get("shape") == "circular":
        area = math.pi * (float(d.get("diameter", 0.0)) / 2) ** 2
    else:
        area = float(d.get("xDimension", 0.0)) * float(d.get("yDimension", 0.0))
    return WellState(info.label, name, float(d.get("totalLiquidVolume", 0.0)), float(d.get("depth", 0.0)), area)


# ---------------------------------------------------------------- nozzles

def channel_count(pipette_name: str) -> int:
    """Channels of a pipette from its analysis name (p300_multi_gen2 -> 8, p1000_96 -> 96, …)."""
    n = pipette_name.lower()
    if "96" in n:
        return 96
    if "multi" in n or "8channel" in n:
        return 8
    return 1


def _nozzle(name: str) -> tuple[int, int]:
    r, c = parse_well(name)
    return r, c - 1


def active_nozzles(channels: int, config: dict | None) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """(primary nozzle, active nozzles) as (row, column) 0-based, for a configureNozzleLayout configuration."""
    rows, cols = {1: (1, 1), 8: (8, 1), 96: (8, 12)}[channels]
    grid = [(r, c) for r in range(rows) for c in range(cols)]
    style = (config or {}).get("style", "ALL")
    if style == "ALL" or channels == 1:
        return (0, 0), grid
    primary = _nozzle(config.get("primaryNozzle", "A1"))
    if style == "SINGLE":
        return primary, [primary]
    if style == "COLUMN":
        return primary, [n for n in grid if n[1] == primary[1]]
    if style == "ROW":
        return primary, [n for n in grid if n[0] == primary[0]]
    if style == "QUADRANT":
        (r0, c0), (r1, c1) = _nozzle(config["backLeftNozzle"]), _nozzle(config["frontRightNozzle"])
        return primary, [n for n in grid if r0 <= n[0] <= r1 and c0 <= n[1] <= c1]
    raise SimulationError(f"unknown nozzle layout style {style!r}")


_CENTRES: dict[tuple, dict[tuple[float, float], str]] = {}


def _def_key(definition: dict) -> tuple:
    return (definition.get("namespace"), definition.get("parameters", {}).get("loadName"),
            definition.get("version"), len(definition.get("wells", {})))


def _under(definition: dict, x: float, y: float) -> str | None:
    """The well of a labware definition whose footprint contains (x, y) (labware coordinates)."""
    key = _def_key(definition)
    centres = _CENTRES.get(key)
    if centres is None:
        centres = _CENTRES[key] = {(round(float(w["x"]), 1), round(float(w["y"]), 1)): n
                                   for n, w in definition.get("wells", {}).items()}
    hit = centres.get((round(x, 1), round(y, 1)))
    if hit is not None:
        return hit
    for name, w in definition.get("wells", {}).items():
        dx, dy = x - float(w["x"]), y - float(w["y"])
        if w.get("shape") == "circular":
            r = float(w.get("diameter", 0.0)) / 2 + 0.01
            if dx * dx + dy * dy <= r * r:
                return name
        elif abs(dx) <= float(w.get("xDimension", 0.0)) / 2 + 0.01 and \
                abs(dy) <= float(w.get("yDimension", 0.0)) / 2 + 0.01:
            return name
    return None


_MAP_CACHE: dict[tuple, list[str | None]] = {}


def _reference(definition: dict, primary: tuple[int, int], nozzles: list[tuple[int, int]]) -> tuple[float, float]:
    """(x, y) of the point the engine puts over the well centre, in nozzle-grid mm (x = 9·col, y = -9·row).

    The primary nozzle, except for labware with the `centerMultichannelOnWells` quirk (the engine's critical
    point rule): troughs (1 < wells < 96) centre the active column in y, 1-well reservoirs and large plates centre
    the active nozzles in x and y.
    """
    x, y = NOZZLE_PITCH_MM * primary[1], -NOZZLE_PITCH_MM * primary[0]
    if "centerMultichannelOnWells" in (definition.get("parameters", {}).get("quirks") or []):
        n = len(definition.get("wells", {}))
        ys = [-NOZZLE_PITCH_MM * r for r, _ in nozzles]
        xs = [NOZZLE_PITCH_MM * c for _, c in nozzles]
        y = (min(ys) + max(ys)) / 2
        if n == 1 or n >= 96:
            x = (min(xs) + max(xs)) / 2
    return x, y


def nozzle_wells(definition: dict, well: str, primary: tuple[int, int],
                 nozzles: list[tuple[int, int]]) -> list[str | None]:
    """The well under each active nozzle when the pipette targets `well` (None: over no well)."""
    key = (*_def_key(definition), well, primary, tuple(nozzles))
    hit = _MAP_CACHE.get(key)
    if hit is None:
        w = definition["wells"][well]
        x0, y0 = float(w["x"]), float(w["y"])
        xr, yr = _reference(definition, primary, nozzles)
        hit = [_under(definition, x0 + NOZZLE_PITCH_MM * c - xr, y0 - NOZZLE_PITCH_MM * r - yr)
               for r, c in nozzles]
        if len(_MAP_CACHE) > 20000:
            _MAP_CACHE.clear()
        _MAP_CACHE[key] = hit
    return hit


# ---------------------------------------------------------------- replay

@dataclass
class _Pipette:
    id: str
    name: str
    mount: str
    channels: int
    primary: tuple[int, int] = (0, 0)
    nozzles: list[tuple[int, int]] = field(default_factory=list)
    tips: dict[tuple[int, int], Tip] = field(default_factory=dict)
    location: tuple = ()  # ("well", labware_id, well, wellLocation) | ("area", name)


class _Replay:
    def __init__(self, analysis: dict, liquids: dict):
        self.analysis = analysis
        self.liquid_specs = liquids
        self.labware: dict[str, LabwareInfo] = {}  # id -> info
        self.modules: dict[str, str] = {}  # module id -> slot
        self.pipettes: dict[str, _Pipette] = {}
        self.liquid_names = {lq["id"]: lq.get("displayName", lq["id"]) for lq in analysis.get("liquids", [])}
        self.used_compositions: dict[str, dict[str, float]] = {}
        self.wells: dict[Key, WellState] = {}
        self.tips: list[Tip] = []
        self.returned: dict[Key, Tip] = {}
        self.problems: list[Problem] = []
        self.overflowed: set[Key] = set()
        self.waste: dict[str, float] = {}
        self.waste_volume = 0.0
        self.i = 0

    # -- helpers
    def problem(self, kind: str, msg: str, key: Key | None = None) -> None:
        lab, w = key if key else ("", "")
        self.problems.append(Problem(kind, msg, lab, w, self.i))

    def slot_of(self, location: dict | str) -> str:
        if isinstance(location, str):
            return location
        if "slotName" in location:
            return str(location["slotName"])
        if "moduleId" in location:
            return self.modules.get(location["moduleId"], "module")
        if "labwareId" in location:
            parent = self.labware.get(location["labwareId"])
            return parent.slot if parent else "adapter"
        if "addressableAreaName" in location:
            return str(location["addressableAreaName"])
        return "off-deck"

    def well_state(self, labware_id: str, well: str) -> WellState:
        info = self.labware[labware_id]
        key = (info.label, well)
        s = self.wells.get(key)
        if s is None:
            s = self.wells[key] = _new_well(info, well)
        return s

    def composition_of(self, liquid_id: str) -> dict[str, float]:
        name = self.liquid_names.get(liquid_id, liquid_id)
        spec = self.liquid_specs.get(name)
        comp = {str(k): float(v) for k, v in (spec or {}).get("composition", {}).items()} if spec else \
            {f"liquid:{name}": 1.0}
        self.used_compositions[name] = comp
        return comp

    # -- loading
    def load_labware(self, c: dict) -> None:
        p, r = c["params"], c.get("result") or {}
        d = r.get("definition") or {}
        load_name = p.get("loadName") or d.get("parameters", {}).get("loadName", "?")
        slot = self.slot_of(p.get("location", {}))
        label = p.get("displayName") or f"{load_name} @ {slot}"
        taken = {i.label for i in self.labware.values()}
        base, k = label, 2
        while label in taken:
            label, k = f"{base} #{k}", k + 1
        self.labware[r["labwareId"]] = LabwareInfo(r["labwareId"], label, load_name, slot,
                                                   bool(d.get("parameters", {}).get("isTiprack")), d)

    def load_pipette(self, c: dict) -> None:
        p, r = c["params"], c.get("result") or {}
        n = channel_count(p["pipetteName"])
        primary, nozzles = active_nozzles(n, None)
        self.pipettes[r["pipetteId"]] = _Pipette(r["pipetteId"], p["pipetteName"], p.get("mount", ""), n,
                                                 primary, nozzles)

    def load_liquid(self, c: dict) -> None:
        p = c["params"]
        lid = p["liquidId"]
        comp = {} if lid == EMPTY_LIQUID else self.composition_of(lid)
        name = self.liquid_names.get(lid, lid)
        for well, vol in sorted(p.get("volumeByWell", {}).items()):
            s = self.well_state(p["labwareId"], well)
            v = 0.0 if lid == EMPTY_LIQUID else float(vol)
            s.volume, s.amounts = v, {k: x * v for k, x in comp.items() if x > 0}
            s.loaded += v
            s.liquids.append(name)
            self.check_overflow(s)

    # -- movement / location
    def channels(self, pip: _Pipette, labware_id: str, well: str) -> list[tuple[tuple[int, int], str | None]]:
        info = self.labware[labware_id]
        names = nozzle_wells(info.definition, well, pip.primary, pip.nozzles) if pip.channels > 1 else [well]
        return list(zip(pip.nozzles, names))

    def set_location(self, pip: _Pipette, c: dict) -> None:
        p = c["params"]
        if "labwareId" in p and "wellName" in p:
            pip.location = ("well", p["labwareId"], p["wellName"], p.get("wellLocation") or {})
        elif "addressableAreaName" in p:
            pip.location = ("area", p["addressableAreaName"])

    # -- tips
    def pick_up(self, pip: _Pipette, c: dict) -> None:
        p = c["params"]
        rack = self.labware[p["labwareId"]]
        for nozzle, name in self.channels(pip, p["labwareId"], p["wellName"]):
            if name is None:
                continue
            tip = self.returned.pop((rack.label, name), None)
            if tip is None:
                tip = Tip(rack.label, name, pip.mount)
                self.tips.append(tip)
            else:
                tip.uses += 1
                tip.dropped = ""
            pip.tips[nozzle] = tip

    def drop(self, pip: _Pipette, where: tuple) -> None:
        returned = where and where[0] == "well" and self.labware[where[1]].is_tiprack
        slots = self.channels(pip, where[1], where[2]) if returned else [(n, None) for n in pip.tips]
        for nozzle, name in slots:
            tip = pip.tips.pop(nozzle, None)
            if tip is None:
                continue
            if returned and name is not None:
                tip.dropped = "returned"
                self.returned[(self.labware[where[1]].label, name)] = tip
                if HOT in tip.carried:
                    self.problem("hot-tip", "a tip that carried hot ATP went back to the tip rack, not the trash",
                                 (self.labware[where[1]].label, name))
            else:
                tip.dropped = "trash"
            self.to_waste(tip.volume, tip.amounts)
            tip.volume, tip.amounts = 0.0, {}
        pip.tips.clear()

    def to_waste(self, volume: float, amounts: dict[str, float]) -> None:
        self.waste_volume += volume
        for k, a in amounts.items():
            self.waste[k] = self.waste.get(k, 0.0) + a

    # -- liquid
    def check_overflow(self, s: WellState) -> None:
        s.peak_volume = max(s.peak_volume, s.volume)
        if s.overflow and s.key not in self.overflowed:
            self.overflowed.add(s.key)
            self.problem("overflow", f"{s.volume:.4g} µL exceeds the well's {s.max_volume:.4g} µL", s.key)

    def contact(self, tip: Tip, s: WellState, delivering: set[str] = frozenset()) -> None:
        present = {k for k, a in s.amounts.items() if a > 0}
        foreign = _compounds(tip.carried) - present - set(delivering)
        if foreign:
            new = foreign - s.foreign
            s.foreign |= foreign
            if new:
                names = ", ".join(sorted(c[len(COMPOUND):] for c in new))
                self.problem("contamination", f"touched by a tip that carried {names}", s.key)
        hot = HOT in tip.carried or HOT in present
        s.contacts |= tip.carried
        s.n_contacts += 1
        tip.carried |= present
        if not tip.contacts or tip.contacts[-1] != s.key:
            tip.contacts.append(s.key)
        if hot:
            if not tip.hot_path or tip.hot_path[-1] != s.key:
                tip.hot_path.append(s.key)
                if len(tip.hot_path) == 3:
                    self.problem("hot-tip", f"a tip carrying hot ATP touched {tip.hot_path[0][1]}, then "
                                            f"{tip.hot_path[1][1]}, then this well (radiation hygiene: one "
                                            f"transfer per tip)", s.key)

    def aspirate(self, pip: _Pipette, labware_id: str, well: str, volume: float) -> None:
        for nozzle, name in self.channels(pip, labware_id, well):
            tip = pip.tips.get(nozzle)
            if tip is None:
                continue
            if name is None:
                self.problem("outside", f"nozzle {chr(65 + nozzle[0])}{nozzle[1] + 1} aspirated over no well",
                             (self.labware[labware_id].label, well))
                continue
            s = self.well_state(labware_id, name)
            self.contact(tip, s)
            take = min(volume, max(s.volume, 0.0))
            if take < volume - EPS_UL:
                s.underflow += volume - take
                self.problem("underflow", f"aspirating {volume:.4g} µL but the well holds {s.volume:.4g} µL",
                             s.key)
            if take <= 0:
                continue
            frac = take / s.volume
            for k, a in list(s.amounts.items()):
                moved = a * frac
                s.amounts[k] = a - moved
                tip.amounts[k] = tip.amounts.get(k, 0.0) + moved
            s.volume -= take
            tip.volume += take
            tip.carried |= {k for k, a in tip.amounts.items() if a > 0}

    def take_from_tip(self, tip: Tip, volume: float) -> tuple[float, dict[str, float]]:
        give = min(volume, tip.volume)
        if give <= 0 or tip.volume <= 0:
            return 0.0, {}
        frac = give / tip.volume
        moved = {k: a * frac for k, a in tip.amounts.items()}
        for k, a in moved.items():
            tip.amounts[k] -= a
        tip.volume -= give
        if tip.volume <= EPS_UL:
            tip.volume, tip.amounts = 0.0, {}
        return give, moved

    def is_contact(self, s: WellState, loc: dict, volume_after: float) -> bool:
        origin = (loc or {}).get("origin", "top")
        if origin != "top":
            return True
        z = float(((loc or {}).get("offset") or {}).get("z", 0.0))
        return s.depth + z <= s.liquid_height(volume_after) + CLEARANCE_MM

    def dispense(self, pip: _Pipette, where: tuple, volume: float | None, always_contact: bool = False) -> None:
        """Dispense `volume` per channel (None: everything, as a blow-out) at a well or an area."""
        if not where:
            return
        if where[0] != "well":  # trash, waste chute, or free space
            for tip in pip.tips.values():
                give, moved = self.take_from_tip(tip, tip.volume if volume is None else volume)
                self.to_waste(give, moved)
            return
        _, labware_id, well, loc = where
        if self.labware[labware_id].is_tiprack:
            return
        for nozzle, name in self.channels(pip, labware_id, well):
            tip = pip.tips.get(nozzle)
            if tip is None:
                continue
            give, moved = self.take_from_tip(tip, tip.volume if volume is None else volume)
            if name is None:
                if give > 0:
                    self.problem("outside", f"nozzle {chr(65 + nozzle[0])}{nozzle[1] + 1} dispensed "
                                            f"{give:.4g} µL over no well", (self.labware[labware_id].label, well))
                self.to_waste(give, moved)
                continue
            s = self.well_state(labware_id, name)
            if always_contact or self.is_contact(s, loc, s.volume + give):
                self.contact(tip, s, {k for k, a in moved.items() if a > 0})
            else:
                s.n_noncontact += 1
            if s.snapshot is None and s.volume > EPS_UL and any(moved.get(k, 0.0) > 0 for k in READOUT_SPECIES):
                s.snapshot = s.composition
            for k, a in moved.items():
                s.amounts[k] = s.amounts.get(k, 0.0) + a
            s.volume += give
            self.check_overflow(s)

    def touch(self, pip: _Pipette, where: tuple, only_below_liquid: bool = False) -> None:
        if not where or where[0] != "well" or self.labware[where[1]].is_tiprack:
            return
        _, labware_id, well, loc = where
        for nozzle, name in self.channels(pip, labware_id, well):
            tip = pip.tips.get(nozzle)
            if tip is None or name is None:
                continue
            s = self.well_state(labware_id, name)
            if not only_below_liquid or self.is_contact(s, loc, s.volume):
                self.contact(tip, s)

    # -- main loop
    def run(self) -> Ledger:
        for self.i, c in enumerate(self.analysis.get("commands", [])):
            if c.get("status", "succeeded") != "succeeded":
                continue
            t, p = c.get("commandType", ""), c.get("params") or {}
            pip = self.pipettes.get(p.get("pipetteId", ""))
            if t == "loadLabware":
                self.load_labware(c)
            elif t == "loadModule":
                self.modules[(c.get("result") or {}).get("moduleId", "")] = self.slot_of(p.get("location", {}))
            elif t == "loadPipette":
                self.load_pipette(c)
            elif t == "loadLiquid":
                self.load_liquid(c)
            elif pip is None:
                continue
            elif t == "configureNozzleLayout":
                pip.primary, pip.nozzles = active_nozzles(pip.channels, p.get("configurationParams"))
            elif t == "pickUpTip":
                self.set_location(pip, c)
                self.pick_up(pip, c)
            elif t in ("dropTip",):
                self.set_location(pip, c)
                self.drop(pip, pip.location)
            elif t in ("dropTipInPlace", "unsafe/dropTipInPlace"):
                self.drop(pip, pip.location)
            elif t in ("aspirate", "aspirateWhileTracking"):
                self.set_location(pip, c)
                self.aspirate(pip, p["labwareId"], p["wellName"], float(p.get("volume", 0.0)))
            elif t == "aspirateInPlace":
                if pip.location and pip.location[0] == "well":
                    self.aspirate(pip, pip.location[1], pip.location[2], float(p.get("volume", 0.0)))
            elif t in ("dispense", "dispenseWhileTracking"):
                self.set_location(pip, c)
                self.dispense(pip, pip.location, float(p.get("volume", 0.0)))
            elif t == "dispenseInPlace":
                self.dispense(pip, pip.location, float(p.get("volume", 0.0)))
            elif t == "blowout":
                self.set_location(pip, c)
                self.dispense(pip, pip.location, None, always_contact=True)
            elif t in ("blowOutInPlace", "unsafe/blowOutInPlace"):
                self.dispense(pip, pip.location, None, always_contact=True)
            elif t in ("touchTip", "liquidProbe", "tryLiquidProbe"):
                self.set_location(pip, c)
                self.touch(pip, pip.location)
            elif t == "moveToWell":
                self.set_location(pip, c)
                self.touch(pip, pip.location, only_below_liquid=True)
            elif t in ("moveToAddressableArea", "moveToAddressableAreaForDropTip"):
                self.set_location(pip, c)
            elif t in ("moveToCoordinates", "moveRelative"):
                pip.location = ("free",)
        labels = {i.label: i for i in self.labware.values()}
        return Ledger(self.wells, labels, self.tips, self.problems, self.used_compositions, self.waste,
                      self.waste_volume, str(self.analysis.get("robotType", "")))


def replay(analysis: dict, liquids: dict | None = None) -> Ledger:
    """Replay the analysed commands into a Ledger (liquids: the protocol's LIQUIDS literal, by display name)."""
    return _Replay(analysis, liquids or {}).run()
