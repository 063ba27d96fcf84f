"""Check a replayed ledger against the layout's wells table: the plate the protocol makes is the plate promised.

Checks (each failure names its plate and well):
All well contents are read as they were during the assay: before a stop / CellTiter-Glo reagent was added
(`WellState.assay_composition`), else at the end.

- conc: every well the layout gives a compound and a concentration (sample, reference, any control dosed with a
  compound) ends at conc_M within `tolerance` (relative), read as `compound:<name>` in the ledger;
- extra-compound: no layout well holds a compound the layout does not put there (vehicle wells hold none);
- dmso: the DMSO fraction is equal (within `tolerance`, relative) across the assay wells of a plate — every role
  in DMSO_MATCHED_ROLES, controls included — and at most `dmso_limit`;
- contamination: no layout well was contacted by a tip that carried a compound other than the well's own;
- ledger: no well anywhere overflowed or was over-aspirated, no tip broke the radiation rules (ledger problems);
- recipe: the assay kind's recipe (`labkit.simulate.recipe`): every component each well must hold, the reagents
  added after, the aliquots onto the plate that is read, and the timing — each reported with its count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from labkit.simulate.cost import Timeline
from labkit.simulate.ledger import COMPOUND, DMSO, Ledger
from labkit.simulate.recipe import CheckResult, Recipe, check_recipe, recipe_for

DMSO_MATCHED_ROLES = ("sample", "reference", "vehicle", "positive", "no_enzyme", "blank", "kill")
SKIPPED_ROLES = ("empty",)


@dataclass(frozen=True)
class Failure:
    """One failed check."""

    check: str  # conc | extra-compound | dmso | contamination | missing-plate | overflow | underflow | ...
    plate: str
    well: str
    message: str

    def __str__(self) -> str:
        where = f"{self.plate} {self.well}".strip()
        return f"[{self.check}] {where}: {self.message}" if where else f"[{self.check}] {self.message}"


@dataclass
class VerifyReport:
    """Failures plus summary numbers of a verification."""

    failures: list[Failure] = field(default_factory=list)
    wells_checked: int = 0
    conc_checked: int = 0
    max_conc_error: float = 0.0  # largest relative concentration error seen
    plates: dict[str, dict] = field(default_factory=dict)  # plate -> {label, wells, dmso_min, dmso_max, ...}
    checks: list[CheckResult] = field(default_factory=list)  # every check with its count, core checks first
    not_checked: list[str] = field(default_factory=list)  # what this verification did not check

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """A few lines for a person: the verdict, every check with its count, what was not checked, failures."""
        lines = [f"verify: {'PASS' if self.ok else 'FAIL'} — {self.wells_checked} wells on {len(self.plates)} "
                 f"plate(s), {self.conc_checked} concentrations, max error {self.max_conc_error:.3%}"]
        for plate, s in self.plates.items():
            lines.append(f"  {plate} ({s['label']}): DMSO {s['dmso_min']:.3%}..{s['dmso_max']:.3%}, "
                         f"max conc error {s['max_conc_error']:.3%}, {s['failures']} failure(s)")
        for c in self.checks:
            lines.append(f"  {'ok  ' if c.ok else 'FAIL'} {c.line()}")
        if self.not_checked:
            lines.append("  not checked: " + "; ".join(self.not_checked))
        shown = self.failures[:25]
        lines += [f"  - {f}" for f in shown]
        if len(self.failures) > len(shown):
            lines.append(f"  … and {len(self.failures) - len(shown)} more")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready copy."""
        return {"ok": self.ok, "wells_checked": self.wells_checked, "conc_checked": self.conc_checked,
                "max_conc_error": self.max_conc_error, "plates": self.plates,
                "checks": [c.to_dict() for c in self.checks], "not_checked": list(self.not_checked),
                "failures": [{"check": f.check, "plate": f.plate, "well": f.well, "message": f.message}
                             for f in self.failures]}


