"""`labkit demo`: the whole chain on the seed layouts, with a virtual reader.

layout -> plan -> protocol (OT-2 and Flex) -> Opentrons analysis -> ledger (verified against the layout)
-> virtual readout from the ledger's final wells (seeds' IC50s as truth) -> instrument files -> import -> analyze
-> report, and a table that says whether each true IC50 lies inside its fitted 95 % CI.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click
import pandas as pd

from labkit.cli_support import json_option, ui

from labkit.safety import atomic_write_text
from labkit.virtual import TRUE_IC50

ROOT = Path(__file__).resolve().parents[2]
SEED_LAYOUTS = ("kinase_panel.yaml", "viability_km12.yaml", "viability_aml_384.yaml")  # in this order (noise seeds)
# run through the same virtual reader to show what labkit flags (not part of the truth table or the run store)
FLAG_EXAMPLES = ("kinase_panel_2nM.yaml",)
ROBOTS = ("ot2", "flex")


@dataclass
class ProtocolRun:
    """One generated protocol, its simulation figures and its verification."""

    layout: str
    robot: str
    path: Path
    ok: bool
    summary: str
    verify_summary: str
    simulation: object = None


@dataclass
class DemoResult:
    """What the demo made: protocol runs, per-experiment analyses, and the truth-vs-fit table."""

    protocols: list[ProtocolRun] = field(default_factory=list)
    analyses: dict[str, object] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    outputs: dict[str, dict[str, Path]] = field(default_factory=dict)


def seed_layouts() -> tuple[str, ...]:
    """The demo's layouts: SEED_LAYOUTS, then the ones registered assay kinds add (`AssayKind.demo_layouts`)."""
    from labkit.assays import get, kinds

    extra = [name for k in kinds() for name in get(k).demo_layouts if name not in SEED_LAYOUTS]
    return SEED_LAYOUTS + tuple(dict.fromkeys(extra))


def one_robot_layouts() -> frozenset[str]:
    """Layout file names the demo runs on its last robot only (`AssayKind.demo_one_robot`)."""
    from labkit.assays import get, kinds

    return frozenset(name for k in kinds() for name in get(k).demo_one_robot)


def layouts_dir() -> Path:
    """The seed layouts folder: the checkout's layouts/, else the example layouts installed with labkit."""
    if (ROOT / "layouts").is_dir():
        return ROOT / "layouts"
    from labkit.examples import examples_dir

    return examples_dir()


def make_protocol(layout: Path, exp, robot: str, out: Path) -> Path:
    """Generate the standalone protocol of a loaded layout for a robot into out."""
    from labkit.api import make_protocol as protocol_of

    return protocol_of(exp, robot).write(out)


def simulate_and_verify(layout: Path, exp, robot: str, path: Path, in_process: bool = False) -> ProtocolRun:
    """Run the Opentrons analysis on a protocol, replay the ledger and verify it against the layout."""
    from labkit.api import verify
    from labkit.simulate import simulate

    sim = simulate(path, in_process=in_process)
    report = verify(sim, exp)
    errors = "; ".join(str(e) for e in sim.errors)
    return ProtocolRun(layout.name, robot, path, sim.ok and report.ok,
                       sim.cost.summary() + (f"; ENGINE ERRORS: {errors}" if errors else ""),
                       report.summary(), sim)


def final_wells(sim, exp) -> pd.DataFrame:
    """Per assay well, what the ledger says it held during the assay: compound conc, enzyme / cells present, and
    whether it held the layout's kill control (a viability layout's cytotoxic reference: every cell killed)."""
    rows = []
    kind = exp.group_kind
    active_prefix = exp.assay_kind.active_species
    kill_control = getattr(getattr(exp, "kill_control", None), "compound", None)
    for w in exp.wells_table().itertuples(index=False):
        state = sim.ledger.plate(w.plate).get(w.well)
        comp = state.assay_composition if state is not None else {}
        compounds = state.assay_compounds if state is not None else {}
        active = [s.split(":", 1)[1] for s, v in comp.items() if s.startswith(active_prefix) and v > 0]
        conc = compounds.get(w.compound, 0.0) if w.compound else 0.0
        group = active[0] if active else getattr(w, kind)
        killed = bool(kill_control) and compounds.get(kill_control, 0.0) > 0  # from the ledger, not the role
        rows.append((w.plate, w.well, group, conc, bool(active), bool(state is not None and state.volume > 0),
                     w.role == "time_zero", killed))
    return pd.DataFrame(rows, columns=["plate", "well", "group", "conc_M", "active", "filled", "time_zero",
                                       "killed"])


