"""The radiometric kinase assay ([γ-33P]ATP, P81 filter, scintillation counts) as an assay kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.assays.base import AssayKind, Normalization, Potency, Signal
from labkit.assays.kinase_radiometric.models import KinaseExperiment


class KinaseRadiometric(AssayKind):
    """[γ-33P]ATP kinase assay on P81 phosphocellulose, counted on a MicroBeta2 / TopCount (CPM)."""

    name = "kinase_radiometric"
    title = "radiometric kinase assay (33P, P81 filter)"
    experiment = KinaseExperiment
    solvent_limit = 0.01  # ≤ 1 % DMSO in the reaction (NCBI Assay Guidance Manual, kinase assays)
    required_controls = ("vehicle", "no_enzyme")
    normalization = Normalization(
        group_col="target", low_role="no_enzyme", low_label="no-enzyme", legacy_roles=(("positive", "no_enzyme"),),
        response_column="pct_activity", response_label="% activity", complement_column="pct_inhibition",
        formula="% inhibition = 100·(vehicle − x)/(vehicle − no_enzyme); curves are fitted to % activity "
                "= 100 − % inhibition (same IC50)")
    readout_units = frozenset({"cpm", "ccpm", "dpm", "counts", "count"})
    signal = Signal(top=24000.0, bottom=350.0, empty=25.0, hill=1.0, floor=0.0, unit="CPM", counting=True)
    active_species = "enzyme:"
    readout_species = ("stop",)
    readout_format = "MicroBeta2 CPM export"
    readout_suffix = ".txt"
    history_potencies = (Potency("ki_app_M", "ki_app_ci_low_M", "ki_app_ci_high_M", "Ki_app",
                                 "Morrison (tight-binding) fit at the layout's active enzyme concentration (Copeland "
                                 "2013 ch. 7): unlike the IC50 it does not depend on [E], so runs at different "
                                 "enzyme lots compare"),)

    def build(self, config: Any, exp: Any) -> Any:
        """Two passes: a probe build finds the 8-channel work, the final one runs on a deck arranged for it."""
        from labkit.assays.kinase_radiometric.plan import build_kinase

        return build_kinase(config, exp)

    def augment(self, result: Any, exp: Any) -> None:
        """Morrison Ki_app and Cheng–Prusoff Ki at the layout's [E], ATP and Km; tight_binding; % ATP conversion."""
        from labkit.assays.kinase_radiometric.analysis import augment

        augment(result, exp)

    def virtual_readout_from_run(self, sim: Any, exp: Any, *, seed: int, pipetting_cv: float) -> Any:
        """CPM from Morrison kinetics at each well's ledger [E], [ATP], compound and time-model times."""
        from labkit.assays.kinase_radiometric.virtual import readout

        return readout(sim, exp, seed=seed, pipetting_cv=pipetting_cv)

    def build96(self, config: Any, exp: Any) -> Any:
        """The plan for the Flex 96-channel: whole-plate stamps from patterned plates (labkit.plan.stamp96)."""
        from labkit.assays.kinase_radiometric.plan96 import build_kinase96

        return build_kinase96(config, exp)

    def write_readout(self, values: Any, out: Path, plate_format: int) -> Path:
        """A MicroBeta2 CPM export (.txt)."""
        from labkit.readout.writers import write_microbeta

        return write_microbeta(values, out.with_suffix(self.readout_suffix), plate_format=plate_format)


KIND = KinaseRadiometric()
