"""The parts of an experiment: compounds, their serial dilutions, targets, cell lines, controls, volumes.

Quantities are written with units in files ('10 mM', '25 uL') and held in molar / microlitres.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from labkit.units import format_microlitres, format_molar, parse_microlitres, parse_molar

Molar = Annotated[float, BeforeValidator(parse_molar), PlainSerializer(format_molar, return_type=str),
                  Field(json_schema_extra={"type": "string", "examples": ["10 mM", "100 nM"]})]
Microlitres = Annotated[float, BeforeValidator(parse_microlitres), PlainSerializer(format_microlitres, return_type=str),
                        Field(json_schema_extra={"type": "string", "examples": ["25 uL"]})]
Name = Annotated[str, Field(min_length=1, max_length=80)]


class Strict(BaseModel):
    """Base: unknown fields are errors, models are immutable once validated."""

    # allow_inf_nan=False: `.nan` / `.inf` in any plain number field is refused with its field path
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _fold(value: object) -> object:
    """'1:3' and '1/3' (how a lab writes a 3-fold series) -> 3.0; numbers and other text pass through."""
    if isinstance(value, str):
        head, sep, tail = value.replace(" ", "").partition(":")
        if not sep:
            head, sep, tail = value.replace(" ", "").partition("/")
        if sep:
            try:
                one, fold = float(head), float(tail)
            except ValueError:
                raise ValueError(f"expected a fold such as 3, '1:3' or '1/3', got {value!r}") from None
            if one != 1:
                raise ValueError(f"write a dilution step as 1:N (e.g. '1:3' for a 3-fold step), got {value!r}")
            return fold
    return value


class SerialDilution(Strict):
    """A serial dilution: top final concentration, fold step, number of points, replicate series."""

    top: Molar = Field(description="highest FINAL concentration in the assay well")
    factor: Annotated[float, BeforeValidator(_fold), WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*1\s*[:/]\s*[0-9.]+\s*$"}]})] = Field(
        3.0, description="fold dilution between neighbouring points: 3, '1:3' and '1/3' all mean a 3-fold step")
    points: int = Field(10, description="number of concentrations (>= 2)")
    replicates: int = Field(2, description="replicate series per target / cell line")

    @field_validator("top")
    @classmethod
    def _top_positive(cls, v: float) -> float:
        if not v > 0:
            raise ValueError("must be a positive concentration, e.g. '100 nM'")
        return v

    @field_validator("factor")
    @classmethod
    def _factor(cls, v: float) -> float:
        if not 1.0 < v <= 100.0:
            raise ValueError("must be greater than 1 and at most 100 (e.g. 3 for a 1:3 series)")
        return v

    @field_validator("points")
    @classmethod
    def _points(cls, v: int) -> int:
        if v < 2:
            raise ValueError("must be at least 2")
        if v > 48:
            raise ValueError("must be at most 48")
        return v

    @field_validator("replicates")
    @classmethod
    def _replicates(cls, v: int) -> int:
        if not 1 <= v <= 48:
            raise ValueError("must be between 1 and 48")
        return v

    @property
    def concentrations(self) -> list[float]:
        """Final concentrations, top first, molar."""
        return [self.top / self.factor**i for i in range(self.points)]


class Compound(Strict):
    """A compound (or, for a dilution plate, any solution) with its stock and dilution."""

    name: Name
    stock: Molar = Field(description="stock concentration in its solvent, e.g. '10 mM'")
    solvent: Name = "DMSO"
    role: Literal["sample", "reference"] = Field("sample", description="'reference' for a reference inhibitor")
    dilution: SerialDilution

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v != v.strip():
            raise ValueError("must not start or end with spaces")
        return v

    @field_validator("stock")
    @classmethod
    def _stock(cls, v: float) -> float:
        if not v > 0:
            raise ValueError("must be a positive concentration, e.g. '10 mM'")
        return v


class Target(Strict):
    """A kinase target of the radiometric assay."""

    name: Name
    enzyme: Molar = Field(5e-9, description="final kinase concentration (keep below the IC50s you want to resolve)")
    substrate: Name = "peptide substrate"
    substrate_conc: Molar = Field(2e-5, description="final peptide substrate concentration")
    atp: Molar = Field(1e-5, description="final ATP concentration (near Km(ATP))")


class CellLine(Strict):
    """A cell line of the viability assay."""

    name: Name
    growth: Literal["adherent", "suspension"]
    cells_per_well: int = Field(3000, ge=1, description="cells seeded per well")


class Controls(Strict):
    """Control wells per target / cell line on every plate, and the minimum a plate must carry."""

    vehicle: int = Field(4, ge=0, description="vehicle wells (solvent-matched): 0 % inhibition / 100 % viability")
    positive: int = Field(0, ge=0, description="no-enzyme / positive-control wells: 100 % inhibition")
    blank: int = Field(0, ge=0, description="background wells (no cells): 0 % viability")
    minimum: int = Field(2, ge=0, description="each required control role must have at least this many wells")


class KinaseVolumes(Strict):
    """Per-well volumes of the radiometric kinase assay (final reaction = compound + enzyme mix + ATP mix)."""

    compound: Microlitres = Field(5.0, description="compound from the intermediate plate into the reaction")
    enzyme_mix: Microlitres = Field(10.0, description="kinase + peptide substrate mix")
    atp_mix: Microlitres = Field(10.0, description="ATP / [γ-33P]ATP start mix")
    stop: Microlitres = Field(25.0, description="phosphoric acid stop")
    filter_transfer: Microlitres = Field(40.0, description="stopped reaction onto the phosphocellulose filter plate")
    serial: Microlitres = Field(20.0, description="solvent in each source well of the serial dilution")
    intermediate_solvent: Microlitres = Field(2.0, description="solvent series into the intermediate plate")
    intermediate_diluent: Microlitres = Field(38.0, description="assay buffer in each intermediate well")
    min_transfer: Microlitres = Field(1.0, description="smallest transfer the pipettes can make accurately")

    @property
    def well(self) -> float:
        """Reaction volume before the stop."""
        return self.compound + self.enzyme_mix + self.atp_mix


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


class DilutionVolumes(Strict):
    """Volumes of a plain serial-dilution plate (the Opentrons tutorial job)."""

    diluent: Microlitres = Field(100.0, description="diluent in every well before the dilution")
    mix_volume: Microlitres = Field(50.0, description="volume of each mix stroke")
    mix_repetitions: int = Field(3, ge=0)
    min_transfer: Microlitres = Field(1.0)


class KinaseConditions(Strict):
    """Timing and temperature of the kinase reaction."""

    preincubation_min: float = Field(10.0, ge=0, description="compound + kinase before the ATP start")
    reaction_min: float = Field(40.0, gt=0, description="reaction time after the ATP start")
    temperature_c: float = Field(30.0, ge=4, le=40, description="reaction temperature (temperature module)")
    hot_atp_uci_per_well: float = Field(0.5, gt=0, description="[γ-33P]ATP activity per well, µCi")
    reagent_stability_min: float = Field(30.0, gt=0, description="longest time the kinase mixes and the hot ATP may "
                                         "stand on the deck at room temperature before their last use")


class ViabilityConditions(Strict):
    """Timing of the viability assay."""

    incubation_h: float = Field(72.0, gt=0)
    equilibrate_min: float = Field(30.0, ge=0, description="plate and reagent to room temperature")
    shake_min: float = Field(2.0, ge=0, description="orbital shake to lyse")
    signal_delay_min: float = Field(10.0, ge=0, description="signal stabilisation before reading")
