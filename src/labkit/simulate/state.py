"""The ledger's state model: wells, tips, labware and problems, and the Ledger they make up.

Species are intensive values (molar, volume fraction, cells/µL, relative units) mixed by volume-weighted average;
a well stores amounts (value × µL) so mixing is exact. Each well also keeps what arrived in it and when (the
command index of every dispense and its source well), so verification can time the assay and follow aliquots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from labkit.wells import WellNameError, parse_well

COMPOUND = "compound:"
DMSO = "solvent:DMSO"
HOT = "atp33"
READOUT_SPECIES = ("stop", "ctg")  # reagents that end the assay: the well's assay state is taken before them
EMPTY_LIQUID = "EMPTY"
EPS_UL = 1e-6

Key = tuple[str, str]  # (labware label, well name)


@dataclass(frozen=True)
class Addition:
    """One dispense into a well: when (command index), how much, which species, and from which well."""

    index: int
    volume: float
    species: frozenset[str]
    source: Key | None = None


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
    loaded_at: int = -1  # command index of the last loadLiquid into it (-1: never loaded)
    liquids: list[str] = field(default_factory=list)  # display names loaded
    contacts: set[str] = field(default_factory=set)  # species carried by tips that contacted this well
    foreign: set[str] = field(default_factory=set)  # compounds brought by a tip that had no business here
    n_contacts: int = 0
    n_noncontact: int = 0  # non-contact dispenses received
    underflow: float = 0.0  # µL asked for but not there
    snapshot: dict[str, float] | None = None  # composition just before the first stop / CellTiter-Glo addition
    snapshot_volume: float = 0.0  # µL just before the first stop / CellTiter-Glo addition
    additions: list[Addition] = field(default_factory=list, repr=False)  # every dispense into it, in order
    withdrawals: list[int] = field(default_factory=list, repr=False)  # command index of every aspirate from it

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
    def assay_volume(self) -> float:
        """µL during the assay: before the stop / CellTiter-Glo reagent if one was added."""
        return self.snapshot_volume if self.snapshot is not None else self.volume

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
    dropped_at: str = ""  # where it was dropped: an area (fixedTrash, movableTrashB3) or a labware label
    uses: int = 1  # pick-ups (a returned tip picked up again counts again)
    source: Key | None = None  # the well it last aspirated from

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
    hot_waste: str = ""  # where the protocol sends hot tips (HOT_WASTE: an area or a labware label; '' none)

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