def write_virtual_readout(sim, exp, out: Path, *, seed: int, pipetting_cv: float) -> Path:
    """Write the virtual reader's export of an experiment's plates in a real instrument format (a time-zero plate,
    read on another day, goes to a file of its own: see time_zero_readout)."""
    kind = exp.assay_kind
    values = kind.virtual_readout_from_run(sim, exp, seed=seed, pipetting_cv=pipetting_cv)
    if values is None:
        values = kind.virtual_readout(final_wells(sim, exp), exp, seed=seed, pipetting_cv=pipetting_cv)
    out.parent.mkdir(parents=True, exist_ok=True)
    tz = getattr(exp, "time_zero", None)
    if tz is not None:
        t0 = values[values["plate"] == tz.plate]
        values = values[values["plate"] != tz.plate]
        exp.assay_kind.write_readout(t0, time_zero_readout(out), tz.format or exp.plates[0].format)
    return exp.assay_kind.write_readout(values, out, exp.plates[0].format)


def time_zero_readout(readout: Path) -> Path:
    """Where the demo writes the time-zero plate's export next to the assay plates' readout."""
    return readout.with_name(readout.stem + "_time_zero" + readout.suffix)


def readout_and_analyze(sim, exp, layout: Path, out: Path, *, seed: int, pipetting_cv: float = 0.02,
                        echo: Callable[[str], None] = print, write_reports: bool = True):
    """Virtual readout of one experiment's simulated plates -> instrument file -> import -> analysis (+ report)."""
    from labkit.analysis.pipeline import analyze_files, analyze_joined
    from labkit.readout import read
    from labkit.readout.join import join_layout

    readout = write_virtual_readout(sim, exp, out / "readouts" / layout.stem, seed=seed, pipetting_cv=pipetting_cv)
    files: list[str | Path] = [readout]
    t0 = time_zero_readout(readout)
    if getattr(exp, "time_zero", None) is not None and t0.is_file():
        files.append(t0)
    echo(f"      readout {', '.join(Path(f).name for f in files)} ({exp.assay_kind.readout_format})")
    if not write_reports:
        joined = join_layout(pd.concat([read(f) for f in files], ignore_index=True), exp.wells_table(),
                             source=str(readout))
        return analyze_joined(joined, exp.assay, low_role=getattr(exp, "low_control", None) or None,
                              experiment=exp), {}
    echo(f"[4/4] import + analyze {layout.name}")
    return analyze_files(files, layout, out / "reports" / layout.stem, title=exp.name)


def truth_table(result, assay: str, hours: float = 72.0) -> pd.DataFrame:
    """Fitted vs true potency per seed curve, with fold error and whether the truth lies inside the 95 % CI (and the
    GR50 against the virtual reader's when the analysis has GR metrics; hours = the assay's incubation).

    Kinase curves (with a Morrison fit) compare Ki_app with the seed potency read as Ki_app at ATP = Km (the
    virtual reader's truth) and also list the LL.4 IC50 and the Cheng–Prusoff Ki; other curves compare the IC50.
    Curves of compounds the seeds say nothing about (a reference inhibitor) are left out.
    """
    from labkit.assays.kinase_radiometric.virtual import SEED_COMPOUND

    gcol = result.group_col
    spec = getattr(result, "spec", None)
    zero = getattr(spec, "low_role", "") if spec is not None else ""  # what 0 % is: blank, kill, '' (fitted bottom)
    rows = []
    morrison = "ki_app_M" in result.results.columns
    for r in result.results.itertuples(index=False):
        group = getattr(r, gcol)
        if morrison and r.compound != SEED_COMPOUND:
            continue
        true = TRUE_IC50.get(group, float("nan"))
        if morrison:
            measure, fit, lo, hi = "Ki_app", r.ki_app_M, r.ki_app_ci_low_M, r.ki_app_ci_high_M
        else:
            measure, fit, lo, hi = "IC50", r.ic50_M, r.ic50_ci_low_M, r.ic50_ci_high_M
        fold = max(fit / true, true / fit) if fit == fit and fit > 0 else float("nan")
        inside = bool(lo <= true <= hi) if lo == lo and hi == hi else False
        row = {"assay": assay, "group": group, "zero_control": zero, "compound": r.compound, "measure": measure,
               "true_nM": true * 1e9, "fit_nM": fit * 1e9, "ci_low_nM": lo * 1e9, "ci_high_nM": hi * 1e9,
               "fold_error": fold, "inside_ci": inside, "ic50_nM": r.ic50_M * 1e9,
               "ki_nM": getattr(r, "ki_M", float("nan")) * 1e9, "hill": r.hill, "z_prime": r.z_prime,
               "flags": r.flags}
        if hasattr(r, "gr50_nM"):  # a time-zero plate: GR50 next to IC50, with the virtual reader's truth
            from labkit.assays import get
            from labkit.virtual import TRUE_DOUBLING_H, true_gr50

            doublings = hours / TRUE_DOUBLING_H.get(group, 24.0)
            signal = get(assay).signal
            true_g = true_gr50(true, signal, doublings) if signal is not None else float("nan")
            row.update(true_gr50_nM=true_g * 1e9, gr50_nM=r.gr50_nM,
                       gr_max=r.gr_max, gr_aoc=r.gr_aoc)
        rows.append(row)
    return pd.DataFrame(rows)


