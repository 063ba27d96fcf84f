"""The interface every assay kind implements, and the small value types it hands to the rest of labkit.

An assay kind is one package under `labkit.assays` (or a third-party package registered through the
`labkit.assays` entry-point group) that owns everything specific to the assay: its layout model (a subclass of
`labkit.layout.experiment.ExperimentBase` with `assay: Literal["<name>"]`), its liquid-handling plan, how its
readout is normalized, its virtual reader and its demo hooks. Code outside the package asks the kind; it never
compares assay names. See docs/plugins.md.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from labkit.layout.experiment import ExperimentBase
    from labkit.plan.builder import Builder, BuildConfig
    from labkit.plan.steps import Plan


@dataclass(frozen=True)
class Normalization:
    """How a readout is normalized to its on-plate controls (NCBI Assay Guidance Manual, 'Data standardization').

    The vehicle control is 100 % (no effect); `low_role` is 0 % (full effect). `response_column` is the
    percentage curves are fitted to; `complement_column`, when set, also gets 100 - response (e.g. % inhibition).
    """

    group_col: str            # wells-table column that groups curves: 'target' | 'cell_line'
    low_role: str             # role of the 0 % control: 'positive' (no enzyme) | 'blank' (no cells)
    low_label: str            # its name in messages, e.g. 'positive (no-enzyme)'
    response_column: str      # e.g. 'pct_activity'
    response_label: str       # axis label, e.g. '% activity'
    complement_column: str = ""   # e.g. 'pct_inhibition' (= 100 - response), '' for none
    formula: str = ""         # one line for the report
    legacy_roles: tuple[tuple[str, str], ...] = ()  # (old, new) role names read as the new one, e.g. positive

    @property
    def group_label(self) -> str:
        """'target' / 'cell line' for messages."""
        return self.group_col.replace("_", " ")


@dataclass(frozen=True)
class Potency:
    """A potency an assay's analysis reports besides the LL.4 IC50 (results columns in M, kept by the run store),
    which `labkit history` charts for the reference compound and tabulates across runs next to the IC50."""

    column: str        # results column, molar, e.g. 'ki_app_M'
    ci_low: str        # its 95 % CI columns ('' for none)
    ci_high: str
    label: str         # e.g. 'Ki_app' (charted as pKi_app)
    note: str = ""     # what it is, one line for the history page


@dataclass(frozen=True)
class Signal:
    """Signal window of an assay read-out, for the virtual plate reader."""

    top: float          # vehicle (uninhibited / fully viable) signal
    bottom: float       # background: no enzyme / no cells
    empty: float        # a well with nothing in it
    hill: float         # true Hill slope (positive = decreasing curve)
    floor: float        # fraction of the window left at full inhibition (residual viability)
    unit: str
    counting: bool = False  # Poisson counting noise on top of the process noise (scintillation counts)


class AssayKind:
    """One assay kind. Subclass it, set the class attributes, implement `plan`; register an instance.

    Attributes:
        name: the value of `assay:` in a layout file.
        title: a short human name.
        experiment: the layout model (a subclass of ExperimentBase with `assay: Literal[name]`).
        solvent_limit: default maximum final solvent (DMSO) fraction in an assay well.
        required_controls: control roles every plate must carry (placed automatically per group).
        match_solvent: verification checks that every assay well of a plate has the same DMSO fraction.
        normalization: how the readout is normalized (None: the kind is not analyzed, e.g. a dilution plate).
        readout_units: measurement units its reader gives (lower case); others earn a note in the analysis.
        signal: the virtual reader's signal window (None: no virtual readout); `virtual_readout` uses it unless a
            kind overrides that with its own response model.
        active_species: ledger species prefix that makes a well respond ('enzyme:' / 'cells:').
        readout_species: ledger species of the reagents that end the assay (stop, detection reagent): a well's
            assay-time contents are taken just before the first of them.
        readout_format: a short name of the instrument export the demo writes.
        readout_suffix: the file suffix of that export ('.txt', '.csv').
        demo_layouts: layout files (in the seed layouts folder) `labkit demo` runs for this kind, after the
            built-in ones (labkit.demo.SEED_LAYOUTS).
        demo_one_robot: those of demo_layouts the demo runs on its last robot only (the Flex by default), to keep
            the demo short.
        plate_note: a line for the report about the plates its protocols use ('' for none).
        history_potencies: potencies besides the IC50 (e.g. a Morrison Ki_app) that the run history charts for
            the reference compound and tabulates across runs.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    experiment: ClassVar[type[ExperimentBase]]
    solvent_limit: ClassVar[float] = 1.0
    required_controls: ClassVar[tuple[str, ...]] = ()
    match_solvent: ClassVar[bool] = True
    normalization: ClassVar[Normalization | None] = None
    readout_units: ClassVar[frozenset[str]] = frozenset()
    signal: ClassVar[Signal | None] = None
    active_species: ClassVar[str] = ""
    readout_species: ClassVar[tuple[str, ...]] = ()
    readout_format: ClassVar[str] = ""
    readout_suffix: ClassVar[str] = ""
    demo_layouts: ClassVar[tuple[str, ...]] = ()
    demo_one_robot: ClassVar[tuple[str, ...]] = ()
    plate_note: ClassVar[str] = ""  # what the report says about the plates the kind's protocols use ('' none)
    history_potencies: ClassVar[tuple[Potency, ...]] = ()  # charted / tabulated by `labkit history` with the IC50

    # -- plan ----------------------------------------------------------------------------------------------------
    def plan(self, b: Builder, exp: Any) -> None:
        """Add the assay's steps to a builder (deck, liquids, transfers, pauses)."""
        raise NotImplementedError(f"{self.name}: no plan")

    def build(self, config: BuildConfig, exp: Any) -> Plan:
        """The finished (unchecked) plan: a Builder from `config`, `plan`, finish. Override for several passes."""
        from labkit.plan.builder import Builder

        b = Builder(config)
        self.plan(b, exp)
        return b.finish()

    @property
    def package(self) -> str:
        """The Python package of this kind (where its `recipe` module lives)."""
        mod = sys.modules[type(self).__module__]
        return mod.__name__ if hasattr(mod, "__path__") else str(mod.__package__)

    # -- verification --------------------------------------------------------------------------------------------
    def recipe(self, exp: Any) -> Any:
        """The verification recipe of this kind (its package's `recipe` module), or None if it has none."""
        if not self.package:
            return None
        module = f"{self.package}.recipe"
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            return None
        make = getattr(mod, "recipe", None)
        return make(exp) if callable(make) else mod

    # -- analysis ------------------------------------------------------------------------------------------------
    def augment(self, result: Any, exp: Any) -> None:
        """Add what this kind knows to an AnalysisResult of its experiment (extra columns, tables, notes)."""
        return None

    # -- virtual reader ------------------------------------------------------------------------------------------
    def virtual_readout(self, final: pd.DataFrame, exp: Any, *, seed: int = 0, pipetting_cv: float = 0.0,
                        truth: dict[str, float] | None = None) -> pd.DataFrame:
        """Virtual-reader values (plate, well, value) of a simulated run's wells (`final`: labkit.demo.final_wells).

        The default is labkit.virtual's 4PL response in this kind's `signal` window; a kind with its own response
        model (e.g. tight binding at the layout's enzyme concentration) overrides it.

        Raises:
            ValueError: the kind has no virtual reader (no signal window).
        """
        from labkit.virtual import simulate_readout

        if self.signal is None:
            raise ValueError(f"assay kind {self.name!r} has no virtual reader (no signal window)")
        hours = getattr(getattr(exp, "conditions", None), "incubation_h", 72.0)  # cells grow (time-zero wells)
        return simulate_readout(final, self.signal, seed=seed, pipetting_cv=pipetting_cv, truth=truth, hours=hours)

    # -- demo ----------------------------------------------------------------------------------------------------
    def virtual_readout_from_run(self, sim: Any, exp: Any, *, seed: int, pipetting_cv: float) -> pd.DataFrame | None:
        """Virtual-reader values (plate, well, value) from the whole simulated run (ledger, time model), for a kind
        whose reader needs more than `final` (e.g. reaction times, a second plate); None: use `virtual_readout`."""
        return None

    def write_readout(self, values: pd.DataFrame, out: Path, plate_format: int) -> Path:
        """Write virtual-reader values (plate, well, value) as the instrument export of this kind; returns the path
        (out with the export's suffix)."""
        raise NotImplementedError(f"{self.name}: no virtual readout")

    def __repr__(self) -> str:
        return f"<assay kind {self.name}>"
