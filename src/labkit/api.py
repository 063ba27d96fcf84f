"""labkit from Python: layout -> protocol -> simulation + verification -> readout -> analysis, in a few calls.

    import labkit
    exp = labkit.load("layouts/kinase_panel.yaml")
    protocol = exp.protocol("flex")            # source text + plan; .write(path)
    run = protocol.simulate()                  # Opentrons analysis in this process; .verify() knows the layout
    results = labkit.analyze(labkit.read("counts.txt"), exp)   # tables + .report(folder)

Everything here is imported lazily by `labkit` (module __getattr__), so `import labkit` stays instant. The CLI
(`labkit protocol`, `labkit simulate`, `labkit demo`) is a shell over these functions.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from labkit.analysis.pipeline import AnalysisResult
    from labkit.layout.experiment import ExperimentBase
    from labkit.plan.steps import Plan
    from labkit.simulate import Cost, Ledger, Simulation
    from labkit.simulate.verify import VerifyReport

PathLike = Union[str, "os.PathLike[str]"]
ROBOTS = ("ot2", "flex")

__all__ = ["Protocol", "Results", "Run", "analyze", "generate", "load", "make_protocol", "parse", "read",
           "verify", "write_atomic"]


def write_atomic(path: PathLike, text: str) -> Path:
    """Write text to path atomically (a temporary file in the same folder, fsync, then renamed over it).

    Args:
        path: the file to write; its folder is created if needed.
        text: the content (UTF-8).

    Returns:
        The path written.

    Example:
        >>> import tempfile, pathlib
        >>> out = write_atomic(pathlib.Path(tempfile.mkdtemp()) / "a" / "x.txt", "hi")
        >>> out.read_text()
        'hi'
    """
    from labkit.safety import atomic_write_text

    return atomic_write_text(Path(path), text)


# --- layouts -----------------------------------------------------------------------------------------------------

def load(path: PathLike) -> ExperimentBase:
    """Read and validate a layout (experiment) file.

    Args:
        path: a .yaml / .yml / .json layout file.

    Returns:
        The Experiment model of the file's assay kind (it remembers its file and the file's sha256).

    Raises:
        LayoutError: the file is missing, unreadable or invalid; the message lists every problem with its line
            and field path.

    Example:
        >>> import labkit
        >>> exp = labkit.load("layouts/kinase_panel.yaml")
        >>> type(exp).__name__, [p.id for p in exp.plates], exp.limit
        ('KinaseExperiment', ['KIN-1', 'KIN-2'], 0.01)
    """
    from labkit.layout.io import load_experiment

    return load_experiment(Path(path))


def parse(text: str, source: str = "<string>") -> ExperimentBase:
    """Validate a layout from YAML / JSON text.

    Args:
        text: the layout as YAML or JSON.
        source: a name for the text in error messages.

    Returns:
        The Experiment model of its assay kind.

    Raises:
        LayoutError: the text is not valid YAML or not a valid layout (every problem with its line and field).

    Example:
        >>> import labkit
        >>> from pathlib import Path
        >>> text = Path("layouts/dilution_tutorial.yaml").read_text()
        >>> exp = labkit.parse(text.replace("top: 500 uM, factor: 2", "top: 300 uM, factor: 3"), "tutorial 1:3")
        >>> exp.scheme("dye").serial_transfer   # 100 µL diluent per well, 1:3 -> 50 µL carried
        50.0
    """
    from labkit.layout.io import parse_experiment

    return parse_experiment(text, source)


# --- protocols ---------------------------------------------------------------------------------------------------

@dataclass
class Protocol:
    """A standalone Opentrons protocol made from an experiment: its source text and the plan it was emitted from."""

    experiment: ExperimentBase
    robot: str
    plan: Plan
    text: str
    path: Path | None = None   # where it was last written

    def write(self, path: PathLike) -> Path:
        """Write the protocol file (atomically); returns its path.

        Raises:
            LabkitError: the path is the experiment's own layout file (inputs are never overwritten).
        """
        from labkit.safety import guard_output

        guard_output(Path(path), [self.experiment.source] if self.experiment.source else [])
        self.path = write_atomic(path, self.text)
        return self.path

    def describe(self) -> str:
        """The plan for a person (what `labkit protocol --print-plan` prints)."""
        from labkit.plan.describe import describe

        return describe(self.plan)

    def simulate(self, *, in_process: bool = True) -> Run:
        """Run the Opentrons analysis on this protocol, replay it into a per-well ledger and estimate its cost.

        The written file is simulated if there is one, else a temporary copy. Engine errors are kept in the Run
        (run.ok is False), not raised.
        """
        from labkit.simulate import simulate

        if self.path is not None and self.path.is_file() and self.path.read_text(encoding="utf-8") == self.text:
            return Run(self, simulate(self.path, in_process=in_process))
        with tempfile.TemporaryDirectory(prefix="labkit-") as tmp:
            path = write_atomic(Path(tmp) / f"{_slug(self.experiment.name)}_{self.robot}.py", self.text)
            return Run(self, simulate(path, in_process=in_process))


def make_protocol(exp: ExperimentBase, robot: str = "flex", *, tip_policy: str = "per_step",
                  multichannel: bool = True, pipettes: str | int = "standard") -> Protocol:
    """The checked plan and standalone protocol of an experiment for a robot (same as `Experiment.protocol`).

    Args:
        exp: a validated experiment (labkit.load).
        robot: 'ot2' or 'flex'.
        tip_policy: 'per_step' (a fresh tip every dilution step) or 'per_series' (one tip along a series).
        multichannel: use 8-channel pipettes where that saves time at no tip cost.
        pipettes: 'standard' (single- and 8-channel) or '96' (the Flex 96-channel: whole-plate stamps from
            patterned source plates; Flex and 96-well plates only).

    Returns:
        A Protocol (text, plan; .write, .simulate, .describe).

    Raises:
        PlanError: the experiment cannot be planned on that robot (the message says why and names its file).

    Example:
        >>> import labkit
        >>> protocol = labkit.load("layouts/dilution_tutorial.yaml").protocol("ot2")
        >>> "requirements = {'robotType': 'OT-2'" in protocol.text
        True
    """
    from labkit.plan import build_plan
    from labkit.protocol.emit import emit

    from labkit.errors import PlanError

    try:
        plan = build_plan(exp, robot, sha256=exp.layout_sha256, tip_policy=tip_policy, multichannel=multichannel,
                          pipettes=str(pipettes))
    except PlanError as exc:
        if exc.file is None and exp.source:
            exc.file = exp.source  # name the layout file the problem is in
        raise
    return Protocol(exp, robot, plan, emit(plan))


def generate(layout: PathLike, robot: str, tip_policy: str = "per_step", multichannel: bool = True,
             pipettes: str = "standard") -> str:
    """The protocol text for a layout file and a robot (what `labkit protocol` writes).

    Args:
        layout: the layout file (its sha256 is recorded in the protocol).
        robot: 'ot2' or 'flex'.
        tip_policy: 'per_step' or 'per_series'.
        multichannel: allow 8-channel pipettes.
        pipettes: 'standard' or '96' (the Flex 96-channel).

    Returns:
        The protocol's Python source; the same layout always gives the same bytes.

    Raises:
        LayoutError: the layout is invalid. PlanError: it cannot be planned on that robot.

    Example:
        >>> import labkit
        >>> text = labkit.generate("layouts/dilution_tutorial.yaml", "flex")
        >>> "'robotType': 'Flex'" in text
        True
    """
    text: str = make_protocol(load(layout), robot, tip_policy=tip_policy, multichannel=multichannel,
                              pipettes=pipettes).text
    return text


# --- simulation and verification ---------------------------------------------------------------------------------

@dataclass
class Run:
    """A protocol run through the Opentrons analysis: engine result, per-well ledger, cost; verifiable against
    the experiment it was made from."""

    protocol: Protocol
    simulation: Simulation
    _reports: dict[float, VerifyReport] = field(default_factory=dict, init=False, repr=False)

    @property
    def experiment(self) -> ExperimentBase:
        """The experiment the protocol was made from."""
        return self.protocol.experiment

    @property
    def ledger(self) -> Ledger:
        """The per-well ledger (labkit.simulate.Ledger)."""
        return self.simulation.ledger

    @property
    def cost(self) -> Cost:
        """Tips, aspirates, dispenses and estimated deck time (labkit.simulate.Cost)."""
        return self.simulation.cost

    def verify(self, *, tolerance: float = 0.01) -> VerifyReport:
        """Check every well of the ledger against the experiment: concentrations within tolerance, DMSO equal
        and within the assay's limit, no contamination, no overflow (cached after the first call)."""
        if tolerance not in self._reports:
            self._reports[tolerance] = verify(self.simulation, self.experiment, tolerance=tolerance)
        return self._reports[tolerance]

    @property
    def ok(self) -> bool:
        """The engine accepted the protocol, the ledger found no problem, and it verifies against the layout."""
        return self.simulation.ok and self.verify().ok

    def summary(self) -> str:
        """One paragraph: cost, engine errors, verification."""
        errors = "; ".join(str(e) for e in self.simulation.errors)
        cost: str = self.cost.summary()
        return cost + (f"; ENGINE ERRORS: {errors}" if errors else "") + "\n" + self.verify().summary()

    def virtual_readout(self, out: PathLike, *, seed: int = 0, pipetting_cv: float = 0.02) -> Path:
        """Write what a plate reader would export for the simulated plates (the assay kind's virtual reader, the
        seeds' IC50s as truth) in the kind's instrument format; returns the file (suffix set by the format)."""
        from labkit.demo import write_virtual_readout

        return write_virtual_readout(self.simulation, self.experiment, Path(out), seed=seed,
                                     pipetting_cv=pipetting_cv)