def run_demo(out_dir: str | Path = "out", *, seed: int = 0, layouts: tuple[str, ...] | None = None,
             robots: tuple[str, ...] = ROBOTS, pipetting_cv: float = 0.02,
             echo: Callable[[str], None] = print, workers: int = 2, in_process: bool = False,
             db: str | None = None, record: bool = True, flag_examples: tuple[str, ...] = ()) -> DemoResult:
    """Run the whole chain on seed layouts (default: seed_layouts()); write protocols, readouts and reports under
    out_dir.

    flag_examples: layouts that cannot measure what they claim (the old 2 nM kinase design), run on the last robot
    through the same reader and printed with their flags; kept out of the truth table and the run store.
    """
    from labkit.layout.io import load_experiment
    from labkit.layout.render import map_plates, plate_png
    from labkit.safety import safe_name

    out = Path(out_dir)
    result = DemoResult()
    t0 = time.perf_counter()
    paths = [layouts_dir() / name if not Path(name).is_file() else Path(name) for name in layouts or seed_layouts()]
    flag_paths = [layouts_dir() / name if not Path(name).is_file() else Path(name) for name in flag_examples]
    exps = {p: load_experiment(p) for p in paths + flag_paths}
    echo(f"[1/4] layouts: {', '.join(p.name for p in paths)}")
    for p, exp in exps.items():
        for plate_id in map_plates(exp):  # the assay plates and a time-zero plate
            plate_png(exp, plate_id, out / "maps" / f"{safe_name(p.stem)}_{safe_name(plate_id, 'plate')}.png")

    one = one_robot_layouts()
    only = ", ".join(p.name for p in paths if p.name in one and len(robots) > 1)
    echo(f"[2/4] protocols for {' and '.join(robots)}" + (f" ({only}: {robots[-1]} only)" if only else "")
         + ": generate, simulate (Opentrons analysis), verify ledger")
    from labkit.progress import bar

    jobs = [(p, exps[p], r, make_protocol(p, exps[p], r, out / "protocols" / f"{p.stem}_{r}.py"))
            for p in paths for r in (robots[-1:] if p.name in one else robots)]
    jobs += [(p, exps[p], robots[-1], make_protocol(p, exps[p], robots[-1], out / "protocols" /
                                                    f"{p.stem}_{robots[-1]}.py")) for p in flag_paths]
    with ThreadPoolExecutor(max_workers=workers) as pool, bar(len(jobs), desc="simulating", unit="protocol") as done:
        futures = [pool.submit(simulate_and_verify, *job, in_process=in_process) for job in jobs]
        for f in as_completed(futures):
            f.result()  # an error ends the demo now, not after the other simulations
            done(1)
        runs = [f.result() for f in futures]
    for run in runs:
        result.protocols.append(run)
        echo(f"      {run.path.name:<34} {'ok  ' if run.ok else 'FAIL'} {run.summary}")
        if not run.ok:
            echo(f"      {'':<34}      {run.verify_summary}")

    echo(f"[3/4] virtual readout (seed {seed}; Poisson CPM, log-normal RLU, pipetting CV {pipetting_cv:.0%})")
    tables = []
    for i, p in enumerate(paths):
        exp = exps[p]
        # the readout comes from the ledger of the last robot's run (Flex by default)
        run = [r for r in runs if r.layout == p.name][-1]
        analysis, outputs = readout_and_analyze(run.simulation, exp, p, out, seed=seed * 1000 + i,
                                                pipetting_cv=pipetting_cv, echo=echo)
        result.analyses[p.stem] = analysis
        if record:  # the run store: this run and two more noise seeds, so `labkit history` has a history
            from labkit.store.demo import record_demo_runs

            record_demo_runs(run, exp, p, out, analysis, seed=seed * 1000 + i, pipetting_cv=pipetting_cv, db=db,
                             echo=echo)
        result.outputs[p.stem] = outputs
        tables.append(truth_table(analysis, exp.assay, getattr(getattr(exp, "conditions", None), "incubation_h", 72.0)))
    result.table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    atomic_write_text(out / "truth_vs_fit.csv", result.table.to_csv(index=False))
    flagged = []
    for i, p in enumerate(flag_paths):
        run = [r for r in runs if r.layout == p.name][-1]
        analysis, outputs = readout_and_analyze(run.simulation, exps[p], p, out, seed=seed * 1000 + len(paths) + i,
                                                pipetting_cv=pipetting_cv, echo=echo)
        result.analyses[p.stem] = analysis
        result.outputs[p.stem] = outputs
        flagged.append((p, analysis))
    echo("")
    echo(format_table(result.table))
    for p, analysis in flagged:
        echo("")
        echo(format_flag_table(p.name, analysis))
    echo(f"\nreports: {', '.join(str(v.get('report', '')) for v in result.outputs.values())}")
    echo(f"done in {time.perf_counter() - t0:.0f} s")
    return result


