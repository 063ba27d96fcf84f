"""The ADP-Glo luminescent kinase assay (Promega TM313) as an assay kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.assays.base import AssayKind, Normalization, Signal
from labkit.assays.kinase_adpglo.models import ADP_GLO, DETECTION, AdpGloExperiment


class KinaseAdpGlo(AssayKind):
    """Kinase reaction, ADP-Glo Reagent (40 min), Kinase Detection Reagent (30–60 min), luminescence (RLU) ∝ ADP."""

    name = "kinase_adpglo"
    title = "ADP-Glo luminescent kinase assay"
    experiment = AdpGloExperiment
    solvent_limit = 0.01  # ≤ 1 % DMSO in the reaction (NCBI Assay Guidance Manual, kinase assays)
    required_controls = ("vehicle", "positive")
    # light ∝ ADP made: vehicle (no inhibitor) is full activity, no-enzyme is the background (TM313)
    normalization = Normalization(
        group_col="target", low_role="positive", low_label="positive (no-enzyme)",
        response_column="pct_activity", response_label="% activity", complement_column="pct_inhibition",
        formula="% inhibition = 100·(vehicle − x)/(vehicle − no-enzyme) on luminescence (∝ ADP made); curves are "
                "fitted to % activity = 100 − % inhibition (same IC50)")
    readout_units = frozenset({"rlu", "cps", "lcps", "luminescence", "lum", "counts"})
    # the window at 10 µM ATP: 10 % turned into ADP in the vehicle wells; the no-enzyme background is the ADP in the
    # ATP and the ATP the ADP-Glo Reagent leaves (S/B ~ 40 with ultrapure ATP: Promega TM313, Zegzouti et al. 2011);
    # the virtual reader computes each well from its ADP instead (virtual_readout)
    signal = Signal(top=120000.0, bottom=3000.0, empty=40.0, hill=1.0, floor=0.0, unit="RLU")
    active_species = "enzyme:"
    readout_species = (ADP_GLO, DETECTION)
    readout_format = "EnVision luminescence CSV"
    readout_suffix = ".csv"
    demo_layouts = ("kinase_adpglo_panel.yaml",)

    def plan(self, b: Any, exp: Any) -> None:
        """Dose, kinase mix, ATP start, ADP-Glo Reagent, Kinase Detection Reagent, read."""
        from labkit.assays.kinase_adpglo.plan import plan_adpglo

        plan_adpglo(b, exp)

    def virtual_readout(self, final: Any, exp: Any, *, seed: int = 0, pipetting_cv: float = 0.0,
                        truth: dict[str, float] | None = None) -> Any:
        """Luminescence from the ADP each well made: Morrison tight binding at the layout's kinase concentration,
        log-normal and photon-counting noise (labkit.assays.kinase_adpglo.virtual)."""
        from labkit.assays.kinase_adpglo.virtual import luminescence

        return luminescence(final, exp, seed=seed, pipetting_cv=pipetting_cv, truth=truth)

    def write_readout(self, values: Any, out: Path, plate_format: int) -> Path:
        """An EnVision-style luminescence CSV."""
        from labkit.readout.writers import write_luminescence

        return write_luminescence(values, out.with_suffix(self.readout_suffix), plate_format=plate_format,
                                  protocol="ADP-Glo")


KIND = KinaseAdpGlo()
