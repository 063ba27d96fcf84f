"""The parts every experiment shares: compounds, their serial dilutions, controls (each assay kind adds its own
models in labkit.assays.<kind>.models).

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


class Controls(Strict):
    """Control wells per target / cell line on every plate, and the minimum a plate must carry."""

    vehicle: int = Field(4, ge=0, description="vehicle wells (solvent-matched): 0 % inhibition / 100 % viability")
    positive: int = Field(0, ge=0, description="positive-control wells: 100 % inhibition (in a kinase layout the "
                          "old name of no_enzyme, still read, with a deprecation note)")
    no_enzyme: int = Field(0, ge=0, description="no-enzyme wells (kinase): 100 % inhibition")
    blank: int = Field(0, ge=0, description="background wells (no cells): 0 % viability")
    total_counts: int = Field(0, ge=0, description="total-counts wells (radiometric kinase): the hot ATP mix "
                              "spotted straight onto the filter, not washed, for % ATP conversion")
    kill: int = Field(0, ge=0, description="kill-control wells (cells + a cytotoxic reference): 0 % viability")
    minimum: int = Field(2, ge=0, description="each required control role must have at least this many wells")
