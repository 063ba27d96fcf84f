"""The run store's tables (SQLAlchemy 2 declarative): runs, readouts, plate QC rows and fits.

Typed columns hold what history queries and charts need; everything else a results / QC table has (new fit
parameters, model names, flags added later) lands in the `extra` JSON column of its row, so no column is lost.
The schema is created and changed only by the Alembic migrations in labkit/store/migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of the run store."""


class Run(Base):
    """One recorded analysis of one set of readout files against one layout (a version of that readout's analysis)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("readout_key", "version", name="uq_runs_readout_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    readout_key: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    user: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    host: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    assay: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    experiment: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    layout_path: Mapped[str] = mapped_column(Text, nullable=False, default="")
    layout_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    layout_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    protocol_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    protocol_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    robot: Mapped[str | None] = mapped_column(String(50), nullable=True)
    simulation_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    simulation_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    labkit_version: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    opentrons_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    notes: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    n_plates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_fits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    qc_pass: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    readouts: Mapped[list[Readout]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                   order_by="Readout.position")
    plate_qc: Mapped[list[PlateQC]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                   order_by="PlateQC.id")
    fits: Mapped[list[Fit]] = relationship(back_populates="run", cascade="all, delete-orphan", order_by="Fit.id")


class Readout(Base):
    """One instrument file of a run: where it was, its SHA-256, the detected format and its metadata."""

    __tablename__ = "readouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    format: Mapped[str | None] = mapped_column(String(100), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    run: Mapped[Run] = relationship(back_populates="readouts")


class PlateQC(Base):
    """One plate x target / cell line QC row of a run: control means, CVs, S/B and Z'."""

    __tablename__ = "plate_qc"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True, nullable=False)
    plate: Mapped[str] = mapped_column(String(200), nullable=False)
    group_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    low_role: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    vehicle_n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vehicle_mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    vehicle_cv_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    low_n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    low_mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    low_cv_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    signal_background: Mapped[float | None] = mapped_column(Float, nullable=True)
    z_prime: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[str] = mapped_column(Text, nullable=False, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    run: Mapped[Run] = relationship(back_populates="plate_qc")


class Fit(Base):
    """One fitted curve of a run (compound x target / cell line): IC50 with CI, shape, flags; the rest in extra."""

    __tablename__ = "fits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True, nullable=False)
    compound: Mapped[str] = mapped_column(String(500), index=True, nullable=False)
    group_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    model: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ic50_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    ic50_ci_low_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    ic50_ci_high_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    pic50: Mapped[float | None] = mapped_column(Float, nullable=True)
    hill: Mapped[float | None] = mapped_column(Float, nullable=True)
    top: Mapped[float | None] = mapped_column(Float, nullable=True)
    bottom: Mapped[float | None] = mapped_column(Float, nullable=True)
    r2: Mapped[float | None] = mapped_column(Float, nullable=True)
    converged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    z_prime: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[str] = mapped_column(Text, nullable=False, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    run: Mapped[Run] = relationship(back_populates="fits")


TABLES = {"runs": Run, "readouts": Readout, "plate_qc": PlateQC, "fits": Fit}
