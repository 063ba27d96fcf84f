"""Layout models of a plain serial-dilution plate (the Opentrons tutorial job): volumes, the experiment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from labkit.layout.experiment import DilutionScheme, ExperimentBase, top_prep
from labkit.layout.models import Compound, Microlitres, Strict


class DilutionVolumes(Strict):
    """Volumes of a plain serial-dilution plate (the Opentrons tutorial job)."""

    diluent: Microlitres = Field(100.0, description="diluent in every well before the dilution")
    mix_volume: Microlitres = Field(50.0, description="volume of each mix stroke")
    mix_repetitions: int = Field(3, ge=0)
    min_transfer: Microlitres = Field(1.0)


class DilutionExperiment(ExperimentBase):
    """A dilution-plate file: each compound's series made in the plate itself, no intermediate, no controls."""

    assay: Literal["dilution_plate"]
    volumes: DilutionVolumes = Field(default_factory=DilutionVolumes)

    def scheme(self, compound: Compound | str) -> DilutionScheme:
        """The dilution arithmetic: diluent in every well, the top solution into the first, carried down."""
        c = self.compound(compound) if isinstance(compound, str) else compound
        d, v = c.dilution, self.volumes
        final = d.concentrations
        transfer = v.diluent / (d.factor - 1)
        source = [x * d.factor for x in final]  # what is added to the first well
        return DilutionScheme(c.name, final, list(final), source, transfer, v.diluent, 0.0, 0.0, 0.0,
                              0.0 if c.solvent.upper() != "DMSO" else 1.0, top_prep(source[0], c.stock))

    def _pipetted_volumes(self) -> list[tuple[str, float]]:
        return []
