"""Normalize a readout joined to its layout to the on-plate controls, per plate and per target / cell line.

Each assay kind says how (labkit.assays, `normalization`); for the built-in kinds:

Kinase (radiometric):  % inhibition = 100 (vehicle_mean - x) / (vehicle_mean - no_enzyme_mean)
                       % activity   = 100 - % inhibition            (vehicle = 100 %, no-enzyme = 0 %)
Viability (CTG):       % viability  = 100 (x - blank_mean) / (vehicle_mean - blank_mean)
                       or, as the layout declares (its `normalization`), 0 % = a kill control's mean
                       ('kill': cells + a cytotoxic reference) or no 0 % control at all ('fitted_bottom':
                       % viability = 100 x / vehicle_mean, the curve's bottom is fitted)

The `response` column is what curves are fitted to: % activity (kinase) or % viability (cells). Both fall with
dose (top = vehicle = 100, bottom = full effect = 0), so top/bottom mean the same for both assays and
"fix top 100 / bottom 0" is one option. % inhibition = 100 - % activity, so the IC50 and |Hill| are identical.

Controls are looked up per plate and per group (the well's target or cell line); a group with no control of
its own on a plate uses the plate's shared controls (wells of that role with no target / cell line), and a note
says so. Wells whose flag is not 'ok' (or whose value is NaN) are excluded from every mean and every fit, kept
in the table with `excluded` = their flag, and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from labkit.assays.base import Normalization
from labkit.errors import LabkitError

FIT_ROLES = ("sample", "reference")


@dataclass(frozen=True)
class AssaySpec:
    """How an assay kind is normalized: its name and its Normalization (grouping column, controls, response)."""

    assay: str
    norm: Normalization

    @property
    def group_col(self) -> str:
        """'target' | 'cell_line': the column that groups curves."""
        return self.norm.group_col

    @property
    def low_role(self) -> str:
        """Role of the 0 % activity / 0 % viability control: 'no_enzyme' | 'blank'."""
        return self.norm.low_role

    @property
    def low_label(self) -> str:
        """Human name of the low control."""
        return self.norm.low_label

    @property
    def response_label(self) -> str:
        """Axis label of the fitted response."""
        return self.norm.response_label

    @property
    def group_label(self) -> str:
        """'target' / 'cell line' for messages."""
        return self.norm.group_label


def assay_spec(assay: str) -> AssaySpec:
    """The AssaySpec of a registered assay kind that is analyzed (it has a normalization); LabkitError otherwise."""
    from labkit.assays import get, kinds

    kind = get(assay)
    if kind.normalization is None:
        analyzed = [k for k in kinds() if get(k).normalization is not None]
        raise LabkitError(f"unknown assay kind {kind.name!r} for analysis (it has no normalization); expected one "
                          f"of {', '.join(analyzed)}", field="assay")
    return AssaySpec(kind.name, kind.normalization)


@dataclass
class Normalized:
    """The joined table with responses added, the control statistics used, and notes for the report."""

    data: pd.DataFrame
    controls: pd.DataFrame
    spec: AssaySpec
    notes: list[str] = field(default_factory=list)


REQUIRED = ("plate", "well", "role", "compound", "conc_M", "value", "flag")

CONTROL_COLUMNS = ["plate", "group", "role", "scope", "n", "n_excluded", "mean", "sd", "wells"]


def _clean(joined: pd.DataFrame, spec: AssaySpec) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in joined.columns]
    if missing:
        raise LabkitError(f"the joined table lacks column(s) {', '.join(missing)}; expected a readout joined to its "
                          "layout (labkit.readout.join.join_layout)", field=", ".join(missing))
    df = joined.reset_index(drop=True).copy()
    for col in ("plate", "well", "role", "compound", "target", "cell_line"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].fillna("").astype(str)
    for old, new in spec.norm.legacy_roles:  # a table joined to an older layout (e.g. 'positive' for no_enzyme)
        df["role"] = df["role"].replace(old, new)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["conc_M"] = pd.to_numeric(df["conc_M"], errors="coerce").astype(float)
    df["flag"] = df["flag"].fillna("missing").astype(str)
    ok = (df["flag"] == "ok") & np.isfinite(df["value"].to_numpy())
    # a well is excluded for its flag; an 'ok' well without a value counts as missing
    df["excluded"] = np.where(ok, "", np.where(df["flag"] == "ok", "missing", df["flag"]))
    df["value"] = df["value"].where(ok)
    return df


def _control_stats(df: pd.DataFrame, plate: str, group: str, role: str) -> dict | None:
    """Statistics of one control group, falling back to the plate's shared (group '') wells."""
    on_plate = df[(df["plate"] == plate) & (df["role"] == role)]
    scope, wells = "group", on_plate[on_plate["group"] == group]
    if wells.empty and group != "":
        scope, wells = "plate", on_plate[on_plate["group"] == ""]
    if wells.empty:
        return None
    vals = wells["value"].dropna().to_numpy(float)
    return {"plate": plate, "group": group, "role": role, "scope": scope, "n": int(vals.size),
            "n_excluded": int((wells["excluded"] != "").sum()),
            "mean": float(vals.mean()) if vals.size else float("nan"),
            "sd": float(vals.std(ddof=1)) if vals.size > 1 else float("nan"),
            "wells": " ".join(wells["well"].tolist())}