def _str(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _wells_text(wells: list[str], limit: int = 12) -> str:
    return ", ".join(wells[:limit]) + (f" (+{len(wells) - limit} more)" if len(wells) > limit else "")


def verify_experiment(ledger: Ledger, exp: Any, timeline: Timeline | None = None, *,
                      tolerance: float = 0.01) -> VerifyReport:
    """Check a ledger against an Experiment: the core checks plus its assay kind's recipe (timing if a timeline);
    the kind says whether DMSO must be equal across a plate."""
    wells = exp.wells_table()
    labels = {str(p): str(p) for p in wells["plate"].unique()}
    return verify(ledger, wells, labels, dmso_limit=float(exp.limit), tolerance=tolerance,
                  match_dmso=exp.assay_kind.match_solvent, recipe=recipe_for(exp), timeline=timeline)


def verify(ledger: Ledger, wells: pd.DataFrame, plate_labels: dict[str, str], *, dmso_limit: float,
           tolerance: float = 0.01, match_dmso: bool = True, recipe: Recipe | None = None,
           timeline: Timeline | None = None) -> VerifyReport:
    """Check the ledger's wells against the layout's wells table (plate id -> labware label in the protocol).

    match_dmso=False skips the equal-DMSO check (a plain dilution plate, where the solvent is diluted too).
    recipe: the assay's recipe (what else each well must hold, and when); without one the report says the
    assay's other components were not checked. timeline: the time model, for the recipe's timed checks.
    """
    rep = VerifyReport()
    for p in ledger.problems:
        rep.failures.append(Failure(p.kind, p.labware, p.well, p.message + (
            f" (command {p.command_index})" if p.command_index is not None else "")))
    for plate, rows in wells.groupby("plate", sort=False):
        plate = str(plate)
        label = plate_labels.get(plate, plate)
        if label not in ledger.labware:
            rep.failures.append(Failure("missing-plate", plate, "", f"no labware labelled {label!r} in the "
                                        f"protocol (labels: {', '.join(sorted(ledger.labware))})"))
            continue
        states = ledger.plate(label)
        stats: dict[str, Any] = {"label": label, "wells": 0, "dmso_min": math.inf, "dmso_max": 0.0,
                                 "max_conc_error": 0.0, "failures": 0}
        n_fail0 = len(rep.failures)
        dmso_values: list[tuple[str, float]] = []
        for row in rows.itertuples(index=False):
            role, name = _str(getattr(row, "role", "")), _str(row.well)
            if role in SKIPPED_ROLES:
                continue
            s = states.get(name)
            if s is None:
                rep.failures.append(Failure("missing-well", plate, name, f"{label} has no well {name}"))
                continue
            rep.wells_checked += 1
            stats["wells"] += 1
            compound = _str(getattr(row, "compound", ""))
            conc = getattr(row, "conc_M", math.nan)
            conc = float(conc) if conc is not None and _str(conc) != "" else math.nan
            present = s.assay_compounds
            if compound and math.isfinite(conc) and conc > 0:
                got = present.get(compound, 0.0)
                err = abs(got - conc) / conc
                rep.conc_checked += 1
                rep.max_conc_error = max(rep.max_conc_error, err)
                stats["max_conc_error"] = max(stats["max_conc_error"], err)
                if err > tolerance:
                    rep.failures.append(Failure("conc", plate, name, f"compound dose: {compound} is {got:.4g} M, "
                                                f"layout says {conc:.4g} M ({err:.2%} off, tolerance {tolerance:.2%})"))
            extra = sorted(set(present) - ({compound} if compound else set()))
            if extra:
                what = "vehicle well" if role == "vehicle" else f"{role} well"
                rep.failures.append(Failure("extra-compound", plate, name, f"{what} holds " + ", ".join(
                    f"{c} {present[c]:.3g} M" for c in extra) + (f" (layout: {compound} only)" if compound
                                                                 else " (layout: no compound)")))
            touched = sorted(c[len(COMPOUND):] for c in s.contacts if c.startswith(COMPOUND)
                             and c[len(COMPOUND):] != compound)
            if touched:
                rep.failures.append(Failure("contamination", plate, name,
                                            f"touched by a tip that carried {', '.join(touched)}"))
            if role in DMSO_MATCHED_ROLES:
                d = s.assay_composition.get(DMSO, 0.0)
                dmso_values.append((name, d))
                if d > dmso_limit * (1 + 1e-9):
                    rep.failures.append(Failure("dmso", plate, name, f"DMSO {d:.3%} is above the "
                                                f"{dmso_limit:.2%} limit"))
        if dmso_values and match_dmso:
            vals = [d for _, d in dmso_values]
            stats["dmso_min"], stats["dmso_max"] = min(vals), max(vals)
            ref = sorted(vals)[len(vals) // 2]  # the median well is the plate's intended DMSO
            for name, d in dmso_values:
                if abs(d - ref) > tolerance * max(ref, 1e-12):
                    rep.failures.append(Failure("dmso", plate, name, f"compound dose: DMSO {d:.3%} differs from "
                                                f"the plate's {ref:.3%} (vehicle-matched wells must be equal)"))
        elif dmso_values:
            stats["dmso_min"], stats["dmso_max"] = min(d for _, d in dmso_values), max(d for _, d in dmso_values)
        else:
            stats["dmso_min"] = 0.0
        stats["failures"] = len(rep.failures) - n_fail0
        stats["dmso_wells"] = len(dmso_values)
        rep.plates[plate] = stats
    _core_checks(rep, match_dmso)
    if recipe is None:
        rep.not_checked.append("the assay's other components and timing (no recipe for this assay kind)")
        return rep
    results, not_checked = check_recipe(recipe, ledger, timeline)
    rep.checks += results
    rep.not_checked += not_checked
    for c in results:
        for step, plate, names, why in c.failures:
            rep.failures.append(Failure(c.name, plate, _wells_text(names), f"{step}: {why}"))
    return rep


def _core_checks(rep: VerifyReport, match_dmso: bool) -> None:
    """The core checks as counted results: compound concentration, no stray compound, equal DMSO, liquid handling."""
    def bad(*kinds: str) -> int:
        return len({(f.plate, f.well) for f in rep.failures if f.check in kinds})

    conc = CheckResult("compound", "wells", rep.conc_checked - bad("conc"), rep.conc_checked)
    stray = CheckResult("no stray compound", "wells", rep.wells_checked - bad("extra-compound", "contamination"),
                        rep.wells_checked)
    dmso_wells = sum(s["dmso_wells"] for s in rep.plates.values())
    dmso = CheckResult("equal DMSO" if match_dmso else "DMSO limit", "wells", dmso_wells - bad("dmso"), dmso_wells)
    problems = [f for f in rep.failures if f.check in ("overflow", "underflow", "contamination", "outside",
                                                       "below minimum", "hot-tip", "missing-plate", "missing-well")]
    handling = CheckResult("liquid handling", "clean" if not problems else f"({len(problems)} problem(s))",
                           0 if problems else 1, 1)
    rep.checks += [conc, stray, dmso, handling]