def verify(simulation: Any, exp: ExperimentBase, *, tolerance: float = 0.01) -> VerifyReport:
    """Verify a simulated protocol (a Run's simulation, or anything with a `.ledger`) against an experiment.

    Args:
        simulation: labkit.simulate.Simulation (or a Ledger: then the recipe's timed checks are not made).
        exp: the experiment the protocol was made from; its wells, plate ids, solvent limit and assay kind (its
            verification recipe: components, reagents after, the plate that is read, timing) say what to check.
        tolerance: relative tolerance of concentrations and DMSO fractions.

    Returns:
        A VerifyReport (ok, failures, summary()).

    Example:
        >>> import labkit
        >>> exp = labkit.load("layouts/dilution_tutorial.yaml")
        >>> run = exp.protocol("ot2").simulate()
        >>> labkit.verify(run.simulation, exp).ok
        True
    """
    from labkit.simulate.verify import verify_experiment

    ledger = getattr(simulation, "ledger", simulation)
    return verify_experiment(ledger, exp, getattr(simulation, "timeline", None), tolerance=tolerance)


# --- readouts and analysis ---------------------------------------------------------------------------------------

def read(path: PathLike, format: str = "auto", plate: str | None = None) -> pd.DataFrame:
    """Read a plate-reader / counter export into labkit's readout table (one row per measured well).

    Args:
        path: the instrument export (EnVision, MicroBeta2, TopCount, Gen5, MARS, SoftMax, plain grids, xlsx …).
        format: 'auto' (detect) or one of labkit.readout.SUPPORTED_FORMATS.
        plate: keep only this plate (its id, else its 1-based position in the file).

    Returns:
        A DataFrame with the columns of labkit.tables.READOUT_COLUMNS (plate, well, value, unit, flag …).

    Raises:
        ReadoutError: the file cannot be read or is not a recognised export (the message names file and line).

    Example:
        >>> import labkit
        >>> t = labkit.read("tests/data/readout/microbeta2_grid_2plates.csv")
        >>> len(t), t["unit"].iloc[0], sorted(t["plate"].unique())
        (168, 'CCPM', ['KIN-TRKA-01', 'KIN-TRKA-02'])
    """
    from labkit.readout import read as read_readout

    df = read_readout(Path(path), format=format, plate=plate)
    df.attrs["labkit_source"] = str(path)
    return df


