"""A plain serial-dilution plate (the Opentrons tutorial job) as an assay kind: planned and verified, not read."""

from __future__ import annotations

from typing import Any

from labkit.assays.base import AssayKind
from labkit.assays.dilution_plate.models import DilutionExperiment


class DilutionPlate(AssayKind):
    """Diluent into every series well, the top solution, then the serial dilution down the plate."""

    name = "dilution_plate"
    title = "serial-dilution plate"
    experiment = DilutionExperiment
    solvent_limit = 1.0
    required_controls = ()
    match_solvent = False  # the wells are the series themselves: their solvent differs by design

    def plan(self, b: Any, exp: Any) -> None:
        """Diluent, top solution, serial dilution."""
        from labkit.assays.dilution_plate.plan import plan_dilution

        plan_dilution(b, exp)


KIND = DilutionPlate()
