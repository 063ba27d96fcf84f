"""Layout models of the radiometric kinase assay: targets, volumes, reaction conditions, the experiment.

Format: [γ-33P]ATP phosphorylation of a peptide substrate captured on P81 phosphocellulose and counted (NCBI
Assay Guidance Manual, "Assay Development for Protein Kinase Enzymes"); ATP near Km(ATP) so IC50s of
ATP-competitive inhibitors approach Ki (Copeland, Evaluation of Enzyme Inhibitors in Drug Discovery).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from labkit.layout.experiment import ExperimentBase
from labkit.layout.models import Microlitres, Molar, Name, Strict


class Target(Strict):
    """A kinase target of the radiometric assay."""

    name: Name
    enzyme: Molar = Field(5e-9, description="final kinase concentration (keep below the IC50s you want to resolve)")
    substrate: Name = "peptide substrate"
    substrate_conc: Molar = Field(2e-5, description="final peptide substrate concentration")
    atp: Molar = Field(1e-5, description="final ATP concentration (near Km(ATP))")


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


class KinaseConditions(Strict):
    """Timing and temperature of the kinase reaction."""

    preincubation_min: float = Field(10.0, ge=0, description="compound + kinase before the ATP start")
    reaction_min: float = Field(40.0, gt=0, description="reaction time after the ATP start")
    temperature_c: float = Field(30.0, ge=4, le=40, description="reaction temperature (temperature module)")
    hot_atp_uci_per_well: float = Field(0.5, gt=0, description="[γ-33P]ATP activity per well, µCi")
    reagent_stability_min: float = Field(30.0, gt=0, description="longest time the kinase mixes and the hot ATP may "
                                         "stand on the deck at room temperature before their last use")


class KinaseExperiment(ExperimentBase):
    """A radiometric kinase assay file: compounds × kinase targets, vehicle and no-enzyme controls."""

    group_field: ClassVar[str] = "targets"
    group_kind: ClassVar[str] = "target"

    assay: Literal["kinase_radiometric"]
    targets: list[Target] = Field(default_factory=list, description="kinases")
    volumes: KinaseVolumes = Field(default_factory=KinaseVolumes)
    conditions: KinaseConditions = Field(default_factory=KinaseConditions)

    def _kind_problems(self) -> list[tuple[str, str]]:
        return [] if self.targets else [("targets", "a kinase assay needs at least one target (kinase)")]
