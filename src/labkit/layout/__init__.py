"""Layouts: compounds, serial dilutions, controls and plate layouts as validated data."""

from labkit.layout.experiment import DilutionScheme, Experiment
from labkit.layout.models import CellLine, Compound, Controls, SerialDilution, Target
from labkit.layout.plate import PlateSpec, Well, WellAssignment

__all__ = ["CellLine", "Compound", "Controls", "DilutionScheme", "Experiment", "PlateSpec", "SerialDilution",
           "Target", "Well", "WellAssignment"]
