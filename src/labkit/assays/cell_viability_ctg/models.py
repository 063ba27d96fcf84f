"""Layout models of the CellTiter-Glo viability assay: cell lines, volumes, timing, the experiment.

CellTiter-Glo 2.0 reagent equal to the medium volume, 2 min orbital shake, ~10 min signal stabilisation, read
luminescence (Promega Technical Manual TM403); final DMSO ≤ 0.5 % (NCBI Assay Guidance Manual, "Cell Viability
Assays").
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from labkit.layout.experiment import ExperimentBase
from labkit.layout.models import Microlitres, Name, Strict


class CellLine(Strict):
    """A cell line of the viability assay."""

    name: Name
    growth: Literal["adherent", "suspension"]
    cells_per_well: int = Field(3000, ge=1, description="cells seeded per well")


class ViabilityVolumes(Strict):
    """Per-well volumes of the CellTiter-Glo assay."""

    cells: Microlitres = Field(90.0, description="cell suspension seeded per well")
    compound: Microlitres = Field(10.0, description="compound from the intermediate plate onto the cells")
    ctg: Microlitres = Field(100.0, description="CellTiter-Glo reagent (equal to the medium volume)")
    serial: Microlitres = Field(20.0, description="solvent in each source well of the serial dilution")
    intermediate_solvent: Microlitres = Field(2.0, description="solvent series into the intermediate plate")
    intermediate_diluent: Microlitres = Field(38.0, description="medium in each intermediate well")
    min_transfer: Microlitres = Field(1.0, description="smallest transfer the pipettes can make accurately")

    @property
    def well(self) -> float:
        """Medium volume per well after dosing."""
        return self.cells + self.compound


class ViabilityConditions(Strict):
    """Timing of the viability assay."""

    incubation_h: float = Field(72.0, gt=0)
    equilibrate_min: float = Field(30.0, ge=0, description="plate and reagent to room temperature")
    shake_min: float = Field(2.0, ge=0, description="orbital shake to lyse")
    signal_delay_min: float = Field(10.0, ge=0, description="signal stabilisation before reading")


class ViabilityExperiment(ExperimentBase):
    """A CellTiter-Glo viability assay file: compounds × cell lines, vehicle and blank (no-cell) controls."""

    group_field: ClassVar[str] = "cell_lines"
    group_kind: ClassVar[str] = "cell_line"

    assay: Literal["cell_viability_ctg"]
    cell_lines: list[CellLine] = Field(default_factory=list, description="cell lines")
    volumes: ViabilityVolumes = Field(default_factory=ViabilityVolumes)
    conditions: ViabilityConditions = Field(default_factory=ViabilityConditions)

    def _kind_problems(self) -> list[tuple[str, str]]:
        return [] if self.cell_lines else [("cell_lines", "a viability assay needs at least one cell line")]