@dataclass
class Results:
    """An analysis: normalized per-well data, one row per curve (IC50 with CI), plate QC, and how to report it."""

    analysis: AnalysisResult
    experiment: ExperimentBase
    sources: list[str] = field(default_factory=list)

    @property
    def results(self) -> pd.DataFrame:
        """One row per curve: compound, target / cell line, IC50 (M and nM) with 95 % CI, Hill, Z′, flags."""
        return self.analysis.results

    @property
    def data(self) -> pd.DataFrame:
        """One row per well: layout annotation, raw value, response, exclusion."""
        return self.analysis.data

    @property
    def qc(self) -> pd.DataFrame:
        """One row per plate × group: control statistics, S/B, Z′."""
        return self.analysis.qc

    @property
    def notes(self) -> list[str]:
        """What the analysis noticed (excluded wells, fallbacks, odd units)."""
        return self.analysis.notes

    def summary(self) -> str:
        """The results table, plate QC and notes as text (what `labkit analyze` prints)."""
        from labkit.analysis.cli import summary_text

        return summary_text(self.analysis)

    def report(self, out_dir: PathLike, *, title: str | None = None) -> dict[str, Path]:
        """Write data.csv, results.csv/.parquet, qc.csv, curve PNGs and a self-contained report.html to out_dir
        (all of them or none).

        Returns:
            name -> path of every file written ('report' is the HTML).

        Raises:
            LabkitError: out_dir would overwrite one of the inputs.
        """
        from labkit.analysis.pipeline import write_outputs_staged
        from labkit.safety import guard_output_dir

        layout = self.experiment.source
        guard_output_dir(Path(out_dir), [*self.sources, *([layout] if layout else [])])
        inputs: dict[str, Any] = {"readout": list(self.sources)}
        if layout:
            inputs["layout"] = layout
        title = title or f"{self.experiment.name}: dose-response analysis"
        return write_outputs_staged(self.analysis, Path(out_dir), title=title, inputs=inputs)


