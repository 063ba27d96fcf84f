"""Layouts: compounds, serial dilutions, controls and plate layouts as validated data.

Each assay kind's own models (targets, cell lines, volumes …) live in labkit.assays.<kind>.models.
"""

from labkit.layout.experiment import DilutionScheme, Experiment, ExperimentBase
from labkit.layout.models import Compound, Controls, SerialDilution
from labkit.layout.plate import PlateSpec, Well, WellAssignment

__all__ = ["Compound", "Controls", "DilutionScheme", "Experiment", "ExperimentBase", "PlateSpec", "SerialDilution",
           "Well", "WellAssignment"]
