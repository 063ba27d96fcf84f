"""Pipettes and labware the planner knows, and labkit's custom labware definitions."""

from labkit.labware.custom import definition, filter_plate_definition
from labkit.labware.specs import (ASSAY_PLATE, FILTER_PLATE, LABWARE, PIPETTES, ROBOTS, LabwareSpec, PipetteSpec,
                                  RobotSpec, labware, pipette)

__all__ = ["ASSAY_PLATE", "FILTER_PLATE", "LABWARE", "PIPETTES", "ROBOTS", "LabwareSpec", "PipetteSpec", "RobotSpec",
           "definition", "filter_plate_definition", "labware", "pipette"]