def analyze(readout: pd.DataFrame | PathLike | Sequence[PathLike], exp: ExperimentBase | PathLike, *,
            fix_top: float | None = None, fix_bottom: float | None = None, force: bool = False,
            **options: Any) -> Results:
    """Join a readout to its layout, normalize to the on-plate controls, check plate QC and fit LL.4 per curve.

    Args:
        readout: a readout table (labkit.read), or one or more instrument exports (plate '1' of two files are two
            plates unless the layout knows the id).
        exp: the experiment (labkit.load) or its layout file.
        fix_top: fix the top asymptote (vehicle side), e.g. 100.
        fix_bottom: fix the bottom asymptote (full-effect side), e.g. 0.
        force: analyze a readout whose unit this assay's reader does not give, or whose plates the layout does
            not name, instead of refusing it.
        **options: as `labkit analyze`: model, unbounded, outlier_q, ci (the fit), plate_map ({readout id: layout
            id}); for files also value (long tables' value column), read (which read of a multi-read file),
            partial (a counter grid short of rows).

    Returns:
        Results (.results, .qc, .data, .notes, .summary(), .report(folder)).

    Raises:
        LabkitError: the readout does not fit the layout (a well read twice, a unit its reader cannot give, an
            unknown plate), controls are missing, or the assay kind is not analyzed (a dilution plate).

    Example:
        >>> import labkit, tempfile
        >>> exp = labkit.load("layouts/viability_km12.yaml")
        >>> run = exp.protocol("flex").simulate()
        >>> counts = run.virtual_readout(tempfile.mkdtemp() + "/ctg", seed=1)
        >>> results = labkit.analyze(labkit.read(counts), exp)
        >>> sorted(results.results["cell_line"].unique())
        ['KM12']
    """
    import pandas as pd

    from labkit.analysis.pipeline import analyze_joined, analyze_readouts
    from labkit.readout.join import join_checked

    fit_options = {k: options.pop(k) for k in ("model", "unbounded", "outlier_q", "ci") if k in options}
    if not isinstance(readout, pd.DataFrame):
        items = [readout] if isinstance(readout, (str, os.PathLike)) else list(readout)
        paths: list[str | Path] = [p if isinstance(p, str) else Path(p) for p in items]
        result, experiment = analyze_readouts(paths, exp, fix_top=fix_top, fix_bottom=fix_bottom, force=force,
                                              **fit_options, **options)
        return Results(result, experiment, [str(p) for p in paths])  # type: ignore[arg-type]
    plate_map = options.pop("plate_map", None)
    if options:
        raise TypeError(f"{', '.join(options)}: options for reading files; this readout is already a table")
    from labkit.layout.experiment import ExperimentBase

    source = str(readout.attrs.get("labkit_source", "readout table"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        experiment = exp if isinstance(exp, ExperimentBase) else load(exp)
        joined, _ = join_checked([(source, readout)], experiment.wells_table(), experiment.assay,
                                 plate_map=plate_map, force=force)
    result = analyze_joined(joined, experiment.assay, fix_top=fix_top, fix_bottom=fix_bottom,
                            low_role=getattr(experiment, "low_control", None) or None, experiment=experiment,
                            **fit_options)
    ours = [w for w in caught if w.category.__module__.startswith("labkit") or "/labkit/" in w.filename]
    for w in caught:  # library warnings (deprecations ...) are not the user's business: pass them on
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result.notes[:0] = list(dict.fromkeys(str(w.message) for w in ours))
    return Results(result, experiment, [source] if "labkit_source" in readout.attrs else [])


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "protocol"
