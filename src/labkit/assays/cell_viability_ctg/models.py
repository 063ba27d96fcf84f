"""Layout models of the CellTiter-Glo viability assay: cell lines, volumes, timing, controls, the experiment.

CellTiter-Glo 2.0 reagent equal to the medium volume, 2 min orbital shake, ~10 min signal stabilisation, read
luminescence (Promega Technical Manual TM403); final DMSO ≤ 0.5 % (NCBI Assay Guidance Manual, "Cell Viability
Assays"); cells in opaque-walled (white) plates for luminescence (Promega TB288).

0 % viability is what the layout declares (`normalization`): the blank (no-cell) wells, a kill control (cells with
a cytotoxic reference such as staurosporine 10 µM; `kill_control`), or none at all ('fitted_bottom': % of vehicle,
the curve's bottom fitted). An optional time-zero plate (`time_zero`), seeded from the same suspension and read
with CellTiter-Glo when the assay plates are dosed, gives the cell number at dosing for GR metrics (Hafner et al.
2016, Nat Methods 13:521).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

import pandas as pd

from labkit.layout.experiment import ExperimentBase
from labkit.layout.models import Microlitres, Molar, Name, Strict
from labkit.tables import PLATE_FORMATS, split_well

NORMALIZATIONS = ("blank", "kill", "fitted_bottom")


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


class KillControl(Strict):
    """A cytotoxic reference that kills every cell in the wells with role 'kill' (0 % viability without blanks)."""

    compound: Name = Field("staurosporine", description="the cytotoxic reference (e.g. staurosporine, digitonin)")
    conc: Molar = Field(1e-5, description="FINAL concentration in the well (staurosporine: 10 uM)")
    stock: Molar = Field(1e-2, description="stock in the serial-dilution solvent (DMSO)")


class TimeZero(Strict):
    """The time-zero plate: cells seeded with the assay plates from the same suspension (same cells per well) and
    read with CellTiter-Glo at the time of dosing; vehicle-free control wells only (Hafner et al. 2016)."""

    plate: Name = Field(description="plate id / barcode of the time-zero plate on the reader's export")
    format: Literal[96, 384] | None = Field(None, description="96 or 384 (default: the first assay plate's)")
    replicates: int = Field(6, ge=2, le=96, description="wells per cell line, placed by labkit in the inner wells")
    wells: dict[Name, str] | None = Field(None, description="explicit wells per cell line, e.g. {KM12: 'B2:B7'}")


class ViabilityExperiment(ExperimentBase):
    """A CellTiter-Glo viability assay file: compounds × cell lines, vehicle and blank (no-cell) controls."""

    group_field: ClassVar[str] = "cell_lines"
    group_kind: ClassVar[str] = "cell_line"

    assay: Literal["cell_viability_ctg"]
    cell_lines: list[CellLine] = Field(default_factory=list, description="cell lines")
    volumes: ViabilityVolumes = Field(default_factory=ViabilityVolumes)
    conditions: ViabilityConditions = Field(default_factory=ViabilityConditions)
    normalization: Literal["blank", "kill", "fitted_bottom"] | None = Field(
        None, description="what 0 % viability is: 'blank' (no-cell wells), 'kill' (kill-control wells), or "
        "'fitted_bottom' (no 0 % control: % of vehicle, the curve's bottom fitted); default: blank when the "
        "layout has blank wells, else kill when it has a kill_control")
    kill_control: KillControl | None = Field(None, description="the cytotoxic reference of the 'kill' wells")
    time_zero: TimeZero | None = Field(None, description="time-zero plate for GR metrics (optional)")

    @property
    def low_control(self) -> str:
        """The 0 % viability control this layout declares: 'blank', 'kill' or 'fitted_bottom' (none)."""
        if self.normalization is not None:
            return self.normalization
        if self.controls.blank > 0 or self._explicit_roles() & {"blank"}:
            return "blank"
        if self.kill_control is not None:
            return "kill"
        return ""

    def required_controls(self) -> tuple[str, ...]:
        """vehicle, plus the declared 0 % control (blank or kill; none for a fitted bottom)."""
        low = self.low_control
        return ("vehicle",) + ((low,) if low in ("blank", "kill") else ())

    def _explicit_roles(self) -> set[str]:
        return {a.role for p in self.plates for a in (p.wells or [])}

    def _kind_problems(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if not self.cell_lines:
            out.append(("cell_lines", "a viability assay needs at least one cell line"))
        if self.low_control == "":
            out.append(("controls", "the layout has no 0 % viability control: add blank (no-cell) wells "
                         "(controls.blank), or a kill control (kill_control: {compound: staurosporine, conc: 10 uM} "
                         "and controls.kill), or declare 'normalization: fitted_bottom' to normalize to the vehicle "
                         "alone and fit the curve's bottom"))
        kills = self.controls.kill > 0 or "kill" in self._explicit_roles()
        if (self.low_control == "kill" or kills) and self.kill_control is None:
            out.append(("kill_control", "kill wells need a kill_control saying what kills the cells, e.g. "
                        "{compound: staurosporine, conc: 10 uM, stock: 10 mM}"))
        if self.kill_control is not None and self.compounds and self.volumes.well > 0 and self.volumes.compound > 0:
            k, frac = self.kill_control, self.scheme(self.compounds[0]).solvent_fraction
            if not frac > 0:
                pass
            elif not k.conc > 0 or not k.stock > 0:
                out.append(("kill_control", "conc and stock must be positive concentrations"))
            elif k.conc / frac > k.stock * (1 + 1e-9):
                out.append(("kill_control.conc", f"{k.conc * 1e6:g} µM at {frac:.2%} DMSO needs "
                            f"{k.conc / frac * 1e3:.3g} mM in DMSO, above the {k.stock * 1e3:g} mM stock"))
        out += self._time_zero_problems()
        return out

    def _time_zero_problems(self) -> list[tuple[str, str]]:
        tz = self.time_zero
        if tz is None:
            return []
        out = []
        if tz.plate in {p.id for p in self.plates}:
            out.append(("time_zero.plate", f"{tz.plate!r} is an assay plate; the time-zero plate is a plate of its "
                        "own"))
        names = {c.name for c in self.cell_lines}
        for name in (tz.wells or {}):
            if name not in names:
                out.append((f"time_zero.wells.{name}", f"unknown cell line {name!r}; expected one of "
                            f"{sorted(names)}"))
        if not out:
            try:
                self.time_zero_wells()
            except ValueError as exc:
                out.append(("time_zero", str(exc)))
        return out

    def time_zero_wells(self) -> list[tuple[str, str]]:
        """(well, cell line) of every well of the time-zero plate ([] without one); ValueError if they do not fit."""
        from labkit.layout.plate import expand_range
        from labkit.wells import well_name

        tz = self.time_zero
        if tz is None:
            return []
        fmt = tz.format or self.plates[0].format
        n_rows, n_cols = PLATE_FORMATS[fmt]
        out: list[tuple[str, str]] = []
        if tz.wells:
            for name, spec in tz.wells.items():
                for r, c in expand_range(spec, n_cols):
                    if r >= n_rows or c >= n_cols:
                        raise ValueError(f"well {well_name(r, c + 1)} is off the {fmt}-well time-zero plate")
                    out.append((well_name(r, c + 1), name))
        else:  # the inner wells, row by row, one block per cell line (edges evaporate like the assay plate's)
            inner = [well_name(r, c + 1) for r in range(1, n_rows - 1) for c in range(1, n_cols - 1)]
            need = tz.replicates * len(self.cell_lines)
            if need > len(inner):
                raise ValueError(f"{need} time-zero wells do not fit the {len(inner)} inner wells of a {fmt}-well "
                                 "plate; lower time_zero.replicates")
            out = [(inner[i * tz.replicates + k], c.name) for i, c in enumerate(self.cell_lines)
                   for k in range(tz.replicates)]
        seen: set[str] = set()
        for w, _ in out:
            if w in seen:
                raise ValueError(f"well {w} of the time-zero plate is assigned twice")
            seen.add(w)
        return out

    def wells_table(self) -> pd.DataFrame:
        """The assay plates' wells (kill wells with their cytotoxic reference), then the time-zero plate's."""
        df = super().wells_table()
        if self.kill_control is not None:
            kill = (df["role"] == "kill").to_numpy()
            df.loc[kill, "compound"] = self.kill_control.compound
            df.loc[kill, "conc_M"] = self.kill_control.conc
        tz = self.time_zero
        if tz is not None:
            rows = []
            for w, line in self.time_zero_wells():
                letters, col = split_well(w)
                rows.append((tz.plate, w, letters, col, "time_zero", "", float("nan"), -1, 0, "", line))
            t0 = pd.DataFrame(rows, columns=df.columns).astype(df.dtypes.to_dict())
            df = pd.concat([df, t0], ignore_index=True)
        return df