def format_flag_table(name: str, analysis) -> str:
    """What labkit says about a layout that cannot measure the seeds' potencies (the old 2 nM kinase design)."""
    res = analysis.results
    if "tight_binding" not in res.columns:
        return f"{name}: (no kinase curves)"
    conv = getattr(analysis, "conversion", pd.DataFrame())
    pct = {r["target"]: r["atp_conversion_pct"] for r in conv.to_dict("records")} if len(conv) else {}
    lines = [f"{name} through the same reader (what labkit flags):",
             f"  {'target':<8} {'[E]':>8} {'truth':>9} {'LL.4 IC50':>10} {'fold':>5} {'Ki_app [95% CI]':>28} "
             f"{'ATP conv.':>9}  flags"]
    for r in res.to_dict("records"):
        true = TRUE_IC50.get(r["target"], float("nan")) if r["compound"] == "entrectinib" else float("nan")
        fold = max(r["ic50_M"] / true, true / r["ic50_M"]) if true == true and r["ic50_M"] > 0 else float("nan")
        lo, hi = (f"{v:.3g}" if v == v else "open" for v in (r["ki_app_ci_low_nM"], r["ki_app_ci_high_nM"]))
        ki = f"{r['ki_app_nM']:.3g} nM [{lo}, {hi}]" if r["ki_app_nM"] == r["ki_app_nM"] else "—"
        conv_txt = f"{pct[r['target']]:.0f} %" if r["target"] in pct else "—"
        lines.append(f"  {r['target']:<8} {r['enzyme_M'] * 1e9:>5.3g} nM {true * 1e9:>6.3g} nM "
                     f"{r['ic50_nM']:>7.3g} nM {fold:>5.1f} {ki:>28} {conv_txt:>9}  {r['flags']}")
    return "\n".join(lines)