LOW_CONTROLS = {  # low_role -> (label, formula) for the 0 % controls a layout may declare instead of the kind's own
    "kill": ("kill control", "% viability = 100·(x − kill)/(vehicle − kill)"),
    "": ("none (bottom fitted)", "% viability = 100·x/vehicle (no 0 % control: the curve's bottom is fitted)"),
}


def with_low_control(spec: AssaySpec, low_role: str | None) -> AssaySpec:
    """The spec with the layout's 0 % control: None or the kind's own keep it; 'kill', or '' (none: fitted bottom)."""
    from dataclasses import replace

    if low_role is None or low_role == spec.low_role:
        return spec
    if low_role == "fitted_bottom":
        low_role = ""
    if low_role not in LOW_CONTROLS:
        raise LabkitError(f"unknown 0 % control {low_role!r}; expected {spec.low_role!r}, 'kill' or 'fitted_bottom'",
                          field="normalization")
    label, formula = LOW_CONTROLS[low_role]
    return AssaySpec(spec.assay, replace(spec.norm, low_role=low_role, low_label=label, formula=formula))


def normalize(joined: pd.DataFrame, assay: str, low_role: str | None = None) -> Normalized:
    """Add `response` (% activity or % viability) and the named percentage to every well, from on-plate controls.

    low_role: the 0 % control the layout declares when it is not the kind's own ('kill', or 'fitted_bottom' for
    none); None: the kind's own, or 'kill' when the table has kill wells and none of the kind's (with a note).
    """
    spec = assay_spec(assay)
    notes: list[str] = []
    roles = set(joined["role"].astype(str)) if "role" in joined.columns else set()
    if low_role is None and spec.low_role not in roles and "kill" in roles:
        low_role = "kill"
        notes.append("no blank wells: 0 % viability is the kill control's mean (the layout's kill wells)")
    spec = with_low_control(spec, low_role)
    df = _clean(joined, spec)
    df["group"] = df[spec.group_col]
    problems: list[str] = []
    rows: list[dict] = []
    high = np.full(len(df), np.nan)
    low = np.full(len(df), np.nan)
    # a plate with no usable well at all (an all-blank export: every well 'missing') failed as a whole: it stays in
    # the tables with no response (its curves get no points from it, its QC fails) instead of stopping the run
    failed = [p for p, sub in df.groupby("plate", sort=True) if (sub["excluded"] != "").all()]
    for p in failed:
        why = ", ".join(f"{n} {k}" for k, n in df.loc[df["plate"] == p, "excluded"].value_counts().items())
        notes.append(f"plate {p} FAILED: none of its {int((df['plate'] == p).sum())} wells has a value ({why}); "
                     "it is kept in the tables, not normalized or fitted")
    for (plate, group), idx in df.groupby(["plate", "group"], sort=True).groups.items():
        if plate in failed:
            continue
        sub = df.loc[idx]
        needed = bool(sub["role"].isin(FIT_ROLES).any())
        what = f"plate {plate}, {spec.group_label} {group}" if group else f"plate {plate} (no {spec.group_label})"
        stats = {}
        for role, label in (("vehicle", "vehicle"), (spec.low_role, spec.low_label))[:2 if spec.low_role else 1]:
            st = _control_stats(df, plate, group, role)
            if st is None:
                if needed:
                    problems.append(f"{what}: no {label} control wells, neither for this {spec.group_label} nor "
                                    f"shared on the plate (role {role!r} with an empty {spec.group_col})")
                continue
            if st["n"] == 0:
                if needed:
                    problems.append(f"{what}: all {st['n_excluded']} {label} control wells are flagged "
                                    f"(not 'ok'), so there is nothing to normalize to")
                continue
            stats[role] = st
        if "vehicle" not in stats or (spec.low_role and spec.low_role not in stats):
            continue
        for role, st in stats.items():
            if st["scope"] == "plate" and needed:
                label = "vehicle" if role == "vehicle" else spec.low_label
                notes.append(f"{what}: no {label} control of its own; used the plate's shared {role} wells "
                             f"({st['n']} wells)")
            rows.append(st)
        hi, lo = stats["vehicle"]["mean"], stats[spec.low_role]["mean"] if spec.low_role else 0.0
        if hi == lo:
            if needed:
                problems.append(f"{what}: vehicle and {spec.low_label} means are equal ({hi:g}); no assay window")
            continue
        pos = df.index.get_indexer(idx)
        high[pos], low[pos] = hi, lo
    if problems:
        raise LabkitError("cannot normalize to the on-plate controls", problems=problems)
    x = df["value"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (x - low) / (high - low)
    df[spec.norm.response_column] = 100.0 * frac
    if spec.norm.complement_column:
        df[spec.norm.complement_column] = 100.0 - 100.0 * frac
    df["response"] = df[spec.norm.response_column]
    n_exc = df["excluded"] != ""
    if n_exc.any():
        for (plate, why), sub in df[n_exc].groupby(["plate", "excluded"], sort=True):
            wells = sub["well"].tolist()
            shown = ", ".join(wells[:12]) + (f" and {len(wells) - 12} more" if len(wells) > 12 else "")
            notes.append(f"plate {plate}: {len(wells)} well(s) excluded as {why}: {shown}")
    df = df.drop(columns="group")
    controls = pd.DataFrame(rows, columns=CONTROL_COLUMNS).rename(columns={"group": spec.group_col})
    return Normalized(df, controls, spec, notes)
