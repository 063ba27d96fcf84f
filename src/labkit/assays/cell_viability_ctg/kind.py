"""The CellTiter-Glo cell viability assay (luminescence) as an assay kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.assays.base import AssayKind, Normalization, Signal
from labkit.assays.cell_viability_ctg.models import ViabilityExperiment


class CellViabilityCTG(AssayKind):
    """Cells seeded, dosed, incubated, lysed with CellTiter-Glo and read as luminescence (RLU)."""

    name = "cell_viability_ctg"
    title = "CellTiter-Glo cell viability assay"
    experiment = ViabilityExperiment
    solvent_limit = 0.005  # ≤ 0.5 % DMSO on cells (NCBI Assay Guidance Manual, cell viability assays)
    required_controls = ("vehicle", "blank")
    normalization = Normalization(
        group_col="cell_line", low_role="blank", low_label="blank (no-cell)",
        response_column="pct_viability", response_label="% viability",
        formula="% viability = 100·(x − blank)/(vehicle − blank)")
    readout_units = frozenset({"rlu", "cps", "lcps", "luminescence", "lum", "counts", "rfu"})
    signal = Signal(top=180000.0, bottom=400.0, empty=60.0, hill=1.2, floor=0.03, unit="RLU")
    active_species = "cells:"
    readout_species = ("ctg",)
    readout_format = "EnVision CSV"
    readout_suffix = ".csv"
    # `labkit demo`: kill-control normalization end to end (no blank wells), on the demo's last robot only
    demo_layouts = ("viability_km12_kill.yaml",)
    demo_one_robot = ("viability_km12_kill.yaml",)
    plate_note = ("labkit's CellTiter-Glo protocols grow the cells in white opaque tissue-culture plates (Corning "
                  "3917 / 3570): luminescence is read in opaque-walled plates (Promega TB288)")

    def plan(self, b: Any, exp: Any) -> None:
        """Seed, dose, incubate, CellTiter-Glo, shake, read."""
        from labkit.assays.cell_viability_ctg.plan import plan_viability

        plan_viability(b, exp)

    def build(self, config: Any, exp: Any) -> Any:
        """The plan, with 8-channel column stamps on an arranged deck where the layout allows (see plan)."""
        from labkit.assays.cell_viability_ctg.plan import build_viability

        return build_viability(config, exp)

    def build96(self, config: Any, exp: Any) -> Any:
        """The plan for the Flex 96-channel: whole-plate stamps from patterned plates (labkit.plan.stamp96)."""
        from labkit.assays.cell_viability_ctg.plan96 import build_viability96

        return build_viability96(config, exp)

    def write_readout(self, values: Any, out: Path, plate_format: int) -> Path:
        """An EnVision-style luminescence CSV."""
        from labkit.readout.writers import write_luminescence

        return write_luminescence(values, out.with_suffix(self.readout_suffix), plate_format=plate_format)


KIND = CellViabilityCTG()