def format_table(table: pd.DataFrame) -> str:
    """The truth-vs-fit table as text."""
    if table.empty:
        return "(no curves)"
    lines = [f"{'assay':<20} {'target/cell line':<16} {'measure':<7} {'truth':>10} {'fitted [95% CI]':>32} "
             f"{'fold':>5} {'LL.4 IC50':>10} {'Ki':>9} {'Z′':>5}  truth in CI"]
    for r in table.itertuples(index=False):
        ci = f"{r.fit_nM:.3g} nM [{r.ci_low_nM:.3g}, {r.ci_high_nM:.3g}]"
        ki = f"{r.ki_nM:.3g} nM" if r.ki_nM == r.ki_nM else "—"
        group = f"{r.group} (kill ctrl)" if getattr(r, "zero_control", "") == "kill" else r.group
        lines.append(f"{r.assay:<20} {group:<16} {r.measure:<7} {r.true_nM:>7.3g} nM {ci:>32} "
                     f"{r.fold_error:>5.2f} {r.ic50_nM:>7.3g} nM {ki:>9} {r.z_prime:>5.2f}  "
                     f"{'yes' if r.inside_ci else 'NO'}{'  ' + r.flags if r.flags else ''}")
    if "gr50_nM" in table.columns:  # GR50 next to IC50 (viability layouts with a time-zero plate)
        lines.append("")
        lines.append(f"{'GR metrics':<20} {'cell line':<16} {'true GR50':>10} {'fitted GR50':>12} {'GRmax':>6} "
                     f"{'GR_AOC':>6}  IC50")
        for r in table[table["gr50_nM"].notna() | table.get("true_gr50_nM", pd.Series(dtype=float)).notna()
                       ].itertuples(index=False):
            lines.append(f"{r.assay:<20} {r.group:<16} {r.true_gr50_nM:>7.3g} nM {r.gr50_nM:>9.3g} nM "
                         f"{r.gr_max:>6.2f} {r.gr_aoc:>6.2f}  {r.fit_nM:.3g} nM")
    n_in = int(table.inside_ci.sum())
    lines.append(f"{n_in}/{len(table)} true potencies inside their 95 % CI; worst fold error "
                 f"{table.fold_error.max():.2f} (kinase: Ki_app vs the seed potency read as Ki_app at ATP = Km; "
                 "cells: IC50)")
    return "\n".join(lines)


@click.command()
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="folder for protocols, readouts and reports")
@click.option("--seed", type=int, default=0, show_default=True, help="noise seed of the virtual reader")
@click.option("--robot", "robots", type=click.Choice(ROBOTS), multiple=True, help="robots (default: both)")
@click.option("--layout", "layouts", multiple=True, help="layout files (default: the seed layouts)")
@click.option("--pipetting-cv", type=float, default=0.02, show_default=True, help="pipetting error, CV")
@click.option("--db", default=None, metavar="PATH|URL", help="run store to record into (default: $LABKIT_DB, else "
              "labkit.sqlite in your data directory)")
@click.option("--no-store", is_flag=True, help="do not record the runs in the run store")
@json_option
def demo(out_dir: Path, seed: int, robots: tuple[str, ...], layouts: tuple[str, ...], pipetting_cv: float,
         db: str | None, no_store: bool, as_json: bool) -> int:
    """Run the whole chain on the seed layouts with a virtual plate reader.

    Every file is written atomically (temporary file + rename; each report folder all at once), so a failed
    run leaves no half-written file, though files of the steps that finished are kept.

    \b
    Exit 0 when every protocol passes its simulation and verification, 1 otherwise.

    \b
    Example:
      labkit demo -o out --seed 3
      labkit -q demo -o out          # only the verdict and the report paths
      labkit demo -o out --json      # protocols, truth-vs-fit table and reports as one JSON document
    """
    from labkit.safety import output_dir

    out = ui()
    output_dir(out_dir)  # a path through a file or a read-only folder: exit 2 before any work
    res = run_demo(out_dir, seed=seed, robots=robots or ROBOTS, layouts=layouts or seed_layouts(),
                   pipetting_cv=pipetting_cv, echo=out.say, db=db, record=not no_store,
                   flag_examples=() if layouts else FLAG_EXAMPLES)
    bad = [r for r in res.protocols if not r.ok]
    reports = {k: v.get("report") for k, v in res.outputs.items()}
    inside = int(res.table["inside_ci"].sum()) if len(res.table) else 0
    if out.quiet:
        out.result(f"demo: {len(res.protocols) - len(bad)}/{len(res.protocols)} protocols pass simulation and "
                   f"verification; {inside}/{len(res.table)} true potencies inside their 95 % CI")
        for r in bad:
            out.result(f"  FAIL {r.path}: {r.summary}; {r.verify_summary}")
        out.result(f"reports: {', '.join(str(v) for v in reports.values())}")
    if out.json:
        out.emit({"ok": not bad, "out_dir": out_dir, "seed": seed,
                  "protocols": [{"layout": r.layout, "robot": r.robot, "path": r.path, "ok": r.ok,
                                 "summary": r.summary, "verify": r.verify_summary} for r in res.protocols],
                  "truth_vs_fit": res.table, "inside_ci": inside, "curves": len(res.table), "reports": reports})
    return 1 if bad else 0
