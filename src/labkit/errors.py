"""labkit's user-facing errors: each says where (file, line, field) and what was expected."""

from __future__ import annotations

from pathlib import Path


class LabkitError(Exception):
    """A problem with the user's input; the CLI prints it and exits 2 (no traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None, problems: list[str] | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.problems = list(problems or [])
        super().__init__(str(self))

    def where(self) -> str:
        """'file:line: field' prefix, as much of it as is known."""
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        head = self.where()
        text = f"{head}: {self.message}" if head else self.message
        if self.problems:
            text += "".join(f"\n  - {p}" for p in self.problems)
        return text


class LayoutError(LabkitError):
    """An invalid layout / experiment file."""


class PlanError(LabkitError):
    """A liquid-handling plan that cannot be run (volumes, tips, deck)."""


class TimingError(PlanError):
    """A timed step (e.g. a pre-incubation) the plan cannot hold in every well: a single-channel fallback would only
    be slower, so the planner refuses instead of degrading."""


class SimulationError(LabkitError):
    """A protocol the Opentrons analysis rejects, or a ledger check that fails."""


class SimulationTimeout(SimulationError):
    """A protocol whose analysis did not finish in time (it sleeps or loops forever, or is very long)."""

    exit_code = 1


class ReadoutError(LabkitError):
    """An instrument export that cannot be read."""


class FitError(LabkitError):
    """A dose-response table that cannot be fitted."""


class UploadError(LabkitError):
    """A robot that cannot be reached or refuses a protocol."""

    exit_code = 1
