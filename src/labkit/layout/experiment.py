"""The Experiment (assay file): the fields and checks every assay kind shares.

Each assay kind (labkit.assays.<kind>) subclasses ExperimentBase with `assay: Literal["<kind>"]`, its group items
(targets, cell lines…), volumes and conditions; a layout file validates into the subclass its `assay` names (a
discriminated union built from the registry, labkit.assays.validate_experiment).

Cross-field rules (solvent limit, pipette minimum, stock strength, plate capacity…) are checked here and reported
with the field path of the problem, e.g. 'compounds[0].dilution.top: …'.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import pandas as pd
from pydantic import Field, PrivateAttr, model_validator

from labkit.layout.models import Compound, Controls, Name, Strict
from labkit.layout.plate import PlacementError, PlateSpec, SeriesRequest, Well, place_auto, place_explicit
from labkit.tables import WELLS_COLUMNS
from labkit.wells import row_letters
from labkit.units import si_conc

if TYPE_CHECKING:  # pragma: no cover
    from labkit.assays.base import AssayKind

# control roles placed per group, in this order (each from the `controls` field of the same name)
CONTROL_ROLES = ("vehicle", "positive", "no_enzyme", "blank", "kill", "total_counts")

@dataclass(frozen=True)
class DilutionScheme:
    """How one compound's series is made: source (solvent) plate -> intermediate plate -> assay well.

    For a kind without an intermediate plate (a plain dilution plate), `final` is what sits in the plate.
    """

    compound: str
    final: list[float]          # molar in the assay well, top first
    intermediate: list[float]   # molar in the intermediate plate (assay buffer / medium)
    source: list[float]         # molar in the serial-dilution plate (100 % solvent)
    serial_transfer: float      # µL carried from one source well to the next
    serial_diluent: float       # µL of solvent in each source well before the transfer
    intermediate_solvent: float  # µL of the solvent series into each intermediate well
    intermediate_diluent: float  # µL of buffer/medium in each intermediate well
    compound_volume: float      # µL of intermediate into each assay well
    solvent_fraction: float     # final solvent (DMSO) fraction in every assay well, vehicle included
    top_from_stock: tuple[float, float]  # (µL stock, µL solvent) to make 100 µL of the top source solution

    def describe(self) -> str:
        """One line a scientist reads."""
        return (f"{self.compound}: {len(self.final)} points {si_conc(self.final[0])} → {si_conc(self.final[-1])} "
                f"final; source top {si_conc(self.source[0])} in solvent, {self.serial_transfer:g} µL into "
                f"{self.serial_diluent:g} µL per step; final solvent {self.solvent_fraction:.2%}")


class ExperimentBase(Strict):
    """An assay file: everything needed to make, run and analyze the plates (the fields every kind shares).

    A kind's subclass adds `assay: Literal[...]`, `volumes`, its group items (the field named by `group_field`)
    and anything else it needs; `group_kind` is the wells-table column its groups fill ('target', 'cell_line',
    or '' for none).
    """

    group_field: ClassVar[str] = ""   # 'targets' | 'cell_lines' | '' : the field listing the groups
    group_kind: ClassVar[str] = ""    # 'target' | 'cell_line' | '' : the wells-table column of a group

    name: Name
    assay: str
    description: str = ""
    compounds: list[Compound] = Field(min_length=1)
    controls: Controls = Field(default_factory=Controls)
    solvent_limit: float | None = Field(None, gt=0, le=1, description="max final solvent fraction (default: the "
                                        "assay kind's, e.g. 1 % kinase, 0.5 % cells)")
    plates: list[PlateSpec] = Field(min_length=1)
    volumes: Any = None  # each kind declares its volumes model
    _source: str | None = PrivateAttr(None)   # the file it was loaded from (labkit.layout.io.load_experiment)
    _sha256: str = PrivateAttr("")            # sha256 of that file's bytes (recorded in protocols and reports)

    @model_validator(mode="after")
    def _cross_checks(self) -> "ExperimentBase":
        problems = self.problems()
        if problems:
            raise ValueError("\n".join(f"{path}: {msg}" for path, msg in problems))
        return self

    # -- derived -------------------------------------------------------------------------------------------------
    @property
    def assay_kind(self) -> AssayKind:
        """The registered assay kind of this experiment (plan, normalization, virtual reader …)."""
        from labkit.assays import get

        return get(self.assay)

    @property
    def source(self) -> str | None:
        """The file this experiment was loaded from (None when it was parsed from text)."""
        return self._source

    @property
    def layout_sha256(self) -> str:
        """sha256 of the layout file's bytes ('' when it was parsed from text)."""
        return self._sha256

    @property
    def limit(self) -> float:
        """Maximum final solvent fraction for this assay."""
        return self.solvent_limit if self.solvent_limit is not None else self.assay_kind.solvent_limit

    @property
    def group_items(self) -> Sequence[Any]:
        """The named groups of the assay (targets, cell lines …; each has a `name`), [] for none."""
        return list(getattr(self, self.group_field)) if self.group_field else []

    def protocol(self, robot: str = "flex", **options: Any) -> Any:
        """The standalone Opentrons protocol of this experiment for a robot (labkit.api.Protocol).

        See labkit.api.Protocol for the options (tip_policy, multichannel, source).
        """
        from labkit.api import make_protocol

        return make_protocol(self, robot, **options)

    def compound(self, name: str) -> Compound:
        """The compound called name."""
        for c in self.compounds:
            if c.name == name:
                return c
        raise KeyError(name)

    def scheme(self, compound: Compound | str) -> DilutionScheme:
        """The dilution arithmetic for one compound."""
        c = self.compound(compound) if isinstance(compound, str) else compound
        d, v = c.dilution, self.volumes
        final = d.concentrations
        inter_frac = v.intermediate_solvent / (v.intermediate_solvent + v.intermediate_diluent)
        assay_frac = v.compound / v.well
        frac = inter_frac * assay_frac
        intermediate = [x / assay_frac for x in final]
        source = [x / frac for x in final]
        return DilutionScheme(c.name, final, intermediate, source, v.serial / (d.factor - 1), v.serial,
                              v.intermediate_solvent, v.intermediate_diluent, v.compound, frac,
                              top_prep(source[0], c.stock))

    def groups(self, plate: PlateSpec) -> list[str]:
        """The groups (targets, cell lines …) on a plate; [''] for a kind without groups."""
        return list(getattr(plate, self.group_field)) if self.group_field else [""]

    @cached_property
    def wells(self) -> dict[str, list[Well]]:
        """plate id -> every well of that plate, row-major."""
        return {p.id: self._place(i, p) for i, p in enumerate(self.plates)}

    def _place(self, i: int, plate: PlateSpec) -> list[Well]:
        concs_of = {c.name: c.dilution.concentrations for c in self.compounds}
        if plate.wells is not None:
            return place_explicit(plate, concs_of, f"plates[{i}]")
        names = plate.compounds if plate.compounds is not None else [c.name for c in self.compounds]
        series = [SeriesRequest(g, n, self.compound(n).role, r + 1, tuple(concs_of[n]))
                  for g in self.groups(plate) for n in names
                  for r in range(self.compound(n).dilution.replicates)]
        ctrl = [(g, role, getattr(self.controls, role)) for g in self.groups(plate)
                for role in CONTROL_ROLES if self.assay_kind.required_controls]
        return place_auto(plate, series, ctrl, self.group_kind)

    def wells_table(self) -> pd.DataFrame:
        """One row per well of every plate (columns: labkit.tables.WELLS_COLUMNS)."""
        rows = []
        for plate in self.plates:
            n_rows = plate.shape[0]
            letters = row_letters(n_rows)
            for w in self.wells[plate.id]:
                rows.append((w.plate, f"{letters[w.row]}{w.col + 1}", letters[w.row], w.col + 1, w.role, w.compound,
                             w.conc, w.point, w.replicate, w.target, w.cell_line))
        df = pd.DataFrame(rows, columns=list(WELLS_COLUMNS))
        return df.astype({"column": "int64", "point": "int64", "replicate": "int64", "conc_M": "float64"})

    # -- checks --------------------------------------------------------------------------------------------------
    def problems(self) -> list[tuple[str, str]]:
        """Every cross-field problem as (field path, message)."""
        out: list[tuple[str, str]] = []
        out += self._check_names()
        out += self._check_volumes()
        if out:
            return out
        out += self._check_dilutions()
        out += self._check_plates()
        return out

    def required_controls(self) -> tuple[str, ...]:
        """Control roles every plate of this layout must carry (the kind's; a kind's model may choose per layout)."""
        return tuple(self.assay_kind.required_controls)

    def _kind_problems(self) -> list[tuple[str, str]]:
        """Problems only this kind knows about, as (field path, message); a kind's model overrides it."""
        return []

    def advisories(self) -> list[str]:
        """Warnings that do not stop a run (printed by `labkit layout validate` and `labkit protocol`); a kind's
        model overrides it."""
        return []

    def _pipetted_volumes(self) -> list[tuple[str, float]]:
        """(field path, µL) of the per-well volumes the robot pipettes that must reach the pipette minimum (besides
        the serial transfer): the solvent series into the intermediate, the intermediate into the assay well."""
        v = self.volumes
        return [("volumes.intermediate_solvent", v.intermediate_solvent), ("volumes.compound", v.compound)]

    def _check_names(self) -> list[tuple[str, str]]:
        out = []
        lists = [("compounds", self.compounds)] + ([(self.group_field, self.group_items)] if self.group_field else [])
        for field, items in lists:
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    out.append((f"{field}[{i}].name", f"duplicate name {item.name!r}"))
                seen.add(item.name)
        seen_p: set[str] = set()
        for i, p in enumerate(self.plates):
            if p.id in seen_p:
                out.append((f"plates[{i}].id", f"duplicate plate id {p.id!r}"))
            seen_p.add(p.id)
        out += self._kind_problems()
        names = {g.name for g in self.group_items}
        known = {kind: names if kind == self.group_kind else set() for kind in ("target", "cell_line")}
        compounds = {c.name for c in self.compounds}
        for i, p in enumerate(self.plates):
            for field, kind in (("targets", "target"), ("cell_lines", "cell_line")):
                for j, name in enumerate(getattr(p, field)):
                    if name not in known[kind]:
                        out.append((f"plates[{i}].{field}[{j}]", f"unknown {kind.replace('_', ' ')} {name!r}; "
                                    f"expected one of {sorted(known[kind])}"))
            for j, name in enumerate(p.compounds or []):
                if name not in compounds:
                    out.append((f"plates[{i}].compounds[{j}]", f"unknown compound {name!r}; expected one of "
                                f"{sorted(compounds)}"))
            if p.wells is None and self.group_field and not self.groups(p):
                what = self.group_field
                out.append((f"plates[{i}].{what}", f"list the {what.replace('_', ' ')} on this plate (or give "
                            "explicit wells)"))
        return out

    def _check_volumes(self) -> list[tuple[str, str]]:
        """Every volume the plan divides by or dispenses is more than 0 µL (mix_volume may be 0: no mixing)."""
        v = self.volumes
        if v is None:  # pragma: no cover - the before-validator always sets it
            return []
        return [(f"volumes.{name}", f"must be more than 0 µL, got {getattr(v, name):g} µL")
                for name in type(v).model_fields
                if name != "mix_volume" and isinstance(getattr(v, name), float) and not getattr(v, name) > 0]

    def _check_dilutions(self) -> list[tuple[str, str]]:
        out = []
        v = self.volumes
        for i, c in enumerate(self.compounds):
            s = self.scheme(c)
            path = f"compounds[{i}]"
            if s.solvent_fraction > self.limit + 1e-12:
                out.append((f"{path}.dilution", f"final {c.solvent} would be {s.solvent_fraction:.2%}, above the "
                            f"{self.limit:.2%} limit of {self.assay}; lower volumes.intermediate_solvent or "
                            "volumes.compound"))
            if s.serial_transfer < v.min_transfer:
                out.append((f"{path}.dilution.factor", f"a 1:{c.dilution.factor:g} step needs a "
                            f"{s.serial_transfer:.3g} µL transfer, below the {v.min_transfer:g} µL pipette minimum; "
                            "use a smaller factor or a larger volumes.serial"))
            for field, volume in self._pipetted_volumes():
                if volume < v.min_transfer:
                    out.append((field, f"{volume:g} µL is below the {v.min_transfer:g} µL pipette minimum"))
            if s.source[0] > c.stock * (1 + 1e-9):
                out.append((f"{path}.dilution.top", f"top {si_conc(c.dilution.top)} needs "
                            f"{si_conc(s.source[0])} in {c.solvent} at the top of the serial dilution, but the "
                            f"stock is only {si_conc(c.stock)}; lower the top or use a stronger stock"))
        return out

    def _check_plates(self) -> list[tuple[str, str]]:
        out = []
        placed: dict[str, list[Well]] = {}
        for i, p in enumerate(self.plates):
            try:  # each plate on its own, so a problem is reported once, against its own plate
                wells = placed[p.id] = self._place(i, p)
            except PlacementError as exc:
                field = exc.field if exc.field != "plates" else f"plates[{i}]"
                out.append((field, str(exc)))
                continue
            if not self.assay_kind.required_controls:
                continue
            groups = self.groups(p) or sorted({getattr(w, self.group_kind) for w in wells
                                               if w.role in ("sample", "reference")})
            for role in self.required_controls():
                n_plate = sum(1 for w in wells if w.role == role)
                if n_plate < max(self.controls.minimum, 1):
                    out.append((f"plates[{i}]", f"plate {p.id!r} has {n_plate} {role} well(s); every plate needs "
                                f"at least {max(self.controls.minimum, 1)} (controls.{role})"))
                    continue
                for g in groups:
                    n = sum(1 for w in wells if w.role == role and getattr(w, self.group_kind) == g)
                    if g and 0 < n < self.controls.minimum:
                        out.append((f"plates[{i}]", f"plate {p.id!r}: {g} has {n} {role} well(s), fewer than "
                                    f"controls.minimum = {self.controls.minimum}"))
            if p.wells is not None:
                groups_known = {g.name for g in self.group_items}
                for w in wells:
                    g = getattr(w, self.group_kind) if self.group_kind else ""
                    if w.role not in ("empty", "buffer") and g and g not in groups_known:
                        out.append((f"plates[{i}].wells", f"well {w.name}: unknown "
                                    f"{self.group_kind.replace('_', ' ')} {g!r}"))
        if len(placed) == len(self.plates):
            self.__dict__["wells"] = placed  # the `wells` cached property: no second placement
        return out


Experiment = ExperimentBase  # the type of any validated layout (each kind's model subclasses it)


def top_prep(top_source: float, stock: float) -> tuple[float, float]:
    """µL of stock and µL of solvent for 100 µL of the top source solution."""
    stock_ul = 100.0 * top_source / stock if stock > 0 else float("nan")
    return (stock_ul, 100.0 - stock_ul)
