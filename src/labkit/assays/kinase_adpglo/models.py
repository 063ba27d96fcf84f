"""Layout models of the ADP-Glo kinase assay: targets, volumes, timing, the experiment.

Format (Promega Technical Manual TM313, "ADP-Glo™ Kinase Assay"): a kinase reaction (compound + kinase/substrate
mix + ATP start) in a white plate; then ADP-Glo™ Reagent equal to the reaction volume stops the reaction and
depletes the ATP left (40 min at room temperature); then Kinase Detection Reagent at twice the reaction volume turns
the ADP made into ATP and light (30–60 min at room temperature); luminescence (RLU) is proportional to the ADP the
kinase made. TM313 gives 5 µL + 5 µL + 10 µL in a 384-well plate and 25 µL + 25 µL + 50 µL in a 96-well plate; any
reaction volume works if the 1:1:2 ratio is kept, which is why the two reagent volumes are not layout fields but
follow from the reaction volume. ATP near Km(ATP), so the IC50 of an ATP-competitive inhibitor is about 2·Ki
(Cheng–Prusoff; Copeland, Evaluation of Enzyme Inhibitors in Drug Discovery, ch. 5); the ADP-Glo Reagent depletes
up to 1 mM ATP (TM313). DMSO ≤ 1 % in the reaction (NCBI Assay Guidance Manual, "Assay Development for Protein
Kinase Enzymes").
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from labkit.layout.experiment import ExperimentBase
from labkit.layout.models import Microlitres, Molar, Name, Strict

MAX_ATP = 1e-3  # TM313: the ADP-Glo Reagent depletes up to 1 mM ATP
# ledger species of the two detection reagents (the kind's readout species: a well's reaction is read before them)
ADP_GLO = "adp_glo"
DETECTION = "kinase_detection"


class AdpGloTarget(Strict):
    """A kinase target of the ADP-Glo assay."""

    name: Name
    enzyme: Molar = Field(1e-9, description="final kinase concentration (keep below the IC50s you want to resolve: "
                          "no IC50 below half of it can be measured, Copeland ch. 7)")
    substrate: Name = "peptide substrate"
    substrate_conc: Molar = Field(2e-5, description="final substrate concentration")
    atp: Molar = Field(1e-5, description="final ATP concentration, at Km(ATP) (at most 1 mM, TM313)")


class AdpGloVolumes(Strict):
    """Per-well volumes of the ADP-Glo kinase assay (reaction = compound + kinase mix + ATP mix; the ADP-Glo Reagent
    and the Kinase Detection Reagent follow from it, 1× and 2× the reaction volume, TM313)."""

    compound: Microlitres = Field(2.0, description="compound from the intermediate plate into the reaction")
    enzyme_mix: Microlitres = Field(4.0, description="kinase + substrate mix")
    atp_mix: Microlitres = Field(4.0, description="ATP start mix")
    serial: Microlitres = Field(20.0, description="solvent in each source well of the serial dilution")
    intermediate_solvent: Microlitres = Field(2.0, description="solvent series into the intermediate plate")
    intermediate_diluent: Microlitres = Field(38.0, description="kinase buffer in each intermediate well")
    min_transfer: Microlitres = Field(1.0, description="smallest transfer the pipettes can make accurately")

    @property
    def well(self) -> float:
        """Kinase reaction volume (before the ADP-Glo Reagent)."""
        return self.compound + self.enzyme_mix + self.atp_mix

    @property
    def adp_glo(self) -> float:
        """ADP-Glo Reagent per well: equal to the reaction volume (TM313)."""
        return self.well

    @property
    def detection(self) -> float:
        """Kinase Detection Reagent per well: twice the reaction volume (TM313)."""
        return 2 * self.well


class AdpGloConditions(Strict):
    """Timing of the ADP-Glo assay (everything at room temperature, TM313)."""

    preincubation_min: float = Field(10.0, ge=0, description="compound + kinase before the ATP start")
    reaction_min: float = Field(60.0, gt=0, description="kinase reaction, ATP start to ADP-Glo Reagent")
    depletion_min: float = Field(40.0, gt=0, description="ADP-Glo Reagent to Kinase Detection Reagent: ATP depletion "
                                 "(TM313: 40 min)")
    detection_min: float = Field(30.0, gt=0, description="Kinase Detection Reagent to the read, at least (TM313: "
                                 "30–60 min)")
    detection_max_min: float = Field(60.0, gt=0, description="Kinase Detection Reagent to the read, at most")
    reagent_stability_min: float = Field(30.0, gt=0, description="longest time the kinase mixes may stand on the "
                                         "deck at room temperature before their last use")


class AdpGloExperiment(ExperimentBase):
    """An ADP-Glo kinase assay file: compounds × kinase targets, vehicle and no-enzyme controls, white plates."""

    group_field: ClassVar[str] = "targets"
    group_kind: ClassVar[str] = "target"

    assay: Literal["kinase_adpglo"]
    targets: list[AdpGloTarget] = Field(default_factory=list, description="kinases")
    volumes: AdpGloVolumes = Field(default_factory=AdpGloVolumes)
    conditions: AdpGloConditions = Field(default_factory=AdpGloConditions)

    def _kind_problems(self) -> list[tuple[str, str]]:
        out = [] if self.targets else [("targets", "a kinase assay needs at least one target (kinase)")]
        for i, t in enumerate(self.targets):
            if t.atp > MAX_ATP * (1 + 1e-9):
                out.append((f"targets[{i}].atp", f"{t.atp * 1e6:g} µM ATP: the ADP-Glo Reagent depletes at most "
                            "1 mM ATP (Promega TM313); use ATP near Km(ATP)"))
        c = self.conditions
        if c.detection_max_min < c.detection_min:
            out.append(("conditions.detection_max_min", f"{c.detection_max_min:g} min is shorter than "
                        f"conditions.detection_min ({c.detection_min:g} min)"))
        return out
