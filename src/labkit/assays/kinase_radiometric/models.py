"""Layout models of the radiometric kinase assay: targets, volumes, reaction conditions, the experiment.

Format: [γ-33P]ATP phosphorylation of a peptide or polymer substrate captured on P81 phosphocellulose and counted
(NCBI Assay Guidance Manual, "Assay Development for Protein Kinase Enzymes"); ATP near Km(ATP) so IC50s of
ATP-competitive inhibitors approach Ki (Copeland, Evaluation of Enzyme Inhibitors in Drug Discovery).

Per target: the ACTIVE enzyme concentration in the well (under tight binding no IC50 below [E]/2 can be observed,
Copeland 2013 ch. 7), Km(ATP) with where it comes from, the ATP concentration (default: at Km when Km is given),
and the substrate with its unit (a polymer such as poly(Glu4-Tyr) in mg/mL, a peptide in µM). `expected` holds a
compound's expected potency per target (optional): validation warns when it is below 2 × [E].

`Target` is meant to be shared by other kinase assay kinds: import it from here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, WithJsonSchema, field_serializer, model_validator

from labkit.layout.experiment import ExperimentBase
from labkit.layout.models import Microlitres, Molar, Name, Strict
from labkit.units import format_molar, parse_molar, si_conc

DEFAULT_ATP = 1e-5  # final ATP when neither atp nor km_atp is given (the old default)
_MG_ML = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*mg\s*/\s*ml\s*$", re.IGNORECASE)
NO_ENZYME = "no_enzyme"
LEGACY_NO_ENZYME = "positive"  # the old name of no_enzyme in kinase layouts (read, with a deprecation note)
NO_ENZYME_ROLES = (NO_ENZYME, LEGACY_NO_ENZYME, "blank")  # wells that get substrate but no kinase


class Target(Strict):
    """A kinase target: active enzyme, Km(ATP) and its source, ATP, substrate and its unit."""

    name: Name
    enzyme: Molar = Field(5e-9, description="ACTIVE kinase concentration, final in the well; keep it at most half "
                          "the smallest potency to be measured (tight binding: no IC50 below [E]/2)")
    km_atp: Molar | None = Field(None, description="Km(ATP)app of this enzyme under these assay conditions; needed "
                                 "for Ki (Cheng–Prusoff); give km_atp_source with it")
    km_atp_source: str = Field("", max_length=400, description="where km_atp comes from: a citation, the enzyme "
                               "lot's data sheet, 'measured <date>, lot <x>', or 'not sourced, assumed'")
    atp: Molar = Field(DEFAULT_ATP, description="final ATP concentration (default: km_atp when given, else 10 µM)")
    substrate: Name = "peptide substrate"
    substrate_conc: Annotated[float, WithJsonSchema({"anyOf": [{"type": "number"}, {
        "type": "string", "examples": ["20 uM", "0.2 mg/mL"]}]})] = Field(
        2e-5, ge=0, allow_inf_nan=False, description="final substrate: a peptide in "
                                  "molar units ('20 uM'), a polymer such as poly(Glu4-Tyr) in mass units "
                                  "('0.2 mg/mL')")
    substrate_unit: Literal["M", "mg/mL"] = Field("M", description="unit of substrate_conc (set from its text)")
    expected: dict[Name, Molar] = Field(default_factory=dict, description="expected potency (Ki_app or IC50) of "
                                        "compounds on this target, e.g. {entrectinib: 0.1 nM}; validation warns when "
                                        "one is below 2 × the enzyme")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("atp") is None and data.get("km_atp") is not None:
            data["atp"] = data["km_atp"]  # ATP at Km(ATP): Ki_app = 2 Ki for an ATP-competitive inhibitor
        elif data.get("atp") is None:
            data.pop("atp", None)
        conc = data.get("substrate_conc")
        if isinstance(conc, str):
            m = _MG_ML.match(conc)
            if m:
                data["substrate_conc"], data["substrate_unit"] = float(m.group(1)), "mg/mL"
            else:
                try:
                    data["substrate_conc"] = parse_molar(conc)
                except ValueError as exc:
                    raise ValueError(f"substrate_conc: {exc}; a polymer substrate is given in mg/mL, e.g. "
                                     "'0.2 mg/mL'") from None
                data["substrate_unit"] = "M"
        return data

    @field_serializer("substrate_conc")
    def _ser_substrate(self, v: float) -> str:
        return f"{v:g} mg/mL" if self.substrate_unit == "mg/mL" else format_molar(v)

    def substrate_text(self, scale: float = 1.0) -> str:
        """The substrate concentration (times scale) with its unit, e.g. '0.2 mg/mL' or '20 µM'."""
        x = self.substrate_conc * scale
        return f"{x:.3g} mg/mL" if self.substrate_unit == "mg/mL" else si_conc(x)

    def substrate_molar(self) -> float:
        """Phospho-acceptor concentration, M (a poly(Glu,Tyr) polymer counted as its tyrosines, 4:1 unless the
        name says 1:1 / Glu1-Tyr)."""
        if self.substrate_unit == "M":
            return self.substrate_conc
        from labkit.analysis.kinetics import poly_glu_tyr_molar

        ratio = 1.0 if re.search(r"glu\s*1?\s*[-:]\s*tyr|1\s*:\s*1", self.substrate, re.IGNORECASE) else 4.0
        return float(poly_glu_tyr_molar(self.substrate_conc, ratio))

    @property
    def km_sourced(self) -> bool:
        """km_atp is given with a source that does not say it is assumed."""
        src = self.km_atp_source.lower()
        return self.km_atp is not None and bool(src) and "assum" not in src and "not sourced" not in src


class KinaseVolumes(Strict):
    """Per-well volumes of the radiometric kinase assay (final reaction = compound + enzyme mix + ATP mix)."""

    compound: Microlitres = Field(5.0, description="compound from the intermediate plate into the reaction")
    enzyme_mix: Microlitres = Field(10.0, description="kinase + peptide substrate mix")
    atp_mix: Microlitres = Field(10.0, description="ATP / [γ-33P]ATP start mix")
    stop: Microlitres = Field(25.0, description="phosphoric acid stop")
    filter_transfer: Microlitres = Field(40.0, description="stopped reaction onto the phosphocellulose filter plate")
    serial: Microlitres = Field(20.0, description="solvent in each source well of the serial dilution")
    intermediate_solvent: Microlitres = Field(2.0, description="solvent series into the intermediate plate")
    intermediate_diluent: Microlitres = Field(38.0, description="assay buffer in each intermediate well")
    min_transfer: Microlitres = Field(1.0, description="smallest transfer the pipettes can make accurately")

    @property
    def well(self) -> float:
        """Reaction volume before the stop."""
        return self.compound + self.enzyme_mix + self.atp_mix

    @property
    def spotted_fraction(self) -> float:
        """Share of one reaction that reaches the filter (filter transfer / stopped volume)."""
        return min(self.filter_transfer / (self.well + self.stop), 1.0)


class KinaseConditions(Strict):
    """Timing and temperature of the kinase reaction."""

    # 60 min by default: a slow tight binder is far from equilibrium after 10 (Copeland, Evaluation of Enzyme
    # Inhibitors, 2nd ed., ch. 7), and labkit holds every well within ±5 % of it, which a 96-well plate's 2–5 min
    # of kinase-mix and start work allows from ~50 min (a shorter nominal is refused, with the shortest that holds)
    preincubation_min: float = Field(60.0, ge=0, description="compound + kinase before the ATP start (every well ±5 %)")
    reaction_min: float = Field(40.0, gt=0, description="reaction time after the ATP start")
    temperature_c: float = Field(30.0, ge=4, le=40, description="reaction temperature (temperature module)")
    hot_atp_uci_per_well: float = Field(0.5, gt=0, description="[γ-33P]ATP activity per well, µCi")
    reagent_stability_min: float = Field(30.0, gt=0, description="longest time the kinase mixes and the hot ATP may "
                                         "stand on the deck at room temperature before their last use")


class KinaseExperiment(ExperimentBase):
    """A radiometric kinase assay file: compounds × kinase targets, vehicle, no-enzyme and total-counts wells."""

    group_field: ClassVar[str] = "targets"
    group_kind: ClassVar[str] = "target"

    assay: Literal["kinase_radiometric"]
    targets: list[Target] = Field(default_factory=list, description="kinases")
    volumes: KinaseVolumes = Field(default_factory=KinaseVolumes)
    conditions: KinaseConditions = Field(default_factory=KinaseConditions)
    non_atp_competitive: list[Name] = Field(default_factory=list, description="compounds that do not compete with "
                                            "ATP: no Cheng–Prusoff Ki is reported for them")

    def _kind_problems(self) -> list[tuple[str, str]]:
        out = [] if self.targets else [("targets", "a kinase assay needs at least one target (kinase)")]
        names = {c.name for c in self.compounds}
        for i, t in enumerate(self.targets):
            if t.km_atp is not None and not t.km_atp_source.strip():
                out.append((f"targets[{i}].km_atp_source", f"{t.name}: say where km_atp = {si_conc(t.km_atp)} comes "
                            "from (a citation, the lot's data sheet, 'measured <date>', or 'not sourced, assumed')"))
            if t.km_atp is not None and not t.km_atp > 0:
                out.append((f"targets[{i}].km_atp", "must be more than 0"))
            for c in t.expected:
                if c not in names:
                    out.append((f"targets[{i}].expected", f"unknown compound {c!r}; expected one of {sorted(names)}"))
        for j, c in enumerate(self.non_atp_competitive):
            if c not in names:
                out.append((f"non_atp_competitive[{j}]", f"unknown compound {c!r}; expected one of {sorted(names)}"))
        return out

    def _place(self, i, plate):
        """Placement, with the old role name `positive` read as no_enzyme."""
        wells = super()._place(i, plate)
        if any(w.role == LEGACY_NO_ENZYME for w in wells):
            from dataclasses import replace

            wells = [replace(w, role=NO_ENZYME) if w.role == LEGACY_NO_ENZYME else w for w in wells]
        return wells

    def target(self, name: str) -> Target:
        """The target called name."""
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def advisories(self) -> list[str]:
        """Warnings that do not stop a run: expected potencies the enzyme cannot measure, Km(ATP) not sourced, the
        old control name."""
        from labkit.analysis.morrison import potency_check

        out = []
        for t in self.targets:
            for c, pot in t.expected.items():
                msg = potency_check(pot, t.enzyme, compound=c, target=t.name)
                if msg:
                    out.append(msg)
        unsourced = [t.name for t in self.targets if t.km_atp is not None and not t.km_sourced]
        if unsourced:
            out.append(f"Km(ATP) of {', '.join(unsourced)} is assumed, not sourced: Ki (Cheng–Prusoff) is only as good "
                       "as Km; measure it (ATP titration at this [E], substrate and time, NCBI Assay Guidance Manual)")
        bare = [p.id for p in self.plates if not any(w.role == "reference" for w in self.wells[p.id])]
        if bare:
            out.append(f"plate(s) {', '.join(bare)} carry no reference inhibitor curve (e.g. staurosporine, role: "
                       "reference): without it a run's potency cannot be compared with earlier runs")
        if self.controls.positive:
            out.append("controls.positive is the old name of controls.no_enzyme in a kinase layout (deprecated): "
                       "write no_enzyme")
        if any(a.role == LEGACY_NO_ENZYME for p in self.plates for a in (p.wells or [])):
            out.append("role 'positive' is the old name of 'no_enzyme' in a kinase layout (deprecated): write "
                       "no_enzyme")
        return out
